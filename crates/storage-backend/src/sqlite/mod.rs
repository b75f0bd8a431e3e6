//! The SQLite backend: one file, WAL, created and migrated on first open.

mod audit;
mod bans;
mod community;
mod held;
mod items;
mod modlog;
mod objects;
mod review;
mod store;
mod writer;

pub use store::{
    DEFAULT_CHECKPOINT_PAGES, DEFAULT_IDLE_CHECKPOINT, SqliteOptions, SqliteStore, Synchronous,
};
