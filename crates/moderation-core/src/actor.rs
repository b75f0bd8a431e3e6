//! Who acts: a signed-in user with roles and groups, or an anonymous visitor.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::UserId;

/// A Discourse-style trust level, 0 (new user) to 4 (leader).
///
/// The library computes it from activity facts in a later layer; here it is
/// carried on the [`Actor`] for rules that gate on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum TrustLevel {
    /// New user.
    Tl0,
    /// Basic user.
    Tl1,
    /// Member.
    Tl2,
    /// Regular.
    Tl3,
    /// Leader (granted by staff only).
    Tl4,
}

impl From<TrustLevel> for u8 {
    fn from(level: TrustLevel) -> Self {
        level as u8
    }
}

impl TryFrom<u8> for TrustLevel {
    type Error = crate::ModerationError;
    fn try_from(value: u8) -> Result<Self, Self::Error> {
        Ok(match value {
            0 => Self::Tl0,
            1 => Self::Tl1,
            2 => Self::Tl2,
            3 => Self::Tl3,
            4 => Self::Tl4,
            _ => return Err(crate::ModerationError::InvalidTrustLevel { level: value }),
        })
    }
}

/// What the author may currently do, as the host application knows it.
///
/// Sanctions are recorded and expired by the community rules; the comment
/// pipeline only reads the standing and refuses frozen, silenced or suspended
/// authors with a reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Standing {
    /// No sanction in force.
    #[default]
    Good,
    /// Signed in, cannot post or edit until staff review (Agouti's mute).
    Frozen {
        /// Why the author was frozen.
        reason: String,
    },
    /// Cannot post until the given time.
    Silenced {
        /// When the silence ends, if it does.
        until: Option<DateTime<Utc>>,
        /// Why.
        reason: String,
    },
    /// Cannot sign in until the given time.
    Suspended {
        /// When the suspension ends, if it does.
        until: Option<DateTime<Utc>>,
        /// Why.
        reason: String,
    },
}

/// The person behind a submission or a moderator action.
///
/// ```
/// use moderation_core::{Actor, UserId};
/// let staff = Actor::user(UserId::from(1_i64)).with_staff(true).with_group("editors");
/// assert!(staff.is_staff() && staff.in_group("editors"));
/// assert!(Actor::anonymous().is_anonymous());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The user id, `None` for an anonymous visitor.
    pub user: Option<UserId>,
    /// A stable identity for anonymous posters (an e-mail address, say): used
    /// to recognise returning anonymous authors. Display names never count.
    pub identity: Option<String>,
    /// The name shown next to the content. Never used to identify anyone.
    pub display_name: Option<String>,
    /// Superusers are auto-approved by default.
    pub superuser: bool,
    /// Staff are auto-approved by default and exempt from limits.
    pub staff: bool,
    /// Group names, for allow and deny lists.
    pub groups: BTreeSet<String>,
    /// The author's trust level, when the application tracks one.
    pub trust_level: Option<TrustLevel>,
    /// Sanctions in force.
    pub standing: Standing,
}

impl Actor {
    /// A signed-in user with no roles.
    #[must_use]
    pub fn user(id: UserId) -> Self {
        Self {
            user: Some(id),
            ..Self::default()
        }
    }

    /// An anonymous visitor.
    #[must_use]
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// Sets the stable identity of an anonymous poster (an e-mail address).
    #[must_use]
    pub fn with_identity(mut self, identity: impl Into<String>) -> Self {
        self.identity = Some(identity.into());
        self
    }

    /// Sets the display name (shown, never used to identify).
    #[must_use]
    pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = Some(name.into());
        self
    }

    /// Marks the actor as staff or not.
    #[must_use]
    pub fn with_staff(mut self, staff: bool) -> Self {
        self.staff = staff;
        self
    }

    /// Marks the actor as superuser or not.
    #[must_use]
    pub fn with_superuser(mut self, superuser: bool) -> Self {
        self.superuser = superuser;
        self
    }

    /// Adds a group membership.
    #[must_use]
    pub fn with_group(mut self, group: impl Into<String>) -> Self {
        self.groups.insert(group.into());
        self
    }

    /// Sets the trust level.
    #[must_use]
    pub fn with_trust_level(mut self, level: TrustLevel) -> Self {
        self.trust_level = Some(level);
        self
    }

    /// Sets the standing.
    #[must_use]
    pub fn with_standing(mut self, standing: Standing) -> Self {
        self.standing = standing;
        self
    }

    /// True when there is no user id.
    #[must_use]
    pub fn is_anonymous(&self) -> bool {
        self.user.is_none()
    }

    /// True for staff (superusers count as staff).
    #[must_use]
    pub fn is_staff(&self) -> bool {
        self.staff || self.superuser
    }

    /// True when the actor belongs to `group`.
    #[must_use]
    pub fn in_group(&self, group: &str) -> bool {
        self.groups.contains(group)
    }

    /// The key that identifies this author across submissions: the user id,
    /// else the anonymous identity (lower-cased), else nothing.
    #[must_use]
    pub fn author_key(&self) -> Option<AuthorKey> {
        if let Some(user) = &self.user {
            return Some(AuthorKey::User(user.clone()));
        }
        self.identity
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| AuthorKey::Identity(s.to_lowercase()))
    }
}

/// How a store recognises the same author again.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "by", content = "value", rename_all = "snake_case")]
pub enum AuthorKey {
    /// A signed-in user.
    User(UserId),
    /// An anonymous poster's stable identity (lower-cased), such as an e-mail address.
    Identity(String),
}

impl AuthorKey {
    /// The canonical text stored in indexes: `u:<id>` or `e:<identity>`.
    #[must_use]
    pub fn to_key(&self) -> String {
        match self {
            Self::User(id) => format!("u:{id}"),
            Self::Identity(identity) => format!("e:{identity}"),
        }
    }
}
