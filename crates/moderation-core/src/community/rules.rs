//! [`CommunityRules`]: every community check for one attempted action, in a
//! fixed order, validation before any write.
//!
//! 1. sanctions: a frozen member may only message staff;
//! 2. gates (the action, and links, images, attachments it carries);
//! 3. new-user content limits;
//! 4. `block` watched words (every match listed);
//! 5. the action log: cooldown, first-day caps, daily caps, duplicate text
//!    and same-host spam, checked and appended in one store operation.
//!
//! Only an action that passes all five is logged; then the verdict is read
//! from the guard and the watched words, and `censor` / `replace` rewrite
//! the text. The caller applies the verdict (stores the content held, opens
//! the review item, freezes through [`CommunityRules::freeze`]).

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::action::ActionKind;
use super::action_log::{ActionAttempt, ActionLog, Admission, Breach};
use super::config::CommunityConfig;
use super::content::PostFeatures;
use super::gates::describe;
use super::guard::added_ranges;
use super::limits::LimitCheck;
use super::refusal::Refusal;
use super::sanctions::{NewSanction, Sanction, SanctionKind, SanctionStore};
use super::words::{WatchedWords, WordAction, WordMatch};
use crate::actor::{Actor, Standing, TrustLevel};
use crate::clock::Clock;
use crate::decision::Reason;
use crate::error::ModerationError;
use crate::fingerprint::text_fingerprint;
use crate::ids::UserId;

/// Who a private message goes to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipients {
    /// Not a message: public content.
    #[default]
    Public,
    /// Staff only (a frozen member may still send these).
    Staff,
    /// At least one member who is not staff.
    Members,
}

/// One attempted action, with the facts the application knows.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// Who acts.
    pub actor: &'a Actor,
    /// What they do.
    pub action: ActionKind,
    /// The text, as written.
    pub text: &'a str,
    /// For an edit, the text before it.
    pub previous: Option<&'a str>,
    /// For a private message, who receives it.
    pub recipients: Recipients,
    /// Files attached.
    pub attachments: u32,
    /// The author's live (not deleted, not held) posts and comments.
    pub contributions: u64,
    /// When the author's first post was made, if ever.
    pub first_post_at: Option<DateTime<Utc>>,
}

impl<'a> Attempt<'a> {
    /// An attempt with no attachments, no contributions and no first post.
    #[must_use]
    pub fn new(actor: &'a Actor, action: ActionKind, text: &'a str) -> Self {
        Self {
            actor,
            action,
            text,
            previous: None,
            recipients: Recipients::Public,
            attachments: 0,
            contributions: 0,
            first_post_at: None,
        }
    }

    /// An edit of `previous` into `text`.
    #[must_use]
    pub fn editing(mut self, previous: &'a str) -> Self {
        self.previous = Some(previous);
        self
    }

    /// A private message to `recipients`.
    #[must_use]
    pub fn to(mut self, recipients: Recipients) -> Self {
        self.recipients = recipients;
        self
    }

    /// The author's live contributions.
    #[must_use]
    pub fn contributions(mut self, count: u64) -> Self {
        self.contributions = count;
        self
    }

    /// When the author first posted.
    #[must_use]
    pub fn first_post_at(mut self, at: Option<DateTime<Utc>>) -> Self {
        self.first_post_at = at;
        self
    }

    /// Files attached.
    #[must_use]
    pub fn attachments(mut self, count: u32) -> Self {
        self.attachments = count;
        self
    }
}

/// What to do with an accepted action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScreeningVerdict {
    /// Publish.
    Publish,
    /// Publish and open a review item (`flag` words).
    Flag,
    /// Hold for review (`require_approval` words, `freeze` words of
    /// established members).
    Hold,
    /// Hold, freeze the author, open a review item, notify staff and tell
    /// the author the post awaits review (the low-contribution guard).
    HoldAndFreeze,
}

/// The outcome of an accepted action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Screening {
    /// What to do.
    pub verdict: ScreeningVerdict,
    /// The text to store: censor and replace words applied.
    pub text: String,
    /// Why (empty for a plain publish).
    pub reasons: Vec<Reason>,
    /// Every watched-word match, with spans in the original text.
    pub matches: Vec<WordMatch>,
}

