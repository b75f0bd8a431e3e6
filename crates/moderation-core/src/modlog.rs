//! The moderation log (SPEC E7): every staff action, with who did it, to
//! what, why, the state before and after, and the bulk action it was part of.
//!
//! The log is the "history of everything": moderation never deletes rows, so
//! the log is where an approve, a reject, a sanction or a lift can always be
//! found again. Stores append to it in the same transaction as the action
//! itself ([`MemoryModerationLog::append_now`] for in-memory stores, the
//! `sqlite_append` / `pg_append` helpers of `moderation-storage` for SQL
//! ones), so an action without its entry, or an entry without its action,
//! cannot exist.
//!
//! Reading is by [`ModLogFilter`] in keyset pages, newest first. The only
//! change the log ever sees is [`ModerationLog::anonymise_actor`], which
//! GDPR erasure uses: the entries stay, the person behind them goes.

use std::net::IpAddr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ModerationError;
use crate::ids::{ItemId, ObjectRef, UserId};
use crate::store::{Cursor, Page, PageRequest};

/// The most bytes an action verb may have.
pub const MAX_ACTION_LEN: usize = 64;

/// Checks an action verb such as `review.approve` or `sanction.freeze`.
///
/// Verbs are stored, indexed and matched by programs, so they are held to
/// the same alphabet as kind names: 1 to [`MAX_ACTION_LEN`] bytes of
/// lower-case ASCII letters, digits, `.`, `_` and `-`.
///
/// ```
/// use moderation_core::check_action;
/// assert!(check_action("review.approve").is_ok());
/// assert!(check_action("Review Approve").is_err());
/// ```
///
/// # Errors
/// [`ModerationError::InvalidAction`] for any other text.
pub fn check_action(action: &str) -> Result<(), ModerationError> {
    let valid = !action.is_empty()
        && action.len() <= MAX_ACTION_LEN
        && action.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        });
    if valid {
        Ok(())
    } else {
        Err(ModerationError::InvalidAction {
            action: action.to_owned(),
        })
    }
}

/// A staff action to append to the moderation log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewModLogEntry {
    /// What was done, as a verb: `review.approve`, `object.reject`,
    /// `sanction.freeze`, `item.approve`... (see [`check_action`]).
    pub action: String,
    /// Who did it; `None` for the system (an expiry, a scheduled job) or
    /// after the actor was erased.
    pub actor: Option<UserId>,
    /// What it was done to.
    pub target: ObjectRef,
    /// Why, in the moderator's words.
    pub reason: Option<String>,
    /// The target's state before the action (a status, a serialised version).
    pub before: Option<String>,
    /// The target's state after the action.
    pub after: Option<String>,
    /// Structured detail (`null` when there is none).
    pub detail: serde_json::Value,
    /// The actor's IP address; retention clears it after `ip_store_time`.
    pub ip: Option<IpAddr>,
    /// Groups the entries of one bulk action under one id.
    pub bulk: Option<Uuid>,
    /// When, from the [`Clock`](crate::Clock).
    pub at: DateTime<Utc>,
}

impl NewModLogEntry {
    /// Checks the entry before anything is written.
    ///
    /// # Errors
    /// [`ModerationError::InvalidAction`] for a malformed verb.
    pub fn validate(&self) -> Result<(), ModerationError> {
        check_action(&self.action)
    }

    /// The stored entry this becomes under `id`.
    #[must_use]
    pub fn stored(self, id: i64) -> ModLogEntry {
        ModLogEntry {
            id,
            action: self.action,
            actor: self.actor,
            target: self.target,
            reason: self.reason,
            before: self.before,
            after: self.after,
            detail: self.detail,
            ip: self.ip,
            bulk: self.bulk,
            at: self.at,
        }
    }
}

/// A moderation log entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModLogEntry {
    /// The entry's id, increasing in insertion order; breaks ties between
    /// entries written in the same microsecond.
    pub id: i64,
    /// What was done.
    pub action: String,
    /// Who did it (`None` for the system or an erased actor).
    pub actor: Option<UserId>,
    /// What it was done to.
    pub target: ObjectRef,
    /// Why.
    pub reason: Option<String>,
    /// The target's state before.
    pub before: Option<String>,
    /// The target's state after.
    pub after: Option<String>,
    /// Structured detail.
    pub detail: serde_json::Value,
    /// The actor's IP address, until retention or erasure clears it.
    pub ip: Option<IpAddr>,
    /// The bulk action it belongs to.
    pub bulk: Option<Uuid>,
    /// When.
    pub at: DateTime<Utc>,
}

impl ModLogEntry {
    /// The keyset position just after this entry, for
    /// [`PageRequest::after`]. The entry's id stands in the cursor's `id`.
    #[must_use]
    pub fn cursor(&self) -> Cursor {
        Cursor {
            created_at: self.at,
            id: ItemId(self.id),
        }
    }
}

/// Which log entries to read. Empty fields do not filter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModLogFilter {
    /// Only what this staff member did.
    pub actor: Option<UserId>,
    /// Only what was done to this object.
    pub target: Option<ObjectRef>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries strictly before this time.
    pub until: Option<DateTime<Utc>>,
}

impl ModLogFilter {
    /// True when `entry` passes the filter (the reference semantics every
    /// store's query must match).
    #[must_use]
    pub fn matches(&self, entry: &ModLogEntry) -> bool {
        self.actor
            .as_ref()
            .is_none_or(|a| entry.actor.as_ref() == Some(a))
            && self.target.as_ref().is_none_or(|t| entry.target == *t)
            && self.since.is_none_or(|since| entry.at >= since)
            && self.until.is_none_or(|until| entry.at < until)
    }
}

/// True when `entry` comes strictly after `cursor` in newest-first order:
/// older, or as old with a smaller id.
#[must_use]
pub fn newest_first_after(entry: &ModLogEntry, cursor: &Cursor) -> bool {
    (entry.at, entry.id) < (cursor.created_at, cursor.id.0)
}

/// Persistence for the moderation log.
///
/// Contract, which the conformance suite in `moderation-storage` checks:
/// - [`append`](Self::append) validates the entry first and writes nothing
///   when it is invalid; ids increase in insertion order;
/// - [`mod_log`](Self::mod_log) pages newest first on `(at, id)`, whatever
///   `page.order` says, so entries sharing a timestamp are never lost
///   between pages; its cost does not grow with entries outside the filter;
/// - [`anonymise_actor`](Self::anonymise_actor) clears the actor and the IP
///   of every entry by that actor and keeps everything else.
#[async_trait]
pub trait ModerationLog: Send + Sync + std::fmt::Debug {
    /// Appends one entry on its own. Stores that write an action append its
    /// entry inside their own transaction instead.
    async fn append(&self, entry: NewModLogEntry) -> Result<ModLogEntry, ModerationError>;

    /// One page of entries matching `filter`, newest first.
    async fn mod_log(
        &self,
        filter: &ModLogFilter,
        page: PageRequest,
    ) -> Result<Page<ModLogEntry>, ModerationError>;

    /// Clears the actor and IP of every entry `actor` wrote (GDPR erasure);
    /// returns how many entries changed. SQL stores clear them in the item
    /// log of comment actions too (`ModerationStore::log_entries`).
    async fn anonymise_actor(&self, actor: &UserId) -> Result<u64, ModerationError>;
}
