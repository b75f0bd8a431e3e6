//! Scenarios for the `ReviewStore` port. Each takes a fresh, empty store;
//! `tests/review.rs` runs them on memory, SQLite and PostgreSQL.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use moderation_core::{
    AuthorKey, Claim, ClaimCheck, ItemId, Kind, MAX_PAGE_SIZE, ModLogEntry, ModLogFilter,
    ModerationError, ModerationLog, NewReview, ObjectRef, PageRequest, ReviewAction, ReviewCursor,
    ReviewEvent, ReviewFilter, ReviewId, ReviewItem, ReviewPageRequest, ReviewReason, ReviewSort,
    ReviewStatus, ReviewStore, ReviewSubject, ReviewTransition, UserId,
};

use super::ScenarioResult;
use super::items::base_time;

/// The time `offset_secs` after [`base_time`].
#[must_use]
pub fn at(offset_secs: i64) -> DateTime<Utc> {
    base_time() + Duration::seconds(offset_secs)
}

/// A user id from a number.
#[must_use]
pub fn user(n: i64) -> UserId {
    UserId::from(n)
}

/// A review of the held submission `item` by user `author`, with one reason
/// `code` of weight `score`, opened `offset_secs` after [`base_time`].
///
/// # Errors
/// Never in practice: the kind name is valid.
pub fn submission_review(
    item: i64,
    author: i64,
    code: &str,
    score: i32,
    offset_secs: i64,
) -> Result<NewReview, ModerationError> {
    Ok(NewReview {
        subject: ReviewSubject::Submission(ItemId(item)),
        kind: Kind::new("blog.comment")?,
        author: Some(AuthorKey::User(user(author))),
        reasons: vec![ReviewReason::new(code, format!("{code} on {item}"), score)],
        priority: 0,
        created_at: at(offset_secs),
    })
}

/// A moderator's `action` on `review` read at `version`, with claims off.
#[must_use]
pub fn act(review: ReviewId, version: i64, action: ReviewAction, by: i64) -> ReviewTransition {
    ReviewTransition {
        review,
        expected_version: version,
        event: ReviewEvent::Act(action),
        to: action.target(),
        actor: Some(user(by)),
        claim: ClaimCheck::Off,
        reason: Some(format!("{action} by {by}")),
        message: None,
        ip: None,
        bulk: None,
        at: at(3_600),
    }
}

/// Opening a pending subject again merges reasons by code (adding scores),
/// keeps the larger priority, bumps the version and records `merge`; once
/// decided, the subject opens a new item, which `review_for_subject` finds.
pub async fn open_is_idempotent_per_subject(store: Arc<dyn ReviewStore>) -> ScenarioResult {
    let first = store
        .open(submission_review(1, 10, "first_timer", 1, 0)?)
        .await?;
    assert!(first.created);
    assert_eq!((first.item.version, first.item.score), (1, 1));
    let mut again = submission_review(1, 10, "first_timer", 2, 5)?;
    again
        .reasons
        .push(ReviewReason::new("spam", "Spam score 0.9", 5));
    again.priority = 3;
    let merged = store.open(again).await?;
    assert!(!merged.created);
    assert_eq!(merged.item.id, first.item.id);
    assert_eq!(merged.item.version, 2);
    assert_eq!(merged.item.score, 8);
    assert_eq!(merged.item.priority, 3);
    assert_eq!(merged.item.updated_at, at(5));
    assert_eq!(merged.item.created_at, at(0));
    let codes: Vec<(&str, i32)> = merged
        .item
        .reasons
        .iter()
        .map(|r| (r.code.as_str(), r.score))
        .collect();
    assert_eq!(codes, [("first_timer", 3), ("spam", 5)]);
    assert_eq!(
        store.review(first.item.id).await?,
        Some(merged.item.clone())
    );
    let events: Vec<ReviewEvent> = store
        .history(first.item.id)
        .await?
        .into_iter()
        .map(|step| step.event)
        .collect();
    assert_eq!(events, [ReviewEvent::Open, ReviewEvent::Merge]);

    store
        .transition(act(merged.item.id, 2, ReviewAction::Approve, 1))
        .await?;
    let reopened = store.open(submission_review(1, 10, "flag", 1, 10)?).await?;
    assert!(reopened.created);
    assert_ne!(reopened.item.id, first.item.id);
    let subject = ReviewSubject::Submission(ItemId(1));
    assert_eq!(
        store.review_for_subject(&subject).await?,
        Some(reopened.item)
    );
    Ok(())
}

