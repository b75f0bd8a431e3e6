//! Entries: one submitted revision of an object and what became of it.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::record::text_form;
use crate::error::ModerationError;
use crate::ids::{ObjectRef, UserId};

/// The store's id for an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EntryId(pub i64);

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where an entry stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryStatus {
    /// Waits for a moderator.
    Pending,
    /// Approved: its snapshot was published.
    Approved,
    /// Rejected: its snapshot was never published.
    Rejected,
    /// Replaced by a newer edit before anyone decided (history kept only).
    Superseded,
}

text_form!(
    EntryStatus, "entry status",
    Pending => "pending", Approved => "approved", Rejected => "rejected", Superseded => "superseded",
);

/// One revision of an object as submitted, and the decision about it.
///
/// Without `keep_history` an object has one entry, reused by every edit;
/// with it, each differing edit opens a new entry with the next `revision`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectEntry {
    /// The store's id.
    pub id: EntryId,
    /// The object.
    pub object: ObjectRef,
    /// 1 for the object's first entry, then one more per new entry.
    pub revision: i64,
    /// Where it stands.
    pub status: EntryStatus,
    /// The submitted version, as JSON.
    pub snapshot: Value,
    /// Who submitted it; `None` for an anonymous visitor.
    pub submitted_by: Option<UserId>,
    /// When it (last) entered the queue; the pending list is ordered by it.
    pub submitted_at: DateTime<Utc>,
    /// Who decided; `None` for a rule or while pending.
    pub decided_by: Option<UserId>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why.
    pub reason: Option<String>,
    /// The optimistic version, 1 on insert; moderators' actions name it.
    pub version: i64,
}

/// An entry to insert; the store assigns the id and version 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEntry {
    /// The object.
    pub object: ObjectRef,
    /// The revision number; the object's record names it too.
    pub revision: i64,
    /// The initial status (pending, or decided by a rule).
    pub status: EntryStatus,
    /// The submitted version.
    pub snapshot: Value,
    /// The submitter.
    pub submitted_by: Option<UserId>,
    /// When.
    pub submitted_at: DateTime<Utc>,
    /// Who decided, for a decided entry.
    pub decided_by: Option<UserId>,
    /// When it was decided.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why.
    pub reason: Option<String>,
}

impl NewEntry {
    /// The stored entry once the store assigned `id`.
    #[must_use]
    pub fn stored(self, id: EntryId) -> ObjectEntry {
        ObjectEntry {
            id,
            object: self.object,
            revision: self.revision,
            status: self.status,
            snapshot: self.snapshot,
            submitted_by: self.submitted_by,
            submitted_at: self.submitted_at,
            decided_by: self.decided_by,
            decided_at: self.decided_at,
            reason: self.reason,
            version: 1,
        }
    }
}
