//! A workflow change or a review action writes its rows atomically: a
//! failure injected into one of its writes leaves every table exactly as it
//! was, on SQLite and on PostgreSQL.
//!
//! The failure is a trigger that raises on one table (the write a change
//! makes last, or one in the middle), so the writes before it succeed and
//! the failing one aborts them inside the same statement or transaction.
//! Once the trigger is dropped the same call succeeds and changes exactly
//! the tables it was expected to write, which shows both that the failure
//! was the injected one and that the snapshot compared covered those
//! tables.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a helper that cannot set up the database fails the test"
)]

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use chrono::Duration;
use moderation_core::workflow::{
    EntryStatus, EntryVersion, ObjectAction, ObjectStatus, ObjectStore, SaveOutcome,
    WorkflowOptions,
};
use moderation_core::{ModerationError, ReviewAction, ReviewStatus, ReviewStore};
use moderation_storage::testkit::workflow::{
    Harness, all_pending, moderator, plain, profile, profile_ref,
};
use moderation_storage::testkit::{self, ScenarioResult, review};
use moderation_storage::{SqliteStore, StorageError};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

/// The message every injected failure raises.
const INJECTED: &str = "injected";

const OBJECTS: &str = "moderated_objects";
const ENTRIES: &str = "moderation_entries";
const LOG: &str = "moderation_log";
const REVIEW_ITEMS: &str = "review_items";
const REVIEW_HISTORY: &str = "review_history";

/// A trigger that raises [`INJECTED`] on every row of one write to `table`.
#[derive(Debug, Clone, Copy)]
struct Fault {
    /// When it fires, e.g. `BEFORE INSERT`.
    timing: &'static str,
    /// The table it watches.
    table: &'static str,
}

/// The moderation-log row every decision writes last.
const LOG_INSERT: Fault = Fault {
    timing: "BEFORE INSERT",
    table: LOG,
};

/// The record update: after the entries it updates, before the entry it
/// inserts and the log row.
const RECORD_UPDATE: Fault = Fault {
    timing: "BEFORE UPDATE",
    table: OBJECTS,
};

/// The entry of a new object, once inserted after its record: the last write
/// of a create that is queued.
const ENTRY_INSERTED: Fault = Fault {
    timing: "AFTER INSERT",
    table: ENTRIES,
};

/// A review action's history row: after the item, before the log row.
const HISTORY_INSERT: Fault = Fault {
    timing: "BEFORE INSERT",
    table: REVIEW_HISTORY,
};

