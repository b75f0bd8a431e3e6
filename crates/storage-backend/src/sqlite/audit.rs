//! The moderation log and the audit trail for
//! [`SqliteStore`](super::SqliteStore): writes go through the single write
//! connection, reads through the read pool.

use super::SqliteStore;

crate::modlog::impl_moderation_log!(SqliteStore, "sqlite", crate::modlog::sqlite_append);
