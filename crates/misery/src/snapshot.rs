//! `BanSnapshot`: the immutable, indexed form of a ban list.
//!
//! Two parts, kept apart:
//!
//! - the entries themselves, column by column ([`Entries`]): ids, times as
//!   microseconds (creation times interned, expiry times only for the
//!   entries that expire), interned reasons and user ids, targets as
//!   integers. They
//!   are read only to answer [`BanSnapshot::find_ip`] and friends, never by
//!   the not-banned path;
//! - per ban kind and address family, a [`RangeIndex`] that answers "which
//!   entry covers this address" in a bounded number of memory reads.
//!
//! The index holds the entries in force when it was built and knows the
//! earliest time one of them expires. A hit on an entry that never expires
//! is the answer, with no clock read; a hit on one that expires reads the
//! clock once and, until that earliest expiry, is the answer too; after it, a hit is checked against the entry's
//! expiry, falling back to the next candidate (same network, then the
//! network around it), until [`BanSnapshot::rebuilt_at`] (which
//! [`BanList`] and [`BanRefresher`] call) builds a fresh index.
//!
//! A snapshot is never modified after it is built; [`BanList`] swaps whole
//! snapshots, so readers need no lock.
//!
//! [`BanList`]: crate::BanList
//! [`BanRefresher`]: crate::BanRefresher

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use moderation_core::UserId;

use crate::entry::{BanEntry, BanKind, BanTarget};
use crate::index::{NONE, Network, RangeIndex};

/// The number of ban kinds, one index each.
const KINDS: usize = 3;

/// `expires_at` of an entry that never expires.
const NEVER: i64 = i64::MAX;

/// Set in an index value when the entry answering there expires some day;
/// an index hit without it is an answer for good, read without a clock.
const EXPIRES: u32 = 1 << 31;

/// The most entries a snapshot holds: entry numbers are 31 bits, and
/// [`NONE`] is reserved.
const MAX_ENTRIES: usize = (EXPIRES - 1) as usize;

/// What a target is, in [`Entries::shape`] bits 8 and 9.
const USER: u16 = 0;
const V4: u16 = 1;
const V6: u16 = 2;

/// An immutable, indexed set of bans.
///
/// Built aside from a list of [`BanEntry`] values and swapped in whole by
/// [`BanList`](crate::BanList). Every lookup allocates nothing; a lookup
/// that finds no ban reads no clock.
///
/// Entry times are kept to the microsecond, as [`BanStore`](crate::BanStore)s
/// keep them, and network targets in their canonical form (host bits
/// cleared, IPv4-mapped IPv6 written as IPv4).
pub struct BanSnapshot {
    entries: Arc<Entries>,
    v4: [RangeIndex<u32>; KINDS],
    v6: [RangeIndex<u128>; KINDS],
    /// Per expiring entry (row by row with [`Entries::expiring`]), the entry
    /// that answers in its place once it expired.
    fallback: Box<[u32]>,
    /// The earliest expiry among indexed entries, in microseconds.
    next_expiry: i64,
}

impl Default for BanSnapshot {
    fn default() -> Self {
        Self::new([])
    }
}

impl fmt::Debug for BanSnapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BanSnapshot")
            .field("len", &self.len())
            .field("next_expiry", &self.next_expiry())
            .finish_non_exhaustive()
    }
}

impl BanSnapshot {
    /// Indexes `entries` for any time: every entry is in the index and
    /// lookups check expiry against the time they are given.
    ///
    /// Expired entries are kept (they never match) so a snapshot mirrors its
    /// store exactly. At most 2^31 - 1 entries are kept.
    #[must_use]
    pub fn new(entries: impl IntoIterator<Item = BanEntry>) -> Self {
        Self::index(Arc::new(Entries::new(entries)), None)
    }

    /// Indexes `entries` for `now` onwards: entries already expired at `now`
    /// are kept for [`entries`](Self::entries) but left out of the index, so
    /// they cost lookups nothing.
    ///
    /// The snapshot answers exactly for any time from `now` on; a clock set
    /// back before `now` does not revive the entries left out.
    #[must_use]
    pub fn at(entries: impl IntoIterator<Item = BanEntry>, now: DateTime<Utc>) -> Self {
        Self::index(Arc::new(Entries::new(entries)), Some(micros(now)))
    }

