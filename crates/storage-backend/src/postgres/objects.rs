//! moderation-core's `ObjectStore` for [`PgStore`](super::PgStore): records
//! and entries live in the store's database; a decision's version checks
//! are row-level, so concurrent moderators on any server cannot both win.

impl crate::objects::ObjectBackend for super::PgStore {
    /// Writes run statement by statement in a transaction: every statement
    /// is a network round trip anyway, and the schema has no carrying
    /// triggers.
    const CARRIED_WRITES: bool = false;
}

crate::objects::impl_object_store!(
    super::PgStore,
    "postgres",
    crate::objects::POSTGRES_BATCH,
    crate::modlog::pg_append
);
