//! Trust levels from activity facts (D1), with Discourse's default
//! requirements.
//!
//! The application counts activity (it knows what was read and liked); the
//! library decides the level. TL0 to TL2 are never lost once earned; TL3 is
//! reviewed over the last 100 days and kept while the member meets 90 % of
//! each requirement (Discourse's low-water mark); TL4 is granted by staff
//! only. A locked level never changes: see
//! [`TrustLevels`](super::TrustLevels).

use serde::{Deserialize, Serialize};

use crate::actor::TrustLevel;

/// Lifetime activity counts, supplied by the application.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ActivityFacts {
    /// Distinct topics the member opened.
    pub topics_entered: u64,
    /// Posts the member read.
    pub posts_read: u64,
    /// Minutes spent reading.
    pub minutes_read: u64,
    /// Distinct days with a visit.
    pub days_visited: u64,
    /// Likes the member gave.
    pub likes_given: u64,
    /// Likes the member received.
    pub likes_received: u64,
    /// Distinct topics the member replied to.
    pub topics_replied_to: u64,
    /// The same kind of counts over the last 100 days, for TL3.
    pub recent: Option<RecentActivity>,
}

/// Activity over the TL3 review period (the last 100 days by default).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecentActivity {
    /// Days with a visit in the period.
    pub days_visited: u64,
    /// Distinct topics replied to in the period.
    pub topics_replied_to: u64,
    /// Distinct topics viewed in the period.
    pub topics_viewed: u64,
    /// Topics created by anyone in the period (the base of the 25 % share).
    pub topics_created: u64,
    /// Posts read in the period.
    pub posts_read: u64,
    /// Posts created by anyone in the period (the base of the 25 % share).
    pub posts_created: u64,
    /// Likes given in the period.
    pub likes_given: u64,
    /// Likes received in the period.
    pub likes_received: u64,
    /// The member's posts flagged by others and upheld, in the period.
    pub flagged_posts: u64,
    /// Whether the member was silenced or suspended in the last 6 months.
    pub sanctioned_recently: bool,
}

/// What TL1 asks for (Discourse: 5 topics, 30 posts, 10 minutes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tl1Requirements {
    /// Topics entered.
    pub topics_entered: u64,
    /// Posts read.
    pub posts_read: u64,
    /// Minutes read.
    pub minutes_read: u64,
}

impl Default for Tl1Requirements {
    fn default() -> Self {
        Self {
            topics_entered: 5,
            posts_read: 30,
            minutes_read: 10,
        }
    }
}

/// What TL2 asks for (Discourse: 20 topics, 100 posts, 60 minutes, 15 days
/// visited, 1 like given and received, replies to 3 topics).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tl2Requirements {
    /// Topics entered.
    pub topics_entered: u64,
    /// Posts read.
    pub posts_read: u64,
    /// Minutes read.
    pub minutes_read: u64,
    /// Days visited.
    pub days_visited: u64,
    /// Likes given.
    pub likes_given: u64,
    /// Likes received.
    pub likes_received: u64,
    /// Topics replied to.
    pub topics_replied_to: u64,
}

impl Default for Tl2Requirements {
    fn default() -> Self {
        Self {
            topics_entered: 20,
            posts_read: 100,
            minutes_read: 60,
            days_visited: 15,
            likes_given: 1,
            likes_received: 1,
            topics_replied_to: 3,
        }
    }
}

/// What TL3 asks for over the review period (Discourse: visits on 50 of 100
/// days, replies to 10 topics, 25 % of topics (at most 500) and posts (at
/// most 20 000) read, 30 likes given, 20 received, fewer than 5 upheld
/// flags, no silence or suspension in 6 months).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Tl3Requirements {
    /// Days visited in the period.
    pub days_visited: u64,
    /// Topics replied to.
    pub topics_replied_to: u64,
    /// Share of the period's topics viewed, in percent.
    pub topics_viewed_percent: u64,
    /// Cap on the topics-viewed requirement.
    pub topics_viewed_cap: u64,
    /// Share of the period's posts read, in percent.
    pub posts_read_percent: u64,
    /// Cap on the posts-read requirement.
    pub posts_read_cap: u64,
    /// Likes given.
    pub likes_given: u64,
    /// Likes received.
    pub likes_received: u64,
    /// Upheld flags must stay below this.
    pub max_flagged_posts: u64,
    /// Share of each requirement a TL3 member must keep, in percent, to stay
    /// TL3 (the low-water mark).
    pub keep_percent: u64,
}

