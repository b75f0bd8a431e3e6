//! Gates (D2): the lowest trust level allowed to take each kind of action.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::action::ActionKind;
use super::refusal::Refusal;
use crate::actor::{Actor, TrustLevel};

/// The minimum trust level per action kind; kinds not listed are open to
/// everyone. Staff pass every gate.
///
/// Defaults follow Discourse: private messages, flags, polls and attachments
/// need TL1.
///
/// ```
/// use moderation_core::community::{ActionKind, Gates};
/// use moderation_core::{Actor, TrustLevel, UserId};
/// let gates = Gates::default();
/// let newcomer = Actor::user(UserId::from(1_i64)).with_trust_level(TrustLevel::Tl0);
/// let refusal = gates.check(&newcomer, ActionKind::PrivateMessage).unwrap_err();
/// assert_eq!(refusal.code, "gate");
/// assert!(gates.check(&newcomer, ActionKind::Reply).is_ok());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Gates {
    /// The minimum level per kind.
    pub minimum: BTreeMap<ActionKind, TrustLevel>,
}

impl Default for Gates {
    fn default() -> Self {
        Self {
            minimum: [
                (ActionKind::PrivateMessage, TrustLevel::Tl1),
                (ActionKind::Flag, TrustLevel::Tl1),
                (ActionKind::Poll, TrustLevel::Tl1),
                (ActionKind::Attachment, TrustLevel::Tl1),
            ]
            .into_iter()
            .collect(),
        }
    }
}

/// The words a member reads for an action kind.
pub(crate) fn describe(action: ActionKind) -> &'static str {
    match action {
        ActionKind::Topic => "start topics",
        ActionKind::Reply => "reply",
        ActionKind::Comment => "comment",
        ActionKind::Edit => "edit",
        ActionKind::PrivateMessage => "send private messages",
        ActionKind::Flag => "flag posts",
        ActionKind::Poll => "create polls",
        ActionKind::Link => "post links",
        ActionKind::Image => "post images",
        ActionKind::Attachment => "attach files",
    }
}

impl Gates {
    /// `Ok` when `actor` may take `action`; a member without a level counts as TL0.
    ///
    /// # Errors
    /// A [`Refusal`] with code `gate` saying which level is needed.
    pub fn check(&self, actor: &Actor, action: ActionKind) -> Result<(), Refusal> {
        if actor.is_staff() {
            return Ok(());
        }
        let Some(&needed) = self.minimum.get(&action) else {
            return Ok(());
        };
        let level = actor.trust_level.unwrap_or(TrustLevel::Tl0);
        if level >= needed {
            return Ok(());
        }
        Err(Refusal::new(
            "gate",
            format!(
                "You need trust level {} to {}; you are at level {}. Keep reading and taking part to earn it",
                u8::from(needed),
                describe(action),
                u8::from(level)
            ),
        )
        .with_detail(json!({ "action": action, "needed": needed, "level": level })))
    }
}
