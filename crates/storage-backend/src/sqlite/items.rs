//! `ModerationStore` for [`SqliteStore`](super::SqliteStore).

use super::SqliteStore;

impl crate::port::Backend for SqliteStore {
    const PLACEHOLDER: crate::sql::Placeholder = crate::sql::Placeholder::Anonymous;
    type Conn = sqlx::SqliteConnection;
}

crate::port::impl_moderation_store!(SqliteStore, "sqlite");
