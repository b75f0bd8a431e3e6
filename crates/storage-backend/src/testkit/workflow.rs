//! Scenarios for moderation-core's [`ObjectStore`] port, through the
//! [`ObjectWorkflow`] built on it: the workflow's required behaviours, one scenario
//! per item, named `must_show_NN_...`. Each takes a fresh, empty store; run
//! them with [`store_scenarios!`](crate::store_scenarios) and
//! `port = dyn ObjectStore, memory = MemoryObjectStore::new()`.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use moderation_core::workflow::notify::NOTIFICATION_RULE;
use moderation_core::workflow::{
    APPROVED_GROUP, APPROVED_STAFF, APPROVED_SUPERUSER, AutoDecision, AutoRule, AutoVerdict,
    ChannelNotifier, EditorSource, EntryCursor, EntryId, EntryPage, EntryStatus, EntryVersion,
    EntryWrite, ModeratedObject, NewEntry, ObjectAction, ObjectChange, ObjectChangeHandler,
    ObjectEntry, ObjectState, ObjectStatus, ObjectStore, ObjectWorkflow, ObjectWrite, PendingQuery,
    PublicObject, PublicRead, REJECTED_ANONYMOUS, REJECTED_GROUP, RetryPolicy, ReviewedObjectStore,
    SaveOutcome, StoredWrite, WorkflowOptions,
};
use moderation_core::{
    Actor, AuthorKey, BoxError, EventSink, ItemId, Kind, ManualClock, ModLogFilter, Moderated,
    ModerationError, ModerationEvent, ModerationLog, NewModLogEntry, Notification, Notifier,
    ObjectId, ObjectRef, Reason, Recipients, RecordingEventSink, RecordingNotifier, UserId,
    Verdict,
};
use moderation_core::{
    ClaimPolicy, ReviewAction, ReviewEvent, ReviewFilter, ReviewId, ReviewItem, ReviewPageRequest,
    ReviewQueue, ReviewSort, ReviewStatus, ReviewStore, ReviewSubject, SubjectType,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc::error::TryRecvError;

use super::ScenarioResult;

/// A user profile under moderation; `views` is a counter the site updates
/// itself, so kinds that exclude it apply its edits at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The key.
    pub id: i64,
    /// The display name.
    pub name: String,
    /// Free text.
    pub bio: String,
    /// A page-view counter.
    pub views: i64,
}

impl Moderated for Profile {
    const KIND: &'static str = "profile";
    fn object_id(&self) -> ObjectId {
        ObjectId::from(self.id)
    }
}

/// A listing keyed by a slug: string ids work like integers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listing {
    /// The key.
    pub slug: String,
    /// The title.
    pub title: String,
    /// The price in cents.
    pub price: i64,
}

impl Moderated for Listing {
    const KIND: &'static str = "listing";
    fn object_id(&self) -> ObjectId {
        ObjectId::Str(self.slug.clone())
    }
}

/// Profile `id` with the given bio.
#[must_use]
pub fn profile(id: i64, bio: &str) -> Profile {
    Profile {
        id,
        name: format!("user {id}"),
        bio: bio.to_owned(),
        views: 0,
    }
}

/// The reference of profile `id`.
///
/// # Errors
/// Never in practice: the kind name is valid.
pub fn profile_ref(id: i64) -> Result<ObjectRef, ModerationError> {
    Ok(ObjectRef::new(Kind::new(Profile::KIND)?, id))
}

/// A fixed instant with a non-zero microsecond part.
#[must_use]
pub fn base_time() -> DateTime<Utc> {
    Utc.timestamp_opt(1_795_000_000, 654_321_000)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
}

/// A plain signed-in user.
#[must_use]
pub fn plain(id: i64) -> Actor {
    Actor::user(UserId::from(id))
}

/// A staff moderator.
#[must_use]
pub fn moderator(id: i64) -> Actor {
    Actor::user(UserId::from(id)).with_staff(true)
}

/// Where every moderator message goes in the scenarios.
pub const MODERATORS: &str = "moderators@example.org";

/// A workflow over a store, with its clock, events and notifications
/// recorded.
#[derive(Debug)]
pub struct Harness {
    /// The workflow.
    pub workflow: Arc<ObjectWorkflow>,
    /// Its clock, at [`base_time`].
    pub clock: Arc<ManualClock>,
    /// Every event.
    pub events: Arc<RecordingEventSink>,
    /// Every notification.
    pub notes: Arc<RecordingNotifier>,
}

impl Harness {
    /// A workflow with `profile` registered under `options`.
    ///
    /// # Errors
    /// Never in practice: the kind is registered once.
    pub fn new(
        store: Arc<dyn ObjectStore>,
        options: WorkflowOptions,
    ) -> Result<Self, ModerationError> {
        Self::with_notifier(store, options, None)
    }

    /// As [`Harness::new`], sending through `notifier` instead of the recorder.
    ///
    /// # Errors
    /// Never in practice: the kind is registered once.
    pub fn with_notifier(
        store: Arc<dyn ObjectStore>,
        options: WorkflowOptions,
        notifier: Option<Arc<dyn Notifier>>,
    ) -> Result<Self, ModerationError> {
        let clock = Arc::new(ManualClock::new(base_time()));
        let events = Arc::new(RecordingEventSink::new());
        let notes = Arc::new(RecordingNotifier::new());
        let workflow = ObjectWorkflow::builder(store)
            .clock(clock.clone())
            .events(events.clone())
            .notifier(notifier.unwrap_or_else(|| notes.clone()))
            .moderators(Recipients::Fixed(vec![MODERATORS.to_owned()]))
            .submitter_address(|user| Some(format!("user-{user}@example.org")))
            .retry(RetryPolicy {
                attempts: 2,
                delay: std::time::Duration::ZERO,
            })
            .build();
        workflow.register_type::<Profile>(options)?;
        Ok(Self {
            workflow: Arc::new(workflow),
            clock,
            events,
            notes,
        })
    }

    /// The public version of profile `id`, as a profile.
    ///
    /// # Errors
    /// A store error, or a public version that is not a profile.
    pub async fn public(&self, id: i64) -> Result<Option<Profile>, ModerationError> {
        match self.workflow.public_version(&profile_ref(id)?).await? {
            PublicRead::Public(version) => Ok(Some(serde_json::from_value(version)?)),
            PublicRead::Hidden | PublicRead::Unmoderated => Ok(None),
        }
    }

    /// Profile `id`'s record, which must exist.
    ///
    /// # Errors
    /// [`ModerationError::UnknownObject`] when it does not.
    pub async fn record(&self, id: i64) -> Result<ModeratedObject, ModerationError> {
        let object = profile_ref(id)?;
        self.workflow
            .record(&object)
            .await?
            .ok_or(ModerationError::UnknownObject { object })
    }

    /// Profile `id`'s newest entry, which must exist.
    ///
    /// # Errors
    /// [`ModerationError::UnknownObject`] when there is none.
    pub async fn latest(&self, id: i64) -> Result<ObjectEntry, ModerationError> {
        let object = profile_ref(id)?;
        self.workflow
            .history(&object)
            .await?
            .pop()
            .ok_or(ModerationError::UnknownObject { object })
    }

    /// Approves profile `id`'s newest entry as moderator `by`.
    ///
    /// # Errors
    /// As [`ObjectWorkflow::approve`].
    pub async fn approve(&self, id: i64, by: i64, reason: &str) -> Result<(), ModerationError> {
        let entry = self.latest(id).await?;
        self.workflow
            .approve(&moderator(by), (&entry).into(), Some(reason))
            .await?;
        Ok(())
    }

    /// Rejects profile `id`'s newest entry as moderator `by`.
    ///
    /// # Errors
    /// As [`ObjectWorkflow::reject`].
    pub async fn reject(&self, id: i64, by: i64, reason: &str) -> Result<(), ModerationError> {
        let entry = self.latest(id).await?;
        self.workflow
            .reject(&moderator(by), (&entry).into(), Some(reason))
            .await?;
        Ok(())
    }

    /// Notifications sent to `address`.
    #[must_use]
    pub fn sent_to(&self, address: &str) -> Vec<Notification> {
        self.notes
            .sent()
            .into_iter()
            .filter(|note| note.recipients.iter().any(|to| to == address))
            .collect()
    }
}

fn value<T: Serialize>(object: &T) -> Result<Value, ModerationError> {
    Ok(serde_json::to_value(object)?)
}

/// 1. A plain user creates an object: public reads miss it, the
///    unmoderated read finds it, exactly one pending entry whose snapshot
///    equals the object.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_01_plain_user_create_is_hidden_and_queued(
    store: Arc<dyn ObjectStore>,
) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    let alice = profile(1, "Hello");
    let saved = h.workflow.create(&plain(7), &alice).await?;
    assert_eq!(saved.outcome, SaveOutcome::Queued);
    let object = profile_ref(1)?;
    assert_eq!(
        h.workflow.public_version(&object).await?,
        PublicRead::Hidden
    );
    assert_eq!(h.public(1).await?, None);
    assert_eq!(h.workflow.unmoderated(&object).await?, Some(value(&alice)?));
    let history = h.workflow.history(&object).await?;
    assert_eq!(history.len(), 1);
    let entry = history
        .first()
        .cloned()
        .ok_or(ModerationError::UnknownObject { object })?;
    assert_eq!(entry.status, EntryStatus::Pending);
    assert_eq!(entry.snapshot, value(&alice)?);
    assert_eq!(entry.submitted_by, Some(UserId::from(7_i64)));
    assert_eq!(entry.submitted_at, base_time());
    let pending = h.workflow.pending(&PendingQuery::first(10)).await?;
    assert_eq!(pending.entries, vec![entry]);
    let record = h.record(1).await?;
    assert_eq!(
        (record.state, record.status),
        (ObjectState::Draft, ObjectStatus::Pending)
    );
    Ok(())
}

/// 2. Approve by M with reason R: public; ready; approved; by M; at now;
///    reason R.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_02_approve_publishes_with_who_when_why(
    store: Arc<dyn ObjectStore>,
) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    let alice = profile(1, "Hello");
    h.workflow.create(&plain(7), &alice).await?;
    h.clock.advance(Duration::minutes(5));
    h.approve(1, 99, "Looks fine").await?;
    let record = h.record(1).await?;
    assert_eq!(h.public(1).await?, Some(alice));
    assert_eq!(record.state, ObjectState::Ready);
    assert_eq!(record.status, ObjectStatus::Approved);
    assert_eq!(record.decided_by, Some(UserId::from(99_i64)));
    assert_eq!(record.decided_at, Some(base_time() + Duration::minutes(5)));
    assert_eq!(record.reason.as_deref(), Some("Looks fine"));
    let entry = h.latest(1).await?;
    assert_eq!(entry.status, EntryStatus::Approved);
    assert_eq!(entry.decided_by, Some(UserId::from(99_i64)));
    assert!(
        h.workflow
            .pending(&PendingQuery::first(10))
            .await?
            .entries
            .is_empty()
    );
    Ok(())
}

/// 3. Reject a never-approved object: still hidden, still draft.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_03_reject_new_object_keeps_it_hidden_draft(
    store: Arc<dyn ObjectStore>,
) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    h.workflow
        .create(&plain(7), &profile(1, "Buy pills"))
        .await?;
    h.reject(1, 99, "Spam").await?;
    let record = h.record(1).await?;
    assert_eq!(h.public(1).await?, None);
    assert_eq!(
        (record.state, record.status),
        (ObjectState::Draft, ObjectStatus::Rejected)
    );
    assert_eq!(record.reason.as_deref(), Some("Spam"));
    Ok(())
}

/// 4. Edit an approved object: public still old, the pending entry holds
///    the new version, still one entry.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_04_edit_keeps_public_old_and_one_entry(
    store: Arc<dyn ObjectStore>,
) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    let old = profile(1, "Hello");
    h.workflow.create(&plain(7), &old).await?;
    h.approve(1, 99, "ok").await?;
    let new = profile(1, "Hello, world");
    let saved = h.workflow.edit(&plain(7), &new).await?;
    assert_eq!(saved.outcome, SaveOutcome::Queued);
    assert_eq!(h.public(1).await?, Some(old));
    let history = h.workflow.history(&profile_ref(1)?).await?;
    assert_eq!(
        history.len(),
        1,
        "without keep_history the one entry is reused"
    );
    let entry = h.latest(1).await?;
    assert_eq!(entry.status, EntryStatus::Pending);
    assert_eq!(entry.snapshot, value(&new)?);
    let record = h.record(1).await?;
    assert_eq!(
        (record.state, record.status),
        (ObjectState::Ready, ObjectStatus::Pending)
    );
    Ok(())
}