    /// The same entries indexed for `now` onwards, as [`at`](Self::at)
    /// would; the entries are shared with `self`, only the index is built.
    #[must_use]
    pub fn rebuilt_at(&self, now: DateTime<Utc>) -> Self {
        Self::index(Arc::clone(&self.entries), Some(micros(now)))
    }

    fn index(entries: Arc<Entries>, now: Option<i64>) -> Self {
        let mut v4: [Vec<Network<u32>>; KINDS] = Default::default();
        let mut v6: [Vec<Network<u128>>; KINDS] = Default::default();
        let mut next_expiry = NEVER;
        for (number, shape) in entries.shape.iter().enumerate() {
            let Some(&target) = entries.target.get(number) else {
                continue;
            };
            let entry = narrow(number);
            let expires = entries.expires_at(entry);
            if now.is_some_and(|now| expires <= now) || family(*shape) == USER {
                continue;
            }
            next_expiry = next_expiry.min(expires);
            let (kind, len) = (kind_index(*shape), prefix_len(*shape));
            if family(*shape) == V4 {
                if let Some(list) = v4.get_mut(kind) {
                    list.push(Network {
                        start: target,
                        len,
                        entry,
                    });
                }
            } else if let (Some(list), Some(&start)) =
                (v6.get_mut(kind), entries.v6.get(target as usize))
            {
                list.push(Network { start, len, entry });
            }
        }
        let mut fallback = vec![NONE; entries.expiring.len()].into_boxed_slice();
        let mut link = |entry: u32, next: u32| {
            if let Some(slot) = entries
                .expiring_row(entry)
                .and_then(|row| fallback.get_mut(row))
            {
                *slot = next;
            }
        };
        let value = |entry: u32| {
            if entries.expiring_row(entry).is_some() {
                entry | EXPIRES
            } else {
                entry
            }
        };
        let v4 = v4.map(|networks| RangeIndex::build(networks, value, &mut link));
        let v6 = v6.map(|networks| RangeIndex::build(networks, value, &mut link));
        Self {
            entries,
            v4,
            v6,
            fallback,
            next_expiry,
        }
    }

    /// How many entries the snapshot holds, expired ones included.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the snapshot holds no entry at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The earliest time an indexed entry expires: from then on, hits are
    /// checked entry by entry until the snapshot is
    /// [rebuilt](Self::rebuilt_at). `None` when no indexed entry expires.
    #[must_use]
    pub fn next_expiry(&self) -> Option<DateTime<Utc>> {
        (self.next_expiry != NEVER).then(|| from_micros(self.next_expiry))
    }

    /// Heap bytes held by the index and the entries (interned texts
    /// included), not counting a [decoded](Self::entries) copy.
    #[must_use]
    pub fn heap_bytes(&self) -> usize {
        self.entries.heap_bytes()
            + size_of_val(&*self.fallback)
            + self.v4.iter().map(RangeIndex::heap_bytes).sum::<usize>()
            + self.v6.iter().map(RangeIndex::heap_bytes).sum::<usize>()
    }

    /// Whether an active ban of `kind` covers `ip`.
    ///
    /// A bounded number of memory reads and no allocation, banned or not;
    /// `now` is only called when the entry covering the address expires
    /// some day.
    pub fn covers(&self, ip: IpAddr, kind: BanKind, now: impl FnOnce() -> DateTime<Utc>) -> bool {
        self.active_for(ip, kind, now) != NONE
    }

    /// The active ban of `kind` covering `ip`, most specific network first
    /// (the first given, among entries on the same network).
    ///
    /// `now` is only called when some entry covers the address, so the
    /// not-banned path reads no clock. Allocates only the returned copy.
    pub fn find_ip(
        &self,
        ip: IpAddr,
        kind: BanKind,
        now: impl FnOnce() -> DateTime<Utc>,
    ) -> Option<BanEntry> {
        self.entries.decode(self.active_for(ip, kind, now))
    }