/// Raw SQL access to the database under a store, for faults and snapshots
/// only: every change under test goes through the ports.
#[derive(Debug, Clone)]
enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Db {
    /// Runs one DDL statement built from the fixed names of this file.
    async fn execute(&self, sql: String) -> ScenarioResult {
        let sql = sqlx::AssertSqlSafe(sql);
        match self {
            Self::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(drop),
            Self::Postgres(pool) => sqlx::query(sql).execute(pool).await.map(drop),
        }
        .map_err(StorageError::from)?;
        Ok(())
    }

    /// Installs `fault`.
    async fn inject(&self, fault: Fault) -> ScenarioResult {
        let Fault { timing, table } = fault;
        match self {
            Self::Sqlite(_) => {
                self.execute(format!(
                    "CREATE TRIGGER inject_failure {timing} ON {table} \
                     BEGIN SELECT RAISE(ABORT, '{INJECTED}'); END"
                ))
                .await
            }
            Self::Postgres(_) => {
                self.execute(format!(
                    "CREATE OR REPLACE FUNCTION inject_failure() RETURNS trigger \
                     LANGUAGE plpgsql AS $body$ BEGIN RAISE EXCEPTION '{INJECTED}'; END $body$"
                ))
                .await?;
                self.execute(format!(
                    "CREATE TRIGGER inject_failure {timing} ON {table} \
                     FOR EACH ROW EXECUTE FUNCTION inject_failure()"
                ))
                .await
            }
        }
    }

    /// Removes `fault`.
    async fn heal(&self, fault: Fault) -> ScenarioResult {
        match self {
            Self::Sqlite(_) => self.execute("DROP TRIGGER inject_failure".to_owned()).await,
            Self::Postgres(_) => {
                self.execute(format!("DROP TRIGGER inject_failure ON {}", fault.table))
                    .await
            }
        }
    }

    /// The application's tables (not the migration bookkeeping), by name.
    async fn tables(&self) -> Result<Vec<String>, ModerationError> {
        Ok(match self {
            Self::Sqlite(pool) => {
                sqlx::query_scalar(
                    "SELECT name FROM sqlite_schema WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                     AND name NOT LIKE '\\_sqlx%' ESCAPE '\\'",
                )
                .fetch_all(pool)
                .await
            }
            Self::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT tablename::text FROM pg_tables \
                     WHERE schemaname = current_schema() AND tablename NOT LIKE '\\_sqlx%'",
                )
                .fetch_all(pool)
                .await
            }
        }
        .map_err(StorageError::from)?)
    }

    /// Every row of `table`, each as one text holding all its columns,
    /// sorted.
    async fn rows(&self, table: &str) -> Result<Vec<String>, ModerationError> {
        let mut rows: Vec<String> = match self {
            Self::Sqlite(pool) => {
                let columns: Vec<String> =
                    sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                        .bind(table)
                        .fetch_all(pool)
                        .await
                        .map_err(StorageError::from)?;
                // `quote` spells every storage class, blobs included.
                let row = columns
                    .iter()
                    .map(|column| format!("quote(\"{column}\")"))
                    .collect::<Vec<_>>()
                    .join(" || ',' || ");
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT {row} FROM \"{table}\""
                )))
                .fetch_all(pool)
                .await
            }
            Self::Postgres(pool) => {
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT to_jsonb(t)::text FROM \"{table}\" AS t"
                )))
                .fetch_all(pool)
                .await
            }
        }
        .map_err(StorageError::from)?;
        rows.sort_unstable();
        Ok(rows)
    }
}

/// Every row of every table of the application.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot(BTreeMap<String, Vec<String>>);

impl Snapshot {
    async fn take(db: &Db) -> Result<Self, ModerationError> {
        let mut tables = BTreeMap::new();
        for table in db.tables().await? {
            let rows = db.rows(&table).await?;
            tables.insert(table, rows);
        }
        Ok(Self(tables))
    }

    /// The rows of `table` (none when it does not exist).
    fn rows(&self, table: &str) -> &[String] {
        self.0.get(table).map_or(&[], Vec::as_slice)
    }

    /// Takes a snapshot now and checks that exactly `tables` differ from
    /// this one.
    async fn changed_only(&self, db: &Db, tables: &[&str]) -> Result<Self, ModerationError> {
        let now = Self::take(db).await?;
        let changed: Vec<&str> = now
            .0
            .keys()
            .filter(|table| now.rows(table) != self.rows(table))
            .map(String::as_str)
            .collect();
        let mut expected = tables.to_vec();
        expected.sort_unstable();
        assert_eq!(changed, expected, "the tables the call wrote");
        Ok(now)
    }
}

/// The database's own message when `outcome` is a database error reported
/// as [`ModerationError::Store`].
fn database_message<T>(outcome: &Result<T, ModerationError>) -> Option<&str> {
    let Err(ModerationError::Store { source, .. }) = outcome else {
        return None;
    };
    match source.downcast_ref::<StorageError>()? {
        StorageError::Database(error) => error.as_database_error().map(|error| error.message()),
        _ => None,
    }
}

/// `outcome` is the injected failure, reported as a store error, and the
/// database is exactly as in `before`.
async fn expect_injected<T: Debug>(
    outcome: Result<T, ModerationError>,
    db: &Db,
    before: &Snapshot,
) -> ScenarioResult {
    assert_eq!(database_message(&outcome), Some(INJECTED), "{outcome:?}");
    assert_eq!(
        &Snapshot::take(db).await?,
        before,
        "the failed call left rows behind"
    );
    Ok(())
}

/// Events and notifications the workflow has sent so far: a failed change
/// sends none.
fn sent(h: &Harness) -> (usize, usize) {
    (h.events.events().len(), h.notes.sent().len())
}

