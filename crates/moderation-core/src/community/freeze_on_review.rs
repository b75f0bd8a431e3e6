//! What the low-contribution guard does once it holds a post (D5, D7): open
//! a review item with the reasons, freeze the author with that item as the
//! cause, notify staff, and tell the author the post awaits review. As a
//! [`ReviewObserver`] it lifts the freeze when staff approve the item and
//! leaves it when they delete it.

use std::sync::Arc;

use async_trait::async_trait;

use super::rules::{CommunityRules, Screening};
use super::sanctions::Sanction;
use crate::actor::Actor;
use crate::clock::Clock;
use crate::decision::Verdict;
use crate::error::{BoxError, ModerationError};
use crate::ids::{ItemId, ObjectRef};
use crate::notify::{Notification, Notifier, Recipients};
use crate::queue::{
    ActionContext, NewReview, ReviewAction, ReviewId, ReviewItem, ReviewObserver, ReviewReason,
    ReviewStore, ReviewSubject,
};

/// The score each guard reason carries in the review queue: above a single
/// user flag, so held first posts surface early.
pub const GUARD_REASON_SCORE: i32 = 10;

/// What the author reads after the guard held their post.
pub const AWAITS_REVIEW_MESSAGE: &str = "Thanks! Your post awaits review by our staff. Until \
     they have looked at it you cannot post or edit, but you can still message staff.";

/// The cause recorded on a freeze that review item `id` caused.
#[must_use]
pub fn review_cause(id: ReviewId) -> String {
    format!("review:{id}")
}

/// The outcome of [`FreezeOnReview::hold_and_freeze`].
#[derive(Debug, Clone, PartialEq)]
pub struct HeldForReview {
    /// The review item staff will see, with the guard's reasons.
    pub review: ReviewItem,
    /// The freeze, caused by the item (`None` for an anonymous author).
    pub freeze: Option<Sanction>,
    /// What to tell the author.
    pub message: &'static str,
}

/// Applies a [`ScreeningVerdict::HoldAndFreeze`](super::ScreeningVerdict)
/// and lifts the freeze again when the causing item is approved.
///
/// Register it on the queue with
/// [`ReviewQueueBuilder::observer`](crate::ReviewQueueBuilder::observer).
#[derive(Debug, Clone)]
pub struct FreezeOnReview {
    rules: CommunityRules,
    reviews: Arc<dyn ReviewStore>,
    notifier: Arc<dyn Notifier>,
    staff: Recipients,
    clock: Arc<dyn Clock>,
}

impl FreezeOnReview {
    /// The guard's effects over `rules` (for freezes), `reviews` (the queue's
    /// store) and `notifier`, telling `staff`.
    #[must_use]
    pub fn new(
        rules: CommunityRules,
        reviews: Arc<dyn ReviewStore>,
        notifier: Arc<dyn Notifier>,
        staff: Recipients,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            rules,
            reviews,
            notifier,
            staff,
            clock,
        }
    }

    /// Opens the review item for `content` (its held item when the
    /// moderation store keeps one), freezes the author with the item as the
    /// cause, and notifies staff. A failed notification is logged, never
    /// returned.
    ///
    /// # Errors
    /// The review store's or the sanction store's error.
    #[tracing::instrument(level = "info", skip_all, fields(content = %content))]
    pub async fn hold_and_freeze(
        &self,
        author: &Actor,
        content: &ObjectRef,
        held_item: Option<ItemId>,
        screening: &Screening,
    ) -> Result<HeldForReview, ModerationError> {
        let subject = held_item.map_or_else(
            || ReviewSubject::Content(content.clone()),
            ReviewSubject::Submission,
        );
        let reasons: Vec<ReviewReason> = screening
            .reasons
            .iter()
            .map(|r| ReviewReason::new(r.rule.as_ref(), r.text.clone(), GUARD_REASON_SCORE))
            .collect();
        let opened = self
            .reviews
            .open(NewReview {
                subject,
                kind: content.kind.clone(),
                author: author.author_key(),
                reasons,
                priority: 1,
                created_at: self.clock.now(),
            })
            .await?;
        let review = opened.item;
        let why: Vec<&str> = screening.reasons.iter().map(|r| r.text.as_str()).collect();
        let freeze = match &author.user {
            Some(user) => Some(
                self.rules
                    .freeze(user, &why.join("; "), None, Some(review_cause(review.id)))
                    .await?,
            ),
            None => None,
        };
        self.notify_staff(content, &review, screening).await;
        Ok(HeldForReview {
            review,
            freeze,
            message: AWAITS_REVIEW_MESSAGE,
        })
    }

    async fn notify_staff(&self, content: &ObjectRef, review: &ReviewItem, screening: &Screening) {
        let recipients = self.staff.for_kind(&content.kind);
        if recipients.is_empty() {
            return;
        }
        let notification = Notification {
            recipients,
            kind: content.kind.clone(),
            // Review notifications carry the review item's id here.
            item: ItemId(review.id.0),
            object: content.clone(),
            verdict: Verdict::Hold,
            reasons: screening.reasons.clone(),
            subject: format!("Held for review, author frozen: {content}"),
            body: format!(
                "A member with few contributions posted {content}; it is held and the author \
                 is frozen until you decide on review item {}.\n\n{}",
                review.id,
                screening
                    .reasons
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            ),
        };
        if let Err(error) = self.notifier.notify(&notification).await {
            tracing::warn!(%error, review = %review.id, "staff notification failed");
        }
    }
}

#[async_trait]
impl ReviewObserver for FreezeOnReview {
    /// Approving the item lifts the freezes it caused; every other action
    /// (a soft delete included) leaves them in force.
    async fn after_action(
        &self,
        item: &ReviewItem,
        context: &ActionContext,
    ) -> Result<(), BoxError> {
        if context.action == ReviewAction::Approve {
            let lifted = self
                .rules
                .lift_caused_by(&review_cause(item.id), context.actor.user.as_ref())
                .await?;
            tracing::info!(review = %item.id, lifted = lifted.len(), "freeze lifted on approval");
        }
        Ok(())
    }
}
