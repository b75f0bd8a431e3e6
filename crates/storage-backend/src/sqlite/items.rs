//! `ModerationStore` for [`SqliteStore`](super::SqliteStore).

use super::SqliteStore;

impl crate::port::Backend for SqliteStore {
    type Conn = sqlx::SqliteConnection;
}

crate::port::impl_moderation_store!(SqliteStore, "sqlite");