/// A plain user's create is queued: its record and pending entry, and no
/// log row, so its last write is the entry.
async fn create_queued(store: Arc<dyn ObjectStore>, db: Db, fault: Fault) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    let alice = profile(1, "Hello");
    let before = Snapshot::take(&db).await?;
    db.inject(fault).await?;
    expect_injected(h.workflow.create(&plain(7), &alice).await, &db, &before).await?;
    assert_eq!(sent(&h), (0, 0));
    assert_eq!(h.workflow.record(&profile_ref(1)?).await?, None);
    assert_eq!(h.workflow.history(&profile_ref(1)?).await?, Vec::new());

    db.heal(fault).await?;
    let saved = h.workflow.create(&plain(7), &alice).await?;
    assert_eq!(saved.outcome, SaveOutcome::Queued);
    assert_eq!(h.latest(1).await?.status, EntryStatus::Pending);
    before.changed_only(&db, &[OBJECTS, ENTRIES]).await?;
    Ok(())
}

/// A create the rules reject is a decision: record, entry and its log row.
async fn create_auto_rejected(store: Arc<dyn ObjectStore>, db: Db, fault: Fault) -> ScenarioResult {
    let h = Harness::new(
        store,
        WorkflowOptions::new().auto_reject_groups(["spammers"]),
    )?;
    let spammer = plain(7).with_group("spammers");
    let pills = profile(1, "Buy pills");
    let before = Snapshot::take(&db).await?;
    db.inject(fault).await?;
    expect_injected(h.workflow.create(&spammer, &pills).await, &db, &before).await?;
    assert_eq!(sent(&h), (0, 0));
    assert_eq!(h.workflow.record(&profile_ref(1)?).await?, None);

    db.heal(fault).await?;
    let saved = h.workflow.create(&spammer, &pills).await?;
    assert_eq!(saved.outcome, SaveOutcome::AutoRejected);
    assert_eq!(h.record(1).await?.status, ObjectStatus::Rejected);
    let after = before.changed_only(&db, &[OBJECTS, ENTRIES, LOG]).await?;
    assert_eq!(after.rows(LOG).len(), before.rows(LOG).len() + 1);
    Ok(())
}

/// A moderator approves a queued create: the entry, the record, then the
/// log row.
async fn approve(store: Arc<dyn ObjectStore>, db: Db, fault: Fault) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    let alice = profile(1, "Hello");
    h.workflow.create(&plain(7), &alice).await?;
    h.clock.advance(Duration::minutes(5));
    let entry = EntryVersion::from(&h.latest(1).await?);
    let quiet = sent(&h);
    let before = Snapshot::take(&db).await?;
    db.inject(fault).await?;
    expect_injected(
        h.workflow.approve(&moderator(99), entry, Some("ok")).await,
        &db,
        &before,
    )
    .await?;
    assert_eq!(sent(&h), quiet);
    assert_eq!(h.public(1).await?, None);
    assert_eq!(h.record(1).await?.status, ObjectStatus::Pending);
    assert_eq!(h.latest(1).await?.version, entry.version);

    db.heal(fault).await?;
    let taken = h
        .workflow
        .approve(&moderator(99), entry, Some("ok"))
        .await?;
    assert_eq!(taken.entry.status, EntryStatus::Approved);
    assert_eq!(h.public(1).await?, Some(alice));
    let after = before.changed_only(&db, &[OBJECTS, ENTRIES, LOG]).await?;
    assert_eq!(after.rows(LOG).len(), before.rows(LOG).len() + 1);
    Ok(())
}

/// A moderator rejects a queued create: the entry, the record, then the log
/// row.
async fn reject(store: Arc<dyn ObjectStore>, db: Db, fault: Fault) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    h.workflow.create(&plain(7), &profile(1, "Spam")).await?;
    let entry = EntryVersion::from(&h.latest(1).await?);
    let quiet = sent(&h);
    let before = Snapshot::take(&db).await?;
    db.inject(fault).await?;
    expect_injected(
        h.workflow.reject(&moderator(99), entry, Some("spam")).await,
        &db,
        &before,
    )
    .await?;
    assert_eq!(sent(&h), quiet);
    assert_eq!(h.record(1).await?.status, ObjectStatus::Pending);
    assert_eq!(h.latest(1).await?.status, EntryStatus::Pending);

    db.heal(fault).await?;
    let taken = h
        .workflow
        .reject(&moderator(99), entry, Some("spam"))
        .await?;
    assert_eq!(taken.record.status, ObjectStatus::Rejected);
    assert_eq!(taken.record.reason.as_deref(), Some("spam"));
    let after = before.changed_only(&db, &[OBJECTS, ENTRIES, LOG]).await?;
    assert_eq!(after.rows(LOG).len(), before.rows(LOG).len() + 1);
    Ok(())
}

