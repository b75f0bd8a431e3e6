//! The moderation log (moderation-core's [`ModerationLog`] port) on the SQL
//! backends: the `moderation_log` table of the store's database.
//!
//! Other SQL stores record their actions here inside their own transaction,
//! through [`sqlite_append`] and [`pg_append`], so an action and its entry
//! commit together:
//!
//! ```ignore
//! let mut tx = store.begin_write().await?;
//! // ... the action's own writes ...
//! crate::modlog::sqlite_append(&mut tx, &entry).await?;
//! tx.commit().await?;
//! ```
//!
//! [`ModerationLog`]: moderation_core::ModerationLog

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use moderation_core::{
    Kind, ModLogEntry, ModLogFilter, ModerationError, NewModLogEntry, ObjectId, ObjectRef,
    PageRequest, UserId,
};
use uuid::Uuid;

use crate::error::StorageError;
use crate::newest_first::{Keyset, PageQuery};
use crate::record::{object_key, to_micros};

/// The columns of a log row, in [`ModLogRow`]'s order.
macro_rules! modlog_columns {
    () => {
        "id, action, actor, target_kind, target_key, reason, before_state, after_state, detail, \
         ip, bulk_id, at"
    };
}

pub(crate) const INSERT_ENTRY: &str = "INSERT INTO moderation_log (action, actor, target_kind, \
     target_key, reason, before_state, after_state, detail, ip, bulk_id, at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";

/// Erasure of an actor: the moderation log, and the item log that
/// moderation-core's comment actions (flag, approve, reject, remove) write,
/// keep their entries without the actor and the IP.
pub(crate) const ANONYMISE_ACTOR: [&str; 2] = [
    "UPDATE moderation_log SET actor = NULL, ip = NULL WHERE actor = $1",
    "UPDATE moderation_item_log SET actor = NULL, ip = NULL WHERE actor = $1",
];

/// One `moderation_log` row as read.
pub(crate) type ModLogRow = (
    i64,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    i64,
);

/// A [`NewModLogEntry`] as column values, checked before any SQL runs.
#[derive(Debug)]
pub(crate) struct EncodedEntry {
    pub(crate) target_key: String,
    pub(crate) detail: String,
}

impl EncodedEntry {
    pub(crate) fn new(entry: &NewModLogEntry) -> Result<Self, ModerationError> {
        entry.validate()?;
        if let Some(actor) = &entry.actor {
            // `UserId` can arrive through serde unchecked; re-check it.
            UserId::new(actor.as_str())?;
        }
        Ok(Self {
            target_key: object_key(&entry.target.id)?,
            detail: serde_json::to_string(&entry.detail)?,
        })
    }
}

/// Binds the eleven columns of a moderation log row, in their order, from
/// a [`NewModLogEntry`] and its [`EncodedEntry`]: `bind_entry!(query,
/// entry, encoded)` moves the encoded values into the query,
/// `bind_entry!(query, entry, &encoded)` binds copies.
macro_rules! bind_entry {
    ($query:expr, $entry:expr, $($encoded:tt)+) => {
        $query
            .bind($entry.action.as_str())
            .bind($entry.actor.as_ref().map(moderation_core::UserId::as_str))
            .bind($entry.target.kind.as_str())
            .bind($($encoded)+.target_key)
            .bind($entry.reason.as_deref())
            .bind($entry.before.as_deref())
            .bind($entry.after.as_deref())
            .bind($($encoded)+.detail)
            .bind($entry.ip.map(|ip| ip.to_string()))
            .bind($entry.bulk.map(|bulk| bulk.hyphenated().to_string()))
            .bind($crate::record::to_micros($entry.at))
    };
}

// The workflow's writes bind their log rows with it too.
pub(crate) use bind_entry;

/// Values bound per moderation log row by [`bind_entry!`].
pub(crate) const ENTRY_PARAMS: usize = 11;

