//! `Moderation`: the one entry point that decides, stores, notifies and tells.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tracing::Instrument;

use crate::actor::Actor;
use crate::cleanup::{CleanupOptions, CleanupReport, cleanup};
use crate::clock::{Clock, SystemClock};
use crate::decision::{Decision, Reason, Verdict};
use crate::error::ModerationError;
use crate::events::{EventSink, ModerationEvent, NullEventSink};
use crate::facts::StoreFacts;
use crate::fingerprint::text_fingerprint;
use crate::ids::{ItemId, Kind};
use crate::notify::{
    BODY_TEMPLATE, LogNotifier, Notification, Notifier, Recipients, SUBJECT_TEMPLATE, Templates,
};
use crate::queue::{HeldItemStore, ReviewClose, submission_draft};
use crate::registry::{Registration, Registry};
use crate::rule::{RuleContext, Stage};
use crate::store::{
    DuplicateQuery, FlagOutcome, ItemStatus, LogAction, ModerationStore, NewItem, NewLogEntry,
    StatusChange, StoredItem,
};
use crate::submission::{ParentObject, Submission};

/// The default largest text, in bytes.
pub const DEFAULT_MAX_TEXT_LEN: usize = 64 * 1024;
/// The default duplicate window.
pub const DEFAULT_DUPLICATE_WINDOW_SECS: i64 = 10 * 60;

/// What became of a submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The decision, with its reasons. For a duplicate, the existing item's.
    pub decision: Decision,
    /// The stored item; `None` when discarded or when the kind is not moderated.
    pub item: Option<StoredItem>,
    /// True when an identical recent submission was found and returned.
    pub duplicate: bool,
}

impl Outcome {
    /// The verdict.
    #[must_use]
    pub fn verdict(&self) -> Verdict {
        self.decision.verdict
    }
}

/// Builds a [`Moderation`].
#[derive(Debug)]
pub struct ModerationBuilder {
    store: Arc<dyn ModerationStore>,
    clock: Arc<dyn Clock>,
    notifier: Arc<dyn Notifier>,
    events: Arc<dyn EventSink>,
    recipients: Recipients,
    templates: Templates,
    max_text_len: usize,
    duplicate_window: Duration,
    reviews: Option<Arc<dyn HeldItemStore>>,
}

impl ModerationBuilder {
    /// Queues every held submission for review in `store`, which keeps the
    /// items too: it replaces the store the builder was given. A held
    /// submission is stored with its review item
    /// ([`ReviewSubject::Submission`](crate::ReviewSubject), the decision's
    /// reasons) in one transaction, and [`Moderation::approve`] and
    /// [`Moderation::remove`] close that review item in the transaction of
    /// the decision. Pair it with a [`ReviewQueue`](crate::ReviewQueue) over
    /// the same store and a [`SubmissionHandler`](crate::SubmissionHandler),
    /// so decisions in the queue reach the held item the same way.
    #[must_use]
    pub fn review_store(mut self, store: Arc<dyn HeldItemStore>) -> Self {
        self.store = store.clone();
        self.reviews = Some(store);
        self
    }

