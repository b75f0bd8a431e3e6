//! moderation-core's `ModerationLog` scenarios on every backend: memory,
//! SQLite and PostgreSQL. Run one with e.g. `cargo test -p moderation-storage
//! --all-features --test modlog anonymise_keeps_entries::postgres`.

mod modlog {
    use moderation_core::{MemoryModerationLog, ModerationLog};
    use moderation_storage::testkit::modlog as scenarios;

    moderation_storage::store_scenarios! {
        port = dyn ModerationLog, memory = MemoryModerationLog::new();
        append_round_trips => scenarios::append_round_trips,
        pages_newest_first_without_loss => scenarios::pages_newest_first_without_loss,
        filters_select_exactly => scenarios::filters_select_exactly,
        anonymise_keeps_entries => scenarios::anonymise_keeps_entries,
        invalid_action_writes_nothing => scenarios::invalid_action_writes_nothing,
    }
}

/// A module running `$scenario` on the item store and the moderation log of
/// one store: memory, SQLite and PostgreSQL.
macro_rules! store_and_log {
    ($(#[$doc:meta])* $name:ident => $scenario:path) => {
        $(#[$doc])*
        mod $name {
            use std::sync::Arc;

            use moderation_core::{MemoryModerationLog, MemoryStore, ModerationLog, ModerationStore};
            use moderation_storage::testkit;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                let log = MemoryModerationLog::new();
                let store = Arc::new(MemoryStore::with_log(log.clone()));
                if let Err(error) = $scenario(store, Arc::new(log)).await {
                    panic!("scenario failed on the memory store: {error}");
                }
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                testkit::with_sqlite(|store| {
                    let store = Arc::new(store);
                    $scenario(
                        Arc::clone(&store) as Arc<dyn ModerationStore>,
                        store as Arc<dyn ModerationLog>,
                    )
                })
                .await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                testkit::with_postgres(|store| {
                    let store = Arc::new(store);
                    $scenario(
                        Arc::clone(&store) as Arc<dyn ModerationStore>,
                        store as Arc<dyn ModerationLog>,
                    )
                })
                .await;
            }
        }
    };
}

store_and_log! {
    /// Moderator actions on items reach the moderation log of the same store.
    item_actions_reach_the_log => moderation_storage::testkit::modlog::item_actions_reach_the_log
}

store_and_log! {
    /// A moderator action reaches the moderation log however the store writes it.
    staff_actions_reach_the_log_however_written =>
        moderation_storage::testkit::modlog::staff_actions_reach_the_log_however_written
}
