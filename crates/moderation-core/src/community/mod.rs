//! Community rules (SPEC D1-D7): trust levels, gates, rate limits counted
//! from an action log in the store, new-user content limits, watched words,
//! the low-contribution guard and freezes.
//!
//! Everything an operator tunes is data ([`CommunityConfig`], serde), and
//! every store-backed part is a small port beside an in-memory reference:
//! [`ActionLog`] / [`MemoryActionLog`], [`SanctionStore`] /
//! [`MemorySanctionStore`], [`TrustStore`] / [`MemoryTrustStore`].
//! `moderation-storage` implements them for SQLite and PostgreSQL.

mod action;
mod action_log;
mod config;
mod content;
mod freeze_on_review;
mod gates;
mod guard;
mod limits;
mod pipeline_rule;
mod refusal;
mod rules;
mod sanctions;
mod trust;
mod trust_store;
mod words;

pub use action::ActionKind;
pub use action_log::{
    ActionAttempt, ActionLog, Admission, Breach, MemoryActionLog, RankFilter, RankQuery, retry_at,
};
pub use config::CommunityConfig;
pub use content::{ContentLimits, Link, PostFeatures};
pub use freeze_on_review::{
    AWAITS_REVIEW_MESSAGE, FreezeOnReview, GUARD_REASON_SCORE, HeldForReview, review_cause,
};
pub use gates::Gates;
pub use guard::{GuardFinding, LowContributionGuard, added_ranges, added_text};
pub use limits::{LimitCheck, LimitCode, RateLimits};
pub use pipeline_rule::{AuthorHistory, AuthorRecord, CommunityRule};
pub use refusal::Refusal;
pub use rules::{Attempt, CommunityRules, Evaluation, Recipients, Screening, ScreeningVerdict};
pub use sanctions::{MemorySanctionStore, NewSanction, Sanction, SanctionKind, SanctionStore};
pub use trust::{
    ActivityFacts, RecentActivity, Tl1Requirements, Tl2Requirements, Tl3Requirements,
    TrustRequirements,
};
pub use trust_store::{MemoryTrustStore, TrustChange, TrustLevels, TrustRecord, TrustStore};
pub use words::{WatchedWord, WatchedWords, WordAction, WordMatch, WordScan};
