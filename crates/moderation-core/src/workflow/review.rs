//! The workflow in the review queue (D8): a queued create or edit opens a
//! [`ReviewSubject::ObjectChange`] item, and [`ObjectChangeHandler`] applies
//! the queue's decision to the entry through the workflow.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::entry::{EntryStatus, ObjectEntry};
use super::service::ObjectWorkflow;
use super::store::{EntryWrite, ObjectWrite};
use super::transition::{Decided, ObjectAction};
use crate::actor::AuthorKey;
use crate::error::ModerationError;
use crate::ids::{ObjectRef, UserId};
use crate::queue::{
    ActionContext, ClaimCheck, ClaimPolicy, NewReview, ReviewAction, ReviewEvent, ReviewItem,
    ReviewReason, ReviewStatus, ReviewStore, ReviewSubject, ReviewTransition, SubjectDecider,
    SubjectHandler,
};

/// The reason code of an object change in the queue.
pub const OBJECT_CHANGE_REASON: &str = "object_change";
/// The weight of that reason in the item's score.
pub const OBJECT_CHANGE_SCORE: i32 = 1;

/// The review item a pending entry opens: its object at its revision,
/// by its submitter, with one reason saying whether it is new or an edit.
#[must_use]
pub fn object_change_review(entry: &ObjectEntry, is_new: bool) -> NewReview {
    change_review(
        &entry.object,
        entry.revision,
        entry.submitted_by.as_ref(),
        entry.submitted_at,
        is_new,
    )
}

/// The review item the queued change `write` opens, planned before it is
/// stored so both commit together: the entry it opens or updates is its
/// last one (a superseded one comes first). `None` when it writes no entry.
pub(crate) fn queued_review(write: &ObjectWrite, is_new: bool) -> Option<NewReview> {
    Some(match write.entries.last()? {
        EntryWrite::Insert(new) => change_review(
            &new.object,
            new.revision,
            new.submitted_by.as_ref(),
            new.submitted_at,
            is_new,
        ),
        EntryWrite::Update { entry, .. } => object_change_review(entry, is_new),
    })
}

fn change_review(
    object: &ObjectRef,
    revision: i64,
    submitted_by: Option<&UserId>,
    submitted_at: DateTime<Utc>,
    is_new: bool,
) -> NewReview {
    let text = if is_new {
        "New object waiting for approval"
    } else {
        "Edit waiting for approval"
    };
    NewReview {
        subject: ReviewSubject::ObjectChange {
            object: object.clone(),
            revision,
        },
        kind: object.kind.clone(),
        author: submitted_by.cloned().map(AuthorKey::User),
        reasons: vec![ReviewReason::new(
            OBJECT_CHANGE_REASON,
            text,
            OBJECT_CHANGE_SCORE,
        )],
        priority: 0,
        created_at: submitted_at,
    }
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

/// The transitions closing the `open` items (as read before the decision)
/// of `entries`, which `action` decides as `decided` says: approve
/// approves an item, reject rejects it, set-pending closes nothing. Claims
/// are not checked here: the decision is already taken, after
/// [`claim_refusal`] let it through; the versions are, so an item that
/// changed since it was read fails the transaction.
pub(crate) fn closing_transitions(
    mut open: HashMap<String, ReviewItem>,
    entries: &[&ObjectEntry],
    action: ObjectAction,
    decided: &Decided,
) -> Vec<ReviewTransition> {
    let Some(action) = review_action(action) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|entry| {
            let item = open.remove(&change_subject(entry).key())?;
            Some(ReviewTransition {
                review: item.id,
                expected_version: item.version,
                event: ReviewEvent::Act(action),
                to: action.target(),
                actor: decided.by.clone(),
                claim: ClaimCheck::Off,
                reason: decided.reason.clone(),
                message: None,
                ip: None,
                bulk: decided.bulk,
                at: decided.at,
            })
        })
        .collect()
}

/// What a review decision does to its change's entry: the workflow
/// action and the status it leaves the entry in. Restore and ignore leave
/// the entry as it is (`None`).
pub(crate) fn entry_effect(action: ReviewAction) -> Option<(ObjectAction, EntryStatus)> {
    match action {
        ReviewAction::Approve => Some((ObjectAction::Approve, EntryStatus::Approved)),
        ReviewAction::Reject | ReviewAction::Delete => {
            Some((ObjectAction::Reject, EntryStatus::Rejected))
        }
        ReviewAction::Restore | ReviewAction::Ignore => None,
    }
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

/// Applies review decisions on object changes to the workflow: approve
/// approves the entry of the item's revision, reject and delete reject it;
/// restore and ignore leave it as it is. An entry already in the target
/// state is left alone, so deciding twice does no harm.
///
/// When the workflow keeps its review queue in its own store
/// ([`ObjectWorkflowBuilder::review_store`](super::ObjectWorkflowBuilder::review_store)),
/// the handler is the queue's [`SubjectDecider`] for object changes: the
/// review item's transition and the entry's decision commit in one
/// transaction, and an entry a newer edit superseded is refused with
/// [`ModerationError::NotLatestEntry`] with nothing written. Otherwise it
/// applies each decision after the queue committed it.
///
/// ```
/// use std::sync::Arc;
/// use moderation_core::workflow::{MemoryObjectStore, ObjectChangeHandler, ObjectWorkflow};
/// use moderation_core::{ReviewQueue, SubjectType};
/// let store = Arc::new(MemoryObjectStore::new());
/// let workflow = Arc::new(
///     ObjectWorkflow::builder(store.clone())
///         .review_store(store.clone())
///         .build(),
/// );
/// let queue = ReviewQueue::builder(store)
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
        let Some((_, target)) = entry_effect(context.action) else {
            return Ok(());
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

    fn decider(&self) -> Option<&dyn SubjectDecider> {
        self.workflow.keeps_reviews().then_some(self)
    }
}

#[async_trait]
impl SubjectDecider for ObjectChangeHandler {
    async fn decide(
        &self,
        items: &[ReviewItem],
        transitions: Vec<ReviewTransition>,
        context: &ActionContext,
    ) -> Result<Vec<ReviewItem>, ModerationError> {
        self.workflow
            .decide_reviewed(items, transitions, context)
            .await
    }
}
