//! What both SQL backends share for moderation-core's community ports: the
//! [`ActionLog`](moderation_core::community::ActionLog), the
//! [`SanctionStore`](moderation_core::community::SanctionStore) and the
//! [`TrustStore`](moderation_core::community::TrustStore), in the
//! `community_*` tables of the store's database. The statements, the rank
//! queries and the row decoding are here; `sqlite::community` and
//! `postgres::community` run them on their own connections.
//!
//! Check-and-append must be atomic across processes. On SQLite the writer's
//! `BEGIN IMMEDIATE` holds the database's single write lock before the first
//! count; PostgreSQL transactions run side by side, so there the step first
//! takes a transaction-scoped advisory lock on the member ([`lock_key`]):
//! only that member's actions queue behind each other. Row locks cannot do
//! it: the rows that would break a limit do not exist yet.

use chrono::{DateTime, Utc};
use moderation_core::community::{
    Admission, Breach, NewSanction, RankFilter, RankQuery, Sanction, SanctionKind, TrustChange,
    TrustRecord,
};
use moderation_core::{ModerationError, TrustLevel, UserId};
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::error::StorageError;
use crate::record::from_micros;
use crate::record::to_micros;

/// A driver error as the ports' error type.
pub(crate) fn db(error: sqlx::Error) -> ModerationError {
    StorageError::from(error).into()
}

/// Takes the member's advisory lock until the transaction ends (PostgreSQL).
#[cfg(feature = "postgres")]
pub(crate) const LOCK_MEMBER: &str = "SELECT pg_advisory_xact_lock($1)";

/// The advisory-lock key of a member: FNV-1a of the user id in a namespace
/// of its own, so it never collides with the keys sqlx's migrator uses.
#[cfg(feature = "postgres")]
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

/// The rank query of `query` for `user`: the time of the member's
/// `query.nth` most recent matching action after `query.since`, if there is
/// one. Actions stamped after the attempt (another server's clock runs
/// ahead) count too, so clock skew between servers can never let a member
/// past a limit. Each filter reads one index: `(user_id, action, at)`,
/// `(user_id, fingerprint, at)` or `(user_id, host, at)`.
pub(crate) fn rank_query<DB>(user: &UserId, query: &RankQuery<'_>) -> QueryBuilder<DB>
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    let table = match query.filter {
        RankFilter::Host(_) => "community_action_hosts",
        _ => "community_actions",
    };
    let mut sql = QueryBuilder::new("SELECT at FROM ");
    sql.push(table)
        .push(" WHERE user_id = ")
        .push_bind(user.as_str().to_owned())
        .push(" AND at > ")
        .push_bind(to_micros(query.since))
        .push(" AND ");
    match &query.filter {
        RankFilter::Kinds(kinds) if !kinds.is_empty() => {
            sql.push("action IN (");
            let mut list = sql.separated(", ");
            for kind in *kinds {
                list.push_bind(kind.as_str().to_owned());
            }
            sql.push(")");
        }
        RankFilter::Fingerprint(fingerprint) => {
            sql.push("fingerprint = ")
                .push_bind((*fingerprint).to_owned());
        }
        RankFilter::Host(host) => {
            sql.push("host = ").push_bind((*host).to_owned());
        }
        // No kinds, or a filter this library does not know: nothing matches.
        _ => {
            sql.push("FALSE");
        }
    }
    sql.push(" ORDER BY at DESC LIMIT 1 OFFSET ")
        .push_bind(i64::from(query.nth.saturating_sub(1)));
    sql
}

