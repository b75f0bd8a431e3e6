//! Notifications of the object workflow (C11): moderators hear of queued
//! changes, submitters of each decision about their change.
//!
//! Messages go through core's [`Notifier`] port, rendered from templates
//! shipped in `templates/workflow_*` and overridable at run time through
//! [`Templates::set`]. A failed delivery is retried per [`RetryPolicy`],
//! then logged; it never reaches the caller, so it cannot undo a decision.
//!
//! Once a delivery has failed all its tries, the backend is taken to be
//! down: for a cool-down ([`DEFAULT_RETRY_COOLDOWN`] unless set with
//! [`ObjectWorkflowBuilder::retry_cooldown`](super::ObjectWorkflowBuilder::retry_cooldown))
//! each later delivery is tried once, without waiting, so a dead backend
//! does not slow every decision by the retry delays. A delivery that
//! succeeds ends the cool-down early; once it is over, the next delivery
//! gets every try again.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use super::entry::{EntryStatus, ObjectEntry};
use super::record::ModeratedObject;
use crate::decision::{Reason, Verdict};
use crate::ids::{ItemId, UserId};
use crate::notify::{Notification, Notifier, Recipients, Templates};

/// Subject of the moderators' message about a queued change.
pub const QUEUED_SUBJECT: &str = "workflow_queued_subject.txt";
/// Body of the moderators' message about a queued change.
pub const QUEUED_BODY: &str = "workflow_queued_body.txt";
/// Subject of the submitter's message about a decision.
pub const DECISION_SUBJECT: &str = "workflow_decision_subject.txt";
/// Body of the submitter's message about a decision.
pub const DECISION_BODY: &str = "workflow_decision_body.txt";

/// The rule id on the [`Reason`] of workflow notifications.
pub const NOTIFICATION_RULE: &str = "object_workflow";

/// Adds the workflow's shipped templates to `templates`.
pub(crate) fn install_templates(templates: &Templates) {
    for (name, source) in [
        (
            QUEUED_SUBJECT,
            include_str!("../../templates/workflow_queued_subject.txt"),
        ),
        (
            QUEUED_BODY,
            include_str!("../../templates/workflow_queued_body.txt"),
        ),
        (
            DECISION_SUBJECT,
            include_str!("../../templates/workflow_decision_subject.txt"),
        ),
        (
            DECISION_BODY,
            include_str!("../../templates/workflow_decision_body.txt"),
        ),
    ] {
        // The shipped templates are checked by the crate's tests.
        if let Err(error) = templates.set(name, source) {
            tracing::error!(%error, name, "shipped workflow template does not parse");
        }
    }
}

/// How often a failed delivery is tried again, and how long to wait between tries.
///
/// After a delivery failed every try, later ones are tried once, without
/// waiting, for the cool-down set with
/// [`ObjectWorkflowBuilder::retry_cooldown`](super::ObjectWorkflowBuilder::retry_cooldown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries in all, at least 1.
    pub attempts: u32,
    /// Wait before the second try; doubled before each further one.
    pub delay: Duration,
}

impl Default for RetryPolicy {
    /// Three tries, 200 ms then 400 ms apart.
    fn default() -> Self {
        Self {
            attempts: 3,
            delay: Duration::from_millis(200),
        }
    }
}

/// How long deliveries are tried only once after one failed all its tries.
pub const DEFAULT_RETRY_COOLDOWN: Duration = Duration::from_secs(30);

/// Whether the message backend looks down, shared by every clone of the
/// workflow's notifications.
#[derive(Debug, Clone)]
pub(crate) struct Breaker {
    cooldown: Duration,
    /// When a delivery last gave up after all its tries; `None` once one
    /// succeeded. The lock is held for a read or a write only, never across
    /// an await.
    opened_at: Arc<Mutex<Option<Instant>>>,
}

