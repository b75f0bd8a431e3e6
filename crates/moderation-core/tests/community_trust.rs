//! Trust levels (D1): each requirement at its boundary, locking, history.
#![allow(clippy::panic, clippy::unwrap_used, clippy::indexing_slicing)]

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use moderation_core::community::{
    ActivityFacts, MemoryTrustStore, RecentActivity, TrustLevels, TrustRequirements,
};
use moderation_core::{ManualClock, TrustLevel, UserId};
use proptest::prelude::*;

fn tl1_exactly() -> ActivityFacts {
    ActivityFacts {
        topics_entered: 5,
        posts_read: 30,
        minutes_read: 10,
        ..ActivityFacts::default()
    }
}

fn tl2_exactly() -> ActivityFacts {
    ActivityFacts {
        topics_entered: 20,
        posts_read: 100,
        minutes_read: 60,
        days_visited: 15,
        likes_given: 1,
        likes_received: 1,
        topics_replied_to: 3,
        recent: None,
    }
}

fn tl3_exactly() -> ActivityFacts {
    ActivityFacts {
        recent: Some(RecentActivity {
            days_visited: 50,
            topics_replied_to: 10,
            topics_viewed: 100,
            topics_created: 400,
            posts_read: 500,
            posts_created: 2_000,
            likes_given: 30,
            likes_received: 20,
            flagged_posts: 4,
            sanctioned_recently: false,
        }),
        ..tl2_exactly()
    }
}

fn level(facts: &ActivityFacts, current: TrustLevel) -> TrustLevel {
    TrustRequirements::default().level_for(facts, current)
}

#[test]
fn tl1_threshold_at_its_boundary() {
    assert_eq!(level(&tl1_exactly(), TrustLevel::Tl0), TrustLevel::Tl1);
    let lowered: [fn(&mut ActivityFacts); 3] = [
        |f| f.topics_entered -= 1,
        |f| f.posts_read -= 1,
        |f| f.minutes_read -= 1,
    ];
    for lower in lowered {
        let mut facts = tl1_exactly();
        lower(&mut facts);
        assert_eq!(level(&facts, TrustLevel::Tl0), TrustLevel::Tl0, "{facts:?}");
    }
}

#[test]
fn tl2_threshold_at_its_boundary() {
    assert_eq!(level(&tl2_exactly(), TrustLevel::Tl0), TrustLevel::Tl2);
    let lowered: [fn(&mut ActivityFacts); 7] = [
        |f| f.topics_entered -= 1,
        |f| f.posts_read -= 1,
        |f| f.minutes_read -= 1,
        |f| f.days_visited -= 1,
        |f| f.likes_given -= 1,
        |f| f.likes_received -= 1,
        |f| f.topics_replied_to -= 1,
    ];
    for lower in lowered {
        let mut facts = tl2_exactly();
        lower(&mut facts);
        assert_eq!(level(&facts, TrustLevel::Tl1), TrustLevel::Tl1, "{facts:?}");
    }
}

fn recent(facts: &mut ActivityFacts) -> &mut RecentActivity {
    facts.recent.get_or_insert_with(RecentActivity::default)
}

#[test]
fn tl3_threshold_at_its_boundary() {
    assert_eq!(level(&tl3_exactly(), TrustLevel::Tl2), TrustLevel::Tl3);
    let lowered: [fn(&mut ActivityFacts); 8] = [
        |f| recent(f).days_visited -= 1,
        |f| recent(f).topics_replied_to -= 1,
        |f| recent(f).topics_viewed -= 1,
        |f| recent(f).posts_read -= 1,
        |f| recent(f).likes_given -= 1,
        |f| recent(f).likes_received -= 1,
        |f| recent(f).flagged_posts += 1,
        |f| recent(f).sanctioned_recently = true,
    ];
    for lower in lowered {
        let mut facts = tl3_exactly();
        lower(&mut facts);
        assert_eq!(level(&facts, TrustLevel::Tl2), TrustLevel::Tl2, "{facts:?}");
    }
}

#[test]
fn tl3_share_requirements_are_capped() {
    let mut facts = tl3_exactly();
    recent(&mut facts).topics_created = 1_000_000;
    recent(&mut facts).topics_viewed = 500;
    assert_eq!(level(&facts, TrustLevel::Tl2), TrustLevel::Tl3);
}

