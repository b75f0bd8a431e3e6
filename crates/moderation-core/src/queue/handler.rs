//! Extension points: what an action means for its subject, and who hears
//! about it afterwards.

use std::fmt;
use std::net::IpAddr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::actor::Actor;
use crate::error::{BoxError, ModerationError};
use crate::queue::item::{ReviewAction, ReviewItem};
use crate::queue::store::ReviewTransition;

/// Who acted, why and when: handed to handlers and observers with the item.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionContext {
    /// The moderator (or the account the stale job acts as).
    pub actor: Actor,
    /// The action taken.
    pub action: ReviewAction,
    /// The moderator's reason.
    pub reason: Option<String>,
    /// The message to the author.
    pub message: Option<String>,
    /// The moderator's IP address.
    pub ip: Option<IpAddr>,
    /// The bulk action this belongs to.
    pub bulk: Option<Uuid>,
    /// When.
    pub at: DateTime<Utc>,
}

/// Applies the domain effect of an action for one subject type: the object
/// workflow publishes an object when its change is approved; the comment
/// pipeline approves or removes the held item.
///
/// Register one per [`SubjectType`](crate::SubjectType) on the
/// [`ReviewQueue`](crate::ReviewQueue). A handler whose
/// [`decider`](SubjectHandler::decider) is `Some` commits each action with
/// its effect in one transaction, and the steps below do not apply to it.
/// Otherwise, the order of events for one action:
///
/// 1. the version-checked transition commits in the [`ReviewStore`](crate::ReviewStore):
///    it is the arbiter, so of two concurrent actions exactly one gets here;
/// 2. the handler runs with the item as it now stands;
/// 3. if the handler fails, the queue compensates: it moves the item back
///    to its previous status with a `revert` step in the history (nothing
///    is deleted) and returns the handler's error to the caller;
/// 4. otherwise observers run and the author is messaged.
///
/// A handler should therefore be idempotent for a given item and action,
/// and must not assume it can undo a half-applied effect by itself.
#[async_trait]
pub trait SubjectHandler: Send + Sync + fmt::Debug {
    /// Applies `context.action` to the subject of `item`.
    ///
    /// # Errors
    /// Any failure; the queue reverts the transition and returns it.
    async fn apply(
        &self,
        item: &ReviewItem,
        context: &ActionContext,
    ) -> Result<(), ModerationError>;

    /// This handler as the [`SubjectDecider`] of its subject type, when it
    /// can commit the queue's transitions together with their effect; the
    /// queue then never calls [`apply`](Self::apply). `None` by default.
    fn decider(&self) -> Option<&dyn SubjectDecider> {
        None
    }
}

/// Commits the queue's actions on items of one subject type together with
/// their effect on the subject, in one transaction: a crash can never
/// leave an item decided while its subject is not, or the reverse.
/// Offered by [`SubjectHandler::decider`].
#[async_trait]
pub trait SubjectDecider: Send + Sync + fmt::Debug {
    /// Commits `transitions` (one per item of `items`, as read before the
    /// action, in the same order) and what `context.action` does to their
    /// subjects, all or nothing. Returns the items as committed, in order.
    ///
    /// # Errors
    /// The transitions' refusals ([`ModerationError::ReviewConflict`],
    /// claims, statuses), the subject's own refusal, the store's failure;
    /// nothing is written then.
    async fn decide(
        &self,
        items: &[ReviewItem],
        transitions: Vec<ReviewTransition>,
        context: &ActionContext,
    ) -> Result<Vec<ReviewItem>, ModerationError>;
}

/// Hears about every committed action (after its handler succeeded), to lift
/// a freeze the item caused, update flaggers' accuracy, refresh a cache.
///
/// A failure is logged with `tracing` and never undoes the action.
#[async_trait]
pub trait ReviewObserver: Send + Sync + fmt::Debug {
    /// Called once per committed action.
    ///
    /// # Errors
    /// Any failure; it is logged and ignored.
    async fn after_action(
        &self,
        item: &ReviewItem,
        context: &ActionContext,
    ) -> Result<(), BoxError>;
}
