//! Review actions write the moderation log in the same transaction, on
//! memory, SQLite and PostgreSQL.

use std::sync::Arc;

use moderation_core::{MemoryModerationLog, MemoryReviewStore};
use moderation_storage::testkit::{self, review};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_actions_write_the_moderation_log() {
    let log = MemoryModerationLog::new();
    let store = Arc::new(MemoryReviewStore::with_log(log.clone()));
    testkit::run_scenario("memory", store, |store| {
        review::actions_write_the_moderation_log(store, Arc::new(log))
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_actions_write_the_moderation_log() {
    testkit::with_sqlite(|store| {
        let store = Arc::new(store);
        review::actions_write_the_moderation_log(store.clone(), store)
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_actions_write_the_moderation_log() {
    testkit::with_postgres(|store| {
        let store = Arc::new(store);
        review::actions_write_the_moderation_log(store.clone(), store)
    })
    .await;
}