/// 5. Approve the edit: the new version is public. Reject instead: the old
///    stays public; a second rejected edit still leaves the first approved
///    values.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_05_approve_or_reject_an_edit(store: Arc<dyn ObjectStore>) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    let first = profile(1, "first");
    h.workflow.create(&plain(7), &first).await?;
    h.approve(1, 99, "ok").await?;
    let second = profile(1, "second");
    h.workflow.edit(&plain(7), &second).await?;
    h.approve(1, 99, "ok").await?;
    assert_eq!(h.public(1).await?, Some(second.clone()));

    h.workflow.edit(&plain(7), &profile(1, "third")).await?;
    h.reject(1, 99, "no").await?;
    assert_eq!(h.public(1).await?, Some(second.clone()));
    h.workflow.edit(&plain(7), &profile(1, "fourth")).await?;
    h.reject(1, 99, "still no").await?;
    assert_eq!(h.public(1).await?, Some(second));
    assert_eq!(h.record(1).await?.status, ObjectStatus::Rejected);
    Ok(())
}

/// 6. Objects with no moderation record (pre-existing) are public; after
///    their first unapproved edit the public still sees the approved
///    (pre-existing) version.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_06_pre_existing_objects_stay_public(
    store: Arc<dyn ObjectStore>,
) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    let object = profile_ref(5)?;
    assert_eq!(
        h.workflow.public_version(&object).await?,
        PublicRead::Unmoderated
    );
    assert_eq!(
        h.workflow
            .filter_public(&object.kind, std::slice::from_ref(&object.id))
            .await?,
        vec![object.id.clone()]
    );
    let original = profile(5, "from before moderation");
    let edited = profile(5, "edited");
    assert!(matches!(
        h.workflow.edit(&plain(7), &edited).await,
        Err(ModerationError::UnknownObject { .. })
    ));
    let saved = h
        .workflow
        .edit_pre_existing(&plain(7), &original, &edited)
        .await?;
    assert_eq!(saved.outcome, SaveOutcome::Queued);
    assert_eq!(h.public(5).await?, Some(original));
    assert_eq!(h.latest(5).await?.snapshot, value(&edited)?);
    h.approve(5, 99, "ok").await?;
    assert_eq!(h.public(5).await?, Some(edited));
    Ok(())
}

/// 7. Bulk import bypass creates no entries and the objects are public.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_07_bulk_import_bypasses_moderation(
    store: Arc<dyn ObjectStore>,
) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    let profiles: Vec<Profile> = (1..=50).map(|id| profile(id, "imported")).collect();
    let records = h.workflow.import(&profiles).await?;
    assert_eq!(records.len(), 50);
    for record in &records {
        assert_eq!(
            (record.state, record.status),
            (ObjectState::Ready, ObjectStatus::Approved)
        );
        assert_eq!(record.revision, 0);
    }
    assert_eq!(h.public(17).await?, profiles.get(16).cloned());
    assert!(h.workflow.history(&profile_ref(17)?).await?.is_empty());
    assert!(
        h.workflow
            .pending(&PendingQuery::first(100))
            .await?
            .entries
            .is_empty()
    );
    assert!(h.events.events().is_empty() && h.notes.sent().is_empty());
    // An object imported twice is refused and nothing of the batch is stored.
    let again = vec![profile(51, "new"), profile(1, "again")];
    assert!(matches!(
        h.workflow.import(&again).await,
        Err(ModerationError::ObjectConflict { .. })
    ));
    assert_eq!(
        h.workflow.public_version(&profile_ref(51)?).await?,
        PublicRead::Unmoderated
    );
    Ok(())
}

#[derive(Debug)]
struct TrustedEditors;

impl AutoRule for TrustedEditors {
    fn stage(&self) -> AutoVerdict {
        AutoVerdict::Approve
    }
    fn check(&self, actor: &Actor, _object: &Value) -> Option<AutoDecision> {
        actor
            .in_group("trusted")
            .then(|| AutoDecision::approve("Approved: trusted editor"))
    }
}

/// 8. Rules: superuser, staff, allow group: auto-approved with the exact
///    reason texts; anonymous, deny group: auto-rejected; plain user:
///    pending; deny beats allow; a missing group name does not stop a later
///    one matching; a custom rule's reason replaces the default.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_08_auto_rules_and_their_reasons(
    store: Arc<dyn ObjectStore>,
) -> ScenarioResult {
    let options = WorkflowOptions::new()
        .auto_approve_groups(["no-such-group", "editors"])
        .auto_reject_groups(["banned"])
        .rule(TrustedEditors);
    let h = Harness::new(store, options)?;
    let cases: Vec<(Actor, SaveOutcome, Option<&str>)> = vec![
        (
            Actor::user(UserId::from(1_i64)).with_superuser(true),
            SaveOutcome::AutoApproved,
            Some(APPROVED_SUPERUSER),
        ),
        (
            moderator(2),
            SaveOutcome::AutoApproved,
            Some(APPROVED_STAFF),
        ),
        (
            plain(3).with_group("editors"),
            SaveOutcome::AutoApproved,
            Some(APPROVED_GROUP),
        ),
        (
            Actor::anonymous(),
            SaveOutcome::AutoRejected,
            Some(REJECTED_ANONYMOUS),
        ),
        (
            plain(5).with_group("banned"),
            SaveOutcome::AutoRejected,
            Some(REJECTED_GROUP),
        ),
        (plain(6), SaveOutcome::Queued, None),
        (
            moderator(7).with_group("editors").with_group("banned"),
            SaveOutcome::AutoRejected,
            Some(REJECTED_GROUP),
        ),
        (
            moderator(8).with_group("trusted"),
            SaveOutcome::AutoApproved,
            Some("Approved: trusted editor"),
        ),
    ];
    for (n, (actor, outcome, reason)) in (1_i64..).zip(cases) {
        let saved = h.workflow.create(&actor, &profile(n, "text")).await?;
        assert_eq!(saved.outcome, outcome, "case {n}");
        assert_eq!(saved.record.reason.as_deref(), reason, "case {n}");
        let public = h.public(n).await?.is_some();
        assert_eq!(public, outcome == SaveOutcome::AutoApproved, "case {n}");
        let entry = h.latest(n).await?;
        assert_eq!(entry.reason.as_deref(), reason, "case {n}");
    }
    assert_eq!(REJECTED_ANONYMOUS, "Auto-rejected: Anonymous User");
    Ok(())
}

/// 9. Saving the same pending edit twice does not publish it.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_09_saving_a_pending_edit_twice_never_publishes(
    store: Arc<dyn ObjectStore>,
) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    let old = profile(1, "approved");
    h.workflow.create(&plain(7), &old).await?;
    h.approve(1, 99, "ok").await?;
    let edit = profile(1, "pending");
    h.workflow.edit(&plain(7), &edit).await?;
    let again = h.workflow.edit(&plain(7), &edit).await?;
    assert_eq!(again.outcome, SaveOutcome::Unchanged);
    assert_eq!(h.public(1).await?, Some(old));
    assert_eq!(h.latest(1).await?.status, EntryStatus::Pending);
    Ok(())
}

/// 10. `visible_until_rejected`: new objects public at once; reject hides a
///     never-approved object and reverts an edit to the last approved
///     version.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_10_visible_until_rejected(store: Arc<dyn ObjectStore>) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new().visible_until_rejected(true))?;
    let first = profile(1, "visible at once");
    h.workflow.create(&plain(7), &first).await?;
    assert_eq!(h.public(1).await?, Some(first));
    h.reject(1, 99, "no").await?;
    assert_eq!(h.public(1).await?, None);
    assert_eq!(h.record(1).await?.state, ObjectState::Draft);

    let approved = profile(2, "approved");
    h.workflow.create(&plain(7), &approved).await?;
    h.approve(2, 99, "ok").await?;
    let edit = profile(2, "live edit");
    h.workflow.edit(&plain(7), &edit).await?;
    assert_eq!(h.public(2).await?, Some(edit));
    h.reject(2, 99, "revert").await?;
    assert_eq!(h.public(2).await?, Some(approved));
    Ok(())
}

/// One history entry as the moderator reads it: revision, status, bio of
/// the snapshot, submitter, when, decider, when, and why.
type HistoryLine = (
    i64,
    EntryStatus,
    Option<Value>,
    Option<UserId>,
    DateTime<Utc>,
    Option<UserId>,
    Option<DateTime<Utc>>,
    Option<String>,
);

/// `history` as [`HistoryLine`]s.
fn history_lines(history: &[ObjectEntry]) -> Vec<HistoryLine> {
    history
        .iter()
        .map(|e| {
            (
                e.revision,
                e.status,
                e.snapshot.get("bio").cloned(),
                e.submitted_by.clone(),
                e.submitted_at,
                e.decided_by.clone(),
                e.decided_at,
                e.reason.clone(),
            )
        })
        .collect()
}

/// 11. `keep_history`: each differing edit opens a new entry; history lists
///     them all (who submitted, who decided, why); public reads keep
///     working.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_11_keep_history(store: Arc<dyn ObjectStore>) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new().keep_history(true))?;
    let first = profile(1, "v1");
    let minute = |n: i64| base_time() + Duration::minutes(n);
    let user = |id: i64| Some(UserId::from(id));
    h.workflow.create(&plain(7), &first).await?;
    h.clock.advance(Duration::minutes(1));
    h.approve(1, 99, "first is fine").await?;
    h.clock.advance(Duration::minutes(1));
    h.workflow.edit(&plain(7), &profile(1, "v2")).await?;
    h.clock.advance(Duration::minutes(1));
    h.workflow.edit(&plain(8), &profile(1, "v3")).await?;
    // Not a differing edit: no new entry.
    h.workflow.edit(&plain(8), &profile(1, "v3")).await?;
    let history = h.workflow.history(&profile_ref(1)?).await?;
    assert_eq!(
        history_lines(&history),
        vec![
            (
                1,
                EntryStatus::Approved,
                Some(json!("v1")),
                user(7),
                minute(0),
                user(99),
                Some(minute(1)),
                Some("first is fine".to_owned())
            ),
            (
                2,
                EntryStatus::Superseded,
                Some(json!("v2")),
                user(7),
                minute(2),
                None,
                None,
                None
            ),
            (
                3,
                EntryStatus::Pending,
                Some(json!("v3")),
                user(8),
                minute(3),
                None,
                None,
                None
            ),
        ]
    );
    assert_eq!(h.public(1).await?, Some(first));
    let pending = h.workflow.pending(&PendingQuery::first(10)).await?;
    assert_eq!(
        pending.entries.len(),
        1,
        "a superseded entry leaves the queue"
    );
    let old = history
        .get(1)
        .cloned()
        .ok_or(ModerationError::UnknownEntry { entry: 0 })?;
    assert!(matches!(
        h.workflow
            .approve(&moderator(99), (&old).into(), None)
            .await,
        Err(ModerationError::NotLatestEntry { .. })
    ));
    h.clock.advance(Duration::minutes(1));
    h.approve(1, 98, "third is fine").await?;
    assert_eq!(h.public(1).await?, Some(profile(1, "v3")));
    // The decision is recorded on its own entry; the earlier ones keep
    // theirs.
    let decided = history_lines(&h.workflow.history(&profile_ref(1)?).await?);
    let mut expected = history_lines(&history);
    if let Some(last) = expected.last_mut() {
        last.1 = EntryStatus::Approved;
        last.5 = user(98);
        last.6 = Some(minute(4));
        last.7 = Some("third is fine".to_owned());
    }
    assert_eq!(decided, expected);
    Ok(())
}

/// 12. `bypass_moderation_after_approval`: after the first approval edits
///     are live, status stays approved; set-pending puts the object back
///     under moderation.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_12_bypass_after_approval(store: Arc<dyn ObjectStore>) -> ScenarioResult {
    let h = Harness::new(
        store,
        WorkflowOptions::new().bypass_moderation_after_approval(true),
    )?;
    h.workflow.create(&plain(7), &profile(1, "v1")).await?;
    assert_eq!(h.public(1).await?, None, "the first version still waits");
    h.approve(1, 99, "ok").await?;
    let live = profile(1, "v2 live");
    let saved = h.workflow.edit(&plain(7), &live).await?;
    assert_eq!(saved.outcome, SaveOutcome::AutoApproved);
    assert_eq!(h.public(1).await?, Some(live.clone()));
    assert_eq!(h.record(1).await?.status, ObjectStatus::Approved);

    let entry = h.latest(1).await?;
    let events_before = h.events.events().len();
    h.workflow
        .set_pending(&moderator(99), (&entry).into(), Some("recheck"))
        .await?;
    assert!(
        h.events.events().len() > events_before,
        "set-pending sends events"
    );
    assert_eq!(h.record(1).await?.status, ObjectStatus::Pending);
    let held = h.workflow.edit(&plain(7), &profile(1, "v3 held")).await?;
    assert_eq!(held.outcome, SaveOutcome::Queued);
    assert_eq!(h.public(1).await?, Some(live));
    Ok(())
}

