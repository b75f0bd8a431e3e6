//! Scenarios for moderation-audit-trail's [`AuditStore`] port. Each takes a
//! fresh, empty store; run them with
//! [`store_scenarios!`](crate::store_scenarios) and
//! `port = dyn AuditStore, memory = MemoryAuditStore::new()`.
//!
//! Store errors are returned as [`ModerationError::Store`] so the scenarios
//! share the runners of the other ports.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use ipnet::{IpNet, Ipv6Net};
use moderation_audit_trail::{
    AuditError, AuditQuery, AuditRecord, AuditStore, IpHasher, IpRange, NewAuditRecord,
    PrivacyMode, RecordedIp,
};
use moderation_core::{Clock, Kind, ModerationError, ObjectId, ObjectRef, SystemClock, UserId};

use super::ScenarioResult;

/// An audit error as the scenarios' error type.
fn audit(error: AuditError) -> ModerationError {
    ModerationError::store(error)
}

/// A record of `action` by `actor` on forum post `post` from `ip` at `at`.
///
/// # Errors
/// Never in practice: the kind name is valid.
pub fn record(
    actor: Option<i64>,
    ip: Option<RecordedIp>,
    post: i64,
    at: DateTime<Utc>,
) -> Result<NewAuditRecord, ModerationError> {
    Ok(NewAuditRecord {
        actor: actor.map(UserId::from),
        ip,
        target: ObjectRef::new(Kind::new("forum.post")?, post),
        action: "post.create".to_owned(),
        detail: serde_json::json!({"words": post, "title": "Grüße ✉"}),
        at,
    })
}

/// An address as the full privacy mode stores it.
fn addr(ip: IpAddr) -> Option<RecordedIp> {
    Some(RecordedIp::address(ip))
}

/// Every record matching `query`, page by page (`size` per page).
///
/// # Errors
/// A store error.
pub async fn read_all(
    store: &dyn AuditStore,
    query: &AuditQuery,
    size: u32,
) -> Result<Vec<AuditRecord>, ModerationError> {
    super::read_pages(size, |page| async move {
        store.records(query, page).await.map_err(audit)
    })
    .await
}

/// Newest first on `(at, id)`: the order every listing uses.
fn newest_first(records: &mut [AuditRecord]) {
    records.sort_by_key(|r| std::cmp::Reverse((r.at, r.id)));
}

/// Records of every shape (IPv4, IPv6, keyed hash, no IP, anonymous, odd
/// object ids, a non-zero microsecond part) read back equal, with ids
/// increasing in input order.
///
/// # Errors
/// An unexpected store error.
pub async fn insert_round_trips(store: Arc<dyn AuditStore>) -> ScenarioResult {
    let at = SystemClock.now() + Duration::microseconds(7);
    let hasher = IpHasher::new([9_u8; 32]).map_err(audit)?;
    let keyed = PrivacyMode::Keyed(hasher).protect(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)));
    let mut batch = vec![
        record(
            Some(1),
            addr(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7))),
            1,
            at,
        )?,
        record(
            Some(2),
            addr(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))),
            2,
            at,
        )?,
        record(Some(3), Some(keyed), 3, at)?,
        record(Some(4), None, 4, at)?,
        record(
            None,
            addr(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1))),
            5,
            at,
        )?,
    ];
    let mut odd = record(Some(5), None, 6, at)?;
    odd.target.id = ObjectId::string("slug/with spaces & ünïcode")?;
    batch.push(odd);
    let mut uuid = record(Some(6), None, 7, at)?;
    uuid.target.id = ObjectId::Uuid(uuid::Uuid::new_v4());
    batch.push(uuid);
    let stored = store.insert(batch.clone()).await.map_err(audit)?;
    assert_eq!(stored.len(), batch.len());
    let mut last = 0;
    for (new, got) in batch.into_iter().zip(&stored) {
        assert!(got.id > last, "ids increase in input order");
        last = got.id;
        assert_eq!(*got, new.stored(got.id));
    }
    let mut expected = stored;
    newest_first(&mut expected);
    assert_eq!(
        read_all(&*store, &AuditQuery::default(), 3).await?,
        expected
    );
    assert!(store.insert(Vec::new()).await.map_err(audit)?.is_empty());
    Ok(())
}

