//! The `ReviewStore` port: review items, their claims and their history.

use std::net::IpAddr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::actor::AuthorKey;
use crate::error::ModerationError;
use crate::ids::{Kind, UserId};
use crate::modlog::NewModLogEntry;
use crate::queue::item::{
    NewReview, ReviewEvent, ReviewHistoryEntry, ReviewId, ReviewItem, ReviewStatus,
};
use crate::queue::subject::ReviewSubject;

/// What [`ReviewStore::open`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opened {
    /// The pending item, new or merged into.
    pub item: ReviewItem,
    /// True when a new item was created, false when reasons were merged into
    /// the subject's pending item.
    pub created: bool,
}

/// Which items to list. Every field narrows the list; the default lists all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewFilter {
    /// Only this status.
    pub status: Option<ReviewStatus>,
    /// Only this kind.
    pub kind: Option<Kind>,
    /// Only items with a reason of this code.
    pub reason: Option<String>,
    /// Only this author.
    pub author: Option<AuthorKey>,
    /// Only items created at or after this time.
    pub created_from: Option<DateTime<Utc>>,
    /// Only items created strictly before this time (older than an age).
    pub created_before: Option<DateTime<Utc>>,
    /// Only items of at least this priority.
    pub min_priority: Option<i32>,
}

impl ReviewFilter {
    /// The pending queue.
    #[must_use]
    pub fn pending() -> Self {
        Self {
            status: Some(ReviewStatus::Pending),
            ..Self::default()
        }
    }

    /// True when `item` passes every set field. Stores that filter in SQL
    /// must agree with this.
    #[must_use]
    pub fn matches(&self, item: &ReviewItem) -> bool {
        self.status.is_none_or(|status| item.status == status)
            && self.kind.as_ref().is_none_or(|kind| &item.kind == kind)
            && self
                .reason
                .as_deref()
                .is_none_or(|code| item.reasons.iter().any(|reason| reason.code == code))
            && self
                .author
                .as_ref()
                .is_none_or(|author| item.author.as_ref() == Some(author))
            && self.created_from.is_none_or(|from| item.created_at >= from)
            && self
                .created_before
                .is_none_or(|before| item.created_at < before)
            && self
                .min_priority
                .is_none_or(|priority| item.priority >= priority)
    }
}

/// The order of a listing. Ties break on the id, ascending, so every order
/// is total and keyset pages never skip or repeat an item.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewSort {
    /// Highest score first (Discourse's default).
    #[default]
    ScoreDesc,
    /// Oldest first.
    Oldest,
}

/// A keyset position: items strictly after this one in the page's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReviewCursor {
    /// The last seen item's score (used by [`ReviewSort::ScoreDesc`]).
    pub score: i64,
    /// The last seen item's creation time (used by [`ReviewSort::Oldest`]).
    pub created_at: DateTime<Utc>,
    /// The last seen item's id.
    pub id: ReviewId,
}

impl ReviewCursor {
    /// The cursor just after `item`.
    #[must_use]
    pub fn after(item: &ReviewItem) -> Self {
        Self {
            score: item.score,
            created_at: item.created_at,
            id: item.id,
        }
    }

    /// True when `item` comes strictly after this cursor in `sort` order.
    #[must_use]
    pub fn precedes(&self, item: &ReviewItem, sort: ReviewSort) -> bool {
        match sort {
            ReviewSort::ScoreDesc => {
                item.score < self.score || (item.score == self.score && item.id > self.id)
            }
            ReviewSort::Oldest => (item.created_at, item.id) > (self.created_at, self.id),
        }
    }
}

/// The most items one review page may hold.
pub const MAX_REVIEW_PAGE: u32 = 500;

/// One page request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPageRequest {
    /// The order.
    pub sort: ReviewSort,
    /// Start strictly after this position; `None` for the first page.
    pub after: Option<ReviewCursor>,
    /// Page size, 1 to [`MAX_REVIEW_PAGE`] (other values are clamped).
    pub limit: u32,
}

impl ReviewPageRequest {
    /// The first page of `limit` items in `sort` order.
    #[must_use]
    pub fn first(sort: ReviewSort, limit: u32) -> Self {
        Self {
            sort,
            after: None,
            limit,
        }
    }

    /// The page after `cursor`, same order and size.
    #[must_use]
    pub fn next(self, cursor: ReviewCursor) -> Self {
        Self {
            after: Some(cursor),
            ..self
        }
    }

    /// The limit clamped to `1..=MAX_REVIEW_PAGE`.
    #[must_use]
    pub fn clamped_limit(&self) -> u32 {
        self.limit.clamp(1, MAX_REVIEW_PAGE)
    }
}