/// An edit of an approved object waits for review: the record, then the
/// new entry; nothing is logged.
async fn edit_queued(store: Arc<dyn ObjectStore>, db: Db, fault: Fault) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    let old = profile(1, "Hello");
    let new = profile(1, "Hello, world");
    h.workflow.create(&plain(7), &old).await?;
    h.approve(1, 99, "ok").await?;
    let record = h.record(1).await?;
    let quiet = sent(&h);
    let before = Snapshot::take(&db).await?;
    db.inject(fault).await?;
    expect_injected(h.workflow.edit(&plain(7), &new).await, &db, &before).await?;
    assert_eq!(sent(&h), quiet);
    assert_eq!(h.record(1).await?, record);
    assert_eq!(h.latest(1).await?.status, EntryStatus::Approved);

    db.heal(fault).await?;
    let saved = h.workflow.edit(&plain(7), &new).await?;
    assert_eq!(saved.outcome, SaveOutcome::Queued);
    assert_eq!(h.public(1).await?, Some(old));
    before.changed_only(&db, &[OBJECTS, ENTRIES]).await?;
    Ok(())
}

/// An edit of an approved object under `bypass_moderation_after_approval`
/// is approved at once: the entry, the record, then the log row.
async fn edit_bypassing_moderation(
    store: Arc<dyn ObjectStore>,
    db: Db,
    fault: Fault,
) -> ScenarioResult {
    let options = WorkflowOptions::new().bypass_moderation_after_approval(true);
    let h = Harness::new(store, options)?;
    let old = profile(1, "Hello");
    let new = profile(1, "Hello, world");
    h.workflow.create(&plain(7), &old).await?;
    h.approve(1, 99, "ok").await?;
    let quiet = sent(&h);
    let before = Snapshot::take(&db).await?;
    db.inject(fault).await?;
    expect_injected(h.workflow.edit(&plain(7), &new).await, &db, &before).await?;
    assert_eq!(sent(&h), quiet);
    assert_eq!(h.public(1).await?, Some(old));

    db.heal(fault).await?;
    let saved = h.workflow.edit(&plain(7), &new).await?;
    assert_eq!(saved.outcome, SaveOutcome::AutoApproved);
    assert_eq!(h.public(1).await?, Some(new));
    let after = before.changed_only(&db, &[OBJECTS, ENTRIES, LOG]).await?;
    assert_eq!(after.rows(LOG).len(), before.rows(LOG).len() + 1);
    Ok(())
}

/// A bulk approve of three entries: one batch, whose statements write every
/// entry, then every record, then every log row.
async fn bulk_approve(store: Arc<dyn ObjectStore>, db: Db, fault: Fault) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    for id in 1..=3 {
        h.workflow.create(&plain(id), &profile(id, "bulk")).await?;
    }
    let targets: Vec<EntryVersion> = all_pending(&h.workflow)
        .await?
        .iter()
        .map(EntryVersion::from)
        .collect();
    assert_eq!(targets.len(), 3);
    let quiet = sent(&h);
    let before = Snapshot::take(&db).await?;
    db.inject(fault).await?;
    let by = moderator(99);
    let approve = ObjectAction::Approve;
    expect_injected(
        h.workflow.bulk(&by, approve, &targets, Some("ok")).await,
        &db,
        &before,
    )
    .await?;
    assert_eq!(sent(&h), quiet);
    assert_eq!(all_pending(&h.workflow).await?.len(), 3);

    db.heal(fault).await?;
    let taken = h.workflow.bulk(&by, approve, &targets, Some("ok")).await?;
    assert_eq!(taken.len(), 3);
    for id in 1..=3 {
        assert_eq!(h.public(id).await?, Some(profile(id, "bulk")));
    }
    let after = before.changed_only(&db, &[OBJECTS, ENTRIES, LOG]).await?;
    assert_eq!(after.rows(LOG).len(), before.rows(LOG).len() + 3);
    Ok(())
}