    /// The entry number of the active ban of `kind` covering `ip`, or [`NONE`].
    fn active_for(&self, ip: IpAddr, kind: BanKind, now: impl FnOnce() -> DateTime<Utc>) -> u32 {
        let kind = kind as usize;
        let hit = match ip.to_canonical() {
            IpAddr::V4(v4) => self
                .v4
                .get(kind)
                .map_or(NONE, |index| index.lookup(u32::from(v4))),
            IpAddr::V6(v6) => self
                .v6
                .get(kind)
                .map_or(NONE, |index| index.lookup(u128::from(v6))),
        };
        if hit == NONE || hit & EXPIRES == 0 {
            return hit;
        }
        let hit = hit & !EXPIRES;
        let now = micros(now());
        if now < self.next_expiry {
            return hit;
        }
        // Some indexed entries may have expired: take the first candidate,
        // from the most specific one out, that has not.
        let mut candidate = hit;
        while candidate != NONE {
            let Some(row) = self.entries.expiring_row(candidate) else {
                return candidate;
            };
            match self.entries.expiring.get(row) {
                Some(&(_, expires)) if now < expires => return candidate,
                Some(_) => {}
                None => return NONE,
            }
            candidate = self.fallback.get(row).copied().unwrap_or(NONE);
        }
        NONE
    }

    /// Whether an active ban of `kind` is on `user`. Allocates nothing.
    pub fn covers_user(
        &self,
        user: &UserId,
        kind: BanKind,
        now: impl FnOnce() -> DateTime<Utc>,
    ) -> bool {
        self.active_for_user(user, kind, now) != NONE
    }

    /// The active ban of `kind` on `user`, the first given if several.
    /// Allocates only the returned copy.
    pub fn find_user(
        &self,
        user: &UserId,
        kind: BanKind,
        now: impl FnOnce() -> DateTime<Utc>,
    ) -> Option<BanEntry> {
        self.entries.decode(self.active_for_user(user, kind, now))
    }

    fn active_for_user(
        &self,
        user: &UserId,
        kind: BanKind,
        now: impl FnOnce() -> DateTime<Utc>,
    ) -> u32 {
        let Some(numbers) = self.entries.user_bans.get(user) else {
            return NONE;
        };
        let now = micros(now());
        numbers
            .iter()
            .copied()
            .find(|&number| self.entries.is_active(number, kind, now))
            .unwrap_or(NONE)
    }

    /// The users under an active ban of `kind` at `now`, each once, in no
    /// particular order. Walks the user bans only, not the networks.
    pub fn users_banned(&self, kind: BanKind, now: DateTime<Utc>) -> impl Iterator<Item = &UserId> {
        let now = micros(now);
        self.entries
            .user_bans
            .iter()
            .filter_map(move |(user, numbers)| {
                numbers
                    .iter()
                    .any(|&number| self.entries.is_active(number, kind, now))
                    .then_some(user)
            })
    }

    /// Every entry, in no particular order.
    ///
    /// The entries are kept in a compact form; the first call decodes all of
    /// them once and keeps the decoded list as long as the snapshot (or a
    /// [rebuilt](Self::rebuilt_at) one) lives, so listing a large snapshot
    /// costs about a `BanEntry` of memory per ban from then on.
    pub fn entries(&self) -> impl Iterator<Item = &BanEntry> {
        self.entries
            .decoded
            .get_or_init(|| {
                (0..self.entries.len())
                    .filter_map(|number| self.entries.decode(narrow(number)))
                    .collect()
            })
            .iter()
    }
}

/// Entries column by column; entry `n` is row `n` of every column.
struct Entries {
    ids: Ids,
    /// Into `times`.
    created_at: Box<[u32]>,
    /// Creation times, in microseconds since the Unix epoch: an import
    /// gives many entries the same one.
    times: Box<[i64]>,
    /// The entries that expire and when, in microseconds since the Unix
    /// epoch, by entry number.
    expiring: Box<[(u32, i64)]>,
    /// Into `reasons`.
    reason: Box<[u32]>,
    /// Into `users`.
    created_by: Box<[u32]>,
    /// The IPv4 network address, an index into `v6`, or one into `users`.
    target: Box<[u32]>,
    /// The kind (bits 10 and 11), the target family (bits 8 and 9) and the
    /// prefix length (bits 0 to 7).
    shape: Box<[u16]>,
    v6: Box<[u128]>,
    reasons: Box<[Box<str>]>,
    users: Box<[UserId]>,
    /// The entries on each banned user, in the order given.
    user_bans: HashMap<UserId, Box<[u32]>>,
    decoded: OnceLock<Box<[BanEntry]>>,
}

