//! The conformance suite on every backend: memory, SQLite and PostgreSQL.
//! Run one scenario on one backend with e.g. `cargo test -p moderation-storage
//! --all-features flag_once_per_user::postgres`.

use moderation_storage::testkit::items;

moderation_storage::store_scenarios! {
    insert_then_read => items::insert_then_read,
    object_ids_of_every_shape => items::object_ids_of_every_shape,
    batch_insert_keeps_order => items::batch_insert_keeps_order,
    find_duplicate_matches_author_parent_and_window =>
        items::find_duplicate_matches_author_parent_and_window,
    author_has_public_counts_only_public => items::author_has_public_counts_only_public,
    change_status_bumps_version_and_logs => items::change_status_bumps_version_and_logs,
    stale_version_conflicts => items::stale_version_conflicts,
    change_missing_item_is_not_found => items::change_missing_item_is_not_found,
    change_statuses_all_or_nothing => items::change_statuses_all_or_nothing,
    change_statuses_larger_than_one_statement => items::change_statuses_larger_than_one_statement,
    flag_once_per_user => items::flag_once_per_user,
    list_items_pages_and_filters => items::list_items_pages_and_filters,
    non_public_before_pages => items::non_public_before_pages,
    delete_items_removes_log => items::delete_items_removes_log,
    hidden_authors_left_out_of_full_pages => items::hidden_authors_left_out_of_full_pages,
}
