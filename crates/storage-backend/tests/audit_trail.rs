//! The audit trail on the SQL stores, end to end: retention clears the IPs
//! the moderation tables keep, erasure clears a user's, and a purge runs
//! while another task keeps inserting. Each test runs on SQLite and on
//! PostgreSQL.
#![allow(
    clippy::unwrap_used,
    clippy::print_stderr,
    clippy::indexing_slicing,
    reason = "tests; the purge report is printed for the reader"
)]

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use moderation_audit_trail::{
    AuditQuery, AuditStore, AuditTrail, IpHolder, NewAuditRecord, RecordedIp,
};
use moderation_core::{
    AuthorKey, Clock, ItemStatus, Kind, LogAction, ManualClock, ModLogFilter, ModerationError,
    ModerationLog, ModerationStore, NewItem, NewLogEntry, NewModLogEntry, ObjectRef, PageRequest,
    UserId,
};
use moderation_storage::testkit::{self, ScenarioResult, purge_load, with_postgres, with_sqlite};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn comment(id: i64) -> ObjectRef {
    ObjectRef::new(Kind::new("blog.comment").unwrap(), id)
}

/// A held comment by `author` from `from`, created at `at`.
fn item(id: i64, author: i64, from: &str, at: DateTime<Utc>) -> (NewItem, NewLogEntry) {
    let item = NewItem {
        object: comment(id),
        parent: None,
        author: Some(AuthorKey::User(UserId::from(author))),
        status: ItemStatus::Held,
        reasons: Vec::new(),
        payload: serde_json::json!({"text": "hi"}),
        fingerprint: None,
        ip: Some(ip(from)),
        created_at: at,
    };
    let log = NewLogEntry {
        action: LogAction::SubmitHeld,
        actor: Some(UserId::from(author)),
        reason: None,
        detail: serde_json::Value::Null,
        ip: Some(ip(from)),
        from_status: None,
        to_status: Some(ItemStatus::Held),
        bulk: None,
        at,
    };
    (item, log)
}

fn staff_action(actor: i64, target: i64, at: DateTime<Utc>) -> NewModLogEntry {
    NewModLogEntry {
        action: "item.approve".to_owned(),
        actor: Some(UserId::from(actor)),
        target: comment(target),
        reason: Some("fine".to_owned()),
        before: Some("held".to_owned()),
        after: Some("public".to_owned()),
        detail: serde_json::Value::Null,
        ip: Some(ip("198.51.100.9")),
        bulk: None,
        at,
    }
}

