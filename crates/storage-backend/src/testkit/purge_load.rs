//! A retention purge while the application keeps writing: the workload
//! behind the purge-under-load test and the `audit_purge_load` program.
//!
//! `old` records older than the cut-off are seeded in large batches; then
//! one task inserts new records one at a time, timing each insert, while
//! the purge deletes the old ones in batches. Afterwards the old records
//! must all be gone and every new one must be there.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use moderation_audit_trail::{AuditQuery, AuditStore, NewAuditRecord, PurgeReport, RecordedIp};
use moderation_core::{Clock, Kind, ModerationError, ObjectRef, SystemClock, UserId};

/// Records per seeding transaction.
const SEED_BATCH: usize = 10_000;

/// What one run measured.
#[derive(Debug, Clone)]
pub struct PurgeLoadReport {
    /// What the purge reported.
    pub purge: PurgeReport,
    /// How long the purge took.
    pub purge_time: StdDuration,
    /// Records the concurrent task inserted while the purge ran.
    pub inserts: u64,
    /// The longest any of those inserts waited.
    pub worst_insert_wait: StdDuration,
    /// The wait that 99 % of those inserts did not exceed.
    pub p99_insert_wait: StdDuration,
    /// The median wait.
    pub median_insert_wait: StdDuration,
    /// Old records left after the purge (0 when it worked).
    pub old_left: u64,
    /// New records found after the purge (`inserts` when none was lost).
    pub new_found: u64,
}

fn record(n: u64, at: DateTime<Utc>) -> Result<NewAuditRecord, ModerationError> {
    let octets = u32::try_from(n % u64::from(u32::MAX))
        .unwrap_or(0)
        .to_be_bytes();
    Ok(NewAuditRecord {
        actor: Some(UserId::from(i64::try_from(n % 50_000).unwrap_or(0))),
        ip: Some(RecordedIp::address(IpAddr::V4(Ipv4Addr::from(octets)))),
        target: ObjectRef::new(Kind::new("forum.post")?, i64::try_from(n).unwrap_or(0)),
        action: "post.create".to_owned(),
        detail: serde_json::Value::Null,
        at,
    })
}

/// Inserts `count` records spread over the day before `before`, in large
/// transactions.
///
/// # Errors
/// A store error.
pub async fn seed_old(
    store: &dyn AuditStore,
    count: u64,
    before: DateTime<Utc>,
) -> Result<(), ModerationError> {
    let mut n = 0;
    while n < count {
        let size = (count - n).min(SEED_BATCH as u64);
        let batch = (n..n + size)
            .map(|i| {
                let offset = i64::try_from(i % 86_400_000_000).unwrap_or(0);
                record(i, before - Duration::microseconds(offset + 1))
            })
            .collect::<Result<Vec<_>, _>>()?;
        store.insert(batch).await.map_err(ModerationError::store)?;
        n += size;
    }
    Ok(())
}

/// Seeds `old` records older than 30 days, then purges them in batches of
/// `batch` while another task inserts new records one by one.
///
/// # Errors
/// A store error in the seeding, the purge, an insert or the final counts.
pub async fn purge_under_load(
    store: Arc<dyn AuditStore>,
    old: u64,
    batch: u32,
) -> Result<PurgeLoadReport, ModerationError> {
    let cutoff = SystemClock.now() - Duration::days(30);
    seed_old(store.as_ref(), old, cutoff).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (store, stop) = (store.clone(), stop.clone());
        tokio::spawn(async move {
            let mut waits = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let new = record(waits.len() as u64, SystemClock.now())?;
                let started = Instant::now();
                store
                    .insert(vec![new])
                    .await
                    .map_err(ModerationError::store)?;
                waits.push(started.elapsed());
                // An application's pace, not a flood: the point is how long
                // each write waits, not how many fit.
                tokio::time::sleep(StdDuration::from_millis(1)).await;
            }
            Ok::<_, ModerationError>(waits)
        })
    };

    let started = Instant::now();
    let purge = moderation_audit_trail::purge(store.as_ref(), &[], cutoff, batch, false).await;
    let purge_time = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let mut waits = writer.await.map_err(ModerationError::store)??;
    waits.sort_unstable();
    let quantile = |q: usize| {
        let at = (waits.len() * q / 100).min(waits.len().saturating_sub(1));
        waits.get(at).copied().unwrap_or_default()
    };
    let (median_insert_wait, p99_insert_wait) = (quantile(50), quantile(99));
    let worst_insert_wait = waits.last().copied().unwrap_or_default();
    let inserts = waits.len() as u64;
    let purge = purge.map_err(ModerationError::store)?;

    let old_left = store
        .count_older(cutoff)
        .await
        .map_err(ModerationError::store)?;
    let newer = AuditQuery {
        since: Some(cutoff + Duration::microseconds(1)),
        ..AuditQuery::default()
    };
    let new_found = super::read_pages(moderation_core::MAX_PAGE_SIZE, |page| {
        let (store, newer) = (&store, &newer);
        async move {
            store
                .records(newer, page)
                .await
                .map_err(ModerationError::store)
        }
    })
    .await?
    .len() as u64;
    Ok(PurgeLoadReport {
        purge,
        purge_time,
        inserts,
        worst_insert_wait,
        p99_insert_wait,
        median_insert_wait,
        old_left,
        new_found,
    })
}