/// A batch with one invalid record is refused with a typed error and
/// nothing of it is written.
///
/// # Errors
/// An unexpected store error.
pub async fn invalid_batch_writes_nothing(store: Arc<dyn AuditStore>) -> ScenarioResult {
    let at = SystemClock.now();
    let mut bad_action = record(Some(1), None, 1, at)?;
    bad_action.action = "Post Create; DROP TABLE audit_records".to_owned();
    let mut bad_id = record(Some(1), None, 1, at)?;
    bad_id.target.id = ObjectId::Str(String::new());
    for bad in [bad_action, bad_id] {
        let batch = vec![record(Some(1), None, 2, at)?, bad];
        let result = store.insert(batch).await;
        assert!(matches!(result, Err(AuditError::Invalid(_))), "{result:?}");
    }
    assert!(
        read_all(&*store, &AuditQuery::default(), 10)
            .await?
            .is_empty()
    );
    Ok(())
}

/// Pages are newest first on `(at, id)`; records sharing one timestamp are
/// split across pages without loss or repetition.
///
/// # Errors
/// An unexpected store error.
pub async fn pages_newest_first_without_loss(store: Arc<dyn AuditStore>) -> ScenarioResult {
    let base = SystemClock.now();
    let batch = (0..10_i64)
        .map(|n| record(Some(n % 2), None, n, base + Duration::seconds(n / 4)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut stored = store.insert(batch).await.map_err(audit)?;
    newest_first(&mut stored);
    for size in [1, 3, 4, 100] {
        assert_eq!(
            read_all(&*store, &AuditQuery::default(), size).await?,
            stored
        );
    }
    Ok(())
}

/// Filters by actor, IP, target and time window (since inclusive, until
/// exclusive), alone and together, keep exactly the matching records.
///
/// # Errors
/// An unexpected store error.
pub async fn filters_select_exactly(store: Arc<dyn AuditStore>) -> ScenarioResult {
    let base = SystemClock.now();
    let ips = [
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)),
        IpAddr::V4(Ipv4Addr::new(203, 0, 113, 8)),
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 5)),
    ];
    let batch = (0..24_i64)
        .map(|n| {
            let ip = ips
                .get(usize::try_from(n).unwrap_or(0) % ips.len())
                .copied();
            record(
                Some(n % 4),
                ip.and_then(addr),
                n % 5,
                base + Duration::seconds(n),
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let stored = store.insert(batch).await.map_err(audit)?;
    let post = |n: i64| Ok::<_, ModerationError>(ObjectRef::new(Kind::new("forum.post")?, n));
    let queries = [
        AuditQuery::by_actor(UserId::from(1_i64)),
        AuditQuery::by_target(post(2)?),
        AuditQuery::by_ip(IpRange::exact(&RecordedIp::address(
            ips.first()
                .copied()
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))),
        AuditQuery::by_ip(IpRange::network(IpNet::V4(
            "203.0.113.0/24".parse().map_err(ModerationError::store)?,
        ))),
        AuditQuery::default().between(base + Duration::seconds(5), base + Duration::seconds(11)),
        AuditQuery {
            actor: Some(UserId::from(3_i64)),
            ip: Some(IpRange::network(IpNet::V6(
                "2001:db8:1::/48".parse().map_err(ModerationError::store)?,
            ))),
            target: Some(post(3)?),
            since: Some(base),
            until: Some(base + Duration::seconds(24)),
        },
    ];
    for query in queries {
        let mut expected: Vec<AuditRecord> = stored
            .iter()
            .filter(|r| query.matches(r))
            .cloned()
            .collect();
        newest_first(&mut expected);
        assert!(
            !expected.is_empty(),
            "each query matches something: {query:?}"
        );
        assert_eq!(read_all(&*store, &query, 2).await?, expected, "{query:?}");
    }
    Ok(())
}

/// A small deterministic generator (xorshift64), so every backend sees the
/// same "random" population without a dependency.
#[derive(Debug)]
struct Scatter(u64);

impl Scatter {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Addresses in a few clusters, IPv4 and IPv6, so networks cover some.
    fn address(&mut self) -> IpAddr {
        let n = self.next();
        match n % 3 {
            0 => IpAddr::V4(Ipv4Addr::new(
                203,
                (n >> 8) as u8 % 4,
                (n >> 16) as u8,
                (n >> 24) as u8,
            )),
            1 => IpAddr::V4(Ipv4Addr::from((n >> 32) as u32)),
            _ => IpAddr::V6(Ipv6Addr::from(
                (0x2001_0db8_u128 << 96)
                    | (u128::from((n >> 8) % 4) << 80)
                    | u128::from(self.next()),
            )),
        }
    }
}

/// True when `network` covers `ip`: an IPv4 address counts as its
/// IPv4-mapped IPv6 address, as the trail's keys do.
fn covers(network: IpNet, ip: IpAddr) -> bool {
    let mapped = |ip: IpAddr| match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    let net = match network {
        IpNet::V4(v4) => Ipv6Net::new(v4.addr().to_ipv6_mapped(), v4.prefix_len() + 96).ok(),
        IpNet::V6(v6) => Some(v6),
    };
    net.is_some_and(|net| net.contains(&mapped(ip)))
}

/// CIDR queries find exactly the addresses a network covers, for networks
/// of every prefix length around generated addresses.
///
/// # Errors
/// An unexpected store error.
pub async fn cidr_finds_exactly_the_covered(store: Arc<dyn AuditStore>) -> ScenarioResult {
    let mut scatter = Scatter(0x9e37_79b9_7f4a_7c15);
    let at = SystemClock.now();
    let ips: Vec<IpAddr> = (0..300).map(|_| scatter.address()).collect();
    let batch = ips
        .iter()
        .zip(0_i64..)
        .map(|(ip, n)| record(Some(n), addr(*ip), n, at))
        .collect::<Result<Vec<_>, _>>()?;
    store.insert(batch).await.map_err(audit)?;
    for round in 0..60_u8 {
        let center = scatter.address();
        let max = if center.is_ipv4() { 32 } else { 128 };
        let len = (scatter.next() % (max + 1)) as u8;
        let network = IpNet::new(center, len)
            .map_err(ModerationError::store)?
            .trunc();
        let found: BTreeSet<i64> = read_all(
            &*store,
            &AuditQuery::by_ip(IpRange::network(network)),
            1_000,
        )
        .await?
        .iter()
        .filter_map(|r| r.actor.as_ref().and_then(|a| a.as_str().parse().ok()))
        .collect();
        let expected: BTreeSet<i64> = ips
            .iter()
            .zip(0_i64..)
            .filter(|(ip, _)| covers(network, **ip))
            .map(|(_, n)| n)
            .collect();
        assert_eq!(found, expected, "round {round}: {network}");
    }
    Ok(())
}

/// Sock puppets: a pair sharing three address groups (two IPv6 addresses
/// in one /64 count once) ranks above accounts sharing one, however often;
/// records outside the window and the user's own do not count.
///
/// # Errors
/// An unexpected store error.
pub async fn sock_puppets_rank_by_shared_then_overlap(
    store: Arc<dyn AuditStore>,
) -> ScenarioResult {
    let now = SystemClock.now();
    let v4 = |d: u8| addr(IpAddr::V4(Ipv4Addr::new(198, 51, 100, d)));
    let v6 = |p: u16, low: u16| addr(IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, p, 0, 0, 0, 0, low)));
    let mut batch = vec![
        // The suspect, account 1.
        record(Some(1), v4(1), 1, now)?,
        record(Some(1), v4(2), 1, now)?,
        record(Some(1), v6(7, 1), 1, now)?,
        // The puppet: the same three groups.
        record(Some(2), v4(1), 2, now)?,
        record(Some(2), v4(2), 2, now)?,
        record(Some(2), v6(7, 0xbeef), 2, now)?,
        record(Some(2), v6(7, 0xcafe), 2, now)?,
        // A café regular: one shared address, many times.
        // Two accounts tied on both counts rank by user id.
        record(Some(9), v4(2), 9, now)?,
        record(Some(8), v4(2), 8, now)?,
        // Outside the window.
        record(Some(5), v4(1), 5, now - Duration::days(40))?,
        record(Some(5), v4(2), 5, now - Duration::days(40))?,
        // Anonymous records from a shared address never rank.
        record(None, v4(1), 6, now)?,
    ];
    for _ in 0..5 {
        batch.push(record(Some(3), v4(1), 3, now)?);
    }
    store.insert(batch).await.map_err(audit)?;
    let since = now - Duration::days(30);
    let until = now + Duration::seconds(1);
    let ranked = store
        .sock_puppets(&UserId::from(1_i64), since, until, 10)
        .await
        .map_err(audit)?;
    let summary: Vec<(String, u64, u64)> = ranked
        .iter()
        .map(|p| (p.user.as_str().to_owned(), p.shared_addresses, p.overlap))
        .collect();
    let expected = vec![
        ("2".to_owned(), 3, 4),
        ("3".to_owned(), 1, 5),
        ("8".to_owned(), 1, 1),
        ("9".to_owned(), 1, 1),
    ];
    assert_eq!(summary, expected);
    let top = store
        .sock_puppets(&UserId::from(1_i64), since, until, 1)
        .await
        .map_err(audit)?;
    assert_eq!(top.len(), 1);
    let nobody = store
        .sock_puppets(&UserId::from(42_i64), since, until, 10)
        .await
        .map_err(audit)?;
    assert!(nobody.is_empty());
    Ok(())
}

