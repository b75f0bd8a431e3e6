//! Concurrent submissions on SQLite share commits (see `sqlite/grouped.rs`):
//! whatever number of submissions arrive at once, and whichever of them the
//! database refuses, every caller gets its own answer, the refused ones
//! alone fail and leave nothing behind, and every other one is stored with
//! its one log entry.

use std::collections::BTreeSet;
use std::sync::Arc;

use moderation_core::{ModerationError, ModerationStore, ObjectRef};
use moderation_storage::StorageError;
use moderation_storage::testkit::{TempSqlite, items};
use proptest::prelude::*;
use tokio::sync::Barrier;

/// Refuses, with a trigger every connection sees, the submissions of the
/// comments numbered in `refused`.
async fn refuse(temp: &TempSqlite, refused: &BTreeSet<i64>) -> Result<(), ModerationError> {
    if refused.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = refused.iter().map(|n| format!("'i:{n}'")).collect();
    let trigger = format!(
        "CREATE TRIGGER refuse BEFORE INSERT ON moderation_items \
         WHEN NEW.object_key IN ({}) BEGIN SELECT RAISE(ABORT, 'refused'); END",
        keys.join(", ")
    );
    // Test input: integers the strategy chose, formatted above.
    sqlx::query(sqlx::AssertSqlSafe(trigger))
        .execute(temp.store().write_pool())
        .await
        .map_err(StorageError::from)?;
    Ok(())
}

async fn submit_at_once(count: i64, refused: BTreeSet<i64>) -> Result<(), ModerationError> {
    let temp = TempSqlite::new().await?;
    refuse(&temp, &refused).await?;
    let store: Arc<dyn ModerationStore> = Arc::new(temp.store().clone());
    let start = Arc::new(Barrier::new(usize::try_from(count).unwrap_or(0)));
    let mut tasks = Vec::new();
    for n in 0..count {
        let (item, log) = items::held_comment(n, n % 5, n)?;
        let (store, start) = (Arc::clone(&store), Arc::clone(&start));
        tasks.push(tokio::spawn(async move {
            start.wait().await;
            store.insert_item(item, log).await
        }));
    }
    let mut ids = BTreeSet::new();
    for (n, task) in (0..).zip(tasks) {
        let answer = task.await.map_err(ModerationError::store)?;
        let (expected, _) = items::held_comment(n, n % 5, n)?;
        match answer {
            Ok(stored) => {
                assert!(!refused.contains(&n), "refused submission {n} was stored");
                assert_eq!(
                    stored.object, expected.object,
                    "submission {n} got its own item"
                );
                assert_eq!(store.item(stored.id).await?, Some(stored.clone()));
                assert_eq!(store.log_entries(stored.id).await?.len(), 1);
                assert!(ids.insert(stored.id), "ids are never shared");
            }
            Err(ModerationError::Store { .. }) if refused.contains(&n) => {
                let object = ObjectRef::new(items::comment_kind()?, n);
                assert_eq!(store.item_for_object(&object).await?, None);
            }
            Err(other) => return Err(other),
        }
    }
    let refused_here = refused.iter().filter(|n| **n < count).count();
    assert_eq!(
        ids.len() + refused_here,
        usize::try_from(count).unwrap_or(0)
    );
    temp.close().await;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_concurrent_submission_gets_its_own_answer(
        count in 1_i64..80,
        refused in proptest::collection::btree_set(0_i64..80, 0..4),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        runtime
            .block_on(submit_at_once(count, refused))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
    }
}
