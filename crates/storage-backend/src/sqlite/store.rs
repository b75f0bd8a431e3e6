//! Opening a SQLite store and its connection settings.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use sqlx::Connection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

use super::checkpoints::{self, Checkpoints};
use super::spin::{self, SpinWait};
use super::writer::{self, Writer};
use crate::error::StorageError;
use crate::options::StoreLimits;

/// How much of the database file each reader maps into memory (1 GiB of
/// address space, not of memory: pages are loaded as they are read).
const MMAP_BYTES: &str = "1073741824";

/// Rows a connection's worker thread may hand over before the calling task
/// reads them: more than the largest page or batch the stores ask for.
const ROW_BUFFER: usize = 1_024;

/// How hard SQLite works to make each commit durable.
///
/// Both settings keep the database consistent after a crash (WAL mode).
/// They differ only after a power loss or an operating-system crash:
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Synchronous {
    /// `synchronous = NORMAL` (the default): the write-ahead log is synced at
    /// checkpoints, not at every commit; the store checkpoints about 100 ms
    /// after a write. A power loss can lose the commits of about that long,
    /// never corrupt the file. Commits are several times faster.
    #[default]
    Normal,
    /// `synchronous = FULL`: every commit is synced to disk before it
    /// returns. Nothing acknowledged is ever lost, at the cost of one
    /// `fsync` per transaction. Choose it when a lost moderation decision is
    /// worse than slower writes.
    Full,
}

impl Synchronous {
    fn pragma(self) -> SqliteSynchronous {
        match self {
            Self::Normal => SqliteSynchronous::Normal,
            Self::Full => SqliteSynchronous::Full,
        }
    }
}

/// Settings for [`SqliteStore`], built step by step.
///
/// ```no_run
/// use moderation_storage::{SqliteOptions, Synchronous};
/// # async fn open() -> Result<(), moderation_storage::StorageError> {
/// let store = SqliteOptions::new("moderation.db")
///     .synchronous(Synchronous::Full)
///     .max_payload_bytes(64 * 1024)
///     .open()
///     .await?;
/// # let _ = store;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    path: PathBuf,
    synchronous: Synchronous,
    busy_timeout: Duration,
    readers: u32,
    /// `None`: chosen by `spin::automatic` when the store opens.
    spin_wait: Option<Duration>,
    limits: StoreLimits,
}

