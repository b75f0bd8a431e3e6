//! `ModerationStore` for [`SqliteStore`](super::SqliteStore).

use super::SqliteStore;

impl crate::port::Backend for SqliteStore {
    type Conn = sqlx::SqliteConnection;
    const PLACEHOLDER: crate::sql::Placeholder = crate::sql::Placeholder::Anonymous;
    /// `BEGIN IMMEDIATE` takes the write lock at once, so a transaction that
    /// read first can never fail to upgrade its lock halfway through.
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const INSERT_ITEM_WITH_LOG: &'static str = crate::sql::sqlite::INSERT_ITEM_WITH_LOG;
    const CHANGE_STATUS_WITH_LOG: &'static str = crate::sql::sqlite::CHANGE_STATUS_WITH_LOG;
}

crate::port::impl_moderation_store!(SqliteStore, "sqlite");
