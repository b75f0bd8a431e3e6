//! Concurrency on both SQL backends: many writers lose nothing, and two
//! moderators acting on one item at once cannot both win.

use std::sync::Arc;

use moderation_core::{ItemStatus, ModerationError, ModerationStore};
use moderation_storage::testkit::{self, ScenarioResult, items};
use tokio::sync::Barrier;

const TASKS: i64 = 8;
const PER_TASK: i64 = 1_000;

/// 8 tasks submit 1 000 items each, one transaction per item.
async fn submit_from_many_tasks(store: Arc<dyn ModerationStore>) -> ScenarioResult {
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = Arc::clone(&store);
        handles.push(tokio::spawn(async move {
            for n in 0..PER_TASK {
                let (item, log) = items::held_comment(task * PER_TASK + n, task, n)?;
                store.insert_item(item, log).await?;
            }
            Ok::<(), ModerationError>(())
        }));
    }
    for handle in handles {
        handle.await.map_err(ModerationError::store)??;
    }
    Ok(())
}

/// Two tasks change the same item from the same version at the same moment.
async fn race_two_moderators(store: Arc<dyn ModerationStore>) -> ScenarioResult {
    for round in 0..20 {
        let (item, log) = items::held_comment(round, 10, round)?;
        let item = store.insert_item(item, log).await?;
        let barrier = Arc::new(Barrier::new(2));
        let mut handles = Vec::new();
        for status in [ItemStatus::Public, ItemStatus::Rejected] {
            let store = Arc::clone(&store);
            let barrier = Arc::clone(&barrier);
            let change = items::moderator_change(item.id, 1, ItemStatus::Held, status)?;
            handles.push(tokio::spawn(async move {
                barrier.wait().await;
                store.change_status(change).await
            }));
        }
        let mut wins = Vec::new();
        let mut conflicts = 0;
        for handle in handles {
            match handle.await.map_err(ModerationError::store)? {
                Ok(changed) => wins.push(changed),
                Err(ModerationError::Conflict {
                    expected, actual, ..
                }) => {
                    assert_eq!((expected, actual), (1, 2));
                    conflicts += 1;
                }
                Err(other) => return Err(other),
            }
        }
        assert_eq!((wins.len(), conflicts), (1, 1), "round {round}");
        assert_eq!(store.item(item.id).await?.as_ref(), wins.first());
        assert_eq!(store.log_entries(item.id).await?.len(), 2);
    }
    Ok(())
}

/// `(items, log entries)` counted straight from the tables, so the check
/// does not rely on the store's own reads. A macro because sqlx's pools are
/// typed per database.
macro_rules! row_counts {
    ($pool:expr) => {{
        let items: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM moderation_items")
            .fetch_one($pool)
            .await
            .unwrap();
        let logs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM moderation_item_log")
            .fetch_one($pool)
            .await
            .unwrap();
        (items, logs)
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_8_tasks_submit_1000_items_each_and_lose_nothing() {
    testkit::with_sqlite(|store| async move {
        submit_from_many_tasks(Arc::new(store.clone())).await?;
        assert_eq!(
            row_counts!(store.read_pool()),
            (TASKS * PER_TASK, TASKS * PER_TASK)
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_8_tasks_submit_1000_items_each_and_lose_nothing() {
    testkit::with_postgres(|store| async move {
        submit_from_many_tasks(Arc::new(store.clone())).await?;
        assert_eq!(
            row_counts!(store.pool()),
            (TASKS * PER_TASK, TASKS * PER_TASK)
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_moderators_at_once_exactly_one_wins() {
    testkit::on_sqlite(race_two_moderators).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_moderators_at_once_exactly_one_wins() {
    testkit::on_postgres(race_two_moderators).await;
}
