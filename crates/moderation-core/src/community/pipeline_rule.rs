//! The community rules as one [`Rule`] of the moderation pipeline, for
//! applications that submit through [`Moderation`](crate::Moderation)
//! rather than calling [`CommunityRules::screen`] themselves.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::json;

use super::action::ActionKind;
use super::rules::{Attempt, CommunityRules, ScreeningVerdict};
use crate::decision::{Decision, Reason, Verdict};
use crate::error::ModerationError;
use crate::ids::UserId;
use crate::rule::{Rule, RuleContext, Stage};

/// What the application knows of an author's past: the facts the
/// low-contribution guard and the first-day caps read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthorRecord {
    /// The author's live (not deleted, not held) posts and comments.
    pub contributions: u64,
    /// When the author's first post was made, if ever.
    pub first_post_at: Option<DateTime<Utc>>,
}

/// Where [`CommunityRule`] reads an author's [`AuthorRecord`], usually the
/// application's own tables.
#[async_trait]
pub trait AuthorHistory: Send + Sync + fmt::Debug {
    /// The record of `author`.
    ///
    /// # Errors
    /// The store's error; it stops the submission.
    async fn record(&self, author: &UserId) -> Result<AuthorRecord, ModerationError>;
}

/// [`CommunityRules`] in the pipeline's rate-limit stage: every community
/// check of one kind of action, as a decision.
///
/// - a refusal (frozen author, gate, content or rate limit, `block` word)
///   rejects, with the refusal's code, message and detail as the reason
///   (or discards, with [`CommunityRule::refusals`]);
/// - a hold (`require_approval` and `freeze` words, the low-contribution
///   guard) holds for review with the screening's reasons;
/// - anything else passes to the next rule.
///
/// The pipeline decides and stores; it does not rewrite the text, freeze the
/// author or open the guard's review item. `censor` and `replace` words, the
/// freeze and the review item of a guard hold, and `flag` words stay with
/// [`CommunityRules::screen`] and
/// [`FreezeOnReview`](super::FreezeOnReview).
///
/// ```
/// use std::sync::Arc;
/// use moderation_core::community::{
///     ActionKind, CommunityConfig, CommunityRule, CommunityRules, MemoryActionLog,
///     MemorySanctionStore, WatchedWord, WordAction,
/// };
/// use moderation_core::{Rule, Stage, SystemClock, Verdict};
/// let config = CommunityConfig {
///     watched_words: vec![WatchedWord::new("casino", WordAction::Block)],
///     ..CommunityConfig::default()
/// };
/// let rules = CommunityRules::new(
///     config,
///     Arc::new(MemoryActionLog::new()),
///     Arc::new(MemorySanctionStore::new()),
///     Arc::new(SystemClock),
/// )?;
/// let rule = CommunityRule::new(rules, ActionKind::Comment).refusals(Verdict::Discard);
/// assert_eq!(rule.stage(), Stage::RateLimit);
/// // Return it from `Moderator::rules` to run it for a kind:
/// let extra: Vec<Arc<dyn Rule>> = vec![Arc::new(rule)];
/// # let _ = extra;
/// # Ok::<(), moderation_core::ModerationError>(())
/// ```
#[derive(Debug, Clone)]
pub struct CommunityRule {
    rules: CommunityRules,
    action: ActionKind,
    history: Option<Arc<dyn AuthorHistory>>,
    refusals: Verdict,
}

impl CommunityRule {
    /// Checks every submission as an `action` (a comment, a reply...). With
    /// no [`AuthorHistory`], every author counts as having no contributions
    /// and no first post, so the guard screens everyone.
    #[must_use]
    pub fn new(rules: CommunityRules, action: ActionKind) -> Self {
        Self {
            rules,
            action,
            history: None,
            refusals: Verdict::Reject,
        }
    }

    /// Reads authors' contributions and first posts from `history`.
    #[must_use]
    pub fn history(mut self, history: Arc<dyn AuthorHistory>) -> Self {
        self.history = Some(history);
        self
    }

    /// The verdict for a refused action: [`Verdict::Reject`] (the default)
    /// keeps it for the record, [`Verdict::Discard`] stores nothing and
    /// leaves the message to show the member in the reason.
    #[must_use]
    pub fn refusals(mut self, verdict: Verdict) -> Self {
        self.refusals = verdict;
        self
    }
}

#[async_trait]
impl Rule for CommunityRule {
    fn stage(&self) -> Stage {
        Stage::RateLimit
    }

    async fn check(&self, ctx: &RuleContext<'_>) -> Result<Option<Decision>, ModerationError> {
        let submission = ctx.submission;
        let record = match (&self.history, &submission.actor.user) {
            (Some(history), Some(user)) => history.record(user).await?,
            _ => AuthorRecord::default(),
        };
        let attempt = Attempt::new(&submission.actor, self.action, &submission.text)
            .contributions(record.contributions)
            .first_post_at(record.first_post_at);
        let screening = match self.rules.screen(&attempt).await {
            Ok(screening) => screening,
            Err(ModerationError::Refused { refusal }) => {
                let reason = Reason::new(refusal.code, refusal.message).with_detail(json!({
                    "detail": refusal.detail,
                    "retry_at": refusal.retry_at,
                }));
                return Ok(Some(Decision::new(self.refusals, reason)));
            }
            Err(other) => return Err(other),
        };
        Ok(match screening.verdict {
            ScreeningVerdict::Hold | ScreeningVerdict::HoldAndFreeze => Some(Decision {
                verdict: Verdict::Hold,
                reasons: screening.reasons,
            }),
            ScreeningVerdict::Publish | ScreeningVerdict::Flag => None,
        })
    }
}
