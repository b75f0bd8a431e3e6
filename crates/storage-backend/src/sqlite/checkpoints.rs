//! Checkpoints off the write path.
//!
//! In WAL mode every commit appends its changed pages to the write-ahead
//! log, and a checkpoint copies them back into the database file, syncing
//! both files. SQLite runs that checkpoint itself inside the commit that
//! takes the log past 1 000 pages, so one write in every few dozen waits
//! for two `fsync` calls and a page copy it did not cause.
//!
//! The store instead checkpoints from a connection of its own on a spawned
//! task, a short while after the first write since the last checkpoint.
//! The task runs `PRAGMA wal_checkpoint(PASSIVE)`, which copies what it can
//! without waiting for or blocking the writer or any reader.
//!
//! Invariants:
//! - the write path pays one atomic swap per write; the task is woken once
//!   per [`DELAY`] at most, and not at all while nothing is written;
//! - a commit reaches the disk within about [`DELAY`] of being made, also
//!   under `synchronous = NORMAL`, where SQLite's own checkpoints left a
//!   trickle of writes unsynced until the log happened to fill. The write
//!   connection is noted when it is handed back, after its commit; a
//!   transaction on the write pool is noted when it begins, so one that
//!   outlasts [`DELAY`] waits for the next write's checkpoint or the
//!   writers' own;
//! - the log stays bounded: the write connections still checkpoint by
//!   themselves past [`FALLBACK_PAGES`]. Only such a checkpoint, inside a
//!   commit, lets the log start over under a steady stream of writes (a
//!   checkpoint beside the writers never catches the newest page while
//!   they keep writing), so a busy store's log grows to about that size
//!   and stays there; while the task's own checkpoint runs, the writers
//!   cannot checkpoint, and the log may pass it by what they write
//!   meanwhile;
//! - the task ends when the last clone of the store is dropped or closed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use sqlx::sqlite::SqliteConnection;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// How long after the first write the task checkpoints, gathering the
/// writes of that time into one checkpoint.
pub(super) const DELAY: Duration = Duration::from_millis(100);

/// The log size, in pages, past which a write connection checkpoints by
/// itself (`wal_autocheckpoint`): ten times SQLite's default. By then the
/// task has copied most of the log, so that commit copies little; under
/// steady writes it is what starts the log over.
pub(super) const FALLBACK_PAGES: &str = "10000";

/// What the write path and the task share.
#[derive(Debug, Default)]
struct Shared {
    /// Whether something was written since the task last looked.
    dirty: AtomicBool,
    /// Set when the store is dropped or closed: the task ends.
    closed: AtomicBool,
    wake: Notify,
    /// What each checkpoint reported (busy, pages in the log, pages
    /// copied), for the tests.
    #[cfg(test)]
    runs: Mutex<Vec<(i64, i64, i64)>>,
}