    /// Sets the clock (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the notifier (default: [`LogNotifier`]).
    #[must_use]
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = notifier;
        self
    }

    /// Sets the event sink (default: [`NullEventSink`]).
    #[must_use]
    pub fn events(mut self, events: Arc<dyn EventSink>) -> Self {
        self.events = events;
        self
    }

    /// Sets who receives staff notifications (default: nobody).
    #[must_use]
    pub fn recipients(mut self, recipients: Recipients) -> Self {
        self.recipients = recipients;
        self
    }

    /// Sets the notification templates (default: the shipped ones).
    #[must_use]
    pub fn templates(mut self, templates: Templates) -> Self {
        self.templates = templates;
        self
    }

    /// Sets the largest accepted text in bytes (default [`DEFAULT_MAX_TEXT_LEN`]).
    #[must_use]
    pub fn max_text_len(mut self, bytes: usize) -> Self {
        self.max_text_len = bytes;
        self
    }

    /// Sets the duplicate window (default 10 minutes; zero turns the check off).
    #[must_use]
    pub fn duplicate_window(mut self, window: Duration) -> Self {
        self.duplicate_window = window;
        self
    }

    /// The service.
    #[must_use]
    pub fn build(self) -> Moderation {
        Moderation {
            registry: Registry::new(),
            store: self.store,
            clock: self.clock,
            notifier: self.notifier,
            events: self.events,
            recipients: self.recipients,
            templates: self.templates,
            max_text_len: self.max_text_len,
            duplicate_window: self.duplicate_window,
            reviews: self.reviews,
        }
    }
}

/// The moderation service: a registry, a store and the outbound ports.
///
/// See the crate documentation for a complete example.
#[derive(Debug)]
pub struct Moderation {
    registry: Registry,
    store: Arc<dyn ModerationStore>,
    clock: Arc<dyn Clock>,
    notifier: Arc<dyn Notifier>,
    events: Arc<dyn EventSink>,
    recipients: Recipients,
    templates: Templates,
    max_text_len: usize,
    duplicate_window: Duration,
    reviews: Option<Arc<dyn HeldItemStore>>,
}

impl Moderation {
    /// A builder over `store`.
    #[must_use]
    pub fn builder(store: Arc<dyn ModerationStore>) -> ModerationBuilder {
        ModerationBuilder {
            store,
            clock: Arc::new(SystemClock),
            notifier: Arc::new(LogNotifier),
            events: Arc::new(NullEventSink),
            recipients: Recipients::Nobody,
            templates: Templates::new(),
            max_text_len: DEFAULT_MAX_TEXT_LEN,
            duplicate_window: Duration::seconds(DEFAULT_DUPLICATE_WINDOW_SECS),
            reviews: None,
        }
    }

    /// The registry of moderated kinds.
    #[must_use]
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn ModerationStore> {
        &self.store
    }

    /// The notification templates, to override at run time.
    #[must_use]
    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// Moderates one submission: runs the kind's rules, stores the item and
    /// its log entry in one store call, then sends events and notifies staff.
    ///
    /// - An unregistered kind is published, unstored, with no notification.
    /// - A discard stores and sends nothing; the decision says why.
    /// - An identical submission (same author, parent and text) within the
    ///   duplicate window returns the existing item and sends nothing.
    ///
    /// # Errors
    /// [`ModerationError::TextTooLong`] over the text limit; a rule's typed
    /// error (such as [`ModerationError::FutureDate`]); the store's error.
    /// Notifier and event failures are logged, never returned.
    pub async fn submit(&self, submission: Submission) -> Result<Outcome, ModerationError> {
        let span = tracing::info_span!(
            "submit",
            object = %submission.object,
            verdict = tracing::field::Empty
        );
        self.submit_inner(submission).instrument(span).await
    }

