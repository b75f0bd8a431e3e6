//! moderation-core's `ObjectStore` for [`SqliteStore`](super::SqliteStore):
//! records and entries live in the same database file; writes go through
//! the single write connection, reads through the read pool.

crate::objects::impl_object_store!(
    super::SqliteStore,
    "sqlite",
    sqlx::Sqlite,
    crate::objects::SQLITE_BATCH,
    crate::modlog::sqlite_append
);
