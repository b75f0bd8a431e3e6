//! Scenarios for moderation-core's community ports: [`ActionLog`],
//! [`SanctionStore`] and [`TrustStore`]. Each takes a fresh, empty store;
//! run them with [`store_scenarios!`](crate::store_scenarios) and e.g.
//! `port = dyn ActionLog, memory = MemoryActionLog::new()`.
//!
//! [`concurrent_appends_never_exceed_a_cap`] takes two handles on one
//! database (two pools, as two processes would have) and shows that
//! together they cannot exceed a limit.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use moderation_core::community::{
    ActionAttempt, ActionKind, ActionLog, Admission, LimitCheck, LimitCode, NewSanction,
    SanctionKind, SanctionStore, TrustChange, TrustStore,
};
use moderation_core::{ModerationError, TrustLevel, UserId};

use super::ScenarioResult;

/// A fixed start time with a non-zero microsecond part, so a store that
/// drops precision fails.
#[must_use]
pub fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 4, 1, 12, 0, 0)
        .single()
        .unwrap_or_default()
        + Duration::microseconds(123_456)
}

/// A daily cap of `max` topics.
#[must_use]
pub fn daily_cap(max: u32) -> LimitCheck {
    LimitCheck::Count {
        code: LimitCode::DailyCap,
        actions: vec![ActionKind::Topic],
        window: Duration::hours(24),
        max,
    }
}

/// A topic by `user` at `at` under `checks`.
#[must_use]
pub fn topic(user: &UserId, at: DateTime<Utc>, checks: Vec<LimitCheck>) -> ActionAttempt {
    ActionAttempt {
        user: user.clone(),
        action: ActionKind::Topic,
        at,
        fingerprint: None,
        hosts: Vec::new(),
        checks,
    }
}

fn member(id: i64) -> UserId {
    UserId::from(id)
}

/// Appends until the cap, then refuses with the time the oldest leaves the
/// window; at exactly that time it is allowed again (the window is open at
/// its start). A refusal writes nothing.
///
/// # Errors
/// An unexpected store error.
pub async fn cap_boundaries_are_exact(log: Arc<dyn ActionLog>) -> ScenarioResult {
    let user = member(1);
    for hour in 0..3 {
        let at = start() + Duration::hours(hour);
        assert_eq!(
            log.check_and_append(&topic(&user, at, vec![daily_cap(3)]))
                .await?,
            Admission::Appended
        );
    }
    let late = start() + Duration::hours(23);
    match log
        .check_and_append(&topic(&user, late, vec![daily_cap(3)]))
        .await?
    {
        Admission::Refused(breach) => {
            assert_eq!(breach.check, 0);
            assert_eq!(breach.retry_at, start() + Duration::hours(24));
        }
        Admission::Appended => panic!("the 4th topic within 24 h was appended"),
    }
    let since = start() - Duration::seconds(1);
    assert_eq!(log.count_since(&user, ActionKind::Topic, since).await?, 3);
    let just_before = start() + Duration::hours(24) - Duration::microseconds(1);
    assert!(matches!(
        log.check_and_append(&topic(&user, just_before, vec![daily_cap(3)]))
            .await?,
        Admission::Refused(_)
    ));
    assert_eq!(
        log.check_and_append(&topic(
            &user,
            start() + Duration::hours(24),
            vec![daily_cap(3)]
        ))
        .await?,
        Admission::Appended
    );
    Ok(())
}

/// Limits count only the listed kinds and only the member's own actions.
///
/// # Errors
/// An unexpected store error.
pub async fn limits_count_kinds_and_members_apart(log: Arc<dyn ActionLog>) -> ScenarioResult {
    let (one, two) = (member(1), member(2));
    let mut reply = topic(&one, start(), Vec::new());
    reply.action = ActionKind::Reply;
    assert_eq!(log.check_and_append(&reply).await?, Admission::Appended);
    assert_eq!(
        log.check_and_append(&topic(&one, start(), vec![daily_cap(1)]))
            .await?,
        Admission::Appended
    );
    assert_eq!(
        log.check_and_append(&topic(&two, start(), vec![daily_cap(1)]))
            .await?,
        Admission::Appended
    );
    assert!(matches!(
        log.check_and_append(&topic(&one, start(), vec![daily_cap(1)]))
            .await?,
        Admission::Refused(_)
    ));
    Ok(())
}

/// A cap of 0 refuses at once, retry after one window from now.
///
/// # Errors
/// An unexpected store error.
pub async fn a_zero_cap_refuses(log: Arc<dyn ActionLog>) -> ScenarioResult {
    match log
        .check_and_append(&topic(&member(1), start(), vec![daily_cap(0)]))
        .await?
    {
        Admission::Refused(breach) => {
            assert_eq!(breach.retry_at, start() + Duration::hours(24));
        }
        Admission::Appended => panic!("a cap of 0 appended"),
    }
    Ok(())
}