/// A multi-row insert of `rows` log rows, bound as [`bind_entry!`] binds
/// each, with placeholders in `style`.
pub(crate) fn insert_rows(rows: usize, style: crate::sql::Placeholder) -> String {
    format!(
        "INSERT INTO moderation_log (action, actor, target_kind, target_key, reason, \
         before_state, after_state, detail, ip, bulk_id, at) VALUES {}",
        crate::sql::values_list(rows, ENTRY_PARAMS, style)
    )
}

/// Appends `entry` on the given connection (a transaction, usually), with
/// the statement shared by both backends.
macro_rules! append_on {
    ($name:ident, $conn:ty, $doc:literal) => {
        #[doc = $doc]
        ///
        /// # Errors
        /// [`ModerationError::InvalidAction`] or [`ModerationError::InvalidId`]
        /// before anything is written; [`ModerationError::Store`] when the
        /// database fails (roll the transaction back: dropping it does).
        pub(crate) async fn $name(
            conn: &mut $conn,
            entry: &NewModLogEntry,
        ) -> Result<i64, ModerationError> {
            let encoded = EncodedEntry::new(entry)?;
            let id: i64 = bind_entry!(sqlx::query_scalar(INSERT_ENTRY), entry, encoded)
                .fetch_one(&mut *conn)
                .await
                .map_err(StorageError::from)?;
            Ok(id)
        }
    };
}

#[cfg(feature = "sqlite")]
append_on!(
    sqlite_append,
    sqlx::SqliteConnection,
    "Appends a moderation log entry inside a SQLite transaction; returns its id."
);
#[cfg(feature = "postgres")]
append_on!(
    pg_append,
    sqlx::PgConnection,
    "Appends a moderation log entry inside a PostgreSQL transaction; returns its id."
);

/// A page query for `filter`: placeholders are numbered in the order actor,
/// target kind, target key, since, until, then the keyset's.
pub(crate) fn page_query(filter: &ModLogFilter, after: bool) -> String {
    let mut query = PageQuery::select(modlog_columns!(), "moderation_log");
    if filter.actor.is_some() {
        let actor = query.param();
        query.filter(format!("actor = ${actor}"));
    }
    if filter.target.is_some() {
        let (kind, key) = (query.param(), query.param());
        query.filter(format!("target_kind = ${kind} AND target_key = ${key}"));
    }
    if filter.since.is_some() {
        let since = query.param();
        query.filter(format!("at >= ${since}"));
    }
    if filter.until.is_some() {
        let until = query.param();
        query.filter(format!("at < ${until}"));
    }
    query.finish(after)
}

/// The values [`page_query`]'s placeholders take, checked and encoded.
#[derive(Debug)]
pub(crate) struct PageValues {
    pub(crate) actor: Option<String>,
    pub(crate) target: Option<(String, String)>,
    pub(crate) since: Option<i64>,
    pub(crate) until: Option<i64>,
    pub(crate) keyset: Keyset,
}

impl PageValues {
    pub(crate) fn new(filter: &ModLogFilter, page: &PageRequest) -> Result<Self, ModerationError> {
        Ok(Self {
            actor: filter.actor.as_ref().map(|a| a.as_str().to_owned()),
            target: filter
                .target
                .as_ref()
                .map(|t| Ok::<_, ModerationError>((t.kind.as_str().to_owned(), object_key(&t.id)?)))
                .transpose()?,
            since: filter.since.map(to_micros),
            until: filter.until.map(to_micros),
            keyset: Keyset::new(page),
        })
    }
}

fn from_micros(micros: i64) -> Result<DateTime<Utc>, StorageError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StorageError::corrupt("at", &format!("{micros} is out of range")))
}