impl SqliteOptions {
    /// Options for the database file at `path` (created when missing), with
    /// `synchronous = NORMAL`, a 5 s busy timeout, 4 reader connections and
    /// the spin wait chosen for the machine (see [`Self::spin_wait`]).
    #[must_use]
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
            synchronous: Synchronous::Normal,
            busy_timeout: Duration::from_secs(5),
            readers: 4,
            spin_wait: None,
            limits: StoreLimits::default(),
        }
    }

    /// Durability of each commit; see [`Synchronous`] for the trade-off.
    #[must_use]
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// How long a write waits for another process holding the write lock
    /// before failing.
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How many connections serve reads at once (at least 1). WAL mode lets
    /// them read while the writer commits.
    #[must_use]
    pub fn readers(mut self, readers: u32) -> Self {
        self.readers = readers.max(1);
        self
    }

    /// How long each store call keeps its task awake while SQLite answers
    /// it, instead of letting its runtime thread sleep; zero turns it off.
    ///
    /// sqlx runs each SQLite connection on a thread of its own. A statement
    /// takes tens of microseconds, but a task that waits for it goes to
    /// sleep, and waking its thread again costs system calls and a
    /// cross-core wake-up for each message between the two threads. Within
    /// this budget a pending call asks its runtime to poll it again at once
    /// instead. The runtime still runs every other ready task in between
    /// and never blocks; the cost is CPU time, at most this budget per
    /// call. Calls that take longer (a batch, a lock held by another
    /// process) wait as usual after the budget.
    ///
    /// Unless set here, the store chooses when it opens: 500 µs (longer
    /// than a single submission, approval or read takes) when this process
    /// may run on more than one CPU, and none when it has only one. On one
    /// CPU the connection's thread can only answer once the waiting thread
    /// gives up the CPU, so spinning there only delays the answer
    /// (`docs/benchmarks.md` has the figures of both cases).
    ///
    /// ```
    /// use std::time::Duration;
    /// use moderation_storage::SqliteOptions;
    ///
    /// // A server whose other work needs every spare cycle.
    /// let options = SqliteOptions::new("moderation.db").spin_wait(Duration::ZERO);
    /// # let _ = options;
    /// ```
    pub fn spin_wait(mut self, budget: Duration) -> Self {
        self.spin_wait = Some(budget);
        self
    }

    /// The largest serialised payload accepted, in bytes.
    #[must_use]
    pub fn max_payload_bytes(mut self, max: usize) -> Self {
        self.limits.max_payload_bytes = max;
        self
    }

    /// Opens the file (creating it when missing) and applies the migrations.
    ///
    /// Call it inside a Tokio runtime with its timer enabled (as
    /// `#[tokio::main]` and `#[tokio::test]` give): the store starts its
    /// checkpoint task there, and the driver's pools need the timer too.
    ///
    /// # Errors
    /// [`StorageError::Database`] when the file cannot be opened or created,
    /// [`StorageError::Migrate`] when the schema cannot be brought up to date.
    #[tracing::instrument(level = "debug", skip_all, fields(path = %self.path.display()))]
    pub async fn open(self) -> Result<SqliteStore, StorageError> {
        let connect = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|e| StorageError::Location {
                location: self.path.display().to_string(),
                problem: e.to_string(),
            })?
            .filename(&self.path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(self.busy_timeout)
            .synchronous(self.synchronous.pragma())
            // The store checkpoints on a task of its own (see
            // `checkpoints`); a connection checkpoints by itself only
            // past ten times SQLite's threshold, which bounds the log.
            .pragma("wal_autocheckpoint", checkpoints::FALLBACK_PAGES)
            // A write spills its statement journal (the undo record of one
            // statement inside a transaction, e.g. a 1 000-row batch) to a
            // temporary file past 64 KiB unless temporary storage is in
            // memory: a file costs a write and a read system call per page.
            .pragma("temp_store", "memory")
            // 16 MiB of page cache per connection instead of 2 MiB: the
            // writer updates index pages all over the author, object and
            // duplicate indexes, and every miss is a read system call.
            .pragma("cache_size", "-16384")
            // The connection's worker thread hands rows to the calling task
            // through a bounded channel (50 by default). Past that it
            // sleeps until the task drains some, and the two threads keep
            // waking each other: 1 000 approvals returned by one batch
            // statement took about 5 µs more per row. The channel allocates
            // only for rows actually waiting, so a large bound costs nothing.
            .row_buffer_size(ROW_BUFFER);
        // Readers map the database file instead of copying each page in
        // with a system call, and share the operating system's copy. Pages
        // in the write-ahead log are still read with system calls until a
        // checkpoint moves them. The writer does not map: SQLite copies a
        // mapped page to the heap before changing it, which made every
        // write dearer.
        let read = connect
            .clone()
            .read_only(true)
            .pragma("mmap_size", MMAP_BYTES);
        // SQLite allows one writer at a time. Funnelling this process's
        // item writes through one connection avoids lock contention between
        // our own connections; other processes wait up to the busy timeout.
        let writer = Connections::open(&connect, 1).await?;
        let spin_wait = match self.spin_wait {
            Some(budget) => budget,
            None => spin::automatic().await,
        };
        let queue = Writer::start(
            SqliteConnection::connect_with(&connect).await?,
            writer::Checkpoint { idle: None },
        );
        let store = SqliteStore {
            queue: Arc::new(queue),
            writer: Arc::new(writer),
            checkpoints: None,
            readers: Arc::new(Connections::default()),
            write_pool: SqlitePoolOptions::new()
                .max_connections(1)
                .connect_lazy_with(connect.clone()),
            read_pool: SqlitePoolOptions::new()
                .max_connections(self.readers)
                .connect_lazy_with(read.clone()),
            submissions: Arc::default(),
            text_open: Arc::default(),
            spin_wait,
            limits: self.limits,
        };
        store.migrate().await?;
        let readers = Connections::open(&read, self.readers).await?;
        let checkpointer = SqliteConnection::connect_with(&connect).await?;
        Ok(SqliteStore {
            readers: Arc::new(readers),
            checkpoints: Some(Arc::new(Checkpoints::start(checkpointer))),
            ..store
        })
    }
}

/// The SQLite store: a database file in WAL mode, created and migrated on
/// first open. Cloning is cheap and shares the connections.
///
/// The store keeps its own connections (one writer, a few readers) instead
/// of checking them out of a pool for every statement: sqlx runs each SQLite
/// connection on a worker thread and its pool pings that thread on every
/// checkout and every return, two extra cross-thread round trips per
/// statement. [`SqliteStore::write_pool`] and [`SqliteStore::read_pool`]
/// still offer pools (connected on first use) for other stores sharing the
/// file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// The one writer (see `writer`).
    queue: Arc<Writer>,
    writer: Arc<Connections>,
    /// The checkpoint task (none only while `open` migrates).
    checkpoints: Option<Arc<Checkpoints>>,
    readers: Arc<Connections>,
    write_pool: SqlitePool,
    read_pool: SqlitePool,
    /// Submissions waiting for the writer (see `grouped`).
    submissions: Arc<super::grouped::Submissions>,
    /// Set while a statement text of the writer's may hold a transaction
    /// open (see [`OpenText`]).
    text_open: Arc<AtomicBool>,
    /// Each call's spin budget (see [`SqliteOptions::spin_wait`]).
    spin_wait: Duration,
    limits: StoreLimits,
}

