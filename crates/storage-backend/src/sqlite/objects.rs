//! moderation-core's `ObjectStore` for [`SqliteStore`](super::SqliteStore):
//! records and entries live in the same database file; writes go through
//! the store's one write connection, reads through its readers.

impl crate::objects::ObjectBackend for super::SqliteStore {
    /// Each statement is a round trip to the connection's thread.
    const WRITES_AS_ONE_TEXT: bool = true;

    /// The three statements of `carried_decisions::sqlite` sent as one
    /// text, so a batch is one round trip to the connection's thread (or a
    /// few, for decisions with so many log rows that their values would
    /// pass SQLite's limit). Every log row is inserted and the entries and
    /// records that match are updated, so a batch applied in full exactly
    /// when the rows changed are twice its decisions plus its log rows.
    async fn run_decisions(
        conn: &mut sqlx::SqliteConnection,
        writes: &[moderation_core::workflow::ObjectWrite],
        encoded: &[crate::objects::EncodedWrite],
    ) -> Result<u64, moderation_core::ModerationError> {
        use crate::carried_decisions::{decided_entry, sqlite};
        let mut applied = 0;
        for group in sqlite::groups(writes.iter().map(|write| write.log.len())) {
            let (writes, encoded) = (
                writes.get(group.clone()).unwrap_or_default(),
                encoded.get(group).unwrap_or_default(),
            );
            let decisions = writes.len();
            let logs = writes.iter().map(|write| write.log.len()).sum::<usize>();
            // Only placeholders and fixed fragments (see `carried_decisions`).
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sqlite::decisions(decisions, logs)));
            for (write, encoded) in writes.iter().zip(encoded) {
                let (id, expected, e) = decided_entry(write, encoded)?;
                query = crate::objects::bind_entry!(query.bind(id.0).bind(expected), &e);
            }
            for encoded in encoded {
                let o = &encoded.object;
                query = crate::objects::bind_record!(query, o)
                    .bind(o.version)
                    .bind(o.updated_at);
            }
            for (write, encoded) in writes.iter().zip(encoded) {
                for (entry, e) in write.log.iter().zip(&encoded.log) {
                    query = crate::modlog::bind_entry!(query, entry, &e);
                }
            }
            let changed = query
                .execute(&mut *conn)
                .await
                .map_err(crate::error::StorageError::from)?
                .rows_affected();
            if changed != (2 * decisions + logs) as u64 {
                return Ok(applied);
            }
            applied += decisions as u64;
        }
        Ok(applied)
    }
}

crate::objects::impl_object_store!(
    super::SqliteStore,
    "sqlite",
    crate::objects::SQLITE_BATCH,
    crate::modlog::sqlite_append
);
