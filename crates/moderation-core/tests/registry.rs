//! The registry (SPEC A3): errors, atomic multi-registration, lookup.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

mod common;

use common::*;
use moderation_core::{
    CommentOptions, Kind, ModerateFirstTimers, ModerationError, Registration, Registry,
};

#[test]
fn register_twice_is_already_moderated() {
    let registry = Registry::new();
    registry
        .register::<Comment, _>(ModerateFirstTimers)
        .unwrap();
    let err = registry
        .register::<Comment, _>(ModerateFirstTimers)
        .unwrap_err();
    assert!(
        matches!(err, ModerationError::AlreadyModerated { ref kind } if kind.as_str() == "blog.comment")
    );
}

#[test]
fn unregister_unknown_is_not_moderated() {
    let registry = Registry::new();
    let kind = Kind::new("blog.comment").unwrap();
    assert!(matches!(
        registry.unregister(&kind),
        Err(ModerationError::NotModerated { .. })
    ));
    registry
        .register::<Comment, _>(ModerateFirstTimers)
        .unwrap();
    registry.unregister(&kind).unwrap();
    assert!(!registry.is_registered(&kind));
}

#[test]
fn register_all_is_atomic_when_a_later_kind_is_registered() {
    let registry = Registry::new();
    // B (reviews) is registered already.
    registry.register::<Review, _>(ModerateFirstTimers).unwrap();
    let a =
        Registration::of::<Comment, _>(CommentModerator::new(CommentOptions::default())).unwrap();
    let b = Registration::of::<Review, _>(ModerateFirstTimers).unwrap();
    let err = registry.register_all(vec![a, b]).unwrap_err();
    assert!(
        matches!(err, ModerationError::AlreadyModerated { ref kind } if kind.as_str() == "shop.review")
    );
    // A was not left behind.
    assert!(!registry.is_registered(&Kind::new("blog.comment").unwrap()));
}

#[test]
fn register_all_refuses_a_kind_listed_twice() {
    let registry = Registry::new();
    let a = Registration::of::<Comment, _>(ModerateFirstTimers).unwrap();
    let again = Registration::of::<Comment, _>(ModerateFirstTimers).unwrap();
    assert!(registry.register_all(vec![a, again]).is_err());
    assert!(!registry.is_registered(&Kind::new("blog.comment").unwrap()));
}

#[test]
fn kinds_of_different_model_types_share_one_registry() {
    let registry = Registry::new();
    let a = Registration::of::<Comment, _>(ModerateFirstTimers).unwrap();
    let b = Registration::of::<Review, _>(moderation_core::AlwaysModerate).unwrap();
    registry.register_all(vec![a, b]).unwrap();
    let review = registry.get(&Kind::new("shop.review").unwrap()).unwrap();
    assert!(review.options().always_moderate);
    let comment = registry.get(&Kind::new("blog.comment").unwrap()).unwrap();
    assert!(comment.options().moderate_first_timers);
}
