//! A PostgreSQL database created for one test and dropped after it.

use std::str::FromStr;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection};

use crate::{PgStore, StorageError};

/// The server tests use when `DATABASE_URL` is not set.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A migrated [`PgStore`] on a database of its own (named `mk_test_` and a
/// random suffix), created on the server at `DATABASE_URL`.
///
/// Call [`TempPostgres::drop_database`] when done: dropping a database is
/// asynchronous, so it cannot happen in `Drop`.
#[derive(Debug)]
pub struct TempPostgres {
    store: PgStore,
    admin: PgConnectOptions,
    name: String,
}

impl TempPostgres {
    /// Creates the database and connects to it.
    ///
    /// # Errors
    /// When the server cannot be reached or the database cannot be created.
    pub async fn new() -> Result<Self, StorageError> {
        let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned());
        let admin = PgConnectOptions::from_str(&url).map_err(|e| StorageError::Location {
            location: url.clone(),
            problem: e.to_string(),
        })?;
        // The name is made of hex digits only, so it is safe to splice into
        // DDL, which cannot take a bound parameter.
        let name = format!("mk_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect_with(&admin).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .connect_with(admin.clone().database(&name))
            .await?;
        let store = PgStore::from_pool(pool);
        let temp = Self { store, admin, name };
        if let Err(error) = temp.store.migrate().await {
            temp.drop_database().await;
            return Err(error);
        }
        Ok(temp)
    }

    /// [`TempPostgres::new`], or `None` after writing to the process's
    /// standard error why the test is skipped when the server is
    /// unreachable. With `CI=true` an unreachable server panics instead, so
    /// CI never passes without PostgreSQL.
    pub async fn new_or_skip() -> Option<Self> {
        match Self::new().await {
            Ok(temp) => Some(temp),
            Err(error) if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
                panic!("CI=true and PostgreSQL is unavailable: {error}")
            }
            Err(error) => {
                report(format_args!(
                    "skipped: PostgreSQL is unavailable ({error}); set DATABASE_URL or start a server to run this test"
                ));
                None
            }
        }
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &PgStore {
        &self.store
    }

    /// Closes the store's connections and drops the database. Failures are
    /// written to the process's standard error, not raised: the test's own
    /// result matters more.
    pub async fn drop_database(self) {
        self.store.close().await;
        let dropped = async {
            let mut conn = PgConnection::connect_with(&self.admin).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(&mut conn)
            .await?;
            conn.close().await
        };
        if let Err(error) = dropped.await {
            report(format_args!(
                "could not drop test database {}: {error}",
                self.name
            ));
        }
    }
}

/// Writes one line to the process's standard error. The test harness
/// captures `eprintln!` and shows it only when a test fails, so a skipped
/// test (which passes) would look like any other `ok`; a write to the
/// stream itself is not captured and always shows.
fn report(message: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    // If standard error itself cannot be written, there is nowhere left to
    // say so.
    let _ = writeln!(std::io::stderr().lock(), "{message}");
}
