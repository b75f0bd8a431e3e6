//! Django's comment moderation options (SPEC B1-B10), one behaviour per test.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use std::sync::Arc;

use chrono::Duration;
use common::*;
use moderation_core::{
    Actor, CommentOptions, ItemFilter, ItemStatus, LogAction, ModerationError, ModerationEvent,
    ModerationStore, PageRequest, SpamAction, SpamCheck, SpamVerdict, Verdict,
};
use serde_json::json;

fn days_ago(days: i64) -> String {
    (now() - Duration::days(days)).to_rfc3339()
}

async fn item_count(h: &Harness) -> usize {
    h.store
        .list_items(&ItemFilter::default(), &PageRequest::first(100))
        .await
        .unwrap()
        .items
        .len()
}

// ---- B1 enable_field ----

#[tokio::test]
async fn enable_field_false_discards_and_stores_sends_nothing() {
    let h = with_options(
        CommentOptions::default()
            .enable_field("enable_comments")
            .email_notification(true),
    );
    let sub = comment_on(user(1), 1, "hello", json!({"enable_comments": false}));
    let outcome = h.moderation.submit(sub).await.unwrap();
    assert_eq!(outcome.verdict(), Verdict::Discard);
    assert_eq!(rules_of(&outcome), ["enable_field"]);
    assert!(outcome.item.is_none());
    assert_eq!(item_count(&h).await, 0);
    assert!(h.notifier.sent().is_empty());
    assert!(h.events.events().is_empty());
}

#[tokio::test]
async fn enable_field_true_publishes() {
    let h = with_options(CommentOptions::default().enable_field("enable_comments"));
    let sub = comment_on(user(1), 1, "hello", json!({"enable_comments": true}));
    let outcome = h.moderation.submit(sub).await.unwrap();
    assert_eq!(outcome.verdict(), Verdict::Publish);
}

// ---- B2 close_after ----

fn close_after(days: u32) -> Harness {
    with_options(CommentOptions::default().close_after("pub_date", days))
}

#[tokio::test]
async fn close_after_7_accepts_6_days_old() {
    let h = close_after(7);
    let sub = comment_on(user(1), 1, "hi", json!({"pub_date": days_ago(6)}));
    assert_eq!(
        h.moderation.submit(sub).await.unwrap().verdict(),
        Verdict::Publish
    );
}

#[tokio::test]
async fn close_after_7_discards_exactly_7_days_old() {
    let h = close_after(7);
    let sub = comment_on(user(1), 1, "hi", json!({"pub_date": days_ago(7)}));
    let outcome = h.moderation.submit(sub).await.unwrap();
    assert_eq!(outcome.verdict(), Verdict::Discard);
    assert_eq!(rules_of(&outcome), ["close_after"]);
    assert_eq!(outcome.decision.reasons[0].detail["days_elapsed"], 7);
    assert_eq!(item_count(&h).await, 0);
}

#[tokio::test]
async fn close_after_counts_whole_days_floored() {
    let h = close_after(7);
    // 6 days, 23 hours, 59 minutes, 59 seconds: still 6 whole days.
    let almost = (now() - Duration::days(7) + Duration::seconds(1)).to_rfc3339();
    let sub = comment_on(user(1), 1, "hi", json!({ "pub_date": almost }));
    assert_eq!(
        h.moderation.submit(sub).await.unwrap().verdict(),
        Verdict::Publish
    );
}

#[tokio::test]
async fn close_after_0_discards_the_same_day() {
    let h = close_after(0);
    let sub = comment_on(user(1), 1, "hi", json!({"pub_date": days_ago(0)}));
    assert_eq!(
        h.moderation.submit(sub).await.unwrap().verdict(),
        Verdict::Discard
    );
}

#[tokio::test]
async fn close_after_unset_never_closes_even_with_a_field_named() {
    let options = CommentOptions {
        auto_close_field: Some("pub_date".to_owned()),
        close_after: None,
        ..CommentOptions::default()
    };
    let h = with_options(options);
    let sub = comment_on(user(1), 1, "hi", json!({"pub_date": days_ago(10_000)}));
    assert_eq!(
        h.moderation.submit(sub).await.unwrap().verdict(),
        Verdict::Publish
    );
}

