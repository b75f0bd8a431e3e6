//! moderation-core's `ReviewStore` for [`PgStore`](super::PgStore): the
//! review queue lives in the `review_*` tables; every write locks the rows
//! it reads (`FOR UPDATE`), so concurrent moderators on many servers are
//! decided one after the other.

use super::PgStore;

impl crate::review::ReviewBackend for PgStore {
    type Conn = sqlx::PgConnection;
    const LOCK: &'static str = " FOR UPDATE";
    const STYLE: crate::sql::Placeholder = crate::sql::Placeholder::Numbered;
}

crate::review::impl_review_store!(PgStore, "postgres", crate::modlog::pg_append);
