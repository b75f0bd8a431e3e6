//! The PostgreSQL backend: many application servers share one database.

#[cfg(feature = "audit")]
mod audit;
#[cfg(feature = "bans")]
mod bans;
mod community;
mod erasure;
mod held;
mod items;
mod modlog;
mod objects;
mod review;
mod reviewed_objects;
mod store;

pub use store::PgStore;
