//! Bad input on both SQL backends: typed errors, nothing written.

use moderation_core::{
    AuthorKey, ItemFilter, ItemId, ModerationError, ModerationStore, ObjectId, ObjectRef,
    PageRequest,
};
use moderation_storage::testkit::{self, ScenarioResult, TempSqlite, items};

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

/// Inserts one item, rewrites one of its columns with raw SQL (bound id),
/// then reads it back through the store.
macro_rules! tampered_read {
    ($store:expr, $pool:expr, $sql:literal) => {{
        let (item, log) = items::held_comment(1, 10, 0)?;
        let stored = $store.insert_item(item, log).await?;
        sqlx::query($sql)
            .bind(stored.id.0)
            .execute($pool)
            .await
            .unwrap();
        read_back(&$store, stored.id).await
    }};
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_unknown_kind_in_the_database_is_invalid_kind() {
    testkit::with_sqlite(|store| async move {
        let read = tampered_read!(
            store,
            store.write_pool(),
            "UPDATE moderation_items SET kind = 'Not A Kind' WHERE id = $1"
        );
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
        let read = tampered_read!(
            store,
            store.pool(),
            "UPDATE moderation_items SET kind = 'Not A Kind' WHERE id = $1"
        );
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
        let read = tampered_read!(
            store,
            store.write_pool(),
            "UPDATE moderation_items SET object_key = '42' WHERE id = $1"
        );
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
        let read = tampered_read!(
            store,
            store.pool(),
            "UPDATE moderation_items SET object_key = '42' WHERE id = $1"
        );
        assert!(
            matches!(read, Err(ModerationError::InvalidId { .. })),
            "{read:?}"
        );
        Ok(())
    })
    .await;
}

/// PostgreSQL refuses invalid UTF-8 in text columns, so only SQLite can
/// hand it back; the store turns it into a typed store error, not a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_invalid_utf8_from_the_database_is_a_store_error() {
    testkit::with_sqlite(|store| async move {
        let read = tampered_read!(
            store,
            store.write_pool(),
            "UPDATE moderation_items SET payload = CAST(x'7b22ff223a317d' AS TEXT) WHERE id = $1"
        );
        assert!(
            matches!(read, Err(ModerationError::Store { .. })),
            "{read:?}"
        );
        let listed = store
            .list_items(&ItemFilter::default(), &PageRequest::first(10))
            .await;
        assert!(
            matches!(listed, Err(ModerationError::Store { .. })),
            "{listed:?}"
        );
        Ok(())
    })
    .await;
}
