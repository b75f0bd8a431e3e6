//! The object moderation workflow (django-moderation, without its bugs):
//! any model, such as a profile, a listing or a wiki page, can be put under
//! moderation so that new objects and edits wait for a moderator while the
//! public keeps seeing the approved version.
//!
//! - [`ObjectWorkflow`] is the entry point: register a kind with its
//!   [`WorkflowOptions`], then [`create`](ObjectWorkflow::create),
//!   [`edit`](ObjectWorkflow::edit), [`approve`](ObjectWorkflow::approve),
//!   [`reject`](ObjectWorkflow::reject),
//!   [`set_pending`](ObjectWorkflow::set_pending) and
//!   [`bulk`](ObjectWorkflow::bulk).
//! - Each object has a [`ModeratedObject`] record with two axes
//!   ([`ObjectState`]: ever approved; [`ObjectStatus`]: the latest decision)
//!   and its public, approved and current versions kept apart, so only an
//!   approval publishes. Each submitted revision is an [`ObjectEntry`].
//! - [`AutoRule`]s and the built-in rules decide some saves without a
//!   moderator, rejections first.
//! - [`ObjectStore`] is the port; [`MemoryObjectStore`] the reference, and
//!   moderation-storage has SQLite and PostgreSQL. A store that keeps the
//!   review queue too is a [`ReviewedObjectStore`]: a queued change and its
//!   review item, and a decision and the item it closes, commit together.
//! - Events ([`ObjectChange`] in [`ModerationEvent`](crate::ModerationEvent))
//!   and notifications (through core's [`Notifier`](crate::Notifier), with
//!   templates named in [`notify`]) follow each committed change.
//!
//! See [`ObjectWorkflow`] for a complete example.

mod channel;
mod diff;
mod editor;
/// E-mail delivery of notifications through lettre.
#[cfg(feature = "email")]
mod email;
mod entry;
mod event;
pub(crate) mod memory;
pub mod notify;
mod options;
mod record;
mod review;
mod reviewed;
mod rules;
mod scope;
mod service;
mod store;
mod transition;

pub use channel::ChannelNotifier;
pub use editor::{EditorSource, EditorView};
#[cfg(feature = "email")]
pub use email::EmailNotifier;
pub use entry::{EntryId, EntryStatus, NewEntry, ObjectEntry};
pub use event::ObjectChange;
pub use memory::MemoryObjectStore;
pub use notify::{AddressFn, RetryPolicy};
pub use options::WorkflowOptions;
pub use record::{ModeratedObject, ObjectState, ObjectStatus};
pub use review::{
    OBJECT_CHANGE_REASON, OBJECT_CHANGE_SCORE, ObjectChangeHandler, object_change_review,
};
pub use reviewed::{ReviewWrites, ReviewedObjectStore, ReviewedWrite};
pub use rules::{
    APPROVED_GROUP, APPROVED_STAFF, APPROVED_SUPERUSER, AutoDecision, AutoRule, AutoVerdict,
    REJECTED_ANONYMOUS, REJECTED_GROUP,
};
pub use scope::FieldScope;
pub use service::{
    ActionTaken, DEFAULT_BULK_BATCH, EntryVersion, ObjectWorkflow, ObjectWorkflowBuilder, Saved,
};
pub use store::{
    EntryCursor, EntryPage, EntryWrite, MAX_WORKFLOW_PAGE, ObjectStore, ObjectWrite, PendingQuery,
    PublicObject, PublicRead, StoredWrite,
};
pub use transition::{APPROVED_BYPASS, ObjectAction, SaveOutcome};