/// The pure part of a check: everything but the action log.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// What the action log must check and append.
    pub log: Option<ActionAttempt>,
    /// The outcome if the log accepts.
    pub screening: Screening,
}

/// The community rules over an action log and a sanction store.
///
/// ```
/// use std::sync::Arc;
/// use moderation_core::community::{
///     ActionKind, Attempt, CommunityConfig, CommunityRules, MemoryActionLog,
///     MemorySanctionStore, ScreeningVerdict,
/// };
/// use moderation_core::{Actor, SystemClock, UserId};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let rules = CommunityRules::new(
///     CommunityConfig::default(),
///     Arc::new(MemoryActionLog::new()),
///     Arc::new(MemorySanctionStore::new()),
///     Arc::new(SystemClock),
/// )?;
/// let newcomer = Actor::user(UserId::from(9_i64));
/// let attempt = Attempt::new(&newcomer, ActionKind::Topic, "Visit cheap-pills.example");
/// let screening = rules.screen(&attempt).await?;
/// assert_eq!(screening.verdict, ScreeningVerdict::HoldAndFreeze);
/// # Ok::<(), moderation_core::ModerationError>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct CommunityRules {
    config: Arc<CommunityConfig>,
    words: Arc<WatchedWords>,
    log: Arc<dyn ActionLog>,
    sanctions: Arc<dyn SanctionStore>,
    clock: Arc<dyn Clock>,
}

fn seconds(secs: u64) -> TimeDelta {
    TimeDelta::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 1_000_000))
}

fn frozen_refusal(reason: &str) -> Refusal {
    Refusal::new(
        "frozen",
        "Your account is frozen until staff review your recent post; you can still message staff",
    )
    .with_detail(json!({ "sanction_reason": reason }))
}

