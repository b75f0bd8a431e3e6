//! A typed refusal: why an action is not allowed, in words a member can read.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Why a community rule refused an action, with a message to show the member
/// and, when waiting helps, the moment the action becomes allowed again.
///
/// Reaches callers as [`ModerationError::Refused`](crate::ModerationError::Refused).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use moderation_core::community::Refusal;
/// let at = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
/// let refusal = Refusal::new("daily_cap", "You have reached today's limit of 3 topics")
///     .retry_at(at);
/// assert_eq!(refusal.retry_at, Some(at));
/// assert!(refusal.to_string().contains("2026-01-02 03:04:05"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refusal {
    /// Stable id of the rule that refused (`gate`, `daily_cap`, `cooldown`,
    /// `first_day_cap`, `too_many_links`, `watched_word`, ...).
    pub code: Cow<'static, str>,
    /// What to tell the member.
    pub message: String,
    /// When the action becomes allowed again, if waiting is enough.
    pub retry_at: Option<DateTime<Utc>>,
    /// Structured detail for logs and the review queue (limits, matches).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub detail: serde_json::Value,
}

impl Refusal {
    /// A refusal with a message and nothing else.
    #[must_use]
    pub fn new(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            retry_at: None,
            detail: serde_json::Value::Null,
        }
    }

    /// Says when the action becomes allowed again.
    #[must_use]
    pub fn retry_at(mut self, at: DateTime<Utc>) -> Self {
        self.retry_at = Some(at);
        self
    }

    /// Adds structured detail.
    #[must_use]
    pub fn with_detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if let Some(at) = self.retry_at {
            write!(f, "; try again at {}", at.format("%Y-%m-%d %H:%M:%S UTC"))?;
        }
        Ok(())
    }
}
