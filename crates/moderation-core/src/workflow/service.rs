//! `ObjectWorkflow`: saves, decisions and reads of moderated objects.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tracing::Instrument;

use super::entry::{EntryId, ObjectEntry};
use super::event::ObjectChange;
use super::notify::{
    AddressFn, Breaker, DEFAULT_RETRY_COOLDOWN, RetryPolicy, WorkflowNotifications,
    install_templates,
};
use super::options::WorkflowOptions;
use super::record::ModeratedObject;
use super::record::ObjectStatus;
use super::review::{
    claim_refusal, closing_transitions, entry_effect, open_reviews, queued_review,
};
use super::reviewed::{ReviewWrites, ReviewedObjectStore, ReviewedWrite};
use super::store::{
    EntryPage, ObjectStore, ObjectWrite, PendingQuery, PublicObject, PublicRead, StoredWrite,
};
use super::transition::{self, Decided, ObjectAction, Planned, SaveOutcome, Submitted};
use crate::actor::Actor;
use crate::clock::{Clock, SystemClock};
use crate::error::ModerationError;
use crate::events::{EventSink, ModerationEvent, NullEventSink};
use crate::ids::{Kind, ObjectId, ObjectRef, UserId};
use crate::moderated::Moderated;
use crate::notify::{LogNotifier, Notifier, Recipients, Templates};
use crate::queue::{ActionContext, ClaimPolicy, ReviewItem, ReviewSubject, ReviewTransition};

/// How many entries a bulk action writes per transaction by default.
pub const DEFAULT_BULK_BATCH: usize = 1_000;

/// How often an edit is replanned when another save changed the record
/// between its read and its write.
const EDIT_ATTEMPTS: usize = 3;

/// What became of a save.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    /// What happened.
    pub outcome: SaveOutcome,
    /// The record as stored; for [`SaveOutcome::NotModerated`], the record
    /// the object behaves as (approved and public), which is not stored.
    pub record: ModeratedObject,
    /// The entry opened or updated; `None` when no entry was written.
    pub entry: Option<ObjectEntry>,
}

/// What a moderator's action changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionTaken {
    /// The record after the action.
    pub record: ModeratedObject,
    /// The entry after the action (its `version` is the new one).
    pub entry: ObjectEntry,
}

/// An entry to act on and the version the moderator saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryVersion {
    /// The entry.
    pub id: EntryId,
    /// The version read with it.
    pub version: i64,
}

impl From<&ObjectEntry> for EntryVersion {
    fn from(entry: &ObjectEntry) -> Self {
        Self {
            id: entry.id,
            version: entry.version,
        }
    }
}

/// Builds an [`ObjectWorkflow`].
pub struct ObjectWorkflowBuilder {
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
    events: Arc<dyn EventSink>,
    notifier: Arc<dyn Notifier>,
    moderators: Recipients,
    submitter_address: Arc<AddressFn>,
    retry: RetryPolicy,
    retry_cooldown: Duration,
    bulk_batch: usize,
    reviews: Option<Arc<dyn ReviewedObjectStore>>,
    claims: ClaimPolicy,
}

impl fmt::Debug for ObjectWorkflowBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectWorkflowBuilder")
            .field("store", &self.store)
            .field("moderators", &self.moderators)
            .field("bulk_batch", &self.bulk_batch)
            .finish_non_exhaustive()
    }
}

impl ObjectWorkflowBuilder {
    /// Where "now" comes from (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Who receives events (default: nobody).
    #[must_use]
    pub fn events(mut self, events: Arc<dyn EventSink>) -> Self {
        self.events = events;
        self
    }

    /// The message backend (default: [`LogNotifier`], a tracing event).
    #[must_use]
    pub fn notifier(mut self, notifier: Arc<dyn Notifier>) -> Self {
        self.notifier = notifier;
        self
    }

    /// Who hears of queued changes (default: nobody).
    #[must_use]
    pub fn moderators(mut self, moderators: Recipients) -> Self {
        self.moderators = moderators;
        self
    }

    /// The address of a submitter (default: the user id as given; return
    /// `None` to send nothing).
    #[must_use]
    pub fn submitter_address(
        mut self,
        address: impl Fn(&crate::ids::UserId) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.submitter_address = Arc::new(address);
        self
    }

    /// How failed deliveries are retried.
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// How long, after a delivery failed every try of the [`RetryPolicy`],
    /// later deliveries are tried only once and without waiting (default
    /// [`DEFAULT_RETRY_COOLDOWN`]), so a message backend that is down does
    /// not hold up each decision by the retry delays. A delivery that
    /// succeeds ends the cool-down early; `Duration::ZERO` retries every
    /// delivery in full.
    #[must_use]
    pub fn retry_cooldown(mut self, cooldown: Duration) -> Self {
        self.retry_cooldown = cooldown;
        self
    }

