//! Connecting a PostgreSQL store.

use std::str::FromStr;

use sqlx::Postgres;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use crate::error::StorageError;
use crate::options::StoreLimits;

/// The PostgreSQL store. Every application server connects to the same
/// database; optimistic versions on items keep concurrent moderators from
/// overwriting each other. Cloning is cheap and shares the pool.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
    limits: StoreLimits,
}

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/database`) with a pool
    /// of up to 10 connections, and applies the migrations.
    ///
    /// # Errors
    /// [`StorageError::Location`] for a malformed URL,
    /// [`StorageError::Database`] when the server cannot be reached,
    /// [`StorageError::Migrate`] when the schema cannot be brought up to date.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let options = PgConnectOptions::from_str(url).map_err(|e| StorageError::Location {
            location: redact(url),
            problem: e.to_string(),
        })?;
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect_with(options)
            .await?;
        let store = Self::from_pool(pool);
        store.migrate().await?;
        Ok(store)
    }

    /// Wraps a pool the application configured itself. Call
    /// [`PgStore::migrate`] before first use.
    #[must_use]
    pub fn from_pool(pool: PgPool) -> Self {
        Self {
            pool,
            limits: StoreLimits::default(),
        }
    }

    /// The largest serialised payload accepted, in bytes.
    #[must_use]
    pub fn with_max_payload_bytes(mut self, max: usize) -> Self {
        self.limits.max_payload_bytes = max;
        self
    }

    /// Applies the embedded migrations that have not run yet. Idempotent, and
    /// safe when several servers start at once: sqlx serialises migrations
    /// with an advisory lock.
    ///
    /// # Errors
    /// [`StorageError::Migrate`] when a migration fails or an applied one
    /// was changed.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn migrate(&self) -> Result<(), StorageError> {
        sqlx::migrate!("migrations/postgres")
            .run(&self.pool)
            .await?;
        Ok(())
    }

    /// The connection pool, for the stores of other ports that share this
    /// database.
    #[must_use]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Runs `work` in a transaction of its own on a pooled connection and
    /// commits it; an error (or a dropped future) rolls it back.
    pub(crate) async fn write<T, E, F>(&self, work: F) -> Result<T, E>
    where
        E: From<StorageError>,
        F: for<'c> FnOnce(
            &'c mut sqlx::PgConnection,
        ) -> futures::future::BoxFuture<'c, Result<T, E>>,
    {
        let mut tx = self.pool.begin().await.map_err(StorageError::from)?;
        let value = work(&mut tx).await?;
        tx.commit().await.map_err(StorageError::from)?;
        Ok(value)
    }

    /// A pooled connection for reads; the pool is shared with writes.
    pub(crate) async fn reader(&self) -> Result<PoolConnection<Postgres>, StorageError> {
        Ok(self.pool.acquire().await?)
    }

    pub(crate) fn limits(&self) -> StoreLimits {
        self.limits
    }
}

/// The URL without its password, for error messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!(
                "{}://***{}",
                url.get(..scheme).unwrap_or(""),
                url.get(at..).unwrap_or("")
            )
        }
        _ => url.to_owned(),
    }
}
