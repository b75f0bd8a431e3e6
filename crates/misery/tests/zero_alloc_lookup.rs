//! Proves the not-banned lookup path allocates nothing, with a counting
//! global allocator (its own test binary, so no other test disturbs the count).

// A `harness = false` binary is not a `#[test]` to clippy, so the test
// allowances of clippy.toml are restated here.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::alloc::System;
use std::sync::Arc;

use chrono::Utc;
use moderation_core::{SystemClock, UserId};
use moderation_misery::{BanEntry, BanKind, BanList, BanTarget, parse_network};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn main() {
    let mut entries = Vec::new();
    for i in 0..10_000_u32 {
        let net = format!(
            "{}.{}.{}.0/24",
            10 + (i >> 16) % 50,
            (i >> 8) & 0xff,
            i & 0xff
        );
        entries.push(BanEntry {
            id: u64::from(i),
            target: BanTarget::Network(parse_network(&net).unwrap()),
            kind: BanKind::Misery,
            reason: "test".to_owned(),
            created_by: UserId::from(1_i64),
            created_at: Utc::now(),
            expires_at: None,
        });
    }
    entries.push(BanEntry {
        id: 99_999,
        target: BanTarget::Network(parse_network("2001:db8::/32").unwrap()),
        kind: BanKind::Misery,
        reason: "test".to_owned(),
        created_by: UserId::from(1_i64),
        created_at: Utc::now(),
        expires_at: None,
    });
    entries.push(BanEntry {
        id: 100_000,
        target: BanTarget::User(UserId::from(7_i64)),
        kind: BanKind::Misery,
        reason: "test".to_owned(),
        created_by: UserId::from(1_i64),
        created_at: Utc::now(),
        expires_at: None,
    });
    let list = BanList::with_entries(Arc::new(SystemClock), entries);
    let v4 = "192.0.2.55".parse().unwrap();
    let v6 = "2001:db9::1".parse().unwrap();
    let mapped = "::ffff:192.0.2.55".parse().unwrap();
    let user = UserId::from(8_i64);
    // Warm up: the first atomic load on a thread registers it with arc-swap.
    assert!(!list.is_banned(Some(v4), Some(&user), BanKind::Misery));

    let region = Region::new(GLOBAL);
    let mut banned = 0;
    for _ in 0..1_000 {
        for ip in [v4, v6, mapped] {
            banned += usize::from(list.is_banned(Some(ip), Some(&user), BanKind::Misery));
        }
    }
    let stats = region.change();
    assert_eq!(banned, 0, "the probe addresses must not be banned");
    assert_eq!(
        stats.allocations + stats.reallocations,
        0,
        "the not-banned lookup path allocated: {stats:?}"
    );
    // A banned lookup is still found, so the probe was not vacuous.
    assert!(list.is_banned(Some("10.0.5.9".parse().unwrap()), None, BanKind::Misery));
    println!("zero_alloc_lookup: ok (3 000 not-banned lookups, 0 allocations)");
}
