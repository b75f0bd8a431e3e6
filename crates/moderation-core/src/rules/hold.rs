//! Hold-stage rules: moderate-after (B3), first-timers and always-moderate (B5).

use async_trait::async_trait;
use serde_json::json;

use super::dates::days_reached;
use crate::decision::{Decision, Reason};
use crate::error::ModerationError;
use crate::rule::{Rule, RuleContext, Stage};

/// Holds when whole days since the parent's `field` are `>= days` (B3).
#[derive(Debug, Clone)]
pub struct ModerateAfter {
    /// The parent's date field.
    pub field: String,
    /// Days after which comments are held; 0 holds every comment.
    pub days: u32,
}

#[async_trait]
impl Rule for ModerateAfter {
    fn stage(&self) -> Stage {
        Stage::Hold
    }

    async fn check(&self, ctx: &RuleContext<'_>) -> Result<Option<Decision>, ModerationError> {
        let reached = days_reached(ctx, &self.field, self.days)?;
        Ok(reached.map(|elapsed| {
            Decision::hold(
                Reason::new(
                    "moderate_after",
                    format!(
                        "Comments are moderated {} days after publication",
                        self.days
                    ),
                )
                .with_detail(json!({
                    "field": self.field,
                    "moderate_after": self.days,
                    "days_elapsed": elapsed,
                })),
            )
        }))
    }
}

/// Holds authors with no public item of this kind yet. Signed-in users are
/// matched by user id, anonymous ones by their identity (an e-mail address);
/// display names never count. An anonymous author without an identity is
/// always a first-timer.
#[derive(Debug, Clone, Copy, Default)]
pub struct FirstTimers;

#[async_trait]
impl Rule for FirstTimers {
    fn stage(&self) -> Stage {
        Stage::Hold
    }

    async fn check(&self, ctx: &RuleContext<'_>) -> Result<Option<Decision>, ModerationError> {
        let known = match ctx.submission.actor.author_key() {
            Some(key) => {
                ctx.facts
                    .author_has_public(ctx.submission.kind(), &key)
                    .await?
            }
            None => false,
        };
        Ok((!known).then(|| {
            Decision::hold(Reason::new(
                "first_timer",
                "First submissions are reviewed by a moderator",
            ))
        }))
    }
}

/// Holds every submission.
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysHold;

#[async_trait]
impl Rule for AlwaysHold {
    fn stage(&self) -> Stage {
        Stage::Hold
    }

    async fn check(&self, _ctx: &RuleContext<'_>) -> Result<Option<Decision>, ModerationError> {
        Ok(Some(Decision::hold(Reason::new(
            "always_moderate",
            "Every submission here is reviewed by a moderator",
        ))))
    }
}
