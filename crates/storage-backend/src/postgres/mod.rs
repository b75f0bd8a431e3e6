//! The PostgreSQL backend: many application servers share one database.

mod audit;
mod bans;
mod community;
mod items;
mod review;
mod objects;
mod store;

pub use store::PgStore;
