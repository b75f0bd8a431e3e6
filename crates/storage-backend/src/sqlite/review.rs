//! moderation-core's `ReviewStore` for [`SqliteStore`](super::SqliteStore):
//! the review queue lives in the `review_*` tables of the same file; writes
//! go through the single write connection, whose `BEGIN IMMEDIATE` is the
//! lock every read-check-write relies on.

use super::SqliteStore;

impl crate::review::ReviewBackend for SqliteStore {
    type Conn = sqlx::SqliteConnection;
    const LOCK: &'static str = "";
    const STYLE: crate::sql::Placeholder = crate::sql::Placeholder::Anonymous;
}

crate::review::impl_review_store!(SqliteStore, "sqlite", crate::modlog::sqlite_append);
