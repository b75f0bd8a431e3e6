//! The low-contribution guard (D5) and freezes (D7) on the in-memory stores.
#![allow(clippy::panic, clippy::unwrap_used, clippy::indexing_slicing)]

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use moderation_core::community::{
    ActionKind, Attempt, CommunityConfig, CommunityRules, MemoryActionLog, MemorySanctionStore,
    Recipients, ScreeningVerdict, WatchedWord, WordAction,
};
use moderation_core::{Actor, ManualClock, ModerationError, TrustLevel, UserId};

fn rules_with(config: CommunityConfig) -> CommunityRules {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0)
            .single()
            .unwrap_or_default(),
    ));
    CommunityRules::new(
        config,
        Arc::new(MemoryActionLog::new()),
        Arc::new(MemorySanctionStore::new()),
        clock,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn newcomer() -> Actor {
    Actor::user(UserId::from(42_i64)).with_trust_level(TrustLevel::Tl0)
}

#[tokio::test]
async fn a_new_users_first_post_with_a_link_is_held_and_freezes() {
    let rules = rules_with(CommunityConfig::default());
    let author = newcomer();
    let attempt = Attempt::new(
        &author,
        ActionKind::Topic,
        "Great prices at pills.example today",
    );
    let screening = rules
        .screen(&attempt)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(screening.verdict, ScreeningVerdict::HoldAndFreeze);
    let rules_fired: Vec<_> = screening.reasons.iter().map(|r| r.rule.as_ref()).collect();
    assert_eq!(rules_fired, ["low_contribution_link"]);
}

#[tokio::test]
async fn the_same_post_after_three_live_contributions_is_published() {
    let rules = rules_with(CommunityConfig::default());
    let author = newcomer();
    let attempt = Attempt::new(&author, ActionKind::Topic, "Docs at docs.example").contributions(3);
    let screening = rules
        .screen(&attempt)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(screening.verdict, ScreeningVerdict::Publish);
    let other = Actor::user(UserId::from(43_i64)).with_trust_level(TrustLevel::Tl0);
    let below = Attempt::new(&other, ActionKind::Reply, "More at docs.example/2").contributions(2);
    let screening = rules.screen(&below).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(screening.verdict, ScreeningVerdict::HoldAndFreeze);
}

#[tokio::test]
async fn a_freeze_word_holds_a_low_contribution_author() {
    let config = CommunityConfig {
        watched_words: vec![WatchedWord::new("crypto*", WordAction::Freeze)],
        ..CommunityConfig::default()
    };
    let rules = rules_with(config);
    let author = newcomer();
    let attempt = Attempt::new(&author, ActionKind::Reply, "Cryptocurrency tips inside");
    let screening = rules
        .screen(&attempt)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(screening.verdict, ScreeningVerdict::HoldAndFreeze);
    assert_eq!(
        screening.reasons.first().map(|r| r.rule.as_ref()),
        Some("freeze_word")
    );
}

#[tokio::test]
async fn an_edit_that_adds_a_link_to_an_approved_post_is_held() {
    let rules = rules_with(CommunityConfig::default());
    let author = newcomer();
    let before = "I like this forum.";
    let typo_fix = Attempt::new(&author, ActionKind::Edit, "I like this forum!").editing(before);
    let screening = rules
        .screen(&typo_fix)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(screening.verdict, ScreeningVerdict::Publish);
    let with_link = Attempt::new(
        &author,
        ActionKind::Edit,
        "I like this forum. Also pills.example",
    )
    .editing(before);
    let screening = rules
        .screen(&with_link)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(screening.verdict, ScreeningVerdict::HoldAndFreeze);
}

#[tokio::test]
async fn an_edit_keeping_an_approved_link_is_not_held_again() {
    let rules = rules_with(CommunityConfig::default());
    let author = newcomer();
    let before = "Read docs.example first";
    let edit =
        Attempt::new(&author, ActionKind::Edit, "Please read docs.example first").editing(before);
    let screening = rules.screen(&edit).await.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(screening.verdict, ScreeningVerdict::Publish);
}

#[tokio::test]
async fn validation_runs_before_any_sanction() {
    let config = CommunityConfig {
        watched_words: vec![WatchedWord::new("casino", WordAction::Block)],
        ..CommunityConfig::default()
    };
    let rules = rules_with(config);
    let author = newcomer();
    let attempt = Attempt::new(&author, ActionKind::Topic, "casino at casino.example");
    match rules.screen(&attempt).await {
        Err(ModerationError::Refused { refusal }) => assert_eq!(refusal.code, "watched_word"),
        other => panic!("a blocked post is refused before the guard: {other:?}"),
    }
}

#[tokio::test]
async fn a_frozen_user_can_message_staff_and_nobody_else() {
    let rules = rules_with(CommunityConfig::default());
    let author = newcomer();
    let user = UserId::from(42_i64);
    rules
        .freeze(
            &user,
            "linked pills.example",
            None,
            Some("review:1".to_owned()),
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let to_staff = Attempt::new(&author, ActionKind::PrivateMessage, "Why was I frozen?")
        .to(Recipients::Staff);
    assert!(
        rules.screen(&to_staff).await.is_ok(),
        "a frozen member can message staff"
    );
    let to_member =
        Attempt::new(&author, ActionKind::PrivateMessage, "hello").to(Recipients::Members);
    let post = Attempt::new(&author, ActionKind::Reply, "hello");
    let edit = Attempt::new(&author, ActionKind::Edit, "hello!").editing("hello");
    for attempt in [to_member, post, edit] {
        match rules.screen(&attempt).await {
            Err(ModerationError::Refused { refusal }) => assert_eq!(refusal.code, "frozen"),
            other => panic!("{:?} by a frozen member: {other:?}", attempt.action),
        }
    }
}

#[tokio::test]
async fn approving_the_cause_lifts_the_freeze_and_deleting_keeps_it() {
    let rules = rules_with(CommunityConfig::default());
    let user = UserId::from(42_i64);
    let staff = UserId::from(1_i64);
    rules
        .freeze(&user, "link", None, Some("review:7".to_owned()))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    // Deleting the item leaves the freeze: nothing lifts it.
    assert_eq!(
        rules
            .sanctions_in_force(&user)
            .await
            .unwrap_or_default()
            .len(),
        1
    );
    // Approving another item does not lift it.
    assert!(
        rules
            .lift_caused_by("review:8", Some(&staff))
            .await
            .unwrap_or_default()
            .is_empty()
    );
    let lifted = rules
        .lift_caused_by("review:7", Some(&staff))
        .await
        .unwrap_or_default();
    assert_eq!(lifted.len(), 1);
    assert_eq!(
        lifted.first().and_then(|s| s.lifted_by.clone()),
        Some(staff)
    );
    assert!(
        rules
            .sanctions_in_force(&user)
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[tokio::test]
async fn an_edit_is_judged_on_what_it_adds_with_spans_in_the_whole_text() {
    let config = CommunityConfig {
        watched_words: vec![
            WatchedWord::new("casino", WordAction::Block),
            WatchedWord::new("darn", WordAction::Censor),
        ],
        ..CommunityConfig::default()
    };
    let rules = rules_with(config);
    let author = Actor::user(UserId::from(50_i64)).with_trust_level(TrustLevel::Tl2);
    // Approved before `casino` was watched; the edit only adds a word.
    let before = "casino night was fun";
    let after = "casino night was fun, darn";
    let edit = Attempt::new(&author, ActionKind::Edit, after)
        .editing(before)
        .contributions(10);
    let screening = rules.screen(&edit).await.unwrap();
    assert_eq!(screening.verdict, ScreeningVerdict::Publish);
    assert_eq!(screening.text, "casino night was fun, ■■■■");
    let spans: Vec<_> = screening.matches.iter().map(|m| m.span.clone()).collect();
    assert_eq!(spans, [0..6, 22..26]);
    let adds_block_word = Attempt::new(&author, ActionKind::Edit, "night was fun at the casino")
        .editing("night was fun")
        .contributions(10);
    match rules.screen(&adds_block_word).await {
        Err(ModerationError::Refused { refusal }) => assert_eq!(refusal.code, "watched_word"),
        other => panic!("an edit adding a blocked word is refused: {other:?}"),
    }
}

/// The guard with the review queue: hold, freeze, notify, review item;
/// approve lifts, delete keeps; both logged.
mod with_the_queue {
    use std::sync::Arc;

    use chrono::{TimeZone, Utc};
    use moderation_core::community::{
        ActionKind, Attempt, CommunityConfig, CommunityRules, FreezeOnReview, MemoryActionLog,
        MemorySanctionStore, ScreeningVerdict, review_cause,
    };
    use moderation_core::{
        Actor, ItemId, Kind, ManualClock, MemoryModerationLog, MemoryReviewStore, ObjectRef,
        Recipients, RecordingNotifier, ReviewAction, ReviewQueue, ReviewStatus, ReviewSubject,
        TrustLevel, UserId,
    };

    struct World {
        rules: CommunityRules,
        guard: FreezeOnReview,
        queue: ReviewQueue,
        notifier: Arc<RecordingNotifier>,
        log: MemoryModerationLog,
    }

    fn world() -> World {
        let clock = Arc::new(ManualClock::new(
            Utc.with_ymd_and_hms(2026, 5, 1, 8, 0, 0)
                .single()
                .unwrap_or_default(),
        ));
        let log = MemoryModerationLog::new();
        let rules = CommunityRules::new(
            CommunityConfig::default(),
            Arc::new(MemoryActionLog::new()),
            Arc::new(MemorySanctionStore::with_log(log.clone())),
            clock.clone(),
        )
        .unwrap();
        let reviews = Arc::new(MemoryReviewStore::new());
        let notifier = Arc::new(RecordingNotifier::new());
        let guard = FreezeOnReview::new(
            rules.clone(),
            reviews.clone(),
            notifier.clone(),
            Recipients::Fixed(vec!["mods@forum.example".to_owned()]),
            clock.clone(),
        );
        let queue = ReviewQueue::builder(reviews)
            .clock(clock)
            .observer(Arc::new(guard.clone()))
            .build();
        World {
            rules,
            guard,
            queue,
            notifier,
            log,
        }
    }

    /// A new member's first topic with a link, through the rules and the guard.
    async fn held_first_post(world: &World) -> moderation_core::ReviewItem {
        let author = Actor::user(UserId::from(42_i64)).with_trust_level(TrustLevel::Tl0);
        let text = "Best deals at pills.example";
        let screening = world
            .rules
            .screen(&Attempt::new(&author, ActionKind::Topic, text))
            .await
            .unwrap();
        assert_eq!(screening.verdict, ScreeningVerdict::HoldAndFreeze);
        let content = ObjectRef::new(Kind::new("forum.topic").unwrap(), 501_i64);
        let held = world
            .guard
            .hold_and_freeze(&author, &content, Some(ItemId(77)), &screening)
            .await
            .unwrap();
        assert!(held.message.contains("awaits review"));
        let freeze = held.freeze.unwrap();
        assert_eq!(freeze.imposed.cause, Some(review_cause(held.review.id)));
        held.review
    }

    #[tokio::test]
    async fn a_new_users_first_post_with_a_link_is_held_frozen_notified_and_queued() {
        let world = world();
        let review = held_first_post(&world).await;
        let queued = world
            .queue
            .for_subject(&ReviewSubject::Submission(ItemId(77)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(queued.id, review.id);
        assert_eq!(queued.status, ReviewStatus::Pending);
        assert_eq!(queued.reasons[0].code, "low_contribution_link");
        let member = UserId::from(42_i64);
        assert_eq!(
            world.rules.sanctions_in_force(&member).await.unwrap().len(),
            1
        );
        let sent = world.notifier.sent();
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].recipients, ["mods@forum.example"]);
        assert_eq!(sent[0].reasons[0].rule, "low_contribution_link");
    }

    /// Holds a first post, lets staff take `action` on its review item, and
    /// returns the freezes in force and the moderation log's verbs.
    async fn staff_decide(action: ReviewAction) -> (usize, Vec<String>) {
        let world = world();
        let review = held_first_post(&world).await;
        let staff = Actor::user(UserId::from(1_i64)).with_staff(true);
        world
            .queue
            .decide(review.id, review.version, action, &staff, None)
            .await
            .unwrap();
        let member = UserId::from(42_i64);
        let in_force = world.rules.sanctions_in_force(&member).await.unwrap().len();
        let actions = world.log.entries().into_iter().map(|e| e.action).collect();
        (in_force, actions)
    }

    #[tokio::test]
    async fn approving_the_review_item_lifts_the_freeze() {
        let (in_force, actions) = staff_decide(ReviewAction::Approve).await;
        assert_eq!(in_force, 0);
        assert_eq!(actions, ["sanction.freeze", "sanction.lift"]);
    }

    #[tokio::test]
    async fn deleting_the_review_item_keeps_the_freeze() {
        let (in_force, actions) = staff_decide(ReviewAction::Delete).await;
        assert_eq!(in_force, 1);
        assert_eq!(actions, ["sanction.freeze"]);
    }
}