/// Reads a row back, turning anything this library did not write into a
/// typed error.
pub(crate) fn decode(row: ModLogRow) -> Result<ModLogEntry, StorageError> {
    let (id, action, actor, target_kind, target_key, reason, before, after, detail, ip, bulk, at) =
        row;
    Ok(ModLogEntry {
        id,
        action,
        actor: actor
            .map(UserId::new)
            .transpose()
            .map_err(|e| StorageError::corrupt("actor", &e))?,
        target: ObjectRef {
            kind: Kind::new(target_kind).map_err(|e| StorageError::corrupt("target_kind", &e))?,
            id: ObjectId::from_key(&target_key)
                .map_err(|e| StorageError::corrupt("target_key", &e))?,
        },
        reason,
        before,
        after,
        detail: serde_json::from_str(&detail).map_err(|e| StorageError::corrupt("detail", &e))?,
        ip: ip
            .map(|text| text.parse::<IpAddr>())
            .transpose()
            .map_err(|e| StorageError::corrupt("ip", &e))?,
        bulk: bulk
            .map(|text| Uuid::parse_str(&text))
            .transpose()
            .map_err(|e| StorageError::corrupt("bulk_id", &e))?,
        at: from_micros(at)?,
    })
}

/// Implements `moderation_core::ModerationLog` for a SQL store type, which
/// provides `begin_write()` and `pool_reader()`, given the backend's name and its
/// append function.
macro_rules! impl_moderation_log {
    ($store:ty, $backend:literal, $append:path) => {
        #[async_trait::async_trait]
        impl moderation_core::ModerationLog for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, action = %entry.action))]
            async fn append(
                &self,
                entry: moderation_core::NewModLogEntry,
            ) -> Result<moderation_core::ModLogEntry, moderation_core::ModerationError> {
                self.settle(async move {
                    use $crate::error::StorageError;
                    // Checked before the transaction opens, so bad input never
                    // takes the write lock.
                    $crate::modlog::EncodedEntry::new(&entry)?;
                    let mut tx = self.begin_write().await?;
                    let id = $append(&mut *tx, &entry).await?;
                    tx.commit().await.map_err(StorageError::from)?;
                    Ok(entry.stored(id))
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend))]
            async fn mod_log(
                &self,
                filter: &moderation_core::ModLogFilter,
                page: moderation_core::PageRequest,
            ) -> Result<moderation_core::Page<moderation_core::ModLogEntry>, moderation_core::ModerationError>
            {
                self.settle(async move {
                    use $crate::error::StorageError;
                    let values = $crate::modlog::PageValues::new(filter, &page)?;
                    let sql = $crate::modlog::page_query(filter, values.keyset.after.is_some());
                    // Only placeholders and fixed fragments (see `page_query`).
                    let mut query =
                        sqlx::query_as::<_, $crate::modlog::ModLogRow>(sqlx::AssertSqlSafe(sql));
                    if let Some(actor) = values.actor {
                        query = query.bind(actor);
                    }
                    if let Some((kind, key)) = values.target {
                        query = query.bind(kind).bind(key);
                    }
                    if let Some(since) = values.since {
                        query = query.bind(since);
                    }
                    if let Some(until) = values.until {
                        query = query.bind(until);
                    }
                    if let Some((at, id)) = values.keyset.after {
                        query = query.bind(at).bind(id);
                    }
                    let rows = query
                        .bind(values.keyset.fetch)
                        .fetch_all(self.pool_reader())
                        .await
                        .map_err(StorageError::from)?;
                    let items = rows
                        .into_iter()
                        .map($crate::modlog::decode)
                        .collect::<Result<Vec<_>, StorageError>>()?;
                    Ok(values.keyset.page(items, moderation_core::ModLogEntry::cursor))
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend))]
            async fn anonymise_actor(
                &self,
                actor: &moderation_core::UserId,
            ) -> Result<u64, moderation_core::ModerationError> {
                self.settle(async move {
                    use $crate::error::StorageError;
                    let mut changed = 0;
                    let mut tx = self.begin_write().await?;
                    for statement in $crate::modlog::ANONYMISE_ACTOR {
                        let done = sqlx::query(statement)
                            .bind(actor.as_str())
                            .execute(&mut *tx)
                            .await
                            .map_err(StorageError::from)?;
                        changed += done.rows_affected();
                    }
                    tx.commit().await.map_err(StorageError::from)?;
                    Ok(changed)
                })
                .await
            }
        }
    };
}

pub(crate) use impl_moderation_log;
