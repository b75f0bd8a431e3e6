//! Property: over random ban lists, addresses and times, the snapshot's
//! index answers exactly as a plain scan over the entries would: the active
//! entry of the kind with the longest covering prefix, the first given among
//! entries on the same network, expiry included.

// Strategies and fixtures below are shared by the properties; clippy.toml's
// test allowances only cover `#[test]` functions themselves.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use moderation_core::{ManualClock, UserId};
use moderation_misery::{BanEntry, BanKind, BanList, BanSnapshot, BanTarget};
use proptest::prelude::*;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 8, 0, 0).unwrap()
}

const KINDS: [BanKind; 3] = [BanKind::Misery, BanKind::Hellban, BanKind::HardBan];

/// Networks crowded into 10.1.0.0/16 and 2001:db8::/112 so they nest and
/// collide, with every prefix length possible but the usual ones favoured.
fn network() -> impl Strategy<Value = IpNet> {
    let v4_len = prop_oneof![Just(32_u8), Just(24), Just(16), Just(31), 0_u8..=32];
    let v6_len = prop_oneof![Just(128_u8), Just(120), Just(112), 0_u8..=128];
    prop_oneof![
        3 => (any::<u16>(), v4_len).prop_map(|(low, len)| {
            let address = Ipv4Addr::from(0x0a01_0000 | u32::from(low));
            IpNet::V4(Ipv4Net::new(address, len).unwrap().trunc())
        }),
        1 => (any::<u16>(), v6_len).prop_map(|(low, len)| {
            let address = Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(low));
            IpNet::V6(Ipv6Net::new(address, len).unwrap().trunc())
        }),
    ]
}

fn entry() -> impl Strategy<Value = BanEntry> {
    (
        0_u64..1_000,
        prop_oneof![
            6 => network().prop_map(BanTarget::Network),
            1 => (1_i64..5).prop_map(|id| BanTarget::User(UserId::from(id))),
        ],
        proptest::sample::select(KINDS.to_vec()),
        0_u8..4,
        0_i64..3,
        proptest::option::of(-2_i64..10),
    )
        .prop_map(|(id, target, kind, reason, author, expires)| BanEntry {
            id,
            target,
            kind,
            reason: format!("reason {reason}"),
            created_by: UserId::from(author),
            created_at: start() - Duration::days(1) + Duration::microseconds(id as i64),
            expires_at: expires.map(|minutes| start() + Duration::minutes(minutes)),
        })
}

/// An address near the crowded networks, in either notation for IPv4.
fn address() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u16>().prop_map(|low| IpAddr::V4(Ipv4Addr::from(0x0a01_0000 | u32::from(low)))),
        any::<u16>().prop_map(|low| {
            IpAddr::V6(Ipv4Addr::from(0x0a01_0000 | u32::from(low)).to_ipv6_mapped())
        }),
        any::<u16>()
            .prop_map(|low| IpAddr::V6(Ipv6Addr::from(0x2001_0db8_u128 << 96 | u128::from(low)))),
        any::<u32>().prop_map(|bits| IpAddr::V4(Ipv4Addr::from(bits))),
    ]
}

fn is_active(entry: &BanEntry, now: DateTime<Utc>) -> bool {
    entry.expires_at.is_none_or(|end| now < end)
}

/// The plain scan: every entry looked at, the longest prefix kept, the
/// first given on ties.
fn scan_ip(
    entries: &[BanEntry],
    ip: IpAddr,
    kind: BanKind,
    now: DateTime<Utc>,
) -> Option<&BanEntry> {
    let ip = ip.to_canonical();
    let mut best: Option<(&BanEntry, u8)> = None;
    for entry in entries {
        let BanTarget::Network(net) = &entry.target else {
            continue;
        };
        if entry.kind == kind && is_active(entry, now) && net.contains(&ip) {
            let len = net.prefix_len();
            if best.is_none_or(|(_, best_len)| len > best_len) {
                best = Some((entry, len));
            }
        }
    }
    best.map(|(entry, _)| entry)
}

fn scan_user<'a>(
    entries: &'a [BanEntry],
    user: &UserId,
    kind: BanKind,
    now: DateTime<Utc>,
) -> Option<&'a BanEntry> {
    entries.iter().find(|entry| {
        entry.kind == kind && is_active(entry, now) && entry.target == BanTarget::User(user.clone())
    })
}

