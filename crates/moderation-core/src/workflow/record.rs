//! The moderation record of one object: its two axes and its three versions.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::ModerationError;
use crate::ids::{ObjectRef, UserId};

/// Whether an object was ever approved (django-moderation's `moderation_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectState {
    /// Never approved: no public version unless `visible_until_rejected`.
    Draft,
    /// Approved at least once: an approved version exists.
    Ready,
}

/// The latest decision about an object (django-moderation's `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectStatus {
    /// A change waits for a moderator.
    Pending,
    /// The latest change was approved (by a moderator or a rule).
    Approved,
    /// The latest change was rejected (by a moderator or a rule).
    Rejected,
}

/// Text forms shared by [`ObjectState`], [`ObjectStatus`] and the entry
/// status, so stores write and read one spelling.
macro_rules! text_form {
    ($type:ty, $what:literal, $($variant:ident => $text:literal),+ $(,)?) => {
        impl $type {
            /// The stored spelling.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl FromStr for $type {
            type Err = ModerationError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok(Self::$variant),)+
                    other => Err(ModerationError::Config(format!(
                        concat!("unknown ", $what, " `{}`; expected one of: ", $($text, " "),+),
                        other
                    ))),
                }
            }
        }

        impl fmt::Display for $type {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use text_form;

text_form!(ObjectState, "object state", Draft => "draft", Ready => "ready");
text_form!(
    ObjectStatus, "object status",
    Pending => "pending", Approved => "approved", Rejected => "rejected",
);

/// What the store keeps about one moderated object.
///
/// Three versions, each a JSON snapshot, so nothing but an approval can
/// publish a pending change (C4):
/// - `public`: what public reads return; `None` hides the object.
/// - `approved`: the last approved version; rejecting an edit under
///   `visible_until_rejected` restores it.
/// - `current`: the latest saved version, approved or not (the
///   "unmoderated" read).
///
/// `version` grows by one with every stored change; a write naming an older
/// version is refused.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModeratedObject {
    /// The object.
    pub object: ObjectRef,
    /// Ever approved: draft or ready.
    pub state: ObjectState,
    /// The latest decision.
    pub status: ObjectStatus,
    /// Who made the latest decision; `None` for a rule or while pending.
    pub decided_by: Option<UserId>,
    /// When the latest decision was made; `None` while pending.
    pub decided_at: Option<DateTime<Utc>>,
    /// Why (an auto rule's text or the moderator's reason).
    pub reason: Option<String>,
    /// The version public reads return; `None` while hidden.
    pub public: Option<Value>,
    /// The last approved version; `None` until the first approval.
    pub approved: Option<Value>,
    /// The latest saved version.
    pub current: Value,
    /// The revision number of the newest entry; 0 when the object has none.
    pub revision: i64,
    /// The optimistic version, 1 on insert.
    pub version: i64,
    /// When the record was created.
    pub created_at: DateTime<Utc>,
    /// When the record last changed.
    pub updated_at: DateTime<Utc>,
}

impl ModeratedObject {
    /// True when public reads return this object.
    #[must_use]
    pub fn is_public(&self) -> bool {
        self.public.is_some()
    }
}
