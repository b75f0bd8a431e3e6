//! moderation-audit-trail's ports on the SQL backends: [`AuditStore`] on the
//! `audit_records` table and [`IpHolder`] over the IPs the other tables keep
//! (the moderation log, moderated items and their log).
//!
//! The statements are shared; only the batch insert differs per backend
//! (see `sqlite/audit.rs` and `postgres/audit.rs`), because each has its own
//! way to send many rows as one bound value. IPs arrive as sortable text
//! keys (see [`RecordedIp::key`]), so a CIDR query is
//! `ip BETWEEN low AND high` on the `(ip, at, id)` index.
//!
//! [`AuditStore`]: moderation_audit_trail::AuditStore
//! [`IpHolder`]: moderation_audit_trail::IpHolder

use chrono::{DateTime, Utc};
use moderation_audit_trail::{AuditError, AuditQuery, AuditRecord, NewAuditRecord, RecordedIp};
use moderation_core::{AuthorKey, Kind, ObjectId, ObjectRef, PageRequest, UserId};

use crate::error::StorageError;
use crate::newest_first::{Keyset, PageQuery};
use crate::record::{object_key, to_micros};

/// The columns of an audit row, in [`AuditRow`]'s order.
macro_rules! audit_columns {
    () => {
        "id, actor, ip, ip_group, target_kind, target_key, action, detail, at"
    };
}

/// One `audit_records` row as read.
pub(crate) type AuditRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    String,
    i64,
);

/// Other accounts from the same address groups in a window, ranked. The
/// first part reads the user's groups through `(actor, at, id)`, the second
/// everyone in those groups through `(ip_group, at, actor)`.
pub(crate) const SOCK_PUPPETS: &str = "WITH mine AS (\
     SELECT DISTINCT ip_group FROM audit_records \
     WHERE actor = $1 AND at >= $2 AND at < $3 AND ip_group IS NOT NULL) \
     SELECT r.actor, COUNT(DISTINCT r.ip_group) AS shared, COUNT(*) AS overlap \
     FROM mine JOIN audit_records r ON r.ip_group = mine.ip_group \
     WHERE r.at >= $2 AND r.at < $3 AND r.actor IS NOT NULL AND r.actor <> $1 \
     GROUP BY r.actor ORDER BY shared DESC, overlap DESC, r.actor LIMIT $4";

pub(crate) const COUNT_OLDER: &str = "SELECT COUNT(*) FROM audit_records WHERE at <= $1";

/// The oldest rows first, through `(at, id)`: a batch never scans what
/// earlier batches already removed.
pub(crate) const DELETE_OLDER: &str = "DELETE FROM audit_records WHERE id IN \
     (SELECT id FROM audit_records WHERE at <= $1 ORDER BY at, id LIMIT $2)";

pub(crate) const DELETE_ACTOR: &str = "DELETE FROM audit_records WHERE actor = $1";

/// The tables whose IPs retention clears, each with its time column; every
/// one has a partial index on that column `WHERE ip IS NOT NULL`.
pub(crate) const IP_TABLES: [IpTable; 3] = [
    IpTable {
        count: "SELECT COUNT(*) FROM moderation_log WHERE ip IS NOT NULL AND at <= $1",
        clear: "UPDATE moderation_log SET ip = NULL WHERE id IN (SELECT id FROM moderation_log \
                WHERE ip IS NOT NULL AND at <= $1 ORDER BY at LIMIT $2)",
    },
    IpTable {
        count: "SELECT COUNT(*) FROM moderation_items WHERE ip IS NOT NULL AND created_at <= $1",
        clear: "UPDATE moderation_items SET ip = NULL WHERE id IN (SELECT id FROM moderation_items \
                WHERE ip IS NOT NULL AND created_at <= $1 ORDER BY created_at LIMIT $2)",
    },
    IpTable {
        count: "SELECT COUNT(*) FROM moderation_item_log WHERE ip IS NOT NULL AND at <= $1",
        clear: "UPDATE moderation_item_log SET ip = NULL WHERE id IN (SELECT id FROM \
                moderation_item_log WHERE ip IS NOT NULL AND at <= $1 ORDER BY at LIMIT $2)",
    },
];

/// How a table names the user whose IPs erasure clears.
#[derive(Debug, Clone, Copy)]
pub(crate) enum UserColumn {
    /// By user id (`actor`).
    Actor,
    /// By author key (`u:<id>`, see [`AuthorKey::to_key`]).
    Author,
}

