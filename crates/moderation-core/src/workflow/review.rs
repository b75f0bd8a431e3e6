//! The workflow in the review queue (D8): a queued create or edit opens a
//! [`ReviewSubject::ObjectChange`] item, and [`ObjectChangeHandler`] applies
//! the queue's decision to the entry through the workflow.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::entry::{EntryStatus, ObjectEntry};
use super::service::ObjectWorkflow;
use super::transition::ObjectAction;
use crate::actor::AuthorKey;
use crate::error::ModerationError;
use crate::ids::UserId;
use crate::queue::{
    ActionContext, ClaimCheck, ClaimPolicy, NewReview, ReviewAction, ReviewEvent, ReviewItem,
    ReviewReason, ReviewStatus, ReviewStore, ReviewSubject, ReviewTransition, SubjectHandler,
};

/// The reason code of an object change in the queue.
pub const OBJECT_CHANGE_REASON: &str = "object_change";
/// The weight of that reason in the item's score.
pub const OBJECT_CHANGE_SCORE: i32 = 1;

/// The review item a pending entry opens: its object at its revision,
/// by its submitter, with one reason saying whether it is new or an edit.
#[must_use]
pub fn object_change_review(entry: &ObjectEntry, is_new: bool) -> NewReview {
    let text = if is_new {
        "New object waiting for approval"
    } else {
        "Edit waiting for approval"
    };
    NewReview {
        subject: ReviewSubject::ObjectChange {
            object: entry.object.clone(),
            revision: entry.revision,
        },
        kind: entry.object.kind.clone(),
        author: entry.submitted_by.clone().map(AuthorKey::User),
        reasons: vec![ReviewReason::new(
            OBJECT_CHANGE_REASON,
            text,
            OBJECT_CHANGE_SCORE,
        )],
        priority: 0,
        created_at: entry.submitted_at,
    }
}

/// Closes the pending review item of `entry`, which `action` just decided
/// on the workflow directly: approve approves the item, reject rejects it,
/// set-pending leaves it open. The item's own history and moderation-log
/// entry record the step, as the moderator who decided. Claims are not
/// checked here: the decision is already taken, after [`claim_refusal`]
/// let it through.
///
/// A decision taken through the queue finds its item decided already, and
/// leaves it alone. Returns the closed item, `None` when there was nothing
/// to close.
///
/// # Errors
/// The review store's: a failed lookup, or [`ModerationError::ReviewConflict`]
/// when the item changed between the lookup and the transition.
pub(crate) async fn close_review(
    reviews: &dyn ReviewStore,
    entry: &ObjectEntry,
    action: ObjectAction,
    bulk: Option<uuid::Uuid>,
) -> Result<Option<ReviewItem>, ModerationError> {
    let Some(review_action) = review_action(action) else {
        return Ok(None);
    };
    let Some(item) = reviews
        .review_for_subject(&change_subject(entry))
        .await?
        .filter(|item| item.status == ReviewStatus::Pending)
    else {
        return Ok(None);
    };
    reviews
        .transition(closing(&item, entry, review_action, bulk))
        .await
        .map(Some)
}

/// The pending review items of the changes `entries` open, by subject key,
/// in one lookup: the items a decision of `action` would close. Empty for
/// set-pending, which closes nothing.
///
/// # Errors
/// The review store's, when the lookup fails.
pub(crate) async fn open_reviews(
    reviews: &dyn ReviewStore,
    entries: &[&ObjectEntry],
    action: ObjectAction,
) -> Result<HashMap<String, ReviewItem>, ModerationError> {
    if review_action(action).is_none() || entries.is_empty() {
        return Ok(HashMap::new());
    }
    let subjects: Vec<ReviewSubject> = entries.iter().map(|entry| change_subject(entry)).collect();
    Ok(reviews
        .reviews_for_subjects(&subjects)
        .await?
        .into_iter()
        .filter(|item| item.status == ReviewStatus::Pending)
        .map(|item| (item.subject.key(), item))
        .collect())
}

/// Why `by` may not decide `entries` at `at` under `claims`, judged on their
/// `open` review items as the queue judges its own actions: the refusal of
/// the first entry, in order, whose item someone else holds (or, with
/// claims required, that `by` does not hold). An entry without an open item
/// has nothing to claim.
pub(crate) fn claim_refusal(
    claims: ClaimPolicy,
    open: &HashMap<String, ReviewItem>,
    entries: &[&ObjectEntry],
    by: &UserId,
    at: DateTime<Utc>,
) -> Option<ModerationError> {
    let check = claims.check();
    // Nothing to judge: spare each entry its subject key.
    if check == ClaimCheck::Off || open.is_empty() {
        return None;
    }
    entries.iter().find_map(|entry| {
        let item = open.get(&change_subject(entry).key())?;
        check.refusal(item, Some(by), at)
    })
}

