//! Bad input on both SQL backends: typed errors, nothing written; and
//! values changed behind the stores' backs read back as typed errors that
//! name the column, never as a panic. Covers the item store
//! (`ModerationStore`) and the workflow's object store (`ObjectStore`).

use std::sync::Arc;

use moderation_core::workflow::{ObjectStore, PendingQuery, WorkflowOptions};
use moderation_core::{
    AuthorKey, ItemFilter, ItemId, ModerationError, ModerationStore, ObjectId, ObjectRef,
    PageRequest,
};
use moderation_storage::testkit::{self, ScenarioResult, TempSqlite, items, workflow};
use moderation_storage::{PgStore, SqliteStore, StorageError};

const LIMIT: usize = 200;

async fn assert_empty(store: &dyn ModerationStore) -> ScenarioResult {
    let listed = store
        .list_items(&ItemFilter::default(), &PageRequest::first(10))
        .await?;
    assert!(listed.items.is_empty(), "{:?}", listed.items);
    Ok(())
}

/// A payload over the limit, alone or in a batch, and malformed object,
/// parent and author ids: each is a typed error and nothing is stored.
async fn rejects_bad_items(store: &dyn ModerationStore) -> ScenarioResult {
    let (mut big, log) = items::held_comment(1, 10, 0)?;
    big.payload = serde_json::json!({"text": "x".repeat(LIMIT)});
    let refused = store.insert_item(big.clone(), log.clone()).await;
    assert!(
        matches!(refused, Err(ModerationError::PayloadTooLarge { len, max: LIMIT }) if len > LIMIT),
        "{refused:?}"
    );
    let batch = vec![items::held_comment(2, 10, 0)?, (big, log)];
    assert!(matches!(
        store.insert_items(batch).await,
        Err(ModerationError::PayloadTooLarge { .. })
    ));

    let (mut item, log) = items::held_comment(3, 10, 0)?;
    item.object.id = ObjectId::Str("bad\u{0}id".to_owned());
    assert!(matches!(
        store.insert_item(item, log).await,
        Err(ModerationError::InvalidId { .. })
    ));
    let (mut item, log) = items::held_comment(4, 10, 0)?;
    item.parent = Some(ObjectRef::new(
        items::comment_kind()?,
        ObjectId::Str(String::new()),
    ));
    assert!(matches!(
        store.insert_item(item, log).await,
        Err(ModerationError::InvalidId { .. })
    ));
    let (mut item, log) = items::held_comment(5, 10, 0)?;
    item.author = Some(AuthorKey::Identity("line\nbreak@example.org".to_owned()));
    assert!(matches!(
        store.insert_item(item, log).await,
        Err(ModerationError::InvalidId { .. })
    ));
    assert_empty(store).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_oversized_payload_and_malformed_ids_write_nothing() {
    let temp = TempSqlite::with_options(|o| o.max_payload_bytes(LIMIT))
        .await
        .unwrap();
    rejects_bad_items(temp.store()).await.unwrap();
    temp.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_oversized_payload_and_malformed_ids_write_nothing() {
    testkit::with_postgres(|store| async move {
        rejects_bad_items(&store.with_max_payload_bytes(LIMIT)).await
    })
    .await;
}

/// Reads a row whose column was changed behind the store's back.
async fn read_back(store: &dyn ModerationStore, id: ItemId) -> Result<(), ModerationError> {
    store.item(id).await.map(drop)
}

/// Inserts one item, rewrites one of its columns with `$tamper` (an async
/// function of the item's id running raw SQL), then reads it back through
/// the store.
macro_rules! tampered_read {
    ($store:expr, $tamper:expr) => {{
        let (item, log) = items::held_comment(1, 10, 0)?;
        let stored = $store.insert_item(item, log).await?;
        $tamper(stored.id.0).await?;
        read_back(&$store, stored.id).await
    }};
}

/// Runs `sql`, which binds one id as `$1`, in the SQLite writer's
/// transaction.
async fn sqlite_update(store: &SqliteStore, sql: &'static str, id: i64) -> ScenarioResult {
    store
        .write(move |conn| {
            Box::pin(async move {
                sqlx::query(sql)
                    .bind(id)
                    .execute(conn)
                    .await
                    .map_err(StorageError::from)?;
                Ok::<_, ModerationError>(())
            })
        })
        .await
}

/// Runs `sql`, which binds one id as `$1`, on the PostgreSQL store's pool.
async fn pg_update(store: &PgStore, sql: &'static str, id: i64) -> ScenarioResult {
    sqlx::query(sql)
        .bind(id)
        .execute(store.pool())
        .await
        .map_err(StorageError::from)?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_unknown_kind_in_the_database_is_invalid_kind() {
    testkit::with_sqlite(|store| async move {
        let read = tampered_read!(store, |id| sqlite_update(
            &store,
            "UPDATE moderation_items SET kind = 'Not A Kind' WHERE id = $1",
            id
        ));
        assert!(
            matches!(read, Err(ModerationError::InvalidKind { .. })),
            "{read:?}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_unknown_kind_in_the_database_is_invalid_kind() {
    testkit::with_postgres(|store| async move {
        let read = tampered_read!(store, |id| pg_update(
            &store,
            "UPDATE moderation_items SET kind = 'Not A Kind' WHERE id = $1",
            id
        ));
        assert!(
            matches!(read, Err(ModerationError::InvalidKind { .. })),
            "{read:?}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_malformed_id_in_the_database_is_invalid_id() {
    testkit::with_sqlite(|store| async move {
        let read = tampered_read!(store, |id| sqlite_update(
            &store,
            "UPDATE moderation_items SET object_key = '42' WHERE id = $1",
            id
        ));
        assert!(
            matches!(read, Err(ModerationError::InvalidId { .. })),
            "{read:?}"
        );
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_malformed_id_in_the_database_is_invalid_id() {
    testkit::with_postgres(|store| async move {
        let read = tampered_read!(store, |id| pg_update(
            &store,
            "UPDATE moderation_items SET object_key = '42' WHERE id = $1",
            id
        ));
        assert!(
            matches!(read, Err(ModerationError::InvalidId { .. })),
            "{read:?}"
        );
        Ok(())
    })
    .await;
}

/// The storage error behind a store error, if it is one.
fn storage_error(error: &ModerationError) -> Option<&StorageError> {
    match error {
        ModerationError::Store { source } => source.downcast_ref::<StorageError>(),
        _ => None,
    }
}

/// `read` failed because `column` holds a value that does not decode.
#[track_caller]
fn assert_corrupt<T: std::fmt::Debug>(read: &Result<T, ModerationError>, column: &str) {
    assert!(
        matches!(
            read.as_ref().err().and_then(storage_error),
            Some(StorageError::Corrupt { column: found, .. }) if *found == column
        ),
        "expected column `{column}` to be reported corrupt, got {read:?}"
    );
}

/// `read` failed because the driver could not decode the column named
/// `index` as text: SQLite hands back invalid UTF-8 as the driver's decode
/// error, which the stores report under the column's name.
#[track_caller]
fn assert_undecodable<T: std::fmt::Debug>(read: &Result<T, ModerationError>, index: &str) {
    assert!(
        matches!(
            read.as_ref().err().and_then(storage_error),
            Some(StorageError::Database(sqlx::Error::ColumnDecode { index: found, .. }))
                if found == index
        ),
        "expected column {index} to be reported undecodable, got {read:?}"
    );
}

/// PostgreSQL refuses invalid UTF-8 in text columns, so only SQLite can
/// hand it back; the store turns it into a typed store error naming the
/// column, not a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_invalid_utf8_from_the_database_is_a_store_error() {
    testkit::with_sqlite(|store| async move {
        let read = tampered_read!(store, |id| sqlite_update(
            &store,
            "UPDATE moderation_items SET payload = CAST(x'7b22ff223a317d' AS TEXT) WHERE id = $1",
            id
        ));
        assert_undecodable(&read, "\"payload\"");
        let listed = store
            .list_items(&ItemFilter::default(), &PageRequest::first(10))
            .await;
        assert_undecodable(&listed, "\"payload\"");
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_invalid_json_payload_is_a_corrupt_payload() {
    testkit::with_sqlite(|store| async move {
        let read = tampered_read!(store, |id| sqlite_update(
            &store,
            "UPDATE moderation_items SET payload = '{\"text\": ' WHERE id = $1",
            id
        ));
        assert_corrupt(&read, "payload");
        Ok(())
    })
    .await;
}

/// PostgreSQL keeps JSON in `jsonb` columns, which refuse text that is not
/// JSON: the corruption the SQLite test above reads back cannot be stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refuses_invalid_json_in_a_payload() {
    testkit::with_postgres(|store| async move {
        let (item, log) = items::held_comment(1, 10, 0)?;
        let stored = store.insert_item(item, log).await?;
        let tampered = pg_update(
            &store,
            "UPDATE moderation_items SET payload = '{\"text\": ' WHERE id = $1",
            stored.id.0,
        )
        .await;
        assert!(tampered.is_err(), "stored invalid JSON: {tampered:?}");
        let read = store.item(stored.id).await?;
        assert_eq!(read, Some(stored), "the item is unchanged");
        Ok(())
    })
    .await;
}

/// Counts the rows of `moderated_objects`, `moderation_entries` and
/// `moderation_log`.
const WORKFLOW_ROWS: &str = "SELECT (SELECT COUNT(*) FROM moderated_objects), \
     (SELECT COUNT(*) FROM moderation_entries), (SELECT COUNT(*) FROM moderation_log)";

/// [`WORKFLOW_ROWS`] on the SQLite store, in its writer's transaction.
async fn sqlite_workflow_rows(store: &SqliteStore) -> Result<(i64, i64, i64), ModerationError> {
    store
        .write(|conn| {
            Box::pin(async move {
                let rows = sqlx::query_as(WORKFLOW_ROWS)
                    .fetch_one(conn)
                    .await
                    .map_err(StorageError::from)?;
                Ok::<_, ModerationError>(rows)
            })
        })
        .await
}

/// `result` is the typed refusal of a serialised version over [`LIMIT`].
#[track_caller]
fn assert_too_large<T: std::fmt::Debug>(result: &Result<T, ModerationError>) {
    assert!(
        matches!(result, Err(ModerationError::PayloadTooLarge { len, max: LIMIT }) if *len > LIMIT),
        "{result:?}"
    );
}

/// A workflow save whose version is over the payload limit, as a new
/// object or as an edit of a stored one, is refused with
/// `PayloadTooLarge`; the `rows` counted and the stored object do not
/// change.
async fn oversized_versions_write_nothing(
    store: Arc<dyn ObjectStore>,
    rows: impl AsyncFn() -> Result<(i64, i64, i64), ModerationError>,
) -> ScenarioResult {
    let harness = workflow::Harness::new(store.clone(), WorkflowOptions::new())?;
    let author = workflow::plain(7);
    harness
        .workflow
        .create(&author, &workflow::profile(1, "short"))
        .await?;
    let object = workflow::profile_ref(1)?;
    let record = store.object(&object).await?;
    let history = store.history(&object).await?;
    let before = rows().await?;
    assert_eq!(before, (1, 1, 0));

    let big = "x".repeat(LIMIT);
    assert_too_large(
        &harness
            .workflow
            .create(&author, &workflow::profile(2, &big))
            .await,
    );
    assert_too_large(
        &harness
            .workflow
            .edit(&author, &workflow::profile(1, &big))
            .await,
    );

    assert_eq!(rows().await?, before);
    assert_eq!(store.object(&workflow::profile_ref(2)?).await?, None);
    assert_eq!(store.object(&object).await?, record);
    assert_eq!(store.history(&object).await?, history);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_oversized_object_version_writes_nothing() {
    let temp = TempSqlite::with_options(|o| o.max_payload_bytes(LIMIT))
        .await
        .unwrap();
    let store = temp.store().clone();
    let rows = async || sqlite_workflow_rows(&store).await;
    oversized_versions_write_nothing(Arc::new(store.clone()), rows)
        .await
        .unwrap();
    temp.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_oversized_object_version_writes_nothing() {
    testkit::with_postgres(|store| async move {
        let pool = store.pool().clone();
        let rows = async || {
            let rows = sqlx::query_as(WORKFLOW_ROWS)
                .fetch_one(&pool)
                .await
                .map_err(StorageError::from)?;
            Ok(rows)
        };
        oversized_versions_write_nothing(
            Arc::new(store.clone().with_max_payload_bytes(LIMIT)),
            rows,
        )
        .await
    })
    .await;
}

/// Profile 1 approved, then edited: a record with a public version and its
/// one entry (revision 1, reused by the edit) pending again.
async fn approved_then_edited(store: Arc<dyn ObjectStore>) -> Result<ObjectRef, ModerationError> {
    let harness = workflow::Harness::new(store.clone(), WorkflowOptions::new())?;
    let author = workflow::plain(7);
    harness
        .workflow
        .create(&author, &workflow::profile(1, "first"))
        .await?;
    harness.approve(1, 2, "fine").await?;
    harness
        .workflow
        .edit(&author, &workflow::profile(1, "second"))
        .await?;
    let object = workflow::profile_ref(1)?;
    let pending = store.pending(&PendingQuery::first(10)).await?.entries;
    assert_eq!(
        pending
            .iter()
            .map(|e| (&e.object, e.revision))
            .collect::<Vec<_>>(),
        [(&object, 1)]
    );
    Ok(object)
}

/// Statements that corrupt one column of profile 1's rows; each binds the
/// object's kind and key as `$1` and `$2`.
struct Corruption {
    record: &'static str,
    public: &'static str,
    entries: &'static str,
}

const INVALID_JSON: Corruption = Corruption {
    record: "UPDATE moderated_objects SET current_version = '{\"bio\": ' \
         WHERE kind = $1 AND object_key = $2",
    public: "UPDATE moderated_objects SET public_version = '[1, 2' \
         WHERE kind = $1 AND object_key = $2",
    entries: "UPDATE moderation_entries SET snapshot = 'not json' \
         WHERE kind = $1 AND object_key = $2",
};

/// `{"\xff":1}`: the bytes of a JSON object whose key is not UTF-8.
const INVALID_UTF8: Corruption = Corruption {
    record: "UPDATE moderated_objects SET current_version = CAST(x'7b22ff223a317d' AS TEXT) \
         WHERE kind = $1 AND object_key = $2",
    public: "UPDATE moderated_objects SET public_version = CAST(x'7b22ff223a317d' AS TEXT) \
         WHERE kind = $1 AND object_key = $2",
    entries: "UPDATE moderation_entries SET snapshot = CAST(x'7b22ff223a317d' AS TEXT) \
         WHERE kind = $1 AND object_key = $2",
};

/// Corrupts the record, then its public version, then its entries with
/// invalid JSON through `tamper`, and checks that every read of each
/// reports the column as corrupt.
async fn invalid_json_is_a_corrupt_column(
    store: Arc<dyn ObjectStore>,
    tamper: impl AsyncFn(&'static str, &ObjectRef) -> ScenarioResult,
) -> ScenarioResult {
    let object = approved_then_edited(store.clone()).await?;

    tamper(INVALID_JSON.record, &object).await?;
    let column = "current_version";
    assert_corrupt(&store.object(&object).await, column);
    assert_corrupt(&store.objects(std::slice::from_ref(&object)).await, column);
    assert_corrupt(&store.object_with_latest(&object).await, column);

    tamper(INVALID_JSON.public, &object).await?;
    let column = "public_version";
    assert_corrupt(&store.public_version(&object).await, column);
    assert_corrupt(&store.public_page(&object.kind, None, 10).await, column);

    tamper(INVALID_JSON.entries, &object).await?;
    let column = "snapshot";
    assert_corrupt(&store.history(&object).await, column);
    assert_corrupt(&store.revision(&object, 1).await, column);
    assert_corrupt(&store.pending(&PendingQuery::first(10)).await, column);
    Ok(())
}

/// Runs a [`Corruption`] statement in the SQLite writer's transaction,
/// binding the kind and key of `object`; it must change at least one row.
async fn sqlite_tamper(
    store: &SqliteStore,
    sql: &'static str,
    object: &ObjectRef,
) -> ScenarioResult {
    let (kind, key) = (object.kind.as_str().to_owned(), object.id.to_key());
    let changed = store
        .write(move |conn| {
            Box::pin(async move {
                let done = sqlx::query(sql)
                    .bind(kind)
                    .bind(key)
                    .execute(conn)
                    .await
                    .map_err(StorageError::from)?;
                Ok::<_, ModerationError>(done.rows_affected())
            })
        })
        .await?;
    assert!(changed > 0, "{sql}");
    Ok(())
}

/// Runs a [`Corruption`] statement on the PostgreSQL store's pool, as
/// [`sqlite_tamper`] does.
async fn pg_tamper(store: &PgStore, sql: &'static str, object: &ObjectRef) -> ScenarioResult {
    let changed = sqlx::query(sql)
        .bind(object.kind.as_str())
        .bind(object.id.to_key())
        .execute(store.pool())
        .await
        .map_err(StorageError::from)?
        .rows_affected();
    assert!(changed > 0, "{sql}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_invalid_json_in_the_workflow_tables_is_a_corrupt_column() {
    testkit::with_sqlite(|store| async move {
        let tamper = async |sql, object: &ObjectRef| sqlite_tamper(&store, sql, object).await;
        invalid_json_is_a_corrupt_column(Arc::new(store.clone()), tamper).await
    })
    .await;
}

/// As [`postgres_refuses_invalid_json_in_a_payload`], for the workflow's
/// JSON columns: none of the corruptions stores, and the object reads back
/// as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refuses_invalid_json_in_the_workflow_tables() {
    testkit::with_postgres(|store| async move {
        let objects: Arc<dyn ObjectStore> = Arc::new(store.clone());
        let object = approved_then_edited(objects.clone()).await?;
        let before = (
            objects.object(&object).await?,
            objects.history(&object).await?,
        );
        for sql in [
            INVALID_JSON.record,
            INVALID_JSON.public,
            INVALID_JSON.entries,
        ] {
            let tampered = pg_tamper(&store, sql, &object).await;
            assert!(tampered.is_err(), "stored invalid JSON with {sql}");
        }
        let after = (
            objects.object(&object).await?,
            objects.history(&object).await?,
        );
        assert_eq!(after, before, "nothing changed");
        Ok(())
    })
    .await;
}

/// As [`sqlite_invalid_utf8_from_the_database_is_a_store_error`], for the
/// workflow tables (PostgreSQL refuses to store such text): each read
/// fails with the driver's decode error, naming the column.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_invalid_utf8_in_the_workflow_tables_is_a_store_error() {
    testkit::with_sqlite(|store| async move {
        let sqlite = store.clone();
        let tamper = async |sql, object: &ObjectRef| sqlite_tamper(&sqlite, sql, object).await;
        let store: Arc<dyn ObjectStore> = Arc::new(store);
        let object = approved_then_edited(store.clone()).await?;

        tamper(INVALID_UTF8.record, &object).await?;
        assert_undecodable(&store.object(&object).await, "current_version");
        tamper(INVALID_UTF8.public, &object).await?;
        assert_undecodable(&store.public_version(&object).await, "public_version");
        tamper(INVALID_UTF8.entries, &object).await?;
        assert_undecodable(&store.history(&object).await, "snapshot");
        assert_undecodable(&store.pending(&PendingQuery::first(10)).await, "snapshot");
        Ok(())
    })
    .await;
}
