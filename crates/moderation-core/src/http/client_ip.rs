//! The `ClientIp` request extension.

use std::fmt;
use std::net::IpAddr;

/// The resolved address of the client behind a request, in canonical form.
///
/// Inserted into request extensions by
/// [`ClientIpResolver::insert_client_ip`](super::ClientIpResolver::insert_client_ip);
/// downstream layers (misery, the audit trail) read it from there and never
/// parse headers themselves.
///
/// IPv4-mapped IPv6 addresses (`::ffff:203.0.113.7`) are stored as the IPv4
/// address they carry, so a ban on `203.0.113.7` matches either form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientIp(IpAddr);

impl ClientIp {
    /// Wraps an address, canonicalising IPv4-mapped IPv6 to IPv4.
    #[must_use]
    pub fn new(ip: IpAddr) -> Self {
        Self(ip.to_canonical())
    }

    /// The canonical address.
    #[must_use]
    pub fn ip(self) -> IpAddr {
        self.0
    }
}

impl From<IpAddr> for ClientIp {
    fn from(ip: IpAddr) -> Self {
        Self::new(ip)
    }
}

impl From<ClientIp> for IpAddr {
    fn from(ip: ClientIp) -> Self {
        ip.0
    }
}

impl fmt::Display for ClientIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_mapped_ipv6_is_canonicalised() {
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        assert_eq!(
            ClientIp::new(mapped).ip(),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn plain_ipv6_is_kept() {
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(ClientIp::new(v6).ip(), v6);
    }
}
