//! The PostgreSQL backend: many application servers share one database.

mod bans;
mod community;
mod items;
mod store;

pub use store::PgStore;
