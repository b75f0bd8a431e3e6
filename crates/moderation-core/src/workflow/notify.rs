//! Notifications of the object workflow (C11): moderators hear of queued
//! changes, submitters of each decision about their change.
//!
//! Messages go through core's [`Notifier`] port, rendered from templates
//! shipped in `templates/workflow_*` and overridable at run time through
//! [`Templates::set`]. A failed delivery is retried per [`RetryPolicy`],
//! then logged; it never reaches the caller, so it cannot undo a decision.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

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
}

impl fmt::Debug for WorkflowNotifications {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WorkflowNotifications")
            .field("notifier", &self.notifier)
            .field("moderators", &self.moderators)
            .field("retry", &self.retry)
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
        let attempts = self.retry.attempts.max(1);
        let mut delay = self.retry.delay;
        for attempt in 1..=attempts {
            match self.notifier.notify(&notification).await {
                Ok(()) => return,
                Err(error) if attempt < attempts => {
                    tracing::warn!(%error, attempt, object = %entry.object, "notification failed; retrying");
                    tokio::time::sleep(delay).await;
                    delay = delay.saturating_mul(2);
                }
                Err(error) => {
                    tracing::error!(%error, attempts, object = %entry.object, "notification failed; giving up");
                }
            }
        }
    }
}
