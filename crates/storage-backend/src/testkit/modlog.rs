//! Scenarios for moderation-core's [`ModerationLog`] port. Each takes a
//! fresh, empty log; run them with
//! [`store_scenarios!`](crate::store_scenarios) and
//! `port = dyn ModerationLog, memory = MemoryModerationLog::new()`.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use moderation_core::{
    Clock, Kind, ModLogEntry, ModLogFilter, ModerationError, ModerationLog, NewModLogEntry,
    ObjectRef, SystemClock, UserId,
};
use uuid::Uuid;

use super::ScenarioResult;

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
