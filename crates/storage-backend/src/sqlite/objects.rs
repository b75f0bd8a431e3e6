//! moderation-core's `ObjectStore` for [`SqliteStore`](super::SqliteStore):
//! records and entries live in the same database file; writes go through
//! the store's one write connection, reads through its readers.

impl crate::objects::ObjectBackend for super::SqliteStore {
    /// Migration 000010's triggers apply the carried part of a write.
    const CARRIED_WRITES: bool = true;
}

crate::objects::impl_object_store!(
    super::SqliteStore,
    "sqlite",
    crate::objects::SQLITE_BATCH,
    crate::modlog::sqlite_append
);