#[test]
fn tl3_is_kept_at_the_90_percent_low_water_mark() {
    let mut facts = tl3_exactly();
    recent(&mut facts).days_visited = 45;
    assert_eq!(
        level(&facts, TrustLevel::Tl2),
        TrustLevel::Tl2,
        "not promoted below 100 %"
    );
    assert_eq!(
        level(&facts, TrustLevel::Tl3),
        TrustLevel::Tl3,
        "kept at 90 %"
    );
    recent(&mut facts).days_visited = 44;
    assert_eq!(
        level(&facts, TrustLevel::Tl3),
        TrustLevel::Tl2,
        "demoted below 90 %"
    );
}

#[test]
fn tl4_is_never_granted_nor_taken_by_activity() {
    assert_eq!(level(&tl3_exactly(), TrustLevel::Tl3), TrustLevel::Tl3);
    assert_eq!(
        level(&ActivityFacts::default(), TrustLevel::Tl4),
        TrustLevel::Tl4
    );
}

#[test]
fn tl1_and_tl2_are_never_lost() {
    assert_eq!(
        level(&ActivityFacts::default(), TrustLevel::Tl2),
        TrustLevel::Tl2
    );
    assert_eq!(
        level(&ActivityFacts::default(), TrustLevel::Tl1),
        TrustLevel::Tl1
    );
}

fn levels() -> (TrustLevels, Arc<MemoryTrustStore>) {
    let store = Arc::new(MemoryTrustStore::new());
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or_default(),
    ));
    (
        TrustLevels::new(store.clone(), TrustRequirements::default(), clock),
        store,
    )
}

#[tokio::test]
async fn every_change_is_logged_with_who_and_why() {
    let (levels, _) = levels();
    let member = UserId::from(1_i64);
    let staff = UserId::from(99_i64);
    levels
        .update(&member, &tl1_exactly())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    levels
        .update(&member, &tl1_exactly())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    levels
        .update(&member, &tl2_exactly())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    levels
        .set_by_staff(&member, TrustLevel::Tl4, true, &staff, "runs the meetups")
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let history = levels.history(&member).await.unwrap_or_default();
    let steps: Vec<_> = history
        .iter()
        .map(|c| (c.from, c.to, c.by.clone(), c.reason.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            (None, TrustLevel::Tl1, None, "activity"),
            (Some(TrustLevel::Tl1), TrustLevel::Tl2, None, "activity"),
            (
                Some(TrustLevel::Tl2),
                TrustLevel::Tl4,
                Some(staff),
                "runs the meetups"
            ),
        ]
    );
}

fn facts_strategy() -> impl Strategy<Value = ActivityFacts> {
    (
        0..200_u64,
        0..500_u64,
        0..200_u64,
        0..60_u64,
        0..5_u64,
        0..5_u64,
        0..10_u64,
    )
        .prop_map(
            |(topics, posts, minutes, days, given, received, replied)| ActivityFacts {
                topics_entered: topics,
                posts_read: posts,
                minutes_read: minutes,
                days_visited: days,
                likes_given: given,
                likes_received: received,
                topics_replied_to: replied,
                recent: None,
            },
        )
}

proptest! {
    /// A locked level never changes, whatever the activity.
    #[test]
    fn a_locked_level_never_changes(history in proptest::collection::vec(facts_strategy(), 1..8), locked in 0..=4_u8) {
        let runtime = tokio::runtime::Builder::new_current_thread().build();
        let runtime = runtime.unwrap_or_else(|e| panic!("{e}"));
        runtime.block_on(async {
            let (levels, _) = levels();
            let member = UserId::from(5_i64);
            let staff = UserId::from(1_i64);
            let locked = TrustLevel::try_from(locked).unwrap_or(TrustLevel::Tl0);
            levels.set_by_staff(&member, locked, true, &staff, "locked").await.unwrap_or_else(|e| panic!("{e}"));
            for facts in &history {
                let record = levels.update(&member, facts).await.unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(record.level, locked);
                assert!(record.locked);
            }
            assert_eq!(levels.history(&member).await.unwrap_or_default().len(), 1);
        });
    }
}
