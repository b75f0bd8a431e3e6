//! The review queue (D8): one queue for every reason something needs a
//! human: held submissions, pending object changes, flagged content and
//! frozen users.
//!
//! - [`ReviewSubject`] says what an item is about, with a stable key; at
//!   most one item per subject is pending, and opening it again merges the
//!   reasons ([`ReviewReason`], by code, adding scores).
//! - [`ReviewStore`] is the port; [`MemoryReviewStore`] the reference
//!   implementation; `moderation-storage` has SQLite and PostgreSQL.
//! - [`ReviewQueue`] is the service: claims under a [`ClaimPolicy`],
//!   version-checked actions ([`ReviewAction`]), bulk actions, stale
//!   auto-handling ([`StalePolicy`]), [`SubjectHandler`]s that apply an
//!   action's effect and [`ReviewObserver`]s that hear about it.
//! - Nothing is deleted: [`ReviewAction::Delete`] is a status, restorable,
//!   and every step is kept in the item's history.

mod handler;
mod held;
mod item;
pub(crate) mod memory;
mod review_queue;
mod store;
mod subject;
mod submission;

pub use handler::{ActionContext, ReviewObserver, SubjectDecider, SubjectHandler};
pub use held::{
    Decided, HeldItemStore, ItemEffect, ReviewClose, ReviewDraft, decided_submissions,
    decisions_with_items, submission_changes, submission_effect,
};
pub use item::{
    NewReview, ReviewAction, ReviewEvent, ReviewHistoryEntry, ReviewId, ReviewItem, ReviewReason,
    ReviewStatus, merge_reasons, total_score,
};
pub use memory::MemoryReviewStore;
pub use review_queue::{
    AuthorRecipientsFn, BulkOutcome, ClaimPolicy, DEFAULT_BATCH_SIZE, DEFAULT_CLAIM_LEASE_SECS,
    DEFAULT_STALE_DAYS, REVIEW_BODY_TEMPLATE, REVIEW_SUBJECT_TEMPLATE, ReviewDecision, ReviewQueue,
    ReviewQueueBuilder, StalePolicy, StaleReport,
};
pub use store::{
    Claim, ClaimCheck, MAX_REVIEW_PAGE, Opened, ReviewCursor, ReviewFilter, ReviewPage,
    ReviewPageRequest, ReviewSort, ReviewStore, ReviewTransition, released,
};
pub use subject::{ReviewSubject, SubjectType};
pub use submission::{
    SUBMISSION_REASON_SCORE, SubmissionHandler, submission_draft, submission_review,
};
