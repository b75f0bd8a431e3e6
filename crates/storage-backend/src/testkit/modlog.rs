//! Scenarios for moderation-core's [`ModerationLog`] port. Each takes a
//! fresh, empty log; run them with
//! [`store_scenarios!`](crate::store_scenarios) and
//! `port = dyn ModerationLog, memory = MemoryModerationLog::new()`.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use moderation_core::{
    Clock, FlagOutcome, ItemStatus, Kind, LogAction, ModLogEntry, ModLogFilter, ModerationError,
    ModerationLog, ModerationStore, NewLogEntry, NewModLogEntry, ObjectRef, SystemClock, UserId,
};
use uuid::Uuid;

use super::{ScenarioResult, items};

/// An entry by staff member `actor` on comment `comment` at `at`.
///
/// # Errors
/// Never in practice: the kind name is valid.
pub fn entry(
    action: &str,
    actor: i64,
    comment: i64,
    at: DateTime<Utc>,
) -> Result<NewModLogEntry, ModerationError> {
    Ok(NewModLogEntry {
        action: action.to_owned(),
        actor: Some(UserId::from(actor)),
        target: ObjectRef::new(Kind::new("blog.comment")?, comment),
        reason: Some("Spam-Welle ✉".to_owned()),
        before: Some("held".to_owned()),
        after: Some("public".to_owned()),
        detail: serde_json::json!({"score": 3, "rules": ["links"]}),
        ip: Some("2001:db8::7".parse().map_err(ModerationError::store)?),
        bulk: None,
        at,
    })
}

/// Every entry matching `filter`, page by page (`size` per page).
///
/// # Errors
/// A store error.
pub async fn read_all(
    log: &dyn ModerationLog,
    filter: &ModLogFilter,
    size: u32,
) -> Result<Vec<ModLogEntry>, ModerationError> {
    super::read_pages(size, |page| log.mod_log(filter, page)).await
}

/// An appended entry reads back equal, with an id; every field survives,
/// the bulk id and a non-zero microsecond part included.
///
/// # Errors
/// An unexpected store error.
pub async fn append_round_trips(log: Arc<dyn ModerationLog>) -> ScenarioResult {
    let at = SystemClock.now() + Duration::microseconds(7);
    let mut new = entry("review.approve", 1, 10, at)?;
    new.bulk = Some(Uuid::new_v4());
    let stored = log.append(new.clone()).await?;
    assert!(stored.id > 0, "ids start above zero");
    assert_eq!(stored, new.clone().stored(stored.id));
    let second = log.append(entry("review.reject", 1, 11, at)?).await?;
    assert!(second.id > stored.id, "ids increase in insertion order");
    let all = read_all(&*log, &ModLogFilter::default(), 10).await?;
    assert_eq!(all, vec![second, stored]);
    Ok(())
}

/// Pages are newest first on `(at, id)`; entries sharing one timestamp are
/// split across pages without loss or repetition.
///
/// # Errors
/// An unexpected store error.
pub async fn pages_newest_first_without_loss(log: Arc<dyn ModerationLog>) -> ScenarioResult {
    let base = SystemClock.now();
    let mut appended = Vec::new();
    for n in 0..7_i64 {
        // Three entries share each timestamp.
        let at = base + Duration::seconds(n / 3);
        appended.push(log.append(entry("item.approve", n, n, at)?).await?);
    }
    appended.sort_by_key(|e| std::cmp::Reverse((e.at, e.id)));
    for size in [1, 2, 3, 10] {
        assert_eq!(
            read_all(&*log, &ModLogFilter::default(), size).await?,
            appended
        );
    }
    Ok(())
}

/// Filters by actor, target and time window (since inclusive, until
/// exclusive) each keep exactly the matching entries.
///
/// # Errors
/// An unexpected store error.
pub async fn filters_select_exactly(log: Arc<dyn ModerationLog>) -> ScenarioResult {
    let base = SystemClock.now();
    let mut appended = Vec::new();
    for n in 0..12_i64 {
        let at = base + Duration::seconds(n);
        appended.push(
            log.append(entry("object.reject", n % 3, n % 4, at)?)
                .await?,
        );
    }
    let kind = Kind::new("blog.comment")?;
    let filters = [
        ModLogFilter {
            actor: Some(UserId::from(1_i64)),
            ..ModLogFilter::default()
        },
        ModLogFilter {
            target: Some(ObjectRef::new(kind.clone(), 2_i64)),
            ..ModLogFilter::default()
        },
        ModLogFilter {
            since: Some(base + Duration::seconds(3)),
            until: Some(base + Duration::seconds(9)),
            ..ModLogFilter::default()
        },
        ModLogFilter {
            actor: Some(UserId::from(2_i64)),
            target: Some(ObjectRef::new(kind, 1_i64)),
            since: Some(base),
            until: Some(base + Duration::seconds(12)),
        },
    ];
    for filter in filters {
        let mut expected: Vec<ModLogEntry> = appended
            .iter()
            .filter(|e| filter.matches(e))
            .cloned()
            .collect();
        expected.reverse();
        assert!(!expected.is_empty(), "each filter matches something");
        assert_eq!(read_all(&*log, &filter, 2).await?, expected, "{filter:?}");
    }
    Ok(())
}