impl SqliteStore {
    /// Opens (creating if needed) the file at `path` with default options.
    ///
    /// # Errors
    /// As [`SqliteOptions::open`].
    pub async fn open(path: impl AsRef<Path>) -> Result<Self, StorageError> {
        SqliteOptions::new(path).open().await
    }

    /// Applies the embedded migrations that have not run yet. Running it
    /// again is a no-op; [`SqliteOptions::open`] already calls it.
    ///
    /// # Errors
    /// [`StorageError::Migrate`] when a migration fails or an applied one
    /// was changed.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn migrate(&self) -> Result<(), StorageError> {
        let mut conn = self.writer().await?;
        sqlx::migrate!("migrations/sqlite").run(&mut *conn).await?;
        Ok(())
    }

    /// A connection pool that performs writes (one connection, opened on
    /// first use), for the stores of other ports that share this database.
    /// SQLite serialises its writes with the store's own writer; each waits
    /// up to the busy timeout for the other.
    #[must_use]
    pub fn write_pool(&self) -> &SqlitePool {
        &self.write_pool
    }

    /// A read-only connection pool (opened on first use).
    #[must_use]
    pub fn read_pool(&self) -> &SqlitePool {
        &self.read_pool
    }

    /// Closes every connection, checkpointing the write-ahead log.
    pub async fn close(&self) {
        if let Some(checkpoints) = &self.checkpoints {
            checkpoints.close().await;
        }
        self.queue.close().await;
        self.read_pool.close().await;
        self.write_pool.close().await;
        self.readers.close().await;
        self.writer.close().await;
    }

    /// Runs `work` on the write connection, inside the writer's next
    /// transaction (shared with other callers' work), and answers after the
    /// commit. See `sqlite::writer` for the guarantees.
    pub(crate) async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: for<'c> FnOnce(
                &'c mut SqliteConnection,
            ) -> futures::future::BoxFuture<'c, Result<T, E>>
            + Send
            + 'static,
    {
        self.queue.write(work).await
    }

    /// A read-only connection, free or soon free.
    pub(crate) async fn reader(&self) -> Result<Held<'_>, StorageError> {
        self.readers.get().await
    }

    /// The write connection, once the writes queued before are done.
    pub(crate) async fn writer(&self) -> Result<Writing<'_>, StorageError> {
        let mut conn = self.writer.get().await?;
        // An abandoned text's rollback runs on a task of its own; this one
        // covers a text abandoned where no task could be started.
        roll_back_abandoned(&self.text_open, &mut conn).await;
        Ok(Writing {
            conn,
            checkpoints: self.checkpoints.as_deref(),
        })
    }

    /// Marks a statement text (`write_text`) under way on the write
    /// connection, which the caller holds, until [`OpenText::close`].
    pub(crate) fn open_text(&self) -> OpenText {
        self.text_open.store(true, Ordering::Release);
        OpenText {
            writer: Arc::clone(&self.writer),
            open: Arc::clone(&self.text_open),
            closed: false,
        }
    }

    pub(crate) fn limits(&self) -> StoreLimits {
        self.limits
    }

    /// How long each call stays awake while SQLite answers it: the budget
    /// set with [`SqliteOptions::spin_wait`], or the one chosen for this
    /// machine when the store opened.
    #[must_use]
    pub fn spin_wait(&self) -> Duration {
        self.spin_wait
    }

    /// `call`, kept awake while SQLite answers it (see `spin`). Every
    /// store method runs its body through this.
    pub(crate) fn settle<F: std::future::Future>(&self, call: F) -> SpinWait<F> {
        SpinWait::new(call, self.spin_wait)
    }

    /// The checkpoint task's handle, for the tests.
    #[cfg(test)]
    pub(super) fn checkpoints(&self) -> Option<&Checkpoints> {
        self.checkpoints.as_deref()
    }

    pub(super) fn submissions(&self) -> &super::grouped::Submissions {
        &self.submissions
    }

    /// The read-only pool, for the stores of other ports: they issue fewer,
    /// larger statements, so a pool checkout per statement costs little.
    pub(crate) fn pool_reader(&self) -> &SqlitePool {
        &self.read_pool
    }

    /// A write transaction on the write pool, for the stores of other ports.
    /// `BEGIN IMMEDIATE` takes the write lock at once, so a transaction that
    /// read first can never fail to upgrade its lock halfway through; it
    /// waits up to the busy timeout while the item writer holds the lock.
    pub(crate) async fn begin_write(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>, StorageError> {
        // Noted at the start: the checkpoint task waits a while before it
        // looks, and a late checkpoint is taken by the next write.
        if let Some(checkpoints) = &self.checkpoints {
            checkpoints.wrote();
        }
        Ok(self.write_pool.begin_with("BEGIN IMMEDIATE").await?)
    }
}

