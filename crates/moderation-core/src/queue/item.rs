//! A review item: its id, status, reasons and claim.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::AuthorKey;
use crate::error::ModerationError;
use crate::ids::{Kind, UserId};
use crate::queue::subject::ReviewSubject;

/// The store's id for one review item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReviewId(pub i64);

impl fmt::Display for ReviewId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// Where a review item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    /// Waiting for a moderator.
    Pending,
    /// A moderator approved the subject.
    Approved,
    /// A moderator rejected the subject.
    Rejected,
    /// A moderator (or the stale job) decided nothing needs doing.
    Ignored,
    /// Soft-deleted: kept with its history, restorable to pending.
    Deleted,
}

impl ReviewStatus {
    /// Every status, in declaration order.
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Approved,
        Self::Rejected,
        Self::Ignored,
        Self::Deleted,
    ];

    /// The stable text stored in databases.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Ignored => "ignored",
            Self::Deleted => "deleted",
        }
    }

    /// Parses [`ReviewStatus::as_str`]'s form.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

impl fmt::Display for ReviewStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a moderator does to a review item.
///
/// The allowed moves ([`ReviewAction::allowed_from`]):
///
/// | action  | from                          | to       |
/// |---------|-------------------------------|----------|
/// | approve | pending                       | approved |
/// | reject  | pending                       | rejected |
/// | ignore  | pending                       | ignored  |
/// | delete  | pending, approved, rejected, ignored | deleted |
/// | restore | deleted                       | pending  |
///
/// Delete is soft: nothing is removed from the store, and restore puts the
/// item back in the queue to be decided again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewAction {
    /// Publish the subject (and lift the freeze it caused).
    Approve,
    /// Keep the subject from the public.
    Reject,
    /// Soft-delete: restorable, the author stays frozen.
    Delete,
    /// Bring a deleted item back to pending.
    Restore,
    /// Nothing to do (a flag that was wrong).
    Ignore,
}

impl ReviewAction {
    /// Every action, in declaration order.
    pub const ALL: [Self; 5] = [
        Self::Approve,
        Self::Reject,
        Self::Delete,
        Self::Restore,
        Self::Ignore,
    ];

    /// The stable text: `approve`, `reject`, `delete`, `restore`, `ignore`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Reject => "reject",
            Self::Delete => "delete",
            Self::Restore => "restore",
            Self::Ignore => "ignore",
        }
    }

    /// The status the action leaves the item in.
    #[must_use]
    pub fn target(self) -> ReviewStatus {
        match self {
            Self::Approve => ReviewStatus::Approved,
            Self::Reject => ReviewStatus::Rejected,
            Self::Delete => ReviewStatus::Deleted,
            Self::Restore => ReviewStatus::Pending,
            Self::Ignore => ReviewStatus::Ignored,
        }
    }

    /// True when the action may be taken on an item in `from`.
    ///
    /// ```
    /// use moderation_core::{ReviewAction, ReviewStatus};
    /// assert!(ReviewAction::Restore.allowed_from(ReviewStatus::Deleted));
    /// assert!(!ReviewAction::Restore.allowed_from(ReviewStatus::Rejected));
    /// assert!(!ReviewAction::Approve.allowed_from(ReviewStatus::Approved));
    /// ```
    #[must_use]
    pub fn allowed_from(self, from: ReviewStatus) -> bool {
        match self {
            Self::Approve | Self::Reject | Self::Ignore => from == ReviewStatus::Pending,
            Self::Delete => from != ReviewStatus::Deleted,
            Self::Restore => from == ReviewStatus::Deleted,
        }
    }
}

impl fmt::Display for ReviewAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason an item needs a human, with its weight.
///
/// Reasons with the same `code` merge: reopening a pending subject adds the
/// new score to the existing reason and keeps the newest text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewReason {
    /// Stable machine code (`first_timer`, `spam`, `flag.off_topic`).
    pub code: String,
    /// Human text for the moderator.
    pub text: String,
    /// Weight; the item's score is the sum over its reasons.
    pub score: i32,
}

impl ReviewReason {
    /// A reason from its parts.
    #[must_use]
    pub fn new(code: impl Into<String>, text: impl Into<String>, score: i32) -> Self {
        Self {
            code: code.into(),
            text: text.into(),
            score,
        }
    }
}

/// Merges `incoming` into `reasons` by code (adding scores, keeping the
/// newest text), and returns the total score. Every store merges this way.
pub fn merge_reasons(reasons: &mut Vec<ReviewReason>, incoming: &[ReviewReason]) -> i64 {
    for reason in incoming {
        match reasons.iter_mut().find(|known| known.code == reason.code) {
            Some(known) => {
                known.score = known.score.saturating_add(reason.score);
                known.text.clone_from(&reason.text);
            }
            None => reasons.push(reason.clone()),
        }
    }
    total_score(reasons)
}

/// The sum of the reasons' scores.
#[must_use]
pub fn total_score(reasons: &[ReviewReason]) -> i64 {
    reasons.iter().map(|reason| i64::from(reason.score)).sum()
}

/// A review item to open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReview {
    /// What to review.
    pub subject: ReviewSubject,
    /// The model kind of the subject (`blog.comment`, `user`).
    pub kind: Kind,
    /// Who wrote the subject, when known.
    pub author: Option<AuthorKey>,
    /// Why it needs a human; merged by code into a pending item of the same subject.
    pub reasons: Vec<ReviewReason>,
    /// Higher first among equal scores; the larger of old and new wins on merge.
    pub priority: i32,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
}

