//! moderation-core's community ports for [`PgStore`](super::PgStore).
//! Check-and-append first takes a transaction-scoped advisory lock on the
//! member, so two servers counting the same member's actions queue behind
//! each other while other members' actions proceed; the lock is released
//! at commit or rollback.

crate::community::impl_community_stores!(
    super::PgStore,
    "postgres",
    begin_write,
    pool,
    Some("SELECT pg_advisory_xact_lock($1)"),
    crate::modlog::pg_append
);
