//! How the SQL stores open their databases: the SQLite connection settings
//! (write-ahead log, foreign keys, busy timeout, synchronous mode), that
//! migrating again changes nothing, and that what a store wrote is still
//! there after it is closed and opened again, on a real SQLite file and a
//! real PostgreSQL database.

use std::path::Path;
use std::time::Duration;

use moderation_core::{ItemStatus, LogEntry, ModerationError, ModerationStore, StoredItem};
use moderation_storage::testkit::{self, ScenarioResult, TempSqlite, items};
use moderation_storage::{PgStore, SqliteOptions, SqliteStore, StorageError, Synchronous};
use sqlx::{ConnectOptions, SqliteConnection};

/// The values of the pragmas the store sets, as one connection reports them.
#[derive(Debug, PartialEq, Eq)]
struct Pragmas {
    journal_mode: String,
    foreign_keys: i64,
    busy_timeout_ms: i64,
    synchronous: i64,
    /// Log pages past which a commit checkpoints (`checkpoint_pages`).
    wal_autocheckpoint: i64,
}

/// The pragmas of `conn`. They are per connection.
async fn pragmas(conn: &mut SqliteConnection) -> Result<Pragmas, StorageError> {
    Ok(Pragmas {
        journal_mode: sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *conn)
            .await?,
        foreign_keys: sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut *conn)
            .await?,
        busy_timeout_ms: sqlx::query_scalar("PRAGMA busy_timeout")
            .fetch_one(&mut *conn)
            .await?,
        synchronous: sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *conn)
            .await?,
        wal_autocheckpoint: sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(&mut *conn)
            .await?,
    })
}

/// The write connection and a read connection of `store` report
/// `expected`: both are built from the same options.
async fn assert_pragmas(store: &SqliteStore, expected: &Pragmas) -> ScenarioResult {
    let written = store
        .write(|conn| Box::pin(async move { pragmas(conn).await }))
        .await?;
    assert_eq!(&written, expected, "write connection");
    let mut read = store
        .read_pool()
        .acquire()
        .await
        .map_err(StorageError::from)?;
    assert_eq!(&pragmas(&mut read).await?, expected, "read connection");
    Ok(())
}