/// A user's IPs outside the audit trail: on the log entries they wrote and
/// the items they wrote; `$1` is the id the [`UserColumn`] names.
pub(crate) const CLEAR_USER_IPS: [(&str, UserColumn); 3] = [
    (
        "UPDATE moderation_log SET ip = NULL WHERE actor = $1 AND ip IS NOT NULL",
        UserColumn::Actor,
    ),
    (
        "UPDATE moderation_items SET ip = NULL WHERE author_key = $1 AND ip IS NOT NULL",
        UserColumn::Author,
    ),
    (
        "UPDATE moderation_item_log SET ip = NULL WHERE actor = $1 AND ip IS NOT NULL",
        UserColumn::Actor,
    ),
];

/// One table's retention statements.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IpTable {
    /// `$1` the cut-off.
    pub(crate) count: &'static str,
    /// `$1` the cut-off, `$2` the most rows.
    pub(crate) clear: &'static str,
}

/// The value bound for `user` in a table naming users by `column`.
pub(crate) fn user_value(user: &UserId, column: UserColumn) -> String {
    match column {
        UserColumn::Actor => user.as_str().to_owned(),
        UserColumn::Author => AuthorKey::User(user.clone()).to_key(),
    }
}

/// A [`NewAuditRecord`] as column values, checked before any SQL runs.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct EncodedRecord {
    pub(crate) actor: Option<String>,
    pub(crate) ip: Option<String>,
    pub(crate) ip_group: Option<String>,
    pub(crate) target_kind: String,
    pub(crate) target_key: String,
    pub(crate) action: String,
    pub(crate) detail: String,
    pub(crate) at: i64,
}

impl EncodedRecord {
    pub(crate) fn new(record: &NewAuditRecord) -> Result<Self, AuditError> {
        record.validate()?;
        Ok(Self {
            actor: record.actor.as_ref().map(|a| a.as_str().to_owned()),
            ip: record.ip.as_ref().map(RecordedIp::key),
            ip_group: record.ip.as_ref().map(RecordedIp::group_key),
            target_kind: record.target.kind.as_str().to_owned(),
            target_key: object_key(&record.target.id)?,
            action: record.action.clone(),
            detail: serde_json::to_string(&record.detail)
                .map_err(moderation_core::ModerationError::from)?,
            at: to_micros(record.at),
        })
    }

    /// Encodes every record, or fails on the first invalid one.
    pub(crate) fn all(records: &[NewAuditRecord]) -> Result<Vec<Self>, AuditError> {
        records.iter().map(Self::new).collect()
    }
}

/// A page query for `query`: placeholders are numbered in the order actor,
/// ip low, ip high, target kind, target key, since, until, then the
/// keyset's.
pub(crate) fn page_query(query: &AuditQuery, after: bool) -> String {
    let mut sql = PageQuery::select(audit_columns!(), "audit_records");
    if query.actor.is_some() {
        let actor = sql.param();
        sql.filter(format!("actor = ${actor}"));
    }
    if query.ip.is_some() {
        let (low, high) = (sql.param(), sql.param());
        sql.filter(format!("ip BETWEEN ${low} AND ${high}"));
    }
    if query.target.is_some() {
        let (kind, key) = (sql.param(), sql.param());
        sql.filter(format!("target_kind = ${kind} AND target_key = ${key}"));
    }
    if query.since.is_some() {
        let since = sql.param();
        sql.filter(format!("at >= ${since}"));
    }
    if query.until.is_some() {
        let until = sql.param();
        sql.filter(format!("at < ${until}"));
    }
    sql.finish(after)
}

/// The values [`page_query`]'s placeholders take, checked and encoded.
#[derive(Debug)]
pub(crate) struct PageValues {
    pub(crate) actor: Option<String>,
    pub(crate) ip: Option<(String, String)>,
    pub(crate) target: Option<(String, String)>,
    pub(crate) since: Option<i64>,
    pub(crate) until: Option<i64>,
    pub(crate) keyset: Keyset,
}