#[tokio::test]
async fn close_after_null_date_is_open() {
    let h = close_after(0);
    let sub = comment_on(user(1), 1, "hi", json!({"pub_date": null}));
    assert_eq!(
        h.moderation.submit(sub).await.unwrap().verdict(),
        Verdict::Publish
    );
}

#[tokio::test]
async fn close_after_future_date_is_a_typed_error() {
    let h = close_after(7);
    let tomorrow = (now() + Duration::days(1)).to_rfc3339();
    let sub = comment_on(user(1), 1, "hi", json!({ "pub_date": tomorrow }));
    let err = h.moderation.submit(sub).await.unwrap_err();
    assert!(matches!(err, ModerationError::FutureDate { ref field, .. } if field == "pub_date"));
    assert_eq!(item_count(&h).await, 0);
}

#[tokio::test]
async fn close_after_missing_field_is_a_typed_error() {
    let h = close_after(7);
    let sub = comment_on(user(1), 1, "hi", json!({}));
    let err = h.moderation.submit(sub).await.unwrap_err();
    assert!(matches!(err, ModerationError::InvalidField { .. }));
}

// ---- B3 moderate_after ----

fn moderate_after(days: u32) -> Harness {
    with_options(
        CommentOptions::default()
            .moderate_after("pub_date", days)
            .email_notification(true),
    )
}

#[tokio::test]
async fn moderate_after_7_publishes_6_days_old() {
    let h = moderate_after(7);
    let sub = comment_on(user(1), 1, "hi", json!({"pub_date": days_ago(6)}));
    assert_eq!(
        h.moderation.submit(sub).await.unwrap().verdict(),
        Verdict::Publish
    );
}

#[tokio::test]
async fn moderate_after_7_holds_exactly_7_days_old() {
    let h = moderate_after(7);
    let sub = comment_on(user(1), 1, "hi", json!({"pub_date": days_ago(7)}));
    let outcome = h.moderation.submit(sub).await.unwrap();
    assert_eq!(outcome.verdict(), Verdict::Hold);
    assert_eq!(rules_of(&outcome), ["moderate_after"]);
    assert_eq!(outcome.item.unwrap().status, ItemStatus::Held);
}

#[tokio::test]
async fn moderate_after_0_holds_everything_and_staff_are_notified() {
    let h = moderate_after(0);
    let sub = comment_on(user(1), 1, "hi", json!({"pub_date": days_ago(0)}));
    let outcome = h.moderation.submit(sub).await.unwrap();
    assert_eq!(outcome.verdict(), Verdict::Hold);
    let sent = h.notifier.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].verdict, Verdict::Hold);
    assert_eq!(sent[0].recipients, ["staff@example.org"]);
    assert!(sent[0].subject.contains("Held for review"));
    assert!(sent[0].body.contains("[moderate_after]"));
    assert!(matches!(
        h.events.events()[0],
        ModerationEvent::Queued { .. }
    ));
}

#[tokio::test]
async fn moderate_after_null_date_and_future_date() {
    let h = moderate_after(0);
    let sub = comment_on(user(1), 1, "a", json!({"pub_date": null}));
    assert_eq!(
        h.moderation.submit(sub).await.unwrap().verdict(),
        Verdict::Publish
    );
    let future = (now() + Duration::seconds(1)).to_rfc3339();
    let sub = comment_on(user(1), 2, "b", json!({ "pub_date": future }));
    assert!(matches!(
        h.moderation.submit(sub).await,
        Err(ModerationError::FutureDate { .. })
    ));
}

// ---- B4 date-only fields ----

#[tokio::test]
async fn date_only_fields_compare_as_dates() {
    let h = close_after(7);
    // now() is 2024-03-10 12:00; 2024-03-03 is 7 calendar days earlier.
    let sub = comment_on(user(1), 1, "a", json!({"pub_date": "2024-03-03"}));
    assert_eq!(
        h.moderation.submit(sub).await.unwrap().verdict(),
        Verdict::Discard
    );
    let sub = comment_on(user(1), 2, "b", json!({"pub_date": "2024-03-04"}));
    assert_eq!(
        h.moderation.submit(sub).await.unwrap().verdict(),
        Verdict::Publish
    );
    // One second before midnight the date is still "today".
    h.clock
        .set(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2024, 3, 10, 23, 59, 59).unwrap());
    let sub = comment_on(user(1), 3, "c", json!({"pub_date": "2024-03-10"}));
    assert_eq!(
        h.moderation.submit(sub).await.unwrap().verdict(),
        Verdict::Publish
    );
    let sub = comment_on(user(1), 4, "d", json!({"pub_date": "2024-03-11"}));
    assert!(matches!(
        h.moderation.submit(sub).await,
        Err(ModerationError::FutureDate { .. })
    ));
}

