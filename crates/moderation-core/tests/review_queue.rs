//! The review queue service over the memory store: claims under each
//! policy with a manual clock, handlers and their compensation, observers,
//! messages to authors, bulk actions and stale auto-handling.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{Duration, TimeZone, Utc};
use moderation_core::{
    ActionContext, Actor, AuthorKey, BoxError, ClaimPolicy, Clock, ItemId, Kind, ManualClock,
    MemoryReviewStore, ModerationError, NewReview, ObjectRef, RecordingNotifier, ReviewAction,
    ReviewDecision, ReviewEvent, ReviewFilter, ReviewItem, ReviewObserver, ReviewQueue,
    ReviewQueueBuilder, ReviewReason, ReviewSort, ReviewStatus, ReviewSubject, StalePolicy,
    SubjectHandler, SubjectType, UserId, Verdict,
};

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap(),
    ))
}

fn builder(clock: &Arc<ManualClock>) -> ReviewQueueBuilder {
    ReviewQueue::builder(Arc::new(MemoryReviewStore::new())).clock(clock.clone())
}

fn moderator(n: i64) -> Actor {
    Actor::user(UserId::from(n)).with_staff(true)
}

fn submission(item: i64, clock: &ManualClock) -> NewReview {
    NewReview {
        subject: ReviewSubject::Submission(ItemId(item)),
        kind: Kind::new("blog.comment").unwrap(),
        author: Some(AuthorKey::User(UserId::from(100 + item))),
        reasons: vec![ReviewReason::new("first_timer", "First comment", 1)],
        priority: 0,
        created_at: clock.now(),
    }
}

fn flagged(n: i64, clock: &ManualClock) -> NewReview {
    NewReview {
        subject: ReviewSubject::Content(ObjectRef::new(Kind::new("forum.post").unwrap(), n)),
        kind: Kind::new("forum.post").unwrap(),
        reasons: vec![ReviewReason::new("flag.spam", "Flagged as spam", 3)],
        ..submission(n, clock)
    }
}

#[tokio::test]
async fn required_claims_refuse_unclaimed_items_and_others_until_the_lease_ends() {
    let clock = clock();
    let queue = builder(&clock)
        .claims(ClaimPolicy::Required, Duration::minutes(10))
        .build();
    let item = queue.open(submission(1, &clock)).await.unwrap().item;
    let approve = async |by: Actor| {
        queue
            .decide(item.id, item.version, ReviewAction::Approve, &by, None)
            .await
    };
    assert!(matches!(
        approve(moderator(1)).await,
        Err(ModerationError::ClaimRequired { .. })
    ));
    let claimed = queue.claim(item.id, &moderator(1)).await.unwrap();
    assert_eq!(
        claimed.claim_expires_at,
        Some(clock.now() + Duration::minutes(10))
    );
    clock.advance(Duration::minutes(9));
    assert!(matches!(
        queue.claim(item.id, &moderator(2)).await,
        Err(ModerationError::Claimed { .. })
    ));
    assert!(matches!(
        approve(moderator(2)).await,
        Err(ModerationError::Claimed { .. })
    ));
    clock.advance(Duration::minutes(1));
    queue.claim(item.id, &moderator(2)).await.unwrap();
    assert!(matches!(
        approve(moderator(1)).await,
        Err(ModerationError::Claimed { .. })
    ));
    let approved = approve(moderator(2)).await.unwrap();
    assert_eq!(approved.status, ReviewStatus::Approved);
    assert!(matches!(
        queue.claim(item.id, &Actor::anonymous()).await,
        Err(ModerationError::AnonymousActor { .. })
    ));
}

#[tokio::test]
async fn optional_claims_let_anyone_act_unless_someone_else_holds_one() {
    let clock = clock();
    let queue = builder(&clock).build();
    assert_eq!(queue.claim_policy(), ClaimPolicy::Optional);
    let first = queue.open(submission(1, &clock)).await.unwrap().item;
    let approved = queue
        .decide(first.id, 1, ReviewAction::Approve, &moderator(1), None)
        .await
        .unwrap();
    assert_eq!(approved.status, ReviewStatus::Approved);
    let second = queue.open(submission(2, &clock)).await.unwrap().item;
    queue.claim(second.id, &moderator(1)).await.unwrap();
    assert!(matches!(
        queue
            .decide(second.id, 1, ReviewAction::Reject, &moderator(2), None)
            .await,
        Err(ModerationError::Claimed { .. })
    ));
    queue.release(second.id, &moderator(1)).await.unwrap();
    queue
        .decide(second.id, 1, ReviewAction::Reject, &moderator(2), None)
        .await
        .unwrap();
}