impl Entries {
    fn new(entries: impl IntoIterator<Item = BanEntry>) -> Self {
        let entries = entries.into_iter();
        let capacity = entries.size_hint().0.min(MAX_ENTRIES);
        let mut columns = Columns::with_capacity(capacity);
        for (count, entry) in entries.enumerate() {
            if count == MAX_ENTRIES {
                tracing::warn!(
                    kept = MAX_ENTRIES,
                    "ban list too long; the entries beyond are ignored"
                );
                break;
            }
            columns.push(entry);
        }
        columns.finish()
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    /// Where entry `number` is in `expiring`, if it expires.
    fn expiring_row(&self, number: u32) -> Option<usize> {
        self.expiring
            .binary_search_by_key(&number, |&(entry, _)| entry)
            .ok()
    }

    /// When entry `number` expires, [`NEVER`] if it does not.
    fn expires_at(&self, number: u32) -> i64 {
        self.expiring_row(number)
            .and_then(|row| self.expiring.get(row))
            .map_or(NEVER, |&(_, expires)| expires)
    }

    fn is_active(&self, number: u32, kind: BanKind, now: i64) -> bool {
        let number = number as usize;
        self.shape
            .get(number)
            .is_some_and(|&shape| kind_index(shape) == kind as usize)
            && now < self.expires_at(narrow(number))
    }

    /// Entry `number` as a [`BanEntry`]; `None` for [`NONE`].
    fn decode(&self, number: u32) -> Option<BanEntry> {
        let at = number as usize;
        let shape = *self.shape.get(at)?;
        let payload = *self.target.get(at)?;
        let target = match family(shape) {
            V4 => BanTarget::Network(IpNet::V4(
                Ipv4Net::new(Ipv4Addr::from(payload), prefix_len(shape)).ok()?,
            )),
            V6 => BanTarget::Network(IpNet::V6(
                Ipv6Net::new(
                    Ipv6Addr::from(*self.v6.get(payload as usize)?),
                    prefix_len(shape),
                )
                .ok()?,
            )),
            _ => BanTarget::User(self.users.get(payload as usize)?.clone()),
        };
        let expires = self.expires_at(number);
        Some(BanEntry {
            id: self.ids.get(at)?,
            target,
            kind: kind_of(shape),
            reason: self
                .reasons
                .get(*self.reason.get(at)? as usize)?
                .to_string(),
            created_by: self.users.get(*self.created_by.get(at)? as usize)?.clone(),
            created_at: from_micros(*self.times.get(*self.created_at.get(at)? as usize)?),
            expires_at: (expires != NEVER).then(|| from_micros(expires)),
        })
    }

    fn heap_bytes(&self) -> usize {
        let texts: usize = self.reasons.iter().map(|reason| reason.len()).sum();
        let users: usize = self.users.iter().map(|user| user.as_str().len()).sum();
        let user_bans: usize = self
            .user_bans
            .iter()
            .map(|(user, numbers)| user.as_str().len() + size_of_val(&**numbers))
            .sum::<usize>()
            + self.user_bans.capacity() * size_of::<(UserId, Box<[u32]>)>();
        self.ids.heap_bytes()
            + size_of_val(&*self.created_at)
            + size_of_val(&*self.times)
            + size_of_val(&*self.expiring)
            + size_of_val(&*self.reason)
            + size_of_val(&*self.created_by)
            + size_of_val(&*self.target)
            + size_of_val(&*self.shape)
            + size_of_val(&*self.v6)
            + size_of_val(&*self.reasons)
            + texts
            + size_of_val(&*self.users)
            + users
            + user_bans
    }
}

/// The columns while they are filled.
struct Columns {
    ids: Vec<u64>,
    created_at: Vec<u32>,
    times: Interner<i64>,
    expiring: Vec<(u32, i64)>,
    reason: Vec<u32>,
    created_by: Vec<u32>,
    target: Vec<u32>,
    shape: Vec<u16>,
    v6: Vec<u128>,
    reasons: Interner<String>,
    users: Interner<UserId>,
    user_bans: HashMap<UserId, Vec<u32>>,
}

impl Columns {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            ids: Vec::with_capacity(capacity),
            created_at: Vec::with_capacity(capacity),
            times: Interner::default(),
            expiring: Vec::new(),
            reason: Vec::with_capacity(capacity),
            created_by: Vec::with_capacity(capacity),
            target: Vec::with_capacity(capacity),
            shape: Vec::with_capacity(capacity),
            v6: Vec::new(),
            reasons: Interner::default(),
            users: Interner::default(),
            user_bans: HashMap::new(),
        }
    }

    fn push(&mut self, entry: BanEntry) {
        let number = narrow(self.ids.len());
        let (family, len, target) = match entry.canonical_target() {
            BanTarget::User(user) => {
                self.user_bans.entry(user.clone()).or_default().push(number);
                (USER, 0, self.users.intern(user))
            }
            BanTarget::Network(IpNet::V4(net)) => (V4, net.prefix_len(), u32::from(net.network())),
            BanTarget::Network(IpNet::V6(net)) => {
                self.v6.push(u128::from(net.network()));
                (V6, net.prefix_len(), narrow(self.v6.len() - 1))
            }
        };
        self.ids.push(entry.id);
        self.created_at
            .push(self.times.intern(micros(entry.created_at)));
        if let Some(expires) = entry.expires_at {
            self.expiring.push((number, micros(expires)));
        }
        self.reason.push(self.reasons.intern(entry.reason));
        self.created_by.push(self.users.intern(entry.created_by));
        self.target.push(target);
        self.shape
            .push(((entry.kind as u16) << 10) | (family << 8) | u16::from(len));
    }

    fn finish(self) -> Entries {
        Entries {
            ids: Ids::new(self.ids),
            created_at: self.created_at.into_boxed_slice(),
            times: self.times.into_table().into_boxed_slice(),
            expiring: self.expiring.into_boxed_slice(),
            reason: self.reason.into_boxed_slice(),
            created_by: self.created_by.into_boxed_slice(),
            target: self.target.into_boxed_slice(),
            shape: self.shape.into_boxed_slice(),
            v6: self.v6.into_boxed_slice(),
            reasons: self
                .reasons
                .into_table()
                .into_iter()
                .map(String::into_boxed_str)
                .collect(),
            users: self.users.into_table().into_boxed_slice(),
            user_bans: self
                .user_bans
                .into_iter()
                .map(|(user, numbers)| (user, numbers.into_boxed_slice()))
                .collect(),
            decoded: OnceLock::new(),
        }
    }
}

