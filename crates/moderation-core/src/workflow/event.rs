//! The payload of the object workflow's events (C12).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::entry::{EntryId, ObjectEntry};
use super::record::{ModeratedObject, ObjectStatus};
use crate::ids::{ObjectRef, UserId};

/// One change of a moderated object, as subscribers see it: which object,
/// the old and new status, who decided and why, and both versions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectChange {
    /// The object.
    pub object: ObjectRef,
    /// The entry decided or queued.
    pub entry: EntryId,
    /// The status before (`None` for a new object).
    pub from: Option<ObjectStatus>,
    /// The status after.
    pub to: ObjectStatus,
    /// Who decided (`None` for a rule, or for a queued change).
    pub by: Option<UserId>,
    /// Why.
    pub reason: Option<String>,
    /// The public version before the change (`None` when it was hidden).
    pub old_version: Option<Value>,
    /// The entry's version: the one submitted or decided on.
    pub new_version: Value,
}

impl ObjectChange {
    /// The change `entry` brought to `record`, which stood at `from` with
    /// `old_version` public before.
    #[must_use]
    pub fn new(
        record: &ModeratedObject,
        entry: &ObjectEntry,
        from: Option<ObjectStatus>,
        old_version: Option<Value>,
    ) -> Self {
        Self {
            object: record.object.clone(),
            entry: entry.id,
            from,
            to: record.status,
            by: entry.decided_by.clone(),
            reason: entry.reason.clone(),
            old_version,
            new_version: entry.snapshot.clone(),
        }
    }
}