/// The store's side of the checkpoint task; dropping the last clone of the
/// store (which holds this in an `Arc`) ends the task.
#[derive(Debug)]
pub(super) struct Checkpoints {
    shared: Arc<Shared>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Checkpoints {
    /// Starts the task on `conn`, a write-capable connection to the store's
    /// file that nothing else uses.
    pub(super) fn start(conn: SqliteConnection) -> Self {
        let shared = Arc::new(Shared::default());
        let task = tokio::spawn(run(conn, Arc::clone(&shared)));
        Self {
            shared,
            task: Mutex::new(Some(task)),
        }
    }

    /// Records a write: the first one since the last checkpoint wakes the
    /// task.
    pub(super) fn wrote(&self) {
        if !self.shared.dirty.swap(true, Ordering::AcqRel) {
            self.shared.wake.notify_one();
        }
    }

    /// What each checkpoint so far reported, for the tests.
    #[cfg(test)]
    fn runs(&self) -> Vec<(i64, i64, i64)> {
        self.shared
            .runs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Ends the task without waiting for it.
    fn stop(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.wake.notify_one();
    }

    /// Ends the task and waits until it has finished a checkpoint under way
    /// and closed its connection.
    pub(super) async fn close(&self) {
        self.stop();
        // The lock only guards taking the handle, so a poisoned one still
        // holds a valid `Option`.
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task
            && let Err(error) = task.await
        {
            tracing::warn!(%error, "the checkpoint task failed");
        }
    }
}

impl Drop for Checkpoints {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The task: waits for a write, lets [`DELAY`] pass, checkpoints, and
/// starts over.
#[tracing::instrument(level = "debug", name = "sqlite_checkpoints", skip_all)]
async fn run(mut conn: SqliteConnection, shared: Arc<Shared>) {
    loop {
        shared.wake.notified().await;
        if shared.closed.load(Ordering::Acquire) {
            break;
        }
        // Only `close` wakes the task while it waits here: writes do not
        // while `dirty` is set.
        tokio::select! {
            () = tokio::time::sleep(DELAY) => {}
            () = shared.wake.notified() => {}
        }
        if shared.closed.load(Ordering::Acquire) {
            break;
        }
        // Cleared before the checkpoint: a write committed while it runs
        // sets it again and gets a checkpoint of its own.
        shared.dirty.store(false, Ordering::Release);
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_one(&mut conn)
            .await
        {
            Ok((busy, log, copied)) => {
                tracing::trace!(busy, log, copied, "checkpointed the write-ahead log");
                #[cfg(test)]
                shared
                    .runs
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((busy, log, copied));
            }
            Err(error) => {
                // The write connections' own checkpoints still bound the
                // log; the next write tries again.
                tracing::warn!(%error, "checkpointing the write-ahead log failed");
            }
        }
    }
    if let Err(error) = sqlx::Connection::close(conn).await {
        tracing::warn!(%error, "closing the checkpoint connection failed");
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};
    use std::time::Instant;

    use moderation_core::{ModerationError, ModerationStore};

    use super::*;
    use crate::sqlite::SqliteStore;
    use crate::testkit::items::held_comment;

    /// Long enough for a checkpoint to start and finish on a loaded
    /// machine; the tests only wait this long when something is wrong.
    const PATIENCE: Duration = Duration::from_secs(20);

    /// A fresh store in a temporary directory.
    async fn open() -> Result<(tempfile::TempDir, SqliteStore), ModerationError> {
        let dir = tempfile::tempdir().map_err(ModerationError::store)?;
        let store = SqliteStore::open(dir.path().join("checkpoints.db")).await?;
        Ok((dir, store))
    }

    fn wal(dir: &Path) -> PathBuf {
        dir.join("checkpoints.db-wal")
    }

    fn runs(store: &SqliteStore) -> Vec<(i64, i64, i64)> {
        store
            .checkpoints()
            .map(Checkpoints::runs)
            .unwrap_or_default()
    }

    async fn submit(store: &SqliteStore, ids: std::ops::Range<i64>) -> Result<(), ModerationError> {
        for id in ids {
            let (item, log) = held_comment(id, 7, id)?;
            store.insert_item(item, log).await?;
        }
        Ok(())
    }

    /// Waits until `done` holds, for at most [`PATIENCE`].
    async fn until(mut done: impl FnMut() -> bool) -> bool {
        let start = Instant::now();
        while !done() {
            if start.elapsed() > PATIENCE {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nothing_written_means_no_checkpoint() -> Result<(), ModerationError> {
        let (_dir, store) = open().await?;
        store
            .list_items(
                &Default::default(),
                &moderation_core::PageRequest::first(10),
            )
            .await?;
        tokio::time::sleep(DELAY * 3).await;
        assert!(
            runs(&store).is_empty(),
            "reads and opening leave the task asleep"
        );
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_are_copied_to_the_database_file_soon_after() -> Result<(), ModerationError> {
        let (dir, store) = open().await?;
        let file = dir.path().join("checkpoints.db");
        let size = |path: &Path| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let before = size(&file);
        submit(&store, 1..21).await?;
        // The migrations and the 20 items are still in the log only, until
        // the task copies them: far fewer pages than SQLite's own
        // threshold, which would never have copied them.
        assert!(
            until(|| runs(&store)
                .iter()
                .any(|&(busy, log, copied)| busy == 0 && log > 0 && copied == log))
            .await,
            "a checkpoint copied the whole log: {:?}",
            runs(&store)
        );
        assert!(size(&file) > before, "the database file grew");
        let taken = runs(&store).len();
        submit(&store, 21..41).await?;
        assert!(
            until(|| runs(&store).len() > taken).await,
            "the next writes get a checkpoint of their own"
        );
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn closing_ends_the_task_and_removes_the_log() -> Result<(), ModerationError> {
        let (dir, store) = open().await?;
        submit(&store, 1..4).await?;
        assert!(wal(dir.path()).exists());
        store.close().await;
        // The last connection to close checkpoints and deletes the log,
        // so none is left open once `close` returns.
        assert!(!wal(dir.path()).exists(), "the task's connection is closed");
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn dropping_the_store_ends_the_task() -> Result<(), ModerationError> {
        let (_dir, store) = open().await?;
        let shared = store
            .checkpoints()
            .map(|c| Arc::clone(&c.shared))
            .ok_or_else(|| ModerationError::store("the store has no checkpoint task"))?;
        submit(&store, 1..4).await?;
        let copy = store.clone();
        drop(store);
        submit(&copy, 4..6).await?;
        assert!(
            !shared.closed.load(Ordering::Acquire),
            "a clone is still alive"
        );
        drop(copy);
        // The task holds the only other reference, until it ends.
        assert!(
            until(|| Arc::strong_count(&shared) == 1).await,
            "the task ended"
        );
        Ok(())
    }
}