#[tokio::test]
async fn date_only_close_after_0_closes_the_same_date() {
    let h = close_after(0);
    let sub = comment_on(user(1), 1, "a", json!({"pub_date": "2024-03-10"}));
    assert_eq!(
        h.moderation.submit(sub).await.unwrap().verdict(),
        Verdict::Discard
    );
}

// ---- B5 first-timers ----

#[tokio::test]
async fn first_timer_is_held_then_published_after_one_approval() {
    let h = with_options(CommentOptions::default().moderate_first_timers(true));
    let first = h
        .moderation
        .submit(comment_by(user(1), 1, "first"))
        .await
        .unwrap();
    assert_eq!(first.verdict(), Verdict::Hold);
    assert_eq!(rules_of(&first), ["first_timer"]);
    // A second one before any approval is still held.
    let second = h
        .moderation
        .submit(comment_by(user(1), 2, "second"))
        .await
        .unwrap();
    assert_eq!(second.verdict(), Verdict::Hold);
    let item = first.item.unwrap();
    let staff = user(99).with_staff(true);
    h.moderation
        .approve(item.id, item.version, &staff, Some("fine".to_owned()))
        .await
        .unwrap();
    let third = h
        .moderation
        .submit(comment_by(user(1), 3, "third"))
        .await
        .unwrap();
    assert_eq!(third.verdict(), Verdict::Publish);
    // Another author is still a first-timer.
    let other = h
        .moderation
        .submit(comment_by(user(2), 4, "hi"))
        .await
        .unwrap();
    assert_eq!(other.verdict(), Verdict::Hold);
}

#[tokio::test]
async fn first_timer_display_name_never_counts() {
    let h = with_options(CommentOptions::default().moderate_first_timers(true));
    let known = Actor::anonymous()
        .with_identity("Ann@Example.org")
        .with_display_name("Ann");
    let first = h
        .moderation
        .submit(comment_by(known, 1, "hello"))
        .await
        .unwrap();
    let item = first.item.unwrap();
    h.moderation
        .approve(item.id, item.version, &user(99).with_staff(true), None)
        .await
        .unwrap();
    // Same display name, different identity: still a first-timer.
    let impostor = Actor::anonymous()
        .with_identity("mallory@example.org")
        .with_display_name("Ann");
    let outcome = h
        .moderation
        .submit(comment_by(impostor, 2, "hi"))
        .await
        .unwrap();
    assert_eq!(outcome.verdict(), Verdict::Hold);
    // Same display name, no identity at all: a first-timer too.
    let nameless = Actor::anonymous().with_display_name("Ann");
    let outcome = h
        .moderation
        .submit(comment_by(nameless, 3, "hey"))
        .await
        .unwrap();
    assert_eq!(outcome.verdict(), Verdict::Hold);
    // The real Ann (identity matched case-insensitively) publishes.
    let ann = Actor::anonymous().with_identity("ann@example.org");
    let outcome = h
        .moderation
        .submit(comment_by(ann, 4, "again"))
        .await
        .unwrap();
    assert_eq!(outcome.verdict(), Verdict::Publish);
}

#[tokio::test]
async fn always_moderate_and_no_comments_builtins() {
    let h = harness();
    h.moderation
        .registry()
        .register::<Comment, _>(moderation_core::AlwaysModerate)
        .unwrap();
    h.moderation
        .registry()
        .register::<Review, _>(moderation_core::NoComments)
        .unwrap();
    let held = h
        .moderation
        .submit(comment_by(user(1), 1, "x"))
        .await
        .unwrap();
    assert_eq!(held.verdict(), Verdict::Hold);
    let review = Review {
        slug: "great-kettle".to_owned(),
    };
    let sub = moderation_core::Submission::new(user(1), &review).unwrap();
    let discarded = h.moderation.submit(sub).await.unwrap();
    assert_eq!(discarded.verdict(), Verdict::Discard);
}

// ---- A3 unregistered kinds ----

