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
    #[error("database error: {0}; check that the database is reachable and migrated")]
    Database(#[from] sqlx::Error),
    /// Applying the embedded migrations failed.
    #[error(
        "migration failed: {0}; the database schema may be newer than this library, or a migration was edited after it ran"
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
    /// A submission was waiting for the store's writer and the task writing
    /// it stopped before it could answer.
    #[error(
        "the task writing this submission stopped before answering (its runtime was shutting down); it may or may not be stored, so look it up before submitting it again"
    )]
    Interrupted,
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
