//! The review queue in memory: [`MemoryStore`] implements [`ReviewStore`]
//! and [`HeldItemStore`], the reference semantics of both ports.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::ModerationError;

use crate::ids::UserId;
use crate::memory::MemoryStore;
use crate::modlog::NewModLogEntry;
use crate::queue::held::{
    Decided, HeldItemStore, ReviewClose, ReviewDraft, decided_submissions, decisions_with_items,
    submission_changes,
};
use crate::queue::item::{
    NewReview, ReviewEvent, ReviewHistoryEntry, ReviewId, ReviewItem, ReviewStatus,
};
use crate::queue::store::{
    Claim, Opened, ReviewCursor, ReviewFilter, ReviewPage, ReviewPageRequest, ReviewSort,
    ReviewStore, ReviewTransition, released,
};
use crate::queue::subject::ReviewSubject;
use crate::store::{NewItem, NewLogEntry, StatusChange, StoredItem};

/// A [`MemoryStore`] used as a review queue.
///
/// [`MemoryStore`] keeps the review queue beside the items, as the SQL
/// stores do, so one store serves both ports and [`HeldItemStore`]. This
/// name is for code that uses it only as a [`ReviewStore`].
///
/// It states the semantics the SQL stores match (the conformance suite runs
/// against all of them). All state sits behind one mutex never held across
/// an `.await`, so every call is one atomic step and a refused call writes
/// nothing. Listing scans every item: fine for tests and small tools, which
/// is what this store is for.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use chrono::Utc;
/// use moderation_core::{
///     ItemId, Kind, MemoryReviewStore, NewReview, ReviewReason, ReviewStore, ReviewSubject,
/// };
/// let store = MemoryReviewStore::new();
/// let review = |score| NewReview {
///     subject: ReviewSubject::Submission(ItemId(1)),
///     kind: Kind::new("blog.comment").unwrap(),
///     author: None,
///     reasons: vec![ReviewReason::new("flag.spam", "Looks like spam", score)],
///     priority: 0,
///     created_at: Utc::now(),
/// };
/// let first = store.open(review(1)).await?;
/// let again = store.open(review(2)).await?;
/// assert!(first.created && !again.created);
/// assert_eq!((again.item.id, again.item.score), (first.item.id, 3));
/// # Ok::<(), moderation_core::ModerationError>(())
/// # }).unwrap();
/// ```
pub type MemoryReviewStore = MemoryStore;

/// The review queue's part of a [`MemoryStore`]'s state.
#[derive(Debug, Default)]
pub(crate) struct ReviewState {
    next_id: i64,
    next_step: i64,
    items: BTreeMap<ReviewId, ReviewItem>,
    /// The pending item of each subject key (at most one).
    pending: HashMap<String, ReviewId>,
    /// The newest item of each subject key.
    newest: HashMap<String, ReviewId>,
    history: HashMap<ReviewId, Vec<ReviewHistoryEntry>>,
}

impl ReviewState {
    fn push(&mut self, mut entry: ReviewHistoryEntry) {
        self.next_step += 1;
        entry.id = self.next_step;
        self.history.entry(entry.review).or_default().push(entry);
    }

    fn item(&self, id: ReviewId) -> Result<&ReviewItem, ModerationError> {
        self.items
            .get(&id)
            .ok_or(ModerationError::ReviewNotFound { review: id })
    }

    /// Records `transition` from `before`, updating the pending index.
    fn apply(&mut self, transition: &ReviewTransition, before: &ReviewItem, after: ReviewItem) {
        let key = after.subject.key();
        if before.status == ReviewStatus::Pending {
            self.pending.remove(&key);
        }
        if after.status == ReviewStatus::Pending {
            self.pending.insert(key, after.id);
        }
        self.push(transition.history_entry(before));
        self.items.insert(after.id, after);
    }

    /// Opens `review` (checked already), or merges it into its subject's
    /// pending item.
    pub(crate) fn open(&mut self, review: NewReview) -> Result<Opened, ModerationError> {
        let key = review.subject.key();
        if let Some(id) = self.pending.get(&key).copied() {
            let mut item = self.item(id)?.clone();
            let step = item.merge(&review);
            self.push(step);
            self.items.insert(id, item.clone());
            return Ok(Opened {
                item,
                created: false,
            });
        }
        self.next_id += 1;
        let item = review.into_item(ReviewId(self.next_id));
        let step = ReviewHistoryEntry::step(&item, ReviewEvent::Open, None, None, item.created_at);
        self.push(step);
        self.pending.insert(key.clone(), item.id);
        self.newest.insert(key, item.id);
        self.items.insert(item.id, item.clone());
        Ok(Opened {
            item,
            created: true,
        })
    }

    /// The pending item of `subject`, if any.
    pub(crate) fn pending_for(&self, subject: &ReviewSubject) -> Option<&ReviewItem> {
        self.pending
            .get(&subject.key())
            .and_then(|id| self.items.get(id))
    }

