//! The conformance suite: scenarios written once against
//! [`ModerationStore`], and the runners that give each test a fresh store of
//! every backend.
//!
//! - [`on_memory`], [`on_sqlite`] and [`on_postgres`] run one scenario on a
//!   new, empty store: moderation-core's `MemoryStore`, a SQLite file in a
//!   temporary directory, or a PostgreSQL database created for the test on
//!   the server at `DATABASE_URL` (default [`DEFAULT_DATABASE_URL`]) and
//!   dropped afterwards, also when the scenario panics. Tests can therefore
//!   run in parallel.
//! - When no PostgreSQL server answers, [`on_postgres`] writes that the test
//!   was skipped straight to standard error, which the test harness does not
//!   capture, so the skip shows in `cargo test` output; with `CI=true` it
//!   fails instead, so CI cannot pass without running them.
//! - [`store_scenarios!`](crate::store_scenarios) turns a list of scenarios
//!   into one test per scenario and backend.
//!
//! A third-party backend proves it conforms by running the scenarios of
//! [`items`] against its own store.
//!
//! Runners report failures by panicking, as test harnesses expect.
#![allow(
    clippy::panic,
    reason = "test kit: a failed scenario must fail its test"
)]

pub mod audit;
pub mod bans;
pub mod community;
pub mod held;
pub mod items;
pub mod modlog;
mod pages;
mod postgres;
pub mod purge_load;
pub mod review;
mod sqlite;
pub mod workflow;

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::Poll;

pub use moderation_core::{MemoryReviewStore, MemoryStore};
use moderation_core::{ModerationError, ModerationStore};

pub use pages::read_pages;
pub use postgres::{DEFAULT_DATABASE_URL, TempPostgres};
pub use sqlite::TempSqlite;

/// What every scenario returns: `Err` for an unexpected store error;
/// a broken expectation panics through `assert!`.
pub type ScenarioResult = Result<(), ModerationError>;

/// Runs `scenario` against a new `MemoryStore`.
pub async fn on_memory<F, Fut>(scenario: F)
where
    F: FnOnce(Arc<dyn ModerationStore>) -> Fut,
    Fut: Future<Output = ScenarioResult>,
{
    let store: Arc<dyn ModerationStore> = Arc::new(MemoryStore::new());
    run_scenario("memory", store, scenario).await;
}

/// Runs `scenario` against `store` (any port), naming `backend` when it fails.
pub async fn run_scenario<P, F, Fut>(backend: &str, store: Arc<P>, scenario: F)
where
    P: ?Sized,
    F: FnOnce(Arc<P>) -> Fut,
    Fut: Future<Output = ScenarioResult>,
{
    if let Err(error) = scenario(store).await {
        panic!("scenario failed on the {backend} store: {error}");
    }
}

/// Runs `scenario` against a new SQLite store in a temporary file.
pub async fn on_sqlite<F, Fut>(scenario: F)
where
    F: FnOnce(Arc<dyn ModerationStore>) -> Fut,
    Fut: Future<Output = ScenarioResult>,
{
    with_sqlite(|store| scenario(Arc::new(store))).await;
}

/// Runs `scenario` against a new PostgreSQL database, or reports it skipped.
pub async fn on_postgres<F, Fut>(scenario: F)
where
    F: FnOnce(Arc<dyn ModerationStore>) -> Fut,
    Fut: Future<Output = ScenarioResult>,
{
    with_postgres(|store| scenario(Arc::new(store))).await;
}

/// Runs `test` with a new [`SqliteStore`](crate::SqliteStore) (for
/// backend-specific tests); the file is deleted afterwards.
pub async fn with_sqlite<F, Fut>(test: F)
where
    F: FnOnce(crate::SqliteStore) -> Fut,
    Fut: Future<Output = ScenarioResult>,
{
    let temp = match TempSqlite::new().await {
        Ok(temp) => temp,
        Err(error) => panic!("could not create a temporary SQLite store: {error}"),
    };
    let result = test(temp.store().clone()).await;
    temp.close().await;
    if let Err(error) = result {
        panic!("scenario failed on SQLite: {error}");
    }
}

