//! Scenarios for moderation-core's `HeldItemStore`: a held submission and
//! its review item, and a decision and the review item it closes or
//! applies, are written together or not at all.
//!
//! ```rust,ignore
//! moderation_storage::store_scenarios! {
//!     port = dyn HeldItemStore, memory = MemoryStore::new();
//!     held_submission_opens_its_review_item => held::held_submission_opens_its_review_item,
//! }
//! ```

use std::sync::Arc;

use chrono::Duration;
use moderation_core::{
    ClaimCheck, HeldItemStore, ItemStatus, LogAction, ModerationError, Reason, ReviewAction,
    ReviewClose, ReviewEvent, ReviewItem, ReviewStatus, ReviewSubject, ReviewTransition,
    StoredItem, UserId, submission_draft,
};

use super::ScenarioResult;
use super::items::{base_time, held_comment, moderator_change};

/// Stores held comment `n` through `insert_held`, returning the item and
/// its review item.
///
/// # Errors
/// The store's.
pub async fn hold(
    store: &dyn HeldItemStore,
    n: i64,
) -> Result<(StoredItem, ReviewItem), ModerationError> {
    let (item, log) = held_comment(n, 7, n)?;
    let reasons = vec![Reason::new("first_timer", "First comment by this author")];
    let (stored, opened) = store
        .insert_held(item, log, submission_draft(&reasons))
        .await?;
    Ok((stored, opened.item))
}

/// A queue decision `action` by a moderator on `review` as read.
///
/// # Errors
/// Never in practice: the moderator id is valid.
pub fn decision(
    review: &ReviewItem,
    action: ReviewAction,
) -> Result<ReviewTransition, ModerationError> {
    Ok(ReviewTransition {
        review: review.id,
        expected_version: review.version,
        event: ReviewEvent::Act(action),
        to: action.target(),
        actor: Some(UserId::new("moderator-1")?),
        claim: ClaimCheck::NotHeldByOther,
        reason: Some("decided in the queue".to_owned()),
        message: None,
        ip: None,
        bulk: None,
        at: base_time() + Duration::seconds(7_200),
    })
}

/// A held submission is stored with its log entry and one pending review
/// item about it, with the draft's reasons.
pub async fn held_submission_opens_its_review_item(
    store: Arc<dyn HeldItemStore>,
) -> ScenarioResult {
    let (item, review) = hold(store.as_ref(), 1).await?;
    assert_eq!(item.status, ItemStatus::Held);
    assert_eq!(review.subject, ReviewSubject::Submission(item.id));
    assert_eq!(review.status, ReviewStatus::Pending);
    assert_eq!(review.kind, item.object.kind);
    assert_eq!(review.author, item.author);
    assert_eq!(review.created_at, item.created_at);
    assert_eq!(review.reasons.len(), 1);
    assert_eq!(
        store.review_for_subject(&review.subject).await?,
        Some(review.clone())
    );
    assert_eq!(store.item(item.id).await?, Some(item.clone()));
    assert_eq!(store.log_entries(item.id).await?.len(), 1);
    assert_eq!(store.history(review.id).await?.len(), 1);
    Ok(())
}

/// Approving in the queue publishes the submission in the same step;
/// rejecting and deleting remove it; restoring and ignoring leave it.
pub async fn queue_decisions_change_the_submission(
    store: Arc<dyn HeldItemStore>,
) -> ScenarioResult {
    for (n, action, expected) in [
        (1, ReviewAction::Approve, ItemStatus::Public),
        (2, ReviewAction::Reject, ItemStatus::Removed),
        (3, ReviewAction::Delete, ItemStatus::Removed),
        (4, ReviewAction::Ignore, ItemStatus::Held),
    ] {
        let (item, review) = hold(store.as_ref(), n).await?;
        let decided = store.decide_held(vec![decision(&review, action)?]).await?;
        assert_eq!(decided.len(), 1);
        let Some(first) = decided.first() else {
            return Ok(());
        };
        assert_eq!(first.review.status, action.target());
        assert_eq!(first.review.version, review.version + 1);
        let stored = store.item(item.id).await?;
        assert_eq!(stored.as_ref().map(|i| i.status), Some(expected));
        assert_eq!(first.item, stored.filter(|_| expected != ItemStatus::Held));
        let log = store.log_entries(item.id).await?;
        if expected == ItemStatus::Held {
            assert_eq!(log.len(), 1);
        } else {
            let last = log.last();
            assert_eq!(last.map(|e| e.from_status), Some(Some(ItemStatus::Held)));
            assert_eq!(last.map(|e| e.to_status), Some(Some(expected)));
            assert_eq!(
                last.and_then(|e| e.reason.clone()).as_deref(),
                Some("decided in the queue")
            );
        }
    }
    // A deleted review restored: the submission stays removed.
    let (item, review) = hold(store.as_ref(), 5).await?;
    let deleted = store
        .decide_held(vec![decision(&review, ReviewAction::Delete)?])
        .await?;
    let deleted = deleted.first().map(|d| d.review.clone()).unwrap_or(review);
    let restored = store
        .decide_held(vec![decision(&deleted, ReviewAction::Restore)?])
        .await?;
    assert_eq!(
        restored
            .first()
            .map(|d| (d.review.status, d.item.is_none())),
        Some((ReviewStatus::Pending, true))
    );
    assert_eq!(
        store.item(item.id).await?.map(|i| i.status),
        Some(ItemStatus::Removed)
    );
    Ok(())
}