impl CommunityRules {
    /// Validates `config` and compiles its watched words.
    ///
    /// # Errors
    /// [`ModerationError::Config`] naming the first bad setting.
    pub fn new(
        config: CommunityConfig,
        log: Arc<dyn ActionLog>,
        sanctions: Arc<dyn SanctionStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, ModerationError> {
        config.validate()?;
        let words = Arc::new(WatchedWords::new(config.watched_words.clone())?);
        Ok(Self {
            config: Arc::new(config),
            words,
            log,
            sanctions,
            clock,
        })
    }

    /// The watched words, to replace the list at run time.
    #[must_use]
    pub fn words(&self) -> &WatchedWords {
        &self.words
    }

    /// The configuration in force.
    #[must_use]
    pub fn config(&self) -> &CommunityConfig {
        &self.config
    }

    /// Checks `attempt` and, if accepted, appends it to the action log.
    ///
    /// # Errors
    /// [`ModerationError::Refused`] with the message to show and, for
    /// limits, when to retry; store errors. A refused action writes nothing.
    #[tracing::instrument(level = "debug", skip_all, fields(action = %attempt.action))]
    pub async fn screen(&self, attempt: &Attempt<'_>) -> Result<Screening, ModerationError> {
        let now = self.clock.now();
        if let Some(user) = &attempt.actor.user
            && !(attempt.action == ActionKind::PrivateMessage
                && attempt.recipients == Recipients::Staff)
            && let Some(freeze) = self.sanctions.in_force(user, now).await?.first()
        {
            return Err(frozen_refusal(&freeze.imposed.reason).into());
        }
        let evaluation = self.evaluate(attempt, now)?;
        if let Some(log) = &evaluation.log
            && let Admission::Refused(breach) = self.log.check_and_append(log).await?
        {
            return Err(self.limit_refusal(log, &breach).into());
        }
        Ok(evaluation.screening)
    }

    /// Everything but the store: sanctions on the actor's standing, gates,
    /// content limits, watched words and the guard, plus the action-log
    /// checks to run. Cheap and synchronous (the bench measures it).
    ///
    /// # Errors
    /// A [`Refusal`].
    pub fn evaluate(
        &self,
        attempt: &Attempt<'_>,
        now: DateTime<Utc>,
    ) -> Result<Evaluation, Refusal> {
        let actor = attempt.actor;
        let to_staff =
            attempt.action == ActionKind::PrivateMessage && attempt.recipients == Recipients::Staff;
        if let Standing::Frozen { reason } = &actor.standing
            && !to_staff
        {
            return Err(frozen_refusal(reason));
        }
        let config = &*self.config;
        if !to_staff {
            config.gates.check(actor, attempt.action)?;
        }
        let features = PostFeatures::of(attempt.text);
        if !features.links.is_empty() {
            config.gates.check(actor, ActionKind::Link)?;
        }
        if features.images > 0 {
            config.gates.check(actor, ActionKind::Image)?;
        }
        if attempt.attachments > 0 {
            config.gates.check(actor, ActionKind::Attachment)?;
        }
        config
            .content_limits
            .check(actor, &features, attempt.attachments)?;

        // What is new: the whole text, or what an edit adds. The words are
        // scanned once over the whole text (so spans and rewrites refer to
        // it); only matches inside what is new decide the verdict.
        let scan = self.words.scan(attempt.text);
        let added = attempt
            .previous
            .map(|previous| added_ranges(previous, attempt.text));
        // A new post is all new: its features are borrowed, not recounted
        // or copied.
        let added_features = added.as_ref().map(|ranges| {
            let text: Vec<&str> = ranges
                .iter()
                .filter_map(|r| attempt.text.get(r.clone()))
                .collect();
            PostFeatures::of(&text.join("\n"))
        });
        let new_features = added_features.as_ref().unwrap_or(&features);
        let is_new = |m: &&WordMatch| {
            added.as_ref().is_none_or(|ranges| {
                ranges
                    .iter()
                    .any(|r| r.start <= m.span.start && m.span.end <= r.end)
            })
        };
        let new_matches: Vec<&WordMatch> = scan.matches.iter().filter(is_new).collect();
        let of = |action: WordAction| -> Vec<&WordMatch> {
            new_matches
                .iter()
                .copied()
                .filter(|m| m.action == action)
                .collect()
        };
        let blocked = of(WordAction::Block);
        if !blocked.is_empty() {
            let matched: Vec<&str> = blocked.iter().map(|m| m.matched.as_str()).collect();
            return Err(Refusal::new(
                "watched_word",
                format!(
                    "Your post contains words that are not allowed here: {}",
                    matched.join(", ")
                ),
            )
            .with_detail(json!({ "matches": blocked })));
        }

        let log = self.log_attempt(attempt, &features, now);
        let mut reasons = Vec::new();
        let freeze_words = of(WordAction::Freeze);
        let verdict = if let Some(finding) =
            config
                .guard
                .screen(actor, attempt.contributions, new_features, &freeze_words)
        {
            reasons.extend(finding.reasons);
            ScreeningVerdict::HoldAndFreeze
        } else if !of(WordAction::RequireApproval).is_empty()
            || (!actor.is_staff() && !freeze_words.is_empty())
        {
            reasons.push(word_reason(
                "watched_word_hold",
                "Contains a watched word that needs approval",
                &new_matches,
            ));
            ScreeningVerdict::Hold
        } else if !of(WordAction::Flag).is_empty() {
            reasons.push(word_reason(
                "watched_word_flag",
                "Contains a flagged watched word",
                &new_matches,
            ));
            ScreeningVerdict::Flag
        } else {
            ScreeningVerdict::Publish
        };
        let text = if scan.has(WordAction::Censor) || scan.has(WordAction::Replace) {
            self.words.rewrite(attempt.text, &scan)
        } else {
            attempt.text.to_owned()
        };
        Ok(Evaluation {
            log,
            screening: Screening {
                verdict,
                text,
                reasons,
                matches: scan.matches,
            },
        })
    }

    /// The action-log entry and its checks; `None` for anonymous actors.
    fn log_attempt(
        &self,
        attempt: &Attempt<'_>,
        features: &PostFeatures,
        now: DateTime<Utc>,
    ) -> Option<ActionAttempt> {
        let actor = attempt.actor;
        let user = actor.user.clone()?;
        let config = &*self.config;
        let mut checks =
            config
                .rate_limits
                .checks(actor, attempt.action, attempt.first_post_at, now);
        let hosts = if attempt.action.is_post() {
            features.hosts()
        } else {
            Vec::new()
        };
        if !actor.is_staff() && attempt.action.is_post() {
            let limits = &config.content_limits;
            if limits.duplicate_window_secs > 0 {
                checks.push(LimitCheck::Duplicate {
                    window: seconds(limits.duplicate_window_secs),
                });
            }
            if actor.trust_level.unwrap_or(TrustLevel::Tl0) == TrustLevel::Tl0
                && limits.same_host_posts > 1
                && !hosts.is_empty()
            {
                checks.push(LimitCheck::SameHost {
                    window: seconds(limits.same_host_window_secs),
                    max_posts: limits.same_host_posts,
                });
            }
        }
        Some(ActionAttempt {
            user,
            action: attempt.action,
            at: now,
            fingerprint: attempt
                .action
                .is_post()
                .then(|| text_fingerprint(attempt.text)),
            hosts,
            checks,
        })
    }

    /// The member-facing refusal for a failed action-log check.
    fn limit_refusal(&self, log: &ActionAttempt, breach: &Breach) -> Refusal {
        let what = describe(log.action);
        let refusal = match log.checks.get(breach.check) {
            Some(LimitCheck::Count {
                code, max, window, ..
            }) => {
                let message = match code {
                    super::limits::LimitCode::Cooldown => format!(
                        "You are posting too quickly; wait {} seconds between posts",
                        window.num_seconds()
                    ),
                    super::limits::LimitCode::FirstDayCap => {
                        format!("On your first day you can {what} at most {max} times")
                    }
                    _ => format!("You can {what} at most {max} times a day at your trust level"),
                };
                Refusal::new(code.as_str(), message)
                    .with_detail(json!({ "max": max, "window_secs": window.num_seconds() }))
            }
            Some(LimitCheck::Duplicate { .. }) => Refusal::new(
                "duplicate",
                "You posted the same text a moment ago; write something new",
            ),
            Some(LimitCheck::SameHost { max_posts, .. }) => Refusal::new(
                "same_host",
                format!(
                    "New members cannot link to {} in more than {} posts; this looks like spam",
                    breach.host.as_deref().unwrap_or("the same site"),
                    max_posts.saturating_sub(1)
                ),
            )
            .with_detail(json!({ "host": breach.host })),
            _ => Refusal::new("limit", "This action is limited right now"),
        };
        refusal.retry_at(breach.retry_at)
    }

    /// Freezes `user` (a rule, or staff `by`), caused by review item `cause`.
    ///
    /// # Errors
    /// The store's error.
    #[tracing::instrument(level = "debug", skip(self, reason), fields(user = %user))]
    pub async fn freeze(
        &self,
        user: &UserId,
        reason: &str,
        by: Option<&UserId>,
        cause: Option<String>,
    ) -> Result<Sanction, ModerationError> {
        let sanction = NewSanction {
            user: user.clone(),
            kind: SanctionKind::Freeze,
            reason: reason.to_owned(),
            by: by.cloned(),
            at: self.clock.now(),
            expires_at: None,
            cause,
        };
        self.sanctions.impose(&sanction).await
    }

    /// Lifts every freeze review item `cause` caused (its approval).
    ///
    /// # Errors
    /// The store's error.
    #[tracing::instrument(level = "debug", skip(self))]
    pub async fn lift_caused_by(
        &self,
        cause: &str,
        by: Option<&UserId>,
    ) -> Result<Vec<Sanction>, ModerationError> {
        let now = self.clock.now();
        let mut lifted = Vec::new();
        for sanction in self.sanctions.caused_by(cause, now).await? {
            lifted.push(self.sanctions.lift(sanction.id, by, now).await?);
        }
        Ok(lifted)
    }

    /// The sanctions in force on `user`.
    ///
    /// # Errors
    /// The store's error.
    pub async fn sanctions_in_force(
        &self,
        user: &UserId,
    ) -> Result<Vec<Sanction>, ModerationError> {
        self.sanctions.in_force(user, self.clock.now()).await
    }
}

fn word_reason(rule: &'static str, text: &str, matches: &[&WordMatch]) -> Reason {
    let matches: Vec<_> = matches
        .iter()
        .map(|m| json!({ "action": m.action, "word": m.word, "matched": m.matched, "span": [m.span.start, m.span.end] }))
        .collect();
    Reason::new(rule, text).with_detail(json!({ "matches": matches }))
}
