//! The state machine: what a save or a decision does to a record and its
//! entries, as a pure function from what was read to what to write.
//!
//! Keeping it free of I/O lets every store share one set of semantics and
//! lets the service check versions before anything is written.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::entry::{EntryStatus, NewEntry, ObjectEntry};
use super::options::WorkflowOptions;
use super::record::{ModeratedObject, ObjectState, ObjectStatus};
use super::rules::{self, AutoDecision, AutoVerdict};
use super::store::{EntryWrite, ObjectWrite};
use crate::actor::Actor;
use crate::error::ModerationError;
use crate::ids::{ItemId, ObjectRef, UserId};
use crate::modlog::NewModLogEntry;
use uuid::Uuid;

/// The reason recorded when an edit goes live under
/// `bypass_moderation_after_approval`.
pub const APPROVED_BYPASS: &str = "Auto-approved: moderation bypassed after approval";

/// What became of a save.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaveOutcome {
    /// Moderated fields changed and wait for a moderator.
    Queued,
    /// A rule (or `bypass_moderation_after_approval`) approved it: public now.
    AutoApproved,
    /// A rule rejected it: never public.
    AutoRejected,
    /// Only unmoderated fields changed: applied at once, nothing queued.
    Applied,
    /// Nothing differs from the latest saved version: nothing was written.
    Unchanged,
    /// The kind is not registered with the workflow: the object is public as
    /// the application stores it, with no record, entry, event or
    /// notification (SPEC A3, as Django does for unregistered models).
    NotModerated,
}

/// A moderator's action on an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectAction {
    /// Publish the entry's version.
    Approve,
    /// Refuse it; the last approved version stays (or becomes) public.
    Reject,
    /// Put the object back under moderation; nothing is published or hidden.
    SetPending,
}

impl ObjectAction {
    /// The moderation-log action name (`object.approve`, ...).
    #[must_use]
    pub fn log_action(self) -> &'static str {
        match self {
            Self::Approve => "object.approve",
            Self::Reject => "object.reject",
            Self::SetPending => "object.set_pending",
        }
    }

    fn status(self) -> (ObjectStatus, EntryStatus) {
        match self {
            Self::Approve => (ObjectStatus::Approved, EntryStatus::Approved),
            Self::Reject => (ObjectStatus::Rejected, EntryStatus::Rejected),
            Self::SetPending => (ObjectStatus::Pending, EntryStatus::Pending),
        }
    }
}

/// A planned write and what it means, for events and notifications.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    pub(crate) write: ObjectWrite,
    pub(crate) outcome: SaveOutcome,
    /// The status before (`None` for a new record).
    pub(crate) from: Option<ObjectStatus>,
    /// The public version before.
    pub(crate) public_before: Option<Value>,
}

/// Who submitted, and when: the facts every new entry starts from.
pub(crate) struct Submitted<'a> {
    pub(crate) actor: &'a Actor,
    pub(crate) at: DateTime<Utc>,
}

/// A record that was never saved through the workflow, for a create
/// (`existing = None`: hidden draft) or for an object that predates
/// moderation (`existing = Some(original)`: public, approved).
pub(crate) fn blank_record(
    object: ObjectRef,
    existing: Option<Value>,
    at: DateTime<Utc>,
) -> ModeratedObject {
    let ready = existing.is_some();
    ModeratedObject {
        object,
        state: if ready {
            ObjectState::Ready
        } else {
            ObjectState::Draft
        },
        status: if ready {
            ObjectStatus::Approved
        } else {
            ObjectStatus::Pending
        },
        decided_by: None,
        decided_at: None,
        reason: None,
        public: existing.clone(),
        approved: existing.clone(),
        current: existing.unwrap_or(Value::Null),
        revision: 0,
        version: 0,
        created_at: at,
        updated_at: at,
    }
}