    /// Checks `transition` against the stored item: the applied item and
    /// the moderation-log entry it writes, nothing changed yet.
    pub(crate) fn check(
        &self,
        transition: &ReviewTransition,
    ) -> Result<(ReviewItem, ReviewItem, NewModLogEntry), ModerationError> {
        let before = self.item(transition.review)?.clone();
        if let Some(refusal) = transition.refusal(&before) {
            return Err(refusal);
        }
        let entry = transition.log_entry(&before);
        entry.validate()?;
        let after = transition.applied_to(before.clone());
        Ok((before, after, entry))
    }

    /// Checks a batch of transitions, nothing changed yet: all or nothing.
    /// A batch naming one item twice is checked against the first change,
    /// so the second sees a stale version, as it would in SQL. Returns each
    /// transition's item before and after, with its moderation-log entry.
    pub(crate) fn check_batch(
        &self,
        transitions: &[ReviewTransition],
    ) -> Result<Vec<(ReviewItem, ReviewItem, NewModLogEntry)>, ModerationError> {
        let mut staged: BTreeMap<ReviewId, ReviewItem> = BTreeMap::new();
        let mut steps = Vec::with_capacity(transitions.len());
        for transition in transitions {
            let before = match staged.get(&transition.review) {
                Some(item) => item.clone(),
                None => self.item(transition.review)?.clone(),
            };
            if let Some(refusal) = transition.refusal(&before) {
                return Err(refusal);
            }
            let entry = transition.log_entry(&before);
            entry.validate()?;
            let after = transition.applied_to(before.clone());
            staged.insert(after.id, after.clone());
            steps.push((before, after, entry));
        }
        Ok(steps)
    }

    /// Applies what [`ReviewState::check_batch`] accepted: the items as
    /// they now stand and the moderation-log entries to append.
    pub(crate) fn commit_batch(
        &mut self,
        transitions: &[ReviewTransition],
        staged: Vec<(ReviewItem, ReviewItem, NewModLogEntry)>,
    ) -> (Vec<ReviewItem>, Vec<NewModLogEntry>) {
        let mut applied = Vec::with_capacity(staged.len());
        let mut entries = Vec::with_capacity(staged.len());
        for (transition, (before, after, entry)) in transitions.iter().zip(staged) {
            self.apply(transition, &before, after.clone());
            applied.push(after);
            entries.push(entry);
        }
        (applied, entries)
    }

    /// Applies a transition [`ReviewState::check`] accepted.
    pub(crate) fn commit(
        &mut self,
        transition: &ReviewTransition,
        before: &ReviewItem,
        after: ReviewItem,
    ) {
        self.apply(transition, before, after);
    }
}

#[async_trait]
impl ReviewStore for MemoryStore {
    async fn open(&self, review: NewReview) -> Result<Opened, ModerationError> {
        review.validate()?;
        self.lock().reviews.open(review)
    }

    async fn review(&self, id: ReviewId) -> Result<Option<ReviewItem>, ModerationError> {
        Ok(self.lock().reviews.items.get(&id).cloned())
    }

    async fn reviews(&self, ids: &[ReviewId]) -> Result<Vec<ReviewItem>, ModerationError> {
        let state = self.lock();
        Ok(ids
            .iter()
            .filter_map(|id| state.reviews.items.get(id).cloned())
            .collect())
    }

    async fn review_for_subject(
        &self,
        subject: &ReviewSubject,
    ) -> Result<Option<ReviewItem>, ModerationError> {
        let guard = self.lock();
        let state = &guard.reviews;
        Ok(state
            .newest
            .get(&subject.key())
            .and_then(|id| state.items.get(id))
            .cloned())
    }

    async fn reviews_for_subjects(
        &self,
        subjects: &[ReviewSubject],
    ) -> Result<Vec<ReviewItem>, ModerationError> {
        let guard = self.lock();
        let state = &guard.reviews;
        let ids: BTreeSet<ReviewId> = subjects
            .iter()
            .filter_map(|subject| state.newest.get(&subject.key()).copied())
            .collect();
        Ok(ids
            .into_iter()
            .filter_map(|id| state.items.get(&id).cloned())
            .collect())
    }

    async fn list(
        &self,
        filter: &ReviewFilter,
        page: &ReviewPageRequest,
    ) -> Result<ReviewPage, ModerationError> {
        let limit = usize::try_from(page.clamped_limit()).unwrap_or(usize::MAX);
        let guard = self.lock();
        let state = &guard.reviews;
        let mut items: Vec<&ReviewItem> = state
            .items
            .values()
            .filter(|item| filter.matches(item))
            .filter(|item| {
                page.after
                    .is_none_or(|cursor| cursor.precedes(item, page.sort))
            })
            .collect();
        match page.sort {
            ReviewSort::ScoreDesc => {
                items.sort_by(|a, b| b.score.cmp(&a.score).then(a.id.cmp(&b.id)));
            }
            ReviewSort::Oldest => items.sort_by_key(|item| (item.created_at, item.id)),
        }
        let more = items.len() > limit;
        let items: Vec<ReviewItem> = items.into_iter().take(limit).cloned().collect();
        let next = if more {
            items.last().map(ReviewCursor::after)
        } else {
            None
        };
        Ok(ReviewPage { items, next })
    }

