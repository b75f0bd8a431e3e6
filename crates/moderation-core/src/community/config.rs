//! Community rules as data: one serde document operators edit without
//! recompiling, validated on load.

use serde::{Deserialize, Serialize};

use super::content::ContentLimits;
use super::gates::Gates;
use super::guard::LowContributionGuard;
use super::limits::RateLimits;
use super::trust::TrustRequirements;
use super::words::{WatchedWord, WatchedWords};
use crate::error::ModerationError;

/// Every setting of the community rules. Missing sections take their
/// defaults; unknown keys are refused so a typo never goes unnoticed.
///
/// [`CommunityConfig::from_json`] and (with the default `toml` feature)
/// [`CommunityConfig::from_toml`] read a document and validate it in one
/// step; any other serde format works through [`CommunityConfig::validate`].
///
/// ```
/// use moderation_core::community::{ActionKind, CommunityConfig};
/// let config = CommunityConfig::from_json(r#"{
///     "rate_limits": { "daily_caps": { "topic": 5 } },
///     "watched_words": [ { "word": "casino*", "action": "block" } ]
/// }"#)?;
/// assert_eq!(config.rate_limits.daily_caps[&ActionKind::Topic], 5);
///
/// let error = CommunityConfig::from_json(r#"{ "rate_limits": { "daily_cap": {} } }"#).unwrap_err();
/// assert!(error.to_string().contains("daily_cap"));
/// # Ok::<(), moderation_core::ModerationError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommunityConfig {
    /// Trust-level requirements (D1).
    pub trust: TrustRequirements,
    /// Minimum level per action (D2).
    pub gates: Gates,
    /// Daily caps, cooldowns and first-day caps (D3).
    pub rate_limits: RateLimits,
    /// New-user content limits (D4).
    pub content_limits: ContentLimits,
    /// The low-contribution guard (D5).
    pub guard: LowContributionGuard,
    /// Watched words (D6).
    pub watched_words: Vec<WatchedWord>,
}

impl CommunityConfig {
    /// Reads and validates a JSON document.
    ///
    /// # Errors
    /// [`ModerationError::Config`] with the line, column and key at fault,
    /// or the first invalid setting.
    pub fn from_json(text: &str) -> Result<Self, ModerationError> {
        let config: Self = serde_json::from_str(text).map_err(|e| {
            ModerationError::Config(format!("community rules: {e}; fix the document and reload"))
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Reads and validates a TOML document: the same keys as JSON, each
    /// section a table.
    ///
    /// ```
    /// use moderation_core::community::{ActionKind, CommunityConfig, WordAction};
    /// let config = CommunityConfig::from_toml(r#"
    /// [rate_limits.daily_caps]
    /// topic = 5
    ///
    /// [content_limits]
    /// new_user_max_links = 1
    ///
    /// [[watched_words]]
    /// word = "casino*"
    /// action = "block"
    /// "#)?;
    /// assert_eq!(config.rate_limits.daily_caps[&ActionKind::Topic], 5);
    /// assert_eq!(config.content_limits.new_user_max_links, 1);
    /// assert_eq!(config.watched_words[0].action, WordAction::Block);
    ///
    /// // A misspelt key is refused, with where it is and what would fit.
    /// let error = CommunityConfig::from_toml("[guard]\nthreshhold = 5\n").unwrap_err();
    /// assert!(error.to_string().contains("threshhold"));
    /// assert!(error.to_string().contains("line 2"));
    /// # Ok::<(), moderation_core::ModerationError>(())
    /// ```
    ///
    /// # Errors
    /// [`ModerationError::Config`] with the line, column and key at fault,
    /// or the first invalid setting.
    #[cfg(feature = "toml")]
    pub fn from_toml(text: &str) -> Result<Self, ModerationError> {
        let config: Self = toml::from_str(text).map_err(|e| {
            let place = e
                .span()
                .and_then(|span| text.get(..span.start))
                .map(|before| {
                    let line = before.matches('\n').count() + 1;
                    let column = before
                        .rsplit_once('\n')
                        .map_or(before, |(_, last)| last)
                        .chars()
                        .count()
                        + 1;
                    format!(" at line {line} column {column}")
                })
                .unwrap_or_default();
            ModerationError::Config(format!(
                "community rules: {}{place}; fix the document and reload",
                e.message().trim_end()
            ))
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every section; also compiles the watched words, so a bad
    /// regular expression is reported here and not at the first post.
    ///
    /// # Errors
    /// [`ModerationError::Config`] naming the first bad setting.
    pub fn validate(&self) -> Result<(), ModerationError> {
        self.rate_limits.validate()?;
        self.content_limits.validate()?;
        if self.trust.tl3.keep_percent > 100 {
            return Err(ModerationError::Config(format!(
                "trust.tl3.keep_percent is {}; use a share of at most 100",
                self.trust.tl3.keep_percent
            )));
        }
        WatchedWords::new(self.watched_words.clone()).map(|_| ())
    }
}
