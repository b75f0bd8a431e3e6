//! The `EventSink` port: what happened, delivered after the store commits.

use std::fmt;
use std::sync::{Mutex, PoisonError};

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::decision::Reason;
use crate::error::BoxError;
use crate::ids::{ItemId, UserId};
use crate::store::{ItemStatus, LogAction, StoredItem};
use crate::workflow::ObjectChange;

/// An event about a moderated item. Sent only after the store has committed
/// the change it describes; a discarded submission sends none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ModerationEvent {
    /// A submission was held and waits in the queue.
    Queued {
        /// The stored item.
        item: StoredItem,
    },
    /// A status was decided: by the pipeline (published, rejected) or by a
    /// moderator (approved, removed).
    Decided {
        /// The item after the change.
        item: StoredItem,
        /// What happened.
        action: LogAction,
        /// The status before (`None` for a new submission).
        from: Option<ItemStatus>,
        /// Who decided (`None` for the pipeline).
        by: Option<UserId>,
        /// Why.
        reasons: Vec<Reason>,
    },
    /// A create or an edit of a moderated object waits for a moderator
    /// (django-moderation's `queued`, C12).
    ObjectQueued {
        /// What was queued.
        change: ObjectChange,
    },
    /// A decision about a moderated object (django-moderation's
    /// `pre_moderation`): the state before, delivered after the commit and
    /// before [`ModerationEvent::PostModeration`], so no subscriber can
    /// hold up or undo the decision.
    PreModeration {
        /// The decision.
        change: ObjectChange,
    },
    /// A decision about a moderated object took effect
    /// (django-moderation's `post_moderation`).
    PostModeration {
        /// The decision.
        change: ObjectChange,
    },
    /// A user flagged an item (first flag of that user on that item only).
    Flagged {
        /// The item.
        item: ItemId,
        /// The flagger.
        by: UserId,
        /// Their reason.
        reason: Option<String>,
    },
}

/// Receives events (a message bus, a cache invalidator, a webhook).
///
/// A failure is logged by the caller; it cannot undo the committed change.
#[async_trait]
pub trait EventSink: Send + Sync + fmt::Debug {
    /// Delivers one event.
    ///
    /// # Errors
    /// Any delivery failure.
    async fn emit(&self, event: &ModerationEvent) -> Result<(), BoxError>;
}

/// A sink that drops every event; the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct NullEventSink;

#[async_trait]
impl EventSink for NullEventSink {
    async fn emit(&self, _event: &ModerationEvent) -> Result<(), BoxError> {
        Ok(())
    }
}

/// A sink that keeps every event, for tests.
#[derive(Debug, Default)]
pub struct RecordingEventSink {
    events: Mutex<Vec<ModerationEvent>>,
}

impl RecordingEventSink {
    /// An empty recorder.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Every event so far, in delivery order.
    #[must_use]
    pub fn events(&self) -> Vec<ModerationEvent> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl EventSink for RecordingEventSink {
    async fn emit(&self, event: &ModerationEvent) -> Result<(), BoxError> {
        self.events
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event.clone());
        Ok(())
    }
}
