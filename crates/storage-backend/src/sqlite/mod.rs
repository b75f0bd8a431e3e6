//! The SQLite backend: one file, WAL, created and migrated on first open.

mod bans;
mod items;
mod objects;
mod store;

pub use store::{SqliteOptions, SqliteStore, Synchronous};
