//! Held submissions and their review items, written together.
//!
//! A held submission and the review item it opens, and a decision on a held
//! submission and the review item it closes, are one user-visible step
//! each. A store that keeps both the items and the review queue implements
//! [`HeldItemStore`] and commits each such step in one transaction: a crash
//! can never leave a held item out of the queue, or a review item approved
//! while its submission is still held.

use std::collections::HashMap;
use std::net::IpAddr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::error::ModerationError;
use crate::ids::{ItemId, UserId};
use crate::queue::item::{NewReview, ReviewAction, ReviewEvent, ReviewItem, ReviewReason};
use crate::queue::store::{ClaimCheck, Opened, ReviewStore, ReviewTransition};
use crate::queue::subject::ReviewSubject;
use crate::store::{
    ItemStatus, LogAction, ModerationStore, NewItem, NewLogEntry, StatusChange, StoredItem,
};

/// The review item a held submission opens, before the submission has an
/// id: the store fills in the subject, kind, author and time from the item
/// it stores.
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewDraft {
    /// Why the submission needs a human.
    pub reasons: Vec<ReviewReason>,
    /// Its priority in the queue.
    pub priority: i32,
}

impl ReviewDraft {
    /// The review item for `item` as stored.
    #[must_use]
    pub fn for_item(&self, item: &StoredItem) -> NewReview {
        self.for_new(
            item.id,
            &item.object.kind,
            item.author.as_ref(),
            item.created_at,
        )
    }

    /// The review item for a submission about to be stored as `id`, so a
    /// store can check it before writing anything.
    #[must_use]
    pub fn for_new_item(&self, id: ItemId, item: &NewItem) -> NewReview {
        self.for_new(id, &item.object.kind, item.author.as_ref(), item.created_at)
    }

    fn for_new(
        &self,
        id: ItemId,
        kind: &crate::ids::Kind,
        author: Option<&crate::actor::AuthorKey>,
        created_at: DateTime<Utc>,
    ) -> NewReview {
        NewReview {
            subject: ReviewSubject::Submission(id),
            kind: kind.clone(),
            author: author.cloned(),
            reasons: self.reasons.clone(),
            priority: self.priority,
            created_at,
        }
    }
}

/// What a review decision does to its held submission: the status it
/// moves the item to, and who and why for the item's log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemEffect {
    /// The item's new status.
    pub to: ItemStatus,
    /// The item log's action.
    pub action: LogAction,
    /// The moderator.
    pub actor: Option<UserId>,
    /// The moderator's reason.
    pub reason: Option<String>,
    /// The moderator's IP address.
    pub ip: Option<IpAddr>,
    /// The bulk action this belongs to.
    pub bulk: Option<Uuid>,
    /// When.
    pub at: DateTime<Utc>,
}

impl ItemEffect {
    /// The effect of review `action` on a held submission: approve
    /// publishes it, reject and delete remove it (softly), restore and
    /// ignore leave it as it is (`None`).
    #[must_use]
    pub fn of(action: ReviewAction, transition: &ReviewTransition) -> Option<Self> {
        let (to, action) = match action {
            ReviewAction::Approve => (ItemStatus::Public, LogAction::Approve),
            ReviewAction::Reject | ReviewAction::Delete => (ItemStatus::Removed, LogAction::Remove),
            ReviewAction::Restore | ReviewAction::Ignore => return None,
        };
        Some(Self {
            to,
            action,
            actor: transition.actor.clone(),
            reason: transition.reason.clone(),
            ip: transition.ip,
            bulk: transition.bulk,
            at: transition.at,
        })
    }

    /// The status change this effect makes to `item` as stored, checked
    /// against its stored version; `None` when the item already has the
    /// status, so applying a decision twice changes nothing.
    #[must_use]
    pub fn change_for(&self, item: &StoredItem) -> Option<StatusChange> {
        (item.status != self.to).then(|| StatusChange {
            item: item.id,
            expected_version: item.version,
            status: self.to,
            log: NewLogEntry {
                action: self.action,
                actor: self.actor.clone(),
                reason: self.reason.clone(),
                detail: serde_json::Value::Null,
                ip: self.ip,
                from_status: Some(item.status),
                to_status: Some(self.to),
                bulk: self.bulk,
                at: self.at,
            },
        })
    }
}

/// How a direct decision on an item (approve, remove) closes the item's
/// pending review item: as the same moderator, without a claim check (the
/// decision is taken already).
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewClose {
    /// The queue action that matches the decision.
    pub action: ReviewAction,
    /// The moderator.
    pub actor: Option<UserId>,
    /// The moderator's reason.
    pub reason: Option<String>,
    /// The moderator's IP address.
    pub ip: Option<IpAddr>,
    /// When.
    pub at: DateTime<Utc>,
}

impl ReviewClose {
    /// The review action that matches a direct status change to `status`:
    /// publishing approves, removing or rejecting rejects; `None` for a
    /// status that closes nothing (held).
    #[must_use]
    pub fn action_for(status: ItemStatus) -> Option<ReviewAction> {
        match status {
            ItemStatus::Public => Some(ReviewAction::Approve),
            ItemStatus::Removed | ItemStatus::Rejected => Some(ReviewAction::Reject),
            ItemStatus::Held => None,
        }
    }

    /// The transition that closes `item` as stored (its current version).
    #[must_use]
    pub fn transition_for(&self, item: &ReviewItem) -> ReviewTransition {
        ReviewTransition {
            review: item.id,
            expected_version: item.version,
            event: ReviewEvent::Act(self.action),
            to: self.action.target(),
            actor: self.actor.clone(),
            claim: ClaimCheck::Off,
            reason: self.reason.clone(),
            message: None,
            ip: self.ip,
            bulk: None,
            at: self.at,
        }
    }
}

