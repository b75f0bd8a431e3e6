//! What both SQL backends share for moderation-core's `ReviewStore` (the
//! review queue, in the `review_items`, `review_reason_codes` and
//! `review_history` tables): the decisions each write makes on the rows it
//! read. `sqlite::review` and `postgres::review` read the rows inside their
//! transaction (PostgreSQL locks them with `FOR UPDATE`), decide here with
//! moderation-core's own functions (`ReviewItem::merge`, `Claim::refusal`,
//! `released`, `ReviewTransition::refusal`, `applied_to`, `history_entry`,
//! `log_entry`), so every store refuses exactly what the memory store
//! refuses, and then write what was decided: the new states (each only over
//! the version it was decided on), the history steps and the
//! moderation-log entries, in the same transaction. A refusal returns before
//! anything is written. The statements are in `review_sql`, the column
//! values in `review_record`.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use moderation_core::{
    Claim, ModerationError, NewModLogEntry, NewReview, ReviewCursor, ReviewEvent,
    ReviewHistoryEntry, ReviewId, ReviewItem, ReviewPage, ReviewPageRequest, ReviewSubject,
    ReviewTransition, UserId,
};

use crate::review_record::State;

/// One item's new state, and the version its row had when the write read
/// it: the state is written only while the row still has that version.
#[derive(Debug, Clone)]
pub(crate) struct Save {
    pub(crate) item: ReviewItem,
    pub(crate) expected: i64,
}

impl Save {
    /// The columns [`save_states`](crate::review_sql::save_states) writes.
    pub(crate) fn state(&self) -> Result<State, ModerationError> {
        State::of(&self.item, self.expected)
    }
}

/// One change of one item: its new state and the history step recording it.
#[derive(Debug)]
pub(crate) struct Change {
    pub(crate) save: Save,
    pub(crate) step: ReviewHistoryEntry,
}

/// What a batch of transitions writes, all decided before anything is.
#[derive(Debug)]
pub(crate) struct Decided {
    /// Each transition's item after it, in the transitions' order.
    pub(crate) applied: Vec<ReviewItem>,
    /// The final state of each item the batch names, once.
    pub(crate) saves: Vec<Save>,
    /// One history step per transition, in their order.
    pub(crate) steps: Vec<ReviewHistoryEntry>,
    /// One moderation-log entry per transition, in their order.
    pub(crate) entries: Vec<NewModLogEntry>,
}

/// A repeated open of `pending`'s subject merged into it (reasons by code,
/// the larger priority, version plus one), with its `merge` step.
pub(crate) fn merged(mut pending: ReviewItem, review: &NewReview) -> Change {
    let expected = pending.version;
    let step = pending.merge(review);
    Change {
        save: Save {
            item: pending,
            expected,
        },
        step,
    }
}

/// The `open` step of `item`, just inserted.
pub(crate) fn open_step(item: &ReviewItem) -> ReviewHistoryEntry {
    ReviewHistoryEntry::step(item, ReviewEvent::Open, None, None, item.created_at)
}

/// `claim` taken on `before`, with its `claim` step; a claim does not bump
/// the version.
///
/// # Errors
/// What [`Claim::refusal`] refuses.
pub(crate) fn claimed(claim: &Claim, before: ReviewItem) -> Result<Change, ModerationError> {
    if let Some(refusal) = claim.refusal(&before) {
        return Err(refusal);
    }
    let expected = before.version;
    let item = claim.applied_to(before);
    let step = ReviewHistoryEntry::step(
        &item,
        ReviewEvent::Claim,
        Some(claim.by.clone()),
        Some(item.status),
        claim.at,
    );
    Ok(Change {
        save: Save { item, expected },
        step,
    })
}

/// `by`'s claim on `before` released at `at`, with its `release` step;
/// `None` when there is no claim to release.
///
/// # Errors
/// [`ModerationError::Claimed`] while someone else holds a live claim.
pub(crate) fn release(
    before: &ReviewItem,
    by: &UserId,
    at: DateTime<Utc>,
) -> Result<Option<Change>, ModerationError> {
    let Some(item) = moderation_core::released(before, by, at)? else {
        return Ok(None);
    };
    let step = ReviewHistoryEntry::step(
        &item,
        ReviewEvent::Release,
        Some(by.clone()),
        Some(item.status),
        at,
    );
    Ok(Some(Change {
        save: Save {
            item,
            expected: before.version,
        },
        step,
    }))
}

