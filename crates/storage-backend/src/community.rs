//! moderation-core's community ports on the SQL backends: the
//! [`ActionLog`](moderation_core::community::ActionLog), the
//! [`SanctionStore`](moderation_core::community::SanctionStore) and the
//! [`TrustStore`](moderation_core::community::TrustStore), in the
//! `community_*` tables of the store's database.
//!
//! The statements and row decoding are shared; [`impl_community_stores!`]
//! instantiates the ports for each backend. The backends differ in how
//! check-and-append is made atomic across processes: SQLite's
//! `BEGIN IMMEDIATE` takes the database's single write lock before the
//! first count, while PostgreSQL takes a transaction-scoped advisory lock on
//! the member (`pg_advisory_xact_lock`), so only that member's actions
//! queue behind each other.

use chrono::{DateTime, Utc};
use moderation_core::community::{
    NewSanction, RankFilter, RankQuery, Sanction, SanctionKind, TrustChange, TrustRecord,
};
use moderation_core::{ModerationError, TrustLevel, UserId};

use crate::bans::decode_time;
use crate::error::StorageError;

/// A driver error as the ports' error type.
pub(crate) fn db(error: sqlx::Error) -> ModerationError {
    StorageError::from(error).into()
}

/// The advisory-lock key of a member: FNV-1a of the user id in a namespace
/// of its own, so it never collides with the keys sqlx's migrator uses.
pub(crate) fn lock_key(user: &UserId) -> i64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let hash = b"community_actions:"
        .iter()
        .chain(user.as_str().as_bytes())
        .fold(OFFSET, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(PRIME)
        });
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// The SQL of a rank query. Placeholders appear in bind order: `$1` user,
/// `$2` window start (exclusive), then the filter's values, then the offset
/// (rank - 1). Only placeholders are spliced in. Actions stamped after the
/// attempt (another server's clock runs ahead) count too, so clock skew
/// between servers can never let a member past a limit.
pub(crate) fn rank_sql(filter: &RankFilter<'_>) -> String {
    let (table, condition, values) = match filter {
        RankFilter::Kinds(kinds) => {
            let list: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 3)).collect();
            (
                "community_actions",
                format!("action IN ({})", list.join(", ")),
                kinds.len(),
            )
        }
        RankFilter::Fingerprint(_) => ("community_actions", "fingerprint = $3".to_owned(), 1),
        RankFilter::Host(_) => ("community_action_hosts", "host = $3".to_owned(), 1),
        _ => ("community_actions", "FALSE".to_owned(), 0),
    };
    format!(
        "SELECT at FROM {table} WHERE user_id = $1 AND at > $2 AND {condition} \
         ORDER BY at DESC LIMIT 1 OFFSET ${}",
        values + 3
    )
}

/// The values a rank query binds after `$2`, in order.
pub(crate) fn rank_values<'a>(query: &'a RankQuery<'_>) -> Vec<&'a str> {
    match &query.filter {
        RankFilter::Kinds(kinds) => kinds.iter().map(|k| k.as_str()).collect(),
        RankFilter::Fingerprint(fingerprint) => vec![*fingerprint],
        RankFilter::Host(host) => vec![*host],
        _ => Vec::new(),
    }
}

pub(crate) const INSERT_ACTION: &str = "INSERT INTO community_actions (user_id, action, at, \
     fingerprint) VALUES ($1, $2, $3, $4) RETURNING id";

/// One multi-row insert for all hosts of a post: rows of four placeholders.
pub(crate) fn insert_hosts_sql(hosts: usize) -> String {
    let rows: Vec<String> = (0..hosts)
        .map(|i| {
            let n = i * 4;
            format!("(${}, ${}, ${}, ${})", n + 1, n + 2, n + 3, n + 4)
        })
        .collect();
    format!(
        "INSERT INTO community_action_hosts (action_id, user_id, host, at) VALUES {}",
        rows.join(", ")
    )
}

