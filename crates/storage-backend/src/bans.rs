//! moderation-misery's `BanStore` on the SQL backends: bans live in the
//! `misery_bans` table of the store's database. The statements and row
//! decoding are shared; [`impl_ban_store!`] instantiates the port for each
//! backend, which differ only in the pools they read and write through.

use chrono::{DateTime, Utc};
use moderation_core::UserId;
use moderation_misery::{BanEntry, BanKind, BanTarget, MiseryError};

use crate::error::StorageError;

/// The columns of a ban row, in [`BanRow`]'s order.
macro_rules! ban_columns {
    () => {
        "id, target_kind, target, kind, reason, created_by, created_at, expires_at"
    };
}

pub(crate) const INSERT_BAN: &str = "INSERT INTO misery_bans (target_kind, target, kind, reason, \
     created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

pub(crate) const DELETE_BAN: &str = concat!(
    "DELETE FROM misery_bans WHERE id = $1 RETURNING ",
    ban_columns!()
);

/// Oldest first; the id breaks ties between bans created in the same microsecond.
pub(crate) const LIST_BANS: &str = concat!(
    "SELECT ",
    ban_columns!(),
    " FROM misery_bans ORDER BY created_at, id"
);

/// One `misery_bans` row as read.
pub(crate) type BanRow = (
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
pub(crate) fn encode_target(target: &BanTarget) -> (&'static str, String) {
    match target {
        BanTarget::User(user) => ("user", user.as_str().to_owned()),
        BanTarget::Network(net) => ("network", net.to_string()),
    }
}

pub(crate) fn decode_target(target_kind: &str, target: &str) -> Result<BanTarget, StorageError> {
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

pub(crate) fn decode_kind(text: &str) -> Result<BanKind, StorageError> {
    [BanKind::Misery, BanKind::Hellban, BanKind::HardBan]
        .into_iter()
        .find(|kind| kind.as_str() == text)
        .ok_or_else(|| StorageError::corrupt("kind", &format!("unknown ban kind `{text}`")))
}

pub(crate) fn decode_time(
    column: &'static str,
    micros: i64,
) -> Result<DateTime<Utc>, StorageError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StorageError::corrupt(column, &format!("{micros} is out of range")))
}

pub(crate) fn decode_ban(row: BanRow) -> Result<BanEntry, StorageError> {
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
pub(crate) fn store_error(error: impl Into<StorageError>) -> MiseryError {
    MiseryError::Store(Box::new(error.into()))
}

/// Implements `moderation_misery::BanStore` for a SQL store type, given the
/// backend's name and the methods returning its write and read pools.
macro_rules! impl_ban_store {
    ($store:ty, $backend:literal, $write:ident, $read:ident) => {
        #[async_trait::async_trait]
        impl moderation_misery::BanStore for $store {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, kind = %ban.kind))]
    async fn add(&self, ban: moderation_misery::NewBan) -> Result<moderation_misery::BanEntry, moderation_misery::MiseryError> {
        self.settle(async move {
            // The store's clock: the same truncated-to-microseconds time the
            // item tables keep, so the returned entry equals what `list` reads.
            let created_at = moderation_core::Clock::now(&moderation_core::SystemClock);
            let (target_kind, target) = $crate::bans::encode_target(&ban.target);
            let id: i64 = sqlx::query_scalar($crate::bans::INSERT_BAN)
                .bind(target_kind)
                .bind(target)
                .bind(ban.kind.as_str())
                .bind(&ban.reason)
                .bind(ban.created_by.as_str())
                .bind($crate::record::to_micros(created_at))
                .bind(ban.expires_at.map($crate::record::to_micros))
                .fetch_all(self.$write())
                .await
                .map(|ids| $crate::port::first_row(ids))
                .map_err($crate::bans::store_error)?
                .ok_or_else(|| $crate::bans::store_error($crate::error::StorageError::corrupt("id", &"the insert returned no id")))?;
            Ok(moderation_misery::BanEntry {
                id: u64::try_from(id).map_err(|e| $crate::bans::store_error($crate::error::StorageError::corrupt("id", &e)))?,
                target: ban.target,
                kind: ban.kind,
                reason: ban.reason,
                created_by: ban.created_by,
                created_at,
                expires_at: ban.expires_at,
            })
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip(self), fields(backend = $backend))]
    async fn remove(&self, id: u64) -> Result<moderation_misery::BanEntry, moderation_misery::MiseryError> {
        self.settle(async move {
            // An id beyond the column's range was never handed out.
            let key = i64::try_from(id).map_err(|_| moderation_misery::MiseryError::UnknownBan { id })?;
            let row: Option<$crate::bans::BanRow> = sqlx::query_as($crate::bans::DELETE_BAN)
                .bind(key)
                .fetch_all(self.$write())
                .await
                .map(|rows| $crate::port::first_row(rows))
                .map_err($crate::bans::store_error)?;
            let row = row.ok_or(moderation_misery::MiseryError::UnknownBan { id })?;
            $crate::bans::decode_ban(row).map_err($crate::bans::store_error)
        })
        .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend))]
    async fn list(&self) -> Result<Vec<moderation_misery::BanEntry>, moderation_misery::MiseryError> {
        self.settle(async move {
            let rows: Vec<$crate::bans::BanRow> = sqlx::query_as($crate::bans::LIST_BANS)
                .fetch_all(self.$read())
                .await
                .map_err($crate::bans::store_error)?;
            rows.into_iter()
                .map(|row| $crate::bans::decode_ban(row).map_err($crate::bans::store_error))
                .collect()
        })
        .await
    }
}
    };
}

pub(crate) use impl_ban_store;
