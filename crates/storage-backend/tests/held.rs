//! moderation-core's `HeldItemStore` scenarios on every backend: memory,
//! SQLite and PostgreSQL. A held submission and its review item, and a
//! decision and the review item it closes or applies, commit together.

mod held {
    use moderation_core::{HeldItemStore, MemoryStore};
    use moderation_storage::testkit::held as scenarios;

    moderation_storage::store_scenarios! {
        port = dyn HeldItemStore, memory = MemoryStore::new();
        held_submission_opens_its_review_item => scenarios::held_submission_opens_its_review_item,
        queue_decisions_change_the_submission => scenarios::queue_decisions_change_the_submission,
        a_refused_decision_writes_nothing => scenarios::a_refused_decision_writes_nothing,
        a_batch_of_decisions_changes_every_submission =>
            scenarios::a_batch_of_decisions_changes_every_submission,
        a_decision_on_a_vanished_submission_writes_nothing =>
            scenarios::a_decision_on_a_vanished_submission_writes_nothing,
        a_direct_decision_closes_the_review_item => scenarios::a_direct_decision_closes_the_review_item,
        a_stale_direct_decision_writes_nothing => scenarios::a_stale_direct_decision_writes_nothing,
        queue_and_direct_decisions_race => scenarios::queue_and_direct_decisions_race,
    }
}
