//! Opening a SQLite store and its connection settings.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::future::BoxFuture;
use sqlx::Connection;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};

use super::writer::{Checkpoint, Writer};
use crate::error::StorageError;
use crate::options::StoreLimits;

/// How much of the database file each reader maps into memory (1 GiB of
/// address space, not of memory: pages are loaded as they are read).
const MMAP_BYTES: &str = "1073741824";

/// How hard SQLite works to make each commit durable.
///
/// Both settings keep the database consistent after a crash (WAL mode).
/// They differ only after a power loss or an operating-system crash:
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Synchronous {
    /// `synchronous = NORMAL` (the default): the write-ahead log is synced
    /// at checkpoints, not at every commit. A power loss can lose the
    /// commits since the last checkpoint, never corrupt the file.
    #[default]
    Normal,
    /// `synchronous = FULL`: every commit is synced to disk before it
    /// returns. Nothing acknowledged is ever lost, at the cost of one
    /// `fsync` per commit (concurrent writes share a commit, and so an
    /// `fsync`).
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

/// The default log size, in pages, past which a commit checkpoints
/// (SQLite's own default).
pub const DEFAULT_CHECKPOINT_PAGES: u32 = 1_000;

/// The default time the writer waits with nothing to write before it
/// checkpoints.
pub const DEFAULT_IDLE_CHECKPOINT: Duration = Duration::from_millis(100);

/// Settings for [`SqliteStore`], built step by step.
///
/// ```no_run
/// use std::time::Duration;
/// use moderation_storage::{SqliteOptions, Synchronous};
/// # async fn open() -> Result<(), moderation_storage::StorageError> {
/// let store = SqliteOptions::new("moderation.db")
///     .synchronous(Synchronous::Full)
///     .readers(8)
///     .checkpoint_pages(2_000)
///     .idle_checkpoint(Some(Duration::from_millis(250)))
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
    checkpoint_pages: u32,
    idle_checkpoint: Option<Duration>,
    limits: StoreLimits,
}

impl SqliteOptions {
    /// Options for the database file at `path` (created when missing), with
    /// `synchronous = NORMAL`, a 5 s busy timeout, 4 reader connections,
    /// checkpoints past [`DEFAULT_CHECKPOINT_PAGES`] and after
    /// [`DEFAULT_IDLE_CHECKPOINT`] without writes.
    #[must_use]
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
            synchronous: Synchronous::Normal,
            busy_timeout: Duration::from_secs(5),
            readers: 4,
            checkpoint_pages: DEFAULT_CHECKPOINT_PAGES,
            idle_checkpoint: Some(DEFAULT_IDLE_CHECKPOINT),
            limits: StoreLimits::default(),
        }
    }

    /// Durability of each commit; see [`Synchronous`] for the trade-off.
    #[must_use]
    pub fn synchronous(mut self, synchronous: Synchronous) -> Self {
        self.synchronous = synchronous;
        self
    }

    /// How long a write waits for another process holding the file's write
    /// lock before failing. The store's own writes never wait for each
    /// other here: one writer task makes them all.
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

    /// The size of the write-ahead log, in pages (4 KiB each by default),
    /// past which the commit that crosses it copies the log back into the
    /// database file (`wal_autocheckpoint`; at least 1).
    ///
    /// This is the bound on the log: it grows past it only by what one
    /// commit writes, or while a reader keeps an older snapshot open (a
    /// checkpoint never overwrites pages a reader may still need). A larger
    /// value means fewer, longer checkpoints inside commits.
    #[must_use]
    pub fn checkpoint_pages(mut self, pages: u32) -> Self {
        self.checkpoint_pages = pages.max(1);
        self
    }

    /// How long the writer waits with nothing to write before it runs a
    /// passive checkpoint itself (`None`: never, only past
    /// [`checkpoint_pages`](Self::checkpoint_pages)).
    ///
    /// An idle checkpoint costs no writer anything and, under
    /// `synchronous = NORMAL`, puts the commits before it on disk: it
    /// bounds what a power loss can take to about this long before the
    /// last quiet moment.
    #[must_use]
    pub fn idle_checkpoint(mut self, delay: Option<Duration>) -> Self {
        self.idle_checkpoint = delay;
        self
    }

    /// The largest serialised payload accepted, in bytes.
    #[must_use]
    pub fn max_payload_bytes(mut self, max: usize) -> Self {
        self.limits.max_payload_bytes = max;
        self
    }

    /// Opens the file (creating it when missing), applies the migrations
    /// and starts the writer task.
    ///
    /// Call it inside a Tokio runtime with its timer enabled (as
    /// `#[tokio::main]` and `#[tokio::test]` give): the writer task runs
    /// there.
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
            .pragma("wal_autocheckpoint", self.checkpoint_pages.to_string())
            // A statement journal (the undo record of one statement in a
            // transaction) stays in memory instead of a temporary file.
            .pragma("temp_store", "memory");
        // Readers map the database file instead of copying each page in
        // with a system call. The writer does not: SQLite copies a mapped
        // page to the heap before changing it.
        let read = connect
            .clone()
            .read_only(true)
            .pragma("mmap_size", MMAP_BYTES);
        let mut conn = SqliteConnection::connect_with(&connect).await?;
        migrate_on(&mut conn).await?;
        let writer = Writer::start(
            conn,
            Checkpoint {
                idle: self.idle_checkpoint,
            },
        );
        Ok(SqliteStore {
            connect: Arc::new(connect),
            writer: Arc::new(writer),
            readers: Arc::new(Readers::open(&read, self.readers).await?),
            read_pool: SqlitePoolOptions::new()
                .max_connections(self.readers)
                .connect_lazy_with(read),
            limits: self.limits,
        })
    }
}

