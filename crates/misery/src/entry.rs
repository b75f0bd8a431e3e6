//! One ban: who or what is banned, how, why, by whom and until when.

use std::fmt;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use moderation_core::UserId;

use crate::network::canonical_network;

/// How a banned user or address is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum BanKind {
    /// Slow and flaky responses (slowban / errorban) from [`MiseryLayer`](crate::MiseryLayer).
    Misery,
    /// The user keeps posting, but nobody else sees it (see [`Visibility`](crate::Visibility)).
    Hellban,
    /// The application refuses the user or address outright.
    HardBan,
}

impl BanKind {
    /// A stable lowercase name (`misery`, `hellban`, `hard_ban`) for stores and logs.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Misery => "misery",
            Self::Hellban => "hellban",
            Self::HardBan => "hard_ban",
        }
    }
}

impl fmt::Display for BanKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a ban applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum BanTarget {
    /// A signed-in user.
    User(UserId),
    /// An address or a network; an exact address is a /32 or /128 network.
    /// Build it with [`parse_network`](crate::parse_network) to refuse host bits.
    Network(IpNet),
}

/// A ban as stored: target, kind, reason, author, creation time and expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BanEntry {
    /// The store's id for the ban.
    pub id: u64,
    /// Who or what is banned.
    pub target: BanTarget,
    /// How the target is treated.
    pub kind: BanKind,
    /// Why, for staff.
    pub reason: String,
    /// The staff member who created the ban.
    pub created_by: UserId,
    /// When the ban was created.
    pub created_at: DateTime<Utc>,
    /// When the ban stops applying; `None` for never.
    pub expires_at: Option<DateTime<Utc>>,
}

impl BanEntry {
    /// Whether the ban applies at `now`: an expired ban never matches.
    #[must_use]
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|end| now < end)
    }

    /// The target with IPv4-mapped IPv6 networks rewritten as IPv4 and host
    /// bits cleared, the form the lookup structures index.
    pub(crate) fn canonical_target(&self) -> BanTarget {
        match &self.target {
            BanTarget::User(user) => BanTarget::User(user.clone()),
            BanTarget::Network(net) => BanTarget::Network(canonical_network(net.trunc())),
        }
    }
}
