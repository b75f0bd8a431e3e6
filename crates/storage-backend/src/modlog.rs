//! The moderation log (moderation-core's [`ModerationLog`] port) on the SQL
//! backends, in the `moderation_log` table of the store's database: the
//! statements, the column values of an entry, the page query and the row
//! decoding both backends share. `sqlite::modlog` and `postgres::modlog`
//! implement the port with them.
//!
//! Other SQL stores record their actions here inside their own transaction,
//! through [`sqlite_append`] and [`pg_append`], so an action and its entry
//! commit together:
//!
//! ```ignore
//! store.write(move |conn| Box::pin(async move {
//!     // ... the action's own writes on `conn` ...
//!     crate::modlog::sqlite_append(conn, &entry).await?;
//!     Ok(())
//! }))
//! ```
//!
//! [`ModerationLog`]: moderation_core::ModerationLog

use std::net::IpAddr;

use moderation_core::{
    Kind, ModLogEntry, ModLogFilter, ModerationError, NewModLogEntry, ObjectId, ObjectRef,
    PageRequest, UserId,
};
use sqlx::{Database, Encode, QueryBuilder, Type};
use uuid::Uuid;

use crate::error::StorageError;
use crate::json::{self, JsonColumn};
use crate::newest_first::{Keyset, PageSql};
use crate::record::{object_key, to_micros};

/// The columns of a log row, in [`ModLogRow`]'s order.
const COLUMNS: &str = "id, action, actor, target_kind, target_key, reason, before_state, \
     after_state, detail, ip, bulk_id, at";

/// Inserts one entry, its values bound in [`LogRow`]'s field order;
/// returns its id.
pub(crate) const INSERT_ENTRY: &str = "INSERT INTO moderation_log (action, actor, target_kind, \
     target_key, reason, before_state, after_state, detail, ip, bulk_id, at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";

/// One batch of an actor's erasure from the moderation log: the entries
/// stay, without the actor and the IP. `$1` the actor, `$2` the batch size.
/// Each batch takes the actor's oldest entries through `(actor, at, id)`;
/// anonymised entries leave that index, so no batch reads them again. The
/// outer `actor IS NOT NULL` makes PostgreSQL re-check a row another
/// erasure anonymised meanwhile, so the count stays exact (an equality
/// there would make SQLite walk the actor's index instead of the ids).
pub(crate) const ANONYMISE_LOG_BATCH: &str = "UPDATE moderation_log SET actor = NULL, ip = NULL \
     WHERE actor IS NOT NULL AND id IN (SELECT id FROM moderation_log WHERE actor = $1 \
     ORDER BY at, id LIMIT $2)";

/// One id range of an actor's erasure from the item log (the entries
/// moderation-core's comment actions write), which has no index on the
/// actor: `$1` the actor, rows with `$2 < id <= $3`. The entries stay,
/// without the actor and the IP.
pub(crate) const ANONYMISE_ITEM_LOG_RANGE: &str = "UPDATE moderation_item_log \
     SET actor = NULL, ip = NULL WHERE id > $2 AND id <= $3 AND actor = $1";

/// The highest item-log id, where the id-range sweeps stop.
pub(crate) const LAST_ITEM_LOG_ID: &str = "SELECT COALESCE(MAX(id), 0) FROM moderation_item_log";

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
    JsonColumn,
    Option<String>,
    Option<String>,
    i64,
);

/// One moderation-log row as its column values, checked and encoded before
/// any SQL runs. Every store that writes the moderation log writes these.
#[derive(Debug, Clone)]
pub(crate) struct LogRow {
    pub(crate) action: String,
    pub(crate) actor: Option<String>,
    pub(crate) target_kind: String,
    pub(crate) target_key: String,
    pub(crate) reason: Option<String>,
    pub(crate) before_state: Option<String>,
    pub(crate) after_state: Option<String>,
    pub(crate) detail: JsonColumn,
    pub(crate) ip: Option<String>,
    pub(crate) bulk_id: Option<String>,
    pub(crate) at: i64,
}