/// 13. Field scope: an edit of excluded fields only is applied at once; a
///     mixed edit applies the excluded fields and holds the rest; one
///     model's whitelist never changes another model's.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_13_field_scope(store: Arc<dyn ObjectStore>) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new().exclude_fields(["views"]))?;
    h.workflow
        .register_type::<Listing>(WorkflowOptions::new().moderated_fields(["title"]))?;
    let mut p = profile(1, "bio");
    h.workflow.create(&plain(7), &p).await?;
    h.approve(1, 99, "ok").await?;

    p.views = 10;
    let saved = h.workflow.edit(&plain(7), &p).await?;
    assert_eq!(saved.outcome, SaveOutcome::Applied);
    assert_eq!(h.public(1).await?, Some(p.clone()));

    let mut mixed = p.clone();
    mixed.views = 11;
    mixed.bio = "new bio".to_owned();
    let saved = h.workflow.edit(&plain(7), &mixed).await?;
    assert_eq!(saved.outcome, SaveOutcome::Queued);
    let mut expected = p.clone();
    expected.views = 11;
    assert_eq!(h.public(1).await?, Some(expected), "views live, bio held");
    h.approve(1, 99, "ok").await?;
    assert_eq!(h.public(1).await?, Some(mixed));
    let diff = h.workflow.diff(&h.latest(1).await?).await?;
    assert!(
        diff.changes()
            .iter()
            .all(|c| c.path().segments() != ["views".to_owned()])
    );

    // The listing's whitelist: price is applied at once, title is held.
    let listing = Listing {
        slug: "red-bike".to_owned(),
        title: "Red bike".to_owned(),
        price: 100,
    };
    h.workflow.create(&moderator(2), &listing).await?;
    let cheaper = Listing {
        price: 90,
        ..listing.clone()
    };
    assert_eq!(
        h.workflow.edit(&plain(2), &cheaper).await?.outcome,
        SaveOutcome::Applied
    );
    let renamed = Listing {
        title: "Blue bike".to_owned(),
        ..cheaper.clone()
    };
    assert_eq!(
        h.workflow.edit(&plain(2), &renamed).await?.outcome,
        SaveOutcome::Queued
    );
    // The profile's scope is untouched by the listing's whitelist: a name
    // change (not in the listing's whitelist) is still moderated.
    let renamed_profile = Profile {
        name: "New name".to_owned(),
        ..h.public(1).await?.unwrap_or_else(|| profile(1, ""))
    };
    assert_eq!(
        h.workflow.edit(&plain(7), &renamed_profile).await?.outcome,
        SaveOutcome::Queued
    );
    Ok(())
}

/// Counts [`ObjectStore::apply`] calls (transactions) of the store it wraps.
#[derive(Debug)]
pub struct CountingStore {
    inner: Arc<dyn ObjectStore>,
    applies: AtomicUsize,
}

impl CountingStore {
    /// Wraps `inner`.
    #[must_use]
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        Self {
            inner,
            applies: AtomicUsize::new(0),
        }
    }

    /// `apply` calls so far.
    #[must_use]
    pub fn applies(&self) -> usize {
        self.applies.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl ObjectStore for CountingStore {
    async fn object(&self, object: &ObjectRef) -> Result<Option<ModeratedObject>, ModerationError> {
        self.inner.object(object).await
    }
    async fn objects(
        &self,
        objects: &[ObjectRef],
    ) -> Result<Vec<ModeratedObject>, ModerationError> {
        self.inner.objects(objects).await
    }
    async fn entries(&self, ids: &[EntryId]) -> Result<Vec<ObjectEntry>, ModerationError> {
        self.inner.entries(ids).await
    }
    async fn object_with_latest(
        &self,
        object: &ObjectRef,
    ) -> Result<Option<(ModeratedObject, Option<ObjectEntry>)>, ModerationError> {
        self.inner.object_with_latest(object).await
    }
    async fn revision(
        &self,
        object: &ObjectRef,
        revision: i64,
    ) -> Result<Option<ObjectEntry>, ModerationError> {
        self.inner.revision(object, revision).await
    }
    async fn history(&self, object: &ObjectRef) -> Result<Vec<ObjectEntry>, ModerationError> {
        self.inner.history(object).await
    }
    async fn pending(&self, query: &PendingQuery) -> Result<EntryPage, ModerationError> {
        self.inner.pending(query).await
    }
    async fn public_version(&self, object: &ObjectRef) -> Result<PublicRead, ModerationError> {
        self.inner.public_version(object).await
    }
    async fn hidden_among(
        &self,
        kind: &Kind,
        ids: &[ObjectId],
    ) -> Result<Vec<ObjectId>, ModerationError> {
        self.inner.hidden_among(kind, ids).await
    }
    async fn public_page(
        &self,
        kind: &Kind,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> Result<Vec<PublicObject>, ModerationError> {
        self.inner.public_page(kind, after, limit).await
    }
    async fn apply(&self, writes: Vec<ObjectWrite>) -> Result<Vec<StoredWrite>, ModerationError> {
        self.applies.fetch_add(1, Ordering::SeqCst);
        self.inner.apply(writes).await
    }
}

/// All pending entries, in pages of 300.
///
/// # Errors
/// A store error.
pub async fn all_pending(workflow: &ObjectWorkflow) -> Result<Vec<ObjectEntry>, ModerationError> {
    pending_in_pages(workflow, 300).await
}

/// All pending entries, oldest first, read `limit` at a time.
///
/// # Errors
/// A store error.
pub async fn pending_in_pages(
    workflow: &ObjectWorkflow,
    limit: usize,
) -> Result<Vec<ObjectEntry>, ModerationError> {
    let mut all = Vec::new();
    let mut after: Option<EntryCursor> = None;
    loop {
        let page = workflow
            .pending(&PendingQuery {
                kind: None,
                after,
                limit,
            })
            .await?;
        all.extend(page.entries);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(all),
        }
    }
}

/// 14. Bulk approve of 1 000 entries: one transaction per batch, 1 000
///     events, 1 000 moderation-log entries (under one bulk id) and 1 000
///     submitter notifications. `log` must be the moderation log `store`
///     writes to.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_14_bulk_approve_one_transaction_per_batch(
    store: Arc<dyn ObjectStore>,
    log: Arc<dyn ModerationLog>,
) -> ScenarioResult {
    let counting = Arc::new(CountingStore::new(store));
    let h = Harness::new(counting.clone(), WorkflowOptions::new())?;
    for id in 1..=1_000 {
        h.workflow.create(&plain(id), &profile(id, "bulk")).await?;
    }
    let pending = all_pending(&h.workflow).await?;
    assert_eq!(pending.len(), 1_000);
    let targets: Vec<EntryVersion> = pending.iter().map(EntryVersion::from).collect();
    let events_before = h.events.events().len();
    let notes_before = h.notes.sent().len();
    let applies_before = counting.applies();
    let taken = h
        .workflow
        .bulk(
            &moderator(99),
            ObjectAction::Approve,
            &targets,
            Some("bulk ok"),
        )
        .await?;
    assert_eq!(taken.len(), 1_000);
    assert_eq!(
        counting.applies() - applies_before,
        1,
        "one batch, one transaction"
    );
    let events = h.events.events();
    let post = events
        .iter()
        .skip(events_before)
        .filter(|event| matches!(event, ModerationEvent::PostModeration { .. }))
        .count();
    assert_eq!(post, 1_000);
    let notes = h.notes.sent();
    assert_eq!(notes.len() - notes_before, 1_000);
    assert!(
        notes
            .iter()
            .skip(notes_before)
            .all(|note| note.body.contains("bulk ok"))
    );
    assert_eq!(h.public(500).await?, Some(profile(500, "bulk")));
    assert!(all_pending(&h.workflow).await?.is_empty());
    let logged = super::review::all_log_entries(log.as_ref(), &ModLogFilter::default()).await?;
    assert_eq!(logged.len(), 1_000);
    assert!(logged.iter().all(|entry| entry.action == "object.approve"
        && entry.actor == Some(UserId::from(99_i64))
        && entry.reason.as_deref() == Some("bulk ok")
        && entry.before.as_deref() == Some("pending")
        && entry.after.as_deref() == Some("approved")));
    let bulk = logged.first().and_then(|entry| entry.bulk);
    assert!(bulk.is_some() && logged.iter().all(|entry| entry.bulk == bulk));
    Ok(())
}

/// 15. Two moderators approve and reject the same entry concurrently:
///     exactly one wins and its decision is stored; the other gets
///     `Conflict` naming the entry, the version it read and the stored one.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_15_concurrent_approve_and_reject_one_wins(
    store: Arc<dyn ObjectStore>,
) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    for round in 1..=10 {
        h.workflow
            .create(&plain(7), &profile(round, "race"))
            .await?;
        let entry = EntryVersion::from(&h.latest(round).await?);
        let approve = {
            let workflow = h.workflow.clone();
            tokio::spawn(async move { workflow.approve(&moderator(1), entry, Some("yes")).await })
        };
        let reject = {
            let workflow = h.workflow.clone();
            tokio::spawn(async move { workflow.reject(&moderator(2), entry, Some("no")).await })
        };
        let results = [
            (ObjectStatus::Approved, 1_i64, "yes", approve.await),
            (ObjectStatus::Rejected, 2, "no", reject.await),
        ];
        let mut winners = Vec::new();
        for (status, by, reason, result) in results {
            match result.map_err(ModerationError::store)? {
                Ok(taken) => winners.push((taken, status, by, reason)),
                Err(ModerationError::Conflict {
                    item,
                    expected,
                    actual,
                }) => {
                    assert_eq!(
                        (item, expected, actual),
                        (ItemId(entry.id.0), entry.version, entry.version + 1),
                        "round {round}: the loser read version {} of entry {}",
                        entry.version,
                        entry.id.0
                    );
                }
                Err(other) => return Err(other),
            }
        }
        let [(taken, status, by, reason)] = winners.as_slice() else {
            panic!("round {round}: exactly one moderator wins, not {winners:?}");
        };
        let record = h.record(round).await?;
        let latest = h.latest(round).await?;
        assert_eq!(
            latest.version,
            entry.version + 1,
            "one decision was written"
        );
        assert_eq!(&latest, &taken.entry);
        assert_eq!(
            (
                record.status,
                record.decided_by.clone(),
                record.reason.as_deref()
            ),
            (*status, Some(UserId::from(*by)), Some(*reason)),
            "round {round}: the record holds the winner's decision"
        );
        let public = h.public(round).await?;
        let expected = (*status == ObjectStatus::Approved).then(|| profile(round, "race"));
        assert_eq!(public, expected);
    }
    Ok(())
}

/// The profile before `website` was added and while it still had `nickname`.
#[derive(Debug, Serialize)]
struct ProfileV1 {
    id: i64,
    name: String,
    bio: String,
    nickname: String,
}

impl Moderated for ProfileV1 {
    const KIND: &'static str = "profile";
    fn object_id(&self) -> ObjectId {
        ObjectId::from(self.id)
    }
}

/// The profile after: `nickname` removed, `website` added with a default.
#[derive(Debug, Deserialize, PartialEq)]
struct ProfileV2 {
    id: i64,
    name: String,
    bio: String,
    #[serde(default)]
    views: i64,
    #[serde(default)]
    website: Option<String>,
}

/// One field of a diff as its JSON rendering (the stable schema the queue
/// shows) spells it.
#[derive(Debug, PartialEq, Deserialize)]
struct RenderedField {
    path: Vec<String>,
    kind: String,
    #[serde(default)]
    old: Option<Value>,
    #[serde(default)]
    new: Option<Value>,
}

/// A diff's JSON rendering.
#[derive(Debug, Deserialize)]
struct RenderedDiff {
    fields: Vec<RenderedField>,
}

/// A field the diff of a pending entry shows as `kind`.
fn rendered(path: &str, kind: &str, old: Option<Value>, new: Option<Value>) -> RenderedField {
    RenderedField {
        path: vec![path.to_owned()],
        kind: kind.to_owned(),
        old,
        new,
    }
}

