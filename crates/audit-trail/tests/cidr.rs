//! CIDR queries find exactly the addresses a network covers (property test
//! on the reference store; `moderation-storage` runs the same check on its
//! SQL stores).
#![allow(clippy::unwrap_used, reason = "tests")]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnet::IpNet;
use moderation_audit_trail::{AuditEvent, AuditQuery, AuditTrail, MemoryAuditStore, RecordedIp};
use moderation_core::{Kind, MemoryModerationLog, ObjectRef, PageRequest, UserId};
use proptest::prelude::*;

/// Addresses clustered in a few prefixes, so networks cover some and not
/// others; IPv4, IPv6 and IPv4-mapped IPv6 all appear.
fn address() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        (0_u8..4, any::<u8>(), any::<u8>())
            .prop_map(|(b, c, d)| IpAddr::V4(Ipv4Addr::new(203, b, c, d))),
        any::<u32>().prop_map(|n| IpAddr::V4(Ipv4Addr::from(n))),
        (0_u16..4, any::<u16>(), any::<u64>()).prop_map(|(s, h, low)| {
            let bits = (0x2001_0db8_u128 << 96)
                | (u128::from(s) << 80)
                | (u128::from(h) << 64)
                | u128::from(low);
            IpAddr::V6(Ipv6Addr::from(bits))
        }),
        (0_u8..4, any::<u8>())
            .prop_map(|(c, d)| IpAddr::V6(Ipv4Addr::new(203, 0, c, d).to_ipv6_mapped())),
    ]
}

/// A network around one of the addresses' clusters or anywhere.
fn network() -> impl Strategy<Value = IpNet> {
    (address(), any::<u8>()).prop_map(|(addr, len)| {
        let max = if addr.is_ipv4() { 32 } else { 128 };
        IpNet::new(addr, len % (max + 1)).unwrap().trunc()
    })
}

/// The model: an IPv4 address is its IPv4-mapped IPv6 address, so a
/// network covers it when the network (as IPv6) contains that.
fn covers(network: IpNet, ip: IpAddr) -> bool {
    let as_v6 = |ip: IpAddr| match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    let net = match network {
        IpNet::V4(v4) => {
            ipnet::Ipv6Net::new(v4.addr().to_ipv6_mapped(), v4.prefix_len() + 96).unwrap()
        }
        IpNet::V6(v6) => v6,
    };
    net.contains(&as_v6(ip))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn cidr_queries_find_exactly_the_covered_addresses(
        ips in proptest::collection::vec(address(), 1..60),
        networks in proptest::collection::vec(network(), 1..8),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            let trail = AuditTrail::builder(Arc::new(MemoryAuditStore::new()), Arc::new(MemoryModerationLog::new())).build();
            let target = ObjectRef::new(Kind::new("forum.post").unwrap(), 1_i64);
            let events = ips.iter().enumerate().map(|(n, ip)| AuditEvent {
                actor: Some(UserId::from(n as i64)),
                ip: Some(*ip),
                target: target.clone(),
                action: "post.create".into(),
                detail: serde_json::Value::Null,
            }).collect();
            trail.record_many(events).await.unwrap();
            for network in &networks {
                let query = AuditQuery::by_ip(trail.ip_range(*network).unwrap());
                let page = trail.records(&query, PageRequest::first(1_000)).await.unwrap();
                let mut found: Vec<i64> = page.items.iter().map(|r| r.actor.as_ref().unwrap().as_str().parse().unwrap()).collect();
                found.sort_unstable();
                let expected: Vec<i64> = ips.iter().enumerate().filter(|(_, ip)| covers(*network, **ip)).map(|(n, _)| n as i64).collect();
                prop_assert_eq!(found, expected, "network {}", network);
            }
            Ok(())
        })?;
    }

    #[test]
    fn keys_round_trip_and_sort_like_addresses(a in address(), b in address()) {
        let (ra, rb) = (RecordedIp::address(a), RecordedIp::address(b));
        let as_bits = |ip: IpAddr| match ip.to_canonical() {
            IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
            IpAddr::V6(v6) => u128::from(v6),
        };
        prop_assert_eq!(ra.key().cmp(&rb.key()), as_bits(a).cmp(&as_bits(b)));
        prop_assert_eq!(RecordedIp::from_keys(&ra.key(), &ra.group_key()).unwrap(), ra);
    }
}