pub(crate) const COUNT_SINCE: &str =
    "SELECT COUNT(*) FROM community_actions WHERE user_id = $1 AND action = $2 AND at > $3";

macro_rules! sanction_columns {
    () => {
        "id, user_id, kind, reason, imposed_by, at, expires_at, lifted_by, lifted_at, cause"
    };
}

pub(crate) const INSERT_SANCTION: &str = "INSERT INTO community_sanctions (user_id, kind, reason, \
     imposed_by, at, expires_at, cause) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

/// Sets the lift once: a lifted sanction keeps its first lift.
pub(crate) const LIFT_SANCTION: &str = "UPDATE community_sanctions SET lifted_at = $1, \
     lifted_by = $2 WHERE id = $3 AND lifted_at IS NULL";

pub(crate) const SANCTION_BY_ID: &str = concat!(
    "SELECT ",
    sanction_columns!(),
    " FROM community_sanctions WHERE id = $1"
);

pub(crate) const SANCTIONS_IN_FORCE: &str = concat!(
    "SELECT ",
    sanction_columns!(),
    " FROM community_sanctions WHERE user_id = $1 AND lifted_at IS NULL \
     AND (expires_at IS NULL OR expires_at > $2) ORDER BY at, id"
);

pub(crate) const SANCTIONS_CAUSED_BY: &str = concat!(
    "SELECT ",
    sanction_columns!(),
    " FROM community_sanctions WHERE cause = $1 AND lifted_at IS NULL \
     AND (expires_at IS NULL OR expires_at > $2) ORDER BY at, id"
);

pub(crate) const SANCTION_HISTORY: &str = concat!(
    "SELECT ",
    sanction_columns!(),
    " FROM community_sanctions WHERE user_id = $1 ORDER BY at, id"
);

/// One `community_sanctions` row as read.
pub(crate) type SanctionRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<String>,
);

fn user(column: &'static str, text: String) -> Result<UserId, StorageError> {
    UserId::new(text).map_err(|e| StorageError::corrupt(column, &e))
}

fn optional_time(
    column: &'static str,
    micros: Option<i64>,
) -> Result<Option<DateTime<Utc>>, StorageError> {
    micros.map(|m| decode_time(column, m)).transpose()
}

pub(crate) fn decode_sanction(row: SanctionRow) -> Result<Sanction, ModerationError> {
    let (id, user_id, kind, reason, by, at, expires_at, lifted_by, lifted_at, cause) = row;
    Ok(Sanction {
        id,
        imposed: NewSanction {
            user: user("user_id", user_id)?,
            kind: SanctionKind::parse(&kind).map_err(|e| StorageError::corrupt("kind", &e))?,
            reason,
            by: by.map(|by| user("imposed_by", by)).transpose()?,
            at: decode_time("at", at)?,
            expires_at: optional_time("expires_at", expires_at)?,
            cause,
        },
        lifted_by: lifted_by.map(|by| user("lifted_by", by)).transpose()?,
        lifted_at: optional_time("lifted_at", lifted_at)?,
    })
}

pub(crate) const TRUST_RECORD: &str =
    "SELECT level, locked, updated_at FROM community_trust WHERE user_id = $1";

pub(crate) const UPSERT_TRUST: &str = "INSERT INTO community_trust (user_id, level, locked, \
     updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
     level = excluded.level, locked = excluded.locked, updated_at = excluded.updated_at";

pub(crate) const INSERT_TRUST_HISTORY: &str = "INSERT INTO community_trust_history (user_id, \
     from_level, to_level, locked, changed_by, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(crate) const TRUST_HISTORY: &str = "SELECT from_level, to_level, locked, changed_by, reason, \
     at FROM community_trust_history WHERE user_id = $1 ORDER BY id";

fn level(column: &'static str, value: i64) -> Result<TrustLevel, StorageError> {
    u8::try_from(value)
        .map_err(|e| StorageError::corrupt(column, &e))
        .and_then(|v| TrustLevel::try_from(v).map_err(|e| StorageError::corrupt(column, &e)))
}