/// `delete_older` removes the oldest records at or before the cut-off, at
/// most `limit` per call, and never one after it; `count_older` agrees.
///
/// # Errors
/// An unexpected store error.
pub async fn delete_older_stops_at_the_cutoff(store: Arc<dyn AuditStore>) -> ScenarioResult {
    let cutoff = SystemClock.now() - Duration::days(30);
    let offsets = [-5_000_000_i64, -2, -1, 0, 0, 1, 2, 5_000_000];
    let batch = offsets
        .iter()
        .zip(0_i64..)
        .map(|(offset, n)| record(Some(n), None, n, cutoff + Duration::microseconds(*offset)))
        .collect::<Result<Vec<_>, _>>()?;
    let stored = store.insert(batch).await.map_err(audit)?;
    assert_eq!(store.count_older(cutoff).await.map_err(audit)?, 5);
    assert_eq!(store.delete_older(cutoff, 2).await.map_err(audit)?, 2);
    assert_eq!(store.count_older(cutoff).await.map_err(audit)?, 3);
    assert_eq!(store.delete_older(cutoff, 2).await.map_err(audit)?, 2);
    assert_eq!(store.delete_older(cutoff, 2).await.map_err(audit)?, 1);
    assert_eq!(store.delete_older(cutoff, 2).await.map_err(audit)?, 0);
    let mut expected: Vec<AuditRecord> = stored.into_iter().filter(|r| r.at > cutoff).collect();
    newest_first(&mut expected);
    assert_eq!(
        read_all(&*store, &AuditQuery::default(), 10).await?,
        expected
    );
    Ok(())
}

/// `delete_actor` removes every record of one user and nobody else's.
///
/// # Errors
/// An unexpected store error.
pub async fn delete_actor_removes_only_theirs(store: Arc<dyn AuditStore>) -> ScenarioResult {
    let at = SystemClock.now();
    let batch = (0..9_i64)
        .map(|n| {
            record(
                Some(n % 3),
                addr(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 1))),
                n,
                at,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    store.insert(batch).await.map_err(audit)?;
    assert_eq!(
        store
            .delete_actor(&UserId::from(1_i64))
            .await
            .map_err(audit)?,
        3
    );
    assert_eq!(
        store
            .delete_actor(&UserId::from(1_i64))
            .await
            .map_err(audit)?,
        0
    );
    let left = read_all(&*store, &AuditQuery::default(), 10).await?;
    assert_eq!(left.len(), 6);
    assert!(left.iter().all(|r| r.actor != Some(UserId::from(1_i64))));
    Ok(())
}
