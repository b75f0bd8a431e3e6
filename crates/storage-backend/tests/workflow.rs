//! The object moderation workflow on every backend: memory, SQLite and
//! PostgreSQL. The required behaviours are the `must_show_NN_*`
//! modules; run one on one backend with e.g. `cargo test -p
//! moderation-storage --all-features --test workflow must_show_15 `.

use std::sync::Arc;

use moderation_core::MemoryModerationLog;
use moderation_core::workflow::{MemoryObjectStore, ObjectStore, ReviewedObjectStore};
use moderation_storage::testkit;
use moderation_storage::testkit::workflow as scenarios;

moderation_storage::store_scenarios! {
    port = dyn ObjectStore, memory = MemoryObjectStore::new();
    must_show_01_plain_user_create_is_hidden_and_queued =>
        scenarios::must_show_01_plain_user_create_is_hidden_and_queued,
    must_show_02_approve_publishes_with_who_when_why =>
        scenarios::must_show_02_approve_publishes_with_who_when_why,
    must_show_03_reject_new_object_keeps_it_hidden_draft =>
        scenarios::must_show_03_reject_new_object_keeps_it_hidden_draft,
    must_show_04_edit_keeps_public_old_and_one_entry =>
        scenarios::must_show_04_edit_keeps_public_old_and_one_entry,
    must_show_05_approve_or_reject_an_edit => scenarios::must_show_05_approve_or_reject_an_edit,
    must_show_06_pre_existing_objects_stay_public =>
        scenarios::must_show_06_pre_existing_objects_stay_public,
    must_show_07_bulk_import_bypasses_moderation =>
        scenarios::must_show_07_bulk_import_bypasses_moderation,
    must_show_08_auto_rules_and_their_reasons =>
        scenarios::must_show_08_auto_rules_and_their_reasons,
    must_show_09_saving_a_pending_edit_twice_never_publishes =>
        scenarios::must_show_09_saving_a_pending_edit_twice_never_publishes,
    must_show_10_visible_until_rejected => scenarios::must_show_10_visible_until_rejected,
    must_show_11_keep_history => scenarios::must_show_11_keep_history,
    must_show_12_bypass_after_approval => scenarios::must_show_12_bypass_after_approval,
    must_show_13_field_scope => scenarios::must_show_13_field_scope,
    must_show_15_concurrent_approve_and_reject_one_wins =>
        scenarios::must_show_15_concurrent_approve_and_reject_one_wins,
    must_show_16_old_snapshots_load_and_render =>
        scenarios::must_show_16_old_snapshots_load_and_render,
    must_show_17_notifications => scenarios::must_show_17_notifications,
    editor_sees_own_pending_version => scenarios::editor_sees_own_pending_version,
    ids_of_every_shape_and_public_filters => scenarios::ids_of_every_shape_and_public_filters,
    pending_pages_and_stale_versions => scenarios::pending_pages_and_stale_versions,
    refused_writes_store_nothing => scenarios::refused_writes_store_nothing,
    bulk_decisions_with_a_stale_entry_change_nothing =>
        scenarios::bulk_decisions_with_a_stale_entry_change_nothing,
    unregistered_kinds_are_left_public => scenarios::unregistered_kinds_are_left_public,
    events_carry_statuses_deciders_reasons_and_versions =>
        scenarios::events_carry_statuses_deciders_reasons_and_versions,
}

/// The bulk-approve scenario needs the moderation log the store writes to.
mod must_show_14_bulk_approve_one_transaction_per_batch {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn memory() {
        let log = MemoryModerationLog::new();
        let store = Arc::new(MemoryObjectStore::with_log(log.clone())) as Arc<dyn ObjectStore>;
        testkit::run_scenario("memory", store, |store| {
            scenarios::must_show_14_bulk_approve_one_transaction_per_batch(store, Arc::new(log))
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        testkit::with_sqlite(|store| {
            let store = Arc::new(store);
            scenarios::must_show_14_bulk_approve_one_transaction_per_batch(store.clone(), store)
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        testkit::with_postgres(|store| {
            let store = Arc::new(store);
            scenarios::must_show_14_bulk_approve_one_transaction_per_batch(store.clone(), store)
        })
        .await;
    }
}

/// The SQLite and PostgreSQL tests of a scenario that takes a second port
/// besides the object store: each SQL store serves both.
macro_rules! sql_arms {
    ($scenario:path) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn sqlite() {
            testkit::with_sqlite(|store| {
                let store = Arc::new(store);
                $scenario(store.clone(), store)
            })
            .await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn postgres() {
            testkit::with_postgres(|store| {
                let store = Arc::new(store);
                $scenario(store.clone(), store)
            })
            .await;
        }
    };
}

// The scenarios whose store keeps the review queue too.
moderation_storage::store_scenarios! {
    port = dyn ReviewedObjectStore, memory = MemoryObjectStore::new();
    must_show_15_review_queue_claims_and_decisions =>
        scenarios::must_show_15_review_queue_claims_and_decisions,
    direct_decisions_close_review_items => scenarios::direct_decisions_close_review_items,
    direct_decisions_respect_review_claims => scenarios::direct_decisions_respect_review_claims,
    bulk_decisions_close_review_items => scenarios::bulk_decisions_close_review_items,
    must_show_16_old_snapshots_in_the_review_queue =>
        scenarios::must_show_16_old_snapshots_in_the_review_queue,
}

/// A module running `$scenario` with the moderation log the object store
/// writes to, on memory, SQLite and PostgreSQL.
macro_rules! with_log {
    ($(#[$doc:meta])* $name:ident => $scenario:path) => {
        $(#[$doc])*
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn memory() {
                let log = MemoryModerationLog::new();
                let store =
                    Arc::new(MemoryObjectStore::with_log(log.clone())) as Arc<dyn ObjectStore>;
                testkit::run_scenario("memory", store, |store| $scenario(store, Arc::new(log)))
                    .await;
            }

            sql_arms!($scenario);
        }
    };
}

with_log! {
    /// Bulk set-pending (C10): each object back under moderation, with its
    /// event, log entry and message.
    bulk_set_pending_puts_objects_back_under_moderation =>
        scenarios::bulk_set_pending_puts_objects_back_under_moderation
}

with_log! {
    /// A failing event subscriber (C12) leaves the decision stored.
    failing_event_subscriber_leaves_decisions_intact =>
        scenarios::failing_event_subscriber_leaves_decisions_intact
}