#[tokio::test]
async fn unregistered_kind_is_published_without_notification() {
    let h = harness();
    let outcome = h
        .moderation
        .submit(comment_by(user(1), 1, "x"))
        .await
        .unwrap();
    assert_eq!(outcome.verdict(), Verdict::Publish);
    assert_eq!(rules_of(&outcome), ["unmoderated"]);
    assert!(h.notifier.sent().is_empty());
    assert!(h.events.events().is_empty());
}

// ---- B6 spam ----

fn with_spam(check: SpamCheck) -> Harness {
    with_options(CommentOptions::default().spam(check))
}

#[tokio::test]
async fn spam_is_held_by_default() {
    let h = with_spam(SpamCheck::new(Arc::new(FixedClassifier::Says(
        SpamVerdict::Spam,
    ))));
    let outcome = h
        .moderation
        .submit(comment_by(user(1), 1, "buy"))
        .await
        .unwrap();
    assert_eq!(outcome.verdict(), Verdict::Hold);
    assert_eq!(rules_of(&outcome), ["spam"]);
    assert_eq!(outcome.decision.reasons[0].detail["score"], 0.9);
}

#[tokio::test]
async fn spam_can_be_configured_to_reject() {
    let h = with_spam(
        SpamCheck::new(Arc::new(FixedClassifier::Says(SpamVerdict::Spam)))
            .on_spam(SpamAction::Reject),
    );
    let outcome = h
        .moderation
        .submit(comment_by(user(1), 1, "buy"))
        .await
        .unwrap();
    assert_eq!(outcome.verdict(), Verdict::Reject);
    assert_eq!(outcome.item.unwrap().status, ItemStatus::Rejected);
}

#[tokio::test]
async fn spam_classifier_failure_is_held_with_a_reason_saying_so() {
    let h = with_spam(SpamCheck::new(Arc::new(FixedClassifier::Fails)));
    let outcome = h
        .moderation
        .submit(comment_by(user(1), 1, "hi"))
        .await
        .unwrap();
    assert_eq!(outcome.verdict(), Verdict::Hold);
    let reason = &outcome.decision.reasons[0];
    assert_eq!(reason.rule, "spam_check_failed");
    assert!(reason.text.contains("failed"));
    assert!(
        reason.detail["error"]
            .as_str()
            .unwrap()
            .contains("timed out")
    );
}

#[tokio::test]
async fn spam_ham_publishes_and_unsure_holds() {
    let h = with_spam(SpamCheck::new(Arc::new(FixedClassifier::Says(
        SpamVerdict::Ham,
    ))));
    let outcome = h
        .moderation
        .submit(comment_by(user(1), 1, "hi"))
        .await
        .unwrap();
    assert_eq!(outcome.verdict(), Verdict::Publish);
    let h = with_spam(SpamCheck::new(Arc::new(FixedClassifier::Says(
        SpamVerdict::Unsure,
    ))));
    let outcome = h
        .moderation
        .submit(comment_by(user(1), 1, "hi"))
        .await
        .unwrap();
    assert_eq!(outcome.verdict(), Verdict::Hold);
    assert_eq!(rules_of(&outcome), ["spam_unsure"]);
}

// ---- B7 notifications ----

#[tokio::test]
async fn notification_sent_for_every_saved_submission_when_enabled() {
    let h = with_options(CommentOptions::default().email_notification(true));
    h.moderation
        .submit(comment_by(user(1), 1, "a"))
        .await
        .unwrap();
    let sent = h.notifier.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].verdict, Verdict::Publish);
    assert!(sent[0].body.contains("a"));
}

#[tokio::test]
async fn notification_templates_can_be_overridden_at_run_time() {
    let h = with_options(CommentOptions::default().email_notification(true));
    h.moderation
        .templates()
        .set(
            moderation_core::SUBJECT_TEMPLATE,
            "Moderate {{ object }} ({{ verdict }})",
        )
        .unwrap();
    h.moderation
        .submit(comment_by(user(1), 1, "a"))
        .await
        .unwrap();
    assert_eq!(
        h.notifier.sent()[0].subject,
        "Moderate blog.comment#1 (publish)"
    );
    assert!(matches!(
        h.moderation.templates().set("x", "{% if %}"),
        Err(ModerationError::Template { .. })
    ));
}

#[tokio::test]
async fn notification_off_by_default_like_django() {
    let h = with_options(CommentOptions::default());
    h.moderation
        .submit(comment_by(user(1), 1, "a"))
        .await
        .unwrap();
    assert!(h.notifier.sent().is_empty());
}

