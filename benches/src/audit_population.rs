//! A forum's audit records at scale, for the `audit` bench: 50 000 accounts
//! posting from a few home addresses each (half of them IPv6, whose low 64
//! bits change between records), one record in ten from a pool of shared
//! addresses (cafés, campus NAT), and one known sock-puppet pair.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, Duration, Utc};
use moderation_audit_trail::{AuditError, AuditStore, NewAuditRecord, RecordedIp};
use moderation_core::{Kind, ModerationError, ObjectRef, UserId};

/// Accounts in the population.
pub const USERS: u64 = 50_000;
/// The suspect of the known pair.
pub const SUSPECT: i64 = 1;
/// Its puppet: the same home addresses.
pub const PUPPET: i64 = 2;
/// Records per insert transaction while seeding.
pub const SEED_BATCH: u64 = 10_000;
/// Time between two consecutive records.
pub const SPACING_MICROS: i64 = 500_000;

/// splitmix64: a fixed scatter, so every run builds the same population.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The `n`-th record, at `start + n * SPACING_MICROS`.
///
/// # Errors
/// Never in practice: the kind name is valid.
pub fn record(n: u64, start: DateTime<Utc>) -> Result<NewAuditRecord, ModerationError> {
    let h = mix(n);
    let user = n % USERS;
    // The puppet posts from the suspect's homes.
    let home_owner = if user == PUPPET as u64 {
        SUSPECT as u64
    } else {
        user
    };
    let home = mix(home_owner * 4 + h % 3);
    let ip = if h.is_multiple_of(10) {
        IpAddr::V4(Ipv4Addr::new(198, 18, (h >> 8) as u8 % 20, (h >> 16) as u8))
    } else if home.is_multiple_of(2) {
        IpAddr::V4(Ipv4Addr::from((home >> 32) as u32))
    } else {
        let prefix = (0x2001_0db8_u128 << 96) | (u128::from(home >> 32) << 64);
        IpAddr::V6(Ipv6Addr::from(prefix | u128::from(mix(h))))
    };
    let offset = i64::try_from(n)
        .unwrap_or(i64::MAX)
        .saturating_mul(SPACING_MICROS);
    Ok(NewAuditRecord {
        actor: Some(UserId::from(i64::try_from(user).unwrap_or(0))),
        ip: Some(RecordedIp::address(ip)),
        target: ObjectRef::new(Kind::new("forum.post")?, i64::try_from(n).unwrap_or(0)),
        action: "post.create".to_owned(),
        detail: serde_json::Value::Null,
        at: start + Duration::microseconds(offset),
    })
}

/// Inserts records `from..to` in transactions of [`SEED_BATCH`].
///
/// # Errors
/// A store error.
pub async fn seed(
    store: &dyn AuditStore,
    from: u64,
    to: u64,
    start: DateTime<Utc>,
) -> Result<(), AuditError> {
    let mut n = from;
    while n < to {
        let end = (n + SEED_BATCH).min(to);
        let batch = (n..end)
            .map(|i| record(i, start))
            .collect::<Result<Vec<_>, _>>()?;
        store.insert(batch).await?;
        n = end;
    }
    Ok(())
}

/// The time of the `n`-th record.
#[must_use]
pub fn time_of(n: u64, start: DateTime<Utc>) -> DateTime<Utc> {
    start
        + Duration::microseconds(
            i64::try_from(n)
                .unwrap_or(i64::MAX)
                .saturating_mul(SPACING_MICROS),
        )
}