#[tokio::test]
async fn anonymous_actors_and_stale_versions_are_refused() {
    let clock = clock();
    let queue = builder(&clock)
        .claims(ClaimPolicy::Off, Duration::zero())
        .build();
    let item = queue.open(submission(1, &clock)).await.unwrap().item;
    queue.open(submission(1, &clock)).await.unwrap();
    assert!(matches!(
        queue
            .decide(item.id, 1, ReviewAction::Approve, &Actor::anonymous(), None)
            .await,
        Err(ModerationError::AnonymousActor { .. })
    ));
    let stale = queue
        .decide(item.id, 1, ReviewAction::Approve, &moderator(1), None)
        .await;
    assert!(stale.as_ref().is_err_and(ModerationError::is_conflict));
}

/// A handler that records its calls and fails when told to.
#[derive(Debug, Default)]
struct Recording {
    calls: Mutex<Vec<(ReviewAction, ReviewStatus)>>,
    fail: bool,
}

#[async_trait]
impl SubjectHandler for Recording {
    async fn apply(
        &self,
        item: &ReviewItem,
        context: &ActionContext,
    ) -> Result<(), ModerationError> {
        self.calls
            .lock()
            .unwrap()
            .push((context.action, item.status));
        if self.fail {
            return Err(ModerationError::Config("the publisher is down".to_owned()));
        }
        Ok(())
    }
}

#[async_trait]
impl ReviewObserver for Recording {
    async fn after_action(
        &self,
        item: &ReviewItem,
        context: &ActionContext,
    ) -> Result<(), BoxError> {
        self.calls
            .lock()
            .unwrap()
            .push((context.action, item.status));
        if self.fail {
            return Err("observer down".into());
        }
        Ok(())
    }
}

#[tokio::test]
async fn handlers_run_after_the_transition_and_a_failure_reverts_it() {
    let clock = clock();
    let handler = Arc::new(Recording {
        fail: true,
        ..Recording::default()
    });
    let observer = Arc::new(Recording::default());
    let queue = builder(&clock)
        .handler(SubjectType::Submission, handler.clone())
        .observer(observer.clone())
        .build();
    let item = queue.open(submission(1, &clock)).await.unwrap().item;
    let outcome = queue
        .decide(item.id, 1, ReviewAction::Approve, &moderator(1), None)
        .await;
    assert!(matches!(outcome, Err(ModerationError::Config(_))));
    // The handler saw the committed transition; the queue then reverted it.
    assert_eq!(
        *handler.calls.lock().unwrap(),
        [(ReviewAction::Approve, ReviewStatus::Approved)]
    );
    assert!(observer.calls.lock().unwrap().is_empty());
    let now = queue.get(item.id).await.unwrap();
    assert_eq!((now.status, now.version), (ReviewStatus::Pending, 3));
    let events: Vec<ReviewEvent> = queue
        .history(item.id)
        .await
        .unwrap()
        .into_iter()
        .map(|step| step.event)
        .collect();
    assert_eq!(
        events,
        [
            ReviewEvent::Open,
            ReviewEvent::Act(ReviewAction::Approve),
            ReviewEvent::Revert
        ]
    );
    // Content subjects have no handler: the same action simply stands.
    let flag = queue.open(flagged(2, &clock)).await.unwrap().item;
    queue
        .decide(flag.id, 1, ReviewAction::Ignore, &moderator(1), None)
        .await
        .unwrap();
    assert_eq!(
        *observer.calls.lock().unwrap(),
        [(ReviewAction::Ignore, ReviewStatus::Ignored)]
    );
}

