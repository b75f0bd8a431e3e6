//! moderation-core's `ModerationLog` for [`PgStore`]: entries live in the
//! `moderation_log` table of the same database; an append is a transaction
//! of its own, erasure one per batch; pages read from the pool.

use async_trait::async_trait;
use moderation_core::{
    ModLogEntry, ModLogFilter, ModerationError, ModerationLog, NewModLogEntry, Page, PageRequest,
    UserId,
};
use sqlx::Postgres;

use super::PgStore;
use crate::error::StorageError;
use crate::modlog::{self, LogRow, ModLogRow};

#[async_trait]
impl ModerationLog for PgStore {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", action = %entry.action))]
    async fn append(&self, entry: NewModLogEntry) -> Result<ModLogEntry, ModerationError> {
        // Checked before a transaction opens.
        let values = LogRow::new(&entry)?;
        let id = self
            .write(move |conn| Box::pin(modlog::pg_insert(conn, values)))
            .await?;
        Ok(entry.stored(id))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres"))]
    async fn mod_log(
        &self,
        filter: &ModLogFilter,
        page: PageRequest,
    ) -> Result<Page<ModLogEntry>, ModerationError> {
        let values = modlog::PageValues::new(filter, &page)?;
        let keyset = values.keyset();
        let mut select = values.query::<Postgres>();
        let mut conn = self.reader().await?;
        let rows: Vec<ModLogRow> = select
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        modlog::page(rows, keyset)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres"))]
    async fn anonymise_actor(&self, actor: &UserId) -> Result<u64, ModerationError> {
        let mut changed = 0;
        for sweep in crate::erasure::ANONYMISE_ACTOR {
            changed += self.sweep(sweep, actor.as_str().to_owned()).await?;
        }
        Ok(changed)
    }
}
