//! The hot reads reach their rows through an index, so their cost does not
//! grow with the number of decided rows: the pending-item queue, an item by
//! id, the review queue and the workflow's pending list, each on a SQLite
//! store holding many decided rows and a few pending ones.
//!
//! A bulk workflow decision, the hot write of a moderator clearing the
//! queue, is checked the same way: it is one update of the entries and one
//! of the records (no replay one write at a time), and both find each row by
//! key.
//!
//! The statements checked are the ones the store runs: sqlx reports each
//! statement it executes as a `tracing` event (target `sqlx::query`, field
//! `db.statement`), which this test records, then asks SQLite for the plan
//! of each with `EXPLAIN QUERY PLAN`, before and after `ANALYZE`.
//!
//! Only SQLite is checked: PostgreSQL chooses its plans from table
//! statistics and size, so a plan on a test database says little about a
//! production one.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a helper that cannot set up or read the database fails the test"
)]

use std::sync::{Arc, Mutex};

use moderation_core::workflow::{
    EntryVersion, ObjectAction, ObjectStore, PendingQuery, WorkflowOptions,
};
use moderation_core::{
    Cursor, ItemFilter, ItemStatus, Kind, ModerationError, ModerationStore, ObjectRef, Order,
    PageRequest, ReviewCursor, ReviewFilter, ReviewPageRequest, ReviewSort, ReviewStore,
};
use moderation_storage::testkit::{self, ScenarioResult, items, review, workflow};
use moderation_storage::{SqliteStore, StorageError};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};

/// Decided rows in each table: enough that a scan would dwarf a search.
const DECIDED: i64 = 20_000;

/// Pending rows in each table.
const PENDING: i64 = 3;

/// The statements sqlx reports executing, in order.
static STATEMENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A `tracing` subscriber that keeps the text of every statement sqlx
/// executes and ignores everything else.
struct StatementRecorder;

/// The only events this test listens to.
const QUERY_TARGET: &str = "sqlx::query";

impl Subscriber for StatementRecorder {
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if metadata.target() == QUERY_TARGET {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        metadata.target() == QUERY_TARGET
    }

    fn new_span(&self, _: &Attributes<'_>) -> Id {
        // Never called: no span has the query target.
        Id::from_u64(1)
    }

    fn record(&self, _: &Id, _: &Record<'_>) {}

    fn record_follows_from(&self, _: &Id, _: &Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut statement = StatementField(None);
        event.record(&mut statement);
        if let Some(sql) = statement.0 {
            STATEMENTS.lock().unwrap().push(sql);
        }
    }

    fn enter(&self, _: &Id) {}

    fn exit(&self, _: &Id) {}
}

/// The `db.statement` field of a query event. sqlx leaves it empty when
/// the statement is no longer than its four-word summary, which none of
/// the statements checked here is.
struct StatementField(Option<String>);

impl Visit for StatementField {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "db.statement" && !value.trim().is_empty() {
            self.0 = Some(value.trim().to_owned());
        }
    }

    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

/// The statements run since the last call.
fn take_statements() -> Vec<String> {
    std::mem::take(&mut *STATEMENTS.lock().unwrap())
}

/// Runs `read` and returns the one statement it ran, leaving out the
/// settings a pool runs on a connection it opens.
async fn statement_of<T>(read: impl Future<Output = T>) -> (T, String) {
    take_statements();
    let value = read.await;
    let mut statements = take_statements();
    statements.retain(|sql| !sql.starts_with("PRAGMA"));
    let [statement] = statements.as_slice() else {
        panic!("expected one statement, got {statements:?}");
    };
    (value, statement.clone())
}

/// Writes [`DECIDED`] decided rows into each table. Items go through the
/// port in batches; review items and workflow objects are written with
/// plain SQL, since their ports decide one item at a time and the planner
/// only sees how many rows there are and which status they have.
async fn fill_decided(store: &SqliteStore) -> ScenarioResult {
    for batch in 0..DECIDED / 1_000 {
        let published = (batch * 1_000..(batch + 1) * 1_000)
            .map(|n| {
                let (mut item, _) = items::held_comment(1_000 + n, n % 500, n)?;
                item.status = ItemStatus::Public;
                let log = items::submit_log(ItemStatus::Public, item.created_at);
                Ok((item, log))
            })
            .collect::<Result<Vec<_>, ModerationError>>()?;
        store.insert_items(published).await?;
    }
    let rows = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) ";
    let written = [
        format!(
            "{rows}INSERT INTO review_items (subject_key, kind, author_key, reasons, score, \
             status, priority, created_at, updated_at, version) \
             SELECT 'submission:' || (1000 + i), 'blog.comment', 'u:' || (i % 500), '[]', 1, \
             'approved', 0, 1795000000000000 + i, 1795000000000000 + i, 2 FROM n"
        ),
        format!(
            "{rows}INSERT INTO moderated_objects (kind, object_key, state, status, decided_by, \
             decided_at, reason, public_version, approved_version, current_version, revision, \
             version, created_at, updated_at) \
             SELECT 'profile', 'i:' || (1000 + i), 'ready', 'approved', '2', \
             1795000000000000 + i, NULL, '{{}}', '{{}}', '{{}}', 1, 2, 1795000000000000 + i, \
             1795000000000000 + i FROM n"
        ),
        format!(
            "{rows}INSERT INTO moderation_entries (kind, object_key, revision, status, snapshot, \
             submitted_by, submitted_at, decided_by, decided_at, reason, version) \
             SELECT 'profile', 'i:' || (1000 + i), 1, 'approved', '{{}}', '7', \
             1795000000000000 + i, '2', 1795000000000000 + i, NULL, 2 FROM n"
        ),
    ];
    for sql in written {
        let inserted = execute(store, sql, Some(DECIDED)).await;
        assert_eq!(inserted, u64::try_from(DECIDED).unwrap());
    }
    Ok(())
}