impl LogRow {
    /// `entry` checked (action verb, actor, target id) and encoded.
    ///
    /// # Errors
    /// [`ModerationError::InvalidAction`] or [`ModerationError::InvalidId`].
    pub(crate) fn new(entry: &NewModLogEntry) -> Result<Self, ModerationError> {
        entry.validate()?;
        if let Some(actor) = &entry.actor {
            // `UserId` can arrive through serde unchecked; re-check it.
            UserId::new(actor.as_str())?;
        }
        Ok(Self {
            action: entry.action.clone(),
            actor: entry.actor.as_ref().map(|a| a.as_str().to_owned()),
            target_kind: entry.target.kind.as_str().to_owned(),
            target_key: object_key(&entry.target.id)?,
            reason: entry.reason.clone(),
            before_state: entry.before.clone(),
            after_state: entry.after.clone(),
            detail: json::encode(&entry.detail)?,
            ip: entry.ip.map(|ip| ip.to_string()),
            bulk_id: entry.bulk.map(|bulk| bulk.hyphenated().to_string()),
            at: to_micros(entry.at),
        })
    }

    /// Checks and encodes every entry, or fails on the first invalid one.
    ///
    /// # Errors
    /// As [`LogRow::new`].
    pub(crate) fn all<'e>(
        entries: impl IntoIterator<Item = &'e NewModLogEntry>,
    ) -> Result<Vec<Self>, ModerationError> {
        entries.into_iter().map(Self::new).collect()
    }
}

/// Rows per multi-row insert: eleven values each, under both backends'
/// limits on bound values.
pub(crate) const INSERT_ROWS: usize = 1_000;

/// A multi-row insert of `rows`, in their order.
fn insert_rows<'r, DB>(rows: &'r [LogRow]) -> QueryBuilder<DB>
where
    DB: Database,
    i64: Encode<'r, DB> + Type<DB>,
    &'r str: Encode<'r, DB> + Type<DB>,
    Option<&'r str>: Encode<'r, DB> + Type<DB>,
    &'r JsonColumn: Encode<'r, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new(
        "INSERT INTO moderation_log (action, actor, target_kind, target_key, reason, \
         before_state, after_state, detail, ip, bulk_id, at) ",
    );
    query.push_values(rows, |mut row, log| {
        row.push_bind(log.action.as_str())
            .push_bind(log.actor.as_deref())
            .push_bind(log.target_kind.as_str())
            .push_bind(log.target_key.as_str())
            .push_bind(log.reason.as_deref())
            .push_bind(log.before_state.as_deref())
            .push_bind(log.after_state.as_deref())
            .push_bind(&log.detail)
            .push_bind(log.ip.as_deref())
            .push_bind(log.bulk_id.as_deref())
            .push_bind(log.at);
    });
    query
}

/// Appends a moderation log entry inside a SQLite transaction (the
/// writer's, see `SqliteStore::write`); returns its id.
///
/// # Errors
/// [`ModerationError::InvalidAction`] or [`ModerationError::InvalidId`]
/// before anything is written; [`ModerationError::Store`] when the
/// database fails (the transaction must then be rolled back, which the
/// writer does for work that fails).
#[cfg(feature = "sqlite")]
pub(crate) async fn sqlite_append(
    conn: &mut sqlx::SqliteConnection,
    entry: &NewModLogEntry,
) -> Result<i64, ModerationError> {
    sqlite_insert(conn, LogRow::new(entry)?).await
}

/// Inserts one checked row; returns its id.
///
/// # Errors
/// [`ModerationError::Store`] when the database fails.
#[cfg(feature = "sqlite")]
pub(crate) async fn sqlite_insert(
    conn: &mut sqlx::SqliteConnection,
    row: LogRow,
) -> Result<i64, ModerationError> {
    let id: i64 = sqlx::query_scalar(INSERT_ENTRY)
        .bind(row.action)
        .bind(row.actor)
        .bind(row.target_kind)
        .bind(row.target_key)
        .bind(row.reason)
        .bind(row.before_state)
        .bind(row.after_state)
        .bind(row.detail)
        .bind(row.ip)
        .bind(row.bulk_id)
        .bind(row.at)
        .fetch_one(&mut *conn)
        .await
        .map_err(StorageError::from)?;
    Ok(id)
}

/// Inserts checked rows in order, a multi-row statement per
/// [`INSERT_ROWS`], inside a SQLite transaction.
///
/// # Errors
/// [`ModerationError::Store`] when the database fails.
#[cfg(feature = "sqlite")]
pub(crate) async fn sqlite_insert_all(
    conn: &mut sqlx::SqliteConnection,
    rows: &[LogRow],
) -> Result<(), ModerationError> {
    for chunk in rows.chunks(INSERT_ROWS) {
        insert_rows::<sqlx::Sqlite>(chunk)
            .build()
            .execute(&mut *conn)
            .await
            .map_err(StorageError::from)?;
    }
    Ok(())
}