/// The same fingerprint within the window is refused; the same host in a
/// third post is refused, naming the host; both checks read only the window.
///
/// # Errors
/// An unexpected store error.
pub async fn duplicates_and_same_host(log: Arc<dyn ActionLog>) -> ScenarioResult {
    let user = member(3);
    let duplicate = LimitCheck::Duplicate {
        window: Duration::minutes(5),
    };
    let mut first = topic(&user, start(), vec![duplicate.clone()]);
    first.fingerprint = Some("fnv1a64:0000000000000001".to_owned());
    assert_eq!(log.check_and_append(&first).await?, Admission::Appended);
    let mut again = first.clone();
    again.at = start() + Duration::minutes(4);
    match log.check_and_append(&again).await? {
        Admission::Refused(breach) => {
            assert_eq!(breach.retry_at, start() + Duration::minutes(5));
        }
        Admission::Appended => panic!("a duplicate within 5 minutes was appended"),
    }
    again.at = start() + Duration::minutes(5);
    assert_eq!(log.check_and_append(&again).await?, Admission::Appended);

    let same_host = LimitCheck::SameHost {
        window: Duration::hours(24),
        max_posts: 3,
    };
    for n in 0..2 {
        let mut post = topic(
            &user,
            start() + Duration::minutes(10 + n),
            vec![same_host.clone()],
        );
        post.hosts = vec!["shop.example".to_owned(), format!("other{n}.example")];
        assert_eq!(log.check_and_append(&post).await?, Admission::Appended);
    }
    let mut third = topic(&user, start() + Duration::minutes(20), vec![same_host]);
    third.hosts = vec!["docs.example".to_owned(), "shop.example".to_owned()];
    match log.check_and_append(&third).await? {
        Admission::Refused(breach) => {
            assert_eq!(breach.host.as_deref(), Some("shop.example"));
            assert_eq!(
                breach.retry_at,
                start() + Duration::minutes(10) + Duration::hours(24)
            );
        }
        Admission::Appended => panic!("a third post linking one host was appended"),
    }
    Ok(())
}

/// Two handles on one database (two pools, as two processes have) racing
/// for one member: together they append exactly the cap.
///
/// # Errors
/// An unexpected store error.
pub async fn concurrent_appends_never_exceed_a_cap(
    first: Arc<dyn ActionLog>,
    second: Arc<dyn ActionLog>,
) -> ScenarioResult {
    let user = member(77);
    let mut tasks = Vec::new();
    for n in 0..24_i64 {
        let log = if n % 2 == 0 {
            Arc::clone(&first)
        } else {
            Arc::clone(&second)
        };
        let attempt = topic(
            &user,
            start() + Duration::milliseconds(n),
            vec![daily_cap(5)],
        );
        tasks.push(tokio::spawn(
            async move { log.check_and_append(&attempt).await },
        ));
    }
    let mut appended = 0;
    for task in tasks {
        let admission = task.await.map_err(ModerationError::store)??;
        if admission == Admission::Appended {
            appended += 1;
        }
    }
    assert_eq!(appended, 5, "exactly the cap was appended");
    let since = start() - Duration::seconds(1);
    assert_eq!(first.count_since(&user, ActionKind::Topic, since).await?, 5);
    assert_eq!(
        second.count_since(&user, ActionKind::Topic, since).await?,
        5
    );
    Ok(())
}

fn freeze(user: &UserId, cause: &str, at: DateTime<Utc>) -> NewSanction {
    NewSanction {
        user: user.clone(),
        kind: SanctionKind::Freeze,
        reason: "Linked to pills.example in a first post ✉".to_owned(),
        by: None,
        at,
        expires_at: None,
        cause: Some(cause.to_owned()),
    }
}

/// An imposed freeze round-trips, is in force, is found by its cause, and
/// once lifted keeps its first lift and leaves the history.
///
/// # Errors
/// An unexpected store error.
pub async fn freeze_then_lift(store: Arc<dyn SanctionStore>) -> ScenarioResult {
    let user = member(5);
    let staff = member(1);
    let imposed = store.impose(&freeze(&user, "review:9", start())).await?;
    assert_eq!(store.in_force(&user, start()).await?, vec![imposed.clone()]);
    assert_eq!(
        store.caused_by("review:9", start()).await?,
        vec![imposed.clone()]
    );
    assert!(store.caused_by("review:10", start()).await?.is_empty());
    let later = start() + Duration::minutes(3);
    let lifted = store.lift(imposed.id, Some(&staff), later).await?;
    assert_eq!(lifted.lifted_by, Some(staff.clone()));
    assert_eq!(lifted.lifted_at, Some(later));
    let again = store
        .lift(imposed.id, None, later + Duration::minutes(1))
        .await?;
    assert_eq!(again, lifted, "a second lift changes nothing");
    assert!(store.in_force(&user, later).await?.is_empty());
    assert!(store.caused_by("review:9", later).await?.is_empty());
    assert_eq!(store.history(&user).await?, vec![lifted]);
    Ok(())
}