/// Runs `sql` (binding `value` when given) through the store's writer and
/// returns how many rows it changed.
async fn execute(store: &SqliteStore, sql: String, value: Option<i64>) -> u64 {
    store
        .write(move |conn| {
            Box::pin(async move {
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                if let Some(value) = value {
                    query = query.bind(value);
                }
                Ok::<_, StorageError>(query.execute(conn).await?.rows_affected())
            })
        })
        .await
        .unwrap()
}

/// Writes [`PENDING`] pending rows into each table, through the ports.
async fn add_pending(store: &SqliteStore) -> ScenarioResult {
    let harness = workflow::Harness::new(Arc::new(store.clone()), WorkflowOptions::new())?;
    for n in 1..=PENDING {
        let (item, log) = items::held_comment(n, 10, DECIDED + n)?;
        store.insert_item(item, log).await?;
        store
            .open(review::submission_review(
                n,
                10,
                "first_timer",
                1,
                DECIDED + n,
            )?)
            .await?;
        harness
            .workflow
            .create(&workflow::plain(7), &workflow::profile(n, "pending"))
            .await?;
    }
    Ok(())
}

/// The statements of the hot reads, each run through the store on the
/// filled database and checked to return exactly the pending rows.
async fn hot_statements(store: &SqliteStore) -> Result<Vec<String>, ModerationError> {
    let expected = usize::try_from(PENDING).unwrap();
    let mut statements = Vec::new();

    let held = ItemFilter {
        status: Some(ItemStatus::Held),
        ..ItemFilter::default()
    };
    let (page, sql) = statement_of(store.list_items(&held, &PageRequest::first(2))).await;
    let page = page?;
    statements.push(sql);
    let after = PageRequest {
        after: page.items.last().map(Cursor::after),
        ..PageRequest::first(2)
    };
    let (rest, sql) = statement_of(store.list_items(&held, &after)).await;
    statements.push(sql);
    assert_eq!(page.items.len() + rest?.items.len(), expected);
    let of_kind = ItemFilter {
        kind: Some(items::comment_kind()?),
        ..held.clone()
    };
    let (page, sql) = statement_of(store.list_items(&of_kind, &PageRequest::first(10))).await;
    statements.push(sql);
    assert_eq!(page?.items.len(), expected);

    // The public comments of one post, newest first: every decided row is
    // one, so a page that stops at its limit must walk an index in order.
    let of_post = ItemFilter {
        status: Some(ItemStatus::Public),
        kind: Some(items::comment_kind()?),
        parent: Some(ObjectRef::new(Kind::new("blog.entry")?, 1_i64)),
        ..ItemFilter::default()
    };
    let newest = PageRequest {
        order: Order::NewestFirst,
        ..PageRequest::first(10)
    };
    let (page, sql) = statement_of(store.list_items(&of_post, &newest)).await;
    let page = page?;
    statements.push(sql);
    assert_eq!(page.items.len(), 10);
    let next = PageRequest {
        after: page.next,
        ..newest
    };
    let (page, sql) = statement_of(store.list_items(&of_post, &next)).await;
    statements.push(sql);
    assert_eq!(page?.items.len(), 10);

    let first = store.list_items(&held, &PageRequest::first(1)).await?;
    let id = first.items.first().map(|item| item.id).unwrap();
    let (item, sql) = statement_of(store.item(id)).await;
    statements.push(sql);
    assert_eq!(item?.map(|item| item.id), Some(id));

    for sort in [ReviewSort::ScoreDesc, ReviewSort::Oldest] {
        let request = ReviewPageRequest::first(sort, 2);
        let (page, sql) = statement_of(store.list(&ReviewFilter::pending(), &request)).await;
        let page = page?;
        statements.push(sql);
        let next = request.next(ReviewCursor::after(page.items.last().unwrap()));
        let (rest, sql) = statement_of(store.list(&ReviewFilter::pending(), &next)).await;
        statements.push(sql);
        assert_eq!(page.items.len() + rest?.items.len(), expected);
    }

    let query = PendingQuery::first(2);
    let (page, sql) = statement_of(ObjectStore::pending(store, &query)).await;
    let page = page?;
    statements.push(sql);
    let next = PendingQuery {
        after: page.next,
        ..query
    };
    let (rest, sql) = statement_of(ObjectStore::pending(store, &next)).await;
    statements.push(sql);
    assert_eq!(page.entries.len() + rest?.entries.len(), expected);
    let of_kind = PendingQuery {
        kind: Some(workflow::profile_ref(1)?.kind),
        ..PendingQuery::first(10)
    };
    let (page, sql) = statement_of(ObjectStore::pending(store, &of_kind)).await;
    statements.push(sql);
    assert_eq!(page?.entries.len(), expected);

    Ok(statements)
}

