//! The PostgreSQL backend: many application servers share one database.

mod audit;
mod bans;
mod community;
mod held;
mod items;
mod modlog;
mod objects;
mod review;
mod store;

pub use store::PgStore;
