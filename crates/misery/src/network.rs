//! Strict parsing of ban targets: exact addresses and CIDR networks.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::MiseryError;

/// Parses `203.0.113.7`, `2001:DB8::1` or `203.0.113.0/24` into a network,
/// refusing CIDRs with host bits set (`203.0.113.7/24`) because such an entry
/// usually means the author mistyped either the address or the prefix.
///
/// An exact address becomes a /32 or /128 network. IPv4-mapped IPv6
/// addresses and networks (`::ffff:203.0.113.0/120`) are stored as IPv4 so
/// both notations of one client hit the same entry.
///
/// # Errors
/// [`MiseryError::InvalidAddress`] or [`MiseryError::HostBitsSet`].
pub fn parse_network(text: &str) -> Result<IpNet, MiseryError> {
    let trimmed = text.trim();
    if let Ok(ip) = trimmed.parse::<IpAddr>() {
        return Ok(IpNet::from(ip.to_canonical()));
    }
    let net = trimmed
        .parse::<IpNet>()
        .map_err(|_| MiseryError::InvalidAddress {
            given: text.to_owned(),
        })?;
    if net.addr() != net.network() {
        return Err(MiseryError::HostBitsSet {
            given: text.to_owned(),
            prefix_len: net.prefix_len(),
            network: net.trunc(),
        });
    }
    Ok(canonical_network(net))
}

/// Rewrites an IPv4-mapped IPv6 network (`::ffff:0:0/96` and longer) as IPv4.
pub(crate) fn canonical_network(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96).map_or(net, IpNet::V4),
            None => net,
        },
        _ => net,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_bits_are_rejected_with_the_network_named() {
        let err = parse_network("203.0.113.7/24").unwrap_err();
        assert!(matches!(
            err,
            MiseryError::HostBitsSet { prefix_len: 24, .. }
        ));
        assert!(err.to_string().contains("203.0.113.0/24"), "{err}");
        assert!(parse_network("2001:db8::1/32").is_err());
    }

    #[test]
    fn addresses_become_host_networks() {
        assert_eq!(
            parse_network("2001:DB8::1").unwrap(),
            "2001:db8::1/128".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            parse_network("::ffff:203.0.113.7").unwrap(),
            "203.0.113.7/32".parse::<IpNet>().unwrap()
        );
        assert_eq!(
            parse_network("::ffff:203.0.113.0/120").unwrap(),
            "203.0.113.0/24".parse::<IpNet>().unwrap()
        );
    }

    #[test]
    fn garbage_is_refused() {
        assert!(matches!(
            parse_network("83.*"),
            Err(MiseryError::InvalidAddress { .. })
        ));
    }
}
