//! The moderation log and the audit trail for
//! [`SqliteStore`](super::SqliteStore): writes go through the single write
//! connection, reads through the read pool.

use moderation_audit_trail::AuditError;
use sqlx::SqliteConnection;

use super::SqliteStore;
use crate::audit::{EncodedRecord, store_error};

/// One statement for the whole batch: the rows travel as one JSON array
/// bound to one parameter and are unpacked by `json_each`, in input order,
/// so a batch costs one round trip and one parameter however large it is.
const INSERT_RECORDS: &str = "INSERT INTO audit_records \
     (actor, ip, ip_group, target_kind, target_key, action, detail, at) \
     SELECT value ->> '$.actor', value ->> '$.ip', value ->> '$.ip_group', \
     value ->> '$.target_kind', value ->> '$.target_key', value ->> '$.action', \
     value ->> '$.detail', value ->> '$.at' \
     FROM json_each($1) ORDER BY key RETURNING id";

/// Inserts `records`; returns their ids in input order.
async fn insert_records(
    conn: &mut SqliteConnection,
    records: &[EncodedRecord],
) -> Result<Vec<i64>, AuditError> {
    let rows = serde_json::to_string(records).map_err(AuditError::store)?;
    let mut ids: Vec<i64> = sqlx::query_scalar(INSERT_RECORDS)
        .bind(rows)
        .fetch_all(&mut *conn)
        .await
        .map_err(store_error)?;
    // Ids grow in insertion order, which is input order; RETURNING itself
    // promises no order.
    ids.sort_unstable();
    Ok(ids)
}

crate::modlog::impl_moderation_log!(SqliteStore, "sqlite", crate::modlog::sqlite_append);
crate::audit::impl_audit_store!(SqliteStore, "sqlite", insert_records);
