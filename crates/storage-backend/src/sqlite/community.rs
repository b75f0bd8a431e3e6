//! moderation-core's community ports for [`SqliteStore`](super::SqliteStore).
//! Check-and-append runs in a `BEGIN IMMEDIATE` transaction on the write
//! connection: SQLite's single write lock serialises every writer, across
//! processes too, so counting and appending cannot interleave.

crate::community::impl_community_stores!(
    super::SqliteStore,
    "sqlite",
    begin_write,
    read_pool,
    None,
    crate::modlog::sqlite_append
);