    /// Entries per transaction in bulk actions (at least 1).
    #[must_use]
    pub fn bulk_batch(mut self, size: usize) -> Self {
        self.bulk_batch = size.max(1);
        self
    }

    /// Queues every pending create or edit for review in `store`, which
    /// keeps the objects too: it replaces the store the builder was given.
    /// A queued change is stored with its review item
    /// ([`crate::ReviewSubject::ObjectChange`]) in one transaction, and a
    /// decision taken on the workflow directly ([`ObjectWorkflow::approve`],
    /// [`ObjectWorkflow::reject`], [`ObjectWorkflow::bulk`]) closes that
    /// item in the transaction of the decision. Register
    /// [`super::ObjectChangeHandler`] on a [`ReviewQueue`](crate::ReviewQueue)
    /// over the same store, so the queue's decisions change the object in
    /// the transaction of the review item's.
    #[must_use]
    pub fn review_store(mut self, store: Arc<dyn ReviewedObjectStore>) -> Self {
        self.store = store.clone();
        self.reviews = Some(store);
        self
    }

    /// How a decision taken on the workflow directly
    /// ([`ObjectWorkflow::approve`], [`ObjectWorkflow::reject`],
    /// [`ObjectWorkflow::bulk`]) respects the claims on its change's open
    /// review item, as the queue's own actions do (default
    /// [`ClaimPolicy::Optional`], the queue's default): under `Optional` it
    /// is refused with [`ModerationError::Claimed`] while another moderator
    /// holds a live claim, under `Required` also with
    /// [`ModerationError::ClaimRequired`] unless the deciding moderator
    /// holds one; `Off` ignores claims. Give it the policy the queue uses.
    ///
    /// Claims exist only with a [`Self::review_store`]. The check reads the
    /// items in the lookup that closing them needs anyway; a decision taken
    /// through the queue is checked by the queue, once.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moderation_core::workflow::{MemoryObjectStore, ObjectWorkflow};
    /// use moderation_core::ClaimPolicy;
    /// let store = Arc::new(MemoryObjectStore::new());
    /// let workflow = ObjectWorkflow::builder(store.clone())
    ///     .review_store(store)
    ///     .claims(ClaimPolicy::Required)
    ///     .build();
    /// # let _ = workflow;
    /// ```
    #[must_use]
    pub fn claims(mut self, claims: ClaimPolicy) -> Self {
        self.claims = claims;
        self
    }

    /// The workflow, with no kind registered yet.
    #[must_use]
    pub fn build(self) -> ObjectWorkflow {
        let templates = Arc::new(Templates::new());
        install_templates(&templates);
        ObjectWorkflow {
            store: self.store,
            clock: self.clock,
            events: self.events,
            notifications: WorkflowNotifications {
                notifier: self.notifier,
                templates,
                moderators: self.moderators,
                submitter_address: self.submitter_address,
                retry: self.retry,
                breaker: Breaker::new(self.retry_cooldown),
            },
            kinds: RwLock::new(HashMap::new()),
            bulk_batch: self.bulk_batch,
            reviews: self.reviews,
            claims: self.claims,
        }
    }
}