/// `reviews_for_subjects` answers for many subjects at once exactly what
/// `review_for_subject` answers for each: the newest item of a subject
/// (decided or pending), nothing for a subject without one, each item once
/// however often its subject is asked for. 600 subjects span more than one
/// statement in the SQL stores.
///
/// # Errors
/// An unexpected store error.
pub async fn reviews_for_subjects_finds_the_newest_of_each(
    store: Arc<dyn ReviewStore>,
) -> ScenarioResult {
    let first = store.open(submission_review(1, 10, "hold", 1, 0)?).await?;
    store
        .transition(act(first.item.id, 1, ReviewAction::Approve, 1))
        .await?;
    let reopened = store.open(submission_review(1, 10, "flag", 1, 10)?).await?;
    let decided = store.open(submission_review(2, 11, "hold", 1, 20)?).await?;
    let decided = store
        .transition(act(decided.item.id, 1, ReviewAction::Reject, 1))
        .await?;
    let subject = |n: i64| ReviewSubject::Submission(ItemId(n));
    let mut found = store
        .reviews_for_subjects(&[subject(1), subject(2), subject(3), subject(1)])
        .await?;
    found.sort_by_key(|item| item.id);
    assert_eq!(found, [reopened.item.clone(), decided.clone()]);
    assert!(store.reviews_for_subjects(&[]).await?.is_empty());

    let mut opened = vec![reopened.item, decided];
    for n in 3..=600 {
        opened.push(
            store
                .open(submission_review(n, n % 7, "hold", 1, n)?)
                .await?
                .item,
        );
    }
    let subjects: Vec<ReviewSubject> = (1..=650).rev().map(subject).collect();
    let mut found = store.reviews_for_subjects(&subjects).await?;
    found.sort_by_key(|item| item.id);
    opened.sort_by_key(|item| item.id);
    assert_eq!(found, opened);
    for item in found.iter().step_by(97) {
        assert_eq!(
            store.review_for_subject(&item.subject).await?.as_ref(),
            Some(item)
        );
    }
    Ok(())
}

/// Every action from every status: allowed moves apply, the others are
/// `TransitionRefused` and write nothing.
pub async fn actions_follow_allowed_transitions(store: Arc<dyn ReviewStore>) -> ScenarioResult {
    let reach = [
        (ReviewStatus::Pending, Vec::new()),
        (ReviewStatus::Approved, vec![ReviewAction::Approve]),
        (ReviewStatus::Rejected, vec![ReviewAction::Reject]),
        (ReviewStatus::Ignored, vec![ReviewAction::Ignore]),
        (ReviewStatus::Deleted, vec![ReviewAction::Delete]),
    ];
    let mut n = 0;
    for (from, path) in reach {
        for action in ReviewAction::ALL {
            n += 1;
            let opened = store.open(submission_review(n, 10, "hold", 1, n)?).await?;
            let mut item = opened.item;
            for step in &path {
                item = store
                    .transition(act(item.id, item.version, *step, 1))
                    .await?;
            }
            assert_eq!(item.status, from);
            let steps_before = store.history(item.id).await?.len();
            let outcome = store
                .transition(act(item.id, item.version, action, 2))
                .await;
            if action.allowed_from(from) {
                let after = outcome?;
                assert_eq!(after.status, action.target(), "{action} from {from}");
                assert_eq!(after.version, item.version + 1);
                assert_eq!(after.claimed_by, None);
                assert_eq!(store.history(item.id).await?.len(), steps_before + 1);
            } else {
                assert!(
                    matches!(outcome, Err(ModerationError::TransitionRefused { action: a, from: f, .. }) if a == action && f == from),
                    "{action} from {from}: {outcome:?}"
                );
                assert_eq!(store.review(item.id).await?, Some(item.clone()));
                assert_eq!(store.history(item.id).await?.len(), steps_before);
            }
        }
    }
    Ok(())
}

