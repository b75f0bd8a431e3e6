//! The `ActionLog` port (D3): every accepted action, counted by the store so
//! limits hold across restarts and across servers sharing a database.
//!
//! [`ActionLog::check_and_append`] is one atomic store operation: it checks
//! every [`LimitCheck`] and appends the action only if all pass, so two
//! processes acting for the same member at once cannot both slip under a
//! limit. Each check asks one bounded question: "the n-th most recent
//! matching action inside the window", answered from an index on
//! (member, action, time) without reading anything older than the window.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::action::ActionKind;
use super::limits::LimitCheck;
use crate::error::ModerationError;
use crate::ids::UserId;

/// An action to check and, if every check passes, append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionAttempt {
    /// The member.
    pub user: UserId,
    /// What they do.
    pub action: ActionKind,
    /// When (the clock's now).
    pub at: DateTime<Utc>,
    /// The text's fingerprint, for the duplicate check.
    pub fingerprint: Option<String>,
    /// The hosts the content links to (lower-cased, deduplicated).
    pub hosts: Vec<String>,
    /// The limits to check, in order; the first that fails is reported.
    pub checks: Vec<LimitCheck>,
}

/// Which check failed and when it stops failing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breach {
    /// Index into [`ActionAttempt::checks`].
    pub check: usize,
    /// When the action becomes allowed again.
    pub retry_at: DateTime<Utc>,
    /// For [`LimitCheck::SameHost`], the host.
    pub host: Option<String>,
}

/// The answer of [`ActionLog::check_and_append`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Admission {
    /// Every check passed; the action is in the log.
    Appended,
    /// A check failed; nothing was written.
    Refused(Breach),
}

/// One question a check asks the log: the `nth` (1-based) most recent action
/// of `user` after `since` that matches `filter` (actions stamped after the
/// attempt included). The action at that rank
/// sits in the window, so the limit is reached; it leaves the window at its
/// time plus the window, when the action is allowed again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RankQuery<'a> {
    /// What to match.
    pub filter: RankFilter<'a>,
    /// Only actions strictly after this count.
    pub since: DateTime<Utc>,
    /// The rank asked for (at least 1).
    pub nth: u32,
    /// The window length, to compute the retry time.
    pub window: TimeDelta,
}

/// What a [`RankQuery`] matches.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RankFilter<'a> {
    /// Actions of these kinds.
    Kinds(&'a [ActionKind]),
    /// Actions whose text had this fingerprint.
    Fingerprint(&'a str),
    /// Actions that linked this host.
    Host(&'a str),
}

impl ActionAttempt {
    /// The questions of check `index`, in order. A check with nothing to ask
    /// (a duplicate check without a fingerprint) yields none; a cap of 0
    /// refuses outright and yields a query with rank 0, which every store
    /// answers with "now".
    #[must_use]
    pub fn queries(&self, index: usize) -> Vec<RankQuery<'_>> {
        let Some(check) = self.checks.get(index) else {
            return Vec::new();
        };
        match check {
            LimitCheck::Count {
                actions,
                window,
                max,
                ..
            } => vec![RankQuery {
                filter: RankFilter::Kinds(actions),
                since: self.at - *window,
                nth: *max,
                window: *window,
            }],
            LimitCheck::Duplicate { window } => self
                .fingerprint
                .as_deref()
                .map(|fingerprint| RankQuery {
                    filter: RankFilter::Fingerprint(fingerprint),
                    since: self.at - *window,
                    nth: 1,
                    window: *window,
                })
                .into_iter()
                .collect(),
            LimitCheck::SameHost { window, max_posts } => self
                .hosts
                .iter()
                .map(|host| RankQuery {
                    filter: RankFilter::Host(host),
                    since: self.at - *window,
                    nth: max_posts.saturating_sub(1),
                    window: *window,
                })
                .collect(),
        }
    }
}

/// The store port that counts and appends actions atomically.
#[async_trait]
pub trait ActionLog: Send + Sync + std::fmt::Debug {
    /// Checks every limit of `attempt` and appends it if all pass, as one
    /// atomic operation (one transaction holding the member's lock).
    ///
    /// # Errors
    /// [`ModerationError::Store`]; nothing is written.
    async fn check_and_append(&self, attempt: &ActionAttempt)
    -> Result<Admission, ModerationError>;

    /// How many actions of `action` the member took after `since`.
    ///
    /// # Errors
    /// [`ModerationError::Store`].
    async fn count_since(
        &self,
        user: &UserId,
        action: ActionKind,
        since: DateTime<Utc>,
    ) -> Result<u64, ModerationError>;
}

/// Answers a [`RankQuery`] over actions sorted oldest first: walks back from
/// the newest and stops at the window's start or the rank, so the cost is
/// bounded by the window, never by the history.
fn rank<'a, I>(newest_first: I, query: &RankQuery<'_>) -> Option<DateTime<Utc>>
where
    I: Iterator<Item = &'a LoggedAction>,
{
    if query.nth == 0 {
        // A cap of 0: never allowed; `retry_at` counts a window from now.
        return Some(query.since);
    }
    newest_first
        .take_while(|logged| logged.at > query.since)
        .filter(|logged| match &query.filter {
            RankFilter::Kinds(kinds) => kinds.contains(&logged.action),
            RankFilter::Fingerprint(fp) => logged.fingerprint.as_deref() == Some(*fp),
            RankFilter::Host(host) => logged.hosts.iter().any(|h| h == host),
        })
        .nth(usize::try_from(query.nth - 1).unwrap_or(usize::MAX))
        .map(|logged| logged.at)
}

