//! Concurrent writes on SQLite share commits (the store's one writer takes
//! whatever is queued into one transaction): whatever number of submissions
//! and status changes arrive at once, and whichever of them fail, every
//! caller gets its own answer, each failed write fails alone and leaves
//! nothing behind, and every other write is stored with its log entries.
//!
//! Writes fail in three ways here: a payload over the store's limit is
//! refused before it reaches the writer; a submission whose log entry the
//! database refuses (a trigger) fails after its item row was written, in the
//! middle of the group; and a batch of two status changes whose second one
//! names a stale version fails after its first one was applied.

use std::collections::BTreeSet;
use std::sync::Arc;

use moderation_core::{ItemId, ItemStatus, ModerationError, ModerationStore, ObjectRef};
use moderation_storage::testkit::{TempSqlite, items};
use moderation_storage::{SqliteStore, StorageError};
use proptest::prelude::*;
use tokio::sync::Barrier;

/// The store's payload limit: every comment of `items::held_comment` fits.
const LIMIT: usize = 200;

/// The reason that makes the database refuse a submission's log entry.
const REFUSED: &str = "refused by the test";

/// Aborts every item log insert whose reason is [`REFUSED`].
const REFUSE: &str = "CREATE TRIGGER refuse BEFORE INSERT ON moderation_item_log \
     WHEN NEW.reason = 'refused by the test' BEGIN SELECT RAISE(ABORT, 'refused'); END";

/// Items, item log entries and moderation log entries, counted straight
/// from the tables.
const ROW_COUNTS: &str = "SELECT (SELECT COUNT(*) FROM moderation_items), \
     (SELECT COUNT(*) FROM moderation_item_log), (SELECT COUNT(*) FROM moderation_log)";

/// What the test throws at the store at once.
#[derive(Debug, Clone)]
struct Load {
    /// Submissions, numbered from 0.
    submissions: i64,
    /// Submissions whose log entry the database refuses.
    refused: BTreeSet<i64>,
    /// Submissions over the payload limit.
    oversized: BTreeSet<i64>,
    /// Batches of two status changes (approvals of two held items).
    batches: i64,
    /// Batches whose second change names a stale version.
    stale: BTreeSet<i64>,
}

/// One concurrent write and what it answered.
enum Answer {
    Submitted(i64, Result<moderation_core::StoredItem, ModerationError>),
    Changed(
        i64,
        Result<Vec<moderation_core::StoredItem>, ModerationError>,
    ),
}

