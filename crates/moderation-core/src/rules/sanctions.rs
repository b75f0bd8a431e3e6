//! Sanction-stage rule: frozen, silenced and suspended authors are refused.

use async_trait::async_trait;
use serde_json::json;

use crate::actor::Standing;
use crate::decision::{Decision, Reason};
use crate::error::ModerationError;
use crate::rule::{Rule, RuleContext, Stage};

/// Refuses (discards, with a reason to show) authors under a sanction in
/// force. A silence or suspension whose end has passed no longer counts.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthorSanctions;

#[async_trait]
impl Rule for AuthorSanctions {
    fn stage(&self) -> Stage {
        Stage::Sanctions
    }

    async fn check(&self, ctx: &RuleContext<'_>) -> Result<Option<Decision>, ModerationError> {
        let in_force = |until: &Option<chrono::DateTime<chrono::Utc>>| {
            until.is_none_or(|until| until > ctx.now)
        };
        let reason = match &ctx.submission.actor.standing {
            Standing::Frozen { reason } => Reason::new(
                "author_frozen",
                "Your account is frozen until staff review it",
            )
            .with_detail(json!({ "sanction_reason": reason })),
            Standing::Silenced { until, reason } if in_force(until) => {
                Reason::new("author_silenced", "Your account is silenced")
                    .with_detail(json!({ "sanction_reason": reason, "until": until }))
            }
            Standing::Suspended { until, reason } if in_force(until) => {
                Reason::new("author_suspended", "Your account is suspended")
                    .with_detail(json!({ "sanction_reason": reason, "until": until }))
            }
            _ => return Ok(None),
        };
        Ok(Some(Decision::discard(reason)))
    }
}
