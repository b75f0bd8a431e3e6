//! Parsing of the hops listed in `X-Forwarded-For` and `Forwarded` headers.
//!
//! Both headers list hops left (client side) to right (nearest proxy). The
//! parsers here yield the hops right to left, without allocating, and report
//! a malformed hop as `None` so the resolver can fall back to the peer.

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use http::header::{FORWARDED, HeaderName};

/// `X-Forwarded-For` is not in `http::header`; a static name avoids parsing it per request.
pub(super) static X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");

/// Which header carries the chain: `Forwarded` (RFC 7239) wins when present
/// because it is the standard; otherwise `X-Forwarded-For`.
pub(super) fn chain(headers: &HeaderMap) -> Option<Chain<'_>> {
    if headers.contains_key(FORWARDED) {
        Some(Chain::Forwarded(headers))
    } else if headers.contains_key(&X_FORWARDED_FOR) {
        Some(Chain::XForwardedFor(headers))
    } else {
        None
    }
}

/// A forwarding chain found in the headers.
#[derive(Debug, Clone, Copy)]
pub(super) enum Chain<'a> {
    /// RFC 7239 `Forwarded: for=...`.
    Forwarded(&'a HeaderMap),
    /// The de facto `X-Forwarded-For: client, proxy1, proxy2`.
    XForwardedFor(&'a HeaderMap),
}

impl<'a> Chain<'a> {
    /// The hops, nearest proxy first; `None` for a hop that does not parse.
    pub(super) fn hops_right_to_left(self) -> impl Iterator<Item = Option<IpAddr>> + 'a {
        let (headers, forwarded) = match self {
            Chain::Forwarded(h) => (h, true),
            Chain::XForwardedFor(h) => (h, false),
        };
        let name: &HeaderName = if forwarded {
            &FORWARDED
        } else {
            &X_FORWARDED_FOR
        };
        // Several header lines form one list, in order (RFC 9110 5.3).
        headers.get_all(name).iter().rev().flat_map(move |value| {
            let text = value.to_str().ok();
            let elements = text.unwrap_or("\u{0}").rsplit(',');
            elements.map(move |element| {
                // A non-visible-ASCII header line poisons the whole chain.
                text?;
                if forwarded {
                    forwarded_for(element)
                } else {
                    parse_node(element)
                }
            })
        })
    }
}

/// The `for=` parameter of one `Forwarded` element.
fn forwarded_for(element: &str) -> Option<IpAddr> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim()
            .eq_ignore_ascii_case("for")
            .then(|| parse_node(value))
    })?
}

/// One node: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]:80`,
/// optionally quoted. `unknown` and obfuscated identifiers are not addresses.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let node = raw.trim().trim_matches('"').trim();
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Ok(socket) = node.parse::<SocketAddr>() {
        return Some(socket.ip().to_canonical());
    }
    // `[2001:db8::1]` without a port.
    let inner = node.strip_prefix('[')?.strip_suffix(']')?;
    inner.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn nodes_with_ports_brackets_and_quotes_parse() {
        assert_eq!(parse_node(" 203.0.113.7 "), ip("203.0.113.7"));
        assert_eq!(parse_node("203.0.113.7:8080"), ip("203.0.113.7"));
        assert_eq!(parse_node("\"[2001:db8::1]:4711\""), ip("2001:db8::1"));
        assert_eq!(parse_node("[2001:db8::1]"), ip("2001:db8::1"));
        assert_eq!(parse_node("::ffff:203.0.113.7"), ip("203.0.113.7"));
        assert_eq!(parse_node("unknown"), None);
        assert_eq!(parse_node("_hidden"), None);
    }

    #[test]
    fn forwarded_elements_read_the_for_parameter() {
        assert_eq!(
            forwarded_for("proto=https;For=\"[2001:db8:cafe::17]:4711\";by=10.0.0.1"),
            ip("2001:db8:cafe::17")
        );
        assert_eq!(forwarded_for("proto=https"), None);
    }
}
