//! moderation-audit-trail's `AuditStore` and `IpHolder` for [`PgStore`]:
//! each write is a transaction of its own on the pool, each batch of a long
//! job (retention, erasure) too; reads use pooled connections.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use moderation_audit_trail::{
    AuditError, AuditQuery, AuditRecord, AuditStore, IpHolder, NewAuditRecord, SockPuppet,
};
use moderation_core::{Page, PageRequest, UserId};
use sqlx::{PgConnection, Postgres};

use super::PgStore;
use crate::audit::{
    self, AuditRow, CheckedRecords, EncodedRecord, count, limit_value, store_error,
};
use crate::error::StorageError;
use crate::record::to_micros;

/// One statement for the whole batch: each column travels as one array and
/// `UNNEST ... WITH ORDINALITY` rebuilds the rows in input order.
const INSERT_RECORDS: &str = "INSERT INTO audit_records \
     (actor, ip, ip_group, target_kind, target_key, action, detail, at) \
     SELECT actor, ip, ip_group, target_kind, target_key, action, detail::jsonb, at \
     FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], \
     $7::text[], $8::bigint[]) WITH ORDINALITY \
     AS r(actor, ip, ip_group, target_kind, target_key, action, detail, at, n) \
     ORDER BY n RETURNING id";

#[async_trait]
impl AuditStore for PgStore {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", count = records.len()))]
    async fn insert(&self, records: Vec<NewAuditRecord>) -> Result<Vec<AuditRecord>, AuditError> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        // Checked before the transaction opens: bad input never
        // half-writes a batch.
        let checked = CheckedRecords::new(records)?;
        self.write(move |conn| Box::pin(insert_records(conn, checked)))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres"))]
    async fn records(
        &self,
        query: &AuditQuery,
        page: PageRequest,
    ) -> Result<Page<AuditRecord>, AuditError> {
        let values = audit::PageValues::new(query, &page)?;
        let keyset = values.keyset();
        let mut select = values.query::<Postgres>();
        let mut conn = self.reader().await?;
        let rows: Vec<AuditRow> = select
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(store_error)?;
        audit::page(rows, keyset)
    }

    #[tracing::instrument(level = "debug", skip(self), fields(backend = "postgres"))]
    async fn sock_puppets(
        &self,
        user: &UserId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<SockPuppet>, AuditError> {
        let mut conn = self.reader().await?;
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(audit::SOCK_PUPPETS)
            .bind(user.as_str())
            .bind(to_micros(since))
            .bind(to_micros(until))
            .bind(i64::from(limit))
            .fetch_all(&mut *conn)
            .await
            .map_err(store_error)?;
        audit::sock_puppets(rows)
    }

    #[tracing::instrument(level = "debug", skip(self), fields(backend = "postgres"))]
    async fn count_older(&self, cutoff: DateTime<Utc>) -> Result<u64, AuditError> {
        let mut conn = self.reader().await?;
        let n: i64 = sqlx::query_scalar(audit::COUNT_OLDER)
            .bind(to_micros(cutoff))
            .fetch_one(&mut *conn)
            .await
            .map_err(store_error)?;
        Ok(count(n))
    }

    #[tracing::instrument(level = "debug", skip(self), fields(backend = "postgres"))]
    async fn delete_older(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<u64, AuditError> {
        let cutoff = to_micros(cutoff);
        let deleted = self
            .write(move |conn| Box::pin(delete_older(conn, cutoff, i64::from(limit))))
            .await?;
        Ok(deleted)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres"))]
    async fn delete_actor(&self, actor: &UserId) -> Result<u64, AuditError> {
        Ok(self
            .sweep(audit::DELETE_ACTOR, actor.as_str().to_owned())
            .await?)
    }
}

#[async_trait]
impl IpHolder for PgStore {
    fn name(&self) -> &str {
        "moderation tables"
    }

    #[tracing::instrument(level = "debug", skip(self), fields(backend = "postgres"))]
    async fn count_ips_older(&self, cutoff: DateTime<Utc>) -> Result<u64, AuditError> {
        let mut conn = self.reader().await?;
        let mut total = 0;
        for table in audit::IP_TABLES {
            let n: i64 = sqlx::query_scalar(table.count)
                .bind(to_micros(cutoff))
                .fetch_one(&mut *conn)
                .await
                .map_err(store_error)?;
            total += count(n);
        }
        Ok(total)
    }

    #[tracing::instrument(level = "debug", skip(self), fields(backend = "postgres"))]
    async fn clear_ips_older(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<u64, AuditError> {
        let cutoff = to_micros(cutoff);
        let cleared = self
            .write(move |conn| Box::pin(clear_ips_older(conn, cutoff, u64::from(limit))))
            .await?;
        Ok(cleared)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres"))]
    async fn clear_user_ips(&self, user: &UserId) -> Result<u64, AuditError> {
        let mut total = 0;
        for (sweep, column) in audit::CLEAR_USER_IPS {
            total += self.sweep(sweep, audit::user_value(user, column)).await?;
        }
        Ok(total)
    }
}

/// Inserts checked audit records in one statement; returns them stored, in
/// input order.
pub(crate) async fn insert_records(
    conn: &mut PgConnection,
    checked: CheckedRecords,
) -> Result<Vec<AuditRecord>, AuditError> {
    let rows = &checked.encoded;
    let column = |f: fn(&EncodedRecord) -> Option<String>| rows.iter().map(f).collect::<Vec<_>>();
    let text = |f: fn(&EncodedRecord) -> String| rows.iter().map(f).collect::<Vec<_>>();
    let ids: Vec<i64> = sqlx::query_scalar(INSERT_RECORDS)
        .bind(column(|r| r.actor.clone()))
        .bind(column(|r| r.ip.clone()))
        .bind(column(|r| r.ip_group.clone()))
        .bind(text(|r| r.target_kind.clone()))
        .bind(text(|r| r.target_key.clone()))
        .bind(text(|r| r.action.clone()))
        .bind(text(|r| r.detail.clone()))
        .bind(rows.iter().map(|r| r.at).collect::<Vec<i64>>())
        .fetch_all(&mut *conn)
        .await
        .map_err(store_error)?;
    checked.stored(ids)
}

/// Deletes at most `limit` of the oldest audit records at or before
/// `cutoff` (microseconds); returns how many.
pub(crate) async fn delete_older(
    conn: &mut PgConnection,
    cutoff: i64,
    limit: i64,
) -> Result<u64, StorageError> {
    let done = sqlx::query(audit::DELETE_OLDER)
        .bind(cutoff)
        .bind(limit)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected())
}

/// Clears at most `limit` IPs stored at or before `cutoff` (microseconds)
/// in the moderation tables, oldest first, table by table; returns how many.
pub(crate) async fn clear_ips_older(
    conn: &mut PgConnection,
    cutoff: i64,
    limit: u64,
) -> Result<u64, StorageError> {
    let mut left = limit;
    for table in audit::IP_TABLES {
        if left == 0 {
            break;
        }
        let done = sqlx::query(table.clear)
            .bind(cutoff)
            .bind(limit_value(left))
            .execute(&mut *conn)
            .await?;
        left = left.saturating_sub(done.rows_affected());
    }
    Ok(limit - left)
}
