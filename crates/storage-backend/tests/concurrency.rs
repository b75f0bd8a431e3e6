//! Concurrency on both SQL backends: many writers lose nothing, two
//! moderators acting on one item at once cannot both win, and two batches
//! of changes on overlapping items at once apply one whole and the other
//! not at all.

use std::sync::Arc;

use moderation_core::{ItemId, ItemStatus, ModerationError, ModerationStore};
use moderation_storage::StorageError;
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

/// Two moderators change overlapping batches of items (the second in the
/// opposite order) from the same versions at the same moment: one batch
/// wins whole, the other is a `Conflict` and changes nothing.
async fn race_two_batches(store: Arc<dyn ModerationStore>) -> ScenarioResult {
    for round in 0..10 {
        let batch = (0..10)
            .map(|n| items::held_comment(round * 10 + n, 10, n))
            .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<ItemId> = store
            .insert_items(batch)
            .await?
            .iter()
            .map(|item| item.id)
            .collect();
        let approve: Vec<ItemId> = ids.iter().take(6).copied().collect();
        let reject: Vec<ItemId> = ids.iter().skip(4).rev().copied().collect();
        let barrier = Arc::new(Barrier::new(2));
        let mut handles = Vec::new();
        for (status, targets) in [
            (ItemStatus::Public, approve.clone()),
            (ItemStatus::Rejected, reject.clone()),
        ] {
            let changes = targets
                .iter()
                .map(|id| items::moderator_change(*id, 1, ItemStatus::Held, status))
                .collect::<Result<Vec<_>, _>>()?;
            let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
            handles.push(tokio::spawn(async move {
                barrier.wait().await;
                store.change_statuses(changes).await
            }));
        }
        let mut winners = Vec::new();
        for ((status, targets), handle) in [
            (ItemStatus::Public, &approve),
            (ItemStatus::Rejected, &reject),
        ]
        .into_iter()
        .zip(handles)
        {
            match handle.await.map_err(ModerationError::store)? {
                Ok(changed) => {
                    let got: Vec<ItemId> = changed.iter().map(|item| item.id).collect();
                    assert_eq!(&got, targets, "round {round}: changed in input order");
                    winners.push((status, targets));
                }
                Err(ModerationError::Conflict { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: exactly one batch wins");
        let (status, targets) = winners
            .first()
            .ok_or_else(|| ModerationError::Config("no batch won".to_owned()))?;
        for id in &ids {
            let item = store
                .item(*id)
                .await?
                .map(|item| (item.status, item.version));
            let logged = store.log_entries(*id).await?.len();
            if targets.contains(id) {
                assert_eq!((item, logged), (Some((*status, 2)), 2), "round {round}");
            } else {
                assert_eq!(
                    (item, logged),
                    (Some((ItemStatus::Held, 1)), 1),
                    "round {round}"
                );
            }
        }
    }
    Ok(())
}

/// Counts the items and the item log entries straight from the tables, so
/// the check does not rely on the store's own reads.
const ROW_COUNTS: &str =
    "SELECT (SELECT COUNT(*) FROM moderation_items), (SELECT COUNT(*) FROM moderation_item_log)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_8_tasks_submit_1000_items_each_and_lose_nothing() {
    testkit::with_sqlite(|store| async move {
        submit_from_many_tasks(Arc::new(store.clone())).await?;
        let counts: (i64, i64) = store
            .write(|conn| {
                Box::pin(async move {
                    let counts = sqlx::query_as(ROW_COUNTS)
                        .fetch_one(conn)
                        .await
                        .map_err(StorageError::from)?;
                    Ok::<_, ModerationError>(counts)
                })
            })
            .await?;
        assert_eq!(counts, (TASKS * PER_TASK, TASKS * PER_TASK));
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_8_tasks_submit_1000_items_each_and_lose_nothing() {
    testkit::with_postgres(|store| async move {
        submit_from_many_tasks(Arc::new(store.clone())).await?;
        let counts: (i64, i64) = sqlx::query_as(ROW_COUNTS)
            .fetch_one(store.pool())
            .await
            .map_err(StorageError::from)?;
        assert_eq!(counts, (TASKS * PER_TASK, TASKS * PER_TASK));
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_overlapping_batches_at_once_one_wins_whole() {
    testkit::on_sqlite(race_two_batches).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_two_overlapping_batches_at_once_one_wins_whole() {
    testkit::on_postgres(race_two_batches).await;
}
