//! The write-ahead log stays bounded under a steady workload of writes:
//! submissions and approvals from a few tasks at once, without a pause,
//! committed by the store's one writer alone or in groups.
//!
//! A checkpoint running beside the writer never catches up with the newest
//! frame while writes keep coming; the log starts over only when the
//! writer's own automatic checkpoint, run by a commit once the log is past
//! the store's threshold of 10 000 pages, copies the rest.

use moderation_core::{ItemStatus, ModerationError, ModerationStore};
use moderation_storage::SqliteOptions;
use moderation_storage::testkit::{ScenarioResult, items};

/// Tasks writing at once, and submissions (each approved) per task.
const TASKS: i64 = 4;
const PER_TASK: i64 = 1_250;

/// The writer's threshold is 10 000 pages (about 40 MiB). The log can pass
/// it by what is written while another checkpoint holds the checkpoint
/// lock, which this leaves room for.
const BOUND: u64 = 64 * 1024 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_and_approvals_keep_the_log_bounded() -> ScenarioResult {
    let dir = tempfile::tempdir().map_err(ModerationError::store)?;
    let path = dir.path().join("moderation.db");
    let store = SqliteOptions::new(&path).open().await?;
    let mut handles = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        handles.push(tokio::spawn(async move {
            for n in task * PER_TASK..(task + 1) * PER_TASK {
                let (item, log) = items::held_comment(n, n % 50, n)?;
                let item = store.insert_item(item, log).await?;
                let change =
                    items::moderator_change(item.id, 1, ItemStatus::Held, ItemStatus::Public)?;
                store.change_status(change).await?;
            }
            Ok::<(), ModerationError>(())
        }));
    }
    for handle in handles {
        handle.await.map_err(ModerationError::store)??;
    }
    let wal = std::fs::metadata(dir.path().join("moderation.db-wal"))
        .map_err(ModerationError::store)?
        .len();
    assert!(wal < BOUND, "the write-ahead log grew to {wal} bytes");
    store.close().await;
    Ok(())
}
