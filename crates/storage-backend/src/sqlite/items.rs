//! `ModerationStore` for [`SqliteStore`](super::SqliteStore).

use super::SqliteStore;
use crate::error::StorageError;

impl crate::port::Backend for SqliteStore {
    type Db = sqlx::Sqlite;
    type Conn = sqlx::SqliteConnection;
    const PLACEHOLDER: crate::sql::Placeholder = crate::sql::Placeholder::Anonymous;
    /// `BEGIN IMMEDIATE` takes the write lock at once, so a transaction that
    /// read first can never fail to upgrade its lock halfway through.
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";
    const INSERT_ITEM_WITH_LOG: &'static str = crate::sql::sqlite::INSERT_ITEM_WITH_LOG;
    const CHANGE_STATUS_WITH_LOG: &'static str = crate::sql::sqlite::CHANGE_STATUS_WITH_LOG;
    const CHANGE_STATUSES_AT_ONCE: Option<&'static str> =
        Some(crate::sql::sqlite::CHANGE_STATUSES_CARRYING);
    /// No `RETURNING`: SQLite buffers every returned row and the driver
    /// hands each one to the caller's task through a bounded channel, which
    /// made a 1 000-row insert about a third slower. The ids are known
    /// without it (see `inserted_ids`).
    const INSERT_ITEMS_TAIL: &'static str = "";

    /// Concurrent submissions share commits (see `grouped`).
    async fn submit(
        &self,
        item: moderation_core::NewItem,
        log: moderation_core::NewLogEntry,
    ) -> Result<moderation_core::StoredItem, moderation_core::ModerationError> {
        super::grouped::submit(self, item, log).await
    }

    /// The item triggers copy only the entries the item statements carry
    /// (migration `20261121000011`); one statement's log rows have
    /// consecutive ids, the last of them the connection's last inserted
    /// row id, as for items (see `inserted_ids`).
    fn copy_staff_actions<'c>(
        conn: &'c mut sqlx::SqliteConnection,
        done: &sqlx::sqlite::SqliteQueryResult,
        rows: usize,
    ) -> impl std::future::Future<Output = Result<(), StorageError>> + Send + 'c {
        let last = done.last_insert_rowid();
        let first = last - i64::try_from(rows).unwrap_or(i64::MAX) + 1;
        async move {
            sqlx::query(crate::sql::sqlite::COPY_STAFF_ACTIONS)
                .bind(first)
                .bind(last)
                .execute(conn)
                .await?;
            Ok(())
        }
    }

    /// One statement holding the write lock gives its rows consecutive
    /// ids: `AUTOINCREMENT` takes one past the largest id ever used for
    /// each row in turn, and no trigger inserts items. The last of them is
    /// the connection's last inserted row id once the statement is done
    /// (the log rows the triggers insert do not change it).
    async fn inserted_ids(
        conn: &mut sqlx::SqliteConnection,
        query: sqlx::query::Query<'_, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
        rows: usize,
    ) -> Result<Vec<i64>, StorageError> {
        let done = query.execute(&mut *conn).await?;
        let count = i64::try_from(rows).unwrap_or(i64::MAX);
        if done.rows_affected() != u64::try_from(rows).unwrap_or(u64::MAX) {
            return Err(crate::port::missing_ids(rows, done.rows_affected()));
        }
        let last = done.last_insert_rowid();
        Ok((last - count + 1..=last).collect())
    }
}

crate::port::impl_moderation_store!(SqliteStore, "sqlite");
