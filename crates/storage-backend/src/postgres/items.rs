//! `ModerationStore` for [`PgStore`](super::PgStore).

use super::PgStore;

impl crate::port::Backend for PgStore {
    type Conn = sqlx::PgConnection;
    const PLACEHOLDER: crate::sql::Placeholder = crate::sql::Placeholder::Numbered;
    const BEGIN_WRITE: &'static str = "BEGIN";
    const INSERT_ITEM_WITH_LOG: &'static str = crate::sql::postgres::INSERT_ITEM_WITH_LOG;
    const CHANGE_STATUS_WITH_LOG: &'static str = crate::sql::postgres::CHANGE_STATUS_WITH_LOG;
}

crate::port::impl_moderation_store!(PgStore, "postgres");