    async fn claim(&self, claim: Claim) -> Result<ReviewItem, ModerationError> {
        let mut guard = self.lock();
        let state = &mut guard.reviews;
        let item = state.item(claim.review)?.clone();
        if let Some(refusal) = claim.refusal(&item) {
            return Err(refusal);
        }
        let item = claim.applied_to(item);
        let step = ReviewHistoryEntry::step(
            &item,
            ReviewEvent::Claim,
            Some(claim.by),
            Some(item.status),
            claim.at,
        );
        state.push(step);
        state.items.insert(item.id, item.clone());
        Ok(item)
    }

    async fn release(
        &self,
        review: ReviewId,
        by: &UserId,
        at: DateTime<Utc>,
    ) -> Result<ReviewItem, ModerationError> {
        let mut guard = self.lock();
        let state = &mut guard.reviews;
        let Some(item) = released(state.item(review)?, by, at)? else {
            return Ok(state.item(review)?.clone());
        };
        let step = ReviewHistoryEntry::step(
            &item,
            ReviewEvent::Release,
            Some(by.clone()),
            Some(item.status),
            at,
        );
        state.push(step);
        state.items.insert(review, item.clone());
        Ok(item)
    }

    async fn transition(
        &self,
        transition: ReviewTransition,
    ) -> Result<ReviewItem, ModerationError> {
        let mut state = self.lock();
        let (before, after, entry) = state.reviews.check(&transition)?;
        state.reviews.commit(&transition, &before, after.clone());
        state.append_mod_log_entries(vec![entry]);
        Ok(after)
    }

    async fn transition_batch(
        &self,
        transitions: Vec<ReviewTransition>,
    ) -> Result<Vec<ReviewItem>, ModerationError> {
        let mut guard = self.lock();
        let staged = guard.reviews.check_batch(&transitions)?;
        let (applied, entries) = guard.reviews.commit_batch(&transitions, staged);
        guard.append_mod_log_entries(entries);
        Ok(applied)
    }

    async fn history(&self, review: ReviewId) -> Result<Vec<ReviewHistoryEntry>, ModerationError> {
        Ok(self
            .lock()
            .reviews
            .history
            .get(&review)
            .cloned()
            .unwrap_or_default())
    }

    async fn stale(
        &self,
        before: DateTime<Utc>,
        after: Option<ReviewCursor>,
        limit: u32,
    ) -> Result<Vec<ReviewItem>, ModerationError> {
        let filter = ReviewFilter {
            created_before: Some(before),
            ..ReviewFilter::pending()
        };
        let page = ReviewPageRequest {
            sort: ReviewSort::Oldest,
            after,
            limit,
        };
        Ok(self.list(&filter, &page).await?.items)
    }
}

#[async_trait]
impl HeldItemStore for MemoryStore {
    async fn insert_held(
        &self,
        item: NewItem,
        log: NewLogEntry,
        review: ReviewDraft,
    ) -> Result<(StoredItem, Opened), ModerationError> {
        let mut state = self.lock();
        // Checked before the item is stored: both or neither.
        review
            .for_new_item(state.next_item_id(), &item)
            .validate()?;
        let stored = state.insert(item, log);
        let opened = state.reviews.open(review.for_item(&stored))?;
        Ok((stored, opened))
    }

    async fn decide_held(
        &self,
        transitions: Vec<ReviewTransition>,
    ) -> Result<Vec<Decided>, ModerationError> {
        let mut state = self.lock();
        // Everything is checked before anything changes: all or nothing.
        let checked = state.reviews.check_batch(&transitions)?;
        let reviews: Vec<ReviewItem> = checked.iter().map(|(_, after, _)| after.clone()).collect();
        let items = decided_submissions(&transitions, &reviews)
            .into_iter()
            .filter_map(|id| state.stored(id).map(|item| (id, item.clone())))
            .collect();
        let changes = submission_changes(&transitions, &reviews, items)?;
        let (_, entries) = state.reviews.commit_batch(&transitions, checked);
        state.append_mod_log_entries(entries);
        let changed = changes
            .into_iter()
            .map(|(position, change)| Ok((position, state.apply(change)?)))
            .collect::<Result<Vec<_>, ModerationError>>()?;
        Ok(decisions_with_items(reviews, changed))
    }

    async fn change_status_closing(
        &self,
        change: StatusChange,
        close: Option<ReviewClose>,
    ) -> Result<(StoredItem, Option<ReviewItem>), ModerationError> {
        let mut state = self.lock();
        state.check(&change)?;
        let subject = ReviewSubject::Submission(change.item);
        let closing = match (close, state.reviews.pending_for(&subject)) {
            (Some(close), Some(pending)) => {
                let transition = close.transition_for(pending);
                let checked = state.reviews.check(&transition)?;
                Some((transition, checked))
            }
            _ => None,
        };
        let changed = state.apply(change)?;
        let closed = closing.map(|(transition, (before, after, entry))| {
            state.reviews.commit(&transition, &before, after.clone());
            state.append_mod_log_entries(vec![entry]);
            after
        });
        Ok((changed, closed))
    }
}