/// SQLite's plan of `sql`, one line per step.
async fn plan(store: &SqliteStore, sql: &str) -> Vec<String> {
    sqlx::query_as::<_, (i64, i64, i64, String)>(sqlx::AssertSqlSafe(format!(
        "EXPLAIN QUERY PLAN {sql}"
    )))
    .fetch_all(store.read_pool())
    .await
    .unwrap()
    .into_iter()
    .map(|(_, _, _, detail)| detail)
    .collect()
}

/// Every step of the plan of `sql` searches an index (or the rowid) by
/// key: none scans a table or a whole index, whose cost grows with the
/// rows it holds, decided ones included, and none sorts into a temporary
/// tree, which reads every match before a page can stop at its limit.
async fn assert_searches(store: &SqliteStore, sql: &str) {
    let steps = plan(store, sql).await;
    let searches = |step: &String| {
        step.starts_with("SEARCH ")
            && [
                " USING INDEX ",
                " USING COVERING INDEX ",
                " USING INTEGER PRIMARY KEY ",
            ]
            .iter()
            .any(|how| step.contains(how))
    };
    assert!(
        !steps.is_empty() && steps.iter().all(searches),
        "{sql}\nhas the plan {steps:#?}"
    );
}

/// Approves every pending profile in one bulk action and returns the
/// statements of its write: one update of the entries and one of the
/// records, which must hold every decision.
async fn bulk_decision_updates(store: &SqliteStore) -> Result<Vec<String>, ModerationError> {
    let harness = workflow::Harness::new(Arc::new(store.clone()), WorkflowOptions::new())?;
    let pending = workflow::all_pending(&harness.workflow).await?;
    assert_eq!(pending.len(), usize::try_from(PENDING).unwrap());
    let entries: Vec<EntryVersion> = pending.iter().map(EntryVersion::from).collect();
    take_statements();
    let decided = harness
        .workflow
        .bulk(
            &workflow::moderator(2),
            ObjectAction::Approve,
            &entries,
            Some("ok"),
        )
        .await?;
    assert_eq!(decided.len(), entries.len());
    let writes: Vec<String> = take_statements()
        .into_iter()
        .filter(|sql| {
            sql.contains("UPDATE moderation_entries") || sql.contains("UPDATE moderated_objects")
        })
        .collect();
    Ok(writes)
}

/// Every step of the plan of the batch update `sql` walks its own list of
/// values (`w`) or searches the table by key.
async fn assert_walks_values_and_searches(store: &SqliteStore, sql: &str) {
    let steps = plan(store, sql).await;
    let by_key = |step: &String| {
        (step.starts_with("SEARCH moderation_entries USING INTEGER PRIMARY KEY ")
            || step.starts_with("SEARCH moderated_objects USING INDEX "))
            || step == "MATERIALIZE w"
            || step == "SCAN w"
            || (step.starts_with("SCAN ") && step.ends_with(" CONSTANT ROWS"))
    };
    assert!(
        steps.iter().any(|step| step.starts_with("SEARCH ")) && steps.iter().all(by_key),
        "{sql}\nhas the plan {steps:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_hot_reads_search_an_index_whatever_the_number_of_decided_rows() {
    // The only test of this binary, so the only one to set the recorder.
    tracing::subscriber::set_global_default(StatementRecorder).unwrap();
    testkit::with_sqlite(|store| async move {
        fill_decided(&store).await?;
        add_pending(&store).await?;
        let statements = hot_statements(&store).await?;
        assert_eq!(statements.len(), 13);
        for sql in &statements[3..5] {
            let steps = plan(&store, sql).await;
            assert!(
                steps
                    .iter()
                    .any(|step| step.contains("moderation_items_parent")),
                "a post's comments are read through the parent index: {steps:#?}"
            );
        }
        // Without statistics, as the store leaves a database, and with them,
        // after an application (or SQLite's `PRAGMA optimize`) runs ANALYZE.
        for sql in &statements {
            assert_searches(&store, sql).await;
        }
        execute(&store, "ANALYZE".to_owned(), None).await;
        for sql in &statements {
            assert_searches(&store, sql).await;
        }
        let updates = bulk_decision_updates(&store).await?;
        assert_eq!(updates.len(), 2, "{updates:?}");
        for sql in &updates {
            assert_walks_values_and_searches(&store, sql).await;
        }
        Ok(())
    })
    .await;
}
