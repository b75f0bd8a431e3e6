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