impl Default for Tl3Requirements {
    fn default() -> Self {
        Self {
            days_visited: 50,
            topics_replied_to: 10,
            topics_viewed_percent: 25,
            topics_viewed_cap: 500,
            posts_read_percent: 25,
            posts_read_cap: 20_000,
            likes_given: 30,
            likes_received: 20,
            max_flagged_posts: 5,
            keep_percent: 90,
        }
    }
}

/// The requirements of every automatic level. Defaults are Discourse's.
///
/// ```
/// use moderation_core::community::{ActivityFacts, TrustRequirements};
/// use moderation_core::TrustLevel;
/// let requirements = TrustRequirements::default();
/// let reader = ActivityFacts { topics_entered: 5, posts_read: 30, minutes_read: 10, ..Default::default() };
/// assert_eq!(requirements.level_for(&reader, TrustLevel::Tl0), TrustLevel::Tl1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustRequirements {
    /// TL0 to TL1.
    pub tl1: Tl1Requirements,
    /// TL1 to TL2.
    pub tl2: Tl2Requirements,
    /// TL2 to TL3, and keeping TL3.
    pub tl3: Tl3Requirements,
}

/// `value >= required * percent / 100`, in integers, rounding the
/// requirement up so 90 % of 5 needs 5 (never a fraction of an action).
fn meets(value: u64, required: u64, percent: u64) -> bool {
    let scaled = required.saturating_mul(percent);
    value.saturating_mul(100) >= scaled
}

impl TrustRequirements {
    /// The level `facts` earn for a member now at `current`.
    ///
    /// TL1 and TL2 are never taken away; TL3 is granted at 100 % of its
    /// requirements and kept at the low-water mark; TL4 is never granted
    /// here and, once given by staff, never taken.
    #[must_use]
    pub fn level_for(&self, facts: &ActivityFacts, current: TrustLevel) -> TrustLevel {
        if current == TrustLevel::Tl4 {
            return current;
        }
        let mut level = current.min(TrustLevel::Tl2);
        if level < TrustLevel::Tl1 && self.meets_tl1(facts) {
            level = TrustLevel::Tl1;
        }
        if level < TrustLevel::Tl2 && self.meets_tl2(facts) {
            level = TrustLevel::Tl2;
        }
        if level == TrustLevel::Tl2 {
            let percent = if current == TrustLevel::Tl3 {
                self.tl3.keep_percent
            } else {
                100
            };
            if self.meets_tl3(facts, percent) {
                level = TrustLevel::Tl3;
            }
        }
        level
    }

    fn meets_tl1(&self, f: &ActivityFacts) -> bool {
        let r = &self.tl1;
        f.topics_entered >= r.topics_entered
            && f.posts_read >= r.posts_read
            && f.minutes_read >= r.minutes_read
    }

    fn meets_tl2(&self, f: &ActivityFacts) -> bool {
        let r = &self.tl2;
        f.topics_entered >= r.topics_entered
            && f.posts_read >= r.posts_read
            && f.minutes_read >= r.minutes_read
            && f.days_visited >= r.days_visited
            && f.likes_given >= r.likes_given
            && f.likes_received >= r.likes_received
            && f.topics_replied_to >= r.topics_replied_to
    }

    fn meets_tl3(&self, f: &ActivityFacts, percent: u64) -> bool {
        let Some(recent) = &f.recent else {
            return false;
        };
        let r = &self.tl3;
        let share =
            |total: u64, share: u64, cap: u64| (total.saturating_mul(share).div_ceil(100)).min(cap);
        let topics_viewed = share(
            recent.topics_created,
            r.topics_viewed_percent,
            r.topics_viewed_cap,
        );
        let posts_read = share(recent.posts_created, r.posts_read_percent, r.posts_read_cap);
        !recent.sanctioned_recently
            && recent.flagged_posts < r.max_flagged_posts
            && meets(recent.days_visited, r.days_visited, percent)
            && meets(recent.topics_replied_to, r.topics_replied_to, percent)
            && meets(recent.topics_viewed, topics_viewed, percent)
            && meets(recent.posts_read, posts_read, percent)
            && meets(recent.likes_given, r.likes_given, percent)
            && meets(recent.likes_received, r.likes_received, percent)
    }
}
