//! Proves the per-request lookup allocates nothing, banned or not, with a
//! counting global allocator (its own test binary, so no other test disturbs
//! the count): random misses, near misses (inside a /24 or /48 that holds
//! bans, covered by none), hits on IPv4, IPv6 and IPv4-mapped addresses,
//! user bans, and hits on a snapshot past its next expiry, which check the
//! entries' expiry one candidate after the other.

// A `harness = false` binary is not a `#[test]` to clippy, so the test
// allowances of clippy.toml are restated here.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::panic)]

use std::alloc::System;
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use moderation_core::{ManualClock, SystemClock, UserId};
use moderation_misery::{BanEntry, BanKind, BanList, BanTarget, parse_network};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn ban(id: u64, target: BanTarget, expires_in: Option<Duration>) -> BanEntry {
    let created_at = Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap();
    BanEntry {
        id,
        target,
        kind: BanKind::Misery,
        reason: "test".to_owned(),
        created_by: UserId::from(1_i64),
        created_at,
        expires_at: expires_in.map(|d| created_at + d),
    }
}

fn net(text: &str) -> BanTarget {
    BanTarget::Network(parse_network(text).unwrap())
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

/// Runs every probe 1 000 times and fails on any allocation or a wrong answer.
fn assert_no_allocation(name: &str, list: &BanList, probes: &[(IpAddr, bool)]) {
    let user_banned = UserId::from(7_i64);
    let user_free = UserId::from(8_i64);
    // Warm up: the first atomic load on a thread registers it with arc-swap.
    for &(address, _) in probes {
        let _ = list.is_banned(Some(address), Some(&user_free), BanKind::Misery);
    }
    let region = Region::new(GLOBAL);
    let mut wrong = 0;
    for _ in 0..1_000 {
        for &(address, banned) in probes {
            wrong += usize::from(list.is_banned(Some(address), None, BanKind::Misery) != banned);
            wrong += usize::from(
                list.is_banned(Some(address), Some(&user_free), BanKind::Misery) != banned,
            );
            wrong +=
                usize::from(!list.is_banned(Some(address), Some(&user_banned), BanKind::Misery));
        }
    }
    let stats = region.change();
    assert_eq!(wrong, 0, "{name}: a probe got the wrong answer");
    assert_eq!(
        stats.allocations + stats.reallocations,
        0,
        "{name}: the lookup path allocated: {stats:?}"
    );
    println!(
        "zero_alloc_lookup: {name}: ok ({} lookups, 0 allocations)",
        probes.len() * 3_000
    );
}

fn main() {
    let mut entries = Vec::new();
    for i in 0..10_000_u32 {
        let text = format!(
            "{}.{}.{}.0/24",
            10 + (i >> 16) % 50,
            (i >> 8) & 0xff,
            i & 0xff
        );
        entries.push(ban(u64::from(i), net(&text), None));
    }
    // Host bans inside 192.0.2.0/24 and 2001:db8:1::/48, some expiring.
    for (i, host) in ["192.0.2.10", "192.0.2.11", "192.0.2.200"]
        .iter()
        .enumerate()
    {
        entries.push(ban(
            20_000 + i as u64,
            net(host),
            Some(Duration::days(3650)),
        ));
    }
    entries.push(ban(30_000, net("2001:db8:1::5"), None));
    entries.push(ban(30_001, net("2001:db8:1:2::/64"), None));
    entries.push(ban(30_002, net("2001:db9::/32"), None));
    entries.push(ban(40_000, BanTarget::User(UserId::from(7_i64)), None));
    let list = BanList::with_entries(Arc::new(SystemClock), entries.clone());

    let probes = [
        // Random misses, both families and the mapped notation.
        (ip("198.51.100.77"), false),
        (ip("2a00:1450::1"), false),
        (ip("::ffff:198.51.100.77"), false),
        // Near misses: same /24 or /48 as bans, covered by none.
        (ip("192.0.2.12"), false),
        (ip("::ffff:192.0.2.199"), false),
        (ip("2001:db8:1::6"), false),
        (ip("2001:db8:1:3::1"), false),
        // Hits: a /24, a host with an expiry (reads the clock), IPv6
        // networks and hosts, the mapped notation.
        (ip("10.0.5.9"), true),
        (ip("192.0.2.11"), true),
        (ip("::ffff:192.0.2.200"), true),
        (ip("2001:db8:1::5"), true),
        (ip("2001:db8:1:2::99"), true),
        (ip("2001:db9:ffff::1"), true),
    ];
    assert_no_allocation("fresh snapshot", &list, &probes);

    // Past its next expiry, before a rebuild: hits check each candidate's
    // expiry and fall back to the network around an expired host ban.
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap(),
    ));
    let stale = vec![
        ban(1, net("203.0.113.7"), Some(Duration::minutes(1))),
        ban(2, net("203.0.113.7"), Some(Duration::minutes(2))),
        ban(3, net("203.0.113.0/24"), None),
        ban(4, net("2001:db8::1"), Some(Duration::minutes(1))),
        ban(5, BanTarget::User(UserId::from(7_i64)), None),
    ];
    let list = BanList::with_entries(clock.clone(), stale);
    clock.advance(Duration::minutes(5));
    assert!(list.next_expiry().is_some_and(|at| at <= clock_now(&list)));
    let probes = [
        (ip("203.0.113.7"), true),
        (ip("203.0.113.8"), true),
        (ip("2001:db8::1"), false),
        (ip("203.0.114.7"), false),
    ];
    assert_no_allocation("snapshot past its next expiry", &list, &probes);
    if !list.drop_expired() {
        panic!("the stale snapshot was not rebuilt");
    }
    assert_no_allocation("rebuilt snapshot", &list, &probes);
}

fn clock_now(list: &BanList) -> chrono::DateTime<Utc> {
    list.clock().now()
}
