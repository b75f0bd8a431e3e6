//! Scenarios for moderation-misery's [`BanStore`] port. Each takes a fresh,
//! empty store; run them with
//! [`store_scenarios!`](crate::store_scenarios) and
//! `port = dyn BanStore, memory = MemoryBanStore::new(...)`.
//!
//! Store errors are returned as [`ModerationError::Store`] so the scenarios
//! share the runners of the item scenarios.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use moderation_core::{Clock, ModerationError, SystemClock, UserId, truncate_to_micros};
use moderation_misery::{
    BanEntry, BanKind, BanList, BanRefresher, BanStore, BanTarget, MiseryError, NewBan,
    parse_network,
};

use super::ScenarioResult;

/// A misery error as the scenarios' error type.
fn misery(error: MiseryError) -> ModerationError {
    ModerationError::store(error)
}

/// A network target from its text.
///
/// # Errors
/// When `text` is not an address or network without host bits.
pub fn network(text: &str) -> Result<BanTarget, ModerationError> {
    parse_network(text).map(BanTarget::Network).map_err(misery)
}

/// A ban of `target` created by staff member `1`, never expiring.
#[must_use]
pub fn new_ban(target: BanTarget, kind: BanKind) -> NewBan {
    NewBan {
        target,
        kind,
        reason: "spam run".to_owned(),
        created_by: UserId::from(1_i64),
        expires_at: None,
    }
}

/// Now, truncated to microseconds: what a store's clock reads.
fn now() -> DateTime<Utc> {
    SystemClock.now()
}

/// An added ban comes back with an id and a microsecond creation time from
/// the store's clock, and `list` returns exactly that entry.
///
/// # Errors
/// An unexpected store error.
pub async fn add_then_list(store: Arc<dyn BanStore>) -> ScenarioResult {
    let before = now();
    let mut ban = new_ban(network("203.0.113.0/24")?, BanKind::Misery);
    ban.reason = "Spam-Welle über Tor ✉".to_owned();
    // A non-zero microsecond part, so a store that drops precision fails.
    ban.expires_at = Some(truncate_to_micros(
        before + Duration::microseconds(86_400_000_123),
    ));
    let added = store.add(ban.clone()).await.map_err(misery)?;
    let after = now();
    assert!(added.id > 0, "ids start above zero");
    assert_eq!(added.target, ban.target);
    assert_eq!(added.kind, ban.kind);
    assert_eq!(added.reason, ban.reason);
    assert_eq!(added.created_by, ban.created_by);
    assert_eq!(added.expires_at, ban.expires_at);
    assert_eq!(added.created_at, truncate_to_micros(added.created_at));
    assert!(
        before <= added.created_at && added.created_at <= after,
        "created_at {} comes from the store's clock ({before} ..= {after})",
        added.created_at
    );
    assert_eq!(store.list().await.map_err(misery)?, vec![added]);
    Ok(())
}

/// Ids are unique, and an id freed by `remove` (even the highest one) is
/// never handed out again.
///
/// # Errors
/// An unexpected store error.
pub async fn ids_unique_and_never_reused(store: Arc<dyn BanStore>) -> ScenarioResult {
    let user = |id: i64| BanTarget::User(UserId::from(id));
    let first = store
        .add(new_ban(user(10), BanKind::Hellban))
        .await
        .map_err(misery)?;
    let second = store
        .add(new_ban(user(11), BanKind::Hellban))
        .await
        .map_err(misery)?;
    assert_ne!(first.id, second.id);
    let removed = store.remove(second.id).await.map_err(misery)?;
    assert_eq!(removed, second);
    let third = store
        .add(new_ban(user(12), BanKind::Hellban))
        .await
        .map_err(misery)?;
    assert!(
        third.id > second.id,
        "id {} was handed out after {} was removed",
        third.id,
        second.id
    );
    assert_eq!(store.list().await.map_err(misery)?, vec![first, third]);
    Ok(())
}

/// Removing an id that does not exist (never added, already removed, or
/// beyond any id) is [`MiseryError::UnknownBan`] and changes nothing.
///
/// # Errors
/// An unexpected store error.
pub async fn remove_unknown_is_unknown_ban(store: Arc<dyn BanStore>) -> ScenarioResult {
    let kept = store
        .add(new_ban(network("198.51.100.7")?, BanKind::HardBan))
        .await
        .map_err(misery)?;
    let gone = store
        .add(new_ban(network("198.51.100.8")?, BanKind::HardBan))
        .await
        .map_err(misery)?;
    store.remove(gone.id).await.map_err(misery)?;
    for id in [gone.id, gone.id + 1_000, u64::MAX] {
        match store.remove(id).await {
            Err(MiseryError::UnknownBan { id: reported }) => assert_eq!(reported, id),
            other => panic!("removing unknown ban {id} gave {other:?}"),
        }
    }
    assert_eq!(store.list().await.map_err(misery)?, vec![kept]);
    Ok(())
}

/// Expired bans stay in `list` (operators want to see them); only matching
/// ignores them.
///
/// # Errors
/// An unexpected store error.
pub async fn expired_bans_are_listed(store: Arc<dyn BanStore>) -> ScenarioResult {
    let mut expired = new_ban(BanTarget::User(UserId::new("troll")?), BanKind::Hellban);
    expired.expires_at = Some(truncate_to_micros(now() - Duration::days(1)));
    let expired = store.add(expired).await.map_err(misery)?;
    let active = store
        .add(new_ban(network("2001:db8::/32")?, BanKind::Misery))
        .await
        .map_err(misery)?;
    let listed = store.list().await.map_err(misery)?;
    assert_eq!(listed, vec![expired.clone(), active.clone()]);
    assert!(!expired.is_active(now()));
    assert!(active.is_active(now()));
    Ok(())
}