/// A statement text (`write_text`) under way on the write connection.
///
/// A caller that stops waiting drops its future, and the driver's thread
/// stops the text at its next statement, which may be inside the text's
/// transaction, before its `COMMIT`. The transaction would hold SQLite's
/// write lock, and the next write of this connection would run inside it.
/// So a text dropped before [`OpenText::close`] rolls back on a task of
/// its own as soon as the connection is free (and, should no task start,
/// the connection's next checkout rolls back first).
#[derive(Debug)]
#[must_use = "a text that is not closed is rolled back"]
pub(crate) struct OpenText {
    writer: Arc<Connections>,
    open: Arc<AtomicBool>,
    closed: bool,
}

impl OpenText {
    /// The text ended: committed, or rolled back by its writer.
    pub(crate) fn close(mut self) {
        self.open.store(false, Ordering::Release);
        self.closed = true;
    }
}

impl Drop for OpenText {
    fn drop(&mut self) {
        if self.closed {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let (writer, open) = (Arc::clone(&self.writer), Arc::clone(&self.open));
        // The abandoned future still holds the connection; this task takes
        // it when the future's guard goes.
        drop(runtime.spawn(async move {
            if let Ok(mut conn) = writer.get().await {
                roll_back_abandoned(&open, &mut conn).await;
            }
        }));
    }
}

/// Rolls back the transaction an abandoned text may have left open on
/// `conn`, when `open` says a text was under way. With none open, SQLite
/// refuses the rollback, which is fine.
async fn roll_back_abandoned(open: &AtomicBool, conn: &mut SqliteConnection) {
    if open.swap(false, Ordering::AcqRel)
        && let Err(error) = sqlx::query("ROLLBACK").execute(&mut *conn).await
    {
        tracing::debug!(%error, "no transaction left open by an abandoned write");
    }
}

/// A connection checked out of [`Connections`].
pub(crate) type Held<'a> = MappedMutexGuard<'a, SqliteConnection>;

/// The write connection, checked out; returning it tells the checkpoint
/// task that something may have been written.
pub(crate) struct Writing<'a> {
    conn: Held<'a>,
    checkpoints: Option<&'a Checkpoints>,
}

impl Deref for Writing<'_> {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.conn
    }
}

impl DerefMut for Writing<'_> {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.conn
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        if let Some(checkpoints) = self.checkpoints {
            checkpoints.wrote();
        }
    }
}

/// Connections owned by the store, each behind an async mutex (`None` once
/// closed). Checking one out is a lock, not a message to its worker thread.
#[derive(Debug, Default)]
struct Connections {
    conns: Vec<Mutex<Option<SqliteConnection>>>,
    /// Where the next checkout starts looking, so load spreads evenly.
    next: AtomicUsize,
}

impl Connections {
    async fn open(options: &SqliteConnectOptions, count: u32) -> Result<Self, StorageError> {
        let mut conns = Vec::new();
        for _ in 0..count.max(1) {
            let conn = SqliteConnection::connect_with(options).await?;
            conns.push(Mutex::new(Some(conn)));
        }
        Ok(Self {
            conns,
            next: AtomicUsize::new(0),
        })
    }

    /// The first free connection from a rotating start, or, when all are
    /// busy, the start one as soon as it is released (the mutex queues
    /// waiters fairly).
    async fn get(&self) -> Result<Held<'_>, StorageError> {
        let count = self.conns.len().max(1);
        let start = self.next.fetch_add(1, Ordering::Relaxed) % count;
        let free = (0..count).find_map(|i| self.conns.get((start + i) % count)?.try_lock().ok());
        let guard = match free {
            Some(guard) => guard,
            None => match self.conns.get(start) {
                Some(conn) => conn.lock().await,
                None => return Err(StorageError::Database(sqlx::Error::PoolClosed)),
            },
        };
        MutexGuard::try_map(guard, Option::as_mut)
            .map_err(|_| StorageError::Database(sqlx::Error::PoolClosed))
    }

    /// Closes every connection; later checkouts fail with `PoolClosed`.
    async fn close(&self) {
        for conn in &self.conns {
            if let Some(conn) = conn.lock().await.take()
                && let Err(error) = conn.close().await
            {
                tracing::warn!(%error, "closing a SQLite connection failed");
            }
        }
    }
}
