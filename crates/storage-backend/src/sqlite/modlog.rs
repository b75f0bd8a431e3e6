//! moderation-core's `ModerationLog` for [`SqliteStore`]: entries live in
//! the `moderation_log` table of the same file; appends and erasure go
//! through the store's one writer (erasure a write per batch), pages
//! through its readers.

use async_trait::async_trait;
use moderation_core::{
    ModLogEntry, ModLogFilter, ModerationError, ModerationLog, NewModLogEntry, Page, PageRequest,
    UserId,
};
use sqlx::Sqlite;

use super::SqliteStore;
use crate::error::StorageError;
use crate::modlog::{self, LogRow, ModLogRow};

#[async_trait]
impl ModerationLog for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", action = %entry.action))]
    async fn append(&self, entry: NewModLogEntry) -> Result<ModLogEntry, ModerationError> {
        // Checked before the writer sees it, so bad input never waits for
        // the write lock.
        let values = LogRow::new(&entry)?;
        let id = self
            .write(move |conn| Box::pin(modlog::sqlite_insert(conn, values)))
            .await?;
        Ok(entry.stored(id))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite"))]
    async fn mod_log(
        &self,
        filter: &ModLogFilter,
        page: PageRequest,
    ) -> Result<Page<ModLogEntry>, ModerationError> {
        let values = modlog::PageValues::new(filter, &page)?;
        let keyset = values.keyset();
        let mut select = values.query::<Sqlite>();
        let mut conn = self.reader().await?;
        let rows: Vec<ModLogRow> = select
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        modlog::page(rows, keyset)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite"))]
    async fn anonymise_actor(&self, actor: &UserId) -> Result<u64, ModerationError> {
        let mut changed = 0;
        for sweep in crate::erasure::ANONYMISE_ACTOR {
            changed += self.sweep(sweep, actor.as_str().to_owned()).await?;
        }
        Ok(changed)
    }
}
