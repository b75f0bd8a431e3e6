//! moderation-core's community ports for [`SqliteStore`]: actions,
//! sanctions and trust levels live in the `community_*` tables of the same
//! file. Writes go through the store's one writer, whose `BEGIN IMMEDIATE`
//! holds SQLite's single write lock (across processes too), so counting
//! and appending cannot interleave; reads go through its readers.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use moderation_core::community::{
    ActionAttempt, ActionKind, ActionLog, Admission, NewSanction, Sanction, SanctionStore,
    TrustChange, TrustRecord, TrustStore,
};
use moderation_core::{ModerationError, UserId};
use sqlx::{Sqlite, SqliteConnection};

use super::SqliteStore;
use crate::community::{self, SanctionRow, TrustHistoryRow, db, level_value};
use crate::modlog::sqlite_append;
use crate::record::from_micros;
use crate::record::to_micros;

#[async_trait]
impl ActionLog for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", action = %attempt.action))]
    async fn check_and_append(
        &self,
        attempt: &ActionAttempt,
    ) -> Result<Admission, ModerationError> {
        let attempt = attempt.clone();
        self.write(move |conn| Box::pin(async move { check_and_append(conn, &attempt).await }))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite"))]
    async fn count_since(
        &self,
        user: &UserId,
        action: ActionKind,
        since: DateTime<Utc>,
    ) -> Result<u64, ModerationError> {
        let mut conn = self.reader().await?;
        let n: i64 = sqlx::query_scalar(community::COUNT_SINCE)
            .bind(user.as_str())
            .bind(action.as_str())
            .bind(to_micros(since))
            .fetch_one(&mut *conn)
            .await
            .map_err(db)?;
        Ok(community::count(n))
    }
}

