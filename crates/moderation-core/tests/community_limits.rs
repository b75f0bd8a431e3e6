//! Rate limits from the action log (D3) and new-user content limits (D4),
#![allow(clippy::panic, clippy::unwrap_used, clippy::indexing_slicing)]
//! on the in-memory action log. The SQL logs run the same scenarios in
//! moderation-storage.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use moderation_core::community::{
    ActionKind, Attempt, CommunityConfig, CommunityRules, MemoryActionLog, MemorySanctionStore,
    Refusal, Screening,
};
use moderation_core::{Actor, ManualClock, ModerationError, TrustLevel, UserId};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

fn rules(clock: &Arc<ManualClock>) -> CommunityRules {
    let rules = CommunityRules::new(
        CommunityConfig::default(),
        Arc::new(MemoryActionLog::new()),
        Arc::new(MemorySanctionStore::new()),
        clock.clone(),
    );
    rules.unwrap_or_else(|e| panic!("default config is valid: {e}"))
}

fn member(id: i64, level: TrustLevel) -> Actor {
    Actor::user(UserId::from(id)).with_trust_level(level)
}

/// An established member: first post long ago, so no first-day caps.
fn long_ago() -> Option<DateTime<Utc>> {
    Some(start() - Duration::days(400))
}

async fn post(
    rules: &CommunityRules,
    actor: &Actor,
    action: ActionKind,
    text: &str,
    first_post_at: Option<DateTime<Utc>>,
) -> Result<Screening, Refusal> {
    let attempt = Attempt::new(actor, action, text)
        .contributions(10)
        .first_post_at(first_post_at);
    match rules.screen(&attempt).await {
        Ok(screening) => Ok(screening),
        Err(ModerationError::Refused { refusal }) => Err(refusal),
        Err(other) => panic!("unexpected error: {other}"),
    }
}

#[tokio::test]
async fn tl1_fourth_post_within_24h_is_refused_until_the_first_leaves_the_window() {
    let clock = Arc::new(ManualClock::new(start()));
    let rules = rules(&clock);
    let actor = member(1, TrustLevel::Tl1);
    for n in 0..3 {
        let posted = post(
            &rules,
            &actor,
            ActionKind::Topic,
            &format!("topic {n}"),
            long_ago(),
        )
        .await;
        assert!(posted.is_ok(), "post {n}: {posted:?}");
        clock.advance(Duration::hours(1));
    }
    let refused = post(&rules, &actor, ActionKind::Topic, "topic 4", long_ago()).await;
    let refusal = refused
        .err()
        .unwrap_or_else(|| panic!("the 4th topic is refused"));
    assert_eq!(refusal.code, "daily_cap");
    assert_eq!(refusal.retry_at, Some(start() + Duration::hours(24)));
    assert!(refusal.to_string().contains("try again at"));

    clock.set(start() + Duration::hours(24) - Duration::microseconds(1));
    let still = post(&rules, &actor, ActionKind::Topic, "topic 4", long_ago()).await;
    assert_eq!(still.err().map(|r| r.code), Some("daily_cap".into()));

    clock.set(start() + Duration::hours(24));
    let allowed = post(&rules, &actor, ActionKind::Topic, "topic 4", long_ago()).await;
    assert!(
        allowed.is_ok(),
        "allowed once the first leaves the window: {allowed:?}"
    );
}

#[tokio::test]
async fn daily_cap_is_base_times_level_multiplier() {
    let clock = Arc::new(ManualClock::new(start()));
    let rules = rules(&clock);
    let actor = member(2, TrustLevel::Tl4);
    for n in 0..12 {
        let posted = post(
            &rules,
            &actor,
            ActionKind::Topic,
            &format!("t{n}"),
            long_ago(),
        )
        .await;
        assert!(posted.is_ok(), "TL4 topic {n}: {posted:?}");
        clock.advance(Duration::minutes(1));
    }
    let refused = post(&rules, &actor, ActionKind::Topic, "t13", long_ago()).await;
    assert_eq!(refused.err().map(|r| r.code), Some("daily_cap".into()));
}

async fn cooldown_is(level: TrustLevel, secs: i64) {
    let clock = Arc::new(ManualClock::new(start()));
    let rules = rules(&clock);
    let actor = member(3, level);
    assert!(
        post(&rules, &actor, ActionKind::Reply, "one", long_ago())
            .await
            .is_ok()
    );
    clock.advance(Duration::seconds(secs) - Duration::microseconds(1));
    let refusal = post(&rules, &actor, ActionKind::Reply, "two", long_ago())
        .await
        .err()
        .unwrap_or_else(|| panic!("refused inside the {secs} s cooldown"));
    assert_eq!(refusal.code, "cooldown");
    assert_eq!(refusal.retry_at, Some(start() + Duration::seconds(secs)));
    clock.set(start() + Duration::seconds(secs));
    let allowed = post(&rules, &actor, ActionKind::Reply, "two", long_ago()).await;
    assert!(allowed.is_ok(), "allowed at exactly {secs} s: {allowed:?}");
}

