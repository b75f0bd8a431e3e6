//! Object changes and their review items, written together.
//!
//! A queued create or edit and the review item it opens, and a decision on
//! a change and the review item it closes, are one user-visible step each.
//! A store that keeps both the objects and the review queue implements
//! [`ReviewedObjectStore`] and commits each such step in one transaction:
//! a crash can never leave a pending change out of the queue, or a review
//! item approved while its object is still pending.

use async_trait::async_trait;

use super::store::{ObjectStore, ObjectWrite, StoredWrite};
use crate::error::ModerationError;
use crate::queue::{NewReview, Opened, ReviewItem, ReviewStore, ReviewTransition};

/// The review queue's half of one workflow step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReviewWrites {
    /// Items to open (or merge into their subject's pending item): one per
    /// queued change.
    pub open: Vec<NewReview>,
    /// Version- and claim-checked transitions: the items a decision closes.
    pub transitions: Vec<ReviewTransition>,
}

impl ReviewWrites {
    /// True when there is nothing to write to the queue.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.open.is_empty() && self.transitions.is_empty()
    }
}

/// What a [`ReviewedObjectStore::apply_reviewed`] stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewedWrite {
    /// The object writes as stored, in order.
    pub objects: Vec<StoredWrite>,
    /// The opened (or merged) review items, in the order of
    /// [`ReviewWrites::open`].
    pub opened: Vec<Opened>,
    /// The items as the transitions left them, in the order of
    /// [`ReviewWrites::transitions`].
    pub transitioned: Vec<ReviewItem>,
}

/// A store of objects that keeps the review queue too, and writes both in
/// one transaction.
///
/// [`MemoryStore`](crate::MemoryStore) implements it under its lock;
/// moderation-storage's SQLite and PostgreSQL stores in one transaction.
/// Give it to [`ObjectWorkflowBuilder::review_store`](super::ObjectWorkflowBuilder::review_store).
///
/// ```
/// use moderation_core::workflow::{MemoryObjectStore, ReviewWrites, ReviewedObjectStore};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryObjectStore::new();
/// let written = store.apply_reviewed(Vec::new(), ReviewWrites::default()).await?;
/// assert!(written.objects.is_empty() && written.opened.is_empty());
/// # Ok::<(), moderation_core::ModerationError>(())
/// # }).unwrap();
/// ```
#[async_trait]
pub trait ReviewedObjectStore: ObjectStore + ReviewStore {
    /// Stores `writes` as [`ObjectStore::apply`] does, opens the items of
    /// `reviews.open` as [`ReviewStore::open`] does, and commits
    /// `reviews.transitions` as [`ReviewStore::transition_batch`] does: all
    /// of it in one transaction, or none of it.
    ///
    /// # Errors
    /// Any error of those three; nothing is written then.
    async fn apply_reviewed(
        &self,
        writes: Vec<ObjectWrite>,
        reviews: ReviewWrites,
    ) -> Result<ReviewedWrite, ModerationError>;
}
