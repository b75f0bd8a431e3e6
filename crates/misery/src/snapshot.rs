//! `BanSnapshot`: the immutable, indexed form of a ban list.
//!
//! Networks live in two prefix tries (one per family) and users in a hash
//! map. A snapshot is never modified after it is built; [`BanList`]
//! swaps whole snapshots, so readers need no lock.
//!
//! [`BanList`]: crate::BanList

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use moderation_core::UserId;
use prefix_trie::{Prefix, PrefixMap};

use crate::entry::{BanEntry, BanKind, BanTarget};

/// An immutable, indexed set of bans.
#[derive(Debug, Default)]
pub struct BanSnapshot {
    v4: PrefixMap<Ipv4Net, Vec<BanEntry>>,
    v6: PrefixMap<Ipv6Net, Vec<BanEntry>>,
    users: HashMap<String, Vec<BanEntry>>,
    len: usize,
}

impl BanSnapshot {
    /// Indexes `entries`. Expired entries are kept (they never match) so a
    /// snapshot mirrors its store exactly.
    #[must_use]
    pub fn new(entries: impl IntoIterator<Item = BanEntry>) -> Self {
        let mut snapshot = Self::default();
        for entry in entries {
            snapshot.len += 1;
            match entry.canonical_target() {
                BanTarget::User(user) => snapshot
                    .users
                    .entry(user.as_str().to_owned())
                    .or_default()
                    .push(entry),
                BanTarget::Network(IpNet::V4(net)) => {
                    snapshot.v4.entry(net).or_default().push(entry);
                }
                BanTarget::Network(IpNet::V6(net)) => {
                    snapshot.v6.entry(net).or_default().push(entry);
                }
            }
        }
        snapshot
    }

    /// How many entries the snapshot holds, expired ones included.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the snapshot holds no entry at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The active ban of `kind` covering `ip`, most specific network first.
    ///
    /// `now` is only called when some entry covers the address, so the
    /// not-banned path reads no clock. Allocates nothing.
    pub fn find_ip(
        &self,
        ip: IpAddr,
        kind: BanKind,
        now: impl FnOnce() -> DateTime<Utc>,
    ) -> Option<&BanEntry> {
        let mut now = Lazy::new(now);
        let mut accept = |entry: &BanEntry| entry.kind == kind && entry.is_active(now.get());
        match ip.to_canonical() {
            IpAddr::V4(v4) => most_specific(&self.v4, Ipv4Net::from(v4), &mut accept),
            IpAddr::V6(v6) => most_specific(&self.v6, Ipv6Net::from(v6), &mut accept),
        }
    }

    /// The active ban of `kind` on `user`. Allocates nothing.
    pub fn find_user(
        &self,
        user: &UserId,
        kind: BanKind,
        now: impl FnOnce() -> DateTime<Utc>,
    ) -> Option<&BanEntry> {
        let entries = self.users.get(user.as_str())?;
        let now = now();
        entries
            .iter()
            .find(|entry| entry.kind == kind && entry.is_active(now))
    }

    /// The users under an active ban of `kind` at `now`, each once, in no
    /// particular order. Walks the user bans only, not the networks.
    pub fn users_banned(&self, kind: BanKind, now: DateTime<Utc>) -> impl Iterator<Item = &UserId> {
        self.users.values().filter_map(move |entries| {
            entries
                .iter()
                .filter(|entry| entry.kind == kind && entry.is_active(now))
                .find_map(|entry| match &entry.target {
                    BanTarget::User(user) => Some(user),
                    BanTarget::Network(_) => None,
                })
        })
    }

    /// Every entry, in no particular order.
    pub fn entries(&self) -> impl Iterator<Item = &BanEntry> {
        self.v4
            .values()
            .chain(self.v6.values())
            .chain(self.users.values())
            .flatten()
    }
}

/// Walks the networks covering `host` from the longest prefix to the
/// shortest and returns the first entry `accept` takes. Each step is one
/// longest-prefix-match on the trie, so nothing is collected or allocated.
fn most_specific<'a, P: Prefix>(
    map: &'a PrefixMap<P, Vec<BanEntry>>,
    host: P,
    accept: &mut impl FnMut(&BanEntry) -> bool,
) -> Option<&'a BanEntry> {
    let mut query = host;
    loop {
        let (found, entries) = map.get_lpm(&query)?;
        if let Some(entry) = entries.iter().find(|entry| accept(entry)) {
            return Some(entry);
        }
        let shorter = found.prefix_len().checked_sub(1)?;
        query = P::from_repr_len(found.repr(), shorter);
    }
}

/// A value computed on first use, so the clock is read at most once and only
/// when an entry needs it.
struct Lazy<F> {
    init: Option<F>,
    value: Option<DateTime<Utc>>,
}

impl<F: FnOnce() -> DateTime<Utc>> Lazy<F> {
    fn new(init: F) -> Self {
        Self {
            init: Some(init),
            value: None,
        }
    }

    fn get(&mut self) -> DateTime<Utc> {
        if let Some(value) = self.value {
            return value;
        }
        let value = self
            .init
            .take()
            .map_or(DateTime::<Utc>::MIN_UTC, |init| init());
        self.value = Some(value);
        value
    }
}