/// The refusal of check `check` by `query`, whose rank matched an action
/// at `matched` (the attempt's own time for a cap of 0).
pub(crate) fn refusal(
    check: usize,
    query: &RankQuery<'_>,
    matched: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Admission {
    Admission::Refused(Breach {
        check,
        retry_at: moderation_core::community::retry_at(matched, query, now),
        host: match query.filter {
            RankFilter::Host(host) => Some(host.to_owned()),
            _ => None,
        },
    })
}

/// Appends one action; returns its id.
pub(crate) const INSERT_ACTION: &str = "INSERT INTO community_actions (user_id, action, at, \
     fingerprint) VALUES ($1, $2, $3, $4) RETURNING id";

/// One insert for all hosts of a post (at least one), every value bound.
pub(crate) fn insert_hosts<DB>(
    action_id: i64,
    user: &UserId,
    hosts: &[String],
    at: i64,
) -> QueryBuilder<DB>
where
    DB: Database,
    for<'t> String: Encode<'t, DB> + Type<DB>,
    for<'t> i64: Encode<'t, DB> + Type<DB>,
{
    let mut sql =
        QueryBuilder::new("INSERT INTO community_action_hosts (action_id, user_id, host, at) ");
    sql.push_values(hosts, |mut row, host| {
        row.push_bind(action_id)
            .push_bind(user.as_str().to_owned())
            .push_bind(host.clone())
            .push_bind(at);
    });
    sql
}

/// How many actions of one kind a member took after a time.
pub(crate) const COUNT_SINCE: &str =
    "SELECT COUNT(*) FROM community_actions WHERE user_id = $1 AND action = $2 AND at > $3";

/// Stores a sanction; returns its id.
pub(crate) const INSERT_SANCTION: &str = "INSERT INTO community_sanctions (user_id, kind, reason, \
     imposed_by, at, expires_at, cause) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

/// Sets the lift once: a lifted sanction keeps its first lift. Returns the
/// lifted row, none when it was lifted before or does not exist.
pub(crate) const LIFT_SANCTION: &str = "UPDATE community_sanctions SET lifted_at = $1, \
     lifted_by = $2 WHERE id = $3 AND lifted_at IS NULL RETURNING id, user_id, kind, reason, \
     imposed_by, at, expires_at, lifted_by, lifted_at, cause";

/// One sanction by id.
pub(crate) const SANCTION_BY_ID: &str = "SELECT id, user_id, kind, reason, imposed_by, at, \
     expires_at, lifted_by, lifted_at, cause FROM community_sanctions WHERE id = $1";

/// A member's sanctions in force at `$2`, oldest first.
pub(crate) const SANCTIONS_IN_FORCE: &str = "SELECT id, user_id, kind, reason, imposed_by, at, \
     expires_at, lifted_by, lifted_at, cause FROM community_sanctions WHERE user_id = $1 \
     AND lifted_at IS NULL AND (expires_at IS NULL OR expires_at > $2) ORDER BY at, id";

/// The sanctions in force at `$2` that a review item caused, oldest first.
pub(crate) const SANCTIONS_CAUSED_BY: &str = "SELECT id, user_id, kind, reason, imposed_by, \
     at, expires_at, lifted_by, lifted_at, cause FROM community_sanctions WHERE cause = $1 \
     AND lifted_at IS NULL AND (expires_at IS NULL OR expires_at > $2) ORDER BY at, id";

/// Every sanction of a member, oldest first.
pub(crate) const SANCTION_HISTORY: &str = "SELECT id, user_id, kind, reason, imposed_by, at, \
     expires_at, lifted_by, lifted_at, cause FROM community_sanctions WHERE user_id = $1 \
     ORDER BY at, id";

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
    micros.map(|m| from_micros(column, m)).transpose()
}

/// Reads a sanction row back, turning anything this library did not
/// write into a typed error.
pub(crate) fn decode_sanction(row: SanctionRow) -> Result<Sanction, ModerationError> {
    let (id, user_id, kind, reason, by, at, expires_at, lifted_by, lifted_at, cause) = row;
    Ok(Sanction {
        id,
        imposed: NewSanction {
            user: user("user_id", user_id)?,
            kind: SanctionKind::parse(&kind).map_err(|e| StorageError::corrupt("kind", &e))?,
            reason,
            by: by.map(|by| user("imposed_by", by)).transpose()?,
            at: from_micros("at", at)?,
            expires_at: optional_time("expires_at", expires_at)?,
            cause,
        },
        lifted_by: lifted_by.map(|by| user("lifted_by", by)).transpose()?,
        lifted_at: optional_time("lifted_at", lifted_at)?,
    })
}

/// A member's level in force.
pub(crate) const TRUST_RECORD: &str =
    "SELECT level, locked, updated_at FROM community_trust WHERE user_id = $1";

/// Sets a member's level in force.
pub(crate) const UPSERT_TRUST: &str = "INSERT INTO community_trust (user_id, level, locked, \
     updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
     level = excluded.level, locked = excluded.locked, updated_at = excluded.updated_at";

/// Appends a change to a member's trust history.
pub(crate) const INSERT_TRUST_HISTORY: &str = "INSERT INTO community_trust_history (user_id, \
     from_level, to_level, locked, changed_by, reason, at) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// A member's trust history, oldest first.
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

/// Reads a trust row of `user_id` back.
pub(crate) fn decode_trust_record(
    user_id: &UserId,
    row: (i64, bool, i64),
) -> Result<TrustRecord, ModerationError> {
    let (stored, locked, updated_at) = row;
    Ok(TrustRecord {
        user: user_id.clone(),
        level: level("level", stored)?,
        locked,
        updated_at: from_micros("updated_at", updated_at)?,
    })
}

/// One `community_trust_history` row as read.
pub(crate) type TrustHistoryRow = (Option<i64>, i64, bool, Option<String>, String, i64);

/// Reads a trust history row of `user_id` back.
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
        at: from_micros("at", at)?,
    })
}

/// The record a change leaves in force.
pub(crate) fn changed_record(change: &TrustChange) -> TrustRecord {
    TrustRecord {
        user: change.user.clone(),
        level: change.to,
        locked: change.locked,
        updated_at: change.at,
    }
}

/// A count column as an unsigned number.
pub(crate) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}
