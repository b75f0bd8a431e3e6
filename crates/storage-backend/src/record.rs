//! Conversions between the port's types and the column values both SQL
//! backends store (text keys, JSON text, integer microseconds).
//!
//! Writes are encoded and checked here before any SQL runs, so invalid input
//! never reaches a transaction; reads are decoded here so that a value the
//! library did not write becomes a typed error instead of a panic.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use moderation_core::{
    AuthorKey, Cursor, HiddenAuthors, ItemId, ItemStatus, Kind, LogAction, LogEntry,
    ModerationError, NewItem, NewLogEntry, ObjectId, ObjectRef, Reason, StoredItem, UserId,
};
use uuid::Uuid;

use crate::error::StorageError;
use crate::options::StoreLimits;

/// Microseconds since the Unix epoch; the stored form of every time.
pub(crate) fn to_micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn from_micros(column: &'static str, micros: i64) -> Result<DateTime<Utc>, StorageError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StorageError::corrupt(column, &format!("{micros} is out of range")))
}

/// The stored key of an object id, checked: `ObjectId::Str` can be built
/// without validation, so the key must parse back to the same id.
pub(crate) fn object_key(id: &ObjectId) -> Result<String, ModerationError> {
    let key = id.to_key();
    if ObjectId::from_key(&key)? == *id {
        Ok(key)
    } else {
        Err(ModerationError::InvalidId { id: id.to_string() })
    }
}

/// An author key, checked the same way as object keys: an anonymous identity
/// must be a valid id text (no control characters, at most 256 bytes).
pub(crate) fn author_key(author: &AuthorKey) -> Result<String, ModerationError> {
    if let AuthorKey::Identity(identity) = author {
        UserId::new(identity.as_str())?;
    }
    Ok(author.to_key())
}

/// The authors a listing hides, as one JSON array of author keys; `None`
/// when it hides nobody (no condition at all then).
pub(crate) fn hidden_authors(hidden: &HiddenAuthors) -> Result<Option<String>, ModerationError> {
    let keys = hidden
        .effective()
        .map(author_key)
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Ok(None);
    }
    Ok(Some(serde_json::to_string(&keys)?))
}

/// A [`NewItem`] as column values.
#[derive(Debug)]
pub(crate) struct EncodedItem {
    pub(crate) kind: String,
    pub(crate) object_key: String,
    pub(crate) parent_kind: Option<String>,
    pub(crate) parent_key: Option<String>,
    pub(crate) author_key: Option<String>,
    pub(crate) status: &'static str,
    pub(crate) reasons: String,
    pub(crate) payload: String,
    pub(crate) fingerprint: Option<String>,
    pub(crate) ip: Option<String>,
    pub(crate) created_at: i64,
}

impl EncodedItem {
    /// Checks and encodes an item.
    ///
    /// # Errors
    /// `InvalidId` for a malformed object, parent or author id,
    /// `PayloadTooLarge` over the limit, `Serde` if the reasons do not serialise.
    pub(crate) fn new(item: &NewItem, limits: StoreLimits) -> Result<Self, ModerationError> {
        let payload = serde_json::to_string(&item.payload)?;
        if payload.len() > limits.max_payload_bytes {
            return Err(ModerationError::PayloadTooLarge {
                len: payload.len(),
                max: limits.max_payload_bytes,
            });
        }
        let (parent_kind, parent_key) = match &item.parent {
            Some(parent) => (
                Some(parent.kind.as_str().to_owned()),
                Some(object_key(&parent.id)?),
            ),
            None => (None, None),
        };
        Ok(Self {
            kind: item.object.kind.as_str().to_owned(),
            object_key: object_key(&item.object.id)?,
            parent_kind,
            parent_key,
            author_key: item.author.as_ref().map(author_key).transpose()?,
            status: item.status.as_str(),
            reasons: serde_json::to_string(&item.reasons)?,
            payload,
            fingerprint: item.fingerprint.clone(),
            ip: item.ip.map(|ip| ip.to_string()),
            created_at: to_micros(item.created_at),
        })
    }
}

/// A [`NewLogEntry`] as column values.
#[derive(Debug)]
pub(crate) struct EncodedLog {
    pub(crate) action: &'static str,
    pub(crate) actor: Option<String>,
    pub(crate) reason: Option<String>,
    pub(crate) detail: String,
    pub(crate) ip: Option<String>,
    pub(crate) from_status: Option<&'static str>,
    pub(crate) to_status: Option<&'static str>,
    pub(crate) bulk: Option<String>,
    pub(crate) at: i64,
    /// A moderator action, which the moderation log gets too
    /// ([`moderation_core::LogAction::moderation_log_verb`]).
    pub(crate) staff: bool,
}

impl EncodedLog {
    /// Encodes a log entry.
    ///
    /// # Errors
    /// `Serde` if the detail does not serialise.
    pub(crate) fn new(log: &NewLogEntry) -> Result<Self, ModerationError> {
        Ok(Self {
            action: log.action.as_str(),
            actor: log.actor.as_ref().map(|a| a.as_str().to_owned()),
            reason: log.reason.clone(),
            detail: serde_json::to_string(&log.detail)?,
            ip: log.ip.map(|ip| ip.to_string()),
            from_status: log.from_status.map(ItemStatus::as_str),
            to_status: log.to_status.map(ItemStatus::as_str),
            bulk: log.bulk.map(|b| b.hyphenated().to_string()),
            at: to_micros(log.at),
            staff: log.action.moderation_log_verb().is_some(),
        })
    }
}

