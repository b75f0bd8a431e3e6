//! The moderation log and the audit trail for [`PgStore`](super::PgStore).

use moderation_audit_trail::AuditError;
use sqlx::PgConnection;

use super::PgStore;
use crate::audit::{EncodedRecord, store_error};

/// One statement for the whole batch: each column travels as one array and
/// `UNNEST ... WITH ORDINALITY` rebuilds the rows in input order.
const INSERT_RECORDS: &str = "INSERT INTO audit_records \
     (actor, ip, ip_group, target_kind, target_key, action, detail, at) \
     SELECT actor, ip, ip_group, target_kind, target_key, action, detail, at \
     FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
     $7::text[], $8::bigint[]) WITH ORDINALITY \
     AS r(actor, ip, ip_group, target_kind, target_key, action, detail, at, n) \
     ORDER BY n RETURNING id";

/// Inserts `records`; returns their ids in input order.
async fn insert_records(
    conn: &mut PgConnection,
    records: &[EncodedRecord],
) -> Result<Vec<i64>, AuditError> {
    let column =
        |f: fn(&EncodedRecord) -> Option<String>| records.iter().map(f).collect::<Vec<_>>();
    let text = |f: fn(&EncodedRecord) -> String| records.iter().map(f).collect::<Vec<_>>();
    let mut ids: Vec<i64> = sqlx::query_scalar(INSERT_RECORDS)
        .bind(column(|r| r.actor.clone()))
        .bind(column(|r| r.ip.clone()))
        .bind(column(|r| r.ip_group.clone()))
        .bind(text(|r| r.target_kind.clone()))
        .bind(text(|r| r.target_key.clone()))
        .bind(text(|r| r.action.clone()))
        .bind(text(|r| r.detail.clone()))
        .bind(records.iter().map(|r| r.at).collect::<Vec<i64>>())
        .fetch_all(&mut *conn)
        .await
        .map_err(store_error)?;
    // Identity values are drawn in insertion order, which is input order;
    // RETURNING itself promises no order.
    ids.sort_unstable();
    Ok(ids)
}

crate::modlog::impl_moderation_log!(PgStore, "postgres", crate::modlog::pg_append);
crate::audit::impl_audit_store!(PgStore, "postgres", insert_records);
