//! A SQLite store in a temporary directory.

use tempfile::TempDir;

use crate::{SqliteOptions, SqliteStore, StorageError};

/// A migrated SQLite store whose file lives in a temporary directory that
/// is deleted when this value is dropped.
#[derive(Debug)]
pub struct TempSqlite {
    store: SqliteStore,
    _dir: TempDir,
}

impl TempSqlite {
    /// Creates the directory and opens a store in it with default options.
    ///
    /// # Errors
    /// When the directory or the database cannot be created.
    pub async fn new() -> Result<Self, StorageError> {
        Self::with_options(|options| options).await
    }

    /// As [`TempSqlite::new`], adjusting the options first (synchronous
    /// mode, payload limit).
    ///
    /// # Errors
    /// When the directory or the database cannot be created.
    pub async fn with_options(
        adjust: impl FnOnce(SqliteOptions) -> SqliteOptions,
    ) -> Result<Self, StorageError> {
        let dir = tempfile::tempdir().map_err(|e| StorageError::Location {
            location: std::env::temp_dir().display().to_string(),
            problem: e.to_string(),
        })?;
        let store = adjust(SqliteOptions::new(dir.path().join("moderation.db")))
            .open()
            .await?;
        Ok(Self { store, _dir: dir })
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &SqliteStore {
        &self.store
    }

    /// Closes the connections; the directory goes when `self` is dropped.
    pub async fn close(self) {
        self.store.close().await;
    }
}
