//! The SQLite backend: one file, WAL, created and migrated on first open.

mod audit;
mod bans;
mod community;
mod items;
mod review;
mod objects;
mod store;

pub use store::{SqliteOptions, SqliteStore, Synchronous};