/// Retention and erasure through `AuditTrail` over one SQL store acting as
/// audit store, moderation log and IP holder.
async fn purge_and_erase<S>(store: S) -> ScenarioResult
where
    S: AuditStore + ModerationLog + IpHolder + ModerationStore + Clone + 'static,
{
    let clock = Arc::new(ManualClock::new(start()));
    let trail = AuditTrail::builder(Arc::new(store.clone()), Arc::new(store.clone()))
        .clock(clock.clone())
        .ip_store_time(30)
        .purge_batch(2)
        .ip_holder(Arc::new(store.clone()))
        .build();
    let (alice, bob) = (UserId::from(1_i64), UserId::from(2_i64));
    let post = comment(100);
    let record = |who: &UserId, from: &str| {
        let (trail, who, target) = (trail.clone(), who.clone(), post.clone());
        let from = ip(from);
        async move {
            trail
                .record(
                    Some(&who),
                    Some(from),
                    target,
                    "post.create",
                    serde_json::Value::Null,
                )
                .await
                .map_err(ModerationError::store)
        }
    };
    // Old: three records, an item with its log entry, a staff action.
    for _ in 0..3 {
        record(&alice, "203.0.113.7").await?;
    }
    let (old_item, old_log) = item(1, 1, "203.0.113.7", start());
    let old_item = store.insert_item(old_item, old_log).await?;
    store.append(staff_action(2, 1, start())).await?;

    // New, 60 days later.
    clock.set(start() + Duration::days(60));
    record(&alice, "203.0.113.8").await?;
    record(&bob, "203.0.113.8").await?;
    let (new_item, new_log) = item(2, 1, "203.0.113.8", clock.now());
    let new_item = store.insert_item(new_item, new_log).await?;
    store.append(staff_action(2, 2, clock.now())).await?;

    let dry = trail.purge(true).await.map_err(ModerationError::store)?;
    assert_eq!(dry.audit_records, 3);
    assert_eq!(
        dry.total_cleared_ips(),
        3,
        "item, item log entry, staff action"
    );
    let done = trail.purge(false).await.map_err(ModerationError::store)?;
    eprintln!("{done}");
    assert_eq!((done.audit_records, done.total_cleared_ips()), (3, 3));
    assert_eq!(store.item(old_item.id).await?.unwrap().ip, None);
    assert!(
        store
            .log_entries(old_item.id)
            .await?
            .iter()
            .all(|e| e.ip.is_none())
    );
    assert!(store.item(new_item.id).await?.unwrap().ip.is_some());
    let log = store
        .mod_log(&ModLogFilter::default(), PageRequest::first(10))
        .await?;
    let ips: Vec<bool> = log.items.iter().map(|e| e.ip.is_some()).collect();
    assert_eq!(
        ips,
        vec![true, false],
        "only the old staff action loses its IP"
    );
    let again = trail.purge(false).await.map_err(ModerationError::store)?;
    assert_eq!((again.audit_records, again.total_cleared_ips()), (0, 0));

    // Erasure: Alice's records go, her new item keeps no IP, Bob's stay;
    // Bob's staff actions stay in the log, anonymised.
    let erased = trail
        .erase_user(&alice)
        .await
        .map_err(ModerationError::store)?;
    assert_eq!(erased.audit_records_deleted, 1);
    assert_eq!(
        erased.log_entries_anonymised, 2,
        "her two items' log entries"
    );
    for id in [old_item.id, new_item.id] {
        let entries = store.log_entries(id).await?;
        assert!(entries.iter().all(|e| e.actor.is_none() && e.ip.is_none()));
        assert_eq!(entries.len(), 1, "the entries are kept");
    }
    assert_eq!(store.item(new_item.id).await?.unwrap().ip, None);
    let left = store
        .records(&AuditQuery::default(), PageRequest::first(10))
        .await
        .map_err(ModerationError::store)?;
    assert_eq!(left.items.len(), 1);
    assert_eq!(left.items[0].actor, Some(bob.clone()));

    let export = trail
        .export_user(&bob)
        .await
        .map_err(ModerationError::store)?;
    assert_eq!(export.audit_records.len(), 1);
    assert_eq!(export.moderation_log.len(), 2);
    let erased = trail
        .erase_user(&bob)
        .await
        .map_err(ModerationError::store)?;
    assert_eq!(erased.log_entries_anonymised, 2);
    let log = store
        .mod_log(&ModLogFilter::default(), PageRequest::first(10))
        .await?;
    assert_eq!(log.items.len(), 2, "log entries are kept");
    assert!(
        log.items
            .iter()
            .all(|e| e.actor.is_none() && e.ip.is_none())
    );
    assert!(
        log.items
            .iter()
            .all(|e| e.reason.as_deref() == Some("fine"))
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_and_erase_on_sqlite() {
    with_sqlite(purge_and_erase).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_and_erase_on_postgres() {
    with_postgres(purge_and_erase).await;
}

/// More rows of one user than one erasure batch changes (erasure runs in
/// batches of 1 000 rows, a transaction each): every row is reached once,
/// ties on the time included, and nobody else's rows are touched.
async fn erasure_spans_batches<S>(store: S) -> ScenarioResult
where
    S: AuditStore + ModerationLog + IpHolder + Clone + 'static,
{
    const MANY: u64 = 2_500;
    let (alice, bob) = (UserId::from(1_i64), UserId::from(2_i64));
    // Three rows per second: batches end inside a run of equal times.
    let at = |n: u64| start() + Duration::seconds(i64::try_from(n / 3).unwrap());
    let record = |who: &UserId, n: u64| NewAuditRecord {
        actor: Some(who.clone()),
        ip: Some(RecordedIp::address(ip("203.0.113.7"))),
        target: comment(i64::try_from(n).unwrap()),
        action: "post.create".to_owned(),
        detail: serde_json::Value::Null,
        at: at(n),
    };
    let records = (0..MANY).map(|n| record(&alice, n)).collect();
    store
        .insert(records)
        .await
        .map_err(ModerationError::store)?;
    store
        .insert(vec![record(&bob, 0)])
        .await
        .map_err(ModerationError::store)?;
    let appends = (0..MANY).map(|n| {
        let store = store.clone();
        async move {
            store
                .append(staff_action(1, i64::try_from(n).unwrap(), at(n)))
                .await
        }
    });
    futures::future::try_join_all(appends).await?;
    store.append(staff_action(2, 0, start())).await?;

    let cleared = store
        .clear_user_ips(&alice)
        .await
        .map_err(ModerationError::store)?;
    assert_eq!(cleared, MANY, "each of her log entries' IPs, once");
    let again = store
        .clear_user_ips(&alice)
        .await
        .map_err(ModerationError::store)?;
    assert_eq!(again, 0);
    assert_eq!(store.anonymise_actor(&alice).await?, MANY);
    assert_eq!(store.anonymise_actor(&alice).await?, 0);
    let deleted = store
        .delete_actor(&alice)
        .await
        .map_err(ModerationError::store)?;
    assert_eq!(deleted, MANY);

    let log = testkit::modlog::read_all(&store, &ModLogFilter::default(), 500).await?;
    assert_eq!(
        log.len(),
        usize::try_from(MANY + 1).unwrap(),
        "entries are kept"
    );
    let (theirs, hers): (Vec<_>, Vec<_>) = log.iter().partition(|e| e.actor.is_some());
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].actor, Some(bob.clone()));
    assert!(theirs[0].ip.is_some(), "Bob keeps his IP");
    assert!(hers.iter().all(|e| e.ip.is_none()));
    let left = testkit::audit::read_all(&store, &AuditQuery::default(), 500).await?;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].actor, Some(bob));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_spans_batches_on_sqlite() {
    with_sqlite(erasure_spans_batches).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_spans_batches_on_postgres() {
    with_postgres(erasure_spans_batches).await;
}

/// A smaller purge under concurrent inserts than the 1 000 000-record
/// program (`cargo run --release -p moderation-benches --bin
/// audit_purge_load`): nothing new is lost and nothing old is left. The
/// worst insert wait is printed, never asserted.
async fn purge_while_inserting(store: Arc<dyn AuditStore>, backend: &str) -> ScenarioResult {
    let report = purge_load::purge_under_load(store, 20_000, 1_000).await?;
    eprintln!(
        "{backend}: purged {} old records in {:?} ({} batches) while {} inserts ran; worst insert wait {:?}",
        report.purge.audit_records,
        report.purge_time,
        report.purge.batches,
        report.inserts,
        report.worst_insert_wait
    );
    assert_eq!(report.purge.audit_records, 20_000);
    assert_eq!(report.old_left, 0, "every old record is gone");
    assert_eq!(report.new_found, report.inserts, "no new record was lost");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_while_inserting_on_sqlite() {
    with_sqlite(|store| purge_while_inserting(Arc::new(store), "sqlite")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_while_inserting_on_postgres() {
    with_postgres(|store| purge_while_inserting(Arc::new(store), "postgres")).await;
}