/// Appends a moderation log entry inside a PostgreSQL transaction (see
/// `PgStore::write`); returns its id.
///
/// # Errors
/// [`ModerationError::InvalidAction`] or [`ModerationError::InvalidId`]
/// before anything is written; [`ModerationError::Store`] when the
/// database fails (the transaction must then be rolled back, which
/// `PgStore::write` does for work that fails).
#[cfg(feature = "postgres")]
pub(crate) async fn pg_append(
    conn: &mut sqlx::PgConnection,
    entry: &NewModLogEntry,
) -> Result<i64, ModerationError> {
    pg_insert(conn, LogRow::new(entry)?).await
}

/// Inserts one checked row; returns its id.
///
/// # Errors
/// [`ModerationError::Store`] when the database fails.
#[cfg(feature = "postgres")]
pub(crate) async fn pg_insert(
    conn: &mut sqlx::PgConnection,
    row: LogRow,
) -> Result<i64, ModerationError> {
    let id: i64 = sqlx::query_scalar(INSERT_ENTRY)
        .bind(row.action)
        .bind(row.actor)
        .bind(row.target_kind)
        .bind(row.target_key)
        .bind(row.reason)
        .bind(row.before_state)
        .bind(row.after_state)
        .bind(row.detail)
        .bind(row.ip)
        .bind(row.bulk_id)
        .bind(row.at)
        .fetch_one(&mut *conn)
        .await
        .map_err(StorageError::from)?;
    Ok(id)
}

/// Inserts checked rows in order, a multi-row statement per
/// [`INSERT_ROWS`], inside a PostgreSQL transaction.
///
/// # Errors
/// [`ModerationError::Store`] when the database fails.
#[cfg(feature = "postgres")]
pub(crate) async fn pg_insert_all(
    conn: &mut sqlx::PgConnection,
    rows: &[LogRow],
) -> Result<(), ModerationError> {
    for chunk in rows.chunks(INSERT_ROWS) {
        insert_rows::<sqlx::Postgres>(chunk)
            .build()
            .execute(&mut *conn)
            .await
            .map_err(StorageError::from)?;
    }
    Ok(())
}

/// The values of a page query, checked and encoded.
#[derive(Debug)]
pub(crate) struct PageValues {
    actor: Option<String>,
    target: Option<(String, String)>,
    since: Option<i64>,
    until: Option<i64>,
    keyset: Keyset,
}

impl PageValues {
    /// The values of `filter` and `page`.
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

    /// The keyset, to cut the fetched rows into a page.
    pub(crate) fn keyset(&self) -> Keyset {
        self.keyset
    }

    /// The page's `SELECT`, newest first, each filter an index prefix:
    /// `(actor, at, id)`, `(target_kind, target_key, at, id)` or `(at, id)`.
    pub(crate) fn query<DB>(self) -> QueryBuilder<DB>
    where
        DB: Database,
        for<'t> String: Encode<'t, DB> + Type<DB>,
        for<'t> i64: Encode<'t, DB> + Type<DB>,
    {
        let mut sql = PageSql::select(COLUMNS, "moderation_log");
        if let Some(actor) = self.actor {
            sql.and().push("actor = ").push_bind(actor);
        }
        if let Some((kind, key)) = self.target {
            sql.and()
                .push("target_kind = ")
                .push_bind(kind)
                .push(" AND target_key = ")
                .push_bind(key);
        }
        if let Some(since) = self.since {
            sql.and().push("at >= ").push_bind(since);
        }
        if let Some(until) = self.until {
            sql.and().push("at < ").push_bind(until);
        }
        sql.finish(&self.keyset)
    }
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
        detail: json::decode("detail", &detail)?,
        ip: ip
            .map(|text| text.parse::<IpAddr>())
            .transpose()
            .map_err(|e| StorageError::corrupt("ip", &e))?,
        bulk: bulk
            .map(|text| Uuid::parse_str(&text))
            .transpose()
            .map_err(|e| StorageError::corrupt("bulk_id", &e))?,
        at: crate::record::from_micros("at", at)?,
    })
}

/// Decodes a page's rows and cuts them into the page.
pub(crate) fn page(
    rows: Vec<ModLogRow>,
    keyset: Keyset,
) -> Result<moderation_core::Page<ModLogEntry>, ModerationError> {
    let items = rows
        .into_iter()
        .map(decode)
        .collect::<Result<Vec<_>, StorageError>>()?;
    Ok(keyset.page(items, ModLogEntry::cursor))
}