#[tokio::test]
async fn cooldown_is_30_seconds_for_a_new_user() {
    cooldown_is(TrustLevel::Tl0, 30).await;
}

#[tokio::test]
async fn cooldown_is_5_seconds_for_others() {
    cooldown_is(TrustLevel::Tl1, 5).await;
    cooldown_is(TrustLevel::Tl3, 5).await;
}

#[tokio::test]
async fn first_day_user_fourth_topic_refused_tl2_allowed() {
    let clock = Arc::new(ManualClock::new(start()));
    let rules = rules(&clock);
    let newcomer = member(4, TrustLevel::Tl1);
    let regular = member(5, TrustLevel::Tl2);
    let first_post = Some(start());
    for n in 0..3 {
        assert!(
            post(
                &rules,
                &newcomer,
                ActionKind::Topic,
                &format!("n{n}"),
                first_post
            )
            .await
            .is_ok()
        );
        assert!(
            post(
                &rules,
                &regular,
                ActionKind::Topic,
                &format!("r{n}"),
                first_post
            )
            .await
            .is_ok()
        );
        clock.advance(Duration::minutes(10));
    }
    let refused = post(&rules, &newcomer, ActionKind::Topic, "n4", first_post).await;
    assert_eq!(refused.err().map(|r| r.code), Some("first_day_cap".into()));
    let allowed = post(&rules, &regular, ActionKind::Topic, "r4", first_post).await;
    assert!(allowed.is_ok(), "TL2 is past its first day: {allowed:?}");
}

#[tokio::test]
async fn first_day_definition_follows_discourse() {
    let now = start();
    let tl1 = member(6, TrustLevel::Tl1);
    assert!(moderation_core::community::RateLimits::is_first_day(
        &tl1, None, now
    ));
    assert!(moderation_core::community::RateLimits::is_first_day(
        &tl1,
        Some(now - Duration::hours(24) + Duration::microseconds(1)),
        now
    ));
    assert!(!moderation_core::community::RateLimits::is_first_day(
        &tl1,
        Some(now - Duration::hours(24)),
        now
    ));
    let tl0 = member(6, TrustLevel::Tl0);
    assert!(moderation_core::community::RateLimits::is_first_day(
        &tl0,
        long_ago(),
        now
    ));
    assert!(!moderation_core::community::RateLimits::is_first_day(
        &tl0.with_staff(true),
        None,
        now
    ));
}

#[tokio::test]
async fn staff_are_exempt_from_rate_limits() {
    let clock = Arc::new(ManualClock::new(start()));
    let rules = rules(&clock);
    let staff = member(7, TrustLevel::Tl0).with_staff(true);
    for n in 0..20 {
        let posted = post(&rules, &staff, ActionKind::Topic, "same text", None).await;
        assert!(posted.is_ok(), "staff topic {n}: {posted:?}");
    }
}

#[tokio::test]
async fn new_user_third_link_refused_second_allowed() {
    let clock = Arc::new(ManualClock::new(start()));
    let rules = rules(&clock);
    let newcomer = member(8, TrustLevel::Tl0);
    let two = post(
        &rules,
        &newcomer,
        ActionKind::Reply,
        "see a.example and b.example",
        None,
    )
    .await;
    assert!(two.is_ok(), "two links are allowed: {two:?}");
    clock.advance(Duration::minutes(1));
    let three = post(
        &rules,
        &newcomer,
        ActionKind::Reply,
        "see a.example, b.example and https://c.example/x",
        None,
    )
    .await;
    assert_eq!(three.err().map(|r| r.code), Some("too_many_links".into()));
}

#[tokio::test]
async fn same_host_in_three_posts_refused() {
    let clock = Arc::new(ManualClock::new(start()));
    let rules = rules(&clock);
    let newcomer = member(9, TrustLevel::Tl0);
    for n in 0..2 {
        let posted = post(
            &rules,
            &newcomer,
            ActionKind::Reply,
            &format!("deal {n} at https://www.shop.example/{n}"),
            None,
        )
        .await;
        assert!(posted.is_ok(), "post {n}: {posted:?}");
        clock.advance(Duration::minutes(1));
    }
    let third = post(
        &rules,
        &newcomer,
        ActionKind::Reply,
        "last deal: shop.example/3",
        None,
    )
    .await;
    let refusal = third
        .err()
        .unwrap_or_else(|| panic!("third post with the host is refused"));
    assert_eq!(refusal.code, "same_host");
    assert!(
        refusal.message.contains("shop.example"),
        "{}",
        refusal.message
    );
    let other = post(
        &rules,
        &newcomer,
        ActionKind::Reply,
        "see docs.example",
        None,
    )
    .await;
    assert!(other.is_ok(), "another host is fine: {other:?}");
}