/// What the queue renders of `entry`: the fields its diff against the
/// public version shows as added, removed or changed, by path (the key
/// order of a stored snapshot is the backend's), checked to render as HTML
/// and text as well.
async fn rendered_changes(
    workflow: &ObjectWorkflow,
    entry: &ObjectEntry,
) -> Result<Vec<RenderedField>, ModerationError> {
    let diff = workflow.diff(entry).await?;
    let html = diff.to_html();
    let text = diff.to_unified_text();
    let RenderedDiff { fields } = serde_json::from_str(&diff.to_json()?)?;
    let mut changed: Vec<RenderedField> = fields
        .into_iter()
        .filter(|field| field.kind != "unchanged")
        .collect();
    changed.sort_by(|a, b| a.path.cmp(&b.path));
    for field in &changed {
        let name = field.path.concat();
        assert!(
            html.contains(&name) && text.contains(&name),
            "{} renders field {name}: {html}\n{text}",
            entry.object
        );
    }
    Ok(changed)
}

/// Writes the profiles of the schema-drift scenarios through `workflow`
/// (which moderator 99 decides on), one minute apart:
/// profile 1 approved in the old shape, then edited by user 7 in the new
/// one; profile 2 created by user 8 in the old shape and still waiting;
/// profile 3 approved in the new shape, then edited by user 9 through a
/// writer still on the old shape (as during a rolling deploy).
async fn write_drifted_profiles(workflow: &ObjectWorkflow, clock: &ManualClock) -> ScenarioResult {
    let approve = |id: i64| async move {
        let object = profile_ref(id)?;
        let entry = workflow
            .history(&object)
            .await?
            .pop()
            .ok_or(ModerationError::UnknownObject { object })?;
        workflow
            .approve(&moderator(99), (&entry).into(), Some("ok"))
            .await
    };
    let old = ProfileV1 {
        id: 1,
        name: "Ada".to_owned(),
        bio: "<b>old</b> bio".to_owned(),
        nickname: "ada".to_owned(),
    };
    workflow.create(&plain(7), &old).await?;
    approve(1).await?;
    clock.advance(Duration::minutes(1));
    let waiting = ProfileV1 {
        id: 2,
        name: "Bob".to_owned(),
        bio: "waiting".to_owned(),
        nickname: "bob".to_owned(),
    };
    workflow.create(&plain(8), &waiting).await?;
    clock.advance(Duration::minutes(1));
    let published = json!({"id": 3, "name": "Cy", "bio": "published", "views": 5, "website": "https://cy.example"});
    workflow
        .create_value(&plain(9), profile_ref(3)?, published)
        .await?;
    approve(3).await?;
    clock.advance(Duration::minutes(1));
    let old_writer = ProfileV1 {
        id: 3,
        name: "Cy".to_owned(),
        bio: "edited".to_owned(),
        nickname: "cy".to_owned(),
    };
    workflow.edit(&plain(9), &old_writer).await?;
    clock.advance(Duration::minutes(1));
    // The new schema edits profile 1: `website` added, `nickname` gone.
    let edited = json!({"id": 1, "name": "Ada", "bio": "new bio", "views": 0, "website": "https://ada.example"});
    workflow
        .edit_value(&plain(7), profile_ref(1)?, None, edited)
        .await?;
    Ok(())
}

/// What the queue holds after [`write_drifted_profiles`], oldest first:
/// each waiting profile, its submitter, its snapshot loaded into the new
/// type, and the fields its diff shows.
fn drifted_queue() -> Vec<(i64, UserId, ProfileV2, Vec<RenderedField>)> {
    let profile_v2 =
        |id: i64, name: &str, bio: &str, views: i64, website: Option<&str>| ProfileV2 {
            id,
            name: name.to_owned(),
            bio: bio.to_owned(),
            views,
            website: website.map(str::to_owned),
        };
    vec![
        (
            2,
            UserId::from(8_i64),
            profile_v2(2, "Bob", "waiting", 0, None),
            // Never approved: compared with an empty record.
            vec![
                rendered("bio", "added", None, Some(json!("waiting"))),
                rendered("id", "added", None, Some(json!(2))),
                rendered("name", "added", None, Some(json!("Bob"))),
                rendered("nickname", "added", None, Some(json!("bob"))),
            ],
        ),
        (
            3,
            UserId::from(9_i64),
            profile_v2(3, "Cy", "edited", 0, None),
            vec![
                rendered(
                    "bio",
                    "changed",
                    Some(json!("published")),
                    Some(json!("edited")),
                ),
                rendered("nickname", "added", None, Some(json!("cy"))),
                rendered("views", "removed", Some(json!(5)), None),
                rendered(
                    "website",
                    "removed",
                    Some(json!("https://cy.example")),
                    None,
                ),
            ],
        ),
        (
            1,
            UserId::from(7_i64),
            profile_v2(1, "Ada", "new bio", 0, Some("https://ada.example")),
            vec![
                rendered(
                    "bio",
                    "changed",
                    Some(json!("<b>old</b> bio")),
                    Some(json!("new bio")),
                ),
                rendered("nickname", "removed", Some(json!("ada")), None),
                rendered("views", "added", None, Some(json!(0))),
                rendered("website", "added", None, Some(json!("https://ada.example"))),
            ],
        ),
    ]
}

/// 16. A snapshot written before a field was added or removed still loads
///     and renders in the queue: the pending list holds old- and new-shape
///     entries side by side, each loads into the new type and renders its
///     diff (fields added and removed by the schema change included), and
///     an approved old-shape version is read publicly as the new type.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_16_old_snapshots_load_and_render(
    store: Arc<dyn ObjectStore>,
) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    write_drifted_profiles(&h.workflow, &h.clock).await?;
    let mut listed = Vec::new();
    for entry in all_pending(&h.workflow).await? {
        assert_eq!(entry.status, EntryStatus::Pending);
        let id = match &entry.object.id {
            ObjectId::Int(id) => *id,
            other => panic!("expected an integer id, found {other:?}"),
        };
        let submitter = entry
            .submitted_by
            .clone()
            .ok_or(ModerationError::UnknownEntry { entry: entry.id.0 })?;
        let loaded: ProfileV2 = serde_json::from_value(entry.snapshot.clone())?;
        listed.push((
            id,
            submitter,
            loaded,
            rendered_changes(&h.workflow, &entry).await?,
        ));
    }
    assert_eq!(listed, drifted_queue());

    // The approved snapshot of the old schema loads into the new type.
    let public = match h.workflow.public_version(&profile_ref(1)?).await? {
        PublicRead::Public(version) => version,
        other => panic!("expected a public version, got {other:?}"),
    };
    let old_loaded: ProfileV2 = serde_json::from_value(public)?;
    assert_eq!(old_loaded.website, None);
    assert_eq!(old_loaded.bio, "<b>old</b> bio");
    let html = h.workflow.diff(&h.latest(1).await?).await?.to_html();
    assert!(!html.contains("<b>old</b>"), "user text is escaped");
    Ok(())
}

/// 16, in the review queue: the old-shape snapshots the workflow queued
/// are listed as object changes with their submitter and reason, each
/// item's entry loads into the new type and renders its diff, and
/// approving an old-shape object through the queue publishes it in a form
/// the new type reads. `store` keeps the review queue too.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_16_old_snapshots_in_the_review_queue(
    store: Arc<dyn ReviewedObjectStore>,
) -> ScenarioResult {
    let reviews: Arc<dyn ReviewStore> = store.clone();
    let clock = Arc::new(ManualClock::new(base_time()));
    let workflow = Arc::new(reviewed_workflow(store, &clock)?);
    write_drifted_profiles(&workflow, &clock).await?;
    let queue = ReviewQueue::builder(reviews)
        .clock(clock.clone())
        .handler(
            SubjectType::ObjectChange,
            Arc::new(ObjectChangeHandler::new(workflow.clone())),
        )
        .build();
    let page = queue
        .list(
            &ReviewFilter::pending(),
            &ReviewPageRequest::first(ReviewSort::Oldest, 10),
        )
        .await?;
    let mut listed = Vec::new();
    let mut items = Vec::new();
    for item in page.items {
        let ReviewSubject::ObjectChange { object, revision } = &item.subject else {
            panic!("expected an object change, found {:?}", item.subject);
        };
        let id = match &object.id {
            ObjectId::Int(id) => *id,
            other => panic!("expected an integer id, found {other:?}"),
        };
        let entry = workflow.store().revision(object, *revision).await?.ok_or(
            ModerationError::UnknownObject {
                object: object.clone(),
            },
        )?;
        let Some(AuthorKey::User(author)) = item.author.clone() else {
            panic!("expected a user as author, found {:?}", item.author);
        };
        let reasons: Vec<&str> = item.reasons.iter().map(|r| r.text.as_str()).collect();
        let expected_reason = if id == 2 {
            "New object waiting for approval"
        } else {
            "Edit waiting for approval"
        };
        assert_eq!(reasons, [expected_reason], "profile {id}");
        assert_eq!(item.kind.as_str(), Profile::KIND);
        assert_eq!(entry.status, EntryStatus::Pending);
        let loaded: ProfileV2 = serde_json::from_value(entry.snapshot.clone())?;
        listed.push((
            id,
            author,
            loaded,
            rendered_changes(&workflow, &entry).await?,
        ));
        items.push(item);
    }
    assert_eq!(listed, drifted_queue());

    // Approving the profile written in the old shape publishes it.
    let waiting = items.first().ok_or(ModerationError::UnknownObject {
        object: profile_ref(2)?,
    })?;
    queue
        .decide(
            waiting.id,
            waiting.version,
            ReviewAction::Approve,
            &moderator(98),
            Some("fine".to_owned()),
        )
        .await?;
    let PublicRead::Public(public) = workflow.public_version(&profile_ref(2)?).await? else {
        panic!("the approved old-shape profile is public");
    };
    let public: ProfileV2 = serde_json::from_value(public)?;
    assert_eq!(
        Some(public),
        drifted_queue()
            .into_iter()
            .next()
            .map(|(_, _, loaded, _)| loaded)
    );
    Ok(())
}

#[derive(Debug)]
struct FailingNotifier {
    calls: AtomicUsize,
}

#[async_trait]
impl Notifier for FailingNotifier {
    async fn notify(&self, _notification: &Notification) -> Result<(), BoxError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Err("mail server down".into())
    }
}

/// 17. Notifications: moderators on queued create and edit, not on
///     auto-approved saves; the submitter on each decision with the reason;
///     a failing backend is logged and the decision stands.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_17_notifications(store: Arc<dyn ObjectStore>) -> ScenarioResult {
    let h = Harness::new(store.clone(), WorkflowOptions::new())?;
    h.workflow.create(&plain(7), &profile(1, "new")).await?;
    assert_eq!(h.sent_to(MODERATORS).len(), 1, "queued create");
    h.approve(1, 99, "Welcome aboard").await?;
    let to_submitter = h.sent_to("user-7@example.org");
    assert_eq!(to_submitter.len(), 1);
    assert!(
        to_submitter
            .iter()
            .all(|note| note.body.contains("Welcome aboard"))
    );
    h.workflow.edit(&plain(7), &profile(1, "edited")).await?;
    assert_eq!(h.sent_to(MODERATORS).len(), 2, "queued edit");
    h.reject(1, 99, "Too short").await?;
    let to_submitter = h.sent_to("user-7@example.org");
    assert_eq!(to_submitter.len(), 2);
    assert!(
        to_submitter
            .last()
            .is_some_and(|note| note.body.contains("Too short"))
    );
    h.workflow
        .create(&moderator(3), &profile(2, "staff"))
        .await?;
    assert_eq!(
        h.sent_to(MODERATORS).len(),
        2,
        "auto-approved saves do not reach moderators"
    );

    // The messages as a channel backend receives them: the moderators'
    // on the queued create, then the submitter's on the decision, and
    // nothing else.
    let (channel, mut received) = ChannelNotifier::new();
    let c = Harness::with_notifier(
        store.clone(),
        WorkflowOptions::new(),
        Some(Arc::new(channel)),
    )?;
    c.workflow
        .create(&plain(7), &profile(20, "via a channel"))
        .await?;
    let entry = c.latest(20).await?;
    let object = profile_ref(20)?;
    let message =
        |recipient: &str, verdict, reason: &str, subject: &str, body: String| Notification {
            recipients: vec![recipient.to_owned()],
            kind: object.kind.clone(),
            item: ItemId(entry.id.0),
            object: object.clone(),
            verdict,
            reasons: vec![Reason::new(NOTIFICATION_RULE, reason)],
            subject: subject.to_owned(),
            body,
        };
    assert_eq!(
        received.try_recv().map_err(ModerationError::store)?,
        message(
            MODERATORS,
            Verdict::Hold,
            "waiting for review",
            "[profile] New object waiting for review: profile#20",
            format!(
                "A new profile waits for review.\n\nObject:       profile#20\nEntry:        {} (revision 1)\nSubmitted by: 7\nSubmitted at: {}",
                entry.id.0,
                base_time().to_rfc3339()
            ),
        )
    );
    c.approve(20, 99, "Nice profile").await?;
    assert_eq!(
        received.try_recv().map_err(ModerationError::store)?,
        message(
            "user-7@example.org",
            Verdict::Publish,
            "Nice profile",
            "Your profile profile#20 was approved",
            "Your profile profile#20 was approved by 99.\n\nReason: Nice profile\n".to_owned(),
        )
    );
    assert_eq!(
        received.try_recv(),
        Err(TryRecvError::Empty),
        "one message per recipient and event"
    );

    // A backend that always fails: tried per the retry policy, logged, and
    // the decision stands (stored with its moderator and reason).
    let failing = Arc::new(FailingNotifier {
        calls: AtomicUsize::new(0),
    });
    let f = Harness::with_notifier(store, WorkflowOptions::new(), Some(failing.clone()))?;
    f.workflow.create(&plain(7), &profile(10, "queued")).await?;
    f.approve(10, 99, "ok").await?;
    assert_eq!(f.public(10).await?, Some(profile(10, "queued")));
    let record = f.record(10).await?;
    assert_eq!(
        (record.status, record.decided_by, record.reason.as_deref()),
        (
            ObjectStatus::Approved,
            Some(UserId::from(99_i64)),
            Some("ok")
        )
    );
    assert_eq!(
        failing.calls.load(Ordering::SeqCst),
        3,
        "two tries for the moderators' message; the backend then looks down, \
         so the submitter's message is tried once"
    );
    Ok(())
}

