//! moderation-audit-trail's ports on the SQL backends, the parts both share:
//! [`AuditStore`] on the `audit_records` table, [`IpHolder`] over the IPs
//! the other tables keep (the moderation log, moderated items and their
//! log), and the batched sweeps of retention and erasure. `sqlite::audit`
//! and `postgres::audit` run them on their own connections.
//!
//! IPs arrive as sortable text keys (see [`RecordedIp::key`]), so a CIDR
//! query is `ip BETWEEN low AND high` on the `(ip, at, id)` index.
//!
//! Every long job (retention, erasure) runs as batches of bounded size,
//! one transaction each, so other writes proceed between them and no batch
//! reads more than its share of rows; a job that fails halfway leaves its
//! committed batches done, and running it again finishes it.
//!
//! [`AuditStore`]: moderation_audit_trail::AuditStore
//! [`IpHolder`]: moderation_audit_trail::IpHolder

use moderation_audit_trail::{AuditError, AuditQuery, AuditRecord, NewAuditRecord, RecordedIp};
use moderation_core::{AuthorKey, Kind, ObjectId, ObjectRef, PageRequest, UserId};
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::error::StorageError;
use crate::json::{self, JsonColumn};
use crate::newest_first::{Keyset, PageSql};
use crate::record::{object_key, to_micros};

/// A storage failure reaches the audit trail's callers as
/// [`AuditError::Store`].
impl From<StorageError> for AuditError {
    fn from(error: StorageError) -> Self {
        Self::store(error)
    }
}

/// The columns of an audit row, in [`AuditRow`]'s order.
const COLUMNS: &str = "id, actor, ip, ip_group, target_kind, target_key, action, detail, at";

/// One `audit_records` row as read.
pub(crate) type AuditRow = (
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    JsonColumn,
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

/// One retention batch: the oldest rows first, through `(at, id)`, so a
/// batch never scans what earlier batches already removed. `$1` the
/// cut-off, `$2` the most rows.
pub(crate) const DELETE_OLDER: &str = "DELETE FROM audit_records WHERE id IN \
     (SELECT id FROM audit_records WHERE at <= $1 ORDER BY at, id LIMIT $2)";

/// A user's audit records, for erasure, in batches.
pub(crate) const DELETE_ACTOR: crate::erasure::Sweep = crate::erasure::Sweep::Shrinking(
    "DELETE FROM audit_records WHERE id IN (SELECT id FROM audit_records \
     WHERE actor = $1 ORDER BY at, id LIMIT $2)",
);

/// The tables whose IPs retention clears, each with its time column; every
/// one has a partial index on that column `WHERE ip IS NOT NULL`, which a
/// cleared row leaves, so no batch reads what an earlier one cleared. The
/// outer `ip IS NOT NULL` makes PostgreSQL re-check a row another
/// transaction changed meanwhile, so the count stays exact.
pub(crate) const IP_TABLES: [IpTable; 3] = [
    IpTable {
        count: "SELECT COUNT(*) FROM moderation_log WHERE ip IS NOT NULL AND at <= $1",
        clear: "UPDATE moderation_log SET ip = NULL WHERE ip IS NOT NULL AND id IN \
                (SELECT id FROM moderation_log WHERE ip IS NOT NULL AND at <= $1 \
                ORDER BY at LIMIT $2)",
    },
    IpTable {
        count: "SELECT COUNT(*) FROM moderation_items WHERE ip IS NOT NULL AND created_at <= $1",
        clear: "UPDATE moderation_items SET ip = NULL WHERE ip IS NOT NULL AND id IN \
                (SELECT id FROM moderation_items WHERE ip IS NOT NULL AND created_at <= $1 \
                ORDER BY created_at LIMIT $2)",
    },
    IpTable {
        count: "SELECT COUNT(*) FROM moderation_item_log WHERE ip IS NOT NULL AND at <= $1",
        clear: "UPDATE moderation_item_log SET ip = NULL WHERE ip IS NOT NULL AND id IN \
                (SELECT id FROM moderation_item_log WHERE ip IS NOT NULL AND at <= $1 \
                ORDER BY at LIMIT $2)",
    },
];

/// One table's retention statements.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IpTable {
    /// `$1` the cut-off.
    pub(crate) count: &'static str,
    /// `$1` the cut-off, `$2` the most rows.
    pub(crate) clear: &'static str,
}

/// How a table names the user whose rows erasure changes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum UserColumn {
    /// By user id (`actor`).
    Actor,
    /// By author key (`u:<id>`, see [`AuthorKey::to_key`]).
    Author,
}

/// The value bound for `user` in a table naming users by `column`.
pub(crate) fn user_value(user: &UserId, column: UserColumn) -> String {
    match column {
        UserColumn::Actor => user.as_str().to_owned(),
        UserColumn::Author => AuthorKey::User(user.clone()).to_key(),
    }
}

/// A user's IPs outside the audit trail: on the log entries they wrote and
/// the items they wrote.
pub(crate) const CLEAR_USER_IPS: [(crate::erasure::Sweep, UserColumn); 3] = [
    (
        crate::erasure::Sweep::Keyset {
            end: "SELECT at, id FROM moderation_log WHERE actor = $1 AND (at, id) > ($2, $3) \
                  ORDER BY at, id LIMIT 1 OFFSET $4",
            apply: "UPDATE moderation_log SET ip = NULL WHERE actor = $1 \
                    AND (at, id) > ($2, $3) AND (at, id) <= ($4, $5) AND ip IS NOT NULL",
        },
        UserColumn::Actor,
    ),
    (
        crate::erasure::Sweep::Keyset {
            end: "SELECT created_at, id FROM moderation_items WHERE author_key = $1 \
                  AND (created_at, id) > ($2, $3) ORDER BY created_at, id LIMIT 1 OFFSET $4",
            apply: "UPDATE moderation_items SET ip = NULL WHERE author_key = $1 \
                    AND (created_at, id) > ($2, $3) AND (created_at, id) <= ($4, $5) \
                    AND ip IS NOT NULL",
        },
        UserColumn::Author,
    ),
    (
        crate::erasure::Sweep::IdRange {
            last: crate::modlog::LAST_ITEM_LOG_ID,
            apply: "UPDATE moderation_item_log SET ip = NULL \
                    WHERE id > $2 AND id <= $3 AND actor = $1 AND ip IS NOT NULL",
        },
        UserColumn::Actor,
    ),
];

