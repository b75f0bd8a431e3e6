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

#[derive(serde::Serialize)]
struct Upload {
    id: uuid::Uuid,
}

impl moderation_core::Moderated for Upload {
    const KIND: &'static str = "media.upload";
    fn object_id(&self) -> moderation_core::ObjectId {
        moderation_core::ObjectId::from(self.id)
    }
}

#[tokio::test]
async fn integer_uuid_and_string_ids_all_moderate() {
    let h = harness();
    let registry = h.moderation.registry();
    registry
        .register::<Comment, _>(moderation_core::AlwaysModerate)
        .unwrap();
    registry
        .register::<Review, _>(moderation_core::AlwaysModerate)
        .unwrap();
    registry
        .register::<Upload, _>(moderation_core::AlwaysModerate)
        .unwrap();
    let id = uuid::Uuid::from_u128(0x67e5_5044_10b1_426f_9247_bb68_0e5f_e0c8);
    let submissions = [
        comment_by(user(1), 42, "a"),
        moderation_core::Submission::new(
            user(1),
            &Review {
                slug: "kettle".to_owned(),
            },
        )
        .unwrap(),
        moderation_core::Submission::new(user(1), &Upload { id }).unwrap(),
    ];
    let mut keys = Vec::new();
    for submission in submissions {
        let outcome = h.moderation.submit(submission).await.unwrap();
        keys.push(outcome.item.unwrap().object.id.to_key());
    }
    assert_eq!(
        keys,
        ["i:42".to_owned(), "s:kettle".to_owned(), format!("u:{id}")]
    );
}