/// `PRAGMA synchronous` reports NORMAL as 1 and FULL as 2.
const NORMAL: i64 = 1;
const FULL: i64 = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_opens_in_wal_mode_with_foreign_keys_a_5_s_busy_timeout_and_normal_sync() {
    testkit::with_sqlite(|store| async move {
        let expected = Pragmas {
            journal_mode: "wal".to_owned(),
            foreign_keys: 1,
            busy_timeout_ms: 5_000,
            synchronous: NORMAL,
            wal_autocheckpoint: 1_000,
        };
        assert_pragmas(&store, &expected).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_applies_a_custom_busy_timeout_full_sync_and_checkpoint_size() {
    let temp = TempSqlite::with_options(|options| {
        options
            .busy_timeout(Duration::from_millis(1_250))
            .synchronous(Synchronous::Full)
            .checkpoint_pages(2_500)
    })
    .await
    .unwrap();
    let expected = Pragmas {
        journal_mode: "wal".to_owned(),
        foreign_keys: 1,
        busy_timeout_ms: 1_250,
        synchronous: FULL,
        wal_autocheckpoint: 2_500,
    };
    assert_pragmas(temp.store(), &expected).await.unwrap();
    temp.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_works_without_idle_checkpoints() -> ScenarioResult {
    let temp = TempSqlite::with_options(|options| options.idle_checkpoint(None)).await?;
    let written = write_items(temp.store()).await?;
    assert_holds(temp.store(), &written).await?;
    temp.close().await;
    Ok(())
}

/// The number of migration files of one backend, so a new migration keeps
/// the expected row count right.
fn migration_files(backend: &str) -> Result<i64, ModerationError> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut files = 0_i64;
    for entry in std::fs::read_dir(dir).map_err(ModerationError::store)? {
        let path = entry.map_err(ModerationError::store)?.path();
        if path.extension().is_some_and(|ext| ext == "sql") {
            files += 1;
        }
    }
    Ok(files)
}

/// `(rows, rows that succeeded)` of `_sqlx_migrations`.
const MIGRATION_ROWS: &str =
    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN success THEN 1 ELSE 0 END), 0) FROM _sqlx_migrations";

/// Migrates twice more through `migrate` and checks, through `rows`, that
/// `_sqlx_migrations` holds one successful row per migration file before
/// and after.
async fn migrating_again_is_a_no_op<R, M>(
    backend: &str,
    rows: impl Fn() -> R,
    migrate: impl Fn() -> M,
) -> ScenarioResult
where
    R: Future<Output = Result<(i64, i64), StorageError>>,
    M: Future<Output = Result<(), StorageError>>,
{
    let applied = migration_files(backend)?;
    assert_eq!(rows().await?, (applied, applied));
    migrate().await?;
    migrate().await?;
    assert_eq!(rows().await?, (applied, applied));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_migrating_again_is_a_no_op() {
    testkit::with_sqlite(|store| async move {
        migrating_again_is_a_no_op(
            "sqlite",
            || async {
                sqlx::query_as::<_, (i64, i64)>(MIGRATION_ROWS)
                    .fetch_one(store.read_pool())
                    .await
                    .map_err(StorageError::from)
            },
            || store.migrate(),
        )
        .await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrating_again_is_a_no_op() {
    testkit::with_postgres(|store| async move {
        migrating_again_is_a_no_op(
            "postgres",
            || async {
                sqlx::query_as::<_, (i64, i64)>(MIGRATION_ROWS)
                    .fetch_one(store.pool())
                    .await
                    .map_err(StorageError::from)
            },
            || store.migrate(),
        )
        .await
    })
    .await;
}

/// Writes two items through the port and approves one of them; returns
/// them as stored with their log entries.
async fn write_items(
    store: &dyn ModerationStore,
) -> Result<Vec<(StoredItem, Vec<LogEntry>)>, ModerationError> {
    let (first, log) = items::held_comment(1, 10, 0)?;
    let first = store.insert_item(first, log).await?;
    let (second, log) = items::held_comment(2, 11, 5)?;
    let second = store.insert_item(second, log).await?;
    let change = items::moderator_change(second.id, 1, ItemStatus::Held, ItemStatus::Public)?;
    let second = store.change_status(change).await?;
    let mut written = Vec::new();
    for item in [first, second] {
        let log = store.log_entries(item.id).await?;
        written.push((item, log));
    }
    assert_eq!(
        written.iter().map(|(_, log)| log.len()).collect::<Vec<_>>(),
        [1, 2]
    );
    Ok(written)
}

/// `store` holds exactly what [`write_items`] returned.
async fn assert_holds(
    store: &dyn ModerationStore,
    written: &[(StoredItem, Vec<LogEntry>)],
) -> ScenarioResult {
    for (item, log) in written {
        assert_eq!(store.item(item.id).await?.as_ref(), Some(item));
        assert_eq!(&store.log_entries(item.id).await?, log);
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_reopened_on_its_file_reads_back_what_it_wrote() -> ScenarioResult {
    let dir = tempfile::tempdir().map_err(ModerationError::store)?;
    let path = dir.path().join("moderation.db");
    let store = SqliteOptions::new(&path).open().await?;
    let written = write_items(&store).await?;
    store.close().await;

    let reopened = SqliteStore::open(&path).await?;
    assert_holds(&reopened, &written).await?;
    reopened.close().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_reconnected_to_its_url_reads_back_what_it_wrote() {
    testkit::with_postgres(|store| async move {
        let url = store.pool().connect_options().to_url_lossy();
        let written = write_items(&store).await?;
        store.close().await;

        let reconnected = PgStore::connect(url.as_str()).await?;
        assert_holds(&reconnected, &written).await?;
        reconnected.close().await;
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_close_leaves_the_database_file_alone() -> ScenarioResult {
    let dir = tempfile::tempdir().map_err(ModerationError::store)?;
    let path = dir.path().join("moderation.db");
    let store = SqliteStore::open(&path).await?;
    let written = write_items(&store).await?;
    store.close().await;
    for suffix in ["-wal", "-shm"] {
        let beside = dir.path().join(format!("moderation.db{suffix}"));
        assert!(!beside.exists(), "{} is left after close", beside.display());
    }
    let reopened = SqliteStore::open(&path).await?;
    assert_holds(&reopened, &written).await?;
    reopened.close().await;
    Ok(())
}
