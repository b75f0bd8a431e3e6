//! The fixed rule order of SPEC A5: for each adjacent pair of stages, one
//! submission that both rules match, and the rule that wins.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use common::*;
use moderation_core::{
    Actor, CommentOptions, Decision, ModerationError, Reason, Rule, RuleContext, SpamAction,
    SpamCheck, SpamVerdict, Stage, Standing, Submission, Verdict,
};
use serde_json::json;

/// A stand-in for a rule of a stage that has no built-in rule yet (rate
/// limits): it always decides, with the verdict given.
#[derive(Debug)]
struct Always {
    stage: Stage,
    id: &'static str,
    verdict: Verdict,
}

#[async_trait]
impl Rule for Always {
    fn stage(&self) -> Stage {
        self.stage
    }
    async fn check(&self, _ctx: &RuleContext<'_>) -> Result<Option<Decision>, ModerationError> {
        Ok(Some(Decision::new(
            self.verdict,
            Reason::new(self.id, "custom rule"),
        )))
    }
}

fn rate_limit() -> Arc<dyn Rule> {
    Arc::new(Always {
        stage: Stage::RateLimit,
        id: "rate_limit",
        verdict: Verdict::Reject,
    })
}

fn frozen(actor: Actor) -> Actor {
    actor.with_standing(Standing::Frozen {
        reason: "spam wave".to_owned(),
    })
}

async fn decide(moderator: CommentModerator, submission: Submission) -> (Verdict, String) {
    let h = harness();
    h.moderation
        .registry()
        .register::<Comment, _>(moderator)
        .unwrap();
    let outcome = h.moderation.submit(submission).await.unwrap();
    (
        outcome.verdict(),
        outcome.decision.reasons[0].rule.to_string(),
    )
}

#[tokio::test]
async fn discard_beats_author_sanctions() {
    let moderator = CommentModerator::new(CommentOptions::default().close_after("pub_date", 0));
    let sub = comment_on(
        frozen(user(1)),
        1,
        "x",
        json!({"pub_date": now().to_rfc3339()}),
    );
    assert_eq!(
        decide(moderator, sub).await,
        (Verdict::Discard, "close_after".to_owned())
    );
}

#[tokio::test]
async fn author_sanctions_beat_auto_reject() {
    let moderator = CommentModerator::new(CommentOptions::default().deny_group("trolls"));
    let sub = comment_by(frozen(user(1)).with_group("trolls"), 1, "x");
    assert_eq!(
        decide(moderator, sub).await,
        (Verdict::Discard, "author_frozen".to_owned())
    );
}

#[tokio::test]
async fn auto_reject_beats_auto_approve() {
    // A staff member in a deny group is rejected (SPEC C8).
    let moderator = CommentModerator::new(CommentOptions::default().deny_group("trolls"));
    let sub = comment_by(user(1).with_staff(true).with_group("trolls"), 1, "x");
    assert_eq!(
        decide(moderator, sub).await,
        (Verdict::Reject, "auto_reject_group".to_owned())
    );
}

#[tokio::test]
async fn auto_approve_beats_rate_limits() {
    let moderator = CommentModerator::new(CommentOptions::default()).with_rule(rate_limit());
    let sub = comment_by(user(1).with_staff(true), 1, "x");
    assert_eq!(
        decide(moderator, sub).await,
        (Verdict::Publish, "auto_approve_staff".to_owned())
    );
}

#[tokio::test]
async fn rate_limits_beat_content_rules() {
    let spam = SpamCheck::new(Arc::new(FixedClassifier::Says(SpamVerdict::Spam)));
    let moderator =
        CommentModerator::new(CommentOptions::default().spam(spam)).with_rule(rate_limit());
    let sub = comment_by(user(1), 1, "x");
    assert_eq!(
        decide(moderator, sub).await,
        (Verdict::Reject, "rate_limit".to_owned())
    );
}

#[tokio::test]
async fn content_rules_beat_hold_rules() {
    let spam = SpamCheck::new(Arc::new(FixedClassifier::Says(SpamVerdict::Spam)))
        .on_spam(SpamAction::Reject);
    let moderator = CommentModerator::new(
        CommentOptions::default()
            .spam(spam)
            .always_moderate(true)
            .moderate_first_timers(true),
    );
    let sub = comment_by(user(1), 1, "x");
    assert_eq!(
        decide(moderator, sub).await,
        (Verdict::Reject, "spam".to_owned())
    );
}

#[tokio::test]
async fn hold_rules_beat_publish() {
    let moderator = CommentModerator::new(CommentOptions::default().always_moderate(true));
    assert_eq!(
        decide(moderator, comment_by(user(1), 1, "x")).await,
        (Verdict::Hold, "always_moderate".to_owned())
    );
    let moderator = CommentModerator::new(CommentOptions::default());
    assert_eq!(
        decide(moderator, comment_by(user(1), 1, "x")).await,
        (Verdict::Publish, "publish".to_owned())
    );
}

#[tokio::test]
async fn hold_rules_run_in_documented_order_within_the_stage() {
    let past = (now() - Duration::days(3)).to_rfc3339();
    let moderator = CommentModerator::new(
        CommentOptions::default()
            .moderate_after("pub_date", 1)
            .moderate_first_timers(true)
            .always_moderate(true),
    );
    let sub = comment_on(user(1), 1, "x", json!({ "pub_date": past }));
    assert_eq!(
        decide(moderator, sub).await,
        (Verdict::Hold, "moderate_after".to_owned())
    );
}

#[tokio::test]
async fn a_custom_rule_runs_at_its_stage_whatever_the_insertion_order() {
    // Added to the chain last, but at the discard stage: it runs before the
    // auto-approval of staff.
    let custom: Arc<dyn Rule> = Arc::new(Always {
        stage: Stage::Discard,
        id: "maintenance",
        verdict: Verdict::Discard,
    });
    let moderator = CommentModerator::new(CommentOptions::default()).with_rule(custom);
    let sub = comment_by(user(1).with_superuser(true), 1, "x");
    assert_eq!(
        decide(moderator, sub).await,
        (Verdict::Discard, "maintenance".to_owned())
    );
}

#[test]
fn stages_are_ordered_as_documented() {
    let mut sorted = Stage::ALL;
    sorted.sort();
    assert_eq!(sorted, Stage::ALL);
    assert_eq!(
        Stage::ALL,
        [
            Stage::Discard,
            Stage::Sanctions,
            Stage::AutoReject,
            Stage::AutoApprove,
            Stage::RateLimit,
            Stage::Content,
            Stage::Hold,
        ]
    );
}
