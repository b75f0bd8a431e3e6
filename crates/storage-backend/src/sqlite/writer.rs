//! The one writer of a SQLite store.
//!
//! SQLite lets one connection write at a time. A [`SqliteStore`] therefore
//! owns exactly one write connection, and a single task owns that
//! connection. Every port's writes (items, review queue, objects,
//! community, audit, bans, moderation log) are sent to that task as
//! [`Work`]: a closure that runs its statements on the connection.
//!
//! The task takes whatever is queued (up to [`MAX_GROUP`] pieces of work)
//! and runs it in one `BEGIN IMMEDIATE` ... `COMMIT` through sqlx's
//! [`Transaction`](sqlx::Transaction): concurrent callers share one commit
//! (group commit), and the bounded channel in front of the task is the
//! backpressure. When the queue stays empty for the idle delay after a
//! commit, the task runs a passive checkpoint.
//!
//! Invariants:
//! - one connection writes; no other connection of this process ever takes
//!   SQLite's write lock, so no call of ours waits in SQLite's busy handler
//!   for another of ours;
//! - a caller is answered only after the commit that holds its work; if
//!   that commit fails, every caller in the group gets the error and
//!   nothing of the group is stored;
//! - a piece of work that fails is undone alone: in a group, each runs
//!   inside a savepoint that is rolled back when it returns an error, and
//!   the others still commit;
//! - a caller that stops waiting (its future dropped) before the task
//!   starts its work is skipped: nothing of it is written (the task looks
//!   when it takes the work and again just before it runs it). Once started,
//!   the work runs to its end and commits with its group, since it runs on
//!   the writer's task and not the caller's; only its answer is lost;
//! - a panic inside a piece of work is caught: that caller gets
//!   [`StorageError::WriterStopped`], its work is undone like any failed
//!   work, and the writer goes on.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use sqlx::Connection;
use sqlx::sqlite::SqliteConnection;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::error::StorageError;

/// The most pieces of work one commit holds.
pub(super) const MAX_GROUP: usize = 64;

/// How many pieces of work may wait for the writer before callers wait for
/// room (the backpressure of the group commit).
pub(super) const QUEUE: usize = 1_024;

/// What a caller hands the writer: statements to run on the write
/// connection, inside the writer's transaction. It must not begin, commit
/// or roll back by itself.
pub(crate) type Work<T, E> = Box<
    dyn for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, E>> + Send + 'static,
>;

/// One queued piece of work, its type erased.
trait Job: Send {
    /// Whether the caller stopped waiting.
    fn abandoned(&self) -> bool;
    /// Whether this is the marker [`Writer::close`] sends.
    fn is_stop(&self) -> bool {
        false
    }
    /// Runs the work; what it returns answers the caller after the commit.
    fn run<'c>(self: Box<Self>, conn: &'c mut SqliteConnection) -> BoxFuture<'c, Box<dyn Answer>>;
}

/// A finished piece of work, waiting for its commit.
trait Answer: Send {
    /// Whether the work succeeded (its savepoint is kept).
    fn succeeded(&self) -> bool;
    /// Answers the caller: its own result when `commit` succeeded, the
    /// commit's error otherwise.
    fn send(self: Box<Self>, commit: Result<(), &Arc<sqlx::Error>>);
}

struct Queued<T, E> {
    work: Work<T, E>,
    reply: oneshot::Sender<Result<T, E>>,
}

struct Done<T, E> {
    result: Result<T, E>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<T, E> Job for Queued<T, E>
where
    T: Send + 'static,
    E: From<StorageError> + Send + 'static,
{
    fn abandoned(&self) -> bool {
        self.reply.is_closed()
    }

    fn run<'c>(self: Box<Self>, conn: &'c mut SqliteConnection) -> BoxFuture<'c, Box<dyn Answer>> {
        let Queued { work, reply } = *self;
        Box::pin(async move {
            let result = match AssertUnwindSafe(work(conn)).catch_unwind().await {
                Ok(result) => result,
                Err(_) => {
                    tracing::error!("a write panicked; it was rolled back");
                    Err(StorageError::WriterStopped.into())
                }
            };
            Box::new(Done { result, reply }) as Box<dyn Answer>
        })
    }
}

impl<T, E> Answer for Done<T, E>
where
    T: Send + 'static,
    E: From<StorageError> + Send + 'static,
{
    fn succeeded(&self) -> bool {
        self.result.is_ok()
    }

    fn send(self: Box<Self>, commit: Result<(), &Arc<sqlx::Error>>) {
        let answer = match commit {
            Ok(()) => self.result,
            // The caller's own failure says more than the group's.
            Err(_) if self.result.is_err() => self.result,
            Err(error) => Err(StorageError::Commit(Arc::clone(error)).into()),
        };
        // A caller that stopped waiting has nobody to tell.
        drop(self.reply.send(answer));
    }
}

