//! moderation-core's `ObjectStore` for [`PgStore`](super::PgStore): records
//! and entries live in the store's database; a decision's version checks
//! are row-level, so concurrent moderators on any server cannot both win.

impl crate::objects::ObjectBackend for super::PgStore {
    /// Writes run statement by statement in a transaction, except batches
    /// of decisions: PostgreSQL prepares one statement per query, so a
    /// text of several cannot bind values.
    const WRITES_AS_ONE_TEXT: bool = false;

    /// One statement on the JSON array `carried_decisions::decisions`
    /// builds.
    async fn run_decisions(
        conn: &mut sqlx::PgConnection,
        writes: &[moderation_core::workflow::ObjectWrite],
        encoded: &[crate::objects::EncodedWrite],
    ) -> Result<u64, moderation_core::ModerationError> {
        let applied = sqlx::query(crate::carried_decisions::UPDATE_ENTRIES_WITH_RECORDS)
            .bind(crate::carried_decisions::decisions(writes, encoded)?)
            .fetch_all(&mut *conn)
            .await
            .map_err(crate::error::StorageError::from)?;
        Ok(applied.len() as u64)
    }
}

crate::objects::impl_object_store!(
    super::PgStore,
    "postgres",
    crate::objects::POSTGRES_BATCH,
    crate::modlog::pg_append
);
