//! Audit records: who did what, from which IP, on which object, when.

use chrono::{DateTime, Utc};
use moderation_core::{Cursor, ItemId, ModerationError, ObjectId, ObjectRef, UserId, check_action};
use serde::{Deserialize, Serialize};

use crate::ip_key::RecordedIp;

/// A record to store, with the privacy mode already applied to its IP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewAuditRecord {
    /// Who acted; `None` for an anonymous visitor (recorded only when the
    /// trail is configured to key anonymous actions by IP).
    pub actor: Option<UserId>,
    /// From where.
    pub ip: Option<RecordedIp>,
    /// On what.
    pub target: ObjectRef,
    /// What, as a verb: `post.create`, `post.edit`, `user.register`...
    pub action: String,
    /// Structured detail (`null` when there is none).
    pub detail: serde_json::Value,
    /// When, from the trail's [`Clock`](moderation_core::Clock).
    pub at: DateTime<Utc>,
}

impl NewAuditRecord {
    /// Checks the record before anything is written: the action verb (see
    /// [`check_action`]), the actor's id and the target's id.
    ///
    /// # Errors
    /// [`ModerationError::InvalidAction`] or [`ModerationError::InvalidId`].
    pub fn validate(&self) -> Result<(), ModerationError> {
        check_action(&self.action)?;
        if let Some(actor) = &self.actor {
            // A `UserId` may have arrived through serde unchecked.
            UserId::new(actor.as_str())?;
        }
        if ObjectId::from_key(&self.target.id.to_key())? != self.target.id {
            return Err(ModerationError::InvalidId {
                id: self.target.id.to_string(),
            });
        }
        Ok(())
    }

    /// The stored record this becomes under `id`.
    #[must_use]
    pub fn stored(self, id: i64) -> AuditRecord {
        AuditRecord {
            id,
            actor: self.actor,
            ip: self.ip,
            target: self.target,
            action: self.action,
            detail: self.detail,
            at: self.at,
        }
    }
}

/// An audit record as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The store's id, increasing in insertion order; it breaks ties between
    /// records of the same microsecond, so pages and exports never lose one.
    pub id: i64,
    /// Who acted (`None` for an anonymous visitor).
    pub actor: Option<UserId>,
    /// From where; `None` when unknown, or never for anonymous records.
    pub ip: Option<RecordedIp>,
    /// On what.
    pub target: ObjectRef,
    /// What.
    pub action: String,
    /// Structured detail.
    pub detail: serde_json::Value,
    /// When.
    pub at: DateTime<Utc>,
}

impl AuditRecord {
    /// The keyset position just after this record, for
    /// [`PageRequest::after`](moderation_core::PageRequest::after); the
    /// record's id stands in the cursor's `id`.
    #[must_use]
    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.at,
            id: ItemId(self.id),
        }
    }

    /// True when this record comes strictly after `cursor` newest first:
    /// older, or as old with a smaller id.
    #[must_use]
    pub fn is_after(&self, cursor: &Cursor) -> bool {
        (self.at, self.id) < (cursor.created_at, cursor.id.0)
    }
}
