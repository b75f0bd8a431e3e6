//! The one error type of moderation-core.

use chrono::{DateTime, Utc};

use crate::ids::{ItemId, Kind, ObjectRef, UserId};
use crate::queue::{ReviewAction, ReviewId, ReviewStatus};

/// A boxed error from a port implementation (a database driver, a mailer).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in moderation-core and the ports it defines.
///
/// Every message says what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ModerationError {
    /// `register` was called for a kind that already has a moderator.
    #[error(
        "kind `{kind}` is already moderated; unregister it first or register under another kind"
    )]
    AlreadyModerated {
        /// The kind.
        kind: Kind,
    },
    /// `unregister` was called for a kind that has no moderator.
    #[error("kind `{kind}` is not moderated; register it before unregistering or changing it")]
    NotModerated {
        /// The kind.
        kind: Kind,
    },
    /// A kind name is not of the allowed form.
    #[error(
        "invalid kind name `{kind}`: use 1-128 lower-case ASCII letters, digits, `.`, `_` or `-`"
    )]
    InvalidKind {
        /// The rejected name.
        kind: String,
    },
    /// An object or user id is empty, too long or malformed.
    #[error(
        "invalid id `{id}`: ids are 1-256 bytes without control characters (stored keys are `i:`, `u:` or `s:` prefixed)"
    )]
    InvalidId {
        /// The rejected id.
        id: String,
    },
    /// A moderation log or audit action verb is not of the allowed form.
    #[error(
        "invalid action `{action}`: use 1-64 lower-case ASCII letters, digits, `.`, `_` or `-`, such as `review.approve`"
    )]
    InvalidAction {
        /// The rejected verb.
        action: String,
    },
    /// A trust level outside 0..=4.
    #[error("invalid trust level {level}: use 0 to 4")]
    InvalidTrustLevel {
        /// The rejected level.
        level: u8,
    },
    /// A parent's date field lies in the future, so "days elapsed" is undefined.
    #[error(
        "field `{field}` of the parent object is {date}, after now ({now}); fix the date or the clock"
    )]
    FutureDate {
        /// The field name.
        field: String,
        /// The date read from the parent.
        date: DateTime<Utc>,
        /// The clock's now.
        now: DateTime<Utc>,
    },
    /// A configured field is missing from the parent or has the wrong type.
    #[error(
        "field `{field}` of the parent object is unusable: {problem}; check the moderator's options"
    )]
    InvalidField {
        /// The field name.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The text to moderate is longer than the configured maximum.
    #[error("text is {len} bytes, over the limit of {max}; shorten it or raise `max_text_len`")]
    TextTooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The serialised object is larger than the store accepts.
    #[error(
        "payload is {len} bytes, over the limit of {max}; shorten it or raise the store's payload limit"
    )]
    PayloadTooLarge {
        /// Its length in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// An object could not be turned into or read from its serde form.
    #[error("could not (de)serialise the object: {0}; check the model's serde attributes")]
    Serde(#[from] serde_json::Error),
    /// Another actor changed the item first.
    #[error("item {item} changed since version {expected} (now {actual}); reload it and try again")]
    Conflict {
        /// The item.
        item: ItemId,
        /// The version the caller had.
        expected: i64,
        /// The version in the store.
        actual: i64,
    },
    /// A moderated object's record changed since it was read, or (on a
    /// create) already exists.
    #[error(
        "object {object} changed since version {expected} (now {actual}); reload it and try again"
    )]
    ObjectConflict {
        /// The object.
        object: ObjectRef,
        /// The version the caller had (0 for a create).
        expected: i64,
        /// The version in the store (0 when there is none).
        actual: i64,
    },
    /// An edit or decision named an object the workflow has no record of.
    #[error(
        "object {object} has no moderation record; create it through the workflow first, or edit it with `edit_pre_existing` if it predates moderation"
    )]
    UnknownObject {
        /// The object.
        object: ObjectRef,
    },
    /// A decision named an entry the store does not have.
    #[error("entry {entry} does not exist; reload the queue")]
    UnknownEntry {
        /// The entry id.
        entry: i64,
    },
    /// A decision named an entry that a newer revision replaced.
    #[error(
        "entry {entry} is revision {revision} but the object is at revision {latest}; act on the latest entry"
    )]
    NotLatestEntry {
        /// The entry id.
        entry: i64,
        /// Its revision.
        revision: i64,
        /// The object's newest revision.
        latest: i64,
    },
    /// No item with this id.
    #[error("item {item} does not exist; it may have been purged by a cleanup job")]
    NotFound {
        /// The item.
        item: ItemId,
    },
    /// A review subject key does not parse.
    #[error(
        "invalid review subject key `{key}`: expected `submission:`, `object_change:`, `content:` or `user:` followed by its id"
    )]
    InvalidSubject {
        /// The rejected key.
        key: String,
    },
    /// Another moderator changed the review item first.
    #[error(
        "review item {review} changed since version {expected} (now {actual}); reload it and decide again"
    )]
    ReviewConflict {
        /// The review item.
        review: ReviewId,
        /// The version the caller had.
        expected: i64,
        /// The version in the store.
        actual: i64,
    },
    /// No review item with this id.
    #[error("review item {review} does not exist; check the id")]
    ReviewNotFound {
        /// The review item.
        review: ReviewId,
    },
    /// The queue requires a claim and the actor holds none.
    #[error("review item {review} must be claimed before acting on it; claim it first")]
    ClaimRequired {
        /// The review item.
        review: ReviewId,
    },
    /// Another moderator holds an unexpired claim.
    #[error(
        "review item {review} is claimed by {by} until {until}; wait for the claim to end or pick another item"
    )]
    Claimed {
        /// The review item.
        review: ReviewId,
        /// The holder.
        by: UserId,
        /// When the lease ends.
        until: DateTime<Utc>,
    },
    /// The action is not allowed from the item's status.
    #[error(
        "cannot {action} review item {review} while it is {from}; only pending items are decided, and only deleted ones restored"
    )]
    TransitionRefused {
        /// The review item.
        review: ReviewId,
        /// The refused action.
        action: ReviewAction,
        /// The item's status.
        from: ReviewStatus,
    },
    /// Only pending items can be claimed.
    #[error("review item {review} is {status}, not pending; only pending items can be claimed")]
    NotPending {
        /// The review item.
        review: ReviewId,
        /// Its status.
        status: ReviewStatus,
    },
    /// An action that needs a signed-in user was attempted anonymously.
    #[error("{action} needs a signed-in user; ask the visitor to sign in first")]
    AnonymousActor {
        /// The action (`flag`, `approve`, ...).
        action: &'static str,
    },
    /// Bad configuration.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// A notification template failed to render.
    #[error(
        "notification template `{name}` failed to render: {message}; fix the override or remove it to use the shipped one"
    )]
    Template {
        /// The template name.
        name: String,
        /// The renderer's message.
        message: String,
    },
    /// Two versions of a moderated object could not be compared.
    #[error("could not diff the versions: {0}; check that both snapshots are JSON objects")]
    Diff(#[from] moderation_diff::DiffError),
    /// A notifier or another outbound port failed.
    #[error("{port} failed: {source}")]
    Port {
        /// Which port (`notifier`, `spam classifier`, ...).
        port: &'static str,
        /// The cause.
        #[source]
        source: BoxError,
    },
    /// A community rule refused the action; show the member the message.
    #[error("{refusal}")]
    Refused {
        /// Which rule refused, what to tell the member and when to retry.
        refusal: crate::community::Refusal,
    },
    /// No sanction with this id.
    #[error("sanction {id} does not exist; list the member's sanctions to find it")]
    UnknownSanction {
        /// The id asked for.
        id: i64,
    },
    /// The store failed; nothing was written.
    #[error("the store failed, nothing was written: {source}; check the database and retry")]
    Store {
        /// The cause.
        #[source]
        source: BoxError,
    },
}

