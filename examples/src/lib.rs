//! Runnable examples for moderation-kit. Run one with
//! `cargo run -p moderation-examples --example NAME`.

/// The guides' Rust snippets, compiled and run as doctests so that the
/// guides cannot drift from the code.
#[cfg(doctest)]
mod guides {
    #[doc = include_str!("../../README.md")]
    mod readme {}
    #[doc = include_str!("../../docs/community-rules.md")]
    mod community_rules {}
    #[doc = include_str!("../../docs/moderation-audit-trail.md")]
    mod moderation_audit_trail {}
    #[doc = include_str!("../../docs/moderation-core.md")]
    mod moderation_core {}
    #[doc = include_str!("../../docs/moderation-diff.md")]
    mod moderation_diff {}
    #[doc = include_str!("../../docs/moderation-misery.md")]
    mod moderation_misery {}
    #[doc = include_str!("../../docs/moderation-storage.md")]
    mod moderation_storage {}
    #[doc = include_str!("../../docs/object-workflow.md")]
    mod object_workflow {}
    #[doc = include_str!("../../docs/review-queue.md")]
    mod review_queue {}
}