#[derive(Debug, Clone)]
struct LoggedAction {
    action: ActionKind,
    at: DateTime<Utc>,
    fingerprint: Option<String>,
    hosts: Vec<String>,
}

/// The in-memory reference [`ActionLog`]: one time-ordered list per member
/// behind a mutex, so check-and-append is atomic within the process.
/// Cloning shares the data.
#[derive(Debug, Clone, Default)]
pub struct MemoryActionLog {
    members: Arc<Mutex<HashMap<UserId, Vec<LoggedAction>>>>,
}

impl MemoryActionLog {
    /// An empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ActionLog for MemoryActionLog {
    async fn check_and_append(
        &self,
        attempt: &ActionAttempt,
    ) -> Result<Admission, ModerationError> {
        let mut members = self.members.lock().unwrap_or_else(PoisonError::into_inner);
        let actions = members.entry(attempt.user.clone()).or_default();
        for index in 0..attempt.checks.len() {
            for query in attempt.queries(index) {
                // Actions stamped after `attempt.at` count too: another
                // server's clock may run ahead, and skew must never let a
                // member past a limit.
                if let Some(at) = rank(actions.iter().rev(), &query) {
                    return Ok(Admission::Refused(Breach {
                        check: index,
                        retry_at: retry_at(at, &query, attempt.at),
                        host: match query.filter {
                            RankFilter::Host(host) => Some(host.to_owned()),
                            _ => None,
                        },
                    }));
                }
            }
        }
        let position = actions.partition_point(|logged| logged.at <= attempt.at);
        actions.insert(
            position,
            LoggedAction {
                action: attempt.action,
                at: attempt.at,
                fingerprint: attempt.fingerprint.clone(),
                hosts: attempt.hosts.clone(),
            },
        );
        Ok(Admission::Appended)
    }

    async fn count_since(
        &self,
        user: &UserId,
        action: ActionKind,
        since: DateTime<Utc>,
    ) -> Result<u64, ModerationError> {
        let members = self.members.lock().unwrap_or_else(PoisonError::into_inner);
        let count = members.get(user).map_or(0, |actions| {
            actions
                .iter()
                .rev()
                .take_while(|logged| logged.at > since)
                .filter(|logged| logged.action == action)
                .count()
        });
        Ok(u64::try_from(count).unwrap_or(u64::MAX))
    }
}

/// When a refused action becomes allowed: the matched action's time plus
/// the window; for a cap of 0 (no matched action), a window from now.
#[must_use]
pub fn retry_at(
    matched: DateTime<Utc>,
    query: &RankQuery<'_>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    if query.nth == 0 {
        now + query.window
    } else {
        matched + query.window
    }
}
