//! The audit trail's behaviour on the reference store (SPEC E1, E3-E6).
#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use moderation_audit_trail::{
    AuditError, AuditQuery, AuditRecord, AuditStore, AuditTrail, AuditTrailBuilder, IpHasher,
    MemoryAuditStore, PrivacyMode, RecordedIp,
};
use moderation_core::{
    Kind, ManualClock, MemoryModerationLog, ModLogFilter, ModerationError, ModerationLog,
    NewModLogEntry, ObjectRef, PageRequest, UserId,
};
use serde_json::Value;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn post(id: i64) -> ObjectRef {
    ObjectRef::new(Kind::new("forum.post").unwrap(), id)
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap()
}

/// Records `action` on post `post_id` by `actor` from `from`.
async fn rec(
    trail: &AuditTrail,
    actor: Option<&UserId>,
    from: &str,
    post_id: i64,
    action: &str,
) -> Option<AuditRecord> {
    trail
        .record(actor, Some(ip(from)), post(post_id), action, Value::Null)
        .await
        .unwrap()
}

/// Every record matching `query`, newest first.
async fn find(trail: &AuditTrail, query: AuditQuery) -> Vec<AuditRecord> {
    trail
        .records(&query, PageRequest::first(1_000))
        .await
        .unwrap()
        .items
}

struct Fixture {
    store: Arc<MemoryAuditStore>,
    log: MemoryModerationLog,
    clock: Arc<ManualClock>,
}

impl Fixture {
    fn new() -> Self {
        Self {
            store: Arc::new(MemoryAuditStore::new()),
            log: MemoryModerationLog::new(),
            clock: Arc::new(ManualClock::new(start())),
        }
    }

    fn builder(&self) -> AuditTrailBuilder {
        AuditTrail::builder(self.store.clone(), Arc::new(self.log.clone()))
            .clock(self.clock.clone())
    }

    async fn all(&self) -> Vec<AuditRecord> {
        self.store
            .records(&AuditQuery::default(), PageRequest::first(1_000))
            .await
            .unwrap()
            .items
    }
}

#[tokio::test]
async fn anonymous_actor_records_nothing() {
    let f = Fixture::new();
    let trail = f.builder().build();
    let got = rec(&trail, None, "203.0.113.7", 1, "post.view").await;
    assert!(got.is_none());
    assert!(f.all().await.is_empty());
}

#[tokio::test]
async fn anonymous_actions_can_be_recorded_by_ip() {
    let f = Fixture::new();
    let trail = f.builder().record_anonymous(true).build();
    let got = rec(&trail, None, "203.0.113.7", 1, "post.view").await;
    let record = got.unwrap();
    assert_eq!(record.actor, None);
    assert_eq!(record.ip, Some(RecordedIp::Address(ip("203.0.113.7"))));
    // Without an IP there is nothing to key the record by.
    assert!(
        trail
            .record(None, None, post(1), "post.view", Value::Null)
            .await
            .unwrap()
            .is_none()
    );
    let found = find(&trail, AuditQuery::by_ip(trail.exact_ip(ip("203.0.113.7")))).await;
    assert_eq!(found, vec![record]);
}