impl Breaker {
    /// A closed breaker that stays open for `cooldown` after each trip.
    pub(crate) fn new(cooldown: Duration) -> Self {
        Self {
            cooldown,
            opened_at: Arc::new(Mutex::new(None)),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.opened_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether a delivery failed all its tries less than the cool-down ago.
    fn is_open(&self) -> bool {
        self.state()
            .is_some_and(|opened| opened.elapsed() < self.cooldown)
    }

    fn trip(&self) {
        *self.state() = Some(Instant::now());
    }

    fn close(&self) {
        *self.state() = None;
    }
}

/// Maps a submitter to the address their messages go to.
pub type AddressFn = dyn Fn(&UserId) -> Option<String> + Send + Sync;

/// Sends the workflow's messages.
#[derive(Clone)]
pub(crate) struct WorkflowNotifications {
    pub(crate) notifier: Arc<dyn Notifier>,
    pub(crate) templates: Arc<Templates>,
    pub(crate) moderators: Recipients,
    pub(crate) submitter_address: Arc<AddressFn>,
    pub(crate) retry: RetryPolicy,
    pub(crate) breaker: Breaker,
}

impl fmt::Debug for WorkflowNotifications {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowNotifications")
            .field("notifier", &self.notifier)
            .field("moderators", &self.moderators)
            .field("retry", &self.retry)
            .field("breaker", &self.breaker)
            .finish_non_exhaustive()
    }
}

impl WorkflowNotifications {
    /// Tells the moderators of `entry`'s kind that it waits for review.
    pub(crate) async fn queued(&self, entry: &ObjectEntry) {
        let recipients = self.moderators.for_kind(&entry.object.kind);
        if recipients.is_empty() {
            tracing::debug!(object = %entry.object, "no moderators to notify");
            return;
        }
        let context = json!({
            "kind": entry.object.kind,
            "object": entry.object.to_string(),
            "entry": entry.id,
            "revision": entry.revision,
            "submitted_by": entry.submitted_by,
            "submitted_at": entry.submitted_at.to_rfc3339(),
        });
        let reason = Reason::new(NOTIFICATION_RULE, "waiting for review");
        self.send(
            recipients,
            entry,
            Verdict::Hold,
            reason,
            (QUEUED_SUBJECT, QUEUED_BODY),
            &context,
        )
        .await;
    }

    /// Tells the submitter of `entry` what was decided, and why.
    pub(crate) async fn decided(&self, record: &ModeratedObject, entry: &ObjectEntry) {
        let Some(address) = entry
            .submitted_by
            .as_ref()
            .and_then(|user| (self.submitter_address)(user))
        else {
            return;
        };
        let verdict = match entry.status {
            EntryStatus::Approved => Verdict::Publish,
            EntryStatus::Rejected => Verdict::Reject,
            EntryStatus::Pending | EntryStatus::Superseded => Verdict::Hold,
        };
        let context = json!({
            "kind": entry.object.kind,
            "object": entry.object.to_string(),
            "entry": entry.id,
            "status": record.status,
            "decided_by": entry.decided_by,
            "reason": entry.reason,
        });
        let reason = Reason::new(
            NOTIFICATION_RULE,
            entry
                .reason
                .clone()
                .unwrap_or_else(|| record.status.to_string()),
        );
        self.send(
            vec![address],
            entry,
            verdict,
            reason,
            (DECISION_SUBJECT, DECISION_BODY),
            &context,
        )
        .await;
    }

    async fn send(
        &self,
        recipients: Vec<String>,
        entry: &ObjectEntry,
        verdict: Verdict,
        reason: Reason,
        (subject, body): (&str, &str),
        context: &serde_json::Value,
    ) {
        let rendered = self
            .templates
            .render(subject, context)
            .and_then(|subject| Ok((subject, self.templates.render(body, context)?)));
        let (subject, body) = match rendered {
            Ok(rendered) => rendered,
            Err(error) => {
                tracing::error!(%error, object = %entry.object, "workflow notification not rendered");
                return;
            }
        };
        let notification = Notification {
            recipients,
            kind: entry.object.kind.clone(),
            item: ItemId(entry.id.0),
            object: entry.object.clone(),
            verdict,
            reasons: vec![reason],
            subject: subject.trim().to_owned(),
            body,
        };
        // While the backend looks down, one try without waiting: retrying
        // would only delay the caller's decision.
        let open = self.breaker.is_open();
        let attempts = if open {
            tracing::warn!(object = %entry.object, "recent notifications failed; trying once without retries");
            1
        } else {
            self.retry.attempts.max(1)
        };
        let mut delay = self.retry.delay;
        for attempt in 1..=attempts {
            match self.notifier.notify(&notification).await {
                Ok(()) => {
                    self.breaker.close();
                    return;
                }
                Err(error) if attempt < attempts => {
                    tracing::warn!(%error, attempt, object = %entry.object, "notification failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                }
                Err(error) => {
                    tracing::error!(%error, attempts, object = %entry.object, "notification failed; giving up");
                    // A single try in the cool-down does not extend it, so
                    // the backend gets every try again once it is over.
                    if !open {
                        self.breaker.trip();
                    }
                }
            }
        }
    }
}
