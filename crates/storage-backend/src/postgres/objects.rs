//! moderation-core's `ObjectStore` for [`PgStore`](super::PgStore): records
//! and entries live in the store's database; a decision's version checks
//! are row-level, so concurrent moderators on any server cannot both win.

crate::objects::impl_object_store!(
    super::PgStore,
    "postgres",
    sqlx::Postgres,
    crate::objects::POSTGRES_BATCH,
    crate::modlog::pg_append
);