/// A stale version is `ReviewConflict` with both versions and writes
/// nothing; a missing item is `ReviewNotFound`.
pub async fn stale_version_conflicts(store: Arc<dyn ReviewStore>) -> ScenarioResult {
    let opened = store.open(submission_review(1, 10, "hold", 1, 0)?).await?;
    let merged = store.open(submission_review(1, 11, "hold", 1, 1)?).await?;
    let outcome = store
        .transition(act(opened.item.id, 1, ReviewAction::Reject, 1))
        .await;
    assert!(
        matches!(
            outcome,
            Err(ModerationError::ReviewConflict {
                expected: 1,
                actual: 2,
                ..
            })
        ),
        "{outcome:?}"
    );
    assert_eq!(store.review(opened.item.id).await?, Some(merged.item));
    assert_eq!(store.history(opened.item.id).await?.len(), 2);
    let missing = store
        .transition(act(ReviewId(9_999), 1, ReviewAction::Approve, 1))
        .await;
    assert!(matches!(
        missing,
        Err(ModerationError::ReviewNotFound {
            review: ReviewId(9_999)
        })
    ));
    Ok(())
}

/// Claims: an unclaimed item cannot be acted on when a claim is required;
/// someone else's claim refuses both claiming and acting until its lease
/// ends; then it may be taken over. Only pending items can be claimed.
pub async fn claims_are_leased(store: Arc<dyn ReviewStore>) -> ScenarioResult {
    let item = store
        .open(submission_review(1, 10, "hold", 1, 0)?)
        .await?
        .item;
    let required = |by: i64, now: i64| ReviewTransition {
        claim: ClaimCheck::HeldByActor,
        at: at(now),
        ..act(item.id, 1, ReviewAction::Approve, by)
    };
    assert!(matches!(
        store.transition(required(1, 10)).await,
        Err(ModerationError::ClaimRequired { .. })
    ));
    let claimed = store
        .claim(Claim {
            review: item.id,
            by: user(1),
            at: at(10),
            until: at(610),
        })
        .await?;
    assert_eq!(claimed.claimed_by, Some(user(1)));
    assert_eq!(claimed.claim_expires_at, Some(at(610)));
    assert_eq!(claimed.version, 1, "claims do not bump the version");
    let by_other = store
        .claim(Claim {
            review: item.id,
            by: user(2),
            at: at(20),
            until: at(620),
        })
        .await;
    assert!(
        matches!(&by_other, Err(ModerationError::Claimed { by, .. }) if *by == user(1)),
        "{by_other:?}"
    );
    assert!(matches!(
        store.transition(required(2, 20)).await,
        Err(ModerationError::Claimed { .. })
    ));
    let optional = ReviewTransition {
        claim: ClaimCheck::NotHeldByOther,
        at: at(20),
        ..act(item.id, 1, ReviewAction::Approve, 2)
    };
    assert!(matches!(
        store.transition(optional).await,
        Err(ModerationError::Claimed { .. })
    ));
    assert!(matches!(
        store.release(item.id, &user(2), at(30)).await,
        Err(ModerationError::Claimed { .. })
    ));
    // The lease ends at 610: user 2 takes the item over and acts.
    let taken = store
        .claim(Claim {
            review: item.id,
            by: user(2),
            at: at(610),
            until: at(1_210),
        })
        .await?;
    assert_eq!(taken.claimed_by, Some(user(2)));
    let approved = store.transition(required(2, 700)).await?;
    assert_eq!(approved.status, ReviewStatus::Approved);
    assert_eq!(
        (approved.claimed_by, approved.claim_expires_at),
        (None, None)
    );
    let not_pending = store
        .claim(Claim {
            review: item.id,
            by: user(1),
            at: at(800),
            until: at(900),
        })
        .await;
    assert!(matches!(
        not_pending,
        Err(ModerationError::NotPending {
            status: ReviewStatus::Approved,
            ..
        })
    ));
    // Release by the holder clears the claim; with none, it is a no-op.
    let other = store
        .open(submission_review(2, 10, "hold", 1, 0)?)
        .await?
        .item;
    store
        .claim(Claim {
            review: other.id,
            by: user(1),
            at: at(10),
            until: at(610),
        })
        .await?;
    let released = store.release(other.id, &user(1), at(20)).await?;
    assert_eq!(released.claimed_by, None);
    assert_eq!(store.release(other.id, &user(1), at(30)).await?, released);
    Ok(())
}

