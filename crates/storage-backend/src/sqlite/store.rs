//! Opening a SQLite store and its connection settings.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use crate::error::StorageError;
use crate::options::StoreLimits;

/// How hard SQLite works to make each commit durable.
///
/// Both settings keep the database consistent after a crash (WAL mode).
/// They differ only after a power loss or an operating-system crash:
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Synchronous {
    /// `synchronous = NORMAL` (the default): the write-ahead log is synced at
    /// checkpoints, not at every commit. A power loss can lose the last few
    /// commits, never corrupt the file. Commits are several times faster.
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
    limits: StoreLimits,
}

impl SqliteOptions {
    /// Options for the database file at `path` (created when missing), with
    /// `synchronous = NORMAL`, a 5 s busy timeout and 4 reader connections.
    #[must_use]
    pub fn new(path: impl AsRef<Path>) -> Self {
        Self {
            path: path.as_ref().to_path_buf(),
            synchronous: Synchronous::Normal,
            busy_timeout: Duration::from_secs(5),
            readers: 4,
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

    /// The largest serialised payload accepted, in bytes.
    #[must_use]
    pub fn max_payload_bytes(mut self, max: usize) -> Self {
        self.limits.max_payload_bytes = max;
        self
    }

    /// Opens the file (creating it when missing) and applies the migrations.
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
            .synchronous(self.synchronous.pragma());
        // SQLite allows one writer at a time. Funnelling this process's
        // writes through one connection avoids lock contention between our
        // own connections; other processes wait up to the busy timeout.
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(connect.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(self.readers)
            .connect_with(connect.read_only(true))
            .await?;
        let store = SqliteStore {
            writer,
            reader,
            limits: self.limits,
        };
        store.migrate().await?;
        Ok(store)
    }
}

/// The SQLite store: a database file in WAL mode, created and migrated on
/// first open. Cloning is cheap and shares the connections.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
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
        sqlx::migrate!("migrations/sqlite")
            .run(&self.writer)
            .await?;
        Ok(())
    }

    /// The connection pool that performs writes (one connection), for the
    /// stores of other ports that share this database.
    #[must_use]
    pub fn write_pool(&self) -> &SqlitePool {
        &self.writer
    }

    /// The connection pool that serves reads.
    #[must_use]
    pub fn read_pool(&self) -> &SqlitePool {
        &self.reader
    }

    /// Closes every connection, checkpointing the write-ahead log.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    pub(crate) fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    pub(crate) fn limits(&self) -> StoreLimits {
        self.limits
    }

    /// `BEGIN IMMEDIATE` takes the write lock at once, so a transaction that
    /// read first can never fail to upgrade its lock halfway through.
    pub(crate) async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>, StorageError> {
        Ok(self.writer.begin_with("BEGIN IMMEDIATE").await?)
    }
}
