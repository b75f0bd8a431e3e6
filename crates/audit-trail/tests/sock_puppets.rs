//! Sock-puppet lookup on the reference store: a known pair of accounts is
//! ranked first in a generated population.
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use moderation_audit_trail::{AuditEvent, AuditTrail, IpHasher, MemoryAuditStore, PrivacyMode};
use moderation_core::{Kind, ManualClock, MemoryModerationLog, ObjectRef, UserId};
use proptest::prelude::*;

fn event(user: i64, ip: IpAddr) -> AuditEvent {
    AuditEvent {
        actor: Some(UserId::from(user)),
        ip: Some(ip),
        target: ObjectRef::new(Kind::new("forum.post").unwrap(), user),
        action: "post.create".into(),
        detail: serde_json::Value::Null,
    }
}

/// `people` accounts, each with 1-3 addresses of its own and, for a few, one
/// address shared with the suspect (a café, a campus NAT). Account 1 is the
/// suspect and account 2 its puppet: they share four addresses, two of them
/// IPv6 addresses differing only below the /64.
fn population(people: i64, seed: u64) -> Vec<AuditEvent> {
    let mut state = seed | 1;
    let mut next = move || {
        // xorshift64: enough to scatter addresses.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut events = Vec::new();
    let shared_v4 = [
        Ipv4Addr::new(198, 51, 100, 1),
        Ipv4Addr::new(198, 51, 100, 2),
    ];
    let prefix = |n: u64| (0x2001_0db8_u128 << 96) | (u128::from(n) << 64);
    for &v4 in &shared_v4 {
        events.push(event(1, IpAddr::V4(v4)));
        events.push(event(2, IpAddr::V4(v4)));
    }
    for p in [7_u64, 8] {
        events.push(event(1, IpAddr::V6(Ipv6Addr::from(prefix(p) | 1))));
        events.push(event(2, IpAddr::V6(Ipv6Addr::from(prefix(p) | 0xdead))));
    }
    for user in 3..people {
        for _ in 0..(1 + next() % 3) {
            let ip = if next() % 2 == 0 {
                IpAddr::V4(Ipv4Addr::from(u32::try_from(next() >> 32).unwrap()))
            } else {
                IpAddr::V6(Ipv6Addr::from(
                    prefix(1_000 + next() % 100_000) | u128::from(next()),
                ))
            };
            events.push(event(user, ip));
        }
        // Some share one of the suspect's addresses, many times over: more
        // overlap, but fewer shared addresses, than the puppet.
        if next() % 10 == 0 {
            for _ in 0..5 {
                events.push(event(user, IpAddr::V4(shared_v4[0])));
            }
        }
    }
    events
}

/// A trail on a fresh store whose clock starts on 1 March 2026.
fn trail_at_march(privacy: PrivacyMode) -> (AuditTrail, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap(),
    ));
    let trail = AuditTrail::builder(
        Arc::new(MemoryAuditStore::new()),
        Arc::new(MemoryModerationLog::new()),
    )
    .clock(clock.clone())
    .privacy(privacy)
    .build();
    (trail, clock)
}

async fn rank(
    privacy: PrivacyMode,
    people: i64,
    seed: u64,
) -> Vec<moderation_audit_trail::SockPuppet> {
    let (trail, clock) = trail_at_march(privacy);
    trail.record_many(population(people, seed)).await.unwrap();
    clock.advance(Duration::days(1));
    trail
        .sock_puppets(&UserId::from(1_i64), Duration::days(30), 10)
        .await
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn known_pair_ranks_first(seed in any::<u64>(), people in 20_i64..300) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let ranked = runtime.block_on(rank(PrivacyMode::Full, people, seed));
        prop_assert_eq!(&ranked[0].user, &UserId::from(2_i64));
        prop_assert_eq!(ranked[0].shared_addresses, 4);
        prop_assert!(ranked.iter().skip(1).all(|p| p.shared_addresses < 4));
        prop_assert!(ranked.iter().all(|p| p.user != UserId::from(1_i64)));
    }
}

#[tokio::test]
async fn keyed_mode_still_groups_ipv6_by_64() {
    let hasher = IpHasher::new([7_u8; 32]).unwrap();
    let ranked = rank(PrivacyMode::Keyed(hasher), 100, 42).await;
    assert_eq!(ranked[0].user, UserId::from(2_i64));
    assert_eq!(ranked[0].shared_addresses, 4);
}

#[tokio::test]
async fn records_outside_the_window_do_not_count() {
    let (trail, clock) = trail_at_march(PrivacyMode::Full);
    let ip = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
    trail.record_many(vec![event(2, ip)]).await.unwrap();
    clock.advance(Duration::days(60));
    trail
        .record_many(vec![event(1, ip), event(3, ip)])
        .await
        .unwrap();
    let ranked = trail
        .sock_puppets(&UserId::from(1_i64), Duration::days(30), 10)
        .await
        .unwrap();
    let users: Vec<_> = ranked.iter().map(|p| p.user.clone()).collect();
    assert_eq!(users, vec![UserId::from(3_i64)]);
}