/// The store's ids, in 32 bits each when they all fit (as a store's
/// sequence numbers usually do), else in 64.
enum Ids {
    Narrow(Box<[u32]>),
    Wide(Box<[u64]>),
}

impl Ids {
    fn new(ids: Vec<u64>) -> Self {
        if ids.iter().all(|&id| u32::try_from(id).is_ok()) {
            Self::Narrow(
                ids.into_iter()
                    .map(|id| u32::try_from(id).unwrap_or_default())
                    .collect(),
            )
        } else {
            Self::Wide(ids.into_boxed_slice())
        }
    }

    fn len(&self) -> usize {
        match self {
            Self::Narrow(ids) => ids.len(),
            Self::Wide(ids) => ids.len(),
        }
    }

    fn get(&self, at: usize) -> Option<u64> {
        match self {
            Self::Narrow(ids) => ids.get(at).map(|&id| u64::from(id)),
            Self::Wide(ids) => ids.get(at).copied(),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Self::Narrow(ids) => size_of_val(&**ids),
            Self::Wide(ids) => size_of_val(&**ids),
        }
    }
}

/// Equal values stored once, numbered in order of first appearance.
struct Interner<T> {
    numbers: HashMap<T, u32>,
}

impl<T> Default for Interner<T> {
    fn default() -> Self {
        Self {
            numbers: HashMap::new(),
        }
    }
}

impl<T: Hash + Eq> Interner<T> {
    fn intern(&mut self, value: T) -> u32 {
        let next = narrow(self.numbers.len());
        *self.numbers.entry(value).or_insert(next)
    }

    fn into_table(self) -> Vec<T> {
        let mut table: Vec<Option<T>> = Vec::with_capacity(self.numbers.len());
        table.resize_with(self.numbers.len(), || None);
        for (value, number) in self.numbers {
            if let Some(slot) = table.get_mut(number as usize) {
                *slot = Some(value);
            }
        }
        table.into_iter().flatten().collect()
    }
}

fn kind_index(shape: u16) -> usize {
    usize::from(shape >> 10)
}

fn kind_of(shape: u16) -> BanKind {
    match shape >> 10 {
        0 => BanKind::Misery,
        1 => BanKind::Hellban,
        _ => BanKind::HardBan,
    }
}