/// Plans a save of `new` over `record` (a blank one for a create or a
/// pre-existing object, `insert` then true). `latest` is the record's newest
/// entry, if it has one.
pub(crate) fn save(
    options: &WorkflowOptions,
    mut record: ModeratedObject,
    insert: bool,
    latest: Option<ObjectEntry>,
    new: Value,
    submitted: &Submitted<'_>,
) -> Planned {
    let from = (!insert).then_some(record.status);
    let public_before = record.public.clone();
    let creating = insert && record.state == ObjectState::Draft;
    if !creating && new == record.current {
        return Planned {
            write: ObjectWrite {
                record,
                insert,
                entries: Vec::new(),
                log: Vec::new(),
            },
            outcome: SaveOutcome::Unchanged,
            from,
            public_before,
        };
    }
    let moderated = creating || options.scope.moderated_change(&record.current, &new);
    // Unmoderated fields apply at once to every version, so a later
    // approval or revert never brings old values of them back (C9).
    let scope = &options.scope;
    record.public = record.public.map(|public| scope.compose(&public, &new));
    record.approved = record
        .approved
        .map(|approved| scope.compose(&approved, &new));
    record.current = new.clone();
    record.updated_at = submitted.at;
    if !moderated {
        return Planned {
            write: ObjectWrite {
                record,
                insert,
                entries: Vec::new(),
                log: Vec::new(),
            },
            outcome: SaveOutcome::Applied,
            from,
            public_before,
        };
    }
    let bypass = options.bypass_after_approval
        && record.state == ObjectState::Ready
        && record.status == ObjectStatus::Approved;
    let decision = rules::decide(options, submitted.actor, &new)
        .filter(|decision| !bypass || decision.verdict == AutoVerdict::Reject)
        .or_else(|| bypass.then(|| AutoDecision::approve(APPROVED_BYPASS)));
    let (outcome, entry_status) = match decision.as_ref().map(|d| d.verdict) {
        None => (SaveOutcome::Queued, EntryStatus::Pending),
        Some(AutoVerdict::Approve) => (SaveOutcome::AutoApproved, EntryStatus::Approved),
        Some(AutoVerdict::Reject) => (SaveOutcome::AutoRejected, EntryStatus::Rejected),
    };
    let reason = decision.map(|decision| decision.reason);
    let decided_at = reason.is_some().then_some(submitted.at);
    match outcome {
        SaveOutcome::AutoApproved => {
            record.public = Some(new.clone());
            record.approved = Some(new.clone());
            record.state = ObjectState::Ready;
            record.status = ObjectStatus::Approved;
        }
        SaveOutcome::AutoRejected => {
            record.status = ObjectStatus::Rejected;
            if options.visible_until_rejected {
                record.public = record.approved.clone();
            }
        }
        _ => {
            record.status = ObjectStatus::Pending;
            if options.visible_until_rejected {
                record.public = Some(new.clone());
            }
        }
    }
    record.decided_by = None;
    record.decided_at = decided_at;
    record.reason = reason.clone();

    let mut entries = Vec::with_capacity(2);
    let (reuse, previous) = if options.keep_history {
        (None, latest)
    } else {
        (latest, None)
    };
    let user = submitted.actor.user.clone();
    match reuse {
        Some(mut entry) => {
            let expected_version = entry.version;
            entry.status = entry_status;
            entry.snapshot = new;
            entry.submitted_by = user;
            entry.submitted_at = submitted.at;
            entry.decided_by = None;
            entry.decided_at = decided_at;
            entry.reason = reason;
            entries.push(EntryWrite::Update {
                entry,
                expected_version,
            });
        }
        None => {
            // A newer edit replaces a pending one in the queue; its entry
            // stays in the history as superseded.
            if let Some(mut previous) =
                previous.filter(|entry| entry.status == EntryStatus::Pending)
            {
                let expected_version = previous.version;
                previous.status = EntryStatus::Superseded;
                entries.push(EntryWrite::Update {
                    entry: previous,
                    expected_version,
                });
            }
            record.revision += 1;
            entries.push(EntryWrite::Insert(NewEntry {
                object: record.object.clone(),
                revision: record.revision,
                status: entry_status,
                snapshot: new,
                submitted_by: user,
                submitted_at: submitted.at,
                decided_by: None,
                decided_at,
                reason,
            }));
        }
    }
    // Auto decisions are decisions too: they are logged, by nobody.
    let log = match outcome {
        SaveOutcome::AutoApproved | SaveOutcome::AutoRejected => {
            let action = if outcome == SaveOutcome::AutoApproved {
                ObjectAction::Approve
            } else {
                ObjectAction::Reject
            };
            let decided = Decided {
                by: None,
                reason: record.reason.clone(),
                at: submitted.at,
                bulk: None,
            };
            vec![log_entry(action, &record, from, &decided)]
        }
        _ => Vec::new(),
    };
    Planned {
        write: ObjectWrite {
            record,
            insert,
            entries,
            log,
        },
        outcome,
        from,
        public_before,
    }
}