/// The object moderation workflow (django-moderation): new objects and
/// edits wait for a moderator while the public keeps the approved version.
///
/// Register each kind with its own [`WorkflowOptions`], save objects through
/// [`ObjectWorkflow::create`] and [`ObjectWorkflow::edit`], decide with
/// [`ObjectWorkflow::approve`], [`ObjectWorkflow::reject`],
/// [`ObjectWorkflow::set_pending`] or [`ObjectWorkflow::bulk`], and read
/// what the public may see with [`ObjectWorkflow::public_version`] and
/// [`ObjectWorkflow::filter_public`].
///
/// Every change is one [`ObjectStore::apply`] call (one
/// [`ReviewedObjectStore::apply_reviewed`] call with its review item, under
/// [`ObjectWorkflowBuilder::review_store`]); events and notifications
/// follow only after it committed.
///
/// ```
/// use std::sync::Arc;
/// use moderation_core::workflow::{
///     MemoryObjectStore, ObjectWorkflow, PublicRead, SaveOutcome, WorkflowOptions,
/// };
/// use moderation_core::{Actor, Moderated, ObjectId, UserId};
///
/// #[derive(serde::Serialize)]
/// struct Profile { id: i64, bio: String }
/// impl Moderated for Profile {
///     const KIND: &'static str = "profile";
///     fn object_id(&self) -> ObjectId { ObjectId::from(self.id) }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let workflow = ObjectWorkflow::builder(Arc::new(MemoryObjectStore::new())).build();
/// workflow.register_type::<Profile>(WorkflowOptions::new())?;
///
/// let alice = Actor::user(UserId::from(7_i64));
/// let saved = workflow.create(&alice, &Profile { id: 1, bio: "Hi".into() }).await?;
/// assert_eq!(saved.outcome, SaveOutcome::Queued);
/// assert_eq!(workflow.public_version(&saved.record.object).await?, PublicRead::Hidden);
///
/// let moderator = Actor::user(UserId::from(1_i64)).with_staff(true);
/// let entry = saved.entry.as_ref().ok_or(moderation_core::ModerationError::Config("no entry".into()))?;
/// workflow.approve(&moderator, entry.into(), Some("welcome")).await?;
/// assert!(matches!(workflow.public_version(&saved.record.object).await?, PublicRead::Public(_)));
/// # Ok::<(), moderation_core::ModerationError>(())
/// # }).unwrap();
/// ```
pub struct ObjectWorkflow {
    store: Arc<dyn ObjectStore>,
    clock: Arc<dyn Clock>,
    events: Arc<dyn EventSink>,
    notifications: WorkflowNotifications,
    kinds: RwLock<HashMap<Kind, Arc<WorkflowOptions>>>,
    bulk_batch: usize,
    reviews: Option<Arc<dyn ReviewedObjectStore>>,
    claims: ClaimPolicy,
}

impl fmt::Debug for ObjectWorkflow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectWorkflow")
            .field("store", &self.store)
            .field("notifications", &self.notifications)
            .field("bulk_batch", &self.bulk_batch)
            .finish_non_exhaustive()
    }
}

impl ObjectWorkflow {
    /// A builder over `store`.
    #[must_use]
    pub fn builder(store: Arc<dyn ObjectStore>) -> ObjectWorkflowBuilder {
        ObjectWorkflowBuilder {
            store,
            clock: Arc::new(SystemClock),
            events: Arc::new(NullEventSink),
            notifier: Arc::new(LogNotifier),
            moderators: Recipients::Nobody,
            submitter_address: Arc::new(|user| Some(user.as_str().to_owned())),
            retry: RetryPolicy::default(),
            retry_cooldown: DEFAULT_RETRY_COOLDOWN,
            bulk_batch: DEFAULT_BULK_BATCH,
            reviews: None,
            claims: ClaimPolicy::default(),
        }
    }

    /// True when the workflow keeps its review queue in its own store
    /// ([`ObjectWorkflowBuilder::review_store`]).
    #[must_use]
    pub fn keeps_reviews(&self) -> bool {
        self.reviews.is_some()
    }