/// C12: each event carries the object, its entry, the status before and
/// after, who decided and why, the public version before and the entry's
/// version: a queued create, a moderator's approval, a queued edit of the
/// approved object, its rejection, and a rule's auto-approval.
///
/// # Errors
/// An unexpected store error.
pub async fn events_carry_statuses_deciders_reasons_and_versions(
    store: Arc<dyn ObjectStore>,
) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    let (v1, v2) = (profile(1, "v1"), profile(1, "v2"));
    h.workflow.create(&plain(7), &v1).await?;
    let queued = ObjectChange {
        object: profile_ref(1)?,
        entry: h.latest(1).await?.id,
        from: None,
        to: ObjectStatus::Pending,
        by: None,
        reason: None,
        old_version: None,
        new_version: value(&v1)?,
    };
    let mut expected = vec![ModerationEvent::ObjectQueued {
        change: queued.clone(),
    }];
    assert_eq!(h.events.events(), expected, "queued create");

    h.approve(1, 99, "Looks fine").await?;
    let approved = ObjectChange {
        from: Some(ObjectStatus::Pending),
        to: ObjectStatus::Approved,
        by: Some(UserId::from(99_i64)),
        reason: Some("Looks fine".to_owned()),
        ..queued.clone()
    };
    expected.extend([
        ModerationEvent::PreModeration {
            change: approved.clone(),
        },
        ModerationEvent::PostModeration { change: approved },
    ]);
    assert_eq!(h.events.events(), expected, "approval");

    h.workflow.edit(&plain(8), &v2).await?;
    let edit = ObjectChange {
        from: Some(ObjectStatus::Approved),
        old_version: Some(value(&v1)?),
        new_version: value(&v2)?,
        ..queued
    };
    expected.push(ModerationEvent::ObjectQueued {
        change: edit.clone(),
    });
    assert_eq!(h.events.events(), expected, "queued edit");

    h.reject(1, 98, "Too short").await?;
    let rejected = ObjectChange {
        from: Some(ObjectStatus::Pending),
        to: ObjectStatus::Rejected,
        by: Some(UserId::from(98_i64)),
        reason: Some("Too short".to_owned()),
        ..edit
    };
    expected.extend([
        ModerationEvent::PreModeration {
            change: rejected.clone(),
        },
        ModerationEvent::PostModeration { change: rejected },
    ]);
    assert_eq!(h.events.events(), expected, "rejected edit");

    let staff = profile(2, "by staff");
    h.workflow.create(&moderator(3), &staff).await?;
    let auto = ObjectChange {
        object: profile_ref(2)?,
        entry: h.latest(2).await?.id,
        from: None,
        to: ObjectStatus::Approved,
        by: None,
        reason: Some(APPROVED_STAFF.to_owned()),
        old_version: None,
        new_version: value(&staff)?,
    };
    expected.extend([
        ModerationEvent::PreModeration {
            change: auto.clone(),
        },
        ModerationEvent::PostModeration { change: auto },
    ]);
    assert_eq!(h.events.events(), expected, "auto-approved create");
    Ok(())
}

/// An event subscriber that fails every delivery, keeping what it was
/// handed.
#[derive(Debug, Default)]
struct FailingSubscriber {
    received: RecordingEventSink,
}

#[async_trait]
impl EventSink for FailingSubscriber {
    async fn emit(&self, event: &ModerationEvent) -> Result<(), BoxError> {
        self.received.emit(event).await?;
        Err("subscriber crashed".into())
    }
}

/// C12: a subscriber that fails on every event cannot corrupt the
/// workflow: each failure is logged, the next event is still delivered,
/// and the create and the decision are stored and read back as taken
/// (record, entry, public version, pending list, moderation log). `log`
/// must be the moderation log `store` writes to.
///
/// # Errors
/// An unexpected store error.
pub async fn failing_event_subscriber_leaves_decisions_intact(
    store: Arc<dyn ObjectStore>,
    log: Arc<dyn ModerationLog>,
) -> ScenarioResult {
    let failing = Arc::new(FailingSubscriber::default());
    let workflow = ObjectWorkflow::builder(store)
        .clock(Arc::new(ManualClock::new(base_time())))
        .events(failing.clone())
        .build();
    workflow.register_type::<Profile>(WorkflowOptions::new())?;
    let object = profile_ref(1)?;
    let v1 = profile(1, "v1");
    let saved = workflow.create(&plain(7), &v1).await?;
    assert_eq!(saved.outcome, SaveOutcome::Queued);
    let entry = saved.entry.ok_or(ModerationError::UnknownObject {
        object: object.clone(),
    })?;
    let taken = workflow
        .approve(&moderator(99), (&entry).into(), Some("fine"))
        .await?;

    let delivered: Vec<&str> = failing
        .received
        .events()
        .iter()
        .map(|event| match event {
            ModerationEvent::ObjectQueued { .. } => "queued",
            ModerationEvent::PreModeration { .. } => "pre_moderation",
            ModerationEvent::PostModeration { .. } => "post_moderation",
            _ => "other",
        })
        .collect();
    assert_eq!(delivered, ["queued", "pre_moderation", "post_moderation"]);

    let record = workflow
        .record(&object)
        .await?
        .ok_or(ModerationError::UnknownObject {
            object: object.clone(),
        })?;
    assert_eq!(record, taken.record);
    assert_eq!(
        (
            record.state,
            record.status,
            record.decided_by,
            record.decided_at,
            record.reason.as_deref()
        ),
        (
            ObjectState::Ready,
            ObjectStatus::Approved,
            Some(UserId::from(99_i64)),
            Some(base_time()),
            Some("fine")
        )
    );
    assert_eq!(taken.entry.status, EntryStatus::Approved);
    assert_eq!(taken.entry.version, entry.version + 1);
    assert_eq!(workflow.history(&object).await?, vec![taken.entry]);
    assert_eq!(
        workflow.public_version(&object).await?,
        PublicRead::Public(value(&v1)?)
    );
    assert!(all_pending(&workflow).await?.is_empty());
    let logged = super::review::all_log_entries(log.as_ref(), &ModLogFilter::default()).await?;
    let logged: Vec<_> = logged
        .iter()
        .map(|entry| {
            (
                entry.action.as_str(),
                entry.actor.clone(),
                entry.target.clone(),
                entry.reason.as_deref(),
                entry.before.as_deref(),
                entry.after.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        logged,
        [(
            "object.approve",
            Some(UserId::from(99_i64)),
            object.clone(),
            Some("fine"),
            Some("pending"),
            Some("approved")
        )]
    );

    // The workflow goes on from the stored decision.
    let edited = workflow.edit(&plain(7), &profile(1, "v2")).await?;
    assert_eq!(edited.outcome, SaveOutcome::Queued);
    assert_eq!(
        workflow.public_version(&object).await?,
        PublicRead::Public(value(&v1)?)
    );
    Ok(())
}

/// C10 and C7: a bulk set-pending of approved objects, in one
/// transaction, puts each back under moderation: its status is pending
/// (still ready, no decider, time or reason), its approved version stays
/// public, its entry is back in the pending list, and a later edit waits
/// for review even under `bypass_moderation_after_approval`. Each entry
/// gets one pre- and one post-moderation event, one moderation-log entry
/// (under one bulk id) and one message to its submitter. `log` must be the
/// moderation log `store` writes to.
///
/// # Errors
/// An unexpected store error.
pub async fn bulk_set_pending_puts_objects_back_under_moderation(
    store: Arc<dyn ObjectStore>,
    log: Arc<dyn ModerationLog>,
) -> ScenarioResult {
    let counting = Arc::new(CountingStore::new(store));
    let h = Harness::new(
        counting.clone(),
        WorkflowOptions::new().bypass_moderation_after_approval(true),
    )?;
    let ids: Vec<i64> = (1..=4).collect();
    for &id in &ids {
        h.workflow
            .create(&plain(id), &profile(id, "approved"))
            .await?;
    }
    let queued: Vec<EntryVersion> = all_pending(&h.workflow)
        .await?
        .iter()
        .map(EntryVersion::from)
        .collect();
    let approved = h
        .workflow
        .bulk(&moderator(99), ObjectAction::Approve, &queued, Some("ok"))
        .await?;
    let targets: Vec<EntryVersion> = approved
        .iter()
        .map(|taken| EntryVersion::from(&taken.entry))
        .collect();
    let (events_before, notes_before, applies_before) = (
        h.events.events().len(),
        h.notes.sent().len(),
        counting.applies(),
    );
    h.clock.advance(Duration::minutes(1));
    let at = base_time() + Duration::minutes(1);
    let taken = h
        .workflow
        .bulk(
            &moderator(98),
            ObjectAction::SetPending,
            &targets,
            Some("recheck"),
        )
        .await?;
    assert_eq!(taken.len(), ids.len());
    assert_eq!(
        counting.applies() - applies_before,
        1,
        "one batch, one transaction"
    );

    let kind = Kind::new(Profile::KIND)?;
    let mut events = Vec::new();
    let mut notes = Vec::new();
    for (&id, done) in ids.iter().zip(&taken) {
        let object = profile_ref(id)?;
        let record = h.record(id).await?;
        assert_eq!(record, done.record);
        assert_eq!(
            (
                record.state,
                record.status,
                record.decided_by,
                record.decided_at,
                record.reason,
                record.updated_at
            ),
            (
                ObjectState::Ready,
                ObjectStatus::Pending,
                None,
                None,
                None,
                at
            ),
            "profile {id} is pending again, undecided"
        );
        assert_eq!(
            h.public(id).await?,
            Some(profile(id, "approved")),
            "nothing is hidden"
        );
        let entry = h.latest(id).await?;
        assert_eq!(entry, done.entry);
        assert_eq!(
            (
                entry.status,
                entry.decided_by,
                entry.decided_at,
                entry.reason
            ),
            (EntryStatus::Pending, None, None, None)
        );
        let change = ObjectChange {
            object: object.clone(),
            entry: entry.id,
            from: Some(ObjectStatus::Approved),
            to: ObjectStatus::Pending,
            by: None,
            reason: None,
            old_version: Some(value(&profile(id, "approved"))?),
            new_version: value(&profile(id, "approved"))?,
        };
        events.extend([
            ModerationEvent::PreModeration {
                change: change.clone(),
            },
            ModerationEvent::PostModeration { change },
        ]);
        let subject = format!("Your profile {object} was put back in the review queue");
        notes.push(Notification {
            recipients: vec![format!("user-{id}@example.org")],
            kind: kind.clone(),
            item: ItemId(entry.id.0),
            object,
            verdict: Verdict::Hold,
            reasons: vec![Reason::new(NOTIFICATION_RULE, "pending")],
            body: format!("{subject}.\n"),
            subject,
        });
    }
    let pending: Vec<ObjectEntry> = taken.iter().map(|done| done.entry.clone()).collect();
    assert_eq!(
        all_pending(&h.workflow).await?,
        pending,
        "back in the queue"
    );
    let all: Vec<ObjectId> = ids.iter().map(|&id| ObjectId::from(id)).collect();
    assert_eq!(h.workflow.filter_public(&kind, &all).await?, all);
    assert_eq!(
        h.events.events().get(events_before..),
        Some(events.as_slice())
    );
    assert_eq!(h.notes.sent().get(notes_before..), Some(notes.as_slice()));

    let by_98 = ModLogFilter {
        actor: Some(UserId::from(98_i64)),
        ..ModLogFilter::default()
    };
    let mut logged = super::review::all_log_entries(log.as_ref(), &by_98).await?;
    logged.sort_by_key(|entry| entry.target.id.to_key());
    let bulk = logged.first().and_then(|entry| entry.bulk);
    assert!(bulk.is_some(), "a bulk action has a bulk id");
    let lines: Vec<_> = logged
        .iter()
        .map(|entry| {
            (
                entry.action.as_str(),
                entry.target.clone(),
                entry.reason.as_deref(),
                entry.before.as_deref(),
                entry.after.as_deref(),
                entry.detail.clone(),
                entry.bulk,
                entry.at,
            )
        })
        .collect();
    let expected = ids
        .iter()
        .map(|&id| {
            Ok((
                "object.set_pending",
                profile_ref(id)?,
                Some("recheck"),
                Some("approved"),
                Some("pending"),
                json!({ "revision": 1 }),
                bulk,
                at,
            ))
        })
        .collect::<Result<Vec<_>, ModerationError>>()?;
    assert_eq!(lines, expected);
    let approve_bulk = super::review::all_log_entries(
        log.as_ref(),
        &ModLogFilter {
            actor: Some(UserId::from(99_i64)),
            ..ModLogFilter::default()
        },
    )
    .await?
    .first()
    .and_then(|entry| entry.bulk);
    assert_ne!(approve_bulk, bulk, "each bulk action has its own id");

    // Back under moderation: an edit waits although the kind bypasses
    // moderation after approval.
    let held = h.workflow.edit(&plain(1), &profile(1, "edited")).await?;
    assert_eq!(held.outcome, SaveOutcome::Queued);
    assert_eq!(h.public(1).await?, Some(profile(1, "approved")));
    Ok(())
}

/// C15: the editor's view is their own pending or rejected change, and the
/// public version for everybody else.
///
/// # Errors
/// An unexpected store error.
pub async fn editor_sees_own_pending_version(store: Arc<dyn ObjectStore>) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    h.workflow.create(&plain(7), &profile(1, "v1")).await?;
    h.approve(1, 99, "ok").await?;
    h.workflow.edit(&plain(7), &profile(1, "v2")).await?;
    let object = profile_ref(1)?;
    let mine = h.workflow.editor_view(&plain(7), &object).await?;
    assert_eq!(mine.as_ref().map(|v| v.source), Some(EditorSource::Pending));
    assert_eq!(mine.map(|v| v.version), Some(value(&profile(1, "v2"))?));
    let theirs = h.workflow.editor_view(&plain(8), &object).await?;
    assert_eq!(
        theirs.as_ref().map(|v| v.source),
        Some(EditorSource::Public)
    );
    assert_eq!(theirs.map(|v| v.version), Some(value(&profile(1, "v1"))?));
    h.reject(1, 99, "no").await?;
    let mine = h.workflow.editor_view(&plain(7), &object).await?;
    assert_eq!(mine.map(|v| v.source), Some(EditorSource::Rejected));
    Ok(())
}

/// C13 and C14: string and UUID ids round-trip; `filter_public` keeps the
/// public and unmoderated ids of a batch in one query; `public_page` pages
/// by key.
///
/// # Errors
/// An unexpected store error.
pub async fn ids_of_every_shape_and_public_filters(store: Arc<dyn ObjectStore>) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    h.workflow
        .register(Kind::new("wiki.page")?, WorkflowOptions::new())?;
    h.workflow
        .register_type::<Listing>(WorkflowOptions::new())?;
    let uuid = uuid::Uuid::from_u128(0x1234_5678_9abc_def0_1234_5678_9abc_def0);
    let page = ObjectRef::new(Kind::new("wiki.page")?, uuid);
    h.workflow
        .create_value(&plain(7), page.clone(), json!({"title": "Ünïcode ✓"}))
        .await?;
    assert_eq!(
        h.workflow.record(&page).await?.map(|r| r.object),
        Some(page.clone())
    );
    let listing = Listing {
        slug: "s:colon/slash".to_owned(),
        title: "t".to_owned(),
        price: 1,
    };
    h.workflow.create(&moderator(1), &listing).await?;
    assert!(matches!(
        h.workflow
            .public_version(&ObjectRef::new(
                Kind::new("listing")?,
                ObjectId::Str(listing.slug.clone())
            ))
            .await?,
        PublicRead::Public(_)
    ));

    for id in 1..=6 {
        let actor = if id % 2 == 0 { moderator(1) } else { plain(7) };
        h.workflow.create(&actor, &profile(id, "x")).await?;
    }
    let kind = Kind::new(Profile::KIND)?;
    let ids: Vec<ObjectId> = (1..=8).map(ObjectId::from).collect();
    let visible = h.workflow.filter_public(&kind, &ids).await?;
    let expected: Vec<ObjectId> = [2, 4, 6, 7, 8].into_iter().map(ObjectId::from).collect();
    assert_eq!(
        visible, expected,
        "hidden drafts are filtered, unmoderated ids kept"
    );
    let first = h.workflow.public_page(&kind, None, 2).await?;
    assert_eq!(first.len(), 2);
    let rest = h
        .workflow
        .public_page(&kind, first.last().map(|o| &o.id), 10)
        .await?;
    assert_eq!(first.len() + rest.len(), 3);
    assert!(rest.iter().all(|o| !first.iter().any(|f| f.id == o.id)));
    Ok(())
}

