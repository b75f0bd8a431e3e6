//! The review queue's conformance suite on every backend: memory, SQLite and
//! PostgreSQL. Run one scenario on one backend with e.g. `cargo test -p
//! moderation-storage --all-features --test review claims_are_leased::postgres`.

use moderation_core::ReviewStore;
use moderation_storage::testkit::{MemoryReviewStore, review};

moderation_storage::store_scenarios! {
    port = dyn ReviewStore, memory = MemoryReviewStore::new();
    open_is_idempotent_per_subject => review::open_is_idempotent_per_subject,
    actions_follow_allowed_transitions => review::actions_follow_allowed_transitions,
    stale_version_conflicts => review::stale_version_conflicts,
    claims_are_leased => review::claims_are_leased,
    history_records_every_step => review::history_records_every_step,
    list_filters_sorts_and_pages => review::list_filters_sorts_and_pages,
    bulk_transition_of_1000 => review::bulk_transition_of_1000,
    stale_lists_old_pending_items => review::stale_lists_old_pending_items,
    invalid_subjects_are_refused => review::invalid_subjects_are_refused,
    reviews_for_subjects_finds_the_newest_of_each =>
        review::reviews_for_subjects_finds_the_newest_of_each,
}
