//! moderation-misery's `BanStore` for [`SqliteStore`]: bans live in the
//! `misery_bans` table of the same file; writes go through the store's one
//! writer, listing through its readers.

use async_trait::async_trait;
use moderation_misery::{BanEntry, BanStore, MiseryError, NewBan};
use sqlx::SqliteConnection;

use super::SqliteStore;
use crate::bans::{self, BanRow, store_error};

#[async_trait]
impl BanStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", kind = %ban.kind))]
    async fn add(&self, ban: NewBan) -> Result<BanEntry, MiseryError> {
        self.write(move |conn| Box::pin(add(conn, ban))).await
    }

    #[tracing::instrument(level = "debug", skip(self), fields(backend = "sqlite"))]
    async fn remove(&self, id: u64) -> Result<BanEntry, MiseryError> {
        self.write(move |conn| Box::pin(remove(conn, id))).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite"))]
    async fn list(&self) -> Result<Vec<BanEntry>, MiseryError> {
        let mut conn = self.reader().await.map_err(store_error)?;
        let rows: Vec<BanRow> = sqlx::query_as(bans::LIST_BANS)
            .fetch_all(&mut *conn)
            .await
            .map_err(store_error)?;
        bans::decode_bans(rows)
    }
}

/// Stores `ban`, created now.
pub(crate) async fn add(conn: &mut SqliteConnection, ban: NewBan) -> Result<BanEntry, MiseryError> {
    let created_at = bans::now();
    let values = bans::encode_ban(&ban, created_at);
    let id: i64 = sqlx::query_scalar(bans::INSERT_BAN)
        .bind(values.0)
        .bind(values.1)
        .bind(values.2)
        .bind(values.3)
        .bind(values.4)
        .bind(values.5)
        .bind(values.6)
        .fetch_one(conn)
        .await
        .map_err(store_error)?;
    bans::inserted_ban(id, ban, created_at)
}

/// Deletes ban `id` and returns it.
pub(crate) async fn remove(conn: &mut SqliteConnection, id: u64) -> Result<BanEntry, MiseryError> {
    let row: Option<BanRow> = sqlx::query_as(bans::DELETE_BAN)
        .bind(bans::key(id)?)
        .fetch_optional(conn)
        .await
        .map_err(store_error)?;
    bans::decode_ban(row.ok_or(MiseryError::UnknownBan { id })?).map_err(store_error)
}