    async fn submit_inner(&self, submission: Submission) -> Result<Outcome, ModerationError> {
        if submission.text.len() > self.max_text_len {
            return Err(ModerationError::TextTooLong {
                len: submission.text.len(),
                max: self.max_text_len,
            });
        }
        let Some(registration) = self.registry.get(submission.kind()) else {
            return Ok(Outcome {
                decision: Decision::publish(Reason::new(
                    "unmoderated",
                    "This kind is not moderated",
                )),
                item: None,
                duplicate: false,
            });
        };
        let now = self.clock.now();
        let fingerprint = text_fingerprint(&submission.text);
        if let Some(existing) = self.find_duplicate(&submission, &fingerprint, now).await? {
            tracing::Span::current().record("verdict", "duplicate");
            return Ok(Outcome {
                decision: Decision {
                    verdict: verdict_of(existing.status),
                    reasons: existing.reasons.clone(),
                },
                item: Some(existing),
                duplicate: true,
            });
        }
        let ctx = RuleContext {
            submission: &submission,
            facts: StoreFacts::new(self.store.as_ref()),
            now,
        };
        let decision = registration.pipeline().decide(&ctx).await?;
        tracing::Span::current().record("verdict", tracing::field::display(decision.verdict));
        let (Some(status), Some(action)) = (
            ItemStatus::for_verdict(decision.verdict),
            LogAction::for_verdict(decision.verdict),
        ) else {
            return Ok(Outcome {
                decision,
                item: None,
                duplicate: false,
            });
        };
        let author_id = submission.actor.user.clone();
        let log = NewLogEntry {
            action,
            actor: author_id,
            reason: decision.reasons.first().map(|reason| reason.text.clone()),
            detail: json!({ "reasons": decision.reasons }),
            ip: submission.request.ip,
            from_status: None,
            to_status: Some(status),
            bulk: None,
            at: now,
        };
        let item = NewItem {
            object: submission.object.clone(),
            parent: submission
                .parent
                .as_ref()
                .map(|parent| parent.object.clone()),
            author: submission.actor.author_key(),
            status,
            reasons: decision.reasons.clone(),
            payload: submission.payload.clone(),
            fingerprint: Some(fingerprint),
            ip: submission.request.ip,
            created_at: now,
        };
        let stored = match (&self.reviews, status) {
            (Some(reviews), ItemStatus::Held) => {
                let review = submission_draft(&decision.reasons);
                reviews.insert_held(item, log, review).await?.0
            }
            _ => self.store.insert_item(item, log).await?,
        };
        let event = if status == ItemStatus::Held {
            ModerationEvent::Queued {
                item: stored.clone(),
            }
        } else {
            ModerationEvent::Decided {
                item: stored.clone(),
                action,
                from: None,
                by: None,
                reasons: decision.reasons.clone(),
            }
        };
        self.emit(&event).await;
        if registration.options().email_notification {
            self.notify_staff(&submission, &stored, &decision).await;
        }
        Ok(Outcome {
            decision,
            item: Some(stored),
            duplicate: false,
        })
    }