/// User ids, IPv4 and IPv6 addresses and networks, and IPv4-mapped IPv6
/// (stored as IPv4 by [`parse_network`]) reload exactly as added.
///
/// # Errors
/// An unexpected store error.
pub async fn targets_round_trip(store: Arc<dyn BanStore>) -> ScenarioResult {
    let targets = vec![
        BanTarget::User(UserId::from(42_i64)),
        BanTarget::User(UserId::new("e:anonymous visitor #7")?),
        BanTarget::User(UserId::from(uuid::Uuid::from_u128(
            0x0123_4567_89ab_cdef_0123_4567_89ab_cdef,
        ))),
        network("203.0.113.7")?,
        network("203.0.113.0/24")?,
        network("0.0.0.0/0")?,
        network("2001:DB8::1")?,
        network("2001:db8:abcd::/48")?,
        network("fe80::1:0:0:0/80")?,
        network("::/0")?,
        network("::ffff:192.0.2.0/120")?,
    ];
    let mut added = Vec::new();
    for target in &targets {
        let mut ban = new_ban(target.clone(), BanKind::HardBan);
        ban.expires_at = Some(truncate_to_micros(now() + Duration::hours(1)));
        added.push(store.add(ban).await.map_err(misery)?);
    }
    let listed = store.list().await.map_err(misery)?;
    assert_eq!(listed, added);
    let reloaded: Vec<&BanTarget> = listed.iter().map(|ban| &ban.target).collect();
    assert_eq!(reloaded, targets.iter().collect::<Vec<_>>());
    Ok(())
}

/// `list` returns bans oldest first, in the order they were added.
///
/// # Errors
/// An unexpected store error.
pub async fn list_is_oldest_first(store: Arc<dyn BanStore>) -> ScenarioResult {
    let kinds = [BanKind::Misery, BanKind::Hellban, BanKind::HardBan];
    let mut added = Vec::new();
    for (n, kind) in (0..12_i64).zip(kinds.into_iter().cycle()) {
        let ban = new_ban(BanTarget::User(UserId::from(100 + n)), kind);
        added.push(store.add(ban).await.map_err(misery)?);
    }
    let listed = store.list().await.map_err(misery)?;
    assert_eq!(listed, added);
    assert!(
        listed
            .windows(2)
            .all(|pair| matches!(pair, [a, b] if (a.created_at, a.id) < (b.created_at, b.id))),
        "bans are listed oldest first"
    );
    Ok(())
}

/// A [`BanList`] refreshed from the store holds what was stored and matches
/// on it: active user and network bans match, expired and removed ones do not.
///
/// # Errors
/// An unexpected store error.
pub async fn refreshed_ban_list_matches_store(store: Arc<dyn BanStore>) -> ScenarioResult {
    let spammer = UserId::new("spammer")?;
    let user_ban = store
        .add(new_ban(BanTarget::User(spammer.clone()), BanKind::Hellban))
        .await
        .map_err(misery)?;
    let net_ban = store
        .add(new_ban(network("2001:db8:1::/48")?, BanKind::Misery))
        .await
        .map_err(misery)?;
    let mut expired = new_ban(network("192.0.2.0/24")?, BanKind::HardBan);
    expired.expires_at = Some(truncate_to_micros(now() - Duration::minutes(5)));
    store.add(expired).await.map_err(misery)?;
    let removed = store
        .add(new_ban(
            BanTarget::User(UserId::new("forgiven")?),
            BanKind::Hellban,
        ))
        .await
        .map_err(misery)?;
    store.remove(removed.id).await.map_err(misery)?;

    let list = BanList::new(Arc::new(SystemClock));
    let refresher = BanRefresher::new(list.clone(), Arc::clone(&store));
    let count = refresher.refresh_once().await.map_err(misery)?;
    let stored = store.list().await.map_err(misery)?;
    assert_eq!(count, stored.len());
    assert_eq!(count, 3);
    let snapshot = list.snapshot();
    let held: Vec<&BanEntry> = snapshot.entries().collect();
    for ban in &stored {
        assert!(
            held.contains(&ban),
            "ban {} is in the refreshed list",
            ban.id
        );
    }

    let in_net: IpAddr = "2001:db8:1::7".parse().map_err(ModerationError::store)?;
    let outside: IpAddr = "2001:db8:2::7".parse().map_err(ModerationError::store)?;
    let in_expired: IpAddr = "192.0.2.9".parse().map_err(ModerationError::store)?;
    assert!(list.is_hellbanned(&spammer));
    assert!(!list.is_hellbanned(&UserId::new("forgiven")?));
    assert_eq!(
        list.find(Some(in_net), None, BanKind::Misery),
        Some(net_ban)
    );
    assert!(!list.is_banned(Some(outside), None, BanKind::Misery));
    assert!(!list.is_banned(Some(in_expired), None, BanKind::HardBan));
    assert_eq!(
        list.find(None, Some(&spammer), BanKind::Hellban),
        Some(user_ban)
    );
    Ok(())
}
