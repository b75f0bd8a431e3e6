//! The PostgreSQL backend: many application servers share one database.

mod bans;
mod items;
mod objects;
mod store;

pub use store::PgStore;
