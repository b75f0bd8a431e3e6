//! moderation-core's community ports on every backend: memory, SQLite and
//! PostgreSQL. Run one with e.g. `cargo test -p moderation-storage
//! --all-features --test community action_log::cap_boundaries_are_exact::postgres`.
#![allow(clippy::panic, clippy::unwrap_used)]

mod action_log {
    use moderation_core::community::{ActionLog, MemoryActionLog};
    use moderation_storage::testkit::community as scenarios;

    moderation_storage::store_scenarios! {
        port = dyn ActionLog, memory = MemoryActionLog::new();
        cap_boundaries_are_exact => scenarios::cap_boundaries_are_exact,
        limits_count_kinds_and_members_apart => scenarios::limits_count_kinds_and_members_apart,
        a_zero_cap_refuses => scenarios::a_zero_cap_refuses,
        duplicates_and_same_host => scenarios::duplicates_and_same_host,
    }
}

mod sanctions {
    use moderation_core::community::{MemorySanctionStore, SanctionStore};
    use moderation_storage::testkit::community as scenarios;

    moderation_storage::store_scenarios! {
        port = dyn SanctionStore, memory = MemorySanctionStore::new();
        freeze_then_lift => scenarios::freeze_then_lift,
        expiry_and_unknown_ids => scenarios::expiry_and_unknown_ids,
    }
}

mod trust {
    use moderation_core::community::{MemoryTrustStore, TrustStore};
    use moderation_storage::testkit::community as scenarios;

    moderation_storage::store_scenarios! {
        port = dyn TrustStore, memory = MemoryTrustStore::new();
        trust_changes_and_history => scenarios::trust_changes_and_history,
    }
}

/// Two pools on one database, as two application servers have, cannot
/// together exceed a limit.
mod two_processes {
    use std::sync::Arc;

    use moderation_core::community::{ActionLog, MemoryActionLog};
    use moderation_storage::testkit::community::concurrent_appends_never_exceed_a_cap;
    use moderation_storage::testkit::{self, run_scenario};
    use moderation_storage::{PgStore, SqliteStore, StorageError};
    use sqlx::postgres::PgPoolOptions;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memory_handles_share_one_log() {
        let log = MemoryActionLog::new();
        let second: Arc<dyn ActionLog> = Arc::new(log.clone());
        run_scenario("memory", Arc::new(log) as Arc<dyn ActionLog>, |first| {
            concurrent_appends_never_exceed_a_cap(first, second)
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_pools_on_one_sqlite_file_cannot_exceed_a_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared.db");
        let first = SqliteStore::open(&path).await.unwrap();
        let second = SqliteStore::open(&path).await.unwrap();
        run_scenario(
            "sqlite",
            Arc::new(first.clone()) as Arc<dyn ActionLog>,
            |log| concurrent_appends_never_exceed_a_cap(log, Arc::new(second.clone())),
        )
        .await;
        first.close().await;
        second.close().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_pools_on_one_postgres_database_cannot_exceed_a_limit() {
        // `with_postgres` drops the database even if the scenario panics.
        testkit::with_postgres(|store| async move {
            let options = store.pool().connect_options().as_ref().clone();
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .connect_with(options)
                .await
                .map_err(StorageError::from)?;
            let second = PgStore::from_pool(pool);
            let outcome =
                concurrent_appends_never_exceed_a_cap(Arc::new(store), Arc::new(second.clone()))
                    .await;
            second.close().await;
            outcome
        })
        .await;
    }
}

/// Sanctions and trust changes write their moderation-log entries in the
/// same transaction, on both SQL backends.
mod logged {
    use std::sync::Arc;

    use moderation_storage::testkit::community::sanctions_and_trust_changes_are_logged;
    use moderation_storage::testkit::{with_postgres, with_sqlite};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        with_sqlite(|store| sanctions_and_trust_changes_are_logged(Arc::new(store))).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        with_postgres(|store| sanctions_and_trust_changes_are_logged(Arc::new(store))).await;
    }
}
