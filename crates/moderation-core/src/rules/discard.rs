//! Discard-stage rules: comments disabled (B1) or closed (B2).

use async_trait::async_trait;
use serde_json::{Value, json};

use super::dates::days_reached;
use crate::decision::{Decision, Reason};
use crate::error::ModerationError;
use crate::rule::{Rule, RuleContext, Stage};

/// Discards when the parent's boolean `field` is false or null (B1).
#[derive(Debug, Clone)]
pub struct EnableField {
    /// The parent's field.
    pub field: String,
}

#[async_trait]
impl Rule for EnableField {
    fn stage(&self) -> Stage {
        Stage::Discard
    }

    async fn check(&self, ctx: &RuleContext<'_>) -> Result<Option<Decision>, ModerationError> {
        let Some(parent) = &ctx.submission.parent else {
            return Ok(None);
        };
        match parent.field(&self.field) {
            Some(Value::Bool(true)) => Ok(None),
            // Django tests truthiness, so null disables comments too.
            Some(Value::Bool(false) | Value::Null) => Ok(Some(Decision::discard(
                Reason::new("enable_field", "Comments are disabled here")
                    .with_detail(json!({ "field": self.field })),
            ))),
            Some(_) => Err(ModerationError::InvalidField {
                field: self.field.clone(),
                problem: "expected a boolean".to_owned(),
            }),
            None => Err(ModerationError::InvalidField {
                field: self.field.clone(),
                problem: "the field is missing".to_owned(),
            }),
        }
    }
}

/// Discards when whole days since the parent's `field` are `>= days` (B2).
#[derive(Debug, Clone)]
pub struct CloseAfter {
    /// The parent's date field.
    pub field: String,
    /// Days after which comments close; 0 closes at once.
    pub days: u32,
}

#[async_trait]
impl Rule for CloseAfter {
    fn stage(&self) -> Stage {
        Stage::Discard
    }

    async fn check(&self, ctx: &RuleContext<'_>) -> Result<Option<Decision>, ModerationError> {
        let reached = days_reached(ctx, &self.field, self.days)?;
        Ok(reached.map(|elapsed| {
            Decision::discard(
                Reason::new(
                    "close_after",
                    format!("Comments closed {} days after publication", self.days),
                )
                .with_detail(json!({
                    "field": self.field,
                    "close_after": self.days,
                    "days_elapsed": elapsed,
                })),
            )
        }))
    }
}