/// The history keeps every step in order, with actor, statuses, reason,
/// message, bulk id and time; delete and restore keep the item.
pub async fn history_records_every_step(store: Arc<dyn ReviewStore>) -> ScenarioResult {
    let item = store
        .open(submission_review(1, 10, "hold", 1, 0)?)
        .await?
        .item;
    store.open(submission_review(1, 10, "spam", 2, 1)?).await?;
    store
        .claim(Claim {
            review: item.id,
            by: user(1),
            at: at(2),
            until: at(600),
        })
        .await?;
    store.release(item.id, &user(1), at(3)).await?;
    let bulk = uuid::Uuid::new_v4();
    let deleted = store
        .transition(ReviewTransition {
            message: Some("Please read the rules.".to_owned()),
            bulk: Some(bulk),
            ..act(item.id, 2, ReviewAction::Delete, 1)
        })
        .await?;
    let restored = store
        .transition(act(item.id, deleted.version, ReviewAction::Restore, 2))
        .await?;
    assert_eq!(restored.status, ReviewStatus::Pending);
    assert_eq!(store.review(item.id).await?, Some(restored));
    let history = store.history(item.id).await?;
    let summary: Vec<(ReviewEvent, Option<ReviewStatus>, ReviewStatus)> = history
        .iter()
        .map(|step| (step.event, step.from_status, step.to_status))
        .collect();
    use ReviewStatus::{Deleted, Pending};
    assert_eq!(
        summary,
        [
            (ReviewEvent::Open, None, Pending),
            (ReviewEvent::Merge, Some(Pending), Pending),
            (ReviewEvent::Claim, Some(Pending), Pending),
            (ReviewEvent::Release, Some(Pending), Pending),
            (
                ReviewEvent::Act(ReviewAction::Delete),
                Some(Pending),
                Deleted
            ),
            (
                ReviewEvent::Act(ReviewAction::Restore),
                Some(Deleted),
                Pending
            ),
        ]
    );
    let ids: Vec<i64> = history.iter().map(|step| step.id).collect();
    assert!(ids.windows(2).all(|pair| pair.first() < pair.get(1)));
    let delete = history.get(4).cloned();
    assert_eq!(delete.as_ref().and_then(|s| s.actor.clone()), Some(user(1)));
    assert_eq!(
        delete.as_ref().and_then(|s| s.reason.clone()).as_deref(),
        Some("delete by 1")
    );
    assert_eq!(
        delete.as_ref().and_then(|s| s.message.clone()).as_deref(),
        Some("Please read the rules.")
    );
    assert_eq!(delete.as_ref().and_then(|s| s.bulk), Some(bulk));
    assert_eq!(delete.map(|s| s.at), Some(at(3_600)));
    assert!(store.history(ReviewId(9_999)).await?.is_empty());
    Ok(())
}