/// One page of review items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPage {
    /// The items, in the requested order.
    pub items: Vec<ReviewItem>,
    /// The cursor of the next page; `None` on the last one.
    pub next: Option<ReviewCursor>,
}

/// How a transition checks the item's claim, in the same atomic step as
/// its version (so a claim taken in between cannot be overridden).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClaimCheck {
    /// Claims are ignored.
    #[default]
    Off,
    /// Refused while someone other than the actor holds an unexpired claim.
    NotHeldByOther,
    /// Refused unless the actor holds an unexpired claim.
    HeldByActor,
}

impl ClaimCheck {
    /// Why `actor` may not act on `item` at `at` under this check, if it
    /// may not: [`ModerationError::Claimed`] while someone else holds an
    /// unexpired claim, [`ModerationError::ClaimRequired`] when the check
    /// asks for the actor's own claim and there is none. An anonymous actor
    /// holds no claim.
    ///
    /// ```
    /// use chrono::{Duration, TimeZone, Utc};
    /// use moderation_core::{
    ///     ClaimCheck, Kind, ModerationError, ObjectRef, ReviewId, ReviewItem, ReviewStatus,
    ///     ReviewSubject, UserId,
    /// };
    /// let now = Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap();
    /// let kind = Kind::new("wiki.page").unwrap();
    /// let item = ReviewItem {
    ///     id: ReviewId(1),
    ///     subject: ReviewSubject::ObjectChange { object: ObjectRef::new(kind.clone(), 7_i64), revision: 1 },
    ///     kind,
    ///     author: None,
    ///     reasons: Vec::new(),
    ///     score: 0,
    ///     status: ReviewStatus::Pending,
    ///     priority: 0,
    ///     created_at: now,
    ///     updated_at: now,
    ///     claimed_by: Some(UserId::from(2_i64)),
    ///     claim_expires_at: Some(now + Duration::minutes(10)),
    ///     version: 1,
    /// };
    /// let alice = UserId::from(1_i64);
    /// assert!(matches!(
    ///     ClaimCheck::NotHeldByOther.refusal(&item, Some(&alice), now),
    ///     Some(ModerationError::Claimed { .. })
    /// ));
    /// // Once the lease has ended, anyone may act where claims are optional,
    /// // and only a new claim allows it where they are required.
    /// let later = now + Duration::minutes(10);
    /// assert!(ClaimCheck::NotHeldByOther.refusal(&item, Some(&alice), later).is_none());
    /// assert!(matches!(
    ///     ClaimCheck::HeldByActor.refusal(&item, Some(&alice), later),
    ///     Some(ModerationError::ClaimRequired { .. })
    /// ));
    /// ```
    #[must_use]
    pub fn refusal(
        self,
        item: &ReviewItem,
        actor: Option<&UserId>,
        at: DateTime<Utc>,
    ) -> Option<ModerationError> {
        match self {
            Self::Off => None,
            Self::NotHeldByOther => claimed_by_other(item, actor, at),
            Self::HeldByActor => claimed_by_other(item, actor, at).or_else(|| {
                let holds = actor.is_some() && item.claim_holder(at) == actor;
                (!holds).then_some(ModerationError::ClaimRequired { review: item.id })
            }),
        }
    }
}

/// A claim to take (or renew) on a pending item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// The item.
    pub review: ReviewId,
    /// The moderator.
    pub by: UserId,
    /// Now: a claim whose lease ends at or before now has lapsed.
    pub at: DateTime<Utc>,
    /// When the lease ends.
    pub until: DateTime<Utc>,
}

/// A version-checked change of status, with its history entry.
///
/// The store applies it in one transaction: the status change (only when
/// the stored version equals `expected_version` and the claim check passes;
/// the version goes up by one and the claim is cleared), one history entry,
/// and one moderation-log entry where the store keeps a moderation log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewTransition {
    /// The item.
    pub review: ReviewId,
    /// The version the caller read.
    pub expected_version: i64,
    /// What happened: an action, or [`ReviewEvent::Revert`].
    pub event: ReviewEvent,
    /// The new status: the action's [`target`](crate::ReviewAction::target),
    /// or for a revert the status before the reverted action.
    pub to: ReviewStatus,
    /// Who (`None` for the stale job).
    pub actor: Option<UserId>,
    /// How the claim is checked.
    pub claim: ClaimCheck,
    /// The moderator's reason.
    pub reason: Option<String>,
    /// The message to the author.
    pub message: Option<String>,
    /// The actor's IP address, for the moderation log.
    pub ip: Option<IpAddr>,
    /// Groups the steps of one bulk action.
    pub bulk: Option<Uuid>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Persistence for the review queue.
