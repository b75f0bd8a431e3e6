//! The SQLite backend: one file, WAL, created and migrated on first open.

mod bans;
mod community;
mod items;
mod store;

pub use store::{SqliteOptions, SqliteStore, Synchronous};
