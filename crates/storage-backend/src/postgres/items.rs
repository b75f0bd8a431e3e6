//! `ModerationStore` for [`PgStore`](super::PgStore).

use super::PgStore;

impl crate::port::Backend for PgStore {
    const PLACEHOLDER: crate::sql::Placeholder = crate::sql::Placeholder::Numbered;
    type Conn = sqlx::PgConnection;
}

crate::port::impl_moderation_store!(PgStore, "postgres");