/// The SQLite store: a database file in WAL mode, created and migrated on
/// first open. Cloning is cheap and shares the connections.
///
/// One writer task owns the only write connection, and every write of
/// every port goes through it ([`SqliteStore::write`]); reads use a few
/// read-only connections. See the guide's storage page for the writer's
/// guarantees.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// The write connection's options, for [`SqliteStore::migrate`].
    connect: Arc<SqliteConnectOptions>,
    writer: Arc<Writer>,
    readers: Arc<Readers>,
    read_pool: SqlitePool,
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

    /// Applies the embedded migration if it has not run yet. Running it
    /// again is a no-op; [`SqliteOptions::open`] already calls it.
    ///
    /// It runs on a connection of its own, outside the writer (a migration
    /// holds its own transactions), waiting up to the busy timeout for the
    /// writer's current commit.
    ///
    /// # Errors
    /// [`StorageError::Migrate`] when the migration fails or an applied one
    /// was changed.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn migrate(&self) -> Result<(), StorageError> {
        let mut conn = SqliteConnection::connect_with(&self.connect).await?;
        let migrated = migrate_on(&mut conn).await;
        if let Err(error) = conn.close().await {
            tracing::warn!(%error, "closing the migration connection failed");
        }
        migrated
    }

    /// A read-only connection pool on the same file (connected on first
    /// use), for an application's own reads.
    #[must_use]
    pub fn read_pool(&self) -> &SqlitePool {
        &self.read_pool
    }

    /// Runs `work` on the store's one write connection, inside the
    /// writer's next transaction, and answers after that transaction
    /// commits.
    ///
    /// This is how every port of the store writes, and how an application
    /// sharing the file writes its own tables without a second writer. The
    /// work may share its commit with other callers' work; it runs in a
    /// savepoint of its own then, so an error it returns undoes its
    /// statements alone. It must not begin, commit or roll back by itself.
    /// A caller that stops waiting before the writer starts the work writes
    /// nothing; once started, the work commits with its group.
    ///
    /// ```
    /// use moderation_storage::{SqliteStore, StorageError};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), StorageError> {
    /// # let dir = tempfile::tempdir().map_err(|e| StorageError::Location { location: "tmp".into(), problem: e.to_string() })?;
    /// let store = SqliteStore::open(dir.path().join("moderation.db")).await?;
    /// let bans: i64 = store
    ///     .write(|conn| {
    ///         Box::pin(async move {
    ///             let count = sqlx::query_scalar("SELECT COUNT(*) FROM misery_bans")
    ///                 .fetch_one(conn)
    ///                 .await?;
    ///             Ok::<_, StorageError>(count)
    ///         })
    ///     })
    ///     .await?;
    /// assert_eq!(bans, 0);
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// What `work` returns; [`StorageError::Commit`] when the commit fails
    /// (nothing of the work is stored); [`StorageError::Closed`] after
    /// [`close`](Self::close).
    pub async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StorageError> + Send + 'static,
        F: for<'c> FnOnce(&'c mut SqliteConnection) -> BoxFuture<'c, Result<T, E>> + Send + 'static,
    {
        self.writer.write(work).await
    }

    /// Lets the queued writes commit, checkpoints, and closes every
    /// connection, leaving the database file alone (no `-wal` or `-shm`
    /// beside it). Later writes fail with [`StorageError::Closed`].
    pub async fn close(&self) {
        // The write connection closes last: only a connection that may
        // write can checkpoint and remove the write-ahead log as the last
        // one leaves, so the file alone holds the data afterwards.
        self.read_pool.close().await;
        self.readers.close().await;
        self.writer.close().await;
    }

    /// A read-only connection, free or soon free.
    pub(crate) async fn reader(&self) -> Result<Reader<'_>, StorageError> {
        self.readers.get().await
    }

    pub(crate) fn limits(&self) -> StoreLimits {
        self.limits
    }
}

/// Runs the embedded migrations on `conn`.
async fn migrate_on(conn: &mut SqliteConnection) -> Result<(), StorageError> {
    sqlx::migrate!("migrations/sqlite").run(conn).await?;
    Ok(())
}

/// A read-only connection checked out of [`Readers`].
pub(crate) type Reader<'a> = MappedMutexGuard<'a, SqliteConnection>;

/// The read-only connections, each behind an async mutex (`None` once
/// closed). Checking one out is a lock, not a message to the connection's
/// worker thread.
#[derive(Debug, Default)]
struct Readers {
    conns: Vec<Mutex<Option<SqliteConnection>>>,
    /// Where the next checkout starts looking, so load spreads evenly.
    next: AtomicUsize,
}

impl Readers {
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
    async fn get(&self) -> Result<Reader<'_>, StorageError> {
        let count = self.conns.len().max(1);
        let start = self.next.fetch_add(1, Ordering::Relaxed) % count;
        let free = (0..count).find_map(|i| self.conns.get((start + i) % count)?.try_lock().ok());
        let guard = match free {
            Some(guard) => guard,
            None => match self.conns.get(start) {
                Some(conn) => conn.lock().await,
                None => return Err(StorageError::Closed),
            },
        };
        MutexGuard::try_map(guard, Option::as_mut).map_err(|_| StorageError::Closed)
    }

    /// Closes every connection; later checkouts fail with
    /// [`StorageError::Closed`].
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