/// The pending list pages by keyset, filters by kind, and a stale version
/// or an anonymous moderator is refused without writing.
///
/// # Errors
/// An unexpected store error.
pub async fn pending_pages_and_stale_versions(store: Arc<dyn ObjectStore>) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    h.workflow
        .register_type::<Listing>(WorkflowOptions::new())?;
    for id in 1..=25 {
        h.workflow.create(&plain(7), &profile(id, "p")).await?;
        if id % 5 == 0 {
            h.clock.advance(Duration::microseconds(1));
        }
    }
    h.workflow
        .create(
            &plain(7),
            &Listing {
                slug: "bike".to_owned(),
                title: "Bike".to_owned(),
                price: 5,
            },
        )
        .await?;
    let all = all_pending(&h.workflow).await?;
    assert_eq!(all.len(), 26);
    let mut sorted = all.clone();
    sorted.sort_by_key(|e| (e.submitted_at, e.id));
    assert_eq!(all, sorted);
    let listings = h
        .workflow
        .pending(&PendingQuery {
            kind: Some(Kind::new("listing")?),
            after: None,
            limit: 10,
        })
        .await?;
    assert_eq!(listings.entries.len(), 1);
    assert_eq!(listings.next, None);

    let entry = h.latest(3).await?;
    let stale = EntryVersion {
        id: entry.id,
        version: entry.version + 1,
    };
    assert!(matches!(
        h.workflow.approve(&moderator(99), stale, None).await,
        Err(ModerationError::Conflict { .. })
    ));
    assert!(matches!(
        h.workflow
            .approve(&Actor::anonymous(), (&entry).into(), None)
            .await,
        Err(ModerationError::AnonymousActor { .. })
    ));
    assert!(matches!(
        h.workflow
            .approve(
                &moderator(99),
                EntryVersion {
                    id: EntryId(999_999),
                    version: 1
                },
                None
            )
            .await,
        Err(ModerationError::UnknownEntry { .. })
    ));
    assert_eq!(h.latest(3).await?, entry, "nothing was written");
    Ok(())
}

/// A workflow on `clock` that keeps its review items in `store`, with
/// `profile` registered under default options.
fn reviewed_workflow(
    store: Arc<dyn ReviewedObjectStore>,
    clock: &Arc<ManualClock>,
) -> Result<ObjectWorkflow, ModerationError> {
    let workflow = ObjectWorkflow::builder(store.clone())
        .clock(clock.clone())
        .review_store(store)
        .build();
    workflow.register_type::<Profile>(WorkflowOptions::new())?;
    Ok(workflow)
}

/// Claims review item `id` as `by`, then takes `action` on it with
/// `reason`; returns the item as claimed.
async fn claim_and_decide(
    queue: &ReviewQueue,
    id: ReviewId,
    by: &Actor,
    action: ReviewAction,
    reason: &str,
) -> Result<ReviewItem, ModerationError> {
    let claimed = queue.claim(id, by).await?;
    queue
        .decide(
            claimed.id,
            claimed.version,
            action,
            by,
            Some(reason.to_owned()),
        )
        .await?;
    Ok(claimed)
}

/// The workflow in the review queue: a queued create opens an
/// `ObjectChange` item; with claims required an unclaimed item cannot be
/// acted on (`ClaimRequired`), and another moderator's claim or action is
/// refused with `Claimed` (naming the holder and the lease's end) until the
/// lease ends; a moderator acting on a version another one already decided
/// gets `ReviewConflict` and changes nothing; the queue's approve publishes
/// the object and its reject keeps an edit from the public. `store` keeps
/// the review queue too.
///
/// # Errors
/// An unexpected store error.
pub async fn must_show_15_review_queue_claims_and_decisions(
    store: Arc<dyn ReviewedObjectStore>,
) -> ScenarioResult {
    let reviews: Arc<dyn ReviewStore> = store.clone();
    let clock = Arc::new(ManualClock::new(base_time()));
    let workflow = Arc::new(reviewed_workflow(store, &clock)?);
    let queue = ReviewQueue::builder(reviews)
        .clock(clock.clone())
        .claims(ClaimPolicy::Required, Duration::minutes(10))
        .handler(
            SubjectType::ObjectChange,
            Arc::new(ObjectChangeHandler::new(workflow.clone())),
        )
        .build();
    let first = profile(1, "first");
    workflow.create(&plain(7), &first).await?;
    let subject = ReviewSubject::ObjectChange {
        object: profile_ref(1)?,
        revision: 1,
    };
    let item = queue
        .for_subject(&subject)
        .await?
        .ok_or(ModerationError::UnknownObject {
            object: profile_ref(1)?,
        })?;
    assert_eq!(item.kind.as_str(), Profile::KIND);

    let (alice, bob) = (moderator(1), moderator(2));
    let unclaimed = queue
        .decide(item.id, item.version, ReviewAction::Approve, &alice, None)
        .await;
    assert!(
        matches!(unclaimed, Err(ModerationError::ClaimRequired { review }) if review == item.id),
        "claims required: an unclaimed item cannot be acted on: {unclaimed:?}"
    );
    let lease_end = base_time() + Duration::minutes(10);
    let claimed = queue.claim(item.id, &bob).await?;
    assert_eq!(
        (claimed.claimed_by.clone(), claimed.claim_expires_at),
        (Some(UserId::from(2_i64)), Some(lease_end))
    );
    assert_eq!(claimed.version, item.version, "a claim is not a change");
    // Bob's claim holds up to the last microsecond of its lease, both for
    // another claim and for an action.
    clock.advance(Duration::minutes(10) - Duration::microseconds(1));
    let held_by_bob = |refused: &Result<ReviewItem, ModerationError>| {
        matches!(
            refused,
            Err(ModerationError::Claimed { review, by, until })
                if *review == item.id && *by == UserId::from(2_i64) && *until == lease_end
        )
    };
    let second_claim = queue.claim(item.id, &alice).await;
    assert!(
        held_by_bob(&second_claim),
        "bob holds the claim: {second_claim:?}"
    );
    let over_the_claim = queue
        .decide(
            claimed.id,
            claimed.version,
            ReviewAction::Approve,
            &alice,
            None,
        )
        .await;
    assert!(
        held_by_bob(&over_the_claim),
        "only bob may act: {over_the_claim:?}"
    );
    let workflow_public = |id| {
        let workflow = workflow.clone();
        async move {
            match workflow.public_version(&profile_ref(id)?).await? {
                PublicRead::Public(version) => Ok::<_, ModerationError>(Some(version)),
                _ => Ok(None),
            }
        }
    };
    assert_eq!(workflow_public(1).await?, None);
    // The lease has ended: alice may claim and decide.
    clock.advance(Duration::microseconds(1));
    let claimed = claim_and_decide(&queue, item.id, &alice, ReviewAction::Approve, "ok").await?;
    assert_eq!(claimed.claimed_by, Some(UserId::from(1_i64)));
    assert_eq!(workflow_public(1).await?, Some(value(&first)?));
    let record = workflow.record(&profile_ref(1)?).await?;
    assert_eq!(record.and_then(|r| r.decided_by), Some(UserId::from(1_i64)));
    // Bob, acting on the version he saw before alice decided, loses with a
    // typed conflict and changes nothing.
    let late = queue
        .decide(
            claimed.id,
            claimed.version,
            ReviewAction::Reject,
            &bob,
            None,
        )
        .await;
    assert!(
        matches!(
            late,
            Err(ModerationError::ReviewConflict { review, expected, actual })
                if review == item.id && expected == claimed.version && actual == claimed.version + 1
        ),
        "the item moved on: {late:?}"
    );
    assert_eq!(
        queue.for_subject(&subject).await?.map(|i| i.status),
        Some(ReviewStatus::Approved)
    );
    assert_eq!(workflow_public(1).await?, Some(value(&first)?));

    workflow.edit(&plain(7), &profile(1, "edited")).await?;
    let item = queue
        .for_subject(&subject)
        .await?
        .filter(|item| item.id != claimed.id)
        .ok_or(ModerationError::UnknownObject {
            object: profile_ref(1)?,
        })?;
    claim_and_decide(&queue, item.id, &bob, ReviewAction::Reject, "no").await?;
    assert_eq!(workflow_public(1).await?, Some(value(&first)?));
    let entry = workflow.history(&profile_ref(1)?).await?.pop();
    assert_eq!(entry.map(|e| e.status), Some(EntryStatus::Rejected));
    Ok(())
}

