//! The write-ahead log stays bounded when every write is a single statement
//! that returns a row.
//!
//! The store checkpoints on a task of its own, beside the writers, and a
//! checkpoint running beside them never catches up with the newest frame
//! while writes keep coming: the log starts over only when a writer's own
//! automatic checkpoint, past 10 000 pages, copies the rest. SQLite runs
//! that one only when a statement outside a transaction steps to its end;
//! a statement read for its first row and then reset (an `INSERT ...
//! RETURNING` fetched with `fetch_one`) commits without checkpointing, so a
//! workload of nothing but single submissions and approvals would grow the
//! log without end.

use moderation_core::{ItemStatus, ModerationStore};
use moderation_storage::SqliteOptions;
use moderation_storage::testkit::{ScenarioResult, items};

/// The writers' threshold is 10 000 pages (about 40 MiB). The log can pass
/// it by what is written while the task's own checkpoint holds the
/// checkpoint lock, which this leaves room for. Without checkpoints these
/// writes would leave it over 500 MiB.
const BOUND: u64 = 64 * 1024 * 1024;

#[tokio::test]
async fn single_submissions_and_approvals_keep_the_log_bounded() -> ScenarioResult {
    let dir = tempfile::tempdir().map_err(moderation_core::ModerationError::store)?;
    let path = dir.path().join("moderation.db");
    let store = SqliteOptions::new(&path).open().await?;
    for n in 0..5_000 {
        let (item, log) = items::held_comment(n, n % 50, n)?;
        let item = store.insert_item(item, log).await?;
        let change = items::moderator_change(item.id, 1, ItemStatus::Held, ItemStatus::Public)?;
        store.change_status(change).await?;
    }
    let wal = std::fs::metadata(dir.path().join("moderation.db-wal"))
        .map_err(moderation_core::ModerationError::store)?
        .len();
    assert!(wal < BOUND, "the write-ahead log grew to {wal} bytes");
    store.close().await;
    Ok(())
}