#[tokio::test]
async fn identical_post_within_5_minutes_refused() {
    let clock = Arc::new(ManualClock::new(start()));
    let rules = rules(&clock);
    let actor = member(10, TrustLevel::Tl2);
    assert!(
        post(&rules, &actor, ActionKind::Reply, "Me too!", long_ago())
            .await
            .is_ok()
    );
    clock.advance(Duration::minutes(5) - Duration::microseconds(1));
    let again = post(&rules, &actor, ActionKind::Reply, "Me too!", long_ago()).await;
    let refusal = again.err().unwrap_or_else(|| panic!("duplicate refused"));
    assert_eq!(refusal.code, "duplicate");
    assert_eq!(refusal.retry_at, Some(start() + Duration::minutes(5)));
    clock.set(start() + Duration::minutes(5));
    assert!(
        post(&rules, &actor, ActionKind::Reply, "Me too!", long_ago())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn refused_actions_are_not_logged() {
    let clock = Arc::new(ManualClock::new(start()));
    let rules = rules(&clock);
    let actor = member(11, TrustLevel::Tl1);
    assert!(
        post(&rules, &actor, ActionKind::Reply, "one", long_ago())
            .await
            .is_ok()
    );
    // Refused by the cooldown: must not restart the cooldown.
    clock.advance(Duration::seconds(3));
    assert!(
        post(&rules, &actor, ActionKind::Reply, "two", long_ago())
            .await
            .is_err()
    );
    clock.set(start() + Duration::seconds(5));
    assert!(
        post(&rules, &actor, ActionKind::Reply, "two", long_ago())
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn gates_refuse_below_the_minimum_level_with_a_message() {
    let clock = Arc::new(ManualClock::new(start()));
    let rules = rules(&clock);
    let newcomer = member(12, TrustLevel::Tl0);
    let attempt = Attempt::new(&newcomer, ActionKind::PrivateMessage, "hi")
        .to(moderation_core::community::Recipients::Members);
    match rules.screen(&attempt).await {
        Err(ModerationError::Refused { refusal }) => {
            assert_eq!(refusal.code, "gate");
            assert!(
                refusal.message.contains("trust level 1"),
                "{}",
                refusal.message
            );
        }
        other => panic!("expected a gate refusal, got {other:?}"),
    }
}

mod properties {
    use chrono::Duration;
    use moderation_core::UserId;
    use moderation_core::community::{
        ActionAttempt, ActionKind, ActionLog, Admission, LimitCheck, LimitCode, MemoryActionLog,
    };
    use proptest::prelude::*;

    proptest! {
        /// Whatever the arrival times, no rolling window ever holds more
        /// appended actions than the cap, and every refusal's retry time is
        /// after the attempt and within one window of it.
        #[test]
        fn no_window_ever_exceeds_the_cap(
            gaps in proptest::collection::vec(0..120_i64, 1..60),
            max in 1..5_u32,
            window_secs in 1..300_i64,
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let log = MemoryActionLog::new();
            let user = UserId::from(1_i64);
            let window = Duration::seconds(window_secs);
            let check = LimitCheck::Count {
                code: LimitCode::DailyCap,
                actions: vec![ActionKind::Reply],
                window,
                max,
            };
            let mut at = super::start();
            let mut appended = Vec::new();
            for gap in gaps {
                at += Duration::seconds(gap);
                let attempt = ActionAttempt {
                    user: user.clone(),
                    action: ActionKind::Reply,
                    at,
                    fingerprint: None,
                    hosts: Vec::new(),
                    checks: vec![check.clone()],
                };
                match runtime.block_on(log.check_and_append(&attempt)).unwrap() {
                    Admission::Appended => appended.push(at),
                    Admission::Refused(breach) => {
                        prop_assert!(breach.retry_at > at);
                        prop_assert!(breach.retry_at <= at + window);
                    }
                }
            }
            for &end in &appended {
                let inside = appended.iter().filter(|&&t| t <= end && end - t < window).count();
                prop_assert!(inside <= max as usize, "{inside} actions in the window ending {end}");
            }
        }
    }
}