#[tokio::test]
async fn a_failing_observer_never_undoes_the_action() {
    let clock = clock();
    let observer = Arc::new(Recording {
        fail: true,
        ..Recording::default()
    });
    let queue = builder(&clock).observer(observer.clone()).build();
    let item = queue.open(submission(1, &clock)).await.unwrap().item;
    let rejected = queue
        .decide(item.id, 1, ReviewAction::Reject, &moderator(1), None)
        .await
        .unwrap();
    assert_eq!(rejected.status, ReviewStatus::Rejected);
    assert_eq!(observer.calls.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn the_author_gets_the_message_through_the_notifier() {
    let clock = clock();
    let notifier = Arc::new(RecordingNotifier::new());
    let queue = builder(&clock)
        .notifier(notifier.clone())
        .author_recipients(|author| vec![format!("{}@example.org", author.to_key())])
        .build();
    let item = queue.open(submission(1, &clock)).await.unwrap().item;
    let decision = ReviewDecision::new(item.id, 1, ReviewAction::Reject)
        .reason("Off topic")
        .message("Please keep to the article's subject.");
    queue.act(&moderator(1), decision).await.unwrap();
    let sent = notifier.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].recipients, ["u:101@example.org"]);
    assert_eq!(sent[0].verdict, Verdict::Reject);
    assert_eq!(sent[0].subject, "Your blog.comment was not accepted");
    assert!(sent[0].body.contains("Off topic"));
    assert!(
        sent[0]
            .body
            .contains("Please keep to the article's subject.")
    );
    let history = queue.history(item.id).await.unwrap();
    assert_eq!(
        history.last().and_then(|step| step.message.as_deref()),
        Some("Please keep to the article's subject.")
    );
    // No message, nothing sent.
    let other = queue.open(submission(2, &clock)).await.unwrap().item;
    queue
        .decide(other.id, 1, ReviewAction::Approve, &moderator(1), None)
        .await
        .unwrap();
    assert_eq!(notifier.sent().len(), 1);
}

#[tokio::test]
async fn bulk_approve_runs_in_batches_under_one_bulk_id() {
    let clock = clock();
    let queue = builder(&clock).batch_size(300).build();
    let mut targets = Vec::new();
    for n in 0..1_000 {
        let item = queue.open(submission(n, &clock)).await.unwrap().item;
        targets.push((item.id, item.version));
    }
    let outcome = queue
        .bulk(
            &moderator(1),
            ReviewAction::Approve,
            &targets,
            Some("Spring clean".into()),
        )
        .await
        .unwrap();
    assert_eq!(outcome.applied.len(), 1_000);
    assert!(outcome.reverted.is_empty());
    for (id, _) in &targets {
        let history = queue.history(*id).await.unwrap();
        assert_eq!(
            history.last().and_then(|step| step.bulk),
            Some(outcome.bulk)
        );
    }
    let pending = queue
        .list(
            &ReviewFilter::pending(),
            &moderation_core::ReviewPageRequest::first(ReviewSort::Oldest, 10),
        )
        .await
        .unwrap();
    assert!(pending.items.is_empty());
}

#[tokio::test]
async fn stale_items_ignore_flags_and_reject_queued_posts_after_60_days() {
    let clock = clock();
    let queue = builder(&clock).batch_size(2).build();
    let post = queue.open(submission(1, &clock)).await.unwrap().item;
    let flag = queue.open(flagged(2, &clock)).await.unwrap().item;
    let mut more = Vec::new();
    for n in 3..8 {
        more.push(queue.open(submission(n, &clock)).await.unwrap().item);
    }
    clock.advance(Duration::days(59));
    let young = queue.open(submission(50, &clock)).await.unwrap().item;
    let report = queue.handle_stale(&moderator(9)).await.unwrap();
    assert_eq!(report, moderation_core::StaleReport::default());
    clock.advance(Duration::days(1) + Duration::seconds(1));
    let report = queue.handle_stale(&moderator(9)).await.unwrap();
    assert_eq!(
        (report.ignored, report.rejected, report.reverted),
        (1, 6, 0)
    );
    assert_eq!(
        queue.get(post.id).await.unwrap().status,
        ReviewStatus::Rejected
    );
    assert_eq!(
        queue.get(flag.id).await.unwrap().status,
        ReviewStatus::Ignored
    );
    assert_eq!(
        queue.get(young.id).await.unwrap().status,
        ReviewStatus::Pending
    );
    let custom = builder(&clock)
        .stale(StalePolicy {
            after: Duration::days(1),
            ..StalePolicy::default()
        })
        .build();
    assert_eq!(StalePolicy::default().after, Duration::days(60));
    let item = custom.open(submission(1, &clock)).await.unwrap().item;
    clock.advance(Duration::days(2));
    custom.handle_stale(&moderator(9)).await.unwrap();
    assert_eq!(
        custom.get(item.id).await.unwrap().status,
        ReviewStatus::Rejected
    );
}
