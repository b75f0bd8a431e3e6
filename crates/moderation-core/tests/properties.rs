//! Invariants over arbitrary input (proptest).
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use common::*;
use moderation_core::{CommentOptions, ModerationError, Verdict};
use proptest::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every submission within the limit gets exactly one decision, whatever
    /// its text: unicode, control characters, empty.
    #[test]
    fn every_submission_gets_exactly_one_decision(
        text in prop_oneof![
            Just(String::new()),
            "\\PC{0,200}",
            any::<String>().prop_map(|s| s.chars().take(200).collect()),
            "[\\x00-\\x1f\\u{200b}\\u{feff}]{0,50}",
        ],
        staff in any::<bool>(),
        first_timers in any::<bool>(),
    ) {
        let h = with_options(
            CommentOptions::default()
                .moderate_first_timers(first_timers)
                .email_notification(true),
        );
        let outcome = runtime().block_on(
            h.moderation.submit(comment_by(user(1).with_staff(staff), 1, &text)),
        ).unwrap();
        prop_assert!(!outcome.decision.reasons.is_empty());
        match outcome.verdict() {
            Verdict::Discard => prop_assert!(outcome.item.is_none()),
            _ => prop_assert!(outcome.item.is_some()),
        }
        prop_assert_eq!(h.store.len(), usize::from(outcome.item.is_some()));
        prop_assert_eq!(h.notifier.sent().len(), usize::from(outcome.item.is_some()));
    }

    /// Text over the configured maximum (1 000 bytes here) is a typed error,
    /// and nothing is stored.
    #[test]
    fn text_over_the_maximum_is_a_typed_error(extra in 1_usize..500, fill in "\\PC") {
        let h = with_options(CommentOptions::default());
        let mut text = fill.repeat(1_000 / fill.len() + 1);
        text.push_str(&"x".repeat(extra));
        let err = runtime().block_on(h.moderation.submit(comment_by(user(1), 1, &text)));
        let is_too_long = matches!(err, Err(ModerationError::TextTooLong { max: 1_000, .. }));
        prop_assert!(is_too_long);
        prop_assert!(h.store.is_empty());
    }
}
