//! `MemoryReviewStore`: the in-memory reference implementation of [`ReviewStore`].

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::ModerationError;
use crate::ids::UserId;
use crate::memory_log::MemoryModerationLog;
use crate::modlog::NewModLogEntry;
use crate::queue::item::{
    NewReview, ReviewEvent, ReviewHistoryEntry, ReviewId, ReviewItem, ReviewStatus,
};
use crate::queue::store::{
    Claim, Opened, ReviewCursor, ReviewFilter, ReviewPage, ReviewPageRequest, ReviewSort,
    ReviewStore, ReviewTransition, released,
};
use crate::queue::subject::ReviewSubject;

/// A [`ReviewStore`] that keeps everything in memory.
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
#[derive(Debug, Default)]
pub struct MemoryReviewStore {
    state: Mutex<State>,
    log: Option<MemoryModerationLog>,
}

#[derive(Debug, Default)]
struct State {
    next_id: i64,
    next_step: i64,
    items: BTreeMap<ReviewId, ReviewItem>,
    /// The pending item of each subject key (at most one).
    pending: HashMap<String, ReviewId>,
    /// The newest item of each subject key.
    newest: HashMap<String, ReviewId>,
    history: HashMap<ReviewId, Vec<ReviewHistoryEntry>>,
}

impl State {
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
}

impl MemoryReviewStore {
    /// An empty store that keeps no moderation log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store that appends every transition's entry to `log`, in
    /// the same atomic step as the transition.
    #[must_use]
    pub fn with_log(log: MemoryModerationLog) -> Self {
        Self {
            state: Mutex::default(),
            log: Some(log),
        }
    }

    /// Appends the moderation-log entries of applied transitions. Called
    /// under the state lock, so no reader sees one without the other.
    fn log_all(&self, entries: Vec<NewModLogEntry>) {
        if let Some(log) = &self.log {
            for entry in entries {
                log.append_now(entry);
            }
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl ReviewStore for MemoryReviewStore {
    async fn open(&self, review: NewReview) -> Result<Opened, ModerationError> {
        review.validate()?;
        let key = review.subject.key();
        let mut state = self.state();
        if let Some(id) = state.pending.get(&key).copied() {
            let mut item = state.item(id)?.clone();
            let step = item.merge(&review);
            state.push(step);
            state.items.insert(id, item.clone());
            return Ok(Opened {
                item,
                created: false,
            });
        }
        state.next_id += 1;
        let item = review.into_item(ReviewId(state.next_id));
        let step = ReviewHistoryEntry::step(&item, ReviewEvent::Open, None, None, item.created_at);
        state.push(step);
        state.pending.insert(key.clone(), item.id);
        state.newest.insert(key, item.id);
        state.items.insert(item.id, item.clone());
        Ok(Opened {
            item,
            created: true,
        })
    }

    async fn review(&self, id: ReviewId) -> Result<Option<ReviewItem>, ModerationError> {
        Ok(self.state().items.get(&id).cloned())
    }

    async fn review_for_subject(
        &self,
        subject: &ReviewSubject,
    ) -> Result<Option<ReviewItem>, ModerationError> {
        let state = self.state();
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
        let state = self.state();
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
        let state = self.state();
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
        let mut state = self.state();
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
        let mut state = self.state();
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
        let mut state = self.state();
        let before = state.item(transition.review)?.clone();
        if let Some(refusal) = transition.refusal(&before) {
            return Err(refusal);
        }
        let entry = transition.log_entry(&before);
        entry.validate()?;
        let after = transition.applied_to(before.clone());
        state.apply(&transition, &before, after.clone());
        self.log_all(vec![entry]);
        Ok(after)
    }

    async fn transition_batch(
        &self,
        transitions: Vec<ReviewTransition>,
    ) -> Result<Vec<ReviewItem>, ModerationError> {
        let mut state = self.state();
        // Check everything before changing anything: all or nothing. A batch
        // naming one item twice is checked against the first change, so the
        // second sees a stale version, as it would in SQL.
        let mut staged: BTreeMap<ReviewId, ReviewItem> = BTreeMap::new();
        let mut steps = Vec::with_capacity(transitions.len());
        let mut entries = Vec::with_capacity(transitions.len());
        for transition in &transitions {
            let before = match staged.get(&transition.review) {
                Some(item) => item.clone(),
                None => state.item(transition.review)?.clone(),
            };
            if let Some(refusal) = transition.refusal(&before) {
                return Err(refusal);
            }
            let entry = transition.log_entry(&before);
            entry.validate()?;
            entries.push(entry);
            let after = transition.applied_to(before.clone());
            staged.insert(after.id, after.clone());
            steps.push((before, after));
        }
        let mut applied = Vec::with_capacity(steps.len());
        for (transition, (before, after)) in transitions.iter().zip(steps) {
            state.apply(transition, &before, after.clone());
            applied.push(after);
        }
        self.log_all(entries);
        Ok(applied)
    }

    async fn history(&self, review: ReviewId) -> Result<Vec<ReviewHistoryEntry>, ModerationError> {
        Ok(self
            .state()
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