/// The stored form of a level.
pub(crate) fn level_value(level: TrustLevel) -> i64 {
    i64::from(u8::from(level))
}

pub(crate) fn decode_trust_record(
    user_id: &UserId,
    row: (i64, bool, i64),
) -> Result<TrustRecord, ModerationError> {
    let (stored, locked, updated_at) = row;
    Ok(TrustRecord {
        user: user_id.clone(),
        level: level("level", stored)?,
        locked,
        updated_at: decode_time("updated_at", updated_at)?,
    })
}

/// One `community_trust_history` row as read.
pub(crate) type TrustHistoryRow = (Option<i64>, i64, bool, Option<String>, String, i64);

pub(crate) fn decode_trust_change(
    user_id: &UserId,
    row: TrustHistoryRow,
) -> Result<TrustChange, ModerationError> {
    let (from, to, locked, by, reason, at) = row;
    Ok(TrustChange {
        user: user_id.clone(),
        from: from.map(|f| level("from_level", f)).transpose()?,
        to: level("to_level", to)?,
        locked,
        by: by.map(|by| user("changed_by", by)).transpose()?,
        reason,
        at: decode_time("at", at)?,
    })
}

/// Implements the community ports for a SQL store type, given the
/// backend's name, the method opening a write transaction, the method
/// returning the read pool, the statement (if any) that locks one
/// member's actions inside that transaction, and the backend's
/// moderation-log append.
macro_rules! impl_community_stores {
    ($store:ty, $backend:literal, $begin:ident, $read:ident, $lock:expr, $append:path) => {
        #[async_trait::async_trait]
        impl moderation_core::community::ActionLog for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, action = %attempt.action))]
            async fn check_and_append(
                &self,
                attempt: &moderation_core::community::ActionAttempt,
            ) -> Result<moderation_core::community::Admission, moderation_core::ModerationError> {
                self.settle(async move {
                    use moderation_core::community::{Admission, Breach, RankFilter};
                    use $crate::community::db;
                    let user = attempt.user.as_str();
                    let now = $crate::record::to_micros(attempt.at);
                    let mut tx = self.$begin().await?;
                    let lock: Option<&'static str> = $lock;
                    if let Some(lock) = lock {
                        sqlx::query(lock)
                            .bind($crate::community::lock_key(&attempt.user))
                            .execute(&mut *tx)
                            .await
                            .map_err(db)?;
                    }
                    for index in 0..attempt.checks.len() {
                        for query in attempt.queries(index) {
                            let matched = if query.nth == 0 {
                                Some(attempt.at)
                            } else {
                                let sql = $crate::community::rank_sql(&query.filter);
                                let mut select = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql))
                                    .bind(user)
                                    .bind($crate::record::to_micros(query.since));
                                for value in $crate::community::rank_values(&query) {
                                    select = select.bind(value);
                                }
                                let at = select
                                    .bind(i64::from(query.nth - 1))
                                    .fetch_optional(&mut *tx)
                                    .await
                                    .map_err(db)?;
                                at.map(|at| $crate::bans::decode_time("at", at)).transpose()?
                            };
                            if let Some(matched) = matched {
                                tx.rollback().await.map_err(db)?;
                                return Ok(Admission::Refused(Breach {
                                    check: index,
                                    retry_at: moderation_core::community::retry_at(matched, &query, attempt.at),
                                    host: match query.filter {
                                        RankFilter::Host(host) => Some(host.to_owned()),
                                        _ => None,
                                    },
                                }));
                            }
                        }
                    }
                    let id: i64 = sqlx::query_scalar($crate::community::INSERT_ACTION)
                        .bind(user)
                        .bind(attempt.action.as_str())
                        .bind(now)
                        .bind(attempt.fingerprint.as_deref())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(db)?;
                    if !attempt.hosts.is_empty() {
                        let sql = $crate::community::insert_hosts_sql(attempt.hosts.len());
                        let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
                        for host in &attempt.hosts {
                            insert = insert.bind(id).bind(user).bind(host.as_str()).bind(now);
                        }
                        insert.execute(&mut *tx).await.map_err(db)?;
                    }
                    tx.commit().await.map_err(db)?;
                    Ok(Admission::Appended)
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend))]
            async fn count_since(
                &self,
                user: &moderation_core::UserId,
                action: moderation_core::community::ActionKind,
                since: chrono::DateTime<chrono::Utc>,
            ) -> Result<u64, moderation_core::ModerationError> {
                self.settle(async move {
                    let count: i64 = sqlx::query_scalar($crate::community::COUNT_SINCE)
                        .bind(user.as_str())
                        .bind(action.as_str())
                        .bind($crate::record::to_micros(since))
                        .fetch_one(self.$read())
                        .await
                        .map_err($crate::community::db)?;
                    Ok(u64::try_from(count).unwrap_or(0))
                })
                .await
            }
        }

        #[async_trait::async_trait]
        impl moderation_core::community::SanctionStore for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend))]
            async fn impose(
                &self,
                sanction: &moderation_core::community::NewSanction,
            ) -> Result<moderation_core::community::Sanction, moderation_core::ModerationError> {
                self.settle(async move {
                    let mut tx = self.$begin().await?;
                    let id: i64 = sqlx::query_scalar($crate::community::INSERT_SANCTION)
                        .bind(sanction.user.as_str())
                        .bind(sanction.kind.as_str())
                        .bind(&sanction.reason)
                        .bind(sanction.by.as_ref().map(moderation_core::UserId::as_str))
                        .bind($crate::record::to_micros(sanction.at))
                        .bind(sanction.expires_at.map($crate::record::to_micros))
                        .bind(sanction.cause.as_deref())
                        .fetch_one(&mut *tx)
                        .await
                        .map_err($crate::community::db)?;
                    let stored = moderation_core::community::Sanction {
                        id,
                        imposed: sanction.clone(),
                        lifted_by: None,
                        lifted_at: None,
                    };
                    $append(&mut *tx, &stored.imposed_entry()?).await?;
                    tx.commit().await.map_err($crate::community::db)?;
                    Ok(stored)
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip(self, by), fields(backend = $backend))]
            async fn lift(
                &self,
                id: i64,
                by: Option<&moderation_core::UserId>,
                at: chrono::DateTime<chrono::Utc>,
            ) -> Result<moderation_core::community::Sanction, moderation_core::ModerationError> {
                self.settle(async move {
                    let mut tx = self.$begin().await?;
                    let lifted = sqlx::query($crate::community::LIFT_SANCTION)
                        .bind($crate::record::to_micros(at))
                        .bind(by.map(moderation_core::UserId::as_str))
                        .bind(id)
                        .execute(&mut *tx)
                        .await
                        .map_err($crate::community::db)?
                        .rows_affected();
                    let row: Option<$crate::community::SanctionRow> =
                        sqlx::query_as($crate::community::SANCTION_BY_ID)
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err($crate::community::db)?;
                    let Some(row) = row else {
                        tx.rollback().await.map_err($crate::community::db)?;
                        return Err(moderation_core::ModerationError::UnknownSanction { id });
                    };
                    let sanction = $crate::community::decode_sanction(row)?;
                    // Only the first lift is logged: a second one changes nothing.
                    if lifted > 0 {
                        $append(&mut *tx, &sanction.lifted_entry(by, at)?).await?;
                    }
                    tx.commit().await.map_err($crate::community::db)?;
                    Ok(sanction)
                })
                .await
            }

            async fn in_force(
                &self,
                user: &moderation_core::UserId,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<moderation_core::community::Sanction>, moderation_core::ModerationError> {
                self.settle(async move {
                    self.sanctions_where($crate::community::SANCTIONS_IN_FORCE, user.as_str(), Some(now))
                        .await
                })
                .await
            }

            async fn caused_by(
                &self,
                cause: &str,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<moderation_core::community::Sanction>, moderation_core::ModerationError> {
                self.settle(async move {
                    self.sanctions_where($crate::community::SANCTIONS_CAUSED_BY, cause, Some(now))
                        .await
                })
                .await
            }

            async fn history(
                &self,
                user: &moderation_core::UserId,
            ) -> Result<Vec<moderation_core::community::Sanction>, moderation_core::ModerationError> {
                self.settle(async move {
                    self.sanctions_where($crate::community::SANCTION_HISTORY, user.as_str(), None)
                        .await
                })
                .await
            }
        }

        impl $store {
            /// Sanctions selected by `sql` with one key and, optionally, now.
            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend))]
            async fn sanctions_where(
                &self,
                sql: &'static str,
                key: &str,
                now: Option<chrono::DateTime<chrono::Utc>>,
            ) -> Result<Vec<moderation_core::community::Sanction>, moderation_core::ModerationError> {
                let mut select = sqlx::query_as::<_, $crate::community::SanctionRow>(sql).bind(key);
                if let Some(now) = now {
                    select = select.bind($crate::record::to_micros(now));
                }
                let rows = select
                    .fetch_all(self.$read())
                    .await
                    .map_err($crate::community::db)?;
                rows.into_iter().map($crate::community::decode_sanction).collect()
            }
        }

        #[async_trait::async_trait]
        impl moderation_core::community::TrustStore for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend))]
            async fn trust_record(
                &self,
                user: &moderation_core::UserId,
            ) -> Result<Option<moderation_core::community::TrustRecord>, moderation_core::ModerationError> {
                self.settle(async move {
                    let row: Option<(i64, bool, i64)> = sqlx::query_as($crate::community::TRUST_RECORD)
                        .bind(user.as_str())
                        .fetch_optional(self.$read())
                        .await
                        .map_err($crate::community::db)?;
                    row.map(|row| $crate::community::decode_trust_record(user, row)).transpose()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend))]
            async fn apply_trust_change(
                &self,
                change: &moderation_core::community::TrustChange,
            ) -> Result<moderation_core::community::TrustRecord, moderation_core::ModerationError> {
                self.settle(async move {
                    use $crate::community::{db, level_value};
                    let at = $crate::record::to_micros(change.at);
                    let mut tx = self.$begin().await?;
                    sqlx::query($crate::community::UPSERT_TRUST)
                        .bind(change.user.as_str())
                        .bind(level_value(change.to))
                        .bind(change.locked)
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    sqlx::query($crate::community::INSERT_TRUST_HISTORY)
                        .bind(change.user.as_str())
                        .bind(change.from.map(level_value))
                        .bind(level_value(change.to))
                        .bind(change.locked)
                        .bind(change.by.as_ref().map(moderation_core::UserId::as_str))
                        .bind(&change.reason)
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                        .map_err(db)?;
                    $append(&mut *tx, &change.log_entry()?).await?;
                    tx.commit().await.map_err(db)?;
                    Ok(moderation_core::community::TrustRecord {
                        user: change.user.clone(),
                        level: change.to,
                        locked: change.locked,
                        updated_at: change.at,
                    })
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend))]
            async fn trust_history(
                &self,
                user: &moderation_core::UserId,
            ) -> Result<Vec<moderation_core::community::TrustChange>, moderation_core::ModerationError> {
                self.settle(async move {
                    let rows: Vec<$crate::community::TrustHistoryRow> =
                        sqlx::query_as($crate::community::TRUST_HISTORY)
                            .bind(user.as_str())
                            .fetch_all(self.$read())
                            .await
                            .map_err($crate::community::db)?;
                    rows.into_iter()
                        .map(|row| $crate::community::decode_trust_change(user, row))
                        .collect()
                })
                .await
            }
        }
    };
}

pub(crate) use impl_community_stores;
