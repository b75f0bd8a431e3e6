//! # moderation-core
//!
//! Moderation for what users post. Implement [`Moderated`] for a model,
//! write a [`Moderator`] for it (an empty impl is valid), register it, and
//! every [`Submission`] ends in exactly one [`Decision`] (publish, hold,
//! reject or discard) that always says why, in machine-readable [`Reason`]s.
//!
//! - [`Moderation`] is the entry point: [`Moderation::submit`] looks the kind
//!   up in the [`Registry`], runs its rules in the fixed order of [`Stage`],
//!   stores the item and its log entry in one [`ModerationStore`] call, then
//!   sends [`ModerationEvent`]s and notifies staff through a [`Notifier`].
//! - Rules are small [`Rule`] impls; the built-in ones ([`rules`]) implement
//!   Django's comment moderation options ([`CommentOptions`]): `enable_field`,
//!   `close_after`, `moderate_after`, first-timers, always-moderate, spam
//!   (through a [`SpamClassifier`]) and auto-approval / auto-rejection.
//! - [`MemoryStore`] is the reference store; `moderation-storage` has SQLite
//!   and PostgreSQL. Time comes from a [`Clock`].
//! - [`cleanup`] deletes old non-public items in batches.
//!
//! ```
//! use std::sync::Arc;
//! use moderation_core::{
//!     Actor, CommentOptions, MemoryStore, Moderated, Moderation, Moderator, ObjectId,
//!     Submission, UserId, Verdict,
//! };
//!
//! #[derive(serde::Serialize)]
//! struct Entry { id: i64, enable_comments: bool }
//! impl Moderated for Entry {
//!     const KIND: &'static str = "blog.entry";
//!     fn object_id(&self) -> ObjectId { ObjectId::from(self.id) }
//! }
//!
//! #[derive(serde::Serialize)]
//! struct Comment { id: i64, body: String }
//! impl Moderated for Comment {
//!     const KIND: &'static str = "blog.comment";
//!     fn object_id(&self) -> ObjectId { ObjectId::from(self.id) }
//!     fn text(&self) -> std::borrow::Cow<'_, str> { self.body.as_str().into() }
//! }
//!
//! struct CommentModerator;
//! impl Moderator<Comment> for CommentModerator {
//!     fn options(&self) -> CommentOptions {
//!         CommentOptions::default()
//!             .enable_field("enable_comments")
//!             .moderate_first_timers(true)
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let moderation = Moderation::builder(Arc::new(MemoryStore::new())).build();
//! moderation.registry().register::<Comment, _>(CommentModerator)?;
//!
//! let entry = Entry { id: 1, enable_comments: true };
//! let comment = Comment { id: 10, body: "First!".into() };
//! let submission = Submission::new(Actor::user(UserId::from(7_i64)), &comment)?
//!     .with_parent(&entry)?;
//! let outcome = moderation.submit(submission).await?;
//! assert_eq!(outcome.verdict(), Verdict::Hold);
//! assert_eq!(outcome.decision.reasons[0].rule, "first_timer");
//! # Ok::<(), moderation_core::ModerationError>(())
//! # }).unwrap();
//! ```

mod actor;
mod cleanup;
mod clock;
pub mod community;
mod decision;
mod error;
mod events;
mod facts;
mod fingerprint;
mod ids;
#[cfg(test)]
mod json_round_trip;
mod memory;
mod memory_log;
mod moderated;
mod moderator;
mod modlog;
mod notify;
mod options;
mod pipeline;
mod queue;
mod registry;
mod rule;
pub mod rules;
mod service;
mod spam;
mod store;
mod submission;
pub mod workflow;

/// Client IP resolution from the TCP peer and trusted proxies' forwarding headers.
#[cfg(feature = "http")]
pub mod http;

pub use actor::{Actor, AuthorKey, Standing, TrustLevel};
pub use cleanup::{CleanedItem, CleanupOptions, CleanupReport, cleanup};
pub use clock::{Clock, ManualClock, SystemClock, truncate_to_micros};
pub use decision::{Decision, Reason, Verdict};
pub use error::{BoxError, ModerationError};
pub use events::{EventSink, ModerationEvent, NullEventSink, RecordingEventSink};
pub use facts::StoreFacts;
pub use fingerprint::text_fingerprint;
pub use ids::{ItemId, Kind, MAX_ID_LEN, MAX_KIND_LEN, ObjectId, ObjectRef, UserId};
pub use memory::MemoryStore;
pub use memory_log::MemoryModerationLog;
pub use moderated::Moderated;
pub use moderator::{AlwaysModerate, ModerateFirstTimers, Moderator, NoComments};
pub use modlog::{
    MAX_ACTION_LEN, ModLogEntry, ModLogFilter, ModerationLog, NewModLogEntry, check_action,
    newest_first_after,
};
pub use notify::{
    BODY_TEMPLATE, LogNotifier, Notification, Notifier, Recipients, RecipientsFn,
    RecordingNotifier, SUBJECT_TEMPLATE, Templates,
};
pub use options::CommentOptions;
pub use pipeline::Pipeline;
pub use queue::{
    ActionContext, AuthorRecipientsFn, BulkOutcome, Claim, ClaimCheck, ClaimPolicy,
    DEFAULT_BATCH_SIZE, DEFAULT_CLAIM_LEASE_SECS, DEFAULT_STALE_DAYS, Decided, HeldItemStore,
    ItemEffect, MAX_REVIEW_PAGE, MemoryReviewStore, NewReview, Opened, REVIEW_BODY_TEMPLATE,
    REVIEW_SUBJECT_TEMPLATE, ReviewAction, ReviewClose, ReviewCursor, ReviewDecision, ReviewDraft,
    ReviewEvent, ReviewFilter, ReviewHistoryEntry, ReviewId, ReviewItem, ReviewObserver,
    ReviewPage, ReviewPageRequest, ReviewQueue, ReviewQueueBuilder, ReviewReason, ReviewSort,
    ReviewStatus, ReviewStore, ReviewSubject, ReviewTransition, SUBMISSION_REASON_SCORE,
    StalePolicy, StaleReport, SubjectDecider, SubjectHandler, SubjectType, SubmissionHandler,
    decided_submissions, decisions_with_items, merge_reasons, released, submission_changes,
    submission_draft, submission_effect, submission_review, total_score,
};
pub use registry::{Registration, Registry};
pub use rule::{Rule, RuleContext, Stage};
pub use service::{
    DEFAULT_DUPLICATE_WINDOW_SECS, DEFAULT_MAX_TEXT_LEN, Moderation, ModerationBuilder, Outcome,
};
pub use spam::{SpamAction, SpamCheck, SpamClassifier, SpamScore, SpamVerdict};
pub use store::{
    Cursor, DuplicateQuery, FlagOutcome, HiddenAuthors, ItemFilter, ItemStatus, LogAction,
    LogEntry, MAX_PAGE_SIZE, ModerationStore, NewItem, NewLogEntry, Order, Page, PageRequest,
    StatusChange, StoredItem,
};
pub use submission::{ParentObject, RequestFacts, Submission};