/// Every page of `filter` in `sort` order, `limit` at a time.
///
/// # Errors
/// The store's error.
pub async fn all_pages(
    store: &dyn ReviewStore,
    filter: &ReviewFilter,
    sort: ReviewSort,
    limit: u32,
) -> Result<Vec<ReviewItem>, ModerationError> {
    let mut page = ReviewPageRequest::first(sort, limit);
    let mut items = Vec::new();
    loop {
        let got = store.list(filter, &page).await?;
        assert!(got.items.len() <= usize::try_from(limit).unwrap_or(usize::MAX));
        items.extend(got.items);
        match got.next {
            Some(cursor) => page = page.next(cursor),
            None => return Ok(items),
        }
    }
}

/// `items` filtered and sorted as the reference semantics say.
#[must_use]
pub fn expected_listing(
    items: &[ReviewItem],
    filter: &ReviewFilter,
    sort: ReviewSort,
) -> Vec<ReviewItem> {
    let mut expected: Vec<ReviewItem> = items
        .iter()
        .filter(|item| filter.matches(item))
        .cloned()
        .collect();
    match sort {
        ReviewSort::ScoreDesc => {
            expected.sort_by(|a, b| b.score.cmp(&a.score).then(a.id.cmp(&b.id)));
        }
        ReviewSort::Oldest => expected.sort_by_key(|item| (item.created_at, item.id)),
    }
    expected
}

/// Each filter and both sorts, paged 4 at a time over 40 items with tied
/// scores and times: the pages join up to exactly the filtered, sorted list
/// (no duplicate, no gap).
pub async fn list_filters_sorts_and_pages(store: Arc<dyn ReviewStore>) -> ScenarioResult {
    let page_kind = Kind::new("wiki.page")?;
    let mut items = Vec::new();
    for n in 0..40_i64 {
        let mut review = submission_review(
            n,
            n % 3,
            match n % 3 {
                0 => "hold",
                1 => "spam",
                _ => "flag",
            },
            i32::try_from(n % 5).unwrap_or(0),
            n / 4,
        )?;
        if n % 4 == 0 {
            review.subject = ReviewSubject::Content(ObjectRef::new(page_kind.clone(), n));
            review.kind = page_kind.clone();
        }
        if n % 7 == 0 {
            review
                .reasons
                .push(ReviewReason::new("link", "Has a link", 2));
        }
        review.priority = i32::try_from(n % 4).unwrap_or(0);
        let item = store.open(review).await?.item;
        let item = match n % 6 {
            1 => {
                store
                    .transition(act(item.id, 1, ReviewAction::Approve, 1))
                    .await?
            }
            2 => {
                store
                    .transition(act(item.id, 1, ReviewAction::Delete, 1))
                    .await?
            }
            _ => item,
        };
        items.push(item);
    }
    let filters = [
        ReviewFilter::default(),
        ReviewFilter::pending(),
        ReviewFilter {
            status: Some(ReviewStatus::Deleted),
            ..ReviewFilter::default()
        },
        ReviewFilter {
            kind: Some(page_kind.clone()),
            ..ReviewFilter::pending()
        },
        ReviewFilter {
            reason: Some("link".to_owned()),
            ..ReviewFilter::default()
        },
        ReviewFilter {
            author: Some(AuthorKey::User(user(2))),
            ..ReviewFilter::default()
        },
        ReviewFilter {
            created_from: Some(at(3)),
            created_before: Some(at(7)),
            ..ReviewFilter::default()
        },
        ReviewFilter {
            min_priority: Some(2),
            ..ReviewFilter::pending()
        },
    ];
    for filter in &filters {
        for sort in [ReviewSort::ScoreDesc, ReviewSort::Oldest] {
            let listed = all_pages(store.as_ref(), filter, sort, 4).await?;
            let ids: HashSet<ReviewId> = listed.iter().map(|item| item.id).collect();
            assert_eq!(
                ids.len(),
                listed.len(),
                "duplicates for {filter:?} {sort:?}"
            );
            assert_eq!(
                listed,
                expected_listing(&items, filter, sort),
                "{filter:?} {sort:?}"
            );
        }
    }
    Ok(())
}