/// The handle callers write through; cloned with the store.
#[derive(Debug)]
pub(super) struct Writer {
    queue: mpsc::Sender<Box<dyn Job>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for dyn Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

/// When the writer checkpoints by itself.
#[derive(Debug, Clone, Copy)]
pub(super) struct Checkpoint {
    /// How long the queue stays empty after a commit before the writer runs
    /// a passive checkpoint; `None`: never (SQLite's own threshold only).
    pub(super) idle: Option<Duration>,
}

impl Writer {
    /// Starts the writer task, which owns `conn` from now on.
    pub(super) fn start(conn: SqliteConnection, checkpoint: Checkpoint) -> Self {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let task = tokio::spawn(run(conn, jobs, checkpoint));
        Self {
            queue,
            task: Mutex::new(Some(task)),
        }
    }

    /// Runs `work` in the writer's next transaction and answers after its
    /// commit.
    pub(super) async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, E>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let work: Work<T, E> = Box::new(work);
        self.queue
            .send(Box::new(Queued { work, reply }))
            .await
            .map_err(|_| StorageError::Closed)?;
        answer
            .await
            .unwrap_or_else(|_| Err(StorageError::WriterStopped.into()))
    }

    /// Stops taking work, lets the queued work commit, and waits for the
    /// task to close the connection.
    pub(super) async fn close(&self) {
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // Every clone of the store holds a sender, so the queue never
        // closes by itself while one lives: the marker asks the task to end
        // after the work queued before it.
        if let Some(task) = task {
            drop(self.queue.send(Box::new(Stop) as Box<dyn Job>).await);
            if let Err(error) = task.await {
                tracing::warn!(%error, "the SQLite writer task ended abnormally");
            }
        }
    }
}

/// The marker that asks the writer to stop after the work queued before it.
struct Stop;

impl Job for Stop {
    fn abandoned(&self) -> bool {
        false
    }

    fn is_stop(&self) -> bool {
        true
    }

    fn run<'c>(self: Box<Self>, _conn: &'c mut SqliteConnection) -> BoxFuture<'c, Box<dyn Answer>> {
        Box::pin(async { Box::new(Stopped) as Box<dyn Answer> })
    }
}

struct Stopped;

impl Answer for Stopped {
    fn succeeded(&self) -> bool {
        true
    }

    fn send(self: Box<Self>, _commit: Result<(), &Arc<sqlx::Error>>) {}
}

/// The writer task: takes what is queued, commits it as one transaction,
/// answers, and checkpoints when idle.
async fn run(
    mut conn: SqliteConnection,
    mut jobs: mpsc::Receiver<Box<dyn Job>>,
    checkpoint: Checkpoint,
) {
    let mut group: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_GROUP);
    let mut dirty = false;
    loop {
        let received = match (dirty, checkpoint.idle) {
            (true, Some(idle)) => {
                match tokio::time::timeout(idle, jobs.recv_many(&mut group, MAX_GROUP)).await {
                    Ok(received) => received,
                    Err(_) => {
                        checkpoint_now(&mut conn).await;
                        dirty = false;
                        continue;
                    }
                }
            }
            _ => jobs.recv_many(&mut group, MAX_GROUP).await,
        };
        if received == 0 {
            break;
        }
        let stop = group.iter().position(|job| job.is_stop());
        if let Some(stop) = stop {
            group.truncate(stop);
        }
        group.retain(|job| !job.abandoned());
        if !group.is_empty() {
            commit_group(&mut conn, &mut group).await;
            dirty = true;
        }
        if stop.is_some() {
            break;
        }
    }
    if dirty {
        checkpoint_now(&mut conn).await;
    }
    if let Err(error) = conn.close().await {
        tracing::warn!(%error, "closing the SQLite write connection failed");
    }
}

/// Runs `group` in one transaction and answers each caller after it.
async fn commit_group(conn: &mut SqliteConnection, group: &mut Vec<Box<dyn Job>>) {
    let span = tracing::debug_span!("sqlite.commit", works = group.len());
    commit_group_in(conn, group).instrument(span).await;
}

async fn commit_group_in(conn: &mut SqliteConnection, group: &mut Vec<Box<dyn Job>>) {
    let alone = group.len() == 1;
    let mut answers: Vec<Box<dyn Answer>> = Vec::with_capacity(group.len());
    let outcome: Result<(), sqlx::Error> = async {
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        for job in group.drain(..) {
            // A caller may have left while the work before its own ran.
            if job.abandoned() {
                continue;
            }
            if alone {
                let answer = job.run(&mut tx).await;
                if !answer.succeeded() {
                    answers.push(answer);
                    return tx.rollback().await;
                }
                answers.push(answer);
            } else {
                let mut savepoint = tx.begin().await?;
                let answer = job.run(&mut savepoint).await;
                if answer.succeeded() {
                    savepoint.commit().await?;
                } else {
                    savepoint.rollback().await?;
                }
                answers.push(answer);
            }
        }
        tx.commit().await
    }
    .await;
    // Work the group never reached (a savepoint failed) is dropped, and its
    // caller told that the writer stopped.
    let commit = outcome.map_err(Arc::new);
    group.clear();
    for answer in answers {
        answer.send(commit.as_ref().map(|_| ()));
    }
}

