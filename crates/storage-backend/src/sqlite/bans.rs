//! moderation-misery's `BanStore` for [`SqliteStore`](super::SqliteStore):
//! bans live in the `misery_bans` table of the same database file.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use moderation_core::{Clock, SystemClock, UserId};
use moderation_misery::{BanEntry, BanKind, BanStore, BanTarget, MiseryError, NewBan};

use super::SqliteStore;
use crate::error::StorageError;
use crate::record::to_micros;

/// The columns of a ban row, in [`BanRow`]'s order.
macro_rules! ban_columns {
    () => {
        "id, target_kind, target, kind, reason, created_by, created_at, expires_at"
    };
}

const INSERT_BAN: &str = "INSERT INTO misery_bans (target_kind, target, kind, reason, \
     created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

const DELETE_BAN: &str = concat!(
    "DELETE FROM misery_bans WHERE id = $1 RETURNING ",
    ban_columns!()
);

/// Oldest first; the id breaks ties between bans created in the same microsecond.
const LIST_BANS: &str = concat!(
    "SELECT ",
    ban_columns!(),
    " FROM misery_bans ORDER BY created_at, id"
);

/// One `misery_bans` row as read.
type BanRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<i64>,
);

/// The stored `(target_kind, target)` of a target: the user id as given, or
/// the network in `IpNet`'s canonical CIDR text, which parses back equal.
fn encode_target(target: &BanTarget) -> (&'static str, String) {
    match target {
        BanTarget::User(user) => ("user", user.as_str().to_owned()),
        BanTarget::Network(net) => ("network", net.to_string()),
    }
}

fn decode_target(target_kind: &str, target: &str) -> Result<BanTarget, StorageError> {
    match target_kind {
        "user" => UserId::new(target)
            .map(BanTarget::User)
            .map_err(|e| StorageError::corrupt("target", &e)),
        "network" => target
            .parse()
            .map(BanTarget::Network)
            .map_err(|e| StorageError::corrupt("target", &e)),
        other => Err(StorageError::corrupt(
            "target_kind",
            &format!("unknown target kind `{other}`"),
        )),
    }
}

fn decode_kind(text: &str) -> Result<BanKind, StorageError> {
    [BanKind::Misery, BanKind::Hellban, BanKind::HardBan]
        .into_iter()
        .find(|kind| kind.as_str() == text)
        .ok_or_else(|| StorageError::corrupt("kind", &format!("unknown ban kind `{text}`")))
}

fn decode_time(column: &'static str, micros: i64) -> Result<DateTime<Utc>, StorageError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StorageError::corrupt(column, &format!("{micros} is out of range")))
}

fn decode_ban(row: BanRow) -> Result<BanEntry, StorageError> {
    let (id, target_kind, target, kind, reason, created_by, created_at, expires_at) = row;
    Ok(BanEntry {
        id: u64::try_from(id).map_err(|e| StorageError::corrupt("id", &e))?,
        target: decode_target(&target_kind, &target)?,
        kind: decode_kind(&kind)?,
        reason,
        created_by: UserId::new(created_by).map_err(|e| StorageError::corrupt("created_by", &e))?,
        created_at: decode_time("created_at", created_at)?,
        expires_at: expires_at
            .map(|micros| decode_time("expires_at", micros))
            .transpose()?,
    })
}

/// Database failures and unreadable rows reach callers as
/// [`MiseryError::Store`], which keeps the previous ban list in force.
fn store_error(error: impl Into<StorageError>) -> MiseryError {
    MiseryError::Store(Box::new(error.into()))
}

#[async_trait]
impl BanStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", kind = %ban.kind))]
    async fn add(&self, ban: NewBan) -> Result<BanEntry, MiseryError> {
        // The store's clock: the same truncated-to-microseconds time the
        // item tables keep, so the returned entry equals what `list` reads.
        let created_at = SystemClock.now();
        let (target_kind, target) = encode_target(&ban.target);
        let id: i64 = sqlx::query_scalar(INSERT_BAN)
            .bind(target_kind)
            .bind(target)
            .bind(ban.kind.as_str())
            .bind(&ban.reason)
            .bind(ban.created_by.as_str())
            .bind(to_micros(created_at))
            .bind(ban.expires_at.map(to_micros))
            .fetch_one(self.write_pool())
            .await
            .map_err(store_error)?;
        Ok(BanEntry {
            id: u64::try_from(id).map_err(|e| store_error(StorageError::corrupt("id", &e)))?,
            target: ban.target,
            kind: ban.kind,
            reason: ban.reason,
            created_by: ban.created_by,
            created_at,
            expires_at: ban.expires_at,
        })
    }

    #[tracing::instrument(level = "debug", skip(self), fields(backend = "sqlite"))]
    async fn remove(&self, id: u64) -> Result<BanEntry, MiseryError> {
        // An id beyond the column's range was never handed out.
        let key = i64::try_from(id).map_err(|_| MiseryError::UnknownBan { id })?;
        let row: Option<BanRow> = sqlx::query_as(DELETE_BAN)
            .bind(key)
            .fetch_optional(self.write_pool())
            .await
            .map_err(store_error)?;
        let row = row.ok_or(MiseryError::UnknownBan { id })?;
        decode_ban(row).map_err(store_error)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite"))]
    async fn list(&self) -> Result<Vec<BanEntry>, MiseryError> {
        let rows: Vec<BanRow> = sqlx::query_as(LIST_BANS)
            .fetch_all(self.read_pool())
            .await
            .map_err(store_error)?;
        rows.into_iter()
            .map(|row| decode_ban(row).map_err(store_error))
            .collect()
    }
}