/// 1 000 approvals in one batch: all applied, 1 000 history steps under
/// one bulk id; a batch with one stale version applies nothing.
pub async fn bulk_transition_of_1000(store: Arc<dyn ReviewStore>) -> ScenarioResult {
    let mut items = Vec::new();
    for n in 0..1_000 {
        items.push(
            store
                .open(submission_review(n, n % 10, "hold", 1, n)?)
                .await?
                .item,
        );
    }
    let refused: Vec<ReviewTransition> = items
        .iter()
        .enumerate()
        .map(|(n, item)| {
            act(
                item.id,
                if n == 999 { 7 } else { 1 },
                ReviewAction::Ignore,
                1,
            )
        })
        .collect();
    assert!(matches!(
        store.transition_batch(refused).await,
        Err(ModerationError::ReviewConflict { .. })
    ));
    let pending = all_pages(
        store.as_ref(),
        &ReviewFilter::pending(),
        ReviewSort::Oldest,
        500,
    )
    .await?;
    assert_eq!(pending.len(), 1_000, "a refused batch writes nothing");
    let bulk = uuid::Uuid::new_v4();
    let approvals: Vec<ReviewTransition> = items
        .iter()
        .map(|item| ReviewTransition {
            bulk: Some(bulk),
            ..act(item.id, 1, ReviewAction::Approve, 1)
        })
        .collect();
    let approved = store.transition_batch(approvals).await?;
    assert_eq!(approved.len(), 1_000);
    assert!(
        approved
            .iter()
            .all(|item| item.status == ReviewStatus::Approved && item.version == 2)
    );
    let listed = all_pages(
        store.as_ref(),
        &ReviewFilter {
            status: Some(ReviewStatus::Approved),
            ..ReviewFilter::default()
        },
        ReviewSort::Oldest,
        500,
    )
    .await?;
    assert_eq!(listed, approved);
    let mut steps = 0;
    for item in &items {
        let history = store.history(item.id).await?;
        steps += history
            .iter()
            .filter(|step| step.bulk == Some(bulk))
            .count();
    }
    assert_eq!(steps, 1_000);
    Ok(())
}

/// `stale` pages through pending items created before the cut-off only,
/// oldest first.
pub async fn stale_lists_old_pending_items(store: Arc<dyn ReviewStore>) -> ScenarioResult {
    let mut old = Vec::new();
    for n in 0..7 {
        let item = store
            .open(submission_review(n, 1, "hold", 1, n)?)
            .await?
            .item;
        old.push(item);
    }
    let decided = store
        .open(submission_review(100, 1, "hold", 1, 0)?)
        .await?
        .item;
    store
        .transition(act(decided.id, 1, ReviewAction::Reject, 1))
        .await?;
    store
        .open(submission_review(200, 1, "hold", 1, 50)?)
        .await?;
    let mut seen = Vec::new();
    let mut after: Option<ReviewCursor> = None;
    loop {
        let batch = store.stale(at(10), after, 3).await?;
        let Some(last) = batch.last() else { break };
        after = Some(ReviewCursor::after(last));
        seen.extend(batch);
    }
    assert_eq!(seen, old);
    Ok(())
}

/// Every entry of `log` matching `filter`, newest first.
///
/// # Errors
/// The log's error.
pub async fn all_log_entries(
    log: &dyn ModerationLog,
    filter: &ModLogFilter,
) -> Result<Vec<ModLogEntry>, ModerationError> {
    let mut page = PageRequest::first(MAX_PAGE_SIZE);
    let mut entries = Vec::new();
    loop {
        let got = log.mod_log(filter, page).await?;
        entries.extend(got.items);
        match got.next {
            Some(cursor) => page.after = Some(cursor),
            None => return Ok(entries),
        }
    }
}