/// The review item of profile `id`'s first change.
async fn first_change_review(
    reviews: &dyn ReviewStore,
    id: i64,
) -> Result<ReviewItem, ModerationError> {
    let subject = ReviewSubject::ObjectChange {
        object: profile_ref(id)?,
        revision: 1,
    };
    reviews
        .review_for_subject(&subject)
        .await?
        .ok_or(ModerationError::UnknownObject {
            object: profile_ref(id)?,
        })
}

/// Creates the profiles `ids` as a plain user; returns their queued
/// entries, in order.
async fn queued_creates<const N: usize>(
    workflow: &ObjectWorkflow,
    ids: [i64; N],
) -> Result<[ObjectEntry; N], ModerationError> {
    let mut entries = Vec::with_capacity(N);
    for id in ids {
        let saved = workflow.create(&plain(7), &profile(id, "new")).await?;
        entries.push(saved.entry.ok_or(ModerationError::UnknownObject {
            object: profile_ref(id)?,
        })?);
    }
    entries
        .try_into()
        .map_err(|_| ModerationError::Config("a create queued no entry".to_owned()))
}

/// A decision taken on the workflow directly closes the change's review
/// item too: approve approves it and reject rejects it, each recorded in
/// the item's history as the moderator who decided, so the queue never
/// offers a decided change. Set-pending leaves the item open. `store`
/// keeps the review queue too.
///
/// # Errors
/// An unexpected store error.
pub async fn direct_decisions_close_review_items(
    store: Arc<dyn ReviewedObjectStore>,
) -> ScenarioResult {
    let reviews: Arc<dyn ReviewStore> = store.clone();
    let clock = Arc::new(ManualClock::new(base_time()));
    let workflow = reviewed_workflow(store, &clock)?;
    let item_of = |id: i64| first_change_review(reviews.as_ref(), id);
    let [first, second, third] = &queued_creates(&workflow, [1, 2, 3]).await?;
    for id in 1..=3 {
        assert_eq!(item_of(id).await?.status, ReviewStatus::Pending);
    }

    clock.advance(Duration::minutes(1));
    workflow
        .approve(&moderator(1), first.into(), Some("fine"))
        .await?;
    let item = item_of(1).await?;
    assert_eq!(item.status, ReviewStatus::Approved);
    let step = reviews.history(item.id).await?.pop();
    assert_eq!(
        step.as_ref()
            .map(|s| (s.event, s.actor.clone(), s.reason.clone())),
        Some((
            ReviewEvent::Act(ReviewAction::Approve),
            Some(UserId::from(1_i64)),
            Some("fine".to_owned())
        ))
    );
    assert_eq!(step.map(|s| s.at), Some(base_time() + Duration::minutes(1)));

    workflow
        .reject(&moderator(2), second.into(), Some("spam"))
        .await?;
    assert_eq!(item_of(2).await?.status, ReviewStatus::Rejected);

    workflow
        .set_pending(&moderator(2), third.into(), None)
        .await?;
    assert_eq!(item_of(3).await?.status, ReviewStatus::Pending);
    assert_eq!(
        pending_reviews(reviews.as_ref()).await?,
        1,
        "only the undecided change is left to review"
    );
    Ok(())
}

/// A decision taken on the workflow directly respects the claims on its
/// change's review item as the queue's own actions do. With claims
/// optional (the default), another moderator's live claim refuses a direct
/// approve, reject or bulk decision with `Claimed` (naming the holder and
/// the lease's end) and nothing is written, not even the bulk's other
/// entries; the holder may decide, and anyone once the lease has ended.
/// With claims required, a moderator without a claim gets `ClaimRequired`
/// and one with a claim may decide, directly or through the queue. With
/// claims off, a claim stops nobody. `store` keeps the review queue too.
///
/// # Errors
/// An unexpected store error.
pub async fn direct_decisions_respect_review_claims(
    store: Arc<dyn ReviewedObjectStore>,
) -> ScenarioResult {
    let reviews: Arc<dyn ReviewStore> = store.clone();
    let clock = Arc::new(ManualClock::new(base_time()));
    let lease = Duration::minutes(10);
    let workflow_with = |claims: ClaimPolicy| -> Result<Arc<ObjectWorkflow>, ModerationError> {
        let workflow = ObjectWorkflow::builder(store.clone())
            .clock(clock.clone())
            .review_store(store.clone())
            .claims(claims)
            .build();
        workflow.register_type::<Profile>(WorkflowOptions::new())?;
        Ok(Arc::new(workflow))
    };
    let queue_with = |claims: ClaimPolicy, workflow: &Arc<ObjectWorkflow>| {
        ReviewQueue::builder(reviews.clone())
            .clock(clock.clone())
            .claims(claims, lease)
            .handler(
                SubjectType::ObjectChange,
                Arc::new(ObjectChangeHandler::new(workflow.clone())),
            )
            .build()
    };
    let item_of = |id: i64| first_change_review(reviews.as_ref(), id);
    let (alice, bob) = (moderator(1), moderator(2));
    let (alice_id, bob_id) = (UserId::from(1_i64), UserId::from(2_i64));

    // Claims optional, on the workflow (by default) and in the queue.
    let workflow = workflow_with(ClaimPolicy::default())?;
    let queue = queue_with(ClaimPolicy::Optional, &workflow);
    let [first, second, third] = &queued_creates(&workflow, [1, 2, 3]).await?;
    let claimed = queue.claim(item_of(1).await?.id, &bob).await?;
    let claimed_third = queue.claim(item_of(3).await?.id, &bob).await?;
    let lease_end = base_time() + lease;
    let held_by_bob = |refused: Option<&ModerationError>, review: ReviewId| {
        matches!(
            refused,
            Some(ModerationError::Claimed { review: r, by, until })
                if *r == review && *by == bob_id && *until == lease_end
        )
    };
    clock.advance(lease - Duration::microseconds(1));
    let approve = workflow.approve(&alice, first.into(), Some("fine")).await;
    assert!(
        held_by_bob(approve.as_ref().err(), claimed.id),
        "bob holds the claim: {approve:?}"
    );
    let reject = workflow.reject(&alice, first.into(), Some("no")).await;
    assert!(
        held_by_bob(reject.as_ref().err(), claimed.id),
        "bob holds the claim: {reject:?}"
    );
    let stored = workflow.entry(first.id).await?;
    assert_eq!(
        stored.map(|e| (e.status, e.version)),
        Some((EntryStatus::Pending, first.version)),
        "a refused decision writes nothing"
    );
    assert_eq!(item_of(1).await?, claimed, "the item is untouched");

    // A bulk decision over a claimed entry is refused as a whole.
    let bulk = workflow
        .bulk(
            &alice,
            ObjectAction::Approve,
            &[second.into(), third.into()],
            None,
        )
        .await;
    assert!(
        held_by_bob(bulk.as_ref().err(), claimed_third.id),
        "bob holds the third entry's claim: {bulk:?}"
    );
    assert_eq!(
        workflow.entry(second.id).await?.map(|e| e.status),
        Some(EntryStatus::Pending),
        "the bulk's unclaimed entry was not decided either"
    );
    assert_eq!(item_of(2).await?.status, ReviewStatus::Pending);

    // The holder decides directly; his item closes as his.
    let taken = workflow.approve(&bob, first.into(), Some("fine")).await?;
    assert_eq!(taken.entry.decided_by, Some(bob_id.clone()));
    let item = item_of(1).await?;
    assert_eq!(
        (item.status, item.claimed_by),
        (ReviewStatus::Approved, None)
    );
    // Once bob's lease has ended, alice may decide what he claimed.
    clock.advance(Duration::microseconds(1));
    workflow
        .bulk(
            &alice,
            ObjectAction::Reject,
            &[second.into(), third.into()],
            Some("spam"),
        )
        .await?;
    for id in [2, 3] {
        assert_eq!(item_of(id).await?.status, ReviewStatus::Rejected);
    }

    // Claims required: no claim, no direct decision; a claim allows it.
    let strict = workflow_with(ClaimPolicy::Required)?;
    let strict_queue = queue_with(ClaimPolicy::Required, &strict);
    let [fourth, fifth] = &queued_creates(&strict, [4, 5]).await?;
    let fourth_item = item_of(4).await?;
    let unclaimed = strict.approve(&alice, fourth.into(), None).await;
    assert!(
        matches!(&unclaimed, Err(ModerationError::ClaimRequired { review }) if *review == fourth_item.id),
        "claims required: {unclaimed:?}"
    );
    strict_queue.claim(fourth_item.id, &alice).await?;
    let taken = strict.approve(&alice, fourth.into(), Some("ok")).await?;
    assert_eq!(taken.entry.status, EntryStatus::Approved);
    assert_eq!(item_of(4).await?.status, ReviewStatus::Approved);
    // Through the queue, the claim is checked once, by the queue.
    let fifth_item = item_of(5).await?;
    claim_and_decide(
        &strict_queue,
        fifth_item.id,
        &alice,
        ReviewAction::Approve,
        "ok",
    )
    .await?;
    assert_eq!(
        strict
            .entry(fifth.id)
            .await?
            .map(|e| (e.status, e.decided_by)),
        Some((EntryStatus::Approved, Some(alice_id.clone())))
    );

    // Claims off: bob's claim stops nobody.
    let open = workflow_with(ClaimPolicy::Off)?;
    let [sixth] = &queued_creates(&open, [6]).await?;
    queue.claim(item_of(6).await?.id, &bob).await?;
    let taken = open.approve(&alice, sixth.into(), None).await?;
    assert_eq!(taken.entry.decided_by, Some(alice_id));
    assert_eq!(item_of(6).await?.status, ReviewStatus::Approved);
    Ok(())
}

