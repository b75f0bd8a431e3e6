//! Property: a CIDR entry matches exactly the addresses it covers, in both
//! address families, and nothing else.

// Strategies and fixtures below are shared by the properties; clippy.toml's
// test allowances only cover `#[test]` functions themselves.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use chrono::Utc;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use moderation_core::{SystemClock, UserId};
use moderation_misery::{BanEntry, BanKind, BanList, BanTarget, parse_network};
use proptest::prelude::*;

fn list_with(net: IpNet) -> BanList {
    BanList::with_entries(
        Arc::new(SystemClock),
        [BanEntry {
            id: 1,
            target: BanTarget::Network(net),
            kind: BanKind::Misery,
            reason: "property".to_owned(),
            created_by: UserId::from(1_i64),
            created_at: Utc::now(),
            expires_at: None,
        }],
    )
}

fn v4_net() -> impl Strategy<Value = IpNet> {
    (any::<u32>(), 0_u8..=32)
        .prop_map(|(bits, len)| IpNet::V4(Ipv4Net::new(Ipv4Addr::from(bits), len).unwrap().trunc()))
}

fn v6_net() -> impl Strategy<Value = IpNet> {
    (any::<u128>(), 0_u8..=128)
        .prop_map(|(bits, len)| IpNet::V6(Ipv6Net::new(Ipv6Addr::from(bits), len).unwrap().trunc()))
}

/// Addresses on and just beyond the edges of `net`, in both notations for
/// IPv4, plus the random `extra` ones.
fn probes(net: IpNet, extra: &[IpAddr]) -> Vec<IpAddr> {
    let mut probes = extra.to_vec();
    match net {
        IpNet::V4(v4) => {
            let first = u32::from(v4.network());
            let last = u32::from(v4.broadcast());
            for bits in [first, last, first.wrapping_sub(1), last.wrapping_add(1)] {
                let ip = Ipv4Addr::from(bits);
                probes.push(IpAddr::V4(ip));
                probes.push(IpAddr::V6(ip.to_ipv6_mapped()));
            }
        }
        IpNet::V6(v6) => {
            let first = u128::from(v6.network());
            let last = u128::from(v6.broadcast());
            for bits in [first, last, first.wrapping_sub(1), last.wrapping_add(1)] {
                probes.push(IpAddr::V6(Ipv6Addr::from(bits)));
            }
        }
    }
    probes
}

fn check(net: IpNet, extra: &[IpAddr]) -> Result<(), TestCaseError> {
    // The entry as the list stores it: IPv4-mapped IPv6 networks become IPv4.
    let stored = parse_network(&net.to_string()).unwrap();
    let list = list_with(net);
    for probe in probes(net, extra) {
        let expected = stored.contains(&probe.to_canonical());
        let got = list.is_banned(Some(probe), None, BanKind::Misery);
        prop_assert_eq!(got, expected, "entry {} probe {}", net, probe);
    }
    Ok(())
}

proptest! {
    #[test]
    fn ipv4_cidr_entry_matches_exactly_the_addresses_it_covers(
        net in v4_net(),
        v4 in proptest::collection::vec(any::<u32>(), 8),
        v6 in proptest::collection::vec(any::<u128>(), 4),
    ) {
        let mut extra: Vec<IpAddr> = v4.into_iter().map(|b| IpAddr::V4(Ipv4Addr::from(b))).collect();
        extra.extend(v6.into_iter().map(|b| IpAddr::V6(Ipv6Addr::from(b))));
        check(net, &extra)?;
    }

    #[test]
    fn ipv6_cidr_entry_matches_exactly_the_addresses_it_covers(
        net in v6_net(),
        v6 in proptest::collection::vec(any::<u128>(), 8),
        v4 in proptest::collection::vec(any::<u32>(), 4),
    ) {
        let mut extra: Vec<IpAddr> = v6.into_iter().map(|b| IpAddr::V6(Ipv6Addr::from(b))).collect();
        extra.extend(v4.into_iter().map(|b| IpAddr::V4(Ipv4Addr::from(b))));
        check(net, &extra)?;
    }
}