impl From<crate::community::Refusal> for ModerationError {
    fn from(refusal: crate::community::Refusal) -> Self {
        Self::Refused { refusal }
    }
}

impl ModerationError {
    /// True for a lost race on a version: [`ModerationError::Conflict`],
    /// [`ModerationError::ReviewConflict`] or
    /// [`ModerationError::ObjectConflict`]. Reload and decide again.
    #[must_use]
    pub fn is_conflict(&self) -> bool {
        matches!(
            self,
            Self::Conflict { .. } | Self::ReviewConflict { .. } | Self::ObjectConflict { .. }
        )
    }

    /// Wraps a store failure.
    pub fn store(source: impl Into<BoxError>) -> Self {
        Self::Store {
            source: source.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{ItemId, Kind};
    use crate::queue::ReviewId;

    #[test]
    fn every_lost_version_race_is_a_conflict() -> Result<(), ModerationError> {
        let races = [
            ModerationError::Conflict {
                item: ItemId(1),
                expected: 1,
                actual: 2,
            },
            ModerationError::ReviewConflict {
                review: ReviewId(1),
                expected: 1,
                actual: 2,
            },
            ModerationError::ObjectConflict {
                object: ObjectRef::new(Kind::new("profile")?, 1_i64),
                expected: 1,
                actual: 2,
            },
        ];
        assert!(races.iter().all(ModerationError::is_conflict));
        assert!(!ModerationError::store("down").is_conflict());
        Ok(())
    }
}
