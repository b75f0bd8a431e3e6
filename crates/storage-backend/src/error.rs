//! The one error type of moderation-storage.

use moderation_core::ModerationError;

/// Everything that can go wrong inside a store, below the port.
///
/// Store methods return [`ModerationError`]; a `StorageError` reaches callers
/// as [`ModerationError::Store`] (its source), while conflicts, missing items
/// and invalid input keep their own typed `ModerationError` variants.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The database driver reported an error.
    #[error("the database refused or failed a statement; check that it is reachable and migrated")]
    Database(#[from] sqlx::Error),
    /// Applying the embedded migrations failed.
    #[error(
        "migrating the database failed; its schema may be newer than this library, or a migration was edited after it ran"
    )]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back into its domain type.
    #[error(
        "column `{column}` holds an unreadable value ({problem}); the row was written by something other than this library or edited by hand"
    )]
    Corrupt {
        /// The column.
        column: &'static str,
        /// What is wrong with the value.
        problem: String,
    },
    /// The commit holding this write failed, so nothing of it was stored.
    /// Several callers whose writes shared the commit get the same error.
    #[error("committing this write failed and nothing of it was stored; retry it")]
    Commit(#[source] std::sync::Arc<sqlx::Error>),
    /// The SQLite store's writer task stopped before answering (its runtime
    /// is shutting down, or the write panicked).
    #[error(
        "the store's writer stopped before answering; the write may or may not be stored, so look it up before retrying"
    )]
    WriterStopped,
    /// The store was closed.
    #[error("the store was closed; open it again to write")]
    Closed,
    /// The database URL or file path could not be used.
    #[error("invalid database location `{location}`: {problem}")]
    Location {
        /// The URL or path as given.
        location: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl StorageError {
    /// A stored value that does not decode.
    pub(crate) fn corrupt(column: &'static str, problem: &dyn std::fmt::Display) -> Self {
        Self::Corrupt {
            column,
            problem: problem.to_string(),
        }
    }
}

impl From<StorageError> for ModerationError {
    fn from(error: StorageError) -> Self {
        Self::store(error)
    }
}

/// A storage failure reaches moderation-misery's callers as
/// [`MiseryError::Store`](moderation_misery::MiseryError::Store), which keeps
/// the previous ban list in force.
#[cfg(feature = "bans")]
impl From<StorageError> for moderation_misery::MiseryError {
    fn from(error: StorageError) -> Self {
        Self::Store(Box::new(error))
    }
}