#[async_trait]
impl SanctionStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite"))]
    async fn impose(&self, sanction: &NewSanction) -> Result<Sanction, ModerationError> {
        let sanction = sanction.clone();
        self.write(move |conn| Box::pin(impose(conn, sanction)))
            .await
    }

    #[tracing::instrument(level = "debug", skip(self, by), fields(backend = "sqlite"))]
    async fn lift(
        &self,
        id: i64,
        by: Option<&UserId>,
        at: DateTime<Utc>,
    ) -> Result<Sanction, ModerationError> {
        let by = by.cloned();
        self.write(move |conn| Box::pin(lift(conn, id, by, at)))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite"))]
    async fn in_force(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Sanction>, ModerationError> {
        self.sanctions_where(community::SANCTIONS_IN_FORCE, user.as_str(), Some(now))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite"))]
    async fn caused_by(
        &self,
        cause: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Sanction>, ModerationError> {
        self.sanctions_where(community::SANCTIONS_CAUSED_BY, cause, Some(now))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite"))]
    async fn history(&self, user: &UserId) -> Result<Vec<Sanction>, ModerationError> {
        self.sanctions_where(community::SANCTION_HISTORY, user.as_str(), None)
            .await
    }
}

impl SqliteStore {
    /// Sanctions selected by `sql` with one key and, optionally, now.
    async fn sanctions_where(
        &self,
        sql: &'static str,
        key: &str,
        now: Option<DateTime<Utc>>,
    ) -> Result<Vec<Sanction>, ModerationError> {
        let mut select = sqlx::query_as::<_, SanctionRow>(sql).bind(key);
        if let Some(now) = now {
            select = select.bind(to_micros(now));
        }
        let mut conn = self.reader().await?;
        let rows = select.fetch_all(&mut *conn).await.map_err(db)?;
        rows.into_iter().map(community::decode_sanction).collect()
    }
}

#[async_trait]
impl TrustStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite"))]
    async fn trust_record(&self, user: &UserId) -> Result<Option<TrustRecord>, ModerationError> {
        let mut conn = self.reader().await?;
        let row: Option<(i64, bool, i64)> = sqlx::query_as(community::TRUST_RECORD)
            .bind(user.as_str())
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
        row.map(|row| community::decode_trust_record(user, row))
            .transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite"))]
    async fn apply_trust_change(
        &self,
        change: &TrustChange,
    ) -> Result<TrustRecord, ModerationError> {
        let change = change.clone();
        self.write(move |conn| Box::pin(async move { apply_trust_change(conn, &change).await }))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite"))]
    async fn trust_history(&self, user: &UserId) -> Result<Vec<TrustChange>, ModerationError> {
        let mut conn = self.reader().await?;
        let rows: Vec<TrustHistoryRow> = sqlx::query_as(community::TRUST_HISTORY)
            .bind(user.as_str())
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
        rows.into_iter()
            .map(|row| community::decode_trust_change(user, row))
            .collect()
    }
}

/// Checks every limit of `attempt` and, if all pass, appends it with its
/// hosts. Inside the writer's transaction nothing else writes between the
/// counts and the append. A refusal writes nothing.
pub(crate) async fn check_and_append(
    conn: &mut SqliteConnection,
    attempt: &ActionAttempt,
) -> Result<Admission, ModerationError> {
    for index in 0..attempt.checks.len() {
        for query in attempt.queries(index) {
            let matched = if query.nth == 0 {
                Some(attempt.at)
            } else {
                let at: Option<i64> = community::rank_query::<Sqlite>(&attempt.user, &query)
                    .build_query_scalar()
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(db)?;
                at.map(|at| from_micros("at", at)).transpose()?
            };
            if let Some(matched) = matched {
                return Ok(community::refusal(index, &query, matched, attempt.at));
            }
        }
    }
    let at = to_micros(attempt.at);
    let id: i64 = sqlx::query_scalar(community::INSERT_ACTION)
        .bind(attempt.user.as_str())
        .bind(attempt.action.as_str())
        .bind(at)
        .bind(attempt.fingerprint.as_deref())
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    if !attempt.hosts.is_empty() {
        community::insert_hosts::<Sqlite>(id, &attempt.user, &attempt.hosts, at)
            .build()
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    Ok(Admission::Appended)
}

/// Stores `sanction` and its moderation-log entry; returns it stored.
pub(crate) async fn impose(
    conn: &mut SqliteConnection,
    sanction: NewSanction,
) -> Result<Sanction, ModerationError> {
    let id: i64 = sqlx::query_scalar(community::INSERT_SANCTION)
        .bind(sanction.user.as_str())
        .bind(sanction.kind.as_str())
        .bind(&sanction.reason)
        .bind(sanction.by.as_ref().map(UserId::as_str))
        .bind(to_micros(sanction.at))
        .bind(sanction.expires_at.map(to_micros))
        .bind(sanction.cause.as_deref())
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    let stored = Sanction {
        id,
        imposed: sanction,
        lifted_by: None,
        lifted_at: None,
    };
    sqlite_append(conn, &stored.imposed_entry()?).await?;
    Ok(stored)
}

/// Lifts sanction `id` by `by` at `at` and logs it; a sanction lifted
/// before keeps its first lift and logs nothing. Returns the sanction as
/// stored.
///
/// # Errors
/// [`ModerationError::UnknownSanction`] when there is no such sanction.
pub(crate) async fn lift(
    conn: &mut SqliteConnection,
    id: i64,
    by: Option<UserId>,
    at: DateTime<Utc>,
) -> Result<Sanction, ModerationError> {
    let lifted: Option<SanctionRow> = sqlx::query_as(community::LIFT_SANCTION)
        .bind(to_micros(at))
        .bind(by.as_ref().map(UserId::as_str))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    if let Some(row) = lifted {
        let sanction = community::decode_sanction(row)?;
        sqlite_append(conn, &sanction.lifted_entry(by.as_ref(), at)?).await?;
        return Ok(sanction);
    }
    let row: Option<SanctionRow> = sqlx::query_as(community::SANCTION_BY_ID)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    community::decode_sanction(row.ok_or(ModerationError::UnknownSanction { id })?)
}

/// Sets the member's level in force, appends the change to their history
/// and to the moderation log; returns the record in force.
pub(crate) async fn apply_trust_change(
    conn: &mut SqliteConnection,
    change: &TrustChange,
) -> Result<TrustRecord, ModerationError> {
    let at = to_micros(change.at);
    sqlx::query(community::UPSERT_TRUST)
        .bind(change.user.as_str())
        .bind(level_value(change.to))
        .bind(change.locked)
        .bind(at)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    sqlx::query(community::INSERT_TRUST_HISTORY)
        .bind(change.user.as_str())
        .bind(change.from.map(level_value))
        .bind(level_value(change.to))
        .bind(change.locked)
        .bind(change.by.as_ref().map(UserId::as_str))
        .bind(&change.reason)
        .bind(at)
        .execute(&mut *conn)
        .await
        .map_err(db)?;
    sqlite_append(conn, &change.log_entry()?).await?;
    Ok(community::changed_record(change))
}
