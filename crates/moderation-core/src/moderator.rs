//! The `Moderator` trait and the built-in moderators (SPEC A2, B5).

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::ModerationError;
use crate::facts::StoreFacts;
use crate::moderated::Moderated;
use crate::options::CommentOptions;
use crate::rule::Rule;
use crate::submission::Submission;

/// How one model kind is moderated. Every hook has a default, so an empty
/// impl is valid (and publishes everything, with superusers and staff
/// auto-approved).
///
/// ```
/// use moderation_core::{CommentOptions, Moderated, Moderator, ObjectId};
/// #[derive(serde::Serialize)]
/// struct Comment { id: i64 }
/// impl Moderated for Comment {
///     const KIND: &'static str = "blog.comment";
///     fn object_id(&self) -> ObjectId { ObjectId::from(self.id) }
/// }
/// struct Plain;
/// impl Moderator<Comment> for Plain {}
/// struct Strict;
/// impl Moderator<Comment> for Strict {
///     fn options(&self) -> CommentOptions {
///         CommentOptions::default().moderate_first_timers(true).email_notification(true)
///     }
/// }
/// ```
#[async_trait]
pub trait Moderator<T: Moderated>: Send + Sync + 'static {
    /// The built-in options, read once when the moderator is registered.
    fn options(&self) -> CommentOptions {
        CommentOptions::default()
    }

    /// Extra rules, each placed at its own stage after the built-in rules of
    /// that stage. Read once when the moderator is registered.
    fn rules(&self) -> Vec<Arc<dyn Rule>> {
        Vec::new()
    }

    /// Django's `allow`: `false` discards the submission. Runs last in the
    /// discard stage.
    ///
    /// # Errors
    /// A typed error stops the submission.
    async fn allow(
        &self,
        _submission: &Submission,
        _facts: &StoreFacts<'_>,
    ) -> Result<bool, ModerationError> {
        Ok(true)
    }

    /// Django's `moderate`: `true` holds the submission. Runs last in the
    /// hold stage.
    ///
    /// # Errors
    /// A typed error stops the submission.
    async fn moderate(
        &self,
        _submission: &Submission,
        _facts: &StoreFacts<'_>,
    ) -> Result<bool, ModerationError> {
        Ok(false)
    }
}

/// Holds every submission (B5).
#[derive(Debug, Clone, Copy, Default)]
pub struct AlwaysModerate;

impl<T: Moderated> Moderator<T> for AlwaysModerate {
    fn options(&self) -> CommentOptions {
        CommentOptions::default().always_moderate(true)
    }
}

/// Discards every submission: comments are closed everywhere (B5).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoComments;

#[async_trait]
impl<T: Moderated> Moderator<T> for NoComments {
    async fn allow(
        &self,
        _submission: &Submission,
        _facts: &StoreFacts<'_>,
    ) -> Result<bool, ModerationError> {
        Ok(false)
    }
}

/// Holds an author's submissions until one of them is public (B5).
#[derive(Debug, Clone, Copy, Default)]
pub struct ModerateFirstTimers;

impl<T: Moderated> Moderator<T> for ModerateFirstTimers {
    fn options(&self) -> CommentOptions {
        CommentOptions::default().moderate_first_timers(true)
    }
}