/// A bulk decision on the workflow closes the review items of all its
/// entries together: approved items for a bulk approve, rejected ones for a
/// bulk reject, every step under the action's bulk id. An item a moderator
/// already took off the queue (ignored, its entry still pending) is left as
/// it is.
///
/// # Errors
/// An unexpected store error.
pub async fn bulk_decisions_close_review_items(
    store: Arc<dyn ReviewedObjectStore>,
) -> ScenarioResult {
    let reviews: Arc<dyn ReviewStore> = store.clone();
    let clock = Arc::new(ManualClock::new(base_time()));
    let workflow = reviewed_workflow(store, &clock)?;
    let subject = |id: i64| -> Result<ReviewSubject, ModerationError> {
        Ok(ReviewSubject::ObjectChange {
            object: profile_ref(id)?,
            revision: 1,
        })
    };
    for id in 1..=6 {
        workflow.create(&plain(7), &profile(id, "new")).await?;
    }
    let ignored =
        reviews
            .review_for_subject(&subject(6)?)
            .await?
            .ok_or(ModerationError::UnknownObject {
                object: profile_ref(6)?,
            })?;
    let ignored = reviews
        .transition(moderation_core::ReviewTransition {
            review: ignored.id,
            expected_version: ignored.version,
            event: ReviewEvent::Act(ReviewAction::Ignore),
            to: ReviewAction::Ignore.target(),
            actor: Some(UserId::from(3_i64)),
            claim: moderation_core::ClaimCheck::Off,
            reason: None,
            message: None,
            ip: None,
            bulk: None,
            at: base_time(),
        })
        .await?;
    let targets: Vec<EntryVersion> = all_pending(&workflow)
        .await?
        .iter()
        .map(EntryVersion::from)
        .collect();
    let (approve, reject) = targets.split_at(4);
    clock.advance(Duration::minutes(1));
    workflow
        .bulk(&moderator(1), ObjectAction::Approve, approve, Some("fine"))
        .await?;
    workflow
        .bulk(&moderator(2), ObjectAction::Reject, reject, Some("spam"))
        .await?;

    let subjects = (1..=6).map(subject).collect::<Result<Vec<_>, _>>()?;
    let mut items = reviews.reviews_for_subjects(&subjects).await?;
    items.sort_by_key(|item| item.id);
    let statuses: Vec<ReviewStatus> = items.iter().map(|item| item.status).collect();
    assert_eq!(
        statuses,
        [
            ReviewStatus::Approved,
            ReviewStatus::Approved,
            ReviewStatus::Approved,
            ReviewStatus::Approved,
            ReviewStatus::Rejected,
            ReviewStatus::Ignored,
        ]
    );
    assert_eq!(
        items.last(),
        Some(&ignored),
        "an ignored item is left alone"
    );
    let mut bulk_ids = HashSet::new();
    for item in items.iter().take(5) {
        let step = reviews.history(item.id).await?.pop();
        let step = step.ok_or(ModerationError::UnknownObject {
            object: profile_ref(1)?,
        })?;
        assert_eq!(step.at, base_time() + Duration::minutes(1));
        bulk_ids.insert((step.actor.clone(), step.reason.clone(), step.bulk));
    }
    assert_eq!(bulk_ids.len(), 2, "one bulk id per action: {bulk_ids:?}");
    assert!(bulk_ids.iter().all(|(_, _, bulk)| bulk.is_some()));
    assert_eq!(
        pending_reviews(reviews.as_ref()).await?,
        0,
        "nothing decided is left to review"
    );
    Ok(())
}

/// How many review items are pending (up to ten).
async fn pending_reviews(reviews: &dyn ReviewStore) -> Result<usize, ModerationError> {
    let page = reviews
        .list(
            &ReviewFilter::pending(),
            &ReviewPageRequest::first(ReviewSort::Oldest, 10),
        )
        .await?;
    Ok(page.items.len())
}

/// The moderation-log entry of a test decision on `object`.
fn decision_log(object: &ObjectRef) -> NewModLogEntry {
    NewModLogEntry {
        action: ObjectAction::Approve.log_action().to_owned(),
        actor: Some(UserId::from(1_i64)),
        target: object.clone(),
        reason: None,
        before: Some("pending".to_owned()),
        after: Some("approved".to_owned()),
        detail: json!({ "revision": 1 }),
        ip: None,
        bulk: None,
        at: base_time(),
    }
}

/// A bulk decision holding one stale entry is refused as a whole with a
/// typed `Conflict`: no entry of the batch is decided, nothing is
/// published. Retried with fresh versions, every entry is decided, and the
/// versions the action returns are the ones a later read finds.
///
/// # Errors
/// An unexpected store error.
pub async fn bulk_decisions_with_a_stale_entry_change_nothing(
    store: Arc<dyn ObjectStore>,
) -> ScenarioResult {
    let h = Harness::new(store, WorkflowOptions::new())?;
    for id in 1..=10 {
        h.workflow
            .create(&plain(id), &profile(id, "queued"))
            .await?;
    }
    let targets: Vec<EntryVersion> = all_pending(&h.workflow)
        .await?
        .iter()
        .map(EntryVersion::from)
        .collect();
    assert_eq!(targets.len(), 10);
    // Another moderator rejects object 5 first: its entry moves on.
    h.reject(5, 98, "spam").await?;
    let refused = h
        .workflow
        .bulk(&moderator(99), ObjectAction::Approve, &targets, Some("ok"))
        .await;
    assert!(
        matches!(refused, Err(ModerationError::Conflict { .. })),
        "a stale entry in the batch: {refused:?}"
    );
    for id in (1..=10).filter(|id| *id != 5) {
        assert_eq!(h.public(id).await?, None, "object {id} was published");
        assert_eq!(h.latest(id).await?.status, EntryStatus::Pending);
    }
    let fresh: Vec<EntryVersion> = all_pending(&h.workflow)
        .await?
        .iter()
        .map(EntryVersion::from)
        .collect();
    assert_eq!(fresh.len(), 9);
    let taken = h
        .workflow
        .bulk(&moderator(99), ObjectAction::Approve, &fresh, Some("ok"))
        .await?;
    assert_eq!(taken.len(), 9);
    for done in &taken {
        let id = match &done.record.object.id {
            ObjectId::Int(id) => *id,
            other => {
                return Err(ModerationError::Config(format!(
                    "expected an integer id, found {other:?}"
                )));
            }
        };
        assert_eq!(h.public(id).await?, Some(profile(id, "queued")));
        let (record, entry) = (h.record(id).await?, h.latest(id).await?);
        assert_eq!(record.version, done.record.version);
        assert_eq!(entry.version, done.entry.version);
        assert_eq!(entry.status, EntryStatus::Approved);
    }
    assert!(all_pending(&h.workflow).await?.is_empty());
    Ok(())
}

/// A write the port refuses stores nothing: a record that changed since it
/// was read, a record inserted twice, a superseded entry that changed, an
/// unknown entry, and a batch whose last write is stale each fail with
/// their typed error and leave every record and entry as it was.
///
/// # Errors
/// An unexpected store error.
pub async fn refused_writes_store_nothing(store: Arc<dyn ObjectStore>) -> ScenarioResult {
    let harness = Harness::new(store.clone(), WorkflowOptions::new())?;
    for id in 1..=2 {
        harness
            .workflow
            .create(&plain(7), &profile(id, "new"))
            .await?;
    }
    let object = profile_ref(1)?;
    let record = harness.record(1).await?;
    let entry = harness.latest(1).await?;
    let unchanged = |store: Arc<dyn ObjectStore>| {
        let (record, entry) = (record.clone(), entry.clone());
        async move {
            assert_eq!(store.object(&record.object).await?, Some(record.clone()));
            assert_eq!(store.history(&record.object).await?, vec![entry]);
            Ok::<_, ModerationError>(())
        }
    };
    let mut approved = entry.clone();
    approved.status = EntryStatus::Approved;
    let decision = |record: ModeratedObject, expected_version: i64| ObjectWrite {
        log: vec![decision_log(&record.object)],
        record,
        insert: false,
        entries: vec![EntryWrite::Update {
            entry: approved.clone(),
            expected_version,
        }],
    };

    let mut stale = record.clone();
    stale.version += 5;
    stale.status = ObjectStatus::Approved;
    assert!(matches!(
        store.apply(vec![decision(stale, entry.version)]).await,
        Err(ModerationError::ObjectConflict { object: ref found, expected, actual })
            if *found == object && expected == record.version + 5 && actual == record.version
    ));
    unchanged(store.clone()).await?;

    assert!(matches!(
        store
            .apply(vec![decision(record.clone(), entry.version + 2)])
            .await,
        Err(ModerationError::Conflict { expected, actual, .. })
            if expected == entry.version + 2 && actual == entry.version
    ));
    unchanged(store.clone()).await?;

    let second = NewEntry {
        object: object.clone(),
        revision: 2,
        status: EntryStatus::Pending,
        snapshot: value(&profile(1, "edited"))?,
        submitted_by: Some(UserId::from(7_i64)),
        submitted_at: base_time(),
        decided_by: None,
        decided_at: None,
        reason: None,
    };
    assert!(matches!(
        store
            .apply(vec![ObjectWrite {
                record: record.clone(),
                insert: true,
                entries: vec![EntryWrite::Insert(second.clone())],
                log: Vec::new(),
            }])
            .await,
        Err(ModerationError::ObjectConflict { object: ref found, expected: 0, actual })
            if *found == object && actual == record.version
    ));
    unchanged(store.clone()).await?;

    let mut superseded = entry.clone();
    superseded.status = EntryStatus::Superseded;
    let mut edited = record.clone();
    edited.revision = 2;
    assert!(matches!(
        store
            .apply(vec![ObjectWrite {
                record: edited,
                insert: false,
                entries: vec![
                    EntryWrite::Update {
                        entry: superseded,
                        expected_version: entry.version + 3,
                    },
                    EntryWrite::Insert(second),
                ],
                log: Vec::new(),
            }])
            .await,
        Err(ModerationError::Conflict { expected, actual, .. })
            if expected == entry.version + 3 && actual == entry.version
    ));
    unchanged(store.clone()).await?;

    let mut unknown = approved.clone();
    unknown.id = EntryId(entry.id.0 + 1_000_000);
    assert!(matches!(
        store
            .apply(vec![ObjectWrite {
                record: record.clone(),
                insert: false,
                entries: vec![EntryWrite::Update {
                    entry: unknown,
                    expected_version: 1,
                }],
                log: Vec::new(),
            }])
            .await,
        Err(ModerationError::UnknownEntry { entry: id }) if id == entry.id.0 + 1_000_000
    ));
    unchanged(store.clone()).await?;

    // The first write of the batch is valid; the second is stale.
    let mut other = harness.record(2).await?;
    other.version += 1;
    let other_version = other.version;
    assert!(matches!(
        store
            .apply(vec![
                decision(record.clone(), entry.version),
                ObjectWrite {
                    record: other,
                    insert: false,
                    entries: Vec::new(),
                    log: Vec::new(),
                },
            ])
            .await,
        Err(ModerationError::ObjectConflict { expected, .. }) if expected == other_version
    ));
    unchanged(store).await
}

/// SPEC A3: an object of a kind the workflow does not moderate is saved by
/// the application as usual and stays public; the workflow writes no
/// record, entry, event or notification for it. A kind unregistered after
/// use keeps what was stored and is moderated again once re-registered.
///
/// # Errors
/// A failed assertion or store error.
pub async fn unregistered_kinds_are_left_public(store: Arc<dyn ObjectStore>) -> ScenarioResult {
    let events = Arc::new(RecordingEventSink::new());
    let notes = Arc::new(RecordingNotifier::new());
    let workflow = ObjectWorkflow::builder(store)
        .clock(Arc::new(ManualClock::new(base_time())))
        .events(events.clone())
        .notifier(notes.clone())
        .moderators(Recipients::Fixed(vec![MODERATORS.to_owned()]))
        .build();
    let created = workflow.create(&plain(1), &profile(1, "first")).await?;
    assert_eq!(created.outcome, SaveOutcome::NotModerated);
    assert!(created.entry.is_none());
    assert_eq!(
        (created.record.state, created.record.status),
        (ObjectState::Ready, ObjectStatus::Approved)
    );
    let edited = workflow.edit(&plain(1), &profile(1, "second")).await?;
    assert_eq!(edited.outcome, SaveOutcome::NotModerated);
    assert_eq!(
        workflow.public_version(&profile_ref(1)?).await?,
        PublicRead::Unmoderated
    );
    assert!(workflow.history(&profile_ref(1)?).await?.is_empty());
    assert!(
        workflow
            .pending(&PendingQuery::first(10))
            .await?
            .entries
            .is_empty()
    );
    assert!(events.events().is_empty() && notes.sent().is_empty());

    // A kind taken out of moderation: its queued object stays as stored,
    // and later saves are left alone until it is registered again.
    workflow.register_type::<Listing>(WorkflowOptions::new())?;
    let listing = |title: &str| Listing {
        slug: "lamp".into(),
        title: title.into(),
        price: 100,
    };
    let queued = workflow.create(&plain(2), &listing("lamp")).await?;
    assert_eq!(queued.outcome, SaveOutcome::Queued);
    let kind = Kind::new("listing")?;
    workflow.unregister(&kind)?;
    assert!(matches!(
        workflow.unregister(&kind),
        Err(ModerationError::NotModerated { .. })
    ));
    let edited = workflow.edit(&plain(2), &listing("brass lamp")).await?;
    assert_eq!(edited.outcome, SaveOutcome::NotModerated);
    let lamp = ObjectRef::new(kind, ObjectId::Str("lamp".into()));
    assert_eq!(workflow.public_version(&lamp).await?, PublicRead::Hidden);
    workflow.register_type::<Listing>(WorkflowOptions::new())?;
    let pending = workflow.pending(&PendingQuery::first(10)).await?.entries;
    assert_eq!(
        pending
            .iter()
            .map(|entry| &entry.object)
            .collect::<Vec<_>>(),
        vec![&lamp],
        "the queued create waits again"
    );
    Ok(())
}
