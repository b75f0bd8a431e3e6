//! A bulk workflow decision closes its entries' review items together; when
//! the review store refuses that batch, each item is still closed on its own.
//! When the review store cannot be read, a decision that must respect claims
//! is refused, and one that ignores them goes ahead.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use moderation_core::workflow::{
    EntryVersion, MemoryObjectStore, ObjectAction, ObjectWorkflow, WorkflowOptions,
};
use moderation_core::{
    Actor, Claim, ClaimPolicy, Kind, MemoryReviewStore, ModerationError, NewReview, ObjectRef,
    Opened, ReviewCursor, ReviewFilter, ReviewHistoryEntry, ReviewId, ReviewItem, ReviewPage,
    ReviewPageRequest, ReviewStatus, ReviewStore, ReviewSubject, ReviewTransition, UserId,
};

mod profile;

use profile::Profile;

/// The memory review store with two faults to switch on: every
/// `transition_batch` refused as if another moderator had changed its first
/// item meanwhile, and every lookup by subject failing as if the database
/// were unreachable. It keeps the trait's default `reviews_for_subjects`,
/// one subject at a time.
#[derive(Debug, Default)]
struct FaultyReviews {
    inner: MemoryReviewStore,
    refuse_batches: AtomicBool,
    fail_lookups: AtomicBool,
    refused: AtomicUsize,
}

impl FaultyReviews {
    fn refusing_batches() -> Self {
        let store = Self::default();
        store.refuse_batches.store(true, Ordering::Relaxed);
        store
    }
}

#[async_trait]
impl ReviewStore for FaultyReviews {
    async fn open(&self, review: NewReview) -> Result<Opened, ModerationError> {
        self.inner.open(review).await
    }
    async fn review(&self, id: ReviewId) -> Result<Option<ReviewItem>, ModerationError> {
        self.inner.review(id).await
    }
    async fn review_for_subject(
        &self,
        subject: &ReviewSubject,
    ) -> Result<Option<ReviewItem>, ModerationError> {
        if self.fail_lookups.load(Ordering::Relaxed) {
            return Err(ModerationError::store("the review store is unreachable"));
        }
        self.inner.review_for_subject(subject).await
    }
    async fn list(
        &self,
        filter: &ReviewFilter,
        page: &ReviewPageRequest,
    ) -> Result<ReviewPage, ModerationError> {
        self.inner.list(filter, page).await
    }
    async fn claim(&self, claim: Claim) -> Result<ReviewItem, ModerationError> {
        self.inner.claim(claim).await
    }
    async fn release(
        &self,
        review: ReviewId,
        by: &UserId,
        at: DateTime<Utc>,
    ) -> Result<ReviewItem, ModerationError> {
        self.inner.release(review, by, at).await
    }
    async fn transition(
        &self,
        transition: ReviewTransition,
    ) -> Result<ReviewItem, ModerationError> {
        self.inner.transition(transition).await
    }
    async fn transition_batch(
        &self,
        transitions: Vec<ReviewTransition>,
    ) -> Result<Vec<ReviewItem>, ModerationError> {
        if !self.refuse_batches.load(Ordering::Relaxed) {
            return self.inner.transition_batch(transitions).await;
        }
        self.refused.fetch_add(1, Ordering::Relaxed);
        let first = transitions.first().ok_or(ModerationError::ReviewNotFound {
            review: ReviewId(0),
        })?;
        Err(ModerationError::ReviewConflict {
            review: first.review,
            expected: first.expected_version,
            actual: first.expected_version + 1,
        })
    }
    async fn history(&self, review: ReviewId) -> Result<Vec<ReviewHistoryEntry>, ModerationError> {
        self.inner.history(review).await
    }
    async fn stale(
        &self,
        before: DateTime<Utc>,
        after: Option<ReviewCursor>,
        limit: u32,
    ) -> Result<Vec<ReviewItem>, ModerationError> {
        self.inner.stale(before, after, limit).await
    }
}