// ---- B8 duplicates ----

#[tokio::test]
async fn duplicate_within_window_returns_the_existing_item() {
    let h = with_options(
        CommentOptions::default()
            .moderate_first_timers(true)
            .email_notification(true),
    );
    let parent = json!({"title": "Post"});
    let first = h
        .moderation
        .submit(comment_on(user(1), 1, "same text", parent.clone()))
        .await
        .unwrap();
    h.clock.advance(Duration::minutes(5));
    let again = h
        .moderation
        .submit(comment_on(user(1), 2, "same text ", parent.clone()))
        .await
        .unwrap();
    assert!(again.duplicate);
    assert_eq!(
        again.item.as_ref().unwrap().id,
        first.item.as_ref().unwrap().id
    );
    assert_eq!(again.verdict(), Verdict::Hold);
    assert_eq!(item_count(&h).await, 1);
    assert_eq!(h.notifier.sent().len(), 1);
    assert_eq!(h.events.events().len(), 1);
}

#[tokio::test]
async fn duplicate_outside_window_or_by_another_author_is_new() {
    let h = with_options(CommentOptions::default());
    let parent = json!({"title": "Post"});
    h.moderation
        .submit(comment_on(user(1), 1, "same", parent.clone()))
        .await
        .unwrap();
    let other = h
        .moderation
        .submit(comment_on(user(2), 2, "same", parent.clone()))
        .await
        .unwrap();
    assert!(!other.duplicate);
    h.clock.advance(Duration::minutes(11));
    let later = h
        .moderation
        .submit(comment_on(user(1), 3, "same", parent))
        .await
        .unwrap();
    assert!(!later.duplicate);
    assert_eq!(item_count(&h).await, 3);
}

// ---- B9 comments_open / comments_moderated ----

#[tokio::test]
async fn comments_open_and_moderated_queries() {
    let h = with_options(
        CommentOptions::default()
            .enable_field("enable_comments")
            .close_after("pub_date", 30)
            .moderate_after("pub_date", 7),
    );
    let kind = moderation_core::Kind::new("blog.comment").unwrap();
    let fresh = entry(json!({"enable_comments": true, "pub_date": days_ago(1)}));
    let older = entry(json!({"enable_comments": true, "pub_date": days_ago(8)}));
    let closed = entry(json!({"enable_comments": true, "pub_date": days_ago(30)}));
    let disabled = entry(json!({"enable_comments": false, "pub_date": days_ago(1)}));
    assert!(h.moderation.comments_open(&kind, &fresh).await.unwrap());
    assert!(!h.moderation.comments_moderated(&kind, &fresh).unwrap());
    assert!(h.moderation.comments_open(&kind, &older).await.unwrap());
    assert!(h.moderation.comments_moderated(&kind, &older).unwrap());
    assert!(!h.moderation.comments_open(&kind, &closed).await.unwrap());
    assert!(!h.moderation.comments_open(&kind, &disabled).await.unwrap());
    let other = moderation_core::Kind::new("shop.review").unwrap();
    assert!(h.moderation.comments_open(&other, &disabled).await.unwrap());
    assert!(!h.moderation.comments_moderated(&other, &older).unwrap());
}

// ---- B10 manual moderation ----

#[tokio::test]
async fn flag_is_idempotent_per_user_and_item() {
    let h = with_options(CommentOptions::default());
    let item = h
        .moderation
        .submit(comment_by(user(1), 1, "a"))
        .await
        .unwrap()
        .item
        .unwrap();
    let first = h
        .moderation
        .flag(item.id, &user(5), Some("rude".to_owned()))
        .await
        .unwrap();
    let second = h.moderation.flag(item.id, &user(5), None).await.unwrap();
    assert_eq!(first, moderation_core::FlagOutcome::Added);
    assert_eq!(second, moderation_core::FlagOutcome::AlreadyFlagged);
    let log = h.store.log_entries(item.id).await.unwrap();
    assert_eq!(
        log.iter().filter(|e| e.action == LogAction::Flag).count(),
        1
    );
    let flagged = h
        .events
        .events()
        .iter()
        .filter(|e| matches!(e, ModerationEvent::Flagged { .. }))
        .count();
    assert_eq!(flagged, 1);
    assert!(matches!(
        h.moderation.flag(item.id, &Actor::anonymous(), None).await,
        Err(ModerationError::AnonymousActor { .. })
    ));
}