impl NewReview {
    /// Checks the review before anything is written: the subject must read
    /// back from its key as itself (a string id with a control character,
    /// say, cannot), and an anonymous author's identity must be a valid id.
    ///
    /// # Errors
    /// [`ModerationError::InvalidSubject`] or [`ModerationError::InvalidId`].
    pub fn validate(&self) -> Result<(), ModerationError> {
        let key = self.subject.key();
        if ReviewSubject::from_key(&key).ok().as_ref() != Some(&self.subject) {
            return Err(ModerationError::InvalidSubject { key });
        }
        if let Some(AuthorKey::Identity(identity)) = &self.author {
            UserId::new(identity.as_str())?;
        }
        Ok(())
    }

    /// The pending item this review opens as, under the store's `id`, at
    /// version 1 with its reasons merged by code.
    #[must_use]
    pub fn into_item(self, id: ReviewId) -> ReviewItem {
        let mut reasons = Vec::with_capacity(self.reasons.len());
        let score = merge_reasons(&mut reasons, &self.reasons);
        ReviewItem {
            id,
            subject: self.subject,
            kind: self.kind,
            author: self.author,
            reasons,
            score,
            status: ReviewStatus::Pending,
            priority: self.priority,
            created_at: self.created_at,
            updated_at: self.created_at,
            claimed_by: None,
            claim_expires_at: None,
            version: 1,
        }
    }
}

/// A review item as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    /// The store's id.
    pub id: ReviewId,
    /// What it is about.
    pub subject: ReviewSubject,
    /// The model kind of the subject.
    pub kind: Kind,
    /// Who wrote the subject.
    pub author: Option<AuthorKey>,
    /// Why it needs a human, one entry per code.
    pub reasons: Vec<ReviewReason>,
    /// The sum of the reasons' scores.
    pub score: i64,
    /// Where it stands.
    pub status: ReviewStatus,
    /// The priority.
    pub priority: i32,
    /// When it was opened.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Who holds the claim, if anyone (it may have expired; see
    /// [`ReviewItem::claim_holder`]).
    pub claimed_by: Option<UserId>,
    /// When the claim's lease ends.
    pub claim_expires_at: Option<DateTime<Utc>>,
    /// Bumped by every change of status or reasons (not by claims); an
    /// action naming another version is a conflict.
    pub version: i64,
}

impl ReviewItem {
    /// Merges a repeated open of this (pending) item's subject: reasons by
    /// code, the larger priority, version plus one. Returns the `merge`
    /// step to record. Every store merges so.
    pub fn merge(&mut self, review: &NewReview) -> ReviewHistoryEntry {
        self.score = merge_reasons(&mut self.reasons, &review.reasons);
        self.priority = self.priority.max(review.priority);
        self.version += 1;
        self.updated_at = review.created_at;
        ReviewHistoryEntry::step(
            self,
            ReviewEvent::Merge,
            None,
            Some(ReviewStatus::Pending),
            review.created_at,
        )
    }

    /// The user holding an unexpired claim at `now`.
    #[must_use]
    pub fn claim_holder(&self, now: DateTime<Utc>) -> Option<&UserId> {
        match (&self.claimed_by, self.claim_expires_at) {
            (Some(user), Some(until)) if until > now => Some(user),
            _ => None,
        }
    }
}

/// What one history entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ReviewEvent {
    /// The item was opened.
    Open,
    /// The subject was opened again while pending; reasons were merged.
    Merge,
    /// A moderator claimed the item.
    Claim,
    /// A moderator released the claim.
    Release,
    /// A moderator (or the stale job) acted.
    Act(ReviewAction),
    /// An action was undone because its subject handler failed.
    Revert,
}

impl ReviewEvent {
    /// The stable text stored in databases: `open`, `merge`, `claim`,
    /// `release`, the action's name, or `revert`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Merge => "merge",
            Self::Claim => "claim",
            Self::Release => "release",
            Self::Act(action) => action.as_str(),
            Self::Revert => "revert",
        }
    }

    /// Parses [`ReviewEvent::as_str`]'s form.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "open" => Self::Open,
            "merge" => Self::Merge,
            "claim" => Self::Claim,
            "release" => Self::Release,
            "revert" => Self::Revert,
            other => Self::Act(
                ReviewAction::ALL
                    .into_iter()
                    .find(|action| action.as_str() == other)?,
            ),
        })
    }

    /// The moderation-log verb: `review.` and [`ReviewEvent::as_str`].
    #[must_use]
    pub fn verb(self) -> String {
        format!("review.{}", self.as_str())
    }
}

/// One step in an item's history, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewHistoryEntry {
    /// The entry's id, increasing in insertion order.
    pub id: i64,
    /// The item.
    pub review: ReviewId,
    /// What happened.
    pub event: ReviewEvent,
    /// Who did it (`None` for the pipeline or the stale job).
    pub actor: Option<UserId>,
    /// The status before (`None` when the item was opened).
    pub from_status: Option<ReviewStatus>,
    /// The status after.
    pub to_status: ReviewStatus,
    /// The moderator's reason.
    pub reason: Option<String>,
    /// The message sent to the author.
    pub message: Option<String>,
    /// The bulk action this step belongs to.
    pub bulk: Option<uuid::Uuid>,
    /// When.
    pub at: DateTime<Utc>,
}

impl ReviewHistoryEntry {
    /// A step with no reason, message or bulk id (open, merge, claim,
    /// release), before the store gives it an id (0 until then).
    #[must_use]
    pub fn step(
        item: &ReviewItem,
        event: ReviewEvent,
        actor: Option<UserId>,
        from_status: Option<ReviewStatus>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: 0,
            review: item.id,
            event,
            actor,
            from_status,
            to_status: item.status,
            reason: None,
            message: None,
            bulk: None,
            at,
        }
    }
}
