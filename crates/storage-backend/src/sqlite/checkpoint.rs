//! Checkpoints of the write-ahead log, run off the writers' commit path.
//!
//! In WAL mode every commit appends the pages it changed to the log, and a
//! checkpoint copies them back into the database file. SQLite's automatic
//! checkpoint runs inside the commit that pushes the log past its threshold,
//! so one write in every few dozen paid for copying and syncing the pages
//! of all the others: on a 2-core machine that was about a third of the
//! cost of a single submission. Here a task with its own connection does
//! the copying while the writers go on, the way SQLite's documentation
//! suggests for applications that care about write latency.
//!
//! - Every write wakes the task; after a checkpoint it pauses for
//!   [`PAUSE`], so a burst of writes costs one checkpoint (and one `fsync`)
//!   per pause, not one per write.
//! - A passive checkpoint never blocks a writer, but while writes keep
//!   coming it never catches up with the newest frame either, and SQLite
//!   only starts the log over once every frame has been copied. When the
//!   log passes [`RESTART_FRAMES`], the task takes the store's writer (so
//!   that connection's writes wait behind it, instead of racing it) and
//!   runs a restarting checkpoint, which copies the few frames the passive
//!   one left and lets the next commit start the log over.
//! - The writers keep an automatic checkpoint at [`BACKSTOP_FRAMES`], above
//!   what the task lets the log reach. Should the task fall behind (a busy
//!   machine) or stop (its runtime shut down, say), the writer that pushes
//!   the log past it copies what is left itself, as SQLite always did, and
//!   the log starts over: its size never depends on the task keeping up.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sqlx::{Connection, Row};
use tokio::sync::{Mutex, Notify};
use tokio::task::JoinHandle;

use super::store::Connections;
use crate::error::StorageError;

/// The pause after each checkpoint, during which writes only accumulate.
pub(crate) const PAUSE: Duration = Duration::from_millis(20);

/// Log frames (pages) past which the task restarts the log: 2 048 frames
/// of 4 KiB pages is an 8 MiB log.
pub(crate) const RESTART_FRAMES: i64 = 2_048;

/// The writers' own automatic checkpoint, a backstop for when the task
/// lags or has stopped: 3 072 frames, a 12 MiB log (SQLite's default is
/// 1 000). Most of those frames are already copied when a writer gets
/// there, so the writer's share is small.
pub(crate) const BACKSTOP_FRAMES: &str = "3072";

/// What the store and its task share.
#[derive(Debug, Default)]
struct Shared {
    /// Woken by every write.
    wake: Notify,
    /// Set when the store is closed or dropped: the task ends.
    closed: AtomicBool,
}

/// The handle the store keeps: wakes the task after writes and stops it
/// when the store is closed or its last clone dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    shared: Arc<Shared>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Checkpointer {
    /// Opens the task's connection and starts the task on the current
    /// Tokio runtime. `writer` is the store's own write connection, taken
    /// for restarting checkpoints.
    pub(crate) async fn start(
        options: &SqliteConnectOptions,
        writer: Weak<Connections>,
    ) -> Result<Self, StorageError> {
        let conn = SqliteConnection::connect_with(options).await?;
        let shared = Arc::new(Shared::default());
        let task = tokio::spawn(run(conn, Arc::clone(&shared), writer));
        Ok(Self {
            shared,
            task: Mutex::new(Some(task)),
        })
    }

    /// Tells the task that the log has grown. Costs an atomic operation
    /// while the task is pausing; never waits.
    pub(crate) fn wrote(&self) {
        self.shared.wake.notify_one();
    }

    /// Stops the task and closes its connection, after one last passive
    /// checkpoint.
    pub(crate) async fn close(&self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.wake.notify_one();
        if let Some(task) = self.task.lock().await.take()
            && let Err(error) = task.await
        {
            tracing::warn!(%error, "the SQLite checkpoint task failed");
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.shared.closed.store(true, Ordering::Release);
        self.shared.wake.notify_one();
    }
}

/// The task: a checkpoint after writes, at most one per [`PAUSE`].
async fn run(mut conn: SqliteConnection, shared: Arc<Shared>, writer: Weak<Connections>) {
    loop {
        shared.wake.notified().await;
        let closing = shared.closed.load(Ordering::Acquire);
        if let Err(error) = checkpoint(&mut conn, &writer).await {
            // The writers' backstop keeps the log bounded meanwhile.
            tracing::warn!(%error, "a background SQLite checkpoint failed");
        }
        if closing {
            break;
        }
        tokio::time::sleep(PAUSE).await;
    }
    if let Err(error) = conn.close().await {
        tracing::warn!(%error, "closing the SQLite checkpoint connection failed");
    }
}

/// One passive checkpoint, and a restarting one on the writer when the log
/// has grown past [`RESTART_FRAMES`].
async fn checkpoint(
    conn: &mut SqliteConnection,
    writer: &Weak<Connections>,
) -> Result<(), StorageError> {
    let frames = passive(conn).await?;
    if frames < RESTART_FRAMES {
        return Ok(());
    }
    let Some(writer) = writer.upgrade() else {
        return Ok(());
    };
    let mut held = writer.get().await?;
    // Busy when a reader still uses an old snapshot or another process
    // writes: the next round tries again.
    let row = sqlx::query("PRAGMA wal_checkpoint(RESTART)")
        .fetch_one(&mut *held)
        .await?;
    tracing::debug!(
        frames,
        busy = row.try_get::<i64, _>(0)?,
        "restarted the write-ahead log"
    );
    Ok(())
}

/// Copies what it can without waiting; returns the frames in the log.
async fn passive(conn: &mut SqliteConnection) -> Result<i64, StorageError> {
    let row = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(&mut *conn)
        .await?;
    Ok(row.try_get::<i64, _>(1)?)
}
