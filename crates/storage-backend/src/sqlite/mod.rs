//! The SQLite backend: one file, WAL, created and migrated on first open.

mod audit;
mod bans;
mod checkpoints;
mod community;
mod grouped;
mod items;
mod objects;
mod review;
mod spin;
mod store;
mod writer;

pub use store::{SqliteOptions, SqliteStore, Synchronous};