/// Who decided, why and when, and the bulk action it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct Decided {
    pub(crate) by: Option<UserId>,
    pub(crate) reason: Option<String>,
    pub(crate) at: DateTime<Utc>,
    pub(crate) bulk: Option<Uuid>,
}

/// The moderation-log entry of a decision that moved `record` from `from`
/// to its current status through the entry of `revision`.
fn log_entry(
    action: ObjectAction,
    record: &ModeratedObject,
    from: Option<ObjectStatus>,
    decided: &Decided,
) -> NewModLogEntry {
    NewModLogEntry {
        action: action.log_action().to_owned(),
        actor: decided.by.clone(),
        target: record.object.clone(),
        reason: decided.reason.clone(),
        before: from.map(|status| status.as_str().to_owned()),
        after: Some(record.status.as_str().to_owned()),
        detail: serde_json::json!({ "revision": record.revision }),
        ip: None,
        bulk: decided.bulk,
        at: decided.at,
    }
}

/// Plans a moderator's `action` on `entry`, which must be the object's
/// newest entry and still have `expected_version`.
///
/// # Errors
/// [`ModerationError::Conflict`] for a stale version,
/// [`ModerationError::NotLatestEntry`] for an entry a newer revision replaced.
pub(crate) fn decide(
    options: &WorkflowOptions,
    mut record: ModeratedObject,
    mut entry: ObjectEntry,
    expected_version: i64,
    action: ObjectAction,
    decision: &Decided,
) -> Result<Planned, ModerationError> {
    let Decided { by, reason, at, .. } = decision.clone();
    if entry.version != expected_version {
        return Err(ModerationError::Conflict {
            item: ItemId(entry.id.0),
            expected: expected_version,
            actual: entry.version,
        });
    }
    if entry.revision != record.revision {
        return Err(ModerationError::NotLatestEntry {
            entry: entry.id.0,
            revision: entry.revision,
            latest: record.revision,
        });
    }
    let from = Some(record.status);
    let public_before = record.public.clone();
    let (status, entry_status) = action.status();
    match action {
        ObjectAction::Approve => {
            let published = options.scope.compose(&entry.snapshot, &record.current);
            record.public = Some(published.clone());
            record.approved = Some(published.clone());
            record.current = published;
            record.state = ObjectState::Ready;
        }
        ObjectAction::Reject => {
            if options.visible_until_rejected {
                record.public = record.approved.clone();
            }
        }
        ObjectAction::SetPending => {}
    }
    let decided = action != ObjectAction::SetPending;
    record.status = status;
    record.decided_by = by.filter(|_| decided);
    record.decided_at = decided.then_some(at);
    record.reason = reason.filter(|_| decided);
    record.updated_at = at;
    entry.status = entry_status;
    entry.decided_by = record.decided_by.clone();
    entry.decided_at = record.decided_at;
    entry.reason = record.reason.clone();
    let log = vec![log_entry(action, &record, from, decision)];
    Ok(Planned {
        write: ObjectWrite {
            record,
            insert: false,
            entries: vec![EntryWrite::Update {
                entry,
                expected_version,
            }],
            log,
        },
        outcome: match action {
            ObjectAction::Approve => SaveOutcome::AutoApproved,
            ObjectAction::Reject => SaveOutcome::AutoRejected,
            ObjectAction::SetPending => SaveOutcome::Queued,
        },
        from,
        public_before,
    })
}