/// An expired sanction is no longer in force but stays in the history;
/// lifting an unknown id is `UnknownSanction`.
///
/// # Errors
/// An unexpected store error.
pub async fn expiry_and_unknown_ids(store: Arc<dyn SanctionStore>) -> ScenarioResult {
    let user = member(6);
    let mut timed = freeze(&user, "review:1", start());
    timed.expires_at = Some(start() + Duration::hours(1));
    timed.by = Some(member(2));
    let stored = store.impose(&timed).await?;
    assert_eq!(store.in_force(&user, start()).await?.len(), 1);
    let after = start() + Duration::hours(1);
    assert!(store.in_force(&user, after).await?.is_empty());
    assert_eq!(store.history(&user).await?, vec![stored.clone()]);
    match store.lift(stored.id + 1_000, None, after).await {
        Err(ModerationError::UnknownSanction { id }) => assert_eq!(id, stored.id + 1_000),
        other => panic!("lifting an unknown sanction gave {other:?}"),
    }
    Ok(())
}

/// A change writes the record and a history row; history is oldest first.
///
/// # Errors
/// An unexpected store error.
pub async fn trust_changes_and_history(store: Arc<dyn TrustStore>) -> ScenarioResult {
    let user = member(8);
    assert_eq!(store.trust_record(&user).await?, None);
    let first = TrustChange {
        user: user.clone(),
        from: None,
        to: TrustLevel::Tl1,
        locked: false,
        by: None,
        reason: "activity".to_owned(),
        at: start(),
    };
    let second = TrustChange {
        from: Some(TrustLevel::Tl1),
        to: TrustLevel::Tl4,
        locked: true,
        by: Some(member(1)),
        reason: "Leads the translators".to_owned(),
        at: start() + Duration::days(30),
        ..first.clone()
    };
    store.apply_trust_change(&first).await?;
    let record = store.apply_trust_change(&second).await?;
    assert_eq!(store.trust_record(&user).await?, Some(record.clone()));
    assert_eq!(record.level, TrustLevel::Tl4);
    assert!(record.locked);
    assert_eq!(record.updated_at, second.at);
    assert_eq!(store.trust_history(&user).await?, vec![first, second]);
    assert!(store.trust_history(&member(9)).await?.is_empty());
    Ok(())
}

/// Imposing and lifting a freeze and changing a trust level each append
/// their moderation-log entry with the change; a second lift appends none.
/// Runs on a store that is also the [`ModerationLog`](moderation_core::ModerationLog).
///
/// # Errors
/// An unexpected store error.
pub async fn sanctions_and_trust_changes_are_logged<S>(store: Arc<S>) -> ScenarioResult
where
    S: SanctionStore + TrustStore + moderation_core::ModerationLog + ?Sized,
{
    use moderation_core::{ModLogFilter, PageRequest};
    let user = member(12);
    let staff = member(1);
    let imposed = store.impose(&freeze(&user, "review:3", start())).await?;
    let later = start() + Duration::minutes(1);
    store.lift(imposed.id, Some(&staff), later).await?;
    store.lift(imposed.id, Some(&staff), later).await?;
    store
        .apply_trust_change(&TrustChange {
            user: user.clone(),
            from: None,
            to: TrustLevel::Tl2,
            locked: true,
            by: Some(staff.clone()),
            reason: "vouched for".to_owned(),
            at: later + Duration::minutes(1),
        })
        .await?;
    let filter = ModLogFilter {
        target: Some(imposed.imposed_entry()?.target),
        ..ModLogFilter::default()
    };
    let page = store.mod_log(&filter, PageRequest::first(10)).await?;
    let steps: Vec<_> = page
        .items
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.actor.as_ref(),
                e.before.as_deref(),
                e.after.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("trust.change", Some(&staff), None, Some("2")),
            ("sanction.lift", Some(&staff), Some("freeze"), None),
            ("sanction.freeze", None, None, Some("freeze")),
        ]
    );
    let freeze_entry = page.items.last().map(|e| e.detail.clone());
    assert_eq!(
        freeze_entry.and_then(|d| d.get("cause").cloned()),
        Some(serde_json::json!("review:3"))
    );
    Ok(())
}