#[tokio::test]
async fn a_refused_batch_closes_each_review_item_on_its_own()
-> Result<(), Box<dyn std::error::Error>> {
    let reviews = Arc::new(FaultyReviews::refusing_batches());
    let workflow = ObjectWorkflow::builder(Arc::new(MemoryObjectStore::new()))
        .review_store(reviews.clone())
        .build();
    workflow.register_type::<Profile>(WorkflowOptions::new())?;
    let member = Actor::user(UserId::from(7_i64));
    let mut targets = Vec::new();
    for id in 1..=3 {
        let saved = workflow
            .create(
                &member,
                &Profile {
                    id,
                    bio: "new".into(),
                },
            )
            .await?;
        let entry = saved
            .entry
            .ok_or(ModerationError::UnknownEntry { entry: 0 })?;
        targets.push(EntryVersion::from(&entry));
    }
    let moderator = Actor::user(UserId::from(1_i64)).with_staff(true);
    workflow
        .bulk(&moderator, ObjectAction::Approve, &targets, Some("fine"))
        .await?;

    assert_eq!(
        reviews.refused.load(Ordering::Relaxed),
        1,
        "one batch was tried"
    );
    let kind = Kind::new("profile")?;
    let subjects: Vec<ReviewSubject> = (1..=3_i64)
        .map(|id| ReviewSubject::ObjectChange {
            object: ObjectRef::new(kind.clone(), id),
            revision: 1,
        })
        .collect();
    let mut asked = subjects.clone();
    asked.extend(subjects.iter().cloned());
    let items = reviews.reviews_for_subjects(&asked).await?;
    assert_eq!(items.len(), 3, "each item once: {items:?}");
    for item in &items {
        assert_eq!(item.status, ReviewStatus::Approved, "{item:?}");
        let step = reviews.history(item.id).await?.pop().ok_or("no history")?;
        assert_eq!(step.actor, Some(UserId::from(1_i64)));
        assert!(step.bulk.is_some(), "the step keeps the action's bulk id");
    }
    Ok(())
}

/// A workflow over `reviews` with `claims`, and one queued profile's entry.
async fn one_queued_change(
    reviews: &Arc<FaultyReviews>,
    claims: ClaimPolicy,
) -> Result<(ObjectWorkflow, EntryVersion), Box<dyn std::error::Error>> {
    let workflow = ObjectWorkflow::builder(Arc::new(MemoryObjectStore::new()))
        .review_store(reviews.clone())
        .claims(claims)
        .build();
    workflow.register_type::<Profile>(WorkflowOptions::new())?;
    let saved = workflow
        .create(
            &Actor::user(UserId::from(7_i64)),
            &Profile {
                id: 1,
                bio: "new".into(),
            },
        )
        .await?;
    let entry = saved
        .entry
        .ok_or(ModerationError::UnknownEntry { entry: 0 })?;
    Ok((workflow, EntryVersion::from(&entry)))
}

#[tokio::test]
async fn claims_that_cannot_be_read_refuse_the_decision() -> Result<(), Box<dyn std::error::Error>>
{
    let reviews = Arc::new(FaultyReviews::default());
    let (workflow, entry) = one_queued_change(&reviews, ClaimPolicy::Optional).await?;
    reviews.fail_lookups.store(true, Ordering::Relaxed);
    let moderator = Actor::user(UserId::from(1_i64)).with_staff(true);

    let refused = workflow.approve(&moderator, entry, Some("fine")).await;
    assert!(
        matches!(&refused, Err(ModerationError::Store { .. })),
        "the claims could not be checked: {refused:?}"
    );
    let stored = workflow.entry(entry.id).await?.ok_or("entry gone")?;
    assert_eq!(
        (stored.status, stored.version, stored.decided_by),
        (
            moderation_core::workflow::EntryStatus::Pending,
            entry.version,
            None
        ),
        "nothing was written"
    );
    Ok(())
}

#[tokio::test]
async fn with_claims_off_an_unreadable_review_store_does_not_stop_the_decision()
-> Result<(), Box<dyn std::error::Error>> {
    let reviews = Arc::new(FaultyReviews::default());
    let (workflow, entry) = one_queued_change(&reviews, ClaimPolicy::Off).await?;
    reviews.fail_lookups.store(true, Ordering::Relaxed);
    let moderator = Actor::user(UserId::from(1_i64)).with_staff(true);

    let taken = workflow.approve(&moderator, entry, Some("fine")).await?;
    assert_eq!(
        taken.entry.status,
        moderation_core::workflow::EntryStatus::Approved
    );
    reviews.fail_lookups.store(false, Ordering::Relaxed);
    let subject = ReviewSubject::ObjectChange {
        object: ObjectRef::new(Kind::new("profile")?, 1_i64),
        revision: 1,
    };
    let item = reviews
        .review_for_subject(&subject)
        .await?
        .ok_or("no review item")?;
    assert_eq!(
        item.status,
        ReviewStatus::Pending,
        "its item could not be closed and stays open"
    );
    Ok(())
}