/// Each applied action appends one moderation-log entry (`review.<action>`,
/// statuses before and after, the subject's object as target) with its
/// transition; a refused action or batch appends none; a bulk approve of
/// 1 000 items appends 1 000 entries under its bulk id. `log` must be the
/// moderation log `store` writes to.
pub async fn actions_write_the_moderation_log(
    store: Arc<dyn ReviewStore>,
    log: Arc<dyn ModerationLog>,
) -> ScenarioResult {
    let one = store
        .open(submission_review(5_000, 1, "hold", 1, 0)?)
        .await?
        .item;
    store
        .transition(ReviewTransition {
            ip: Some(std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1))),
            ..act(one.id, 1, ReviewAction::Reject, 3)
        })
        .await?;
    assert!(
        store
            .transition(act(one.id, 1, ReviewAction::Approve, 3))
            .await
            .is_err()
    );
    let entries = all_log_entries(log.as_ref(), &ModLogFilter::default()).await?;
    assert_eq!(entries.len(), 1);
    let entry = entries.first().cloned();
    assert_eq!(
        entry.as_ref().map(|e| e.action.as_str()),
        Some("review.reject")
    );
    assert_eq!(entry.as_ref().and_then(|e| e.actor.clone()), Some(user(3)));
    assert_eq!(
        entry.as_ref().map(|e| e.target.clone()),
        Some(ObjectRef::new(Kind::new("blog.comment")?, 5_000_i64))
    );
    assert_eq!(
        entry
            .as_ref()
            .map(|e| (e.before.as_deref(), e.after.as_deref())),
        Some((Some("pending"), Some("rejected")))
    );
    assert_eq!(
        entry.as_ref().and_then(|e| e.reason.as_deref()),
        Some("reject by 3")
    );
    assert!(entry.as_ref().is_some_and(|e| e.ip.is_some()));
    assert_eq!(entry.map(|e| e.at), Some(at(3_600)));

    let mut items = Vec::new();
    for n in 0..1_000 {
        items.push(
            store
                .open(submission_review(n, 1, "hold", 1, n)?)
                .await?
                .item,
        );
    }
    let bulk = uuid::Uuid::new_v4();
    let approvals: Vec<ReviewTransition> = items
        .iter()
        .map(|item| ReviewTransition {
            bulk: Some(bulk),
            ..act(item.id, 1, ReviewAction::Approve, 2)
        })
        .collect();
    let mut refused = approvals.clone();
    if let Some(last) = refused.last_mut() {
        last.expected_version = 9;
    }
    assert!(store.transition_batch(refused).await.is_err());
    assert_eq!(
        all_log_entries(log.as_ref(), &ModLogFilter::default())
            .await?
            .len(),
        1,
        "a refused batch logs nothing"
    );
    store.transition_batch(approvals).await?;
    let by_two = ModLogFilter {
        actor: Some(user(2)),
        ..ModLogFilter::default()
    };
    let entries = all_log_entries(log.as_ref(), &by_two).await?;
    assert_eq!(entries.len(), 1_000);
    assert!(
        entries
            .iter()
            .all(|e| e.bulk == Some(bulk) && e.action == "review.approve")
    );
    Ok(())
}

/// A subject whose key does not read back as itself (a string id with a
/// control character) is `InvalidSubject`, and nothing is written.
pub async fn invalid_subjects_are_refused(store: Arc<dyn ReviewStore>) -> ScenarioResult {
    let mut review = submission_review(1, 1, "hold", 1, 0)?;
    review.subject = ReviewSubject::Content(ObjectRef::new(
        Kind::new("wiki.page")?,
        moderation_core::ObjectId::Str("bad\nid".to_owned()),
    ));
    let outcome = store.open(review.clone()).await;
    assert!(
        matches!(outcome, Err(ModerationError::InvalidSubject { .. })),
        "{outcome:?}"
    );
    assert_eq!(store.review_for_subject(&review.subject).await?, None);
    let listed = store
        .list(
            &ReviewFilter::default(),
            &ReviewPageRequest::first(ReviewSort::Oldest, 10),
        )
        .await?;
    assert!(listed.items.is_empty());
    Ok(())
}