/// Anonymising an actor clears the actor and IP of their entries, keeps the
/// entries and everything else in them, and leaves other actors alone.
///
/// # Errors
/// An unexpected store error.
pub async fn anonymise_keeps_entries(log: Arc<dyn ModerationLog>) -> ScenarioResult {
    let at = SystemClock.now();
    let mine = log.append(entry("sanction.freeze", 5, 1, at)?).await?;
    let theirs = log.append(entry("sanction.lift", 6, 1, at)?).await?;
    let mine_too = log.append(entry("sanction.lift", 5, 2, at)?).await?;
    assert_eq!(log.anonymise_actor(&UserId::from(5_i64)).await?, 2);
    let all = read_all(&*log, &ModLogFilter::default(), 10).await?;
    let erased = |e: &ModLogEntry| ModLogEntry {
        actor: None,
        ip: None,
        ..e.clone()
    };
    assert_eq!(all, vec![erased(&mine_too), theirs, erased(&mine)]);
    let by_five = ModLogFilter {
        actor: Some(UserId::from(5_i64)),
        ..ModLogFilter::default()
    };
    assert!(read_all(&*log, &by_five, 10).await?.is_empty());
    assert_eq!(log.anonymise_actor(&UserId::from(5_i64)).await?, 0);
    Ok(())
}

/// A malformed verb is a typed error and nothing is written.
///
/// # Errors
/// An unexpected store error.
pub async fn invalid_action_writes_nothing(log: Arc<dyn ModerationLog>) -> ScenarioResult {
    for action in ["", "Review Approve", "drop table;", &"a".repeat(65)] {
        let result = log.append(entry(action, 1, 1, SystemClock.now())?).await;
        assert!(
            matches!(result, Err(ModerationError::InvalidAction { .. })),
            "{action:?}: {result:?}"
        );
    }
    assert!(
        read_all(&*log, &ModLogFilter::default(), 10)
            .await?
            .is_empty()
    );
    Ok(())
}

