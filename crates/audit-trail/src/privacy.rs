//! Privacy modes (SPEC E5): what of an IP address the trail keeps.

use std::fmt::{self, Write as _};
use std::net::IpAddr;

use hmac::{Hmac, KeyInit, Mac};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use sha2::Sha256;

use crate::error::AuditError;
use crate::ip_key::{IpRange, RecordedIp};

/// The prefix an IPv4 address is truncated to.
pub const TRUNCATED_V4_PREFIX: u8 = 24;
/// The prefix an IPv6 address is truncated to.
pub const TRUNCATED_V6_PREFIX: u8 = 48;
/// The shortest accepted HMAC key, in bytes.
pub const MIN_KEY_LEN: usize = 16;

/// What the trail stores of each IP address.
///
/// - [`Full`](Self::Full) (the default): the address; every query works.
/// - [`Truncated`](Self::Truncated): its /24 (IPv4) or /48 (IPv6) network;
///   a lookup by address finds everyone in that network.
/// - [`Keyed`](Self::Keyed): HMAC-SHA-256 hashes under a secret key; equal
///   addresses still find each other (and IPv6 /64s still group for
///   sock-puppet lookups) but no address is stored, and CIDR ranges cannot
///   be searched.
///
/// ```
/// use moderation_audit_trail::{IpHasher, PrivacyMode};
/// let ip = "2001:db8:1:2:3:4:5:6".parse()?;
/// let truncated = PrivacyMode::Truncated.protect(ip);
/// assert_eq!(truncated.ip(), Some("2001:db8:1::".parse()?));
///
/// let keyed = PrivacyMode::Keyed(IpHasher::new(*b"a secret of 32 random bytes.....")?);
/// assert_eq!(keyed.protect(ip), keyed.protect(ip));
/// assert_eq!(keyed.protect(ip).ip(), None);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum PrivacyMode {
    /// Keep full addresses.
    #[default]
    Full,
    /// Keep /24 (IPv4) and /48 (IPv6) networks.
    Truncated,
    /// Keep keyed hashes only.
    Keyed(IpHasher),
}

impl PrivacyMode {
    /// What is stored for `ip` (canonicalised first: an IPv4-mapped IPv6
    /// address counts as its IPv4 address).
    #[must_use]
    pub fn protect(&self, ip: IpAddr) -> RecordedIp {
        let ip = ip.to_canonical();
        match self {
            Self::Full => RecordedIp::Address(ip),
            Self::Truncated => RecordedIp::Address(truncated(ip)),
            Self::Keyed(hasher) => hasher.hash(ip),
        }
    }

    /// The key range that finds records of `network` under this mode.
    ///
    /// In truncated mode a network narrower than the truncation widens to
    /// it (its records were stored as that network). In keyed mode only a
    /// single address (`/32`, `/128`) can be searched.
    ///
    /// # Errors
    /// [`AuditError::NetworkInKeyedMode`] for a wider network in keyed mode.
    pub fn range(&self, network: IpNet) -> Result<IpRange, AuditError> {
        let network = canonical_network(network);
        match self {
            Self::Full => Ok(IpRange::network(network)),
            Self::Truncated => {
                let limit = match network {
                    IpNet::V4(_) => TRUNCATED_V4_PREFIX,
                    IpNet::V6(_) => TRUNCATED_V6_PREFIX,
                };
                let widened = if network.prefix_len() > limit {
                    IpNet::new(network.addr(), limit).map_or(network, |net| net.trunc())
                } else {
                    network
                };
                Ok(IpRange::network(widened))
            }
            Self::Keyed(hasher) if network.prefix_len() == network.max_prefix_len() => {
                Ok(IpRange::exact(&hasher.hash(network.addr())))
            }
            Self::Keyed(_) => Err(AuditError::NetworkInKeyedMode { network }),
        }
    }

    /// The key range that finds records of exactly `ip` under this mode.
    #[must_use]
    pub fn exact(&self, ip: IpAddr) -> IpRange {
        IpRange::exact(&self.protect(ip))
    }
}

/// An IPv4-mapped IPv6 network (`::ffff:0:0/96` and narrower) as IPv4.
fn canonical_network(network: IpNet) -> IpNet {
    match network {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
            Some(v4) => Ipv4Net::new(v4, v6.prefix_len() - 96).map_or(network, IpNet::V4),
            None => network,
        },
        _ => network,
    }
}

fn truncated(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            Ipv4Net::new(v4, TRUNCATED_V4_PREFIX).map_or(ip, |net| IpAddr::V4(net.network()))
        }
        IpAddr::V6(v6) => {
            Ipv6Net::new(v6, TRUNCATED_V6_PREFIX).map_or(ip, |net| IpAddr::V6(net.network()))
        }
    }
}

/// HMAC-SHA-256 under a secret key, for [`PrivacyMode::Keyed`].
///
/// Keep the key secret (whoever has it can test guesses of addresses) and
/// stable (records hashed under another key never match again).
#[derive(Clone)]
pub struct IpHasher {
    /// Keyed once; each hash starts from a clone.
    mac: Hmac<Sha256>,
}

impl IpHasher {
    /// A hasher under `key`, at least [`MIN_KEY_LEN`] bytes.
    ///
    /// # Errors
    /// [`AuditError::WeakKey`] for a shorter key.
    pub fn new(key: impl AsRef<[u8]>) -> Result<Self, AuditError> {
        let key = key.as_ref();
        let weak = AuditError::WeakKey {
            len: key.len(),
            min: MIN_KEY_LEN,
        };
        if key.len() < MIN_KEY_LEN {
            return Err(weak);
        }
        let mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).map_err(|_| weak)?;
        Ok(Self { mac })
    }

    /// The keyed hashes of `ip` and of its group (an IPv6 address's /64).
    #[must_use]
    pub fn hash(&self, ip: IpAddr) -> RecordedIp {
        let address = self.digest(b"ip", &address_bytes(ip));
        let group = match ip.to_canonical() {
            IpAddr::V6(v6) => self.digest(b"net64", v6.octets().get(..8).unwrap_or_default()),
            IpAddr::V4(_) => address.clone(),
        };
        RecordedIp::Keyed { address, group }
    }

    fn digest(&self, label: &[u8], bytes: &[u8]) -> String {
        let mut mac = self.mac.clone();
        // The label keeps an address and a /64 with the same bytes apart.
        mac.update(label);
        mac.update(&[0]);
        mac.update(bytes);
        mac.finalize()
            .into_bytes()
            .iter()
            .fold(String::with_capacity(64), |mut hex, b| {
                // Writing to a String cannot fail.
                let _ = write!(hex, "{b:02x}");
                hex
            })
    }
}

impl fmt::Debug for IpHasher {
    /// Never prints the key.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IpHasher(HMAC-SHA-256, key hidden)")
    }
}

fn address_bytes(ip: IpAddr) -> [u8; 16] {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_ipv6_mapped().octets(),
        IpAddr::V6(v6) => v6.octets(),
    }
}
