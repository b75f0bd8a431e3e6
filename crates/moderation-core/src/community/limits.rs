//! Rate limits (D3): which windows apply to an action, as data.
//!
//! Every limit is "at most `max` matching actions in the rolling window
//! ending now", counted by the [`ActionLog`](super::ActionLog) in the store:
//! daily caps (base x level multiplier), the cooldown between two posts
//! (a window of the cooldown's length with a maximum of 1) and first-day
//! caps. An action at `t` counts while `now - t < window`, so it leaves the
//! window at exactly `t + window`, which is when a refused action is allowed
//! again.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::action::ActionKind;
use crate::actor::{Actor, TrustLevel};
use crate::error::ModerationError;

/// One limit the action log checks before it appends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "check", rename_all = "snake_case")]
#[non_exhaustive]
pub enum LimitCheck {
    /// At most `max` actions of `actions` in `window`.
    Count {
        /// Which limit (`daily_cap`, `cooldown`, `first_day_cap`).
        code: LimitCode,
        /// The kinds counted.
        actions: Vec<ActionKind>,
        /// The rolling window.
        window: TimeDelta,
        /// The most allowed inside it.
        max: u32,
    },
    /// No earlier action with the same text fingerprint in `window`.
    Duplicate {
        /// The window (5 minutes by default).
        window: TimeDelta,
    },
    /// Each linked host at most `max_posts` times in `window`, this one included.
    SameHost {
        /// The window.
        window: TimeDelta,
        /// Posts linking one host, this one included, before it counts as spam.
        max_posts: u32,
    },
}

/// Which count limit refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LimitCode {
    /// Base x level multiplier per day.
    DailyCap,
    /// Time between two posts.
    Cooldown,
    /// First-day caps.
    FirstDayCap,
}

impl LimitCode {
    /// The stable code used in refusals.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DailyCap => "daily_cap",
            Self::Cooldown => "cooldown",
            Self::FirstDayCap => "first_day_cap",
        }
    }
}

/// Rate-limit settings. Defaults: Agouti's daily caps (topics 3, replies
/// and comments 8, times 1, 1, 2, 3, 4 for TL0..TL4), Discourse's cooldowns
/// (5 s; 30 s for TL0) and first-day caps (3 topics, 10 replies).
///
/// ```
/// use moderation_core::community::RateLimits;
/// use moderation_core::TrustLevel;
/// let limits = RateLimits::default();
/// assert_eq!(limits.multiplier(TrustLevel::Tl4), 4);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimits {
    /// Base daily cap per kind (multiplied by the level's multiplier).
    pub daily_caps: BTreeMap<ActionKind, u32>,
    /// Multiplier per level, TL0 first.
    pub level_multipliers: [u32; 5],
    /// Length of the daily window, in seconds.
    pub day_secs: u64,
    /// Seconds between two posts.
    pub cooldown_secs: u64,
    /// Seconds between two posts for TL0 members.
    pub new_user_cooldown_secs: u64,
    /// Caps during a member's first day.
    pub first_day_caps: BTreeMap<ActionKind, u32>,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            daily_caps: [
                (ActionKind::Topic, 3),
                (ActionKind::Reply, 8),
                (ActionKind::Comment, 8),
            ]
            .into_iter()
            .collect(),
            level_multipliers: [1, 1, 2, 3, 4],
            day_secs: 86_400,
            cooldown_secs: 5,
            new_user_cooldown_secs: 30,
            first_day_caps: [
                (ActionKind::Topic, 3),
                (ActionKind::Reply, 10),
                (ActionKind::Comment, 10),
            ]
            .into_iter()
            .collect(),
        }
    }
}

fn seconds(secs: u64) -> TimeDelta {
    TimeDelta::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 1_000_000))
}

impl RateLimits {
    /// The multiplier of `level`.
    #[must_use]
    pub fn multiplier(&self, level: TrustLevel) -> u32 {
        self.level_multipliers
            .get(usize::from(u8::from(level)))
            .copied()
            .unwrap_or(1)
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`ModerationError::Config`] naming the bad setting.
    pub fn validate(&self) -> Result<(), ModerationError> {
        if self.day_secs == 0 {
            return Err(ModerationError::Config(
                "rate_limits.day_secs is 0; use 86400 for a day".to_owned(),
            ));
        }
        if self.level_multipliers.contains(&0) {
            return Err(ModerationError::Config(
                "rate_limits.level_multipliers holds a 0; use at least 1 for every level (set a daily cap of 0 to forbid an action)".to_owned(),
            ));
        }
        if self.day_secs > 366 * 86_400
            || self.cooldown_secs > 86_400
            || self.new_user_cooldown_secs > 86_400
        {
            return Err(ModerationError::Config(
                "rate_limits windows must be at most a day (cooldowns) or a year (day_secs)"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    /// Discourse's "first day": not staff, below TL2, and TL0 or no first
    /// post yet or a first post less than 24 hours old.
    #[must_use]
    pub fn is_first_day(
        actor: &Actor,
        first_post_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> bool {
        let level = actor.trust_level.unwrap_or(TrustLevel::Tl0);
        !actor.is_staff()
            && level < TrustLevel::Tl2
            && (level == TrustLevel::Tl0
                || first_post_at.is_none_or(|at| now - at < TimeDelta::hours(24)))
    }

    /// The count limits that apply to `actor` taking `action`; none for staff.
    #[must_use]
    pub fn checks(
        &self,
        actor: &Actor,
        action: ActionKind,
        first_post_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Vec<LimitCheck> {
        let mut checks = Vec::new();
        if actor.is_staff() {
            return checks;
        }
        let level = actor.trust_level.unwrap_or(TrustLevel::Tl0);
        let day = seconds(self.day_secs);
        if action.is_post() {
            let cooldown = if level == TrustLevel::Tl0 {
                self.new_user_cooldown_secs
            } else {
                self.cooldown_secs
            };
            if cooldown > 0 {
                checks.push(LimitCheck::Count {
                    code: LimitCode::Cooldown,
                    actions: vec![ActionKind::Topic, ActionKind::Reply, ActionKind::Comment],
                    window: seconds(cooldown),
                    max: 1,
                });
            }
        }
        if Self::is_first_day(actor, first_post_at, now)
            && let Some(&cap) = self.first_day_caps.get(&action)
        {
            checks.push(LimitCheck::Count {
                code: LimitCode::FirstDayCap,
                actions: vec![action],
                window: day,
                max: cap,
            });
        }
        if let Some(&base) = self.daily_caps.get(&action) {
            checks.push(LimitCheck::Count {
                code: LimitCode::DailyCap,
                actions: vec![action],
                window: day,
                max: base.saturating_mul(self.multiplier(level)),
            });
        }
        checks
    }
}