/// Moderator actions on items reach the moderation log with the item log
/// entry: one `item.approve` and one `item.remove`, with the actor, the
/// item as target, the reason and the statuses before and after. A
/// submission writes no entry, and neither does a change refused for a
/// stale version. `store` and `log` are two ports of one store.
///
/// # Errors
/// An unexpected store error.
pub async fn item_actions_reach_the_log(
    store: Arc<dyn ModerationStore>,
    log: Arc<dyn ModerationLog>,
) -> ScenarioResult {
    let (item, submit) = items::held_comment(1, 10, 0)?;
    let target = item.object.clone();
    let stored = store.insert_item(item, submit).await?;
    assert_eq!(
        read_all(log.as_ref(), &ModLogFilter::default(), 10).await?,
        []
    );

    let approve = items::moderator_change(stored.id, 1, ItemStatus::Held, ItemStatus::Public)?;
    store.change_status(approve.clone()).await?;
    let stale = items::moderator_change(stored.id, 1, ItemStatus::Held, ItemStatus::Removed)?;
    match store.change_status(stale).await {
        Err(ModerationError::Conflict { .. }) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    let mut remove =
        items::moderator_change(stored.id, 2, ItemStatus::Public, ItemStatus::Removed)?;
    remove.log.reason = Some("Spam-Welle ✉".to_owned());
    remove.log.at += Duration::seconds(1);
    remove.log.bulk = Some(Uuid::from_u128(0x1234));
    store.change_status(remove.clone()).await?;

    let entries = read_all(log.as_ref(), &ModLogFilter::default(), 10).await?;
    let shapes: Vec<(&str, Option<&str>, Option<&str>)> = entries
        .iter()
        .map(|e| (e.action.as_str(), e.before.as_deref(), e.after.as_deref()))
        .collect();
    assert_eq!(
        shapes,
        [
            ("item.remove", Some("public"), Some("removed")),
            ("item.approve", Some("held"), Some("public")),
        ]
    );
    for (entry, change) in entries.iter().zip([&remove, &approve]) {
        assert_eq!(entry.actor, change.log.actor);
        assert_eq!(entry.target, target);
        assert_eq!(entry.reason, change.log.reason);
        assert_eq!(entry.detail, change.log.detail);
        assert_eq!(entry.ip, change.log.ip);
        assert_eq!(entry.bulk, change.log.bulk);
        assert_eq!(entry.at, change.log.at);
    }
    let by_target = ModLogFilter {
        target: Some(target),
        ..ModLogFilter::default()
    };
    assert_eq!(read_all(log.as_ref(), &by_target, 1).await?, entries);

    // A batch of approvals logs each one, with every field, as single
    // changes do.
    let batch = (2..4)
        .map(|n| items::held_comment(n, 10, n))
        .collect::<Result<Vec<_>, _>>()?;
    let held = store.insert_items(batch).await?;
    let approvals = held
        .iter()
        .map(|item| {
            let mut change =
                items::moderator_change(item.id, 1, ItemStatus::Held, ItemStatus::Public)?;
            change.log.reason = Some("Gut \"so\" ✓".to_owned());
            change.log.at += Duration::seconds(2);
            change.log.bulk = Some(Uuid::from_u128(0x5678));
            Ok(change)
        })
        .collect::<Result<Vec<_>, ModerationError>>()?;
    store.change_statuses(approvals.clone()).await?;
    let mut logged: Vec<_> = read_all(log.as_ref(), &ModLogFilter::default(), 10)
        .await?
        .into_iter()
        .filter(|entry| entry.bulk == Some(Uuid::from_u128(0x5678)))
        .collect();
    logged.sort_by_key(|entry| entry.target.id.clone());
    assert_eq!(logged.len(), 2);
    for ((entry, change), item) in logged.iter().zip(&approvals).zip(&held) {
        assert_eq!(entry.action, "item.approve");
        assert_eq!(entry.target, item.object);
        assert_eq!(entry.actor, change.log.actor);
        assert_eq!(entry.reason, change.log.reason);
        assert_eq!(entry.detail, change.log.detail);
        assert_eq!(entry.at, change.log.at);
        assert_eq!(
            (entry.before.as_deref(), entry.after.as_deref()),
            (Some("held"), Some("public"))
        );
    }
    Ok(())
}

/// `log` as a moderator wrote it for `status`, on an item log entry.
fn as_moderator(mut log: NewLogEntry, action: LogAction, status: ItemStatus) -> NewLogEntry {
    log.action = action;
    log.actor = Some(UserId::from(9_i64));
    log.reason = Some("straight to the log ✓".to_owned());
    log.from_status = None;
    log.to_status = Some(status);
    log
}

/// A log entry that names a moderator action reaches the moderation log
/// whichever way the store writes it: with a single insert, inside a batch
/// insert next to submissions, and with a flag. Submissions and flags do
/// not. Each copy carries the item as target, the verb `item.<action>` and
/// the entry's actor, reason, statuses, detail, IP and time. `store` and
/// `log` are two ports of one store.
///
/// # Errors
/// An unexpected store error.
pub async fn staff_actions_reach_the_log_however_written(
    store: Arc<dyn ModerationStore>,
    log: Arc<dyn ModerationLog>,
) -> ScenarioResult {
    let mut batch = (1..=3)
        .map(|n| items::held_comment(n, 10, n))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some((item, entry)) = batch.get_mut(1) {
        item.status = ItemStatus::Public;
        *entry = as_moderator(entry.clone(), LogAction::Approve, ItemStatus::Public);
    }
    let written = store.insert_items(batch.clone()).await?;
    let (mut single, entry) = items::held_comment(4, 10, 4)?;
    single.status = ItemStatus::Rejected;
    let rejected = as_moderator(entry, LogAction::Reject, ItemStatus::Rejected);
    let single = store.insert_item(single, rejected.clone()).await?;

    let first = written.first().ok_or(ModerationError::NotFound {
        item: moderation_core::ItemId(0),
    })?;
    let flag = NewLogEntry {
        action: LogAction::Flag,
        actor: Some(UserId::from(11_i64)),
        ..rejected.clone()
    };
    let flagged = store
        .add_flag(first.id, &UserId::from(11_i64), flag)
        .await?;
    assert_eq!(flagged, FlagOutcome::Added);
    let (_, entry) = items::held_comment(1, 10, 5)?;
    let removal = as_moderator(entry, LogAction::Remove, ItemStatus::Removed);
    store
        .add_flag(first.id, &UserId::from(12_i64), removal.clone())
        .await?;

    let mut entries = read_all(log.as_ref(), &ModLogFilter::default(), 10).await?;
    entries.reverse();
    let expected = [
        (batch.get(1).map(|(item, entry)| (&item.object, entry))),
        Some((&single.object, &rejected)),
        Some((&first.object, &removal)),
    ];
    assert_eq!(
        entries.len(),
        expected.len(),
        "one entry per moderator action: {entries:?}"
    );
    for (entry, expected) in entries.iter().zip(expected) {
        let (target, written) = expected.ok_or(ModerationError::Config(
            "the batch has a second item".to_owned(),
        ))?;
        let verb = written.action.moderation_log_verb();
        assert_eq!(Some(entry.action.as_str()), verb);
        assert_eq!(&entry.target, target);
        assert_eq!(entry.actor, written.actor);
        assert_eq!(entry.reason, written.reason);
        assert_eq!(
            entry.before,
            written.from_status.map(|s| s.as_str().to_owned())
        );
        assert_eq!(
            entry.after,
            written.to_status.map(|s| s.as_str().to_owned())
        );
        assert_eq!(entry.detail, written.detail);
        assert_eq!(entry.ip, written.ip);
        assert_eq!(entry.at, written.at);
    }
    Ok(())
}