    /// The notification templates; [`Templates::set`] overrides one at run
    /// time (names in [`super::notify`]'s constants).
    #[must_use]
    pub fn templates(&self) -> &Templates {
        &self.notifications.templates
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Puts `kind` under moderation with `options`, which belong to this
    /// kind alone.
    ///
    /// # Errors
    /// [`ModerationError::AlreadyModerated`] when `kind` is registered.
    pub fn register(&self, kind: Kind, options: WorkflowOptions) -> Result<(), ModerationError> {
        let mut kinds = self.kinds.write().unwrap_or_else(PoisonError::into_inner);
        if kinds.contains_key(&kind) {
            return Err(ModerationError::AlreadyModerated { kind });
        }
        kinds.insert(kind, Arc::new(options));
        Ok(())
    }

    /// [`ObjectWorkflow::register`] for a [`Moderated`] type's kind.
    ///
    /// # Errors
    /// [`ModerationError::InvalidKind`] for a malformed `T::KIND`,
    /// [`ModerationError::AlreadyModerated`] when it is registered.
    pub fn register_type<T: Moderated>(
        &self,
        options: WorkflowOptions,
    ) -> Result<(), ModerationError> {
        self.register(Kind::new(T::KIND)?, options)
    }

    /// Takes `kind` out of moderation, as django-moderation's
    /// `registry.unregister` does: later saves of its objects are
    /// [`SaveOutcome::NotModerated`] and write nothing. What the store holds
    /// (records, pending entries, review items) stays, and public reads of
    /// those objects keep answering from their records, until the kind is
    /// registered again.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moderation_core::workflow::{MemoryObjectStore, ObjectWorkflow, WorkflowOptions};
    /// use moderation_core::{Kind, ModerationError};
    /// let workflow = ObjectWorkflow::builder(Arc::new(MemoryObjectStore::new())).build();
    /// let profile = Kind::new("profile")?;
    /// workflow.register(profile.clone(), WorkflowOptions::new())?;
    /// workflow.unregister(&profile)?;
    /// assert!(matches!(workflow.unregister(&profile), Err(ModerationError::NotModerated { .. })));
    /// # Ok::<(), ModerationError>(())
    /// ```
    ///
    /// # Errors
    /// [`ModerationError::NotModerated`] when `kind` is not registered.
    pub fn unregister(&self, kind: &Kind) -> Result<(), ModerationError> {
        let mut kinds = self.kinds.write().unwrap_or_else(PoisonError::into_inner);
        kinds
            .remove(kind)
            .map(|_| ())
            .ok_or_else(|| ModerationError::NotModerated { kind: kind.clone() })
    }

    /// The options of `kind`.
    ///
    /// # Errors
    /// [`ModerationError::NotModerated`] when `kind` is not registered.
    pub fn options(&self, kind: &Kind) -> Result<Arc<WorkflowOptions>, ModerationError> {
        self.registered(kind)
            .ok_or_else(|| ModerationError::NotModerated { kind: kind.clone() })
    }

    /// The options of `kind` when it is registered.
    fn registered(&self, kind: &Kind) -> Option<Arc<WorkflowOptions>> {
        self.kinds
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(kind)
            .cloned()
    }

    /// Saves a new object: held for review, or decided by an auto rule. An
    /// object of a kind that is not registered is left alone and public
    /// ([`SaveOutcome::NotModerated`]).
    ///
    /// # Errors
    /// [`ModerationError::ObjectConflict`] when the object already has a
    /// record, [`ModerationError::Serde`] when it does not serialise.
    pub async fn create<T: Moderated>(
        &self,
        actor: &Actor,
        object: &T,
    ) -> Result<Saved, ModerationError> {
        let (object_ref, snapshot) = snapshot(object)?;
        self.create_value(actor, object_ref, snapshot).await
    }

    /// [`ObjectWorkflow::create`] for an object already in its JSON form.
    ///
    /// # Errors
    /// As [`ObjectWorkflow::create`].
    pub async fn create_value(
        &self,
        actor: &Actor,
        object: ObjectRef,
        snapshot: Value,
    ) -> Result<Saved, ModerationError> {
        let span = tracing::info_span!("object_workflow.create", object = %object);
        async {
            let now = self.clock.now();
            let Some(options) = self.registered(&object.kind) else {
                return Ok(not_moderated(object, snapshot, now));
            };
            let record = transition::blank_record(object, None, now);
            let submitted = Submitted { actor, at: now };
            let planned = transition::save(&options, record, true, None, snapshot, &submitted);
            self.commit_save(planned).await
        }
        .instrument(span)
        .await
    }

    /// Saves an edit of an object that has a record. Unchanged saves write
    /// nothing; edits of unmoderated fields only apply at once; anything
    /// else is held, unless a rule or `bypass_moderation_after_approval`
    /// decides it. An unregistered kind is left alone, as in
    /// [`ObjectWorkflow::create`].
    ///
    /// # Errors
    /// [`ModerationError::UnknownObject`] when the object has no record
    /// (use [`ObjectWorkflow::edit_pre_existing`]), otherwise as
    /// [`ObjectWorkflow::create`].
    pub async fn edit<T: Moderated>(
        &self,
        actor: &Actor,
        object: &T,
    ) -> Result<Saved, ModerationError> {
        let (object_ref, snapshot) = snapshot(object)?;
        self.edit_value(actor, object_ref, None, snapshot).await
    }

    /// Edits an object that may predate moderation: without a record,
    /// `original` becomes its approved, public version first, so the
    /// public keeps seeing it while the edit waits (C1).
    ///
    /// # Errors
    /// As [`ObjectWorkflow::edit`], never `UnknownObject`.
    pub async fn edit_pre_existing<T: Moderated>(
        &self,
        actor: &Actor,
        original: &T,
        edited: &T,
    ) -> Result<Saved, ModerationError> {
        let (object_ref, snapshot) = snapshot(edited)?;
        let original = serde_json::to_value(original)?;
        self.edit_value(actor, object_ref, Some(original), snapshot)
            .await
    }

    /// [`ObjectWorkflow::edit`] for an object in its JSON form; `original`
    /// as in [`ObjectWorkflow::edit_pre_existing`].
    ///
    /// # Errors
    /// As [`ObjectWorkflow::edit`].
    pub async fn edit_value(
        &self,
        actor: &Actor,
        object: ObjectRef,
        original: Option<Value>,
        snapshot: Value,
    ) -> Result<Saved, ModerationError> {
        let span = tracing::info_span!("object_workflow.edit", object = %object);
        async {
            let Some(options) = self.registered(&object.kind) else {
                return Ok(not_moderated(object, snapshot, self.clock.now()));
            };
            let mut attempt = 0;
            loop {
                attempt += 1;
                let now = self.clock.now();
                let (record, latest, insert) = match self.store.object_with_latest(&object).await? {
                    Some((record, latest)) => (record, latest, false),
                    None => match original.clone() {
                        Some(original) => (
                            transition::blank_record(object.clone(), Some(original), now),
                            None,
                            true,
                        ),
                        None => return Err(ModerationError::UnknownObject { object }),
                    },
                };
                let submitted = Submitted { actor, at: now };
                let planned = transition::save(
                    &options,
                    record,
                    insert,
                    latest,
                    snapshot.clone(),
                    &submitted,
                );
                match self.commit_save(planned).await {
                    // Another save won the race; an edit does not depend on
                    // what the caller read, so plan it again on the new state.
                    Err(
                        ModerationError::ObjectConflict { .. } | ModerationError::Conflict { .. },
                    ) if attempt < EDIT_ATTEMPTS => {
                        tracing::debug!(attempt, "record changed during the edit; replanning");
                    }
                    other => return other,
                }
            }
        }
        .instrument(span)
        .await
    }

    /// Stores many objects as approved and public, bypassing moderation
    /// (bulk imports): no entries, no events, no notifications, one
    /// transaction.
    ///
    /// # Errors
    /// [`ModerationError::NotModerated`] for an unregistered kind,
    /// [`ModerationError::ObjectConflict`] when one already has a record
    /// (then none is stored).
    pub async fn import<T: Moderated>(
        &self,
        objects: &[T],
    ) -> Result<Vec<ModeratedObject>, ModerationError> {
        let span = tracing::info_span!("object_workflow.import", count = objects.len());
        async {
            let now = self.clock.now();
            let mut writes = Vec::with_capacity(objects.len());
            for object in objects {
                let (object_ref, snapshot) = snapshot(object)?;
                self.options(&object_ref.kind)?;
                writes.push(super::store::ObjectWrite {
                    record: transition::blank_record(object_ref, Some(snapshot), now),
                    insert: true,
                    entries: Vec::new(),
                    log: Vec::new(),
                });
            }
            let stored = self.store.apply(writes).await?;
            Ok(stored.into_iter().map(|stored| stored.record).collect())
        }
        .instrument(span)
        .await
    }

    /// Approves `entry`: its version becomes public. `reason` is stored and
    /// sent to the submitter.
    ///
    /// # Errors
    /// [`ModerationError::AnonymousActor`] for an anonymous moderator,
    /// [`ModerationError::UnknownEntry`], [`ModerationError::Conflict`] when
    /// the entry changed since `entry.version`,
    /// [`ModerationError::NotLatestEntry`] for an entry a newer edit replaced,
    /// [`ModerationError::Claimed`] or [`ModerationError::ClaimRequired`]
    /// when the change's review item is claimed against the moderator (see
    /// [`ObjectWorkflowBuilder::claims`]); nothing is written then.
    pub async fn approve(
        &self,
        moderator: &Actor,
        entry: EntryVersion,
        reason: Option<&str>,
    ) -> Result<ActionTaken, ModerationError> {
        self.act(moderator, ObjectAction::Approve, entry, reason)
            .await
    }

    /// Rejects `entry`: it is never published; under
    /// `visible_until_rejected` the last approved version comes back (or the
    /// object is hidden when it never had one).
    ///
    /// # Errors
    /// As [`ObjectWorkflow::approve`].
    pub async fn reject(
        &self,
        moderator: &Actor,
        entry: EntryVersion,
        reason: Option<&str>,
    ) -> Result<ActionTaken, ModerationError> {
        self.act(moderator, ObjectAction::Reject, entry, reason)
            .await
    }

    /// Puts the object of `entry` back under moderation: its status is
    /// pending again and later edits wait for review, also under
    /// `bypass_moderation_after_approval`. Nothing is published or hidden.
    ///
    /// # Errors
    /// As [`ObjectWorkflow::approve`].
    pub async fn set_pending(
        &self,
        moderator: &Actor,
        entry: EntryVersion,
        reason: Option<&str>,
    ) -> Result<ActionTaken, ModerationError> {
        self.act(moderator, ObjectAction::SetPending, entry, reason)
            .await
    }

    /// One action on one entry.
    async fn act(
        &self,
        moderator: &Actor,
        action: ObjectAction,
        entry: EntryVersion,
        reason: Option<&str>,
    ) -> Result<ActionTaken, ModerationError> {
        let span = tracing::info_span!("object_workflow.act", action = action.log_action(), entry = %entry.id);
        async {
            let mut taken = self.bulk(moderator, action, &[entry], reason).await?;
            taken
                .pop()
                .ok_or(ModerationError::UnknownEntry { entry: entry.id.0 })
        }
        .instrument(span)
        .await
    }

    /// Applies `action` to many entries: entries and records are read in
    /// one query each, and each batch (see
    /// [`ObjectWorkflowBuilder::bulk_batch`]) is written in one transaction,
    /// all of it or nothing. Events and notifications follow per entry.
    ///
    /// # Errors
    /// As [`ObjectWorkflow::approve`], for the first entry that fails; the
    /// batches before it stay committed.
    pub async fn bulk(
        &self,
        moderator: &Actor,
        action: ObjectAction,
        entries: &[EntryVersion],
        reason: Option<&str>,
    ) -> Result<Vec<ActionTaken>, ModerationError> {
        let span = tracing::info_span!(
            "object_workflow.bulk",
            action = action.log_action(),
            count = entries.len()
        );
        async {
            let Some(by) = moderator.user.clone() else {
                return Err(ModerationError::AnonymousActor {
                    action: action.log_action(),
                });
            };
            // One id ties the log entries of a bulk action together.
            let bulk = (entries.len() > 1).then(uuid::Uuid::new_v4);
            let mut taken = Vec::with_capacity(entries.len());
            for batch in entries.chunks(self.bulk_batch) {
                taken.extend(self.decide_batch(&by, action, batch, reason, bulk).await?);
            }
            Ok(taken)
        }
        .instrument(span)
        .await
    }

    /// One batch of [`ObjectWorkflow::bulk`]: entries and records read in
    /// one query, written in one transaction with the review items the
    /// decisions close. A review item that changed between its read and
    /// the write (claimed meanwhile, say) fails that transaction, and the
    /// batch is planned again from a fresh read, up to [`EDIT_ATTEMPTS`]
    /// times.
    async fn decide_batch(
        &self,
        by: &UserId,
        action: ObjectAction,
        batch: &[EntryVersion],
        reason: Option<&str>,
        bulk: Option<uuid::Uuid>,
    ) -> Result<Vec<ActionTaken>, ModerationError> {
        let mut attempt = 1;
        loop {
            let ids: Vec<EntryId> = batch.iter().map(|entry| entry.id).collect();
            let mut loaded: HashMap<EntryId, (ObjectEntry, ModeratedObject)> = self
                .store
                .decision_targets(&ids)
                .await?
                .into_iter()
                .map(|(entry, record)| (entry.id, (entry, record)))
                .collect();
            let decided = Decided {
                by: Some(by.clone()),
                reason: reason.map(str::to_owned),
                at: self.clock.now(),
                bulk,
            };
            let targets: Vec<&ObjectEntry> = batch
                .iter()
                .filter_map(|wanted| loaded.get(&wanted.id).map(|(entry, _)| entry))
                .collect();
            let open = self
                .claimed_reviews(&targets, action, by, decided.at)
                .await?;
            let transitions = closing_transitions(open, &targets, action, &decided);
            let mut planned = Vec::with_capacity(batch.len());
            for wanted in batch {
                let (entry, record) = loaded
                    .remove(&wanted.id)
                    .ok_or(ModerationError::UnknownEntry { entry: wanted.id.0 })?;
                let options = self.options(&record.object.kind)?;
                planned.push(transition::decide(
                    &options,
                    record,
                    entry,
                    wanted.version,
                    action,
                    &decided,
                )?);
            }
            let (writes, facts): (Vec<_>, Vec<_>) = planned
                .into_iter()
                .map(|plan| (plan.write, (plan.from, plan.public_before)))
                .unzip();
            let reviews = ReviewWrites {
                open: Vec::new(),
                transitions,
            };
            match self.commit(writes, reviews).await {
                Err(ModerationError::ReviewConflict { .. }) if attempt < EDIT_ATTEMPTS => {
                    attempt += 1;
                }
                stored => return Ok(self.announce_decisions(stored?.objects, facts).await),
            }
        }
    }

    /// Commits the review queue's decisions on object changes with what
    /// they do to the objects, in one transaction (see
    /// [`ObjectChangeHandler`](super::ObjectChangeHandler)): approve
    /// approves the entry of the item's revision, reject and delete reject
    /// it, restore and ignore change only the item. An entry already in the
    /// target state is left alone. Returns the items as committed.
    ///
    /// # Errors
    /// [`ModerationError::Config`] without a review store;
    /// [`ModerationError::UnknownObject`] for a revision that has no entry;
    /// [`ModerationError::NotLatestEntry`] for an entry a newer edit
    /// superseded; the transitions' refusals; the store's. Nothing is
    /// written then.
    pub(crate) async fn decide_reviewed(
        &self,
        items: &[ReviewItem],
        transitions: Vec<ReviewTransition>,
        context: &ActionContext,
    ) -> Result<Vec<ReviewItem>, ModerationError> {
        if self.reviews.is_none() {
            return Err(ModerationError::Config(
                "the object workflow has no review store: give it one with ObjectWorkflowBuilder::review_store".into(),
            ));
        }
        let decided = Decided {
            by: context.actor.user.clone(),
            reason: context.reason.clone(),
            at: context.at,
            bulk: context.bulk,
        };
        let mut writes = Vec::new();
        let mut facts = Vec::new();
        if let Some((action, target)) = entry_effect(context.action) {
            let mut ids = Vec::with_capacity(items.len());
            for item in items {
                let ReviewSubject::ObjectChange { object, revision } = &item.subject else {
                    continue;
                };
                let entry = self
                    .store
                    .revision(object, *revision)
                    .await?
                    .ok_or_else(|| ModerationError::UnknownObject {
                        object: object.clone(),
                    })?;
                if entry.status != target {
                    ids.push(entry.id);
                }
            }
            for (entry, record) in self.store.decision_targets(&ids).await? {
                let options = self.options(&record.object.kind)?;
                let version = entry.version;
                let plan = transition::decide(&options, record, entry, version, action, &decided)?;
                writes.push(plan.write);
                facts.push((plan.from, plan.public_before));
            }
        }
        let reviews = ReviewWrites {
            open: Vec::new(),
            transitions,
        };
        let written = self.commit(writes, reviews).await?;
        self.announce_decisions(written.objects, facts).await;
        Ok(written.transitioned)
    }

    /// Stores `writes`, with `reviews` in the same transaction when there
    /// is anything to write to the queue.
    async fn commit(
        &self,
        writes: Vec<ObjectWrite>,
        reviews: ReviewWrites,
    ) -> Result<ReviewedWrite, ModerationError> {
        match &self.reviews {
            Some(store) if !reviews.is_empty() => store.apply_reviewed(writes, reviews).await,
            _ => Ok(ReviewedWrite {
                objects: self.store.apply(writes).await?,
                opened: Vec::new(),
                transitioned: Vec::new(),
            }),
        }
    }

    /// Sends the events and notifications of committed decisions; `facts`
    /// are each write's status and public version before it.
    async fn announce_decisions(
        &self,
        stored: Vec<StoredWrite>,
        facts: Vec<(Option<ObjectStatus>, Option<Value>)>,
    ) -> Vec<ActionTaken> {
        let mut taken = Vec::with_capacity(stored.len());
        for (stored, (from, public_before)) in stored.into_iter().zip(facts) {
            let StoredWrite { record, entries } = stored;
            let Some(entry) = entries.into_iter().next() else {
                continue;
            };
            let change = ObjectChange::new(&record, &entry, from, public_before);
            self.emit(ModerationEvent::PreModeration {
                change: change.clone(),
            })
            .await;
            self.emit(ModerationEvent::PostModeration { change }).await;
            self.notifications.decided(&record, &entry).await;
            taken.push(ActionTaken { record, entry });
        }
        taken
    }

    /// Stores a planned save, then sends its events and notifications.
    async fn commit_save(&self, planned: Planned) -> Result<Saved, ModerationError> {
        let Planned {
            write,
            outcome,
            from,
            public_before,
            ..
        } = planned;
        if outcome == SaveOutcome::Unchanged {
            return Ok(Saved {
                outcome,
                record: write.record,
                entry: None,
            });
        }
        let open = match (&self.reviews, outcome) {
            (Some(_), SaveOutcome::Queued) => queued_review(&write, from.is_none()),
            _ => None,
        };
        let reviews = ReviewWrites {
            open: open.into_iter().collect(),
            transitions: Vec::new(),
        };
        let mut stored = self.commit(vec![write], reviews).await?.objects;
        let StoredWrite { record, entries } = stored
            .pop()
            .ok_or_else(|| ModerationError::store("the store returned no record for a write"))?;
        // The entry opened or updated is the last one written (a superseded
        // one comes first).
        let entry = entries.into_iter().last();
        if let Some(entry) = &entry {
            let change = ObjectChange::new(&record, entry, from, public_before);
            match outcome {
                SaveOutcome::Queued => {
                    self.emit(ModerationEvent::ObjectQueued { change }).await;
                    self.notifications.queued(entry).await;
                }
                SaveOutcome::AutoApproved | SaveOutcome::AutoRejected => {
                    self.emit(ModerationEvent::PreModeration {
                        change: change.clone(),
                    })
                    .await;
                    self.emit(ModerationEvent::PostModeration { change }).await;
                    self.notifications.decided(&record, entry).await;
                }
                SaveOutcome::Applied | SaveOutcome::Unchanged | SaveOutcome::NotModerated => {}
            }
        }
        Ok(Saved {
            outcome,
            record,
            entry,
        })
    }

    /// The open review items of the entries a batch is about to decide, as
    /// [`ObjectWorkflowBuilder::claims`] lets `by` decide them at `at`; empty
    /// without a review store. With claims off, a failed lookup is logged
    /// and the decision goes ahead (its items stay open); otherwise the
    /// claims cannot be checked and the decision is refused.
    ///
    /// # Errors
    /// [`ModerationError::Claimed`] or [`ModerationError::ClaimRequired`]
    /// for the first entry whose claim refuses `by`; the review store's
    /// error when the lookup fails and claims are on.
    async fn claimed_reviews(
        &self,
        entries: &[&ObjectEntry],
        action: ObjectAction,
        by: &UserId,
        at: DateTime<Utc>,
    ) -> Result<HashMap<String, ReviewItem>, ModerationError> {
        let Some(reviews) = &self.reviews else {
            return Ok(HashMap::new());
        };
        let open = match open_reviews(reviews.as_ref(), entries, action).await {
            Ok(open) => open,
            Err(error) if self.claims == ClaimPolicy::Off => {
                tracing::error!(%error, count = entries.len(), "review items not read; the decision goes ahead and they stay open");
                return Ok(HashMap::new());
            }
            Err(error) => return Err(error),
        };
        match claim_refusal(self.claims, &open, entries, by, at) {
            Some(refusal) => Err(refusal),
            None => Ok(open),
        }
    }

    async fn emit(&self, event: ModerationEvent) {
        if let Err(error) = self.events.emit(&event).await {
            tracing::error!(%error, "event subscriber failed; the change stands");
        }
    }

    /// What public reads see of `object`: one primary-key lookup.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    pub async fn public_version(&self, object: &ObjectRef) -> Result<PublicRead, ModerationError> {
        self.store.public_version(object).await
    }

