//! The `Rule` trait and the fixed order of stages (SPEC A5).

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::decision::Decision;
use crate::error::ModerationError;
use crate::facts::StoreFacts;
use crate::submission::Submission;

/// Where a rule runs. Stages run in declaration order; the first rule that
/// returns a decision wins, and a submission that no rule decides is
/// published.
///
/// | # | stage | built-in rules |
/// |---|---|---|
/// | 1 | [`Stage::Discard`] | `enable_field`, `close_after`, the moderator's `allow` hook |
/// | 2 | [`Stage::Sanctions`] | frozen, silenced, suspended authors |
/// | 3 | [`Stage::AutoReject`] | anonymous authors (when configured), deny groups |
/// | 4 | [`Stage::AutoApprove`] | superusers, staff, allow groups |
/// | 5 | [`Stage::RateLimit`] | (your rules; trust-level limits later) |
/// | 6 | [`Stage::Content`] | spam check (watched words and links later) |
/// | 7 | [`Stage::Hold`] | `moderate_after`, first-timers, always-moderate, the `moderate` hook |
/// | 8 | publish | no rule objected |
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Stage {
    /// Rules that refuse to save anything (comments disabled or closed).
    Discard,
    /// Sanctions on the author.
    Sanctions,
    /// Rules that reject automatically.
    AutoReject,
    /// Rules that publish automatically.
    AutoApprove,
    /// Rate limits.
    RateLimit,
    /// Rules that read the content.
    Content,
    /// Rules that hold for review.
    Hold,
}

impl Stage {
    /// Every stage, in the order they run.
    pub const ALL: [Self; 7] = [
        Self::Discard,
        Self::Sanctions,
        Self::AutoReject,
        Self::AutoApprove,
        Self::RateLimit,
        Self::Content,
        Self::Hold,
    ];
}

/// What a rule sees: the submission, read-only store facts and "now".
#[derive(Debug, Clone, Copy)]
pub struct RuleContext<'a> {
    /// The submission.
    pub submission: &'a Submission,
    /// Read-only store facts.
    pub facts: StoreFacts<'a>,
    /// The clock's now for this submission.
    pub now: DateTime<Utc>,
}

/// One moderation rule: a stage and a check.
///
/// ```
/// use moderation_core::{Decision, ModerationError, Reason, Rule, RuleContext, Stage};
/// #[derive(Debug)]
/// struct NoShouting;
/// #[async_trait::async_trait]
/// impl Rule for NoShouting {
///     fn stage(&self) -> Stage { Stage::Content }
///     async fn check(&self, ctx: &RuleContext<'_>) -> Result<Option<Decision>, ModerationError> {
///         let text = &ctx.submission.text;
///         let shouting = text.len() > 10 && !text.chars().any(char::is_lowercase);
///         Ok(shouting.then(|| Decision::hold(Reason::new("no_shouting", "All capitals"))))
///     }
/// }
/// ```
#[async_trait]
pub trait Rule: Send + Sync + fmt::Debug {
    /// The stage the rule runs in.
    fn stage(&self) -> Stage;

    /// `Some(decision)` to decide, `None` to pass to the next rule.
    ///
    /// # Errors
    /// A typed error stops the submission (nothing is stored).
    async fn check(&self, ctx: &RuleContext<'_>) -> Result<Option<Decision>, ModerationError>;
}
