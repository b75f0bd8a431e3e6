//! Auto-reject and auto-approve rules (SPEC A5, C8).

use async_trait::async_trait;
use serde_json::json;

use crate::decision::{Decision, Reason};
use crate::error::ModerationError;
use crate::rule::{Rule, RuleContext, Stage};

/// Rejects anonymous authors (when on) and members of deny groups.
#[derive(Debug, Clone, Default)]
pub struct AutoReject {
    /// Reject anonymous authors.
    pub anonymous: bool,
    /// Reject members of these groups.
    pub deny_groups: Vec<String>,
}

#[async_trait]
impl Rule for AutoReject {
    fn stage(&self) -> Stage {
        Stage::AutoReject
    }

    async fn check(&self, ctx: &RuleContext<'_>) -> Result<Option<Decision>, ModerationError> {
        let actor = &ctx.submission.actor;
        if self.anonymous && actor.is_anonymous() {
            return Ok(Some(Decision::reject(Reason::new(
                "auto_reject_anonymous",
                "Auto-rejected: Anonymous User",
            ))));
        }
        // A group that the actor does not have simply does not match.
        Ok(self
            .deny_groups
            .iter()
            .find(|group| actor.in_group(group))
            .map(|group| {
                Decision::reject(
                    Reason::new(
                        "auto_reject_group",
                        format!("Auto-rejected: member of {group}"),
                    )
                    .with_detail(json!({ "group": group })),
                )
            }))
    }
}

/// Publishes superusers, staff and members of allow groups at once.
#[derive(Debug, Clone, Default)]
pub struct AutoApprove {
    /// Publish superusers.
    pub superusers: bool,
    /// Publish staff.
    pub staff: bool,
    /// Publish members of these groups.
    pub allow_groups: Vec<String>,
}

#[async_trait]
impl Rule for AutoApprove {
    fn stage(&self) -> Stage {
        Stage::AutoApprove
    }

    async fn check(&self, ctx: &RuleContext<'_>) -> Result<Option<Decision>, ModerationError> {
        let actor = &ctx.submission.actor;
        if self.superusers && actor.superuser {
            return Ok(Some(Decision::publish(Reason::new(
                "auto_approve_superuser",
                "Auto-approved: superuser",
            ))));
        }
        if self.staff && actor.staff {
            return Ok(Some(Decision::publish(Reason::new(
                "auto_approve_staff",
                "Auto-approved: staff",
            ))));
        }
        Ok(self
            .allow_groups
            .iter()
            .find(|group| actor.in_group(group))
            .map(|group| {
                Decision::publish(
                    Reason::new(
                        "auto_approve_group",
                        format!("Auto-approved: member of {group}"),
                    )
                    .with_detail(json!({ "group": group })),
                )
            }))
    }
}