/// [`close_review`] for the entries one bulk action decided together, given
/// their `open` items as read before the decision: one transaction closing
/// them, all or none. Returns the closed items.
///
/// # Errors
/// The review store's; [`ModerationError::ReviewConflict`] when an item
/// changed since it was read. On an error no item was closed.
pub(crate) async fn close_reviews(
    reviews: &dyn ReviewStore,
    entries: &[&ObjectEntry],
    action: ObjectAction,
    bulk: Option<uuid::Uuid>,
    mut open: HashMap<String, ReviewItem>,
) -> Result<Vec<ReviewItem>, ModerationError> {
    let Some(review_action) = review_action(action) else {
        return Ok(Vec::new());
    };
    let transitions: Vec<ReviewTransition> = entries
        .iter()
        .filter_map(|entry| {
            let item = open.remove(&change_subject(entry).key())?;
            Some(closing(&item, entry, review_action, bulk))
        })
        .collect();
    if transitions.is_empty() {
        return Ok(Vec::new());
    }
    reviews.transition_batch(transitions).await
}

/// The queue's action for a workflow decision; set-pending has none.
fn review_action(action: ObjectAction) -> Option<ReviewAction> {
    match action {
        ObjectAction::Approve => Some(ReviewAction::Approve),
        ObjectAction::Reject => Some(ReviewAction::Reject),
        ObjectAction::SetPending => None,
    }
}

/// The review subject of `entry`'s change.
fn change_subject(entry: &ObjectEntry) -> ReviewSubject {
    ReviewSubject::ObjectChange {
        object: entry.object.clone(),
        revision: entry.revision,
    }
}

/// The transition closing `item` as the moderator who decided `entry`.
fn closing(
    item: &ReviewItem,
    entry: &ObjectEntry,
    action: ReviewAction,
    bulk: Option<uuid::Uuid>,
) -> ReviewTransition {
    ReviewTransition {
        review: item.id,
        expected_version: item.version,
        event: ReviewEvent::Act(action),
        to: action.target(),
        actor: entry.decided_by.clone(),
        claim: ClaimCheck::Off,
        reason: entry.reason.clone(),
        message: None,
        ip: None,
        bulk,
        at: entry.decided_at.unwrap_or(entry.submitted_at),
    }
}

/// Applies review decisions on object changes to the workflow: approve
/// approves the entry of the item's revision, reject and delete reject it;
/// restore and ignore leave it as it is. An entry already in the target
/// state is left alone, so running the handler twice does no harm. An
/// entry a newer edit superseded is refused with
/// [`ModerationError::NotLatestEntry`], and the queue reverts its item.
///
/// ```
/// use std::sync::Arc;
/// use moderation_core::workflow::{MemoryObjectStore, ObjectChangeHandler, ObjectWorkflow};
/// use moderation_core::{MemoryReviewStore, ReviewQueue, SubjectType};
/// let reviews = Arc::new(MemoryReviewStore::new());
/// let workflow = Arc::new(
///     ObjectWorkflow::builder(Arc::new(MemoryObjectStore::new()))
///         .review_store(reviews.clone())
///         .build(),
/// );
/// let queue = ReviewQueue::builder(reviews)
///     .handler(SubjectType::ObjectChange, Arc::new(ObjectChangeHandler::new(workflow)))
///     .build();
/// # let _ = queue;
/// ```
#[derive(Debug, Clone)]
pub struct ObjectChangeHandler {
    workflow: Arc<ObjectWorkflow>,
}

impl ObjectChangeHandler {
    /// A handler acting through `workflow`.
    #[must_use]
    pub fn new(workflow: Arc<ObjectWorkflow>) -> Self {
        Self { workflow }
    }
}

#[async_trait]
impl SubjectHandler for ObjectChangeHandler {
    async fn apply(
        &self,
        item: &ReviewItem,
        context: &ActionContext,
    ) -> Result<(), ModerationError> {
        let ReviewSubject::ObjectChange { object, revision } = &item.subject else {
            return Ok(());
        };
        let target = match context.action {
            ReviewAction::Approve => EntryStatus::Approved,
            ReviewAction::Reject | ReviewAction::Delete => EntryStatus::Rejected,
            ReviewAction::Restore | ReviewAction::Ignore => return Ok(()),
        };
        let entry = self
            .workflow
            .store()
            .revision(object, *revision)
            .await?
            .ok_or_else(|| ModerationError::UnknownObject {
                object: object.clone(),
            })?;
        if entry.status == target {
            return Ok(());
        }
        let reason = context.reason.as_deref();
        if target == EntryStatus::Approved {
            self.workflow
                .approve(&context.actor, (&entry).into(), reason)
                .await?;
        } else {
            self.workflow
                .reject(&context.actor, (&entry).into(), reason)
                .await?;
        }
        Ok(())
    }
}
