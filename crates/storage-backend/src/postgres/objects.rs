//! moderation-core's `ObjectStore` for [`PgStore`](super::PgStore): records
//! and entries live in the store's database; a decision's version checks
//! are row-level, so concurrent moderators on any server cannot both win.

impl crate::objects::ObjectBackend for super::PgStore {
    /// Writes run statement by statement in a transaction, except batches
    /// of decisions: the schema has no carrying triggers.
    const CARRIED_WRITES: bool = false;

    async fn run_decisions(
        conn: &mut sqlx::PgConnection,
        decisions: String,
    ) -> Result<u64, sqlx::Error> {
        let applied = sqlx::query(crate::carried_decisions::UPDATE_ENTRIES_WITH_RECORDS)
            .bind(decisions)
            .fetch_all(&mut *conn)
            .await?;
        Ok(applied.len() as u64)
    }
}

crate::objects::impl_object_store!(
    super::PgStore,
    "postgres",
    crate::objects::POSTGRES_BATCH,
    crate::modlog::pg_append
);
