//! Held comments in the review queue: the pipeline opens a submission review
//! item with the decision's reasons in the transaction that stores the item,
//! and the queue's decisions change the held item in the transaction of the
//! decision (approve publishes, reject and delete remove).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::sync::Arc;

use common::*;
use moderation_core::{
    CommentOptions, ItemStatus, ManualClock, MemoryStore, Moderation, ModerationStore,
    ReviewAction, ReviewItem, ReviewQueue, ReviewStatus, ReviewStore, ReviewSubject, StoredItem,
    Verdict,
};

struct Wired {
    moderation: Arc<Moderation>,
    store: Arc<MemoryStore>,
    queue: ReviewQueue,
}

fn wired(options: CommentOptions) -> Wired {
    let clock = Arc::new(ManualClock::new(now()));
    let store = Arc::new(MemoryStore::new());
    let moderation = Arc::new(
        Moderation::builder(store.clone())
            .clock(clock.clone())
            .review_store(store.clone())
            .build(),
    );
    moderation
        .registry()
        .register::<Comment, _>(CommentModerator::new(options))
        .unwrap();
    let queue = ReviewQueue::builder(store.clone())
        .clock(clock)
        .held_items(store.clone())
        .build();
    Wired {
        moderation,
        store,
        queue,
    }
}

/// Submits comment `n`, held, and finds the review item it opened.
async fn hold(w: &Wired, n: i64) -> (StoredItem, ReviewItem) {
    let held = w
        .moderation
        .submit(comment_by(user(7), n, &format!("Comment {n}")))
        .await
        .unwrap()
        .item
        .unwrap();
    let review = w
        .queue
        .for_subject(&ReviewSubject::Submission(held.id))
        .await
        .unwrap()
        .unwrap();
    (held, review)
}

#[tokio::test]
async fn a_held_submission_opens_one_review_item_with_its_reasons() {
    let w = wired(CommentOptions::default().always_moderate(true));
    let outcome = w
        .moderation
        .submit(comment_by(user(7), 1, "Hello"))
        .await
        .unwrap();
    assert_eq!(outcome.verdict(), Verdict::Hold);
    let held = outcome.item.unwrap();
    let review = w
        .queue
        .for_subject(&ReviewSubject::Submission(held.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(review.status, ReviewStatus::Pending);
    assert_eq!(review.kind, held.object.kind);
    assert_eq!(review.author, held.author);
    assert_eq!(review.created_at, held.created_at);
    let codes: Vec<String> = review.reasons.iter().map(|r| r.code.clone()).collect();
    let rules: Vec<String> = held.reasons.iter().map(|r| r.rule.to_string()).collect();
    assert_eq!(codes, rules);
    // The same text again is a duplicate: no second item, no second review.
    let again = w
        .moderation
        .submit(comment_by(user(7), 1, "Hello"))
        .await
        .unwrap();
    assert!(again.duplicate);
    let reopened = w.queue.get(review.id).await.unwrap();
    assert_eq!(reopened.version, 1);
}

#[tokio::test]
async fn published_submissions_open_nothing() {
    let w = wired(CommentOptions::default());
    let outcome = w
        .moderation
        .submit(comment_by(user(7), 1, "Hello"))
        .await
        .unwrap();
    assert_eq!(outcome.verdict(), Verdict::Publish);
    let subject = ReviewSubject::Submission(outcome.item.unwrap().id);
    assert_eq!(w.queue.for_subject(&subject).await.unwrap(), None);
}

#[tokio::test]
async fn approving_in_the_queue_publishes_the_held_item() {
    let w = wired(CommentOptions::default().always_moderate(true));
    let (held, review) = hold(&w, 1).await;
    let moderator = user(1).with_staff(true);
    w.queue
        .decide(
            review.id,
            review.version,
            ReviewAction::Approve,
            &moderator,
            Some("Fine".into()),
        )
        .await
        .unwrap();
    let item = w.store.item(held.id).await.unwrap().unwrap();
    assert_eq!(item.status, ItemStatus::Public);
    let log = w.store.log_entries(held.id).await.unwrap();
    assert_eq!(log.last().and_then(|e| e.reason.as_deref()), Some("Fine"));
}

#[tokio::test]
async fn rejecting_or_deleting_removes_the_held_item_and_restore_keeps_it_removed() {
    let w = wired(CommentOptions::default().always_moderate(true));
    let moderator = user(1).with_staff(true);
    for (n, action) in [(1, ReviewAction::Reject), (2, ReviewAction::Delete)] {
        let (held, review) = hold(&w, n).await;
        let decided = w
            .queue
            .decide(review.id, 1, action, &moderator, None)
            .await
            .unwrap();
        assert_eq!(
            w.store.item(held.id).await.unwrap().unwrap().status,
            ItemStatus::Removed
        );
        if action == ReviewAction::Delete {
            let restored = w
                .queue
                .decide(
                    review.id,
                    decided.version,
                    ReviewAction::Restore,
                    &moderator,
                    None,
                )
                .await
                .unwrap();
            assert_eq!(restored.status, ReviewStatus::Pending);
            assert_eq!(
                w.store.item(held.id).await.unwrap().unwrap().status,
                ItemStatus::Removed
            );
            w.queue
                .decide(
                    review.id,
                    restored.version,
                    ReviewAction::Approve,
                    &moderator,
                    None,
                )
                .await
                .unwrap();
            assert_eq!(
                w.store.item(held.id).await.unwrap().unwrap().status,
                ItemStatus::Public
            );
        }
    }
}

#[tokio::test]
async fn a_decision_on_a_vanished_item_writes_nothing() {
    let w = wired(CommentOptions::default().always_moderate(true));
    let (held, review) = hold(&w, 1).await;
    // The held item vanished (a cleanup job): the decision fails whole, the
    // review stays pending and the error reaches the moderator.
    w.store.delete_items(&[held.id]).await.unwrap();
    let moderator = user(1).with_staff(true);
    let outcome = w
        .queue
        .decide(review.id, 1, ReviewAction::Approve, &moderator, None)
        .await;
    assert!(matches!(
        outcome,
        Err(moderation_core::ModerationError::NotFound { .. })
    ));
    let after = w.queue.get(review.id).await.unwrap();
    assert_eq!(after.status, ReviewStatus::Pending);
    let store: &dyn ReviewStore = w.queue.store().as_ref();
    assert_eq!(store.history(review.id).await.unwrap().len(), 1);
}
