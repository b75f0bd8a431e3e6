//! `ModerationStore` for [`PgStore`](super::PgStore).

use super::PgStore;
use crate::error::StorageError;

impl crate::port::Backend for PgStore {
    type Db = sqlx::Postgres;
    type Conn = sqlx::PgConnection;
    const PLACEHOLDER: crate::sql::Placeholder = crate::sql::Placeholder::Numbered;
    const BEGIN_WRITE: &'static str = "BEGIN";
    const INSERT_ITEM_WITH_LOG: &'static str = crate::sql::postgres::INSERT_ITEM_WITH_LOG;
    const CHANGE_STATUS_WITH_LOG: &'static str = crate::sql::postgres::CHANGE_STATUS_WITH_LOG;
    const CHANGE_STATUSES_AT_ONCE: Option<&'static str> =
        Some(crate::sql::postgres::CHANGE_STATUSES_CARRYING);
    const INSERT_ITEMS_TAIL: &'static str = " RETURNING id";

    /// Each submission is its own statement: the pool runs concurrent ones
    /// on separate connections, and the server groups their commits.
    async fn submit(
        &self,
        item: moderation_core::NewItem,
        log: moderation_core::NewLogEntry,
    ) -> Result<moderation_core::StoredItem, moderation_core::ModerationError> {
        let id = insert_one(self, &item, &log).await?;
        Ok(crate::record::inserted(id, item))
    }

    /// The trigger on `moderation_item_log` (migration `20261121000008`)
    /// copies every moderator action, however it was written; its `WHEN`
    /// condition is checked without running the trigger's function.
    fn copy_staff_actions<'c>(
        _conn: &'c mut sqlx::PgConnection,
        _done: &sqlx::postgres::PgQueryResult,
        _rows: usize,
    ) -> impl std::future::Future<Output = Result<(), StorageError>> + Send + 'c {
        std::future::ready(Ok(()))
    }

    /// One statement takes its ids from the identity sequence in `VALUES`
    /// order, but `RETURNING`'s row order is unspecified: sorting restores
    /// input order.
    async fn inserted_ids(
        conn: &mut sqlx::PgConnection,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
        rows: usize,
    ) -> Result<Vec<i64>, StorageError> {
        let mut ids = query
            .try_map(|row: sqlx::postgres::PgRow| sqlx::Row::try_get::<i64, _>(&row, 0))
            .fetch_all(&mut *conn)
            .await?;
        if ids.len() != rows {
            return Err(crate::port::missing_ids(rows, ids.len() as u64));
        }
        ids.sort_unstable();
        Ok(ids)
    }
}

crate::port::impl_moderation_store!(PgStore, "postgres");