/// A review approve: the item's state, its history row, then the log row.
async fn review_approve(store: Arc<dyn ReviewStore>, db: Db, fault: Fault) -> ScenarioResult {
    let item = store
        .open(review::submission_review(1, 10, "hold", 1, 0)?)
        .await?
        .item;
    let history = store.history(item.id).await?;
    let approve = review::act(item.id, item.version, ReviewAction::Approve, 2);
    let before = Snapshot::take(&db).await?;
    db.inject(fault).await?;
    expect_injected(store.transition(approve.clone()).await, &db, &before).await?;
    assert_eq!(store.review(item.id).await?, Some(item.clone()));
    assert_eq!(store.history(item.id).await?, history);

    db.heal(fault).await?;
    let approved = store.transition(approve).await?;
    assert_eq!(
        (approved.status, approved.version),
        (ReviewStatus::Approved, item.version + 1)
    );
    assert_eq!(store.history(item.id).await?.len(), history.len() + 1);
    let after = before
        .changed_only(&db, &[REVIEW_ITEMS, REVIEW_HISTORY, LOG])
        .await?;
    assert_eq!(after.rows(LOG).len(), before.rows(LOG).len() + 1);
    Ok(())
}

/// Runs `test` with a new SQLite store in a temporary file and a pool of
/// its own on that file, for faults and snapshots.
async fn with_sqlite_file<F, Fut>(test: F)
where
    F: FnOnce(SqliteStore, Db) -> Fut,
    Fut: Future<Output = ScenarioResult>,
{
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moderation.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            SqliteConnectOptions::new()
                .filename(&path)
                .busy_timeout(std::time::Duration::from_secs(5)),
        )
        .await
        .unwrap();
    let result = test(store.clone(), Db::Sqlite(pool.clone())).await;
    pool.close().await;
    store.close().await;
    if let Err(error) = result {
        panic!("scenario failed on SQLite: {error}");
    }
}

/// Declares modules of one test per SQL backend, each running
/// `scenario(store, db, args...)` on a fresh store.
macro_rules! on_sql_backends {
    ($($(#[$doc:meta])* $name:ident => $scenario:ident($($arg:expr),*);)*) => {$(
        $(#[$doc])*
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                with_sqlite_file(|store, db| $scenario(Arc::new(store), db, $($arg),*)).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                testkit::with_postgres(|store| {
                    let db = Db::Postgres(store.pool().clone());
                    $scenario(Arc::new(store), db, $($arg),*)
                })
                .await;
            }
        }
    )*};
}

on_sql_backends! {
    /// A queued create failing on its entry leaves no record behind.
    create_fails_on_its_entry_write => create_queued(ENTRY_INSERTED);
    /// An auto-rejected create failing on its log row stores nothing.
    create_auto_rejected_fails_on_its_log_write => create_auto_rejected(LOG_INSERT);
    /// An approval failing on its log row publishes nothing.
    approve_fails_on_its_log_write => approve(LOG_INSERT);
    /// An approval failing on its record, after its entry, decides nothing.
    approve_fails_on_its_record_write => approve(RECORD_UPDATE);
    /// A rejection failing on its log row decides nothing.
    reject_fails_on_its_log_write => reject(LOG_INSERT);
    /// A queued edit failing on its record leaves the approved entry as it was.
    edit_fails_on_its_record_write => edit_queued(RECORD_UPDATE);
    /// An edit approved at once failing on its log row publishes nothing.
    edit_bypassing_moderation_fails_on_its_log_write => edit_bypassing_moderation(LOG_INSERT);
    /// A bulk approval failing on its log rows decides none of its entries.
    bulk_approve_fails_on_its_log_write => bulk_approve(LOG_INSERT);
    /// A review approval failing on its log row leaves the item pending.
    review_approve_fails_on_its_log_write => review_approve(LOG_INSERT);
    /// A review approval failing on its history row leaves the item pending.
    review_approve_fails_on_its_history_write => review_approve(HISTORY_INSERT);
}