///
/// Contract, which the conformance suite in `moderation-storage` checks for
/// every implementation:
/// - [`open`](ReviewStore::open) is idempotent per subject while it is
///   pending: a second open merges reasons by code (adding scores), keeps
///   the larger priority, bumps the version and records a `merge` step;
/// - every applied transition appends its
///   [`log_entry`](ReviewTransition::log_entry) to the moderation log in the
///   same transaction, where the store has one (the SQL stores always do;
///   [`MemoryReviewStore::with_log`](crate::MemoryReviewStore::with_log));
/// - a [`ReviewTransition`] whose version is stale fails with
///   [`ModerationError::ReviewConflict`], one whose claim check fails with
///   [`ModerationError::ClaimRequired`] or [`ModerationError::Claimed`], and
///   neither writes anything;
/// - [`transition_batch`](ReviewStore::transition_batch) is one transaction:
///   all or nothing;
/// - nothing is ever deleted: delete is a status;
/// - listings are keyset pages whose cost does not grow with the items
///   outside the filter.
#[async_trait]
pub trait ReviewStore: Send + Sync + std::fmt::Debug + 'static {
    /// Opens a review item for a subject, or merges into its pending one.
    async fn open(&self, review: NewReview) -> Result<Opened, ModerationError>;

    /// Reads one item.
    async fn review(&self, id: ReviewId) -> Result<Option<ReviewItem>, ModerationError>;

    /// Reads several items (absent ones are left out), in no particular
    /// order. The SQL stores answer with one query per 500 ids; this
    /// default asks [`review`](ReviewStore::review) one id at a time.
    async fn reviews(&self, ids: &[ReviewId]) -> Result<Vec<ReviewItem>, ModerationError> {
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(item) = self.review(*id).await? {
                items.push(item);
            }
        }
        Ok(items)
    }

    /// The newest item for a subject (pending or decided).
    async fn review_for_subject(
        &self,
        subject: &ReviewSubject,
    ) -> Result<Option<ReviewItem>, ModerationError>;

    /// The newest item of each of `subjects` that has one (pending or
    /// decided), each item once, in no particular order; subjects without an
    /// item are left out. The SQL stores answer with one query per 500
    /// subjects; this default asks [`review_for_subject`] one subject at a
    /// time.
    ///
    /// [`review_for_subject`]: ReviewStore::review_for_subject
    async fn reviews_for_subjects(
        &self,
        subjects: &[ReviewSubject],
    ) -> Result<Vec<ReviewItem>, ModerationError> {
        let mut seen = std::collections::HashSet::with_capacity(subjects.len());
        let mut found = Vec::with_capacity(subjects.len());
        for subject in subjects {
            if let Some(item) = self.review_for_subject(subject).await?
                && seen.insert(item.id)
            {
                found.push(item);
            }
        }
        Ok(found)
    }

    /// One keyset page of items matching `filter`.
    async fn list(
        &self,
        filter: &ReviewFilter,
        page: &ReviewPageRequest,
    ) -> Result<ReviewPage, ModerationError>;

    /// Claims a pending item until `claim.until`; renewing one's own claim
    /// is allowed, taking someone else's unexpired claim is
    /// [`ModerationError::Claimed`]. Records a `claim` step. Does not bump
    /// the version.
    async fn claim(&self, claim: Claim) -> Result<ReviewItem, ModerationError>;

    /// Releases `by`'s claim; a claim held by someone else (unexpired) is
    /// [`ModerationError::Claimed`]; no claim is a no-op.
    async fn release(
        &self,
        review: ReviewId,
        by: &UserId,
        at: DateTime<Utc>,
    ) -> Result<ReviewItem, ModerationError>;

    /// Applies one transition; see [`ReviewTransition`].
    async fn transition(&self, transition: ReviewTransition)
    -> Result<ReviewItem, ModerationError>;

    /// Applies many transitions in one transaction; if any fails, none is applied.
    async fn transition_batch(
        &self,
        transitions: Vec<ReviewTransition>,
    ) -> Result<Vec<ReviewItem>, ModerationError>;

    /// The history of one item, oldest first.
    async fn history(&self, review: ReviewId) -> Result<Vec<ReviewHistoryEntry>, ModerationError>;

    /// Pending items created strictly before `before`, oldest first, after
    /// `after` (a [`ReviewCursor`] in [`ReviewSort::Oldest`] order), at most
    /// `limit`.
    async fn stale(
        &self,
        before: DateTime<Utc>,
        after: Option<ReviewCursor>,
        limit: u32,
    ) -> Result<Vec<ReviewItem>, ModerationError>;
}

