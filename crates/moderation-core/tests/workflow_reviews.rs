//! A workflow decision closes its change's review item in its own
//! transaction: when that transaction is refused because an item changed
//! since it was read, the batch is planned again and nothing is lost. When
//! the review store cannot be read, a decision that must respect claims is
//! refused, and one that ignores them goes ahead.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use moderation_core::workflow::{
    EntryId, EntryPage, EntryVersion, ModeratedObject, ObjectAction, ObjectEntry, ObjectStore,
    ObjectWorkflow, ObjectWrite, PendingQuery, PublicObject, PublicRead, ReviewWrites,
    ReviewedObjectStore, ReviewedWrite, StoredWrite, WorkflowOptions,
};
use moderation_core::{
    Actor, Claim, ClaimPolicy, Kind, MemoryStore, ModerationError, NewReview, ObjectId, ObjectRef,
    Opened, ReviewCursor, ReviewFilter, ReviewHistoryEntry, ReviewId, ReviewItem, ReviewPage,
    ReviewPageRequest, ReviewStatus, ReviewStore, ReviewSubject, ReviewTransition, UserId,
};

mod profile;

use profile::Profile;

/// The memory store with two faults to switch on: the next
/// `apply_reviewed` that closes items refused as if another moderator had
/// changed its first item meanwhile, and every lookup by subject failing as
/// if the database were unreachable. It keeps the trait's default
/// `reviews_for_subjects`, one subject at a time.
#[derive(Debug, Default)]
struct Faulty {
    inner: MemoryStore,
    refuse_next_close: AtomicBool,
    fail_lookups: AtomicBool,
    refused: AtomicUsize,
}

#[async_trait]
impl ObjectStore for Faulty {
    async fn object(&self, object: &ObjectRef) -> Result<Option<ModeratedObject>, ModerationError> {
        self.inner.object(object).await
    }
    async fn objects(
        &self,
        objects: &[ObjectRef],
    ) -> Result<Vec<ModeratedObject>, ModerationError> {
        self.inner.objects(objects).await
    }
    async fn entries(&self, ids: &[EntryId]) -> Result<Vec<ObjectEntry>, ModerationError> {
        self.inner.entries(ids).await
    }
    async fn revision(
        &self,
        object: &ObjectRef,
        revision: i64,
    ) -> Result<Option<ObjectEntry>, ModerationError> {
        self.inner.revision(object, revision).await
    }
    async fn history(&self, object: &ObjectRef) -> Result<Vec<ObjectEntry>, ModerationError> {
        ObjectStore::history(&self.inner, object).await
    }
    async fn pending(&self, query: &PendingQuery) -> Result<EntryPage, ModerationError> {
        self.inner.pending(query).await
    }
    async fn public_version(&self, object: &ObjectRef) -> Result<PublicRead, ModerationError> {
        self.inner.public_version(object).await
    }
    async fn hidden_among(
        &self,
        kind: &Kind,
        ids: &[ObjectId],
    ) -> Result<Vec<ObjectId>, ModerationError> {
        self.inner.hidden_among(kind, ids).await
    }
    async fn public_page(
        &self,
        kind: &Kind,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> Result<Vec<PublicObject>, ModerationError> {
        self.inner.public_page(kind, after, limit).await
    }
    async fn apply(&self, writes: Vec<ObjectWrite>) -> Result<Vec<StoredWrite>, ModerationError> {
        self.inner.apply(writes).await
    }
}

#[async_trait]
impl ReviewStore for Faulty {
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
        self.inner.transition_batch(transitions).await
    }
    async fn history(&self, review: ReviewId) -> Result<Vec<ReviewHistoryEntry>, ModerationError> {
        ReviewStore::history(&self.inner, review).await
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

#[async_trait]
impl ReviewedObjectStore for Faulty {
    async fn apply_reviewed(
        &self,
        writes: Vec<ObjectWrite>,
        reviews: ReviewWrites,
    ) -> Result<ReviewedWrite, ModerationError> {
        if let Some(first) = reviews.transitions.first()
            && self.refuse_next_close.swap(false, Ordering::Relaxed)
        {
            self.refused.fetch_add(1, Ordering::Relaxed);
            return Err(ModerationError::ReviewConflict {
                review: first.review,
                expected: first.expected_version,
                actual: first.expected_version + 1,
            });
        }
        self.inner.apply_reviewed(writes, reviews).await
    }
}

#[tokio::test]
async fn a_refused_batch_is_planned_again_and_closes_every_item()
-> Result<(), Box<dyn std::error::Error>> {
    let store = Arc::new(Faulty::default());
    let workflow = ObjectWorkflow::builder(store.clone())
        .review_store(store.clone())
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
    store.refuse_next_close.store(true, Ordering::Relaxed);
    let moderator = Actor::user(UserId::from(1_i64)).with_staff(true);
    let taken = workflow
        .bulk(&moderator, ObjectAction::Approve, &targets, Some("fine"))
        .await?;
    assert_eq!(taken.len(), 3, "every entry decided");
    assert_eq!(
        store.refused.load(Ordering::Relaxed),
        1,
        "the first transaction was refused, the second committed"
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
    let items = store.reviews_for_subjects(&asked).await?;
    assert_eq!(items.len(), 3, "each item once: {items:?}");
    for item in &items {
        assert_eq!(item.status, ReviewStatus::Approved, "{item:?}");
        let history = ReviewStore::history(store.as_ref(), item.id).await?;
        assert_eq!(history.len(), 2, "opened and approved once: {history:?}");
        let step = history.last().ok_or("no history")?;
        assert_eq!(step.actor, Some(UserId::from(1_i64)));
        assert!(step.bulk.is_some(), "the step keeps the action's bulk id");
    }
    Ok(())
}

/// A workflow over `store` with `claims`, and one queued profile's entry.
async fn one_queued_change(
    store: &Arc<Faulty>,
    claims: ClaimPolicy,
) -> Result<(ObjectWorkflow, EntryVersion), Box<dyn std::error::Error>> {
    let workflow = ObjectWorkflow::builder(store.clone())
        .review_store(store.clone())
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
    let reviews = Arc::new(Faulty::default());
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
    let reviews = Arc::new(Faulty::default());
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