    /// The ids among `ids` that public reads may show, in their order:
    /// filter an application's own list with one query.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    pub async fn filter_public(
        &self,
        kind: &Kind,
        ids: &[ObjectId],
    ) -> Result<Vec<ObjectId>, ModerationError> {
        let hidden = self.store.hidden_among(kind, ids).await?;
        Ok(ids
            .iter()
            .filter(|id| !hidden.contains(id))
            .cloned()
            .collect())
    }

    /// One page of public objects of `kind`, in key order after `after`.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    pub async fn public_page(
        &self,
        kind: &Kind,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> Result<Vec<PublicObject>, ModerationError> {
        self.store.public_page(kind, after, limit).await
    }

    /// The latest saved version, approved or not (the "unmoderated" read);
    /// `None` when the object has no record.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    pub async fn unmoderated(&self, object: &ObjectRef) -> Result<Option<Value>, ModerationError> {
        Ok(self
            .store
            .object(object)
            .await?
            .map(|record| record.current))
    }

    /// The record of `object`.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    pub async fn record(
        &self,
        object: &ObjectRef,
    ) -> Result<Option<ModeratedObject>, ModerationError> {
        self.store.object(object).await
    }

    /// One entry.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    pub async fn entry(&self, id: EntryId) -> Result<Option<ObjectEntry>, ModerationError> {
        Ok(self.store.entries(&[id]).await?.pop())
    }

    /// Every entry of `object`: who submitted, who decided, when and why.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    pub async fn history(&self, object: &ObjectRef) -> Result<Vec<ObjectEntry>, ModerationError> {
        self.store.history(object).await
    }

    /// One keyset page of the pending list, oldest first.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    pub async fn pending(&self, query: &PendingQuery) -> Result<EntryPage, ModerationError> {
        self.store.pending(query).await
    }
}

/// The reference and JSON form of a moderated object.
fn snapshot<T: Moderated>(object: &T) -> Result<(ObjectRef, Value), ModerationError> {
    Ok((
        ObjectRef::new(Kind::new(T::KIND)?, object.object_id()),
        serde_json::to_value(object)?,
    ))
}

/// The outcome of saving an object whose kind the workflow does not
/// moderate: nothing is written, and the object behaves as approved and
/// public.
fn not_moderated(object: ObjectRef, snapshot: Value, at: DateTime<Utc>) -> Saved {
    tracing::debug!(%object, "kind not registered with the workflow; left public");
    Saved {
        outcome: SaveOutcome::NotModerated,
        record: transition::blank_record(object, Some(snapshot), at),
        entry: None,
    }
}