/// A [`NewAuditRecord`] as column values, checked before any SQL runs.
/// Serialised by name for SQLite's one-parameter batch insert.
#[derive(Debug, Clone, serde::Serialize)]
pub(crate) struct EncodedRecord {
    pub(crate) actor: Option<String>,
    pub(crate) ip: Option<String>,
    pub(crate) ip_group: Option<String>,
    pub(crate) target_kind: String,
    pub(crate) target_key: String,
    pub(crate) action: String,
    /// JSON text: SQLite's batch reads it as text from the JSON array it
    /// travels in, PostgreSQL's casts it to `jsonb`.
    pub(crate) detail: String,
    pub(crate) at: i64,
}

impl EncodedRecord {
    /// Checks `record` and encodes its columns.
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
}

/// Audit records checked and encoded, ready to insert in one statement.
#[derive(Debug, Clone)]
pub(crate) struct CheckedRecords {
    pub(crate) records: Vec<NewAuditRecord>,
    pub(crate) encoded: Vec<EncodedRecord>,
}

impl CheckedRecords {
    /// Checks every record, or fails on the first invalid one, before any
    /// SQL runs: a batch is never half written.
    pub(crate) fn new(records: Vec<NewAuditRecord>) -> Result<Self, AuditError> {
        let encoded = records
            .iter()
            .map(EncodedRecord::new)
            .collect::<Result<_, _>>()?;
        Ok(Self { records, encoded })
    }

    /// The stored records, given the ids the insert returned (in any
    /// order: ids grow in insertion order, which is input order).
    pub(crate) fn stored(self, mut ids: Vec<i64>) -> Result<Vec<AuditRecord>, AuditError> {
        if ids.len() != self.records.len() {
            return Err(StorageError::corrupt(
                "id",
                &format!(
                    "the insert returned {} ids for {} records",
                    ids.len(),
                    self.records.len()
                ),
            )
            .into());
        }
        ids.sort_unstable();
        Ok(self
            .records
            .into_iter()
            .zip(ids)
            .map(|(record, id)| record.stored(id))
            .collect())
    }
}

/// The values of a page query, checked and encoded.
#[derive(Debug)]
pub(crate) struct PageValues {
    actor: Option<String>,
    ip: Option<(String, String)>,
    target: Option<(String, String)>,
    since: Option<i64>,
    until: Option<i64>,
    keyset: Keyset,
}

impl PageValues {
    /// The values of `query` and `page`.
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

    /// The keyset, to cut the fetched rows into a page.
    pub(crate) fn keyset(&self) -> Keyset {
        self.keyset
    }

    /// The page's `SELECT`, newest first, each filter an index prefix:
    /// `(actor, at, id)`, `(ip, at, id)`, `(target_kind, target_key, at,
    /// id)` or `(at, id)`.
    pub(crate) fn query<DB>(self) -> QueryBuilder<DB>
    where
        DB: Database,
        for<'t> String: Encode<'t, DB> + Type<DB>,
        for<'t> i64: Encode<'t, DB> + Type<DB>,
    {
        let mut sql = PageSql::select(COLUMNS, "audit_records");
        if let Some(actor) = self.actor {
            sql.and().push("actor = ").push_bind(actor);
        }
        if let Some((low, high)) = self.ip {
            sql.and()
                .push("ip BETWEEN ")
                .push_bind(low)
                .push(" AND ")
                .push_bind(high);
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
            .map_err(|e| StorageError::corrupt("actor", &e))?,
        ip,
        target: ObjectRef {
            kind: Kind::new(target_kind).map_err(|e| StorageError::corrupt("target_kind", &e))?,
            id: ObjectId::from_key(&target_key)
                .map_err(|e| StorageError::corrupt("target_key", &e))?,
        },
        action,
        detail: json::decode("detail", &detail)?,
        at: crate::record::from_micros("at", at)?,
    })
}

/// Decodes a page's rows and cuts them into the page.
pub(crate) fn page(
    rows: Vec<AuditRow>,
    keyset: Keyset,
) -> Result<moderation_core::Page<AuditRecord>, AuditError> {
    let items = rows
        .into_iter()
        .map(decode)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(keyset.page(items, AuditRecord::cursor))
}

/// Decodes the rows of [`SOCK_PUPPETS`].
pub(crate) fn sock_puppets(
    rows: Vec<(String, i64, i64)>,
) -> Result<Vec<moderation_audit_trail::SockPuppet>, AuditError> {
    rows.into_iter()
        .map(|(actor, shared, overlap)| {
            Ok(moderation_audit_trail::SockPuppet {
                user: UserId::new(actor).map_err(|e| StorageError::corrupt("actor", &e))?,
                shared_addresses: count(shared),
                overlap: count(overlap),
            })
        })
        .collect()
}

/// A database failure or an unreadable row as the audit trail's error.
pub(crate) fn store_error(error: impl Into<StorageError>) -> AuditError {
    AuditError::store(error.into())
}

/// A count column as an unsigned number.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A port's row limit as a bound value.
pub(crate) fn limit_value(limit: u64) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}