/// The change a queue decision makes to its subject when the subject is a
/// held submission: `Some((item, effect))` for approve, reject and delete
/// on a [`ReviewSubject::Submission`], `None` otherwise. Every store decides
/// with this one function, on the review item as stored.
#[must_use]
pub fn submission_effect(
    transition: &ReviewTransition,
    review: &ReviewItem,
) -> Option<(ItemId, ItemEffect)> {
    let ReviewSubject::Submission(item) = review.subject else {
        return None;
    };
    let ReviewEvent::Act(action) = transition.event else {
        return None;
    };
    ItemEffect::of(action, transition).map(|effect| (item, effect))
}

/// The held submissions `transitions` act on, each once, given the review
/// items the transitions were applied to (in the same order): what a store
/// reads before it plans their changes with [`submission_changes`].
#[must_use]
pub fn decided_submissions(
    transitions: &[ReviewTransition],
    reviews: &[ReviewItem],
) -> Vec<ItemId> {
    let mut ids: Vec<ItemId> = transitions
        .iter()
        .zip(reviews)
        .filter_map(|(transition, review)| submission_effect(transition, review))
        .map(|(id, _)| id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The status changes `transitions` make to their held submissions, as
/// stored in `items`, each with the position of its transition: a
/// submission already in the target status gets none, and a submission
/// named twice is changed from what the first change leaves. Every store
/// plans a queue decision's effects with this one function.
///
/// # Errors
/// [`ModerationError::NotFound`] when a submission is not in `items`.
pub fn submission_changes(
    transitions: &[ReviewTransition],
    reviews: &[ReviewItem],
    mut items: HashMap<ItemId, StoredItem>,
) -> Result<Vec<(usize, StatusChange)>, ModerationError> {
    let mut changes = Vec::new();
    for (position, (transition, review)) in transitions.iter().zip(reviews).enumerate() {
        let Some((id, effect)) = submission_effect(transition, review) else {
            continue;
        };
        let stored = items
            .get_mut(&id)
            .ok_or(ModerationError::NotFound { item: id })?;
        if let Some(change) = effect.change_for(stored) {
            stored.status = change.status;
            stored.version += 1;
            changes.push((position, change));
        }
    }
    Ok(changes)
}

/// Pairs decided review items with the submissions `changes` changed (at
/// the positions [`submission_changes`] gave them), in input order.
#[must_use]
pub fn decisions_with_items(
    reviews: Vec<ReviewItem>,
    changed: Vec<(usize, StoredItem)>,
) -> Vec<Decided> {
    let mut changed = changed.into_iter().peekable();
    reviews
        .into_iter()
        .enumerate()
        .map(|(position, review)| {
            let mut item = None;
            while let Some((_, next)) = changed.next_if(|(at, _)| *at == position) {
                item = Some(next);
            }
            Decided { review, item }
        })
        .collect()
}

/// A queue decision as committed: the review item, and the held submission
/// it changed, if it changed one.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    /// The review item after the decision.
    pub review: ReviewItem,
    /// The submission after the decision, when the decision changed it.
    pub item: Option<StoredItem>,
}

/// A store that keeps moderated items and the review queue together, and
/// commits each step that changes both as one transaction.
///
/// The SQL stores of `moderation-storage` and [`MemoryStore`] implement it.
/// Give one to [`ModerationBuilder::review_store`] and
/// [`ReviewQueueBuilder::held_items`]: every held submission is queued in
/// the transaction that stores it, every queue decision on a held
/// submission changes the submission in the transaction of the decision,
/// and every direct decision closes the submission's review item in its
/// own transaction.
///
/// Contract, which the conformance suite checks for every implementation:
/// each method writes everything it names or nothing, and its version and
/// claim checks are those of the single-port methods it combines.
///
/// [`MemoryStore`]: crate::MemoryStore
/// [`ModerationBuilder::review_store`]: crate::ModerationBuilder::review_store
/// [`ReviewQueueBuilder::held_items`]: crate::ReviewQueueBuilder::held_items
#[async_trait]
pub trait HeldItemStore: ModerationStore + ReviewStore {
    /// Inserts a held item with its log entry and opens its review item
    /// from `review`, in one transaction.
    ///
    /// # Errors
    /// As [`ModerationStore::insert_item`] and [`ReviewStore::open`]; on
    /// any error nothing is stored.
    async fn insert_held(
        &self,
        item: NewItem,
        log: NewLogEntry,
        review: ReviewDraft,
    ) -> Result<(StoredItem, Opened), ModerationError>;

    /// Applies queue decisions, all in one transaction: each transition on
    /// its review item (version- and claim-checked as
    /// [`ReviewStore::transition_batch`]) and, for a held submission, the
    /// change [`submission_effect`] names, to the submission as stored
    /// (none when it already has that status). Returns them in input order.
    ///
    /// # Errors
    /// As [`ReviewStore::transition_batch`]; [`ModerationError::NotFound`]
    /// when a submission is gone; on any error nothing is written.
    async fn decide_held(
        &self,
        transitions: Vec<ReviewTransition>,
    ) -> Result<Vec<Decided>, ModerationError>;

    /// Applies a direct status change (version-checked as
    /// [`ModerationStore::change_status`]) and, in the same transaction,
    /// closes the item's pending review item with `close`, if it has one.
    ///
    /// # Errors
    /// As [`ModerationStore::change_status`]; on any error nothing is
    /// written.
    async fn change_status_closing(
        &self,
        change: StatusChange,
        close: Option<ReviewClose>,
    ) -> Result<(StoredItem, Option<ReviewItem>), ModerationError>;
}