/// `transition` applied to `before` (the row as read): its change and its
/// moderation-log entry.
///
/// # Errors
/// What [`ReviewTransition::refusal`] refuses; an entry the moderation log
/// would refuse.
pub(crate) fn decided(
    transition: &ReviewTransition,
    before: ReviewItem,
) -> Result<(Change, NewModLogEntry), ModerationError> {
    if let Some(refusal) = transition.refusal(&before) {
        return Err(refusal);
    }
    let entry = transition.log_entry(&before);
    entry.validate()?;
    let step = transition.history_entry(&before);
    let expected = before.version;
    let item = transition.applied_to(before);
    Ok((
        Change {
            save: Save { item, expected },
            step,
        },
        entry,
    ))
}

/// The distinct items `transitions` name, in id order (the order rows are
/// read and locked in).
pub(crate) fn named_ids(transitions: &[ReviewTransition]) -> Vec<ReviewId> {
    let mut ids: Vec<ReviewId> = transitions.iter().map(|t| t.review).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// `transitions` applied in order to `stored` (the rows they name, as read):
/// a transition naming an item a previous one changed is checked against
/// that change, so the second of two on one item from the same version is a
/// conflict, as it would be one call after the other.
///
/// # Errors
/// The first refusal, [`ModerationError::ReviewNotFound`] for an item not
/// in `stored`; nothing of the batch is to be written then.
pub(crate) fn decided_batch(
    transitions: &[ReviewTransition],
    stored: Vec<ReviewItem>,
) -> Result<Decided, ModerationError> {
    let expected: BTreeMap<ReviewId, i64> =
        stored.iter().map(|item| (item.id, item.version)).collect();
    let mut staged: BTreeMap<ReviewId, ReviewItem> =
        stored.into_iter().map(|item| (item.id, item)).collect();
    let mut applied = Vec::with_capacity(transitions.len());
    let mut steps = Vec::with_capacity(transitions.len());
    let mut entries = Vec::with_capacity(transitions.len());
    let mut changed = HashSet::with_capacity(transitions.len());
    for transition in transitions {
        let before =
            staged
                .get(&transition.review)
                .cloned()
                .ok_or(ModerationError::ReviewNotFound {
                    review: transition.review,
                })?;
        let (change, entry) = decided(transition, before)?;
        changed.insert(transition.review);
        staged.insert(change.save.item.id, change.save.item.clone());
        applied.push(change.save.item);
        steps.push(change.step);
        entries.push(entry);
    }
    let saves = staged
        .into_values()
        .filter(|item| changed.contains(&item.id))
        .filter_map(|item| {
            let expected = *expected.get(&item.id)?;
            Some(Save { item, expected })
        })
        .collect();
    Ok(Decided {
        applied,
        saves,
        steps,
        entries,
    })
}

/// The first of `saves` whose id `written` (the ids a state write
/// returned) lacks: a row whose version moved after it was read.
pub(crate) fn first_unwritten<'s>(saves: &'s [Save], written: &[i64]) -> Option<&'s Save> {
    let written: HashSet<i64> = written.iter().copied().collect();
    saves.iter().find(|save| !written.contains(&save.item.id.0))
}

/// The error for a state write that found its row at version `actual`
/// (`None`: the row is gone) instead of the version it was decided on.
pub(crate) fn version_moved(save: &Save, actual: Option<i64>) -> ModerationError {
    let review = save.item.id;
    match actual {
        Some(actual) => ModerationError::ReviewConflict {
            review,
            expected: save.expected,
            actual,
        },
        None => ModerationError::ReviewNotFound { review },
    }
}

/// The page of `items`, which a listing read one beyond the page's limit
/// to tell whether a next page exists.
///
/// # Errors
/// Never on the platforms sqlx supports (a `u32` limit fits a `usize`).
pub(crate) fn page_of(
    mut items: Vec<ReviewItem>,
    page: &ReviewPageRequest,
) -> Result<ReviewPage, ModerationError> {
    let limit = usize::try_from(page.clamped_limit()).map_err(ModerationError::store)?;
    let more = items.len() > limit;
    items.truncate(limit);
    let next = if more {
        items.last().map(ReviewCursor::after)
    } else {
        None
    };
    Ok(ReviewPage { items, next })
}

/// The distinct subject keys of `subjects`, sorted.
pub(crate) fn subject_keys(subjects: &[ReviewSubject]) -> Vec<String> {
    let keys: std::collections::BTreeSet<String> =
        subjects.iter().map(ReviewSubject::key).collect();
    keys.into_iter().collect()
}

/// An open whose insert met the subject's pending item but then could not
/// read it. The insert locks that item on PostgreSQL and SQLite has one
/// writer, so this means the database changed under the store's rules.
#[derive(Debug, thiserror::Error)]
#[error(
    "the pending review item of `{subject}` blocked a new one but could not be read; retry the open"
)]
pub(crate) struct PendingItemVanished {
    /// The subject key.
    pub(crate) subject: String,
}

impl From<PendingItemVanished> for ModerationError {
    fn from(error: PendingItemVanished) -> Self {
        Self::store(error)
    }
}
