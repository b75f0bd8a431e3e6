//! `ModerationStore` for [`PgStore`](super::PgStore).

use super::PgStore;

impl crate::port::Backend for PgStore {
    type Conn = sqlx::PgConnection;
}

crate::port::impl_moderation_store!(PgStore, "postgres");
