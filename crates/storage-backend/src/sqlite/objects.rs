//! moderation-core's `ObjectStore` for [`SqliteStore`](super::SqliteStore):
//! records and entries live in the same database file; writes go through
//! the store's one write connection, reads through its readers.

impl crate::objects::ObjectBackend for super::SqliteStore {
    /// Migration 000010's triggers apply the carried part of a write.
    const CARRIED_WRITES: bool = true;

    async fn run_decisions(
        conn: &mut sqlx::SqliteConnection,
        decisions: String,
    ) -> Result<u64, sqlx::Error> {
        let done = sqlx::query(crate::carried_decisions::UPDATE_ENTRIES_CARRYING)
            .bind(decisions)
            .execute(&mut *conn)
            .await?;
        Ok(done.rows_affected())
    }
}

crate::objects::impl_object_store!(
    super::SqliteStore,
    "sqlite",
    crate::objects::SQLITE_BATCH,
    crate::modlog::sqlite_append
);
