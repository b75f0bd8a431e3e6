//! Content-stage rules: the spam check (B6).

use async_trait::async_trait;
use serde_json::json;

use crate::decision::{Decision, Reason};
use crate::error::ModerationError;
use crate::rule::{Rule, RuleContext, Stage};
use crate::spam::{SpamAction, SpamCheck, SpamVerdict};

/// Asks the [`SpamClassifier`](crate::SpamClassifier) and applies the policy
/// of its [`SpamCheck`]. A failure is logged and treated as "unsure", never
/// as ham.
#[derive(Debug, Clone)]
pub struct SpamRule {
    /// The classifier and its policy.
    pub check: SpamCheck,
}

fn act(action: SpamAction, reason: Reason) -> Decision {
    match action {
        SpamAction::Hold => Decision::hold(reason),
        SpamAction::Reject => Decision::reject(reason),
    }
}

#[async_trait]
impl Rule for SpamRule {
    fn stage(&self) -> Stage {
        Stage::Content
    }

    async fn check(&self, ctx: &RuleContext<'_>) -> Result<Option<Decision>, ModerationError> {
        match self.check.classifier.classify(ctx.submission).await {
            Ok(score) => Ok(match score.verdict {
                SpamVerdict::Ham => None,
                SpamVerdict::Spam => Some(act(
                    self.check.on_spam,
                    Reason::new("spam", "The spam check flagged this as spam")
                        .with_detail(json!({ "score": score.score })),
                )),
                SpamVerdict::Unsure => Some(act(
                    self.check.on_unsure,
                    Reason::new("spam_unsure", "The spam check could not tell")
                        .with_detail(json!({ "score": score.score })),
                )),
            }),
            Err(error) => {
                tracing::warn!(%error, object = %ctx.submission.object, "spam check failed");
                Ok(Some(act(
                    self.check.on_unsure,
                    Reason::new(
                        "spam_check_failed",
                        "The spam check failed, so a moderator must look at this",
                    )
                    .with_detail(json!({ "error": error.to_string() })),
                )))
            }
        }
    }
}
