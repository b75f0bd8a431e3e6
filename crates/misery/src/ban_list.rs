//! `BanList`: the current snapshot, swapped atomically, read without locks.

use std::net::IpAddr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use moderation_core::{Clock, SystemClock, UserId};

use crate::entry::{BanEntry, BanKind};
use crate::snapshot::BanSnapshot;

/// The ban list every request consults.
///
/// Holds an immutable [`BanSnapshot`] behind an atomic pointer: lookups load
/// it without locking, never await and allocate nothing;
/// [`replace`](Self::replace) builds a new snapshot aside and swaps it in, so
/// readers see either the old list or the new one, never a mix.
///
/// Cloning is cheap and every clone sees the same list.
#[derive(Debug, Clone)]
pub struct BanList {
    inner: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    snapshot: ArcSwap<BanSnapshot>,
    clock: Arc<dyn Clock>,
}

impl Default for BanList {
    fn default() -> Self {
        Self::new(Arc::new(SystemClock))
    }
}

impl BanList {
    /// An empty list reading "now" from `clock` to decide expiry.
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Arc::new(Shared {
                snapshot: ArcSwap::from_pointee(BanSnapshot::default()),
                clock,
            }),
        }
    }

    /// A list holding `entries`, reading "now" from `clock`.
    #[must_use]
    pub fn with_entries(
        clock: Arc<dyn Clock>,
        entries: impl IntoIterator<Item = BanEntry>,
    ) -> Self {
        let list = Self::new(clock);
        list.replace(entries);
        list
    }

    /// Replaces the whole list at once.
    ///
    /// The new snapshot is built aside, indexed for the clock's "now"
    /// ([`BanSnapshot::at`]), then swapped in: lookups running meanwhile use
    /// the previous one and never wait.
    pub fn replace(&self, entries: impl IntoIterator<Item = BanEntry>) {
        let snapshot = BanSnapshot::at(entries, self.inner.clock.now());
        tracing::debug!(entries = snapshot.len(), "ban list replaced");
        self.inner.snapshot.store(Arc::new(snapshot));
    }

    /// The earliest time an indexed entry of the current snapshot expires.
    ///
    /// Lookups stay exact after it, but each hit then reads the entry's
    /// expiry; [`drop_expired`](Self::drop_expired) rebuilds the index
    /// without the expired entries. [`BanRefresher::run`](crate::BanRefresher::run)
    /// does so at that time.
    #[must_use]
    pub fn next_expiry(&self) -> Option<DateTime<Utc>> {
        self.inner.snapshot.load().next_expiry()
    }

    /// Rebuilds the index without the entries expired by now, if any
    /// indexed entry has expired, and returns whether it did.
    ///
    /// The entries are kept (and shared with the previous snapshot); only
    /// the index is built, aside, then swapped in, unless the list was
    /// replaced meanwhile.
    pub fn drop_expired(&self) -> bool {
        let current = self.inner.snapshot.load_full();
        let now = self.inner.clock.now();
        if current.next_expiry().is_none_or(|at| now < at) {
            return false;
        }
        let rebuilt = Arc::new(current.rebuilt_at(now));
        let previous = self.inner.snapshot.compare_and_swap(&current, rebuilt);
        let swapped = Arc::ptr_eq(&*previous, &current);
        if swapped {
            tracing::debug!(entries = current.len(), "expired bans left the index");
        }
        swapped
    }

    /// The current snapshot, for iteration or many lookups in a row.
    #[must_use]
    pub fn snapshot(&self) -> Arc<BanSnapshot> {
        self.inner.snapshot.load_full()
    }

    /// The clock expiry is judged by.
    #[must_use]
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// Whether an active ban of `kind` covers the address or the user.
    ///
    /// This is the per-request check: no lock, no await, no allocation.
    #[must_use]
    pub fn is_banned(&self, ip: Option<IpAddr>, user: Option<&UserId>, kind: BanKind) -> bool {
        let snapshot = self.inner.snapshot.load();
        let clock = &self.inner.clock;
        ip.is_some_and(|ip| snapshot.covers(ip, kind, || clock.now()))
            || user.is_some_and(|user| snapshot.covers_user(user, kind, || clock.now()))
    }

    /// The active ban of `kind` covering the address or the user, user bans
    /// first; a copy, so it outlives later replacements.
    #[must_use]
    pub fn find(
        &self,
        ip: Option<IpAddr>,
        user: Option<&UserId>,
        kind: BanKind,
    ) -> Option<BanEntry> {
        let snapshot = self.inner.snapshot.load();
        let clock = &self.inner.clock;
        user.and_then(|user| snapshot.find_user(user, kind, || clock.now()))
            .or_else(|| ip.and_then(|ip| snapshot.find_ip(ip, kind, || clock.now())))
    }

    /// Whether `user` is hell-banned now.
    #[must_use]
    pub fn is_hellbanned(&self, user: &UserId) -> bool {
        self.is_banned(None, Some(user), BanKind::Hellban)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::BanTarget;
    use crate::network::parse_network;
    use chrono::{Duration, TimeZone};
    use moderation_core::ManualClock;

    fn at_noon() -> Arc<ManualClock> {
        Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap(),
        ))
    }

    fn entry(id: u64, target: &str, kind: BanKind, expires_in: Option<Duration>) -> BanEntry {
        let created_at = Utc.with_ymd_and_hms(2025, 1, 1, 12, 0, 0).unwrap();
        BanEntry {
            id,
            target: BanTarget::Network(parse_network(target).unwrap()),
            kind,
            reason: "trolling".to_owned(),
            created_by: UserId::from(1_i64),
            created_at,
            expires_at: expires_in.map(|d| created_at + d),
        }
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn canonical_ipv6_forms_match_each_other() {
        let list =
            BanList::with_entries(at_noon(), [entry(1, "2001:DB8::1", BanKind::Misery, None)]);
        assert!(list.is_banned(ip("2001:0db8:0:0:0:0:0:1"), None, BanKind::Misery));
        assert!(list.is_banned(ip("2001:db8::1"), None, BanKind::Misery));
        assert!(!list.is_banned(ip("2001:db8::2"), None, BanKind::Misery));
    }

    #[test]
    fn ipv4_entry_matches_ipv4_mapped_ipv6_address() {
        let list = BanList::with_entries(
            at_noon(),
            [entry(1, "203.0.113.0/24", BanKind::Misery, None)],
        );
        assert!(list.is_banned(ip("::ffff:203.0.113.7"), None, BanKind::Misery));
        assert!(list.is_banned(ip("203.0.113.7"), None, BanKind::Misery));
        assert!(!list.is_banned(ip("::ffff:203.0.114.7"), None, BanKind::Misery));
    }

    #[test]
    fn cidr_slash_eight_covers_its_addresses_only() {
        let list =
            BanList::with_entries(at_noon(), [entry(1, "83.0.0.0/8", BanKind::HardBan, None)]);
        assert!(list.is_banned(ip("83.1.2.3"), None, BanKind::HardBan));
        assert!(!list.is_banned(ip("183.1.2.3"), None, BanKind::HardBan));
    }

    #[test]
    fn expired_entries_never_match() {
        let clock = at_noon();
        let list = BanList::with_entries(
            clock.clone(),
            [entry(
                1,
                "203.0.113.7",
                BanKind::Misery,
                Some(Duration::hours(1)),
            )],
        );
        assert!(list.is_banned(ip("203.0.113.7"), None, BanKind::Misery));
        clock.advance(Duration::hours(1));
        assert!(!list.is_banned(ip("203.0.113.7"), None, BanKind::Misery));
        assert!(
            list.find(ip("203.0.113.7"), None, BanKind::Misery)
                .is_none()
        );
    }

    #[test]
    fn expired_specific_entry_does_not_hide_a_broader_active_one() {
        let list = BanList::with_entries(
            at_noon(),
            [
                entry(1, "203.0.113.7", BanKind::Misery, Some(Duration::zero())),
                entry(2, "203.0.0.0/16", BanKind::Misery, None),
            ],
        );
        assert_eq!(
            list.find(ip("203.0.113.7"), None, BanKind::Misery)
                .map(|e| e.id),
            Some(2)
        );
    }

    #[test]
    fn kinds_are_kept_apart_and_users_match_by_id() {
        let mut hell = entry(1, "10.0.0.1", BanKind::Hellban, None);
        hell.target = BanTarget::User(UserId::from(42_i64));
        let list = BanList::with_entries(at_noon(), [hell]);
        assert!(list.is_hellbanned(&UserId::from(42_i64)));
        assert!(!list.is_banned(None, Some(&UserId::from(42_i64)), BanKind::Misery));
        assert!(!list.is_hellbanned(&UserId::from(43_i64)));
    }
}
