//! Issue 4's "must show" list for the object workflow.

use std::sync::Arc;

use moderation_core::workflow::{MemoryObjectStore, ObjectStore};
use moderation_storage::testkit::workflow as w;

macro_rules! memory_only {
    ($($name:ident => $scenario:path),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            let store = Arc::new(MemoryObjectStore::new()) as Arc<dyn ObjectStore>;
            moderation_storage::testkit::run_scenario("memory", store, $scenario).await;
        }
    )*};
}

memory_only! {
    m01 => w::must_show_01_plain_user_create_is_hidden_and_queued,
    m02 => w::must_show_02_approve_publishes_with_who_when_why,
    m03 => w::must_show_03_reject_new_object_keeps_it_hidden_draft,
    m04 => w::must_show_04_edit_keeps_public_old_and_one_entry,
    m05 => w::must_show_05_approve_or_reject_an_edit,
    m06 => w::must_show_06_pre_existing_objects_stay_public,
    m07 => w::must_show_07_bulk_import_bypasses_moderation,
    m08 => w::must_show_08_auto_rules_and_their_reasons,
    m09 => w::must_show_09_saving_a_pending_edit_twice_never_publishes,
    m10 => w::must_show_10_visible_until_rejected,
    m11 => w::must_show_11_keep_history,
    m12 => w::must_show_12_bypass_after_approval,
    m13 => w::must_show_13_field_scope,
    m14 => w::must_show_14_bulk_approve_one_transaction_per_batch,
    m15 => w::must_show_15_concurrent_approve_and_reject_one_wins,
    m16 => w::must_show_16_old_snapshots_load_and_render,
    m17 => w::must_show_17_notifications,
    c15 => w::editor_sees_own_pending_version,
    c13 => w::ids_of_every_shape_and_public_filters,
    pages => w::pending_pages_and_stale_versions,
}