/// Runs `test` with a new [`PgStore`](crate::PgStore) on a database of its
/// own, dropped afterwards, even when `test` panics (the panic then goes on
/// once the database is gone); skipped (or failed under `CI=true`) when no
/// server answers.
pub async fn with_postgres<F, Fut>(test: F)
where
    F: FnOnce(crate::PgStore) -> Fut,
    Fut: Future<Output = ScenarioResult>,
{
    let Some(temp) = TempPostgres::new_or_skip().await else {
        return;
    };
    let store = temp.store().clone();
    let outcome = catch_unwind(async move { test(store).await }).await;
    temp.drop_database().await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(error)) => panic!("scenario failed on PostgreSQL: {error}"),
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Runs `future` to its end, returning a panic raised while polling it as
/// `Err`, so that the caller can clean up before passing the panic on.
///
/// After a panic the future is dropped and never polled again, so whatever
/// state the panic left half-changed inside it is never observed: that is
/// why asserting unwind safety is sound here.
async fn catch_unwind<F: Future>(future: F) -> std::thread::Result<F::Output> {
    let mut future = std::pin::pin!(future);
    std::future::poll_fn(|cx| {
        match std::panic::catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    })
    .await
}

/// Declares one test per scenario and backend:
///
/// ```ignore
/// moderation_storage::store_scenarios! {
///     insert_then_read => moderation_storage::testkit::items::insert_then_read,
/// }
/// ```
///
/// expands to a module `insert_then_read` with the tests `memory`, `sqlite`
/// and `postgres`, so `cargo test insert_then_read::postgres` finds one.
/// Each scenario is an `async fn(Arc<dyn ModerationStore>) -> ScenarioResult`.
///
/// Scenarios for another store port name the port and its in-memory
/// reference first; the SQL stores are converted to `Arc<port>`:
///
/// ```ignore
/// moderation_storage::store_scenarios! {
///     port = dyn BanStore, memory = MemoryBanStore::new();
///     expired_bans_never_match => bans::expired_bans_never_match,
/// }
/// ```
///
/// The calling crate needs `tokio` with the `macros` and `rt-multi-thread`
/// features.
#[macro_export]
macro_rules! store_scenarios {
    ($($name:ident => $scenario:path),* $(,)?) => {
        $crate::store_scenarios! {
            port = dyn $crate::ModerationStore,
            memory = $crate::testkit::MemoryStore::new();
            $($name => $scenario),*
        }
    };
    (port = $port:ty, memory = $memory:expr; $($name:ident => $scenario:path),* $(,)?) => {
        $(
            mod $name {
                // Scenario paths are written relative to the calling module.
                #[allow(unused_imports)]
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn memory() {
                    let store = ::std::sync::Arc::new($memory) as ::std::sync::Arc<$port>;
                    $crate::testkit::run_scenario("memory", store, $scenario).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    $crate::testkit::with_sqlite(|store| {
                        $scenario(::std::sync::Arc::new(store) as ::std::sync::Arc<$port>)
                    })
                    .await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    $crate::testkit::with_postgres(|store| {
                        $scenario(::std::sync::Arc::new(store) as ::std::sync::Arc<$port>)
                    })
                    .await;
                }
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use sqlx::Connection;

    use super::*;
    use crate::StorageError;

    /// What the scenario below panics with.
    const FAILURE: &str = "the scenario failed an assertion";

    /// A scenario that panics halfway leaves no database behind: the
    /// runner drops it, then passes the panic on to the test.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_postgres_scenario_drops_its_database() {
        let created = Arc::new(Mutex::new(None::<String>));
        let recorded = created.clone();
        let run = tokio::spawn(with_postgres(move |store| async move {
            let name: String = sqlx::query_scalar("SELECT current_database()")
                .fetch_one(store.pool())
                .await
                .map_err(StorageError::from)?;
            *recorded.lock().unwrap() = Some(name);
            panic!("{FAILURE}");
        }));
        let outcome = run.await;
        let Some(name) = created.lock().unwrap().take() else {
            // No server answered: `with_postgres` said so and ran nothing.
            assert!(outcome.is_ok(), "{outcome:?}");
            return;
        };
        let panic = outcome.unwrap_err().into_panic();
        assert_eq!(
            panic.downcast_ref::<String>().map(String::as_str),
            Some(FAILURE)
        );
        assert!(name.starts_with("mk_test_"), "{name}");

        let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned());
        let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
        let left: i64 = sqlx::query_scalar("SELECT count(*) FROM pg_database WHERE datname = $1")
            .bind(&name)
            .fetch_one(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        assert_eq!(left, 0, "database {name} was left behind");
    }
}
