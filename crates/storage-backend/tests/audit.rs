//! moderation-audit-trail's `AuditStore` scenarios on every backend:
//! memory, SQLite and PostgreSQL. Run one with e.g. `cargo test -p
//! moderation-storage --all-features --test audit cidr_finds_exactly_the_covered::postgres`.

mod audit_store {
    use moderation_audit_trail::{AuditStore, MemoryAuditStore};
    use moderation_storage::testkit::audit as scenarios;

    moderation_storage::store_scenarios! {
        port = dyn AuditStore, memory = MemoryAuditStore::new();
        insert_round_trips => scenarios::insert_round_trips,
        invalid_batch_writes_nothing => scenarios::invalid_batch_writes_nothing,
        pages_newest_first_without_loss => scenarios::pages_newest_first_without_loss,
        filters_select_exactly => scenarios::filters_select_exactly,
        cidr_finds_exactly_the_covered => scenarios::cidr_finds_exactly_the_covered,
        sock_puppets_rank_by_shared_then_overlap => scenarios::sock_puppets_rank_by_shared_then_overlap,
        delete_older_stops_at_the_cutoff => scenarios::delete_older_stops_at_the_cutoff,
        delete_actor_removes_only_theirs => scenarios::delete_actor_removes_only_theirs,
    }
}