impl Claim {
    /// Why this claim cannot be taken on `item` as stored, if it cannot.
    /// Every store decides with this one function.
    #[must_use]
    pub fn refusal(&self, item: &ReviewItem) -> Option<ModerationError> {
        if item.status != ReviewStatus::Pending {
            return Some(ModerationError::NotPending {
                review: item.id,
                status: item.status,
            });
        }
        claimed_by_other(item, Some(&self.by), self.at)
    }
}

impl Claim {
    /// `item` with this claim taken.
    #[must_use]
    pub fn applied_to(&self, mut item: ReviewItem) -> ReviewItem {
        item.claimed_by = Some(self.by.clone());
        item.claim_expires_at = Some(self.until);
        item
    }
}

/// `item` with `by`'s claim released at `at`: `Ok(None)` when there is no
/// claim to release, [`ModerationError::Claimed`] when someone else holds a
/// live one. Every store decides with this one function.
///
/// # Errors
/// [`ModerationError::Claimed`].
pub fn released(
    item: &ReviewItem,
    by: &UserId,
    at: DateTime<Utc>,
) -> Result<Option<ReviewItem>, ModerationError> {
    if item.claimed_by.is_none() {
        return Ok(None);
    }
    if let Some(refusal) = claimed_by_other(item, Some(by), at) {
        return Err(refusal);
    }
    let mut item = item.clone();
    item.claimed_by = None;
    item.claim_expires_at = None;
    Ok(Some(item))
}

impl ReviewTransition {
    /// Why this transition cannot apply to `item` as stored, if it cannot:
    /// a stale version first, then an action not allowed from the item's
    /// status, then the claim check. Every store decides with this one
    /// function, on the row it read inside its transaction.
    #[must_use]
    pub fn refusal(&self, item: &ReviewItem) -> Option<ModerationError> {
        if item.version != self.expected_version {
            return Some(ModerationError::ReviewConflict {
                review: item.id,
                expected: self.expected_version,
                actual: item.version,
            });
        }
        if let ReviewEvent::Act(action) = self.event
            && !action.allowed_from(item.status)
        {
            return Some(ModerationError::TransitionRefused {
                review: item.id,
                action,
                from: item.status,
            });
        }
        self.claim.refusal(item, self.actor.as_ref(), self.at)
    }

    /// The history step this transition records on `before` (its id is 0
    /// until stored).
    #[must_use]
    pub fn history_entry(&self, before: &ReviewItem) -> ReviewHistoryEntry {
        ReviewHistoryEntry {
            id: 0,
            review: self.review,
            event: self.event,
            actor: self.actor.clone(),
            from_status: Some(before.status),
            to_status: self.to,
            reason: self.reason.clone(),
            message: self.message.clone(),
            bulk: self.bulk,
            at: self.at,
        }
    }

    /// The moderation-log entry this transition writes with it, on `before`
    /// (the item as stored): verb `review.<action>` (or `review.revert`),
    /// the subject's object as target, statuses before and after, and the
    /// review id, subject key and new version as detail.
    #[must_use]
    pub fn log_entry(&self, before: &ReviewItem) -> NewModLogEntry {
        NewModLogEntry {
            action: self.event.verb(),
            actor: self.actor.clone(),
            target: before.subject.target(&before.kind),
            reason: self.reason.clone(),
            before: Some(before.status.as_str().to_owned()),
            after: Some(self.to.as_str().to_owned()),
            detail: serde_json::json!({
                "review": before.id,
                "subject": before.subject.key(),
                "version": before.version + 1,
            }),
            ip: self.ip,
            bulk: self.bulk,
            at: self.at,
        }
    }

    /// `item` after this transition: new status, version plus one, claim
    /// cleared, `updated_at` set to the transition's time.
    #[must_use]
    pub fn applied_to(&self, mut item: ReviewItem) -> ReviewItem {
        item.status = self.to;
        item.version += 1;
        item.updated_at = self.at;
        item.claimed_by = None;
        item.claim_expires_at = None;
        item
    }
}

/// [`ModerationError::Claimed`] when someone other than `actor` holds an
/// unexpired claim on `item` at `now`.
fn claimed_by_other(
    item: &ReviewItem,
    actor: Option<&UserId>,
    now: DateTime<Utc>,
) -> Option<ModerationError> {
    let holder = item.claim_holder(now)?;
    if Some(holder) == actor {
        return None;
    }
    Some(ModerationError::Claimed {
        review: item.id,
        by: holder.clone(),
        until: item.claim_expires_at.unwrap_or(now),
    })
}
