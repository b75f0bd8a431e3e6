//! The PostgreSQL backend: many application servers share one database.

mod audit;
mod bans;
mod community;
mod items;
mod objects;
mod review;
mod store;

pub use store::PgStore;
