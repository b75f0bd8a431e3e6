//! The cleanup job (SPEC B11).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use chrono::Duration;
use common::*;
use moderation_core::{
    CleanupOptions, CommentOptions, ItemFilter, ItemStatus, ModerationStore, PageRequest,
};

/// Held comments aged 20, 15, 14 and 1 days, plus a public one aged 30 days.
async fn seeded() -> Harness {
    let h = with_options(CommentOptions::default().moderate_first_timers(true));
    let ages = [30_i64, 20, 15, 14, 1];
    let start = now();
    for (n, age) in ages.iter().enumerate() {
        h.clock.set(start - Duration::days(*age));
        let outcome = h
            .moderation
            .submit(comment_by(user(n as i64 + 1), n as i64 + 1, "text"))
            .await
            .unwrap();
        if *age == 30 {
            let item = outcome.item.unwrap();
            h.moderation
                .approve(item.id, item.version, &user(99).with_staff(true), None)
                .await
                .unwrap();
        }
    }
    h.clock.set(start);
    h
}

async fn statuses(h: &Harness) -> Vec<(i64, ItemStatus)> {
    h.store
        .list_items(&ItemFilter::default(), &PageRequest::first(100))
        .await
        .unwrap()
        .items
        .iter()
        .map(|i| ((now() - i.created_at).num_days(), i.status))
        .collect()
}

#[tokio::test]
async fn cleanup_age_14_removes_only_non_public_items_older_than_14_days() {
    let h = seeded().await;
    let report = h
        .moderation
        .cleanup(CleanupOptions {
            age_days: 14,
            batch_size: 1,
            dry_run: false,
            verbose: true,
        })
        .await
        .unwrap();
    // 20 and 15 days old go; exactly 14 days old is not older than 14 days.
    assert_eq!(report.deleted, 2);
    assert_eq!(report.items.len(), 2);
    assert!(report.summary().starts_with("deleted 2"));
    assert_eq!(
        statuses(&h).await,
        [
            (30, ItemStatus::Public),
            (14, ItemStatus::Held),
            (1, ItemStatus::Held)
        ]
    );
}

#[tokio::test]
async fn cleanup_age_0_means_0_not_14() {
    let h = seeded().await;
    let report = h
        .moderation
        .cleanup(CleanupOptions {
            age_days: 0,
            ..CleanupOptions::default()
        })
        .await
        .unwrap();
    assert_eq!(report.deleted, 4);
    assert_eq!(statuses(&h).await, [(30, ItemStatus::Public)]);
}

#[tokio::test]
async fn cleanup_dry_run_removes_nothing_and_reports_what_it_would() {
    let h = seeded().await;
    let before = statuses(&h).await;
    let report = h
        .moderation
        .cleanup(CleanupOptions {
            age_days: 14,
            batch_size: 1,
            dry_run: true,
            verbose: true,
        })
        .await
        .unwrap();
    assert_eq!((report.matched, report.deleted), (2, 0));
    assert!(report.summary().starts_with("would delete 2"));
    assert_eq!(report.items.len(), 2);
    assert_eq!(statuses(&h).await, before);
}

#[tokio::test]
async fn cleanup_also_deletes_the_log_of_removed_items() {
    let h = seeded().await;
    let report = h
        .moderation
        .cleanup(CleanupOptions {
            age_days: 14,
            verbose: true,
            ..CleanupOptions::default()
        })
        .await
        .unwrap();
    for item in &report.items {
        assert!(h.store.log_entries(item.id).await.unwrap().is_empty());
    }
    assert!(
        h.moderation
            .cleanup(CleanupOptions {
                batch_size: 0,
                ..CleanupOptions::default()
            })
            .await
            .is_err()
    );
}
