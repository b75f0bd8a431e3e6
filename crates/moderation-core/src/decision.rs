//! The outcome of moderating one submission, and why.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

/// What happens to a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Public now.
    Publish,
    /// Saved, not public, queued for review.
    Hold,
    /// Saved for the record, never public.
    Reject,
    /// Not saved at all; the caller shows the user a refusal.
    Discard,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Publish => "publish",
            Self::Hold => "hold",
            Self::Reject => "reject",
            Self::Discard => "discard",
        })
    }
}

/// A machine-readable reason: which rule, in words, and what matched.
///
/// ```
/// use moderation_core::Reason;
/// let reason = Reason::new("spam", "The spam check flagged this comment")
///     .with_detail(serde_json::json!({"score": 0.97}));
/// assert_eq!(reason.rule, "spam");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// Stable rule id (`enable_field`, `close_after`, `spam`, ...).
    pub rule: Cow<'static, str>,
    /// Human text for moderators and, where suitable, the author.
    pub text: String,
    /// Structured detail: what matched, scores, dates.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
}

impl Reason {
    /// A reason with no detail.
    #[must_use]
    pub fn new(rule: impl Into<Cow<'static, str>>, text: impl Into<String>) -> Self {
        Self {
            rule: rule.into(),
            text: text.into(),
            detail: serde_json::Value::Null,
        }
    }

    /// Adds structured detail.
    #[must_use]
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}] {}", self.rule, self.text)
    }
}

/// A verdict with its reasons. Every decision the pipeline makes has at least
/// one reason, including [`Verdict::Publish`] ("no rule objected").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// The outcome.
    pub verdict: Verdict,
    /// Why, in rule order.
    pub reasons: Vec<Reason>,
}

impl Decision {
    /// A decision with one reason.
    #[must_use]
    pub fn new(verdict: Verdict, reason: Reason) -> Self {
        Self {
            verdict,
            reasons: vec![reason],
        }
    }

    /// Publish, for the given reason.
    #[must_use]
    pub fn publish(reason: Reason) -> Self {
        Self::new(Verdict::Publish, reason)
    }

    /// Hold for review, for the given reason.
    #[must_use]
    pub fn hold(reason: Reason) -> Self {
        Self::new(Verdict::Hold, reason)
    }

    /// Reject, for the given reason.
    #[must_use]
    pub fn reject(reason: Reason) -> Self {
        Self::new(Verdict::Reject, reason)
    }

    /// Discard, for the given reason.
    #[must_use]
    pub fn discard(reason: Reason) -> Self {
        Self::new(Verdict::Discard, reason)
    }
}