fn family(shape: u16) -> u16 {
    (shape >> 8) & 0b11
}

fn prefix_len(shape: u16) -> u8 {
    // The low byte.
    (shape & 0xff) as u8
}

/// An entry number: there are at most [`MAX_ENTRIES`] of them.
fn narrow(number: usize) -> u32 {
    u32::try_from(number).unwrap_or(NONE)
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn from_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_network;
    use chrono::{Duration, TimeZone};

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap()
    }

    fn ban(id: u64, target: &str, kind: BanKind, expires_in: Option<Duration>) -> BanEntry {
        BanEntry {
            id,
            target: BanTarget::Network(parse_network(target).unwrap()),
            kind,
            reason: format!("reason {}", id % 2),
            created_by: UserId::from(1_i64),
            created_at: noon(),
            expires_at: expires_in.map(|d| noon() + d),
        }
    }

    #[test]
    fn entries_decode_to_what_was_given() {
        let mut user = ban(3, "10.0.0.1", BanKind::Hellban, None);
        user.target = BanTarget::User(UserId::from(9_i64));
        let given = vec![
            ban(
                1,
                "203.0.113.0/24",
                BanKind::Misery,
                Some(Duration::hours(2)),
            ),
            ban(2, "2001:db8::/48", BanKind::HardBan, None),
            user,
        ];
        let snapshot = BanSnapshot::at(given.clone(), noon());
        let mut back: Vec<BanEntry> = snapshot.entries().cloned().collect();
        back.sort_by_key(|entry| entry.id);
        assert_eq!(back, given);
        assert_eq!(snapshot.next_expiry(), Some(noon() + Duration::hours(2)));
        assert_eq!(snapshot.entries.reasons.len(), 2);
    }

    #[test]
    fn ids_beyond_32_bits_are_kept_whole() {
        let given = vec![
            ban(u64::MAX, "203.0.113.0/24", BanKind::Misery, None),
            ban(7, "198.51.100.0/24", BanKind::Misery, None),
        ];
        let snapshot = BanSnapshot::new(given.clone());
        let mut back: Vec<BanEntry> = snapshot.entries().cloned().collect();
        back.sort_by_key(|entry| entry.id);
        assert_eq!(back, [given[1].clone(), given[0].clone()]);
    }

    #[test]
    fn entries_expired_at_build_leave_the_index_and_next_expiry() {
        let snapshot = BanSnapshot::at(
            [
                ban(1, "203.0.113.7", BanKind::Misery, Some(Duration::zero())),
                ban(2, "203.0.113.0/24", BanKind::Misery, None),
            ],
            noon(),
        );
        assert_eq!(snapshot.next_expiry(), None);
        assert_eq!(
            snapshot
                .find_ip("203.0.113.7".parse().unwrap(), BanKind::Misery, noon)
                .map(|entry| entry.id),
            Some(2)
        );
        assert_eq!(snapshot.len(), 2);
    }

    #[test]
    fn a_stale_index_falls_back_until_rebuilt() {
        let entries = [
            ban(1, "203.0.113.7", BanKind::Misery, Some(Duration::hours(1))),
            ban(2, "203.0.113.7", BanKind::Misery, Some(Duration::hours(2))),
            ban(3, "203.0.0.0/16", BanKind::Misery, Some(Duration::hours(3))),
        ];
        let snapshot = BanSnapshot::at(entries, noon());
        let ip = "203.0.113.7".parse().unwrap();
        let at = |hours| move || noon() + Duration::hours(hours);
        let found = |snapshot: &BanSnapshot, hours| {
            snapshot
                .find_ip(ip, BanKind::Misery, at(hours))
                .map(|entry| entry.id)
        };
        assert_eq!(found(&snapshot, 0), Some(1));
        assert_eq!(found(&snapshot, 1), Some(2));
        assert_eq!(found(&snapshot, 2), Some(3));
        assert_eq!(found(&snapshot, 3), None);
        let rebuilt = snapshot.rebuilt_at(noon() + Duration::hours(2));
        assert_eq!(rebuilt.next_expiry(), Some(noon() + Duration::hours(3)));
        assert_eq!(found(&rebuilt, 2), Some(3));
        assert!(!rebuilt.covers(ip, BanKind::Misery, at(3)));
    }
}
