//! The write-ahead log stays bounded under a steady stream of single-statement
//! writes.
//!
//! Two ways it could grow without end: SQLite's automatic checkpoint runs
//! only when a statement outside a transaction steps to its end (a
//! statement read for its first row and then reset never triggers it), and
//! a checkpoint running beside the writers never catches up with the newest
//! frame while writes keep coming, so the log is never started over unless
//! something restarts it.

use moderation_core::{ItemStatus, ModerationStore};
use moderation_storage::SqliteOptions;
use moderation_storage::testkit::{ScenarioResult, items};

/// The store's checkpoint task starts the log over past 8 MiB, and a
/// writer past 12 MiB when the task lags; without checkpoints these writes
/// would leave it well over 40 MiB.
const BOUND: u64 = 16 * 1024 * 1024;

#[tokio::test]
async fn single_submissions_and_approvals_keep_the_log_bounded() -> ScenarioResult {
    let dir = tempfile::tempdir().map_err(moderation_core::ModerationError::store)?;
    let path = dir.path().join("moderation.db");
    let store = SqliteOptions::new(&path).open().await?;
    for n in 0..2_000 {
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