/// One row of `moderation_items`, as both drivers return it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ItemRow {
    id: i64,
    kind: String,
    object_key: String,
    parent_kind: Option<String>,
    parent_key: Option<String>,
    author_key: Option<String>,
    status: String,
    reasons: String,
    payload: String,
    fingerprint: Option<String>,
    ip: Option<String>,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

fn parse_ip(column: &'static str, text: Option<String>) -> Result<Option<IpAddr>, StorageError> {
    text.map(|t| t.parse().map_err(|e| StorageError::corrupt(column, &e)))
        .transpose()
}

fn parse_status(column: &'static str, text: &str) -> Result<ItemStatus, StorageError> {
    ItemStatus::parse(text)
        .ok_or_else(|| StorageError::corrupt(column, &format!("unknown status `{text}`")))
}

fn parse_author(text: &str) -> Result<AuthorKey, ModerationError> {
    match text.split_once(':') {
        Some(("u", id)) => Ok(AuthorKey::User(UserId::new(id)?)),
        Some(("e", identity)) => Ok(AuthorKey::Identity(identity.to_owned())),
        _ => Err(ModerationError::InvalidId {
            id: text.to_owned(),
        }),
    }
}

impl ItemRow {
    /// Decodes the row. A malformed kind or id keeps its typed error
    /// (`InvalidKind`, `InvalidId`); other unreadable values are `Store`
    /// errors naming the column.
    pub(crate) fn decode(self) -> Result<StoredItem, ModerationError> {
        let parent = match (self.parent_kind, self.parent_key) {
            (Some(kind), Some(key)) => {
                Some(ObjectRef::new(Kind::new(kind)?, ObjectId::from_key(&key)?))
            }
            (None, None) => None,
            _ => {
                return Err(StorageError::corrupt(
                    "parent_kind",
                    &"parent kind and key must be both set or both null",
                )
                .into());
            }
        };
        let reasons: Vec<Reason> = serde_json::from_str(&self.reasons)
            .map_err(|e| StorageError::corrupt("reasons", &e))?;
        Ok(StoredItem {
            id: ItemId(self.id),
            object: ObjectRef::new(Kind::new(self.kind)?, ObjectId::from_key(&self.object_key)?),
            parent,
            author: self.author_key.as_deref().map(parse_author).transpose()?,
            status: parse_status("status", &self.status)?,
            reasons,
            payload: serde_json::from_str(&self.payload)
                .map_err(|e| StorageError::corrupt("payload", &e))?,
            fingerprint: self.fingerprint,
            ip: parse_ip("ip", self.ip)?,
            created_at: from_micros("created_at", self.created_at)?,
            updated_at: from_micros("updated_at", self.updated_at)?,
            version: self.version,
        })
    }
}

/// Decodes many rows, stopping at the first bad one.
pub(crate) fn decode_items(rows: Vec<ItemRow>) -> Result<Vec<StoredItem>, ModerationError> {
    rows.into_iter().map(ItemRow::decode).collect()
}

/// The stored item right after an insert: everything but the id is known,
/// so no read-back query is needed.
pub(crate) fn inserted(id: i64, item: NewItem) -> StoredItem {
    StoredItem {
        id: ItemId(id),
        object: item.object,
        parent: item.parent,
        author: item.author,
        status: item.status,
        reasons: item.reasons,
        payload: item.payload,
        fingerprint: item.fingerprint,
        ip: item.ip,
        created_at: item.created_at,
        updated_at: item.created_at,
        version: 1,
    }
}

/// One row of `moderation_item_log`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LogRow {
    id: i64,
    item_id: i64,
    action: String,
    actor: Option<String>,
    reason: Option<String>,
    detail: String,
    ip: Option<String>,
    from_status: Option<String>,
    to_status: Option<String>,
    bulk_id: Option<String>,
    at: i64,
}

impl LogRow {
    /// Decodes the row.
    pub(crate) fn decode(self) -> Result<LogEntry, ModerationError> {
        let action = LogAction::parse(&self.action).ok_or_else(|| {
            StorageError::corrupt("action", &format!("unknown action `{}`", self.action))
        })?;
        Ok(LogEntry {
            id: self.id,
            item: ItemId(self.item_id),
            action,
            actor: self.actor.map(UserId::new).transpose()?,
            reason: self.reason,
            detail: serde_json::from_str(&self.detail)
                .map_err(|e| StorageError::corrupt("detail", &e))?,
            ip: parse_ip("ip", self.ip)?,
            from_status: self
                .from_status
                .as_deref()
                .map(|s| parse_status("from_status", s))
                .transpose()?,
            to_status: self
                .to_status
                .as_deref()
                .map(|s| parse_status("to_status", s))
                .transpose()?,
            bulk: self
                .bulk_id
                .as_deref()
                .map(|b| Uuid::parse_str(b).map_err(|e| StorageError::corrupt("bulk_id", &e)))
                .transpose()?,
            at: from_micros("at", self.at)?,
        })
    }
}

/// The cursor's stored form.
pub(crate) fn cursor_values(cursor: &Cursor) -> (i64, i64) {
    (to_micros(cursor.created_at), cursor.id.0)
}