impl PageValues {
    pub(crate) fn new(query: &AuditQuery, page: &PageRequest) -> Result<Self, AuditError> {
        Ok(Self {
            actor: query.actor.as_ref().map(|a| a.as_str().to_owned()),
            ip: query
                .ip
                .as_ref()
                .map(|r| (r.low().to_owned(), r.high().to_owned())),
            target: query
                .target
                .as_ref()
                .map(|t| Ok::<_, AuditError>((t.kind.as_str().to_owned(), object_key(&t.id)?)))
                .transpose()?,
            since: query.since.map(to_micros),
            until: query.until.map(to_micros),
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
pub(crate) fn decode(row: AuditRow) -> Result<AuditRecord, AuditError> {
    let (id, actor, ip, ip_group, target_kind, target_key, action, detail, at) = row;
    let ip = match (ip, ip_group) {
        (Some(ip), Some(group)) => Some(RecordedIp::from_keys(&ip, &group)?),
        (None, _) => None,
        (Some(ip), None) => return Err(AuditError::CorruptIpKey { key: ip }),
    };
    Ok(AuditRecord {
        id,
        actor: actor
            .map(UserId::new)
            .transpose()
            .map_err(|e| store_error(StorageError::corrupt("actor", &e)))?,
        ip,
        target: ObjectRef {
            kind: Kind::new(target_kind)
                .map_err(|e| store_error(StorageError::corrupt("target_kind", &e)))?,
            id: ObjectId::from_key(&target_key)
                .map_err(|e| store_error(StorageError::corrupt("target_key", &e)))?,
        },
        action,
        detail: serde_json::from_str(&detail)
            .map_err(|e| store_error(StorageError::corrupt("detail", &e)))?,
        at: from_micros(at).map_err(store_error)?,
    })
}

/// A database failure or an unreadable row as the audit trail's error.
pub(crate) fn store_error(error: impl Into<StorageError>) -> AuditError {
    AuditError::store(error.into())
}

/// A count column as an unsigned number.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// Implements `moderation_audit_trail::{AuditStore, IpHolder}` for a SQL
/// store type, which provides `begin_write()` and `pool_reader()`, given the
/// backend's name and its batch insert function
/// `async fn(&mut Conn, &[EncodedRecord]) -> Result<Vec<i64>, AuditError>`
/// returning the new ids in input order.
macro_rules! impl_audit_store {
    ($store:ty, $backend:literal, $insert:path) => {
        #[async_trait::async_trait]
        impl moderation_audit_trail::AuditStore for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, count = records.len()))]
            async fn insert(
                &self,
                records: Vec<moderation_audit_trail::NewAuditRecord>,
            ) -> Result<Vec<moderation_audit_trail::AuditRecord>, moderation_audit_trail::AuditError> {
                self.settle(async move {
                    use $crate::audit::store_error;
                    if records.is_empty() {
                        return Ok(Vec::new());
                    }
                    // Checked before the transaction opens: bad input never
                    // takes the write lock and never half-writes a batch.
                    let encoded = $crate::audit::EncodedRecord::all(&records)?;
                    let mut tx = self.begin_write().await.map_err(store_error)?;
                    let ids = $insert(&mut *tx, &encoded).await?;
                    tx.commit().await.map_err(store_error)?;
                    Ok(records
                        .into_iter()
                        .zip(ids)
                        .map(|(record, id)| record.stored(id))
                        .collect())
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend))]
            async fn records(
                &self,
                query: &moderation_audit_trail::AuditQuery,
                page: moderation_core::PageRequest,
            ) -> Result<moderation_core::Page<moderation_audit_trail::AuditRecord>, moderation_audit_trail::AuditError> {
                self.settle(async move {
                    use $crate::audit::store_error;
                    let values = $crate::audit::PageValues::new(query, &page)?;
                    let sql = $crate::audit::page_query(query, values.keyset.after.is_some());
                    // Only placeholders and fixed fragments (see `page_query`).
                    let mut q = sqlx::query_as::<_, $crate::audit::AuditRow>(sqlx::AssertSqlSafe(sql));
                    if let Some(actor) = values.actor {
                        q = q.bind(actor);
                    }
                    if let Some((low, high)) = values.ip {
                        q = q.bind(low).bind(high);
                    }
                    if let Some((kind, key)) = values.target {
                        q = q.bind(kind).bind(key);
                    }
                    if let Some(since) = values.since {
                        q = q.bind(since);
                    }
                    if let Some(until) = values.until {
                        q = q.bind(until);
                    }
                    if let Some((at, id)) = values.keyset.after {
                        q = q.bind(at).bind(id);
                    }
                    let rows = q
                        .bind(values.keyset.fetch)
                        .fetch_all(self.pool_reader())
                        .await
                        .map_err(store_error)?;
                    let items = rows
                        .into_iter()
                        .map($crate::audit::decode)
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(values.keyset.page(items, moderation_audit_trail::AuditRecord::cursor))
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip(self), fields(backend = $backend))]
            async fn sock_puppets(
                &self,
                user: &moderation_core::UserId,
                since: chrono::DateTime<chrono::Utc>,
                until: chrono::DateTime<chrono::Utc>,
                limit: u32,
            ) -> Result<Vec<moderation_audit_trail::SockPuppet>, moderation_audit_trail::AuditError> {
                self.settle(async move {
                    use $crate::audit::{count, store_error};
                    let rows: Vec<(String, i64, i64)> = sqlx::query_as($crate::audit::SOCK_PUPPETS)
                        .bind(user.as_str())
                        .bind($crate::record::to_micros(since))
                        .bind($crate::record::to_micros(until))
                        .bind(i64::from(limit))
                        .fetch_all(self.pool_reader())
                        .await
                        .map_err(store_error)?;
                    rows.into_iter()
                        .map(|(actor, shared, overlap)| {
                            Ok(moderation_audit_trail::SockPuppet {
                                user: moderation_core::UserId::new(actor).map_err(|e| {
                                    store_error($crate::error::StorageError::corrupt("actor", &e))
                                })?,
                                shared_addresses: count(shared),
                                overlap: count(overlap),
                            })
                        })
                        .collect()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip(self), fields(backend = $backend))]
            async fn count_older(
                &self,
                cutoff: chrono::DateTime<chrono::Utc>,
            ) -> Result<u64, moderation_audit_trail::AuditError> {
                self.settle(async move {
                    let n: i64 = sqlx::query_scalar($crate::audit::COUNT_OLDER)
                        .bind($crate::record::to_micros(cutoff))
                        .fetch_one(self.pool_reader())
                        .await
                        .map_err($crate::audit::store_error)?;
                    Ok($crate::audit::count(n))
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip(self), fields(backend = $backend))]
            async fn delete_older(
                &self,
                cutoff: chrono::DateTime<chrono::Utc>,
                limit: u32,
            ) -> Result<u64, moderation_audit_trail::AuditError> {
                self.settle(async move {
                    use $crate::audit::store_error;
                    let mut tx = self.begin_write().await.map_err(store_error)?;
                    let done = sqlx::query($crate::audit::DELETE_OLDER)
                        .bind($crate::record::to_micros(cutoff))
                        .bind(i64::from(limit))
                        .execute(&mut *tx)
                        .await
                        .map_err(store_error)?;
                    tx.commit().await.map_err(store_error)?;
                    Ok(done.rows_affected())
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend))]
            async fn delete_actor(
                &self,
                actor: &moderation_core::UserId,
            ) -> Result<u64, moderation_audit_trail::AuditError> {
                self.settle(async move {
                    use $crate::audit::store_error;
                    let mut tx = self.begin_write().await.map_err(store_error)?;
                    let done = sqlx::query($crate::audit::DELETE_ACTOR)
                        .bind(actor.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(store_error)?;
                    tx.commit().await.map_err(store_error)?;
                    Ok(done.rows_affected())
                })
                .await
            }
        }

        #[async_trait::async_trait]
        impl moderation_audit_trail::IpHolder for $store {
            fn name(&self) -> &str {
                "moderation tables"
            }

            #[tracing::instrument(level = "debug", skip(self), fields(backend = $backend))]
            async fn count_ips_older(
                &self,
                cutoff: chrono::DateTime<chrono::Utc>,
            ) -> Result<u64, moderation_audit_trail::AuditError> {
                self.settle(async move {
                    let mut total = 0;
                    for table in $crate::audit::IP_TABLES {
                        let n: i64 = sqlx::query_scalar(table.count)
                            .bind($crate::record::to_micros(cutoff))
                            .fetch_one(self.pool_reader())
                            .await
                            .map_err($crate::audit::store_error)?;
                        total += $crate::audit::count(n);
                    }
                    Ok(total)
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip(self), fields(backend = $backend))]
            async fn clear_ips_older(
                &self,
                cutoff: chrono::DateTime<chrono::Utc>,
                limit: u32,
            ) -> Result<u64, moderation_audit_trail::AuditError> {
                self.settle(async move {
                    use $crate::audit::store_error;
                    let mut left = u64::from(limit);
                    let mut tx = self.begin_write().await.map_err(store_error)?;
                    for table in $crate::audit::IP_TABLES {
                        if left == 0 {
                            break;
                        }
                        let done = sqlx::query(table.clear)
                            .bind($crate::record::to_micros(cutoff))
                            .bind(i64::try_from(left).unwrap_or(i64::MAX))
                            .execute(&mut *tx)
                            .await
                            .map_err(store_error)?;
                        left = left.saturating_sub(done.rows_affected());
                    }
                    tx.commit().await.map_err(store_error)?;
                    Ok(u64::from(limit) - left)
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend))]
            async fn clear_user_ips(
                &self,
                user: &moderation_core::UserId,
            ) -> Result<u64, moderation_audit_trail::AuditError> {
                self.settle(async move {
                    use $crate::audit::store_error;
                    let mut total = 0;
                    let mut tx = self.begin_write().await.map_err(store_error)?;
                    for (statement, column) in $crate::audit::CLEAR_USER_IPS {
                        let done = sqlx::query(statement)
                            .bind($crate::audit::user_value(user, column))
                            .execute(&mut *tx)
                            .await
                            .map_err(store_error)?;
                        total += done.rows_affected();
                    }
                    tx.commit().await.map_err(store_error)?;
                    Ok(total)
                })
                .await
            }
        }
    };
}

pub(crate) use impl_audit_store;
