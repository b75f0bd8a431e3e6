//! The kinds of action community rules gate, limit and log.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::ModerationError;

/// What a member is trying to do. Gates, rate limits and the action log are
/// keyed by it; configuration names it in `snake_case` (`private_message`).
///
/// ```
/// use moderation_core::community::ActionKind;
/// assert_eq!(ActionKind::PrivateMessage.as_str(), "private_message");
/// assert_eq!("reply".parse::<ActionKind>()?, ActionKind::Reply);
/// assert!(ActionKind::Topic.is_post());
/// # Ok::<(), moderation_core::ModerationError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ActionKind {
    /// Start a topic (Agouti's "post").
    Topic,
    /// Reply in a topic.
    Reply,
    /// Comment on a post.
    Comment,
    /// Edit one's own content.
    Edit,
    /// Send a private message.
    PrivateMessage,
    /// Flag content for staff.
    Flag,
    /// Create a poll.
    Poll,
    /// Include a link in a post.
    Link,
    /// Embed an image in a post.
    Image,
    /// Attach a file to a post.
    Attachment,
}

impl ActionKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 10] = [
        Self::Topic,
        Self::Reply,
        Self::Comment,
        Self::Edit,
        Self::PrivateMessage,
        Self::Flag,
        Self::Poll,
        Self::Link,
        Self::Image,
        Self::Attachment,
    ];

    /// The stable name stored in the action log and used in configuration.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Topic => "topic",
            Self::Reply => "reply",
            Self::Comment => "comment",
            Self::Edit => "edit",
            Self::PrivateMessage => "private_message",
            Self::Flag => "flag",
            Self::Poll => "poll",
            Self::Link => "link",
            Self::Image => "image",
            Self::Attachment => "attachment",
        }
    }

    /// True for the kinds that publish content in public (topics, replies,
    /// comments): the ones the cooldown and the new-user content limits cover.
    #[must_use]
    pub fn is_post(self) -> bool {
        matches!(self, Self::Topic | Self::Reply | Self::Comment)
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ActionKind {
    type Err = ModerationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| {
                ModerationError::Config(format!(
                    "unknown action kind `{s}`; use one of topic, reply, comment, edit, \
                     private_message, flag, poll, link, image, attachment"
                ))
            })
    }
}