    async fn find_duplicate(
        &self,
        submission: &Submission,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<StoredItem>, ModerationError> {
        if self.duplicate_window <= Duration::zero() {
            return Ok(None);
        }
        let Some(author) = submission.actor.author_key() else {
            return Ok(None);
        };
        let query = DuplicateQuery {
            kind: submission.kind().clone(),
            parent: submission.parent.as_ref().map(|p| p.object.clone()),
            author,
            fingerprint: fingerprint.to_owned(),
            since: now - self.duplicate_window,
        };
        self.store.find_duplicate(&query).await
    }

    async fn emit(&self, event: &ModerationEvent) {
        if let Err(error) = self.events.emit(event).await {
            tracing::warn!(%error, "event sink failed; the change stays committed");
        }
    }

    async fn notify_staff(&self, submission: &Submission, item: &StoredItem, decision: &Decision) {
        let recipients = self.recipients.for_kind(submission.kind());
        if recipients.is_empty() {
            tracing::debug!("no recipients configured for staff notifications");
            return;
        }
        let context = json!({
            "kind": submission.kind(),
            "object": submission.object.to_string(),
            "parent": submission.parent.as_ref().map(|p| p.object.to_string()),
            "item": item.id,
            "author": submission
                .actor
                .display_name
                .clone()
                .or_else(|| submission.actor.user.as_ref().map(ToString::to_string)),
            "verdict": decision.verdict,
            "reasons": decision.reasons,
            "ip": submission.request.ip.map(|ip| ip.to_string()),
            "text": submission.text,
        });
        let rendered = self
            .templates
            .render(SUBJECT_TEMPLATE, &context)
            .and_then(|subject| Ok((subject, self.templates.render(BODY_TEMPLATE, &context)?)));
        let (subject, body) = match rendered {
            Ok(parts) => parts,
            Err(error) => {
                tracing::error!(%error, "staff notification not sent");
                return;
            }
        };
        let notification = Notification {
            recipients,
            kind: submission.kind().clone(),
            item: item.id,
            object: submission.object.clone(),
            verdict: decision.verdict,
            reasons: decision.reasons.clone(),
            subject: subject.trim().to_owned(),
            body,
        };
        if let Err(error) = self.notifier.notify(&notification).await {
            tracing::warn!(%error, item = %item.id, "staff notification failed; the decision stands");
        }
    }

    /// True when a comment form should be shown for `parent` (B9): the kind
    /// is unregistered, or no discard-stage rule refuses.
    ///
    /// # Errors
    /// A rule's typed error, such as [`ModerationError::FutureDate`].
    pub async fn comments_open(
        &self,
        kind: &Kind,
        parent: &ParentObject,
    ) -> Result<bool, ModerationError> {
        let Some(registration) = self.registry.get(kind) else {
            return Ok(true);
        };
        let probe = probe(kind, parent);
        let ctx = RuleContext {
            submission: &probe,
            facts: StoreFacts::new(self.store.as_ref()),
            now: self.clock.now(),
        };
        Ok(registration
            .pipeline()
            .decide_stage(Stage::Discard, &ctx)
            .await?
            .is_none())
    }

    /// True when new comments on `parent` will be held (B9): always-moderate
    /// is on or `moderate_after` has passed. Unregistered kinds are not
    /// moderated. Author-dependent rules (first-timers) are not consulted.
    ///
    /// # Errors
    /// A typed date error, such as [`ModerationError::FutureDate`].
    pub fn comments_moderated(
        &self,
        kind: &Kind,
        parent: &ParentObject,
    ) -> Result<bool, ModerationError> {
        let Some(registration) = self.registry.get(kind) else {
            return Ok(false);
        };
        let options = registration.options();
        if options.always_moderate {
            return Ok(true);
        }
        if let (Some(field), Some(days)) = (&options.auto_moderate_field, options.moderate_after) {
            let elapsed = crate::rules::whole_days_elapsed(parent, field, self.clock.now())?;
            return Ok(elapsed.is_some_and(|elapsed| elapsed >= i64::from(days)));
        }
        Ok(false)
    }

    /// Flags an item (B10), once per user and item; a repeat writes nothing.
    ///
    /// # Errors
    /// [`ModerationError::AnonymousActor`] for an anonymous flagger;
    /// [`ModerationError::NotFound`]; the store's error.
    pub async fn flag(
        &self,
        item: ItemId,
        by: &Actor,
        reason: Option<String>,
    ) -> Result<FlagOutcome, ModerationError> {
        let span = tracing::info_span!("flag", %item);
        async {
            let Some(flagger) = by.user.clone() else {
                return Err(ModerationError::AnonymousActor { action: "flag" });
            };
            let log = NewLogEntry {
                action: LogAction::Flag,
                actor: Some(flagger.clone()),
                reason: reason.clone(),
                detail: serde_json::Value::Null,
                ip: None,
                from_status: None,
                to_status: None,
                bulk: None,
                at: self.clock.now(),
            };
            let outcome = self.store.add_flag(item, &flagger, log).await?;
            if outcome == FlagOutcome::Added {
                self.emit(&ModerationEvent::Flagged {
                    item,
                    by: flagger,
                    reason,
                })
                .await;
            }
            Ok(outcome)
        }
        .instrument(span)
        .await
    }

    /// Approves an item (B10): public, and un-removed if it was removed.
    ///
    /// # Errors
    /// [`ModerationError::Conflict`] when `expected_version` is stale;
    /// [`ModerationError::NotFound`]; [`ModerationError::AnonymousActor`].
    pub async fn approve(
        &self,
        item: ItemId,
        expected_version: i64,
        by: &Actor,
        reason: Option<String>,
    ) -> Result<StoredItem, ModerationError> {
        let span = tracing::info_span!("approve", %item);
        self.change(item, expected_version, by, reason, LogAction::Approve)
            .instrument(span)
            .await
    }

    /// Removes an item (B10): a soft delete, restorable by approving it.
    ///
    /// # Errors
    /// As [`Moderation::approve`].
    pub async fn remove(
        &self,
        item: ItemId,
        expected_version: i64,
        by: &Actor,
        reason: Option<String>,
    ) -> Result<StoredItem, ModerationError> {
        let span = tracing::info_span!("remove", %item);
        self.change(item, expected_version, by, reason, LogAction::Remove)
            .instrument(span)
            .await
    }

    async fn change(
        &self,
        item: ItemId,
        expected_version: i64,
        by: &Actor,
        reason: Option<String>,
        action: LogAction,
    ) -> Result<StoredItem, ModerationError> {
        let Some(moderator) = by.user.clone() else {
            return Err(ModerationError::AnonymousActor {
                action: action.as_str(),
            });
        };
        let current = self
            .store
            .item(item)
            .await?
            .ok_or(ModerationError::NotFound { item })?;
        let status = if action == LogAction::Remove {
            ItemStatus::Removed
        } else {
            ItemStatus::Public
        };
        let change = StatusChange {
            item,
            expected_version,
            status,
            log: NewLogEntry {
                action,
                actor: Some(moderator.clone()),
                reason: reason.clone(),
                detail: serde_json::Value::Null,
                ip: None,
                from_status: Some(current.status),
                to_status: Some(status),
                bulk: None,
                at: self.clock.now(),
            },
        };
        let updated = match &self.reviews {
            Some(reviews) => {
                let close = ReviewClose::action_for(status).map(|action| ReviewClose {
                    action,
                    actor: Some(moderator.clone()),
                    reason: reason.clone(),
                    ip: None,
                    at: change.log.at,
                });
                reviews.change_status_closing(change, close).await?.0
            }
            None => self.store.change_status(change).await?,
        };
        let reasons = reason
            .map(|text| vec![Reason::new(action.as_str(), text)])
            .unwrap_or_default();
        self.emit(&ModerationEvent::Decided {
            item: updated.clone(),
            action,
            from: Some(current.status),
            by: Some(moderator),
            reasons,
        })
        .await;
        Ok(updated)
    }

    /// Deletes old non-public items (B11); see [`cleanup`].
    ///
    /// # Errors
    /// As [`cleanup`].
    pub async fn cleanup(&self, options: CleanupOptions) -> Result<CleanupReport, ModerationError> {
        cleanup(self.store.as_ref(), self.clock.now(), options).await
    }

    /// Registers several kinds atomically; see [`Registry::register_all`].
    ///
    /// # Errors
    /// As [`Registry::register_all`].
    pub fn register_all(&self, registrations: Vec<Registration>) -> Result<(), ModerationError> {
        self.registry.register_all(registrations)
    }
}

fn verdict_of(status: ItemStatus) -> Verdict {
    match status {
        ItemStatus::Public => Verdict::Publish,
        ItemStatus::Held => Verdict::Hold,
        ItemStatus::Rejected | ItemStatus::Removed => Verdict::Reject,
    }
}

/// A submission with no author and no text, to ask the discard rules about a
/// parent without a real comment (as Django's `comments_open` does).
fn probe(kind: &Kind, parent: &ParentObject) -> Submission {
    Submission {
        actor: Actor::anonymous(),
        object: crate::ids::ObjectRef::new(kind.clone(), 0_i64),
        payload: serde_json::Value::Null,
        text: String::new(),
        parent: Some(parent.clone()),
        request: crate::submission::RequestFacts::default(),
    }
}