#[tokio::test]
async fn a_record_keeps_who_what_where_and_when() {
    let f = Fixture::new();
    let trail = f.builder().build();
    let user = UserId::from(3_i64);
    let detail = serde_json::json!({"title": "Hello"});
    let record = trail
        .record(
            Some(&user),
            Some(ip("::ffff:198.51.100.4")),
            post(9),
            "post.create",
            detail.clone(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.actor, Some(user));
    assert_eq!(record.ip, Some(RecordedIp::Address(ip("198.51.100.4"))));
    assert_eq!(record.target, post(9));
    assert_eq!(record.action, "post.create");
    assert_eq!(record.detail, detail);
    assert_eq!(record.at, start());
}

#[tokio::test]
async fn invalid_input_is_a_typed_error_and_nothing_is_written() {
    let f = Fixture::new();
    let trail = f.builder().build();
    let user = UserId::from(1_i64);
    let result = trail
        .record(Some(&user), None, post(1), "Post Create!", Value::Null)
        .await;
    assert!(
        matches!(
            result,
            Err(AuditError::Invalid(ModerationError::InvalidAction { .. }))
        ),
        "{result:?}"
    );
    let bad_target = ObjectRef {
        kind: Kind::new("forum.post").unwrap(),
        id: moderation_core::ObjectId::Str(String::new()),
    };
    let events = vec![
        moderation_audit_trail::AuditEvent {
            actor: Some(user.clone()),
            ip: None,
            target: post(1),
            action: "post.create".into(),
            detail: Value::Null,
        },
        moderation_audit_trail::AuditEvent {
            actor: Some(user),
            ip: None,
            target: bad_target,
            action: "post.create".into(),
            detail: Value::Null,
        },
    ];
    assert!(trail.record_many(events).await.is_err());
    assert!(
        f.all().await.is_empty(),
        "one bad event stores none of the batch"
    );
}

#[tokio::test]
async fn keyed_mode_finds_equal_ips_and_stores_no_address() {
    let f = Fixture::new();
    let hasher = IpHasher::new(b"0123456789abcdef0123456789abcdef").unwrap();
    let trail = f.builder().privacy(PrivacyMode::Keyed(hasher)).build();
    let (a, b, c) = (
        UserId::from(1_i64),
        UserId::from(2_i64),
        UserId::from(3_i64),
    );
    rec(&trail, Some(&a), "203.0.113.7", 1, "post.create").await;
    rec(&trail, Some(&b), "::ffff:203.0.113.7", 2, "post.create").await;
    rec(&trail, Some(&c), "203.0.113.8", 3, "post.create").await;

    let found = find(&trail, AuditQuery::by_ip(trail.exact_ip(ip("203.0.113.7")))).await;
    let actors: Vec<_> = found.iter().map(|r| r.actor.clone().unwrap()).collect();
    assert_eq!(actors, vec![b, a]);

    for record in f.all().await {
        let stored = record.ip.unwrap();
        assert_eq!(stored.ip(), None);
        let text = serde_json::to_string(&stored).unwrap();
        for needle in ["203.0.113", "cb0071", "::ffff"] {
            assert!(
                !text.contains(needle),
                "{text} holds no trace of the address"
            );
        }
    }
    let wide = trail.ip_range("203.0.113.0/24".parse().unwrap());
    assert!(matches!(wide, Err(AuditError::NetworkInKeyedMode { .. })));
    assert!(trail.ip_range("203.0.113.7/32".parse().unwrap()).is_ok());
    assert!(matches!(
        IpHasher::new(b"short"),
        Err(AuditError::WeakKey { len: 5, .. })
    ));
}

#[tokio::test]
async fn truncated_mode_keeps_networks() {
    let f = Fixture::new();
    let trail = f.builder().privacy(PrivacyMode::Truncated).build();
    let user = UserId::from(1_i64);
    let v4 = rec(&trail, Some(&user), "203.0.113.77", 1, "post.create")
        .await
        .unwrap();
    let v6 = rec(&trail, Some(&user), "2001:db8:aa:bb::1", 1, "post.edit")
        .await
        .unwrap();
    assert_eq!(v4.ip.unwrap().ip(), Some(ip("203.0.113.0")));
    assert_eq!(v6.ip.unwrap().ip(), Some(ip("2001:db8:aa::")));
    // A lookup by the full address finds its network's records.
    let found = find(&trail, AuditQuery::by_ip(trail.exact_ip(ip("203.0.113.5")))).await;
    assert_eq!(found.len(), 1);
    let found = find(
        &trail,
        AuditQuery::by_ip(
            trail
                .ip_range("2001:db8:aa:bb::/64".parse().unwrap())
                .unwrap(),
        ),
    )
    .await;
    assert_eq!(found.len(), 1);
}

#[tokio::test]
async fn queries_by_user_target_and_time_page_newest_first() {
    let f = Fixture::new();
    let trail = f.builder().build();
    let (a, b) = (UserId::from(1_i64), UserId::from(2_i64));
    let mut mine = Vec::new();
    for n in 0..9_i64 {
        let user = if n % 3 == 0 { &b } else { &a };
        let record = trail
            .record(
                Some(user),
                Some(ip("198.51.100.1")),
                post(n % 2),
                "post.edit",
                Value::Null,
            )
            .await
            .unwrap()
            .unwrap();
        if user == &a {
            mine.push(record);
        }
        // Two records per timestamp.
        if n % 2 == 1 {
            f.clock.advance(Duration::seconds(1));
        }
    }
    mine.reverse();
    let mut got = Vec::new();
    let mut page = PageRequest::first(2);
    loop {
        let p = trail
            .records(&AuditQuery::by_actor(a.clone()), page)
            .await
            .unwrap();
        got.extend(p.items);
        match p.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    assert_eq!(got, mine);
    let on_post = find(&trail, AuditQuery::by_target(post(1))).await;
    assert_eq!(on_post.len(), 4);
    let window = AuditQuery::default().between(
        start() + Duration::seconds(1),
        start() + Duration::seconds(3),
    );
    let in_window = find(&trail, window).await;
    assert_eq!(in_window.len(), 4);
    assert!(
        in_window.iter().all(
            |r| r.at >= start() + Duration::seconds(1) && r.at < start() + Duration::seconds(3)
        )
    );
}

fn log_entry(actor: i64, at: DateTime<Utc>) -> NewModLogEntry {
    NewModLogEntry {
        action: "item.approve".into(),
        actor: Some(UserId::from(actor)),
        target: post(1),
        reason: Some("fine".into()),
        before: Some("held".into()),
        after: Some("public".into()),
        detail: Value::Null,
        ip: Some(ip("198.51.100.200")),
        bulk: None,
        at,
    }
}

#[tokio::test]
async fn purge_with_zero_days_does_nothing_and_says_so() {
    let f = Fixture::new();
    let trail = f
        .builder()
        .ip_store_time(0)
        .ip_holder(Arc::new(f.log.clone()))
        .build();
    trail
        .record(
            Some(&UserId::from(1_i64)),
            Some(ip("203.0.113.7")),
            post(1),
            "post.create",
            Value::Null,
        )
        .await
        .unwrap();
    f.log.append(log_entry(1, start())).await.unwrap();
    f.clock.advance(Duration::days(10_000));
    for dry_run in [true, false] {
        let report = trail.purge(dry_run).await.unwrap();
        assert!(!report.enabled);
        assert_eq!(report.audit_records, 0);
        assert_eq!(
            report.to_string(),
            "retention disabled (ip_store_time = 0): nothing purged"
        );
    }
    assert_eq!(f.all().await.len(), 1);
    assert!(f.log.entries()[0].ip.is_some());
}

#[tokio::test]
async fn purge_removes_exactly_what_is_at_or_before_the_cutoff() {
    let f = Fixture::new();
    let trail = f
        .builder()
        .ip_store_time(30)
        .purge_batch(2)
        .ip_holder(Arc::new(f.log.clone()))
        .build();
    let user = UserId::from(1_i64);
    // Records one microsecond before, at, and one after the cut-off that
    // "now + 30 days" will give, plus older and newer ones.
    let offsets = [-86_400_000_000_i64, -1, 0, 1, 86_400_000_000];
    for offset in offsets {
        f.clock.set(start() + Duration::microseconds(offset));
        rec(&trail, Some(&user), "203.0.113.7", offset, "post.create").await;
        f.log
            .append(log_entry(9, start() + Duration::microseconds(offset)))
            .await
            .unwrap();
    }
    f.clock.set(start() + Duration::days(30));
    assert_eq!(trail.cutoff(), Some(start()));

    let dry = trail.purge(true).await.unwrap();
    assert!(dry.enabled && dry.dry_run);
    assert_eq!(dry.audit_records, 3);
    assert_eq!(dry.cleared_ips, vec![("moderation_log".to_owned(), 3)]);
    assert!(
        dry.to_string()
            .starts_with("would delete 3 audit records and clear 3 IPs"),
        "{dry}"
    );
    assert_eq!(f.all().await.len(), 5, "a dry run changes nothing");
    assert!(f.log.entries().iter().all(|e| e.ip.is_some()));

    let done = trail.purge(false).await.unwrap();
    assert_eq!(done.audit_records, 3);
    assert_eq!(done.total_cleared_ips(), 3);
    assert!(done.batches >= 2, "batches of two rows");
    let left: Vec<DateTime<Utc>> = f.all().await.iter().map(|r| r.at).collect();
    assert_eq!(
        left,
        vec![
            start() + Duration::days(1),
            start() + Duration::microseconds(1)
        ]
    );
    let kept: Vec<bool> = f.log.entries().iter().map(|e| e.ip.is_some()).collect();
    assert_eq!(kept, vec![false, false, false, true, true]);
    assert_eq!(
        f.log.entries().len(),
        5,
        "log entries stay, only their IPs go"
    );

    let again = trail.purge(false).await.unwrap();
    assert_eq!((again.audit_records, again.total_cleared_ips()), (0, 0));
}

#[tokio::test]
async fn export_keeps_records_sharing_a_timestamp() {
    let f = Fixture::new();
    let trail = f.builder().build();
    let user = UserId::from(5_i64);
    let first = rec(&trail, Some(&user), "203.0.113.7", 1, "post.create")
        .await
        .unwrap();
    let second = rec(&trail, Some(&user), "203.0.113.7", 2, "post.create")
        .await
        .unwrap();
    assert_eq!(first.at, second.at);
    trail
        .record(
            Some(&UserId::from(6_i64)),
            None,
            post(3),
            "post.create",
            Value::Null,
        )
        .await
        .unwrap();
    let entry = f.log.append(log_entry(5, start())).await.unwrap();
    let also = f.log.append(log_entry(5, start())).await.unwrap();

    let export = trail.export_user(&user).await.unwrap();
    assert_eq!(export.audit_records, vec![second, first]);
    assert_eq!(export.moderation_log, vec![also, entry]);
    let json: Value = serde_json::from_str(&export.to_json().unwrap()).unwrap();
    assert_eq!(json["audit_records"].as_array().unwrap().len(), 2);
    assert_eq!(json["moderation_log"].as_array().unwrap().len(), 2);
    assert_eq!(json["user"], "5");
}

#[tokio::test]
async fn erase_removes_ips_and_keeps_anonymised_log_entries() {
    let f = Fixture::new();
    let trail = f.builder().ip_holder(Arc::new(f.log.clone())).build();
    let (user, other) = (UserId::from(5_i64), UserId::from(6_i64));
    rec(&trail, Some(&user), "203.0.113.7", 1, "post.create").await;
    rec(&trail, Some(&other), "203.0.113.7", 1, "post.create").await;
    f.log.append(log_entry(5, start())).await.unwrap();
    f.log.append(log_entry(6, start())).await.unwrap();

    let report = trail.erase_user(&user).await.unwrap();
    assert_eq!(report.audit_records_deleted, 1);
    assert_eq!(report.log_entries_anonymised, 1);

    let left = f.all().await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].actor, Some(other.clone()));
    let entries = f
        .log
        .mod_log(&ModLogFilter::default(), PageRequest::first(10))
        .await
        .unwrap()
        .items;
    assert_eq!(entries.len(), 2, "log entries are kept");
    let erased: Vec<_> = entries.iter().filter(|e| e.actor.is_none()).collect();
    assert_eq!(erased.len(), 1);
    assert_eq!(erased[0].ip, None);
    assert_eq!(erased[0].reason.as_deref(), Some("fine"));
    assert!(
        entries
            .iter()
            .any(|e| e.actor == Some(other.clone()) && e.ip.is_some())
    );
    let export = trail.export_user(&user).await.unwrap();
    assert!(export.audit_records.is_empty() && export.moderation_log.is_empty());
}
