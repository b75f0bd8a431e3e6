//! The comment pipeline in the review queue: a held submission opens a
//! [`ReviewSubject::Submission`] item, and [`SubmissionHandler`] applies the
//! moderator's decision to the held item through [`Moderation`].

use std::sync::Arc;

use async_trait::async_trait;

use crate::decision::Reason;
use crate::error::ModerationError;
use crate::queue::handler::{ActionContext, SubjectHandler};
use crate::queue::held::ReviewDraft;
use crate::queue::item::{NewReview, ReviewAction, ReviewItem, ReviewReason};
use crate::queue::subject::ReviewSubject;
use crate::service::Moderation;
use crate::store::{ItemStatus, StoredItem};

/// The weight each pipeline reason adds to a held submission's score.
pub const SUBMISSION_REASON_SCORE: i32 = 1;

/// The review item a held submission opens: one reason per pipeline reason
/// (its rule as the code), each weighing [`SUBMISSION_REASON_SCORE`].
#[must_use]
pub fn submission_review(item: &StoredItem, reasons: &[Reason]) -> NewReview {
    submission_draft(reasons).for_item(item)
}

/// [`submission_review`] before the item is stored, for
/// [`HeldItemStore::insert_held`](crate::HeldItemStore::insert_held).
#[must_use]
pub fn submission_draft(reasons: &[Reason]) -> ReviewDraft {
    ReviewDraft {
        reasons: reasons
            .iter()
            .map(|reason| {
                ReviewReason::new(
                    reason.rule.clone(),
                    reason.text.clone(),
                    SUBMISSION_REASON_SCORE,
                )
            })
            .collect(),
        priority: 0,
    }
}

/// Applies review decisions on held submissions to the moderation store:
/// approve publishes the item ([`Moderation::approve`]), reject and delete
/// remove it softly ([`Moderation::remove`]); restore and ignore leave it
/// as it is. An item already in the target state is left alone, so running
/// the handler twice does no harm.
///
/// ```
/// use std::sync::Arc;
/// use moderation_core::{
///     MemoryReviewStore, MemoryStore, Moderation, ReviewQueue, SubjectType, SubmissionHandler,
/// };
/// let reviews = Arc::new(MemoryReviewStore::new());
/// let moderation = Arc::new(
///     Moderation::builder(Arc::new(MemoryStore::new()))
///         .review_store(reviews.clone())
///         .build(),
/// );
/// let queue = ReviewQueue::builder(reviews)
///     .handler(SubjectType::Submission, Arc::new(SubmissionHandler::new(moderation)))
///     .build();
/// # let _ = queue;
/// ```
#[derive(Debug, Clone)]
pub struct SubmissionHandler {
    moderation: Arc<Moderation>,
}

impl SubmissionHandler {
    /// A handler acting through `moderation`.
    #[must_use]
    pub fn new(moderation: Arc<Moderation>) -> Self {
        Self { moderation }
    }
}

#[async_trait]
impl SubjectHandler for SubmissionHandler {
    async fn apply(
        &self,
        item: &ReviewItem,
        context: &ActionContext,
    ) -> Result<(), ModerationError> {
        let ReviewSubject::Submission(id) = item.subject else {
            return Ok(());
        };
        let target = match context.action {
            ReviewAction::Approve => ItemStatus::Public,
            ReviewAction::Reject | ReviewAction::Delete => ItemStatus::Removed,
            ReviewAction::Restore | ReviewAction::Ignore => return Ok(()),
        };
        let stored = self
            .moderation
            .store()
            .item(id)
            .await?
            .ok_or(ModerationError::NotFound { item: id })?;
        if stored.status == target {
            return Ok(());
        }
        let reason = context.reason.clone();
        if target == ItemStatus::Public {
            self.moderation
                .approve(id, stored.version, &context.actor, reason)
                .await?;
        } else {
            self.moderation
                .remove(id, stored.version, &context.actor, reason)
                .await?;
        }
        Ok(())
    }
}
