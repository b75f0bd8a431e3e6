//! What both SQL backends share for moderation-misery's `BanStore`: bans
//! live in the `misery_bans` table of the store's database. The statements,
//! the values bound and the row decoding are here; `sqlite::bans` and
//! `postgres::bans` run them on their own connections.

use chrono::{DateTime, Utc};
use moderation_core::UserId;
use moderation_misery::{BanEntry, BanKind, BanTarget, MiseryError, NewBan};

use crate::error::StorageError;

pub(crate) const INSERT_BAN: &str = "INSERT INTO misery_bans (target_kind, target, kind, reason, \
     created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

/// Returns the columns of a [`BanRow`], in its order.
pub(crate) const DELETE_BAN: &str = "DELETE FROM misery_bans WHERE id = $1 \
     RETURNING id, target_kind, target, kind, reason, created_by, created_at, expires_at";

/// Oldest first; the id breaks ties between bans created in the same microsecond.
/// The columns of a [`BanRow`], in its order.
pub(crate) const LIST_BANS: &str = "SELECT id, target_kind, target, kind, reason, created_by, \
     created_at, expires_at FROM misery_bans ORDER BY created_at, id";

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

pub(crate) fn decode_ban(row: BanRow) -> Result<BanEntry, StorageError> {
    let (id, target_kind, target, kind, reason, created_by, created_at, expires_at) = row;
    Ok(BanEntry {
        id: u64::try_from(id).map_err(|e| StorageError::corrupt("id", &e))?,
        target: decode_target(&target_kind, &target)?,
        kind: decode_kind(&kind)?,
        reason,
        created_by: UserId::new(created_by).map_err(|e| StorageError::corrupt("created_by", &e))?,
        created_at: crate::record::from_micros("created_at", created_at)?,
        expires_at: expires_at
            .map(|micros| crate::record::from_micros("expires_at", micros))
            .transpose()?,
    })
}

/// The values [`INSERT_BAN`] binds, in its order.
pub(crate) type BanValues = (
    &'static str,
    String,
    &'static str,
    String,
    String,
    i64,
    Option<i64>,
);

/// `ban` as [`INSERT_BAN`] binds it, created at `created_at`.
pub(crate) fn encode_ban(ban: &NewBan, created_at: DateTime<Utc>) -> BanValues {
    let (target_kind, target) = encode_target(&ban.target);
    (
        target_kind,
        target,
        ban.kind.as_str(),
        ban.reason.clone(),
        ban.created_by.as_str().to_owned(),
        crate::record::to_micros(created_at),
        ban.expires_at.map(crate::record::to_micros),
    )
}

/// The entry [`INSERT_BAN`] stored for `ban`, given the id it returned.
pub(crate) fn inserted_ban(
    id: i64,
    ban: NewBan,
    created_at: DateTime<Utc>,
) -> Result<BanEntry, MiseryError> {
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

/// The store's clock for a ban's creation: the same truncated-to-microseconds
/// time the item tables keep, so the returned entry equals what `list` reads.
pub(crate) fn now() -> DateTime<Utc> {
    moderation_core::Clock::now(&moderation_core::SystemClock)
}

/// The row key of ban `id`: an id beyond the column's range was never
/// handed out.
pub(crate) fn key(id: u64) -> Result<i64, MiseryError> {
    i64::try_from(id).map_err(|_| MiseryError::UnknownBan { id })
}

/// Decodes every row of [`LIST_BANS`].
pub(crate) fn decode_bans(rows: Vec<BanRow>) -> Result<Vec<BanEntry>, MiseryError> {
    rows.into_iter()
        .map(|row| decode_ban(row).map_err(store_error))
        .collect()
}

/// Database failures and unreadable rows reach callers as
/// [`MiseryError::Store`], which keeps the previous ban list in force.
pub(crate) fn store_error(error: impl Into<StorageError>) -> MiseryError {
    MiseryError::Store(Box::new(error.into()))
}
