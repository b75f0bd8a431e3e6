//! # moderation-storage
//!
//! Durable stores for moderation-kit: [`SqliteStore`] (the embedded default,
//! one file in WAL mode, created and migrated on first open) and
//! [`PgStore`] (many application servers sharing one PostgreSQL database).
//! Both implement moderation-core's [`ModerationStore`] port with the same
//! SQL, run at run time through sqlx (nothing needs a database to compile).
//! They also keep the moderation log (`ModerationLog`) and the audit trail
//! (`moderation_audit_trail::AuditStore`, and `IpHolder` for retention and
//! erasure of the IPs the moderation tables keep).
//!
//! Every item write and its log entry share one transaction; status changes
//! are checked against the version the caller read, so two moderators acting
//! at once cannot both win (the loser gets
//! [`ModerationError::Conflict`](moderation_core::ModerationError::Conflict)).
//!
//! The same stores implement moderation-core's `ReviewStore` (the review
//! queue, in the `review_*` tables), with every action's history step and
//! moderation-log entry written in the action's transaction.
//!
//! The `testkit` feature exports [`testkit`], the conformance suite every
//! backend passes, so a third-party store can prove it behaves the same.
//!
//! ```
//! use chrono::Utc;
//! use moderation_core::{
//!     ItemStatus, Kind, LogAction, ModerationStore, NewItem, NewLogEntry, ObjectRef,
//!     truncate_to_micros,
//! };
//! use moderation_storage::SqliteStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let store = SqliteStore::open(dir.path().join("moderation.db")).await?;
//! let now = truncate_to_micros(Utc::now());
//! let comment = ObjectRef::new(Kind::new("blog.comment")?, 1_i64);
//! let item = NewItem {
//!     object: comment.clone(),
//!     parent: None,
//!     author: None,
//!     status: ItemStatus::Held,
//!     reasons: Vec::new(),
//!     payload: serde_json::json!({"text": "First!"}),
//!     fingerprint: None,
//!     ip: None,
//!     created_at: now,
//! };
//! let log = NewLogEntry {
//!     action: LogAction::SubmitHeld,
//!     actor: None,
//!     reason: None,
//!     detail: serde_json::Value::Null,
//!     ip: None,
//!     from_status: None,
//!     to_status: Some(ItemStatus::Held),
//!     bulk: None,
//!     at: now,
//! };
//! let stored = store.insert_item(item, log).await?;
//! assert_eq!(store.item_for_object(&comment).await?, Some(stored));
//! # Ok(())
//! # }
//! ```

#[cfg(not(any(feature = "sqlite", feature = "postgres")))]
compile_error!(
    "moderation-storage needs a backend: enable the `sqlite` feature (the default) or `postgres`"
);

#[cfg(all(feature = "audit", any(feature = "sqlite", feature = "postgres")))]
mod audit;
#[cfg(all(feature = "bans", any(feature = "sqlite", feature = "postgres")))]
mod bans;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod community;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod erasure;
mod error;
mod json;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod modlog;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod newest_first;
mod objects;
mod options;
mod record;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod review;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod review_record;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod review_sql;
mod sql;

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "sqlite")]
mod sqlite;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use error::StorageError;
pub use moderation_core::ModerationStore;
pub use options::{DEFAULT_MAX_PAYLOAD_BYTES, StoreLimits};
#[cfg(feature = "postgres")]
pub use postgres::PgStore;
#[cfg(feature = "sqlite")]
pub use sqlite::{
    DEFAULT_CHECKPOINT_PAGES, DEFAULT_IDLE_CHECKPOINT, SqliteOptions, SqliteStore, Synchronous,
};
