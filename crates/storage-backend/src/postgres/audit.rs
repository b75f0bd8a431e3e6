//! The moderation log and the audit trail for [`PgStore`](super::PgStore).

use super::PgStore;

crate::modlog::impl_moderation_log!(PgStore, "postgres", crate::modlog::pg_append);
