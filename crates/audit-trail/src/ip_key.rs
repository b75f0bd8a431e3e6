//! How the trail keeps an IP: [`RecordedIp`], its sortable text key, and
//! [`IpRange`], the key range a CIDR query becomes.
//!
//! An address is keyed by the 32 lower-case hex digits of its 16-byte IPv6
//! form, IPv4 as the IPv4-mapped `::ffff:a.b.c.d`. Text keys of equal length
//! sort like the numbers they spell, so every network is one contiguous key
//! range: a CIDR lookup is a range scan on an index in any store, with no
//! network type needed in the database. Keyed hashes are `k:` and 64 hex
//! digits; `k` sorts after every hex digit, so no address range reaches them.

use std::net::{IpAddr, Ipv6Addr};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::error::AuditError;

/// The prefix of keyed-hash keys.
const KEYED_PREFIX: &str = "k:";
/// Hex digits of an address key (16 bytes).
const ADDRESS_KEY_LEN: usize = 32;
/// Hex digits of the /64 group of an IPv6 address (8 bytes).
const GROUP64_KEY_LEN: usize = 16;
/// Hex digits of a keyed hash (HMAC-SHA-256, 32 bytes).
pub(crate) const DIGEST_HEX_LEN: usize = 64;

/// An IP address as the audit trail stores it, after the
/// [`PrivacyMode`](crate::PrivacyMode) was applied.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordedIp {
    /// An address: the client's own ([`PrivacyMode::Full`](crate::PrivacyMode::Full))
    /// or its network ([`PrivacyMode::Truncated`](crate::PrivacyMode::Truncated)).
    /// IPv4-mapped IPv6 addresses are always stored as IPv4.
    Address(IpAddr),
    /// Keyed hashes ([`PrivacyMode::Keyed`](crate::PrivacyMode::Keyed)): equal
    /// addresses give equal hashes, but the address cannot be read back.
    Keyed {
        /// Hex HMAC of the address.
        address: String,
        /// Hex HMAC of its group: the /64 network of an IPv6 address, the
        /// address itself for IPv4.
        group: String,
    },
}

impl RecordedIp {
    /// An address, canonicalised (`::ffff:203.0.113.7` becomes `203.0.113.7`).
    #[must_use]
    pub fn address(ip: IpAddr) -> Self {
        Self::Address(ip.to_canonical())
    }

    /// The address, when one is kept.
    #[must_use]
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            Self::Address(ip) => Some(*ip),
            Self::Keyed { .. } => None,
        }
    }

    /// The stored key: equal keys mean equal addresses (or hashes of them).
    ///
    /// ```
    /// use moderation_audit_trail::RecordedIp;
    /// let ip = RecordedIp::address("203.0.113.7".parse()?);
    /// assert_eq!(ip.key(), "00000000000000000000ffffcb007107");
    /// # Ok::<(), std::net::AddrParseError>(())
    /// ```
    #[must_use]
    pub fn key(&self) -> String {
        match self {
            Self::Address(ip) => address_key(*ip),
            Self::Keyed { address, .. } => format!("{KEYED_PREFIX}{address}"),
        }
    }

    /// The key sock-puppet lookups group by: an IPv6 address's /64 (one
    /// subscriber's prefix, whose low bits change at will), an IPv4 address
    /// itself.
    #[must_use]
    pub fn group_key(&self) -> String {
        match self {
            Self::Address(IpAddr::V6(_)) => {
                let mut key = self.key();
                key.truncate(GROUP64_KEY_LEN);
                key
            }
            Self::Address(IpAddr::V4(_)) => self.key(),
            Self::Keyed { group, .. } => format!("{KEYED_PREFIX}{group}"),
        }
    }

    /// Reads back the keys [`key`](Self::key) and
    /// [`group_key`](Self::group_key) wrote.
    ///
    /// # Errors
    /// [`AuditError::CorruptIpKey`] for text this library does not write.
    pub fn from_keys(key: &str, group: &str) -> Result<Self, AuditError> {
        let corrupt = || AuditError::CorruptIpKey {
            key: key.to_owned(),
        };
        if let Some(address) = key.strip_prefix(KEYED_PREFIX) {
            let group = group.strip_prefix(KEYED_PREFIX).ok_or_else(corrupt)?;
            if !is_hex(address, DIGEST_HEX_LEN) || !is_hex(group, DIGEST_HEX_LEN) {
                return Err(corrupt());
            }
            return Ok(Self::Keyed {
                address: address.to_owned(),
                group: group.to_owned(),
            });
        }
        address_from_key(key).map(Self::Address).ok_or_else(corrupt)
    }
}

/// An inclusive range of IP keys: one address, one network, or one keyed hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct IpRange {
    low: String,
    high: String,
}

impl IpRange {
    /// Every address of `network`. IPv4 networks cover their IPv4-mapped
    /// addresses, so `203.0.113.0/24` and `::ffff:203.0.113.0/120` are the
    /// same range; host bits are ignored (`10.1.2.3/8` is `10.0.0.0/8`).
    ///
    /// ```
    /// use moderation_audit_trail::{IpRange, RecordedIp};
    /// let range = IpRange::network("203.0.113.0/24".parse()?);
    /// assert!(range.contains(&RecordedIp::address("203.0.113.200".parse()?)));
    /// assert!(!range.contains(&RecordedIp::address("203.0.114.1".parse()?)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn network(network: IpNet) -> Self {
        let network = network.trunc();
        Self {
            low: address_key(network.network()),
            high: address_key(network.broadcast()),
        }
    }

    /// Exactly this stored IP (an address or a keyed hash).
    #[must_use]
    pub fn exact(ip: &RecordedIp) -> Self {
        let key = ip.key();
        Self {
            low: key.clone(),
            high: key,
        }
    }

    /// The lowest key in the range.
    #[must_use]
    pub fn low(&self) -> &str {
        &self.low
    }

    /// The highest key in the range (inclusive).
    #[must_use]
    pub fn high(&self) -> &str {
        &self.high
    }

    /// True when the stored key `key` falls in the range, as a store's
    /// `ip BETWEEN low AND high` would say.
    #[must_use]
    pub fn contains_key(&self, key: &str) -> bool {
        self.low.as_str() <= key && key <= self.high.as_str()
    }

    /// True when `ip` falls in the range.
    #[must_use]
    pub fn contains(&self, ip: &RecordedIp) -> bool {
        self.contains_key(&ip.key())
    }
}

/// The 16-byte IPv6 form of an address as 32 hex digits.
fn address_key(ip: IpAddr) -> String {
    let v6 = match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    format!("{:032x}", u128::from(v6))
}

fn address_from_key(key: &str) -> Option<IpAddr> {
    if !is_hex(key, ADDRESS_KEY_LEN) {
        return None;
    }
    let bits = u128::from_str_radix(key, 16).ok()?;
    Some(IpAddr::V6(Ipv6Addr::from(bits)).to_canonical())
}

/// Exactly `len` lower-case hex digits (what this library writes).
fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}