/// Every probe against the scan, at every minute of the test's span.
fn check_list(entries: &[BanEntry], probes: &[IpAddr]) -> Result<(), TestCaseError> {
    let clock = Arc::new(ManualClock::new(start()));
    let list = BanList::with_entries(clock.clone(), entries.to_vec());
    let timeless = BanSnapshot::new(entries.to_vec());
    for minute in 0..12 {
        let now = start() + Duration::minutes(minute);
        clock.set(now);
        // Every other minute, let the index drop what expired; in between,
        // the snapshot answers past its next expiry.
        if minute % 2 == 0 {
            list.drop_expired();
            if let Some(next) = list.next_expiry() {
                prop_assert!(next > now, "next expiry {} at {}", next, now);
            }
        }
        for kind in KINDS {
            for &ip in probes {
                let expected = scan_ip(entries, ip, kind, now);
                let found = list.find(Some(ip), None, kind);
                prop_assert_eq!(
                    found.as_ref(),
                    expected,
                    "{} {} at minute {}",
                    ip,
                    kind,
                    minute
                );
                prop_assert_eq!(list.is_banned(Some(ip), None, kind), expected.is_some());
                let timeless_found = timeless.find_ip(ip, kind, || now);
                prop_assert_eq!(
                    timeless_found.as_ref(),
                    expected,
                    "timeless {} {}",
                    ip,
                    kind
                );
            }
            for id in 1..5_i64 {
                let user = UserId::from(id);
                let expected = scan_user(entries, &user, kind, now);
                let found = list.find(None, Some(&user), kind);
                prop_assert_eq!(found.as_ref(), expected, "user {} {}", id, kind);
                prop_assert_eq!(list.is_banned(None, Some(&user), kind), expected.is_some());
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn index_answers_as_a_plain_scan(
        entries in proptest::collection::vec(entry(), 0..60),
        mut probes in proptest::collection::vec(address(), 24),
    ) {
        // The edges of every network, where off-by-one errors live.
        for entry in &entries {
            if let BanTarget::Network(net) = entry.target {
                probes.push(net.network());
                probes.push(net.broadcast());
                match net {
                    IpNet::V4(v4) => {
                        let first = u32::from(v4.network());
                        let last = u32::from(v4.broadcast());
                        probes.push(IpAddr::V4(Ipv4Addr::from(first.wrapping_sub(1))));
                        probes.push(IpAddr::V4(Ipv4Addr::from(last.wrapping_add(1))));
                    }
                    IpNet::V6(v6) => {
                        let first = u128::from(v6.network());
                        let last = u128::from(v6.broadcast());
                        probes.push(IpAddr::V6(Ipv6Addr::from(first.wrapping_sub(1))));
                        probes.push(IpAddr::V6(Ipv6Addr::from(last.wrapping_add(1))));
                    }
                }
            }
        }
        check_list(&entries, &probes)?;
    }

    #[test]
    fn snapshot_lists_every_entry_given(entries in proptest::collection::vec(entry(), 0..60)) {
        let snapshot = BanSnapshot::at(entries.clone(), start());
        let mut listed: Vec<BanEntry> = snapshot.entries().cloned().collect();
        let mut given = entries;
        let key = |entry: &BanEntry| (entry.id, format!("{entry:?}"));
        listed.sort_by_key(key);
        given.sort_by_key(key);
        prop_assert_eq!(listed, given);
    }
}

/// Many nested networks in one /16, more than a directory leaf holds, so
/// the split directory is exercised.
#[test]
fn dense_block_answers_as_a_plain_scan() {
    let mut entries = Vec::new();
    for i in 0..1_500_u32 {
        let (address, len) = match i % 10 {
            0 => (0x0a01_0000 | ((i * 256) & 0xff00), 24),
            1 => (0x0a01_0000 | ((i * 16) & 0xfff0), 28),
            _ => (0x0a01_0000 | ((i * 37) & 0xffff), 32),
        };
        entries.push(BanEntry {
            id: u64::from(i),
            target: BanTarget::Network(IpNet::V4(
                Ipv4Net::new(Ipv4Addr::from(address), len).unwrap().trunc(),
            )),
            kind: BanKind::Misery,
            reason: "dense".to_owned(),
            created_by: UserId::from(1_i64),
            created_at: start(),
            expires_at: (i % 7 == 0).then(|| start() + Duration::minutes(i64::from(i % 5))),
        });
    }
    let probes: Vec<IpAddr> = (0..=0xffff_u32)
        .step_by(53)
        .map(|low| IpAddr::V4(Ipv4Addr::from(0x0a01_0000 | low)))
        .collect();
    check_list(&entries, &probes).unwrap();
}
