//! `ClientIpResolver`: the TCP peer, or the first untrusted forwarded hop.

use std::net::IpAddr;

use http::{HeaderMap, Request};
use ipnet::IpNet;

use super::client_ip::ClientIp;
use super::forwarded;

/// Resolves the client address of a request from its TCP peer and, only when
/// that peer is a trusted proxy, from its forwarding headers.
///
/// Forwarded hops are walked right to left (nearest proxy first), trusted
/// hops are skipped and the first untrusted address is the client. Anything
/// to its left was written by the client and may be forged, so it is never
/// read. A malformed header (unparsable hop, `unknown`, non-ASCII) makes the
/// resolver fall back to the peer: a broken chain proves nothing.
///
/// `Forwarded` (RFC 7239) is read when present, otherwise `X-Forwarded-For`.
#[derive(Debug, Clone, Default)]
pub struct ClientIpResolver {
    trusted: Vec<IpNet>,
}

impl ClientIpResolver {
    /// A resolver that trusts no proxy: the client is always the TCP peer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// A resolver that reads forwarding headers sent by these networks.
    ///
    /// Networks are stored truncated (host bits cleared) so `10.0.0.1/8`
    /// trusts `10.0.0.0/8`; IPv4-mapped IPv6 peers match IPv4 networks.
    #[must_use]
    pub fn with_trusted_proxies(proxies: impl IntoIterator<Item = IpNet>) -> Self {
        Self {
            trusted: proxies.into_iter().map(|net| net.trunc()).collect(),
        }
    }

    /// The trusted proxy networks.
    #[must_use]
    pub fn trusted_proxies(&self) -> &[IpNet] {
        &self.trusted
    }

    /// Whether `ip` belongs to a trusted proxy network.
    #[must_use]
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The client address for a request from `peer` carrying `headers`.
    #[must_use]
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> ClientIp {
        let peer = ClientIp::new(peer);
        if !self.is_trusted(peer.ip()) {
            return peer;
        }
        let Some(chain) = forwarded::chain(headers) else {
            return peer;
        };
        let mut leftmost = None;
        for hop in chain.hops_right_to_left() {
            let Some(hop) = hop else {
                tracing::debug!(%peer, "malformed forwarding header; using the peer address");
                return peer;
            };
            if !self.is_trusted(hop) {
                return ClientIp::new(hop);
            }
            leftmost = Some(hop);
        }
        // Every hop is a trusted proxy: the leftmost one is the origin.
        leftmost.map_or(peer, ClientIp::new)
    }

    /// Resolves the client of `request` from `peer`, inserts the [`ClientIp`]
    /// into the request extensions and returns it.
    ///
    /// Call it where the peer address is known (an axum middleware reading
    /// `ConnectInfo`, a hyper `service_fn`), before misery or the audit trail.
    pub fn insert_client_ip<B>(&self, request: &mut Request<B>, peer: IpAddr) -> ClientIp {
        let ip = self.resolve(peer, request.headers());
        request.extensions_mut().insert(ip);
        ip
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn proxies() -> ClientIpResolver {
        ClientIpResolver::with_trusted_proxies([
            "10.0.0.0/8".parse().unwrap(),
            "fd00::/8".parse().unwrap(),
        ])
    }

    #[test]
    fn untrusted_peer_forwarded_for_is_ignored() {
        let h = headers(&[("x-forwarded-for", "198.51.100.9")]);
        assert_eq!(
            proxies().resolve(ip("203.0.113.5"), &h).ip(),
            ip("203.0.113.5")
        );
        assert_eq!(
            ClientIpResolver::new().resolve(ip("10.0.0.1"), &h).ip(),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn forged_entry_through_one_trusted_proxy_resolves_to_client() {
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.7")]);
        assert_eq!(
            proxies().resolve(ip("10.0.0.2"), &h).ip(),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn two_trusted_hops_resolve_to_client() {
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.1.1.1")]);
        assert_eq!(
            proxies().resolve(ip("10.0.0.2"), &h).ip(),
            ip("203.0.113.7")
        );
        // The same chain split across two header lines.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6, 203.0.113.7"),
            ("x-forwarded-for", "10.1.1.1"),
        ]);
        assert_eq!(
            proxies().resolve(ip("10.0.0.2"), &h).ip(),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn ipv4_mapped_client_resolves_to_ipv4() {
        let h = headers(&[("x-forwarded-for", "::ffff:203.0.113.7")]);
        assert_eq!(
            proxies().resolve(ip("::ffff:10.0.0.2"), &h).ip(),
            ip("203.0.113.7")
        );
        assert_eq!(
            ClientIpResolver::new()
                .resolve(ip("::ffff:203.0.113.7"), &HeaderMap::new())
                .ip(),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn ports_are_stripped() {
        let h = headers(&[("x-forwarded-for", "203.0.113.7:5555, [fd00::1]:80")]);
        assert_eq!(
            proxies().resolve(ip("10.0.0.2"), &h).ip(),
            ip("203.0.113.7")
        );
    }

    #[test]
    fn malformed_headers_fall_back_to_peer() {
        for bad in ["not-an-ip", "203.0.113.7, garbage", "", "unknown"] {
            let h = headers(&[("x-forwarded-for", bad)]);
            assert_eq!(
                proxies().resolve(ip("10.0.0.2"), &h).ip(),
                ip("10.0.0.2"),
                "{bad:?}"
            );
        }
        let h = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(proxies().resolve(ip("10.0.0.2"), &h).ip(), ip("10.0.0.2"));
    }

    #[test]
    fn forwarded_header_is_walked_right_to_left() {
        let h = headers(&[(
            "forwarded",
            "for=6.6.6.6, for=\"[2001:db8::7]:443\";proto=https, for=10.9.9.9",
        )]);
        assert_eq!(
            proxies().resolve(ip("10.0.0.2"), &h).ip(),
            ip("2001:db8::7")
        );
    }

    #[test]
    fn all_trusted_hops_resolve_to_leftmost() {
        let h = headers(&[("x-forwarded-for", "10.3.3.3, 10.1.1.1")]);
        assert_eq!(proxies().resolve(ip("10.0.0.2"), &h).ip(), ip("10.3.3.3"));
    }

    #[test]
    fn insert_client_ip_sets_the_extension() {
        let mut request = Request::builder()
            .header("x-forwarded-for", "203.0.113.7")
            .body(())
            .unwrap();
        let resolved = proxies().insert_client_ip(&mut request, ip("10.0.0.2"));
        assert_eq!(request.extensions().get::<ClientIp>(), Some(&resolved));
        assert_eq!(resolved.ip(), ip("203.0.113.7"));
    }
}
