//! A failure between the item write and the log write leaves nothing
//! behind. The failure is injected with a trigger that aborts every insert
//! into the item log, so each write's item statement succeeds and its log
//! statement fails inside the same transaction.

use moderation_core::{
    ItemFilter, ItemStatus, ModerationError, ModerationStore, PageRequest, StoredItem,
};
use moderation_storage::testkit::{self, ScenarioResult, items};
use moderation_storage::{SqliteStore, StorageError};

/// Inserts the item that exists before the fault is switched on.
async fn before_fault(store: &dyn ModerationStore) -> Result<StoredItem, ModerationError> {
    let (item, log) = items::held_comment(1, 10, 0)?;
    store.insert_item(item, log).await
}

/// With the fault on: every write fails with a store error and the
/// database looks exactly as before.
async fn writes_fail_atomically(
    store: &dyn ModerationStore,
    existing: &StoredItem,
) -> ScenarioResult {
    let (item, log) = items::held_comment(2, 10, 1)?;
    let single = store.insert_item(item, log).await;
    assert!(
        matches!(single, Err(ModerationError::Store { .. })),
        "{single:?}"
    );

    let batch = (3..6)
        .map(|n| items::held_comment(n, 10, n))
        .collect::<Result<Vec<_>, _>>()?;
    let many = store.insert_items(batch).await;
    assert!(
        matches!(many, Err(ModerationError::Store { .. })),
        "{many:?}"
    );

    let change = items::moderator_change(existing.id, 1, ItemStatus::Held, ItemStatus::Public)?;
    let changed = store.change_status(change.clone()).await;
    assert!(
        matches!(changed, Err(ModerationError::Store { .. })),
        "{changed:?}"
    );
    let changed = store.change_statuses(vec![change]).await;
    assert!(
        matches!(changed, Err(ModerationError::Store { .. })),
        "{changed:?}"
    );

    let listed = store
        .list_items(&ItemFilter::default(), &PageRequest::first(100))
        .await?;
    assert_eq!(listed.items, std::slice::from_ref(existing));
    assert_eq!(store.log_entries(existing.id).await?.len(), 1);
    Ok(())
}

/// Runs `sql` in the SQLite writer's transaction; returns the first column
/// of its first row, if it returns one.
async fn sqlite_run(
    store: &SqliteStore,
    sql: &'static str,
) -> Result<Option<i64>, ModerationError> {
    store
        .write(move |conn| {
            Box::pin(async move {
                let value: Option<i64> = sqlx::query_scalar(sql)
                    .fetch_optional(conn)
                    .await
                    .map_err(StorageError::from)?;
                Ok::<_, ModerationError>(value)
            })
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_failure_between_item_and_log_leaves_nothing() {
    testkit::with_sqlite(|store| async move {
        let existing = before_fault(&store).await?;
        sqlite_run(
            &store,
            "CREATE TRIGGER inject_log_failure BEFORE INSERT ON moderation_item_log \
             BEGIN SELECT RAISE(ABORT, 'injected failure'); END",
        )
        .await?;
        writes_fail_atomically(&store, &existing).await?;
        let counts = (
            sqlite_run(&store, "SELECT COUNT(*) FROM moderation_items").await?,
            sqlite_run(&store, "SELECT COUNT(*) FROM moderation_log").await?,
        );
        assert_eq!(counts, (Some(1), Some(0)));
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_failure_between_item_and_log_leaves_nothing() {
    testkit::with_postgres(|store| async move {
        let existing = before_fault(&store).await?;
        let setup = [
            "CREATE FUNCTION inject_log_failure() RETURNS trigger LANGUAGE plpgsql \
             AS $body$ BEGIN RAISE EXCEPTION 'injected failure'; END $body$",
            "CREATE TRIGGER inject_log_failure BEFORE INSERT ON moderation_item_log \
             FOR EACH ROW EXECUTE FUNCTION inject_log_failure()",
        ];
        for sql in setup {
            sqlx::query(sql)
                .execute(store.pool())
                .await
                .map_err(StorageError::from)?;
        }
        writes_fail_atomically(&store, &existing).await?;
        let counts: (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM moderation_items), (SELECT COUNT(*) FROM moderation_log)",
        )
        .fetch_one(store.pool())
        .await
        .map_err(StorageError::from)?;
        assert_eq!(counts, (1, 0));
        Ok(())
    })
    .await;
}