/// One batch of queue decisions on several submissions changes each of
/// them, in input order, in one step.
pub async fn a_batch_of_decisions_changes_every_submission(
    store: Arc<dyn HeldItemStore>,
) -> ScenarioResult {
    let mut held = Vec::new();
    for n in 1..=5 {
        held.push(hold(store.as_ref(), n).await?);
    }
    let actions = [
        ReviewAction::Approve,
        ReviewAction::Reject,
        ReviewAction::Ignore,
        ReviewAction::Approve,
        ReviewAction::Delete,
    ];
    let transitions = held
        .iter()
        .zip(actions)
        .map(|((_, review), action)| decision(review, action))
        .collect::<Result<Vec<_>, _>>()?;
    let decided = store.decide_held(transitions).await?;
    assert_eq!(decided.len(), held.len());
    for (((item, review), action), decided) in held.iter().zip(actions).zip(&decided) {
        assert_eq!(decided.review.id, review.id);
        assert_eq!(decided.review.status, action.target());
        let expected = match action {
            ReviewAction::Approve => ItemStatus::Public,
            ReviewAction::Ignore => ItemStatus::Held,
            _ => ItemStatus::Removed,
        };
        let stored = store.item(item.id).await?;
        assert_eq!(stored.as_ref().map(|i| i.status), Some(expected));
        assert_eq!(
            decided.item,
            stored.filter(|_| expected != ItemStatus::Held)
        );
    }
    Ok(())
}

/// A stale review version refuses the whole batch: neither review items
/// nor submissions change.
pub async fn a_refused_decision_writes_nothing(store: Arc<dyn HeldItemStore>) -> ScenarioResult {
    let (first_item, first) = hold(store.as_ref(), 1).await?;
    let (second_item, second) = hold(store.as_ref(), 2).await?;
    let mut stale = decision(&second, ReviewAction::Approve)?;
    stale.expected_version += 1;
    let refused = store
        .decide_held(vec![decision(&first, ReviewAction::Approve)?, stale])
        .await;
    assert!(
        matches!(refused, Err(ModerationError::ReviewConflict { .. })),
        "{refused:?}"
    );
    for (item, review) in [(first_item, first), (second_item, second)] {
        assert_eq!(store.review(review.id).await?, Some(review.clone()));
        assert_eq!(store.item(item.id).await?, Some(item.clone()));
        assert_eq!(store.history(review.id).await?.len(), 1);
        assert_eq!(store.log_entries(item.id).await?.len(), 1);
    }
    Ok(())
}

/// A decision on a submission that is gone (a cleanup job) fails with
/// `NotFound` and leaves the review item pending.
pub async fn a_decision_on_a_vanished_submission_writes_nothing(
    store: Arc<dyn HeldItemStore>,
) -> ScenarioResult {
    let (item, review) = hold(store.as_ref(), 1).await?;
    store.delete_items(&[item.id]).await?;
    let refused = store
        .decide_held(vec![decision(&review, ReviewAction::Approve)?])
        .await;
    assert!(
        matches!(refused, Err(ModerationError::NotFound { .. })),
        "{refused:?}"
    );
    assert_eq!(store.review(review.id).await?, Some(review.clone()));
    assert_eq!(store.history(review.id).await?.len(), 1);
    Ok(())
}

