//! moderation-misery's `BanStore` scenarios on every backend: memory,
//! SQLite and PostgreSQL. Run one with e.g. `cargo test -p moderation-storage
//! --all-features bans::targets_round_trip::postgres`.

mod bans {
    use std::sync::Arc;

    use moderation_core::SystemClock;
    use moderation_misery::{BanStore, MemoryBanStore};
    use moderation_storage::testkit::bans as scenarios;

    moderation_storage::store_scenarios! {
        port = dyn BanStore, memory = MemoryBanStore::new(Arc::new(SystemClock));
        add_then_list => scenarios::add_then_list,
        ids_unique_and_never_reused => scenarios::ids_unique_and_never_reused,
        remove_unknown_is_unknown_ban => scenarios::remove_unknown_is_unknown_ban,
        expired_bans_are_listed => scenarios::expired_bans_are_listed,
        targets_round_trip => scenarios::targets_round_trip,
        list_is_oldest_first => scenarios::list_is_oldest_first,
        refreshed_ban_list_matches_store => scenarios::refreshed_ban_list_matches_store,
    }
}