/// Copies the write-ahead log back into the database file without waiting
/// for readers (`PRAGMA wal_checkpoint(PASSIVE)`).
async fn checkpoint_now(conn: &mut SqliteConnection) {
    if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .execute(&mut *conn)
        .await
    {
        tracing::warn!(%error, "a passive checkpoint failed; the next one retries");
    }
}

#[cfg(all(test, feature = "testkit"))]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use sqlx::SqliteConnection;

    use crate::error::StorageError;
    use crate::testkit::TempSqlite;

    type Result<T> = std::result::Result<T, StorageError>;

    async fn scratch() -> Result<TempSqlite> {
        let temp = TempSqlite::new().await?;
        temp.store()
            .write(|conn: &mut SqliteConnection| {
                Box::pin(async move {
                    sqlx::query("CREATE TABLE scratch (n INTEGER NOT NULL)")
                        .execute(conn)
                        .await?;
                    Ok::<_, StorageError>(())
                })
            })
            .await?;
        Ok(temp)
    }

    async fn rows(temp: &TempSqlite) -> Result<Vec<i64>> {
        let mut conn = temp.store().reader().await?;
        Ok(sqlx::query_scalar("SELECT n FROM scratch ORDER BY n")
            .fetch_all(&mut *conn)
            .await?)
    }

    /// Inserts `n`, then fails when `fail` is set: the insert must be undone.
    async fn insert(conn: &mut SqliteConnection, n: i64, fail: bool) -> Result<i64> {
        sqlx::query("INSERT INTO scratch (n) VALUES ($1)")
            .bind(n)
            .execute(&mut *conn)
            .await?;
        if fail {
            return Err(StorageError::corrupt("n", &"refused on purpose"));
        }
        Ok(n)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_work_commits_and_a_failing_one_is_undone_alone() -> Result<()> {
        let temp = scratch().await?;
        let store = Arc::new(temp.store().clone());
        let mut tasks = Vec::new();
        for n in 0..300_i64 {
            let store = Arc::clone(&store);
            tasks.push(tokio::spawn(async move {
                store
                    .write(move |conn| Box::pin(insert(conn, n, n % 3 == 0)))
                    .await
            }));
        }
        let mut answered = Vec::new();
        for (n, task) in (0_i64..).zip(tasks) {
            match task.await {
                Ok(Ok(stored)) => {
                    assert_ne!(n % 3, 0, "work that failed was answered Ok");
                    answered.push(stored);
                }
                Ok(Err(StorageError::Corrupt { .. })) => assert_eq!(n % 3, 0),
                Ok(Err(other)) => return Err(other),
                Err(join) => return Err(StorageError::corrupt("task", &join)),
            }
        }
        let expected: Vec<i64> = (0..300).filter(|n| n % 3 != 0).collect();
        assert_eq!(answered, expected);
        assert_eq!(rows(&temp).await?, expected);
        temp.close().await;
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_whose_caller_left_before_its_turn_is_not_written() -> Result<()> {
        let temp = scratch().await?;
        let store = temp.store().clone();
        // Keeps the writer busy until released.
        let (release, wait) = tokio::sync::oneshot::channel::<()>();
        let busy = tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .write(move |conn| {
                        Box::pin(async move {
                            drop(wait.await);
                            insert(conn, 1, false).await
                        })
                    })
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Queued behind the busy work, then abandoned.
        let left = tokio::time::timeout(
            Duration::from_millis(50),
            store.write(move |conn| Box::pin(insert(conn, 2, false))),
        )
        .await;
        assert!(left.is_err(), "the abandoned write was answered");
        if release.send(()).is_err() {
            return Err(StorageError::WriterStopped);
        }
        assert_eq!(
            busy.await
                .map_err(|e| StorageError::corrupt("task", &e))??,
            1
        );
        store
            .write(move |conn| Box::pin(insert(conn, 3, false)))
            .await?;
        assert_eq!(rows(&temp).await?, vec![1, 3]);
        temp.close().await;
        Ok(())
    }

    #[tokio::test]
    #[allow(clippy::panic)]
    async fn a_panicking_write_is_undone_and_the_writer_goes_on() -> Result<()> {
        let temp = scratch().await?;
        let store = temp.store().clone();
        let panicked: Result<i64> = store
            .write(move |conn: &mut SqliteConnection| {
                Box::pin(async move {
                    insert(conn, 1, false).await?;
                    panic!("a bug in a write");
                })
            })
            .await;
        assert!(matches!(panicked, Err(StorageError::WriterStopped)));
        store
            .write(move |conn| Box::pin(insert(conn, 2, false)))
            .await?;
        assert_eq!(rows(&temp).await?, vec![2]);
        temp.close().await;
        Ok(())
    }

    #[tokio::test]
    async fn writes_after_close_are_refused() -> Result<()> {
        let temp = scratch().await?;
        let store = temp.store().clone();
        store.close().await;
        let refused = store
            .write(move |conn| Box::pin(insert(conn, 1, false)))
            .await;
        assert!(matches!(refused, Err(StorageError::Closed)));
        Ok(())
    }
}