/// Runs `sql` in the writer's transaction, returning its first row.
async fn query<T>(store: &SqliteStore, sql: &'static str) -> Result<Option<T>, ModerationError>
where
    T: Send + Unpin + 'static + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
{
    store
        .write(move |conn| {
            Box::pin(async move {
                let row: Option<T> = sqlx::query_as(sql)
                    .fetch_optional(conn)
                    .await
                    .map_err(StorageError::from)?;
                Ok::<_, ModerationError>(row)
            })
        })
        .await
}

/// The two held items of batch `batch`, inserted before the load starts.
async fn batch_items(
    store: &dyn ModerationStore,
    load: &Load,
) -> Result<Vec<(ItemId, ItemId)>, ModerationError> {
    let mut pairs = Vec::new();
    for batch in 0..load.batches {
        let first = 1_000 + 2 * batch;
        let (a, log_a) = items::held_comment(first, 1, first)?;
        let (b, log_b) = items::held_comment(first + 1, 1, first + 1)?;
        let stored = store.insert_items(vec![(a, log_a), (b, log_b)]).await?;
        let ids: Vec<ItemId> = stored.iter().map(|item| item.id).collect();
        let [a, b] = ids.as_slice() else {
            return Err(ModerationError::Config("two items per batch".to_owned()));
        };
        pairs.push((*a, *b));
    }
    Ok(pairs)
}

async fn write_at_once(load: Load) -> Result<(), ModerationError> {
    let temp = TempSqlite::with_options(|options| options.max_payload_bytes(LIMIT)).await?;
    let sqlite = temp.store().clone();
    let store: Arc<dyn ModerationStore> = Arc::new(sqlite.clone());
    let pairs = batch_items(store.as_ref(), &load).await?;
    query::<(i64,)>(&sqlite, REFUSE).await?;

    let tasks = usize::try_from(load.submissions + load.batches).unwrap_or(0);
    let start = Arc::new(Barrier::new(tasks));
    let mut handles = Vec::new();
    for n in 0..load.submissions {
        let (mut item, mut log) = items::held_comment(n, n % 5, n)?;
        if load.oversized.contains(&n) {
            item.payload = serde_json::json!({"text": "x".repeat(LIMIT)});
        }
        if load.refused.contains(&n) {
            log.reason = Some(REFUSED.to_owned());
        }
        let (store, start) = (Arc::clone(&store), Arc::clone(&start));
        handles.push(tokio::spawn(async move {
            start.wait().await;
            Answer::Submitted(n, store.insert_item(item, log).await)
        }));
    }
    for (batch, (a, b)) in (0..).zip(pairs.iter().copied()) {
        let stale_version = if load.stale.contains(&batch) { 7 } else { 1 };
        let changes = vec![
            items::moderator_change(a, 1, ItemStatus::Held, ItemStatus::Public)?,
            items::moderator_change(b, stale_version, ItemStatus::Held, ItemStatus::Public)?,
        ];
        let (store, start) = (Arc::clone(&store), Arc::clone(&start));
        handles.push(tokio::spawn(async move {
            start.wait().await;
            Answer::Changed(batch, store.change_statuses(changes).await)
        }));
    }

    let (mut stored, mut approved) = (BTreeSet::new(), 0_i64);
    for handle in handles {
        match handle.await.map_err(ModerationError::store)? {
            Answer::Submitted(n, answer) => {
                let (expected, _) = items::held_comment(n, n % 5, n)?;
                match answer {
                    Ok(item) => {
                        assert!(!load.oversized.contains(&n) && !load.refused.contains(&n));
                        assert_eq!(item.object, expected.object, "{n} got its own item");
                        assert_eq!(store.item(item.id).await?, Some(item.clone()));
                        assert_eq!(store.log_entries(item.id).await?.len(), 1);
                        assert!(stored.insert(item.id), "ids are never shared");
                    }
                    Err(ModerationError::PayloadTooLarge { .. }) if load.oversized.contains(&n) => {
                    }
                    Err(ModerationError::Store { .. })
                        if load.refused.contains(&n) && !load.oversized.contains(&n) => {}
                    Err(other) => return Err(other),
                }
                let object = ObjectRef::new(items::comment_kind()?, n);
                let found = store.item_for_object(&object).await?;
                let kept = !load.oversized.contains(&n) && !load.refused.contains(&n);
                assert_eq!(found.is_some(), kept, "submission {n}");
            }
            Answer::Changed(batch, answer) => {
                let pair = pairs
                    .get(usize::try_from(batch).unwrap_or(usize::MAX))
                    .copied();
                let (a, b) = pair.ok_or_else(|| ModerationError::Config("no pair".to_owned()))?;
                let stale = load.stale.contains(&batch);
                match answer {
                    Ok(changed) => {
                        assert!(!stale, "stale batch {batch} was applied");
                        let got: Vec<(ItemId, ItemStatus, i64)> = changed
                            .iter()
                            .map(|i| (i.id, i.status, i.version))
                            .collect();
                        assert_eq!(
                            got,
                            [(a, ItemStatus::Public, 2), (b, ItemStatus::Public, 2)]
                        );
                        approved += 1;
                    }
                    Err(ModerationError::Conflict {
                        item,
                        expected,
                        actual,
                    }) if stale => assert_eq!((item, expected, actual), (b, 7, 1)),
                    Err(other) => return Err(other),
                }
                // The first change of a stale batch was undone with it.
                let (status, version, logged) = if stale {
                    (ItemStatus::Held, 1, 1)
                } else {
                    (ItemStatus::Public, 2, 2)
                };
                for id in [a, b] {
                    let item = store.item(id).await?;
                    assert_eq!(item.map(|i| (i.status, i.version)), Some((status, version)));
                    assert_eq!(store.log_entries(id).await?.len(), logged);
                }
            }
        }
    }

    let counts = query::<(i64, i64, i64)>(&sqlite, ROW_COUNTS).await?;
    let submitted = i64::try_from(stored.len()).unwrap_or(i64::MAX);
    let batch_items = 2 * load.batches;
    assert_eq!(
        counts,
        Some((
            submitted + batch_items,
            submitted + batch_items + 2 * approved,
            2 * approved
        )),
        "nothing of a failed write is left in any table"
    );
    temp.close().await;
    Ok(())
}

fn load() -> impl Strategy<Value = Load> {
    (
        1_i64..60,
        proptest::collection::btree_set(0_i64..60, 0..4),
        proptest::collection::btree_set(0_i64..60, 0..3),
        0_i64..12,
        proptest::collection::btree_set(0_i64..12, 0..4),
    )
        .prop_map(|(submissions, refused, oversized, batches, stale)| Load {
            submissions,
            refused,
            oversized,
            batches,
            stale,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_concurrent_write_gets_its_own_answer_and_fails_alone(load in load()) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        runtime
            .block_on(write_at_once(load))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}