/// A direct approval closes the submission's pending review item in the
/// same step, whoever holds a claim on it; without a pending review item
/// it changes the submission alone.
pub async fn a_direct_decision_closes_the_review_item(
    store: Arc<dyn HeldItemStore>,
) -> ScenarioResult {
    let (item, review) = hold(store.as_ref(), 1).await?;
    let close = |action| ReviewClose {
        action,
        actor: UserId::new("moderator-1").ok(),
        reason: Some("looks fine".to_owned()),
        ip: None,
        at: base_time() + Duration::seconds(3_600),
    };
    let change = moderator_change(item.id, item.version, ItemStatus::Held, ItemStatus::Public)?;
    let (changed, closed) = store
        .change_status_closing(change, Some(close(ReviewAction::Approve)))
        .await?;
    assert_eq!(changed.status, ItemStatus::Public);
    let closed = closed.map(|r| (r.id, r.status, r.version));
    assert_eq!(closed, Some((review.id, ReviewStatus::Approved, 2)));
    assert_eq!(
        store.review(review.id).await?.map(|r| r.status),
        Some(ReviewStatus::Approved)
    );
    // Removing it later: no pending review item is left, the item changes.
    let change = moderator_change(
        item.id,
        changed.version,
        ItemStatus::Public,
        ItemStatus::Removed,
    )?;
    let (removed, closed) = store
        .change_status_closing(change, Some(close(ReviewAction::Reject)))
        .await?;
    assert_eq!((removed.status, closed), (ItemStatus::Removed, None));
    let actions: Vec<LogAction> = store
        .log_entries(item.id)
        .await?
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [LogAction::SubmitHeld, LogAction::Approve, LogAction::Remove]
    );
    Ok(())
}

/// A direct decision on a stale item version is a `Conflict` and closes
/// nothing.
pub async fn a_stale_direct_decision_writes_nothing(
    store: Arc<dyn HeldItemStore>,
) -> ScenarioResult {
    let (item, review) = hold(store.as_ref(), 1).await?;
    let change = moderator_change(
        item.id,
        item.version + 1,
        ItemStatus::Held,
        ItemStatus::Public,
    )?;
    let close = ReviewClose {
        action: ReviewAction::Approve,
        actor: None,
        reason: None,
        ip: None,
        at: base_time(),
    };
    let refused = store.change_status_closing(change, Some(close)).await;
    assert!(
        matches!(refused, Err(ModerationError::Conflict { .. })),
        "{refused:?}"
    );
    assert_eq!(store.item(item.id).await?, Some(item));
    assert_eq!(store.review(review.id).await?, Some(review));
    Ok(())
}

/// A queue decision and a direct decision on the same submission at once:
/// exactly one wins, and the review item and the submission agree.
pub async fn queue_and_direct_decisions_race(store: Arc<dyn HeldItemStore>) -> ScenarioResult {
    for n in 0..20 {
        let (item, review) = hold(store.as_ref(), n).await?;
        let barrier = Arc::new(tokio::sync::Barrier::new(2));
        let queue = {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            let transition = decision(&review, ReviewAction::Reject)?;
            tokio::spawn(async move {
                barrier.wait().await;
                store.decide_held(vec![transition]).await.map(|_| ())
            })
        };
        let direct = {
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            let change =
                moderator_change(item.id, item.version, ItemStatus::Held, ItemStatus::Public)?;
            let close = ReviewClose {
                action: ReviewAction::Approve,
                actor: None,
                reason: None,
                ip: None,
                at: base_time(),
            };
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .change_status_closing(change, Some(close))
                    .await
                    .map(|_| ())
            })
        };
        let outcomes = [
            queue.await.map_err(ModerationError::store)?,
            direct.await.map_err(ModerationError::store)?,
        ];
        let wins = outcomes.iter().filter(|o| o.is_ok()).count();
        assert_eq!(wins, 1, "{outcomes:?}");
        for outcome in &outcomes {
            if let Err(error) = outcome {
                assert!(error.is_conflict(), "{error:?}");
            }
        }
        let stored = store.item(item.id).await?.map(|i| i.status);
        let closed = store.review(review.id).await?.map(|r| r.status);
        let agreed = matches!(
            (stored, closed),
            (Some(ItemStatus::Public), Some(ReviewStatus::Approved))
                | (Some(ItemStatus::Removed), Some(ReviewStatus::Rejected))
        );
        assert!(agreed, "{stored:?} {closed:?}");
    }
    Ok(())
}
