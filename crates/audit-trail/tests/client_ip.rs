//! SPEC E2 through the audit trail: the address a record keeps is the one
//! the shared resolver trusts, never what a client wrote in a header.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::net::IpAddr;
use std::sync::Arc;

use http::Request;
use moderation_audit_trail::{
    AuditTrail, ClientIp, ClientIpResolver, MemoryAuditStore, RecordedIp,
};
use moderation_core::{Kind, MemoryModerationLog, ObjectRef, UserId};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn proxies() -> ClientIpResolver {
    ClientIpResolver::with_trusted_proxies([
        "10.0.0.0/8".parse().unwrap(),
        "fd00::/8".parse().unwrap(),
    ])
}

/// Resolves the request from `peer` with `headers`, as middleware would.
fn resolve(resolver: &ClientIpResolver, peer: &str, headers: &[(&str, &str)]) -> IpAddr {
    let mut builder = Request::builder();
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let mut request = builder.body(()).unwrap();
    let resolved = resolver.insert_client_ip(&mut request, ip(peer));
    let from_extension = *request.extensions().get::<ClientIp>().unwrap();
    assert_eq!(
        from_extension, resolved,
        "the resolved IP is in the extensions"
    );
    from_extension.ip()
}

#[test]
fn untrusted_peer_forwarded_for_is_ignored() {
    let client = resolve(
        &proxies(),
        "198.51.100.9",
        &[("x-forwarded-for", "203.0.113.7")],
    );
    assert_eq!(client, ip("198.51.100.9"));
    let client = resolve(
        &proxies(),
        "198.51.100.9",
        &[("forwarded", "for=203.0.113.7")],
    );
    assert_eq!(client, ip("198.51.100.9"));
}

#[test]
fn forged_entry_through_one_trusted_proxy_resolves_to_client() {
    let client = resolve(
        &proxies(),
        "10.0.0.2",
        &[("x-forwarded-for", "1.2.3.4, 203.0.113.7")],
    );
    assert_eq!(client, ip("203.0.113.7"));
}

#[test]
fn two_trusted_hops_resolve_to_client() {
    let client = resolve(
        &proxies(),
        "10.0.0.2",
        &[("x-forwarded-for", "1.2.3.4, 203.0.113.7, 10.1.1.1")],
    );
    assert_eq!(client, ip("203.0.113.7"));
    let client = resolve(
        &proxies(),
        "fd00::2",
        &[(
            "forwarded",
            "for=1.2.3.4, for=203.0.113.7, for=\"[fd00::9]\"",
        )],
    );
    assert_eq!(client, ip("203.0.113.7"));
}

#[test]
fn ipv4_mapped_addresses_resolve_to_ipv4() {
    assert_eq!(
        resolve(&ClientIpResolver::new(), "::ffff:203.0.113.7", &[]),
        ip("203.0.113.7")
    );
    let client = resolve(
        &proxies(),
        "::ffff:10.0.0.2",
        &[("x-forwarded-for", "::ffff:203.0.113.7")],
    );
    assert_eq!(client, ip("203.0.113.7"));
}

#[test]
fn ports_are_stripped() {
    let client = resolve(
        &proxies(),
        "10.0.0.2",
        &[("x-forwarded-for", "203.0.113.7:51234")],
    );
    assert_eq!(client, ip("203.0.113.7"));
    let client = resolve(
        &proxies(),
        "10.0.0.2",
        &[("forwarded", "for=\"[2001:db8::7]:443\"")],
    );
    assert_eq!(client, ip("2001:db8::7"));
}

#[test]
fn malformed_headers_fall_back_to_the_peer() {
    for header in [
        "not an ip",
        "203.0.113.7, , 10.0.0.3",
        "unknown",
        "203.0.113.7, 999.1.1.1",
    ] {
        let client = resolve(&proxies(), "10.0.0.2", &[("x-forwarded-for", header)]);
        assert_eq!(client, ip("10.0.0.2"), "{header:?}");
    }
}

#[tokio::test]
async fn the_record_keeps_the_resolved_client_not_the_forged_entry() {
    let trail = AuditTrail::builder(
        Arc::new(MemoryAuditStore::new()),
        Arc::new(MemoryModerationLog::new()),
    )
    .build();
    let client = resolve(
        &proxies(),
        "::ffff:10.0.0.2",
        &[("x-forwarded-for", "6.6.6.6, ::ffff:203.0.113.7")],
    );
    let post = ObjectRef::new(Kind::new("forum.post").unwrap(), 1_i64);
    let record = trail
        .record(
            Some(&UserId::from(1_i64)),
            Some(client),
            post,
            "post.create",
            serde_json::Value::Null,
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.ip, Some(RecordedIp::Address(ip("203.0.113.7"))));
}
