//! Community rules run by the moderation pipeline through `CommunityRule`.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::Duration;
use common::*;
use moderation_core::community::{
    ActionKind, AuthorHistory, AuthorRecord, CommunityConfig, CommunityRule, CommunityRules,
    MemoryActionLog, MemorySanctionStore, WatchedWord, WordAction,
};
use moderation_core::{CommentOptions, ModerationError, TrustLevel, UserId, Verdict};

/// Every author has the contributions given; member 7 is a newcomer.
#[derive(Debug)]
struct History {
    contributions: u64,
}

#[async_trait]
impl AuthorHistory for History {
    async fn record(&self, author: &UserId) -> Result<AuthorRecord, ModerationError> {
        let newcomer = *author == UserId::from(7_i64);
        Ok(AuthorRecord {
            contributions: if newcomer { 0 } else { self.contributions },
            first_post_at: Some(now() - Duration::days(30)),
        })
    }
}

/// A harness whose comment moderator runs `rule`, built on its clock.
fn harness_with(rule: impl FnOnce(&Harness) -> CommunityRule) -> Harness {
    let h = harness();
    let rule = rule(&h);
    h.moderation
        .registry()
        .register::<Comment, _>(
            CommentModerator::new(CommentOptions::default()).with_rule(Arc::new(rule)),
        )
        .unwrap();
    h
}

fn community_rule(h: &Harness) -> CommunityRule {
    let config = CommunityConfig {
        watched_words: vec![
            WatchedWord::new("casino", WordAction::Block),
            WatchedWord::new("crypto", WordAction::RequireApproval),
        ],
        ..CommunityConfig::default()
    };
    let rules = CommunityRules::new(
        config,
        Arc::new(MemoryActionLog::new()),
        Arc::new(MemorySanctionStore::new()),
        h.clock.clone(),
    )
    .unwrap();
    CommunityRule::new(rules, ActionKind::Comment).history(Arc::new(History { contributions: 10 }))
}

fn member(n: i64) -> moderation_core::Actor {
    user(n).with_trust_level(TrustLevel::Tl1)
}

#[tokio::test]
async fn community_rules_decide_in_the_pipeline() {
    let h = harness_with(community_rule);

    let outcome = h
        .moderation
        .submit(comment_by(member(1), 1, "Nice write-up, thanks"))
        .await
        .unwrap();
    assert_eq!(outcome.verdict(), Verdict::Publish);

    let outcome = h
        .moderation
        .submit(comment_by(member(2), 2, "Try the Casino tonight"))
        .await
        .unwrap();
    assert_eq!(outcome.verdict(), Verdict::Reject);
    assert_eq!(rules_of(&outcome), ["watched_word"]);
    assert!(outcome.decision.reasons[0].text.contains("Casino"));

    let outcome = h
        .moderation
        .submit(comment_by(member(3), 3, "Is crypto allowed here?"))
        .await
        .unwrap();
    assert_eq!(outcome.verdict(), Verdict::Hold);
    assert_eq!(rules_of(&outcome), ["watched_word_hold"]);

    // A newcomer's link is held by the low-contribution guard.
    let outcome = h
        .moderation
        .submit(comment_by(member(7), 4, "see cheap-pills.example"))
        .await
        .unwrap();
    assert_eq!(outcome.verdict(), Verdict::Hold);
    assert_eq!(rules_of(&outcome), ["low_contribution_link"]);
}

#[tokio::test]
async fn a_refusal_can_discard_and_carries_when_to_retry() {
    let h = harness_with(|h| community_rule(h).refusals(Verdict::Discard));
    // The default cooldown refuses a second comment within seconds.
    let first = h
        .moderation
        .submit(comment_by(member(1), 1, "first"))
        .await
        .unwrap();
    assert_eq!(first.verdict(), Verdict::Publish);
    let second = h
        .moderation
        .submit(comment_by(member(1), 2, "second"))
        .await
        .unwrap();
    assert_eq!(second.verdict(), Verdict::Discard);
    assert_eq!(rules_of(&second), ["cooldown"]);
    assert!(!second.decision.reasons[0].detail["retry_at"].is_null());
}
