//! The review queue under concurrency on both SQL backends: two moderators
//! acting on one item at once, exactly one wins; many opens of one subject
//! at once, exactly one item.

use std::sync::Arc;

use moderation_core::{ModerationError, ReviewAction, ReviewStatus, ReviewStore};
use moderation_storage::testkit::{self, ScenarioResult, review};
use tokio::sync::Barrier;

/// Two tasks approve and reject the same item from the same version at the
/// same moment, 20 times over.
async fn two_moderators_at_once(store: Arc<dyn ReviewStore>) -> ScenarioResult {
    for round in 0..20 {
        let item = store
            .open(review::submission_review(round, 10, "hold", 1, round)?)
            .await?
            .item;
        let barrier = Arc::new(Barrier::new(2));
        let mut handles = Vec::new();
        for (by, action) in [(1, ReviewAction::Approve), (2, ReviewAction::Reject)] {
            let store = Arc::clone(&store);
            let barrier = Arc::clone(&barrier);
            let transition = review::act(item.id, 1, action, by);
            handles.push(tokio::spawn(async move {
                barrier.wait().await;
                store.transition(transition).await
            }));
        }
        let mut wins = Vec::new();
        let mut conflicts = 0;
        for handle in handles {
            match handle.await.map_err(ModerationError::store)? {
                Ok(item) => wins.push(item),
                Err(ModerationError::ReviewConflict {
                    expected, actual, ..
                }) => {
                    assert_eq!((expected, actual), (1, 2));
                    conflicts += 1;
                }
                Err(other) => return Err(other),
            }
        }
        assert_eq!((wins.len(), conflicts), (1, 1), "round {round}");
        assert_eq!(store.review(item.id).await?.as_ref(), wins.first());
        assert_eq!(
            store.history(item.id).await?.len(),
            2,
            "open and one action"
        );
    }
    Ok(())
}

/// Eight tasks open the same subject at once: one item, scores summed.
async fn concurrent_opens_merge(store: Arc<dyn ReviewStore>) -> ScenarioResult {
    let barrier = Arc::new(Barrier::new(8));
    let mut handles = Vec::new();
    for task in 0..8 {
        let store = Arc::clone(&store);
        let barrier = Arc::clone(&barrier);
        let open = review::submission_review(1, task, "flag", 1, 0)?;
        handles.push(tokio::spawn(async move {
            barrier.wait().await;
            store.open(open).await
        }));
    }
    let mut created = 0;
    let mut ids = Vec::new();
    for handle in handles {
        let opened = handle.await.map_err(ModerationError::store)??;
        created += usize::from(opened.created);
        ids.push(opened.item.id);
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!((created, ids.len()), (1, 1));
    let Some(&id) = ids.first() else {
        return Ok(());
    };
    let item = store.review(id).await?;
    assert_eq!(
        item.as_ref()
            .map(|item| (item.score, item.version, item.status)),
        Some((8, 8, ReviewStatus::Pending))
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_moderators_at_once_exactly_one_wins() {
    testkit::with_sqlite(|store| two_moderators_at_once(Arc::new(store))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_moderators_at_once_exactly_one_wins() {
    testkit::with_postgres(|store| two_moderators_at_once(Arc::new(store))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_concurrent_opens_of_one_subject_make_one_item() {
    testkit::with_sqlite(|store| concurrent_opens_merge(Arc::new(store))).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_concurrent_opens_of_one_subject_make_one_item() {
    testkit::with_postgres(|store| concurrent_opens_merge(Arc::new(store))).await;
}