#[tokio::test]
async fn approve_and_remove_log_fire_events_and_check_versions() {
    let h = with_options(CommentOptions::default().always_moderate(true));
    let item = h
        .moderation
        .submit(comment_by(user(1), 1, "a"))
        .await
        .unwrap()
        .item
        .unwrap();
    let staff = user(9).with_staff(true);
    let approved = h
        .moderation
        .approve(item.id, item.version, &staff, None)
        .await
        .unwrap();
    assert_eq!((approved.status, approved.version), (ItemStatus::Public, 2));
    // A second moderator still holding version 1 loses.
    let stale = h
        .moderation
        .remove(item.id, item.version, &staff, None)
        .await;
    assert!(matches!(stale, Err(ModerationError::Conflict { .. })));
    let removed = h
        .moderation
        .remove(
            item.id,
            approved.version,
            &staff,
            Some("off-topic".to_owned()),
        )
        .await
        .unwrap();
    assert_eq!(removed.status, ItemStatus::Removed);
    let restored = h
        .moderation
        .approve(item.id, removed.version, &staff, None)
        .await
        .unwrap();
    assert_eq!(restored.status, ItemStatus::Public);
    let actions: Vec<LogAction> = h
        .store
        .log_entries(item.id)
        .await
        .unwrap()
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        actions,
        [
            LogAction::SubmitHeld,
            LogAction::Approve,
            LogAction::Remove,
            LogAction::Approve
        ]
    );
    // Queued, then three decisions.
    assert_eq!(h.events.events().len(), 4);
}

// ---- failing ports never undo a decision ----

#[derive(Debug)]
struct BrokenNotifier;

#[async_trait::async_trait]
impl moderation_core::Notifier for BrokenNotifier {
    async fn notify(
        &self,
        _notification: &moderation_core::Notification,
    ) -> Result<(), moderation_core::BoxError> {
        Err("smtp down".into())
    }
}

#[derive(Debug)]
struct BrokenSink;

#[async_trait::async_trait]
impl moderation_core::EventSink for BrokenSink {
    async fn emit(&self, _event: &ModerationEvent) -> Result<(), moderation_core::BoxError> {
        Err("bus down".into())
    }
}

#[tokio::test]
async fn failing_notifier_and_event_sink_never_undo_the_decision() {
    let store = Arc::new(moderation_core::MemoryStore::new());
    let moderation = moderation_core::Moderation::builder(store.clone())
        .notifier(Arc::new(BrokenNotifier))
        .events(Arc::new(BrokenSink))
        .recipients(moderation_core::Recipients::Fixed(vec![
            "staff@example.org".to_owned(),
        ]))
        .build();
    moderation
        .registry()
        .register::<Comment, _>(CommentModerator::new(
            CommentOptions::default()
                .always_moderate(true)
                .email_notification(true),
        ))
        .unwrap();
    let outcome = moderation
        .submit(comment_by(user(1), 1, "a"))
        .await
        .unwrap();
    assert_eq!(outcome.verdict(), Verdict::Hold);
    assert_eq!(store.len(), 1);
}

// ---- sanctions ----

#[tokio::test]
async fn sanctions_in_force_refuse_and_expired_ones_do_not() {
    let h = with_options(CommentOptions::default());
    let silenced = |until| {
        user(1).with_standing(moderation_core::Standing::Silenced {
            until: Some(until),
            reason: "cool down".to_owned(),
        })
    };
    let refused = h
        .moderation
        .submit(comment_by(silenced(now() + Duration::hours(1)), 1, "a"))
        .await
        .unwrap();
    assert_eq!(refused.verdict(), Verdict::Discard);
    assert_eq!(rules_of(&refused), ["author_silenced"]);
    let allowed = h
        .moderation
        .submit(comment_by(silenced(now() - Duration::hours(1)), 2, "b"))
        .await
        .unwrap();
    assert_eq!(allowed.verdict(), Verdict::Publish);
    let suspended = user(2).with_standing(moderation_core::Standing::Suspended {
        until: None,
        reason: "abuse".to_owned(),
    });
    let refused = h
        .moderation
        .submit(comment_by(suspended, 3, "c"))
        .await
        .unwrap();
    assert_eq!(rules_of(&refused), ["author_suspended"]);
    assert_eq!(h.store.len(), 1);
}
