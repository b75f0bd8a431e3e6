//! The SQLite backend: one file, WAL, created and migrated on first open.

#[cfg(feature = "audit")]
mod audit;
#[cfg(feature = "bans")]
mod bans;
mod community;
mod erasure;
mod held;
mod items;
mod modlog;
mod objects;
mod review;
mod reviewed_objects;
mod store;
mod writer;

pub use store::{
    DEFAULT_CHECKPOINT_PAGES, DEFAULT_IDLE_CHECKPOINT, SqliteOptions, SqliteStore, Synchronous,
};
