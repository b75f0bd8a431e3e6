//! Diffs of pending changes (C16): what a moderator sees in the queue, and
//! what each entry of an object's history changed (C6).

use moderation_diff::{DiffOptions, RecordDiff};
use serde_json::Value;

use super::entry::{EntryId, ObjectEntry};
use super::options::WorkflowOptions;
use super::scope::FieldScope;
use super::service::ObjectWorkflow;
use crate::error::ModerationError;

/// The kind's diff options with the unmoderated fields hidden: edits to
/// them apply at once, so they never wait in the queue.
fn scoped(options: &DiffOptions, scope: &FieldScope) -> DiffOptions {
    match scope {
        FieldScope::All => options.clone(),
        FieldScope::Exclude(fields) => fields.iter().fold(options.clone(), |options, field| {
            options.exclude(field.clone())
        }),
        FieldScope::Only(fields) => fields.iter().fold(options.clone(), |options, field| {
            options.only(field.clone())
        }),
    }
}

impl ObjectWorkflow {
    /// The diff between the public version and `entry`'s version, with the
    /// kind's labels and resolvers and its unmoderated fields hidden. A
    /// hidden object is compared with an empty record, so every field shows
    /// as added. Snapshots written before a field was added or removed
    /// diff like any other (the field shows as added or removed).
    ///
    /// Render it with [`RecordDiff::to_html`], [`RecordDiff::to_json`] or
    /// [`RecordDiff::to_unified_text`].
    ///
    /// # Errors
    /// [`ModerationError::NotModerated`] for an unregistered kind,
    /// [`ModerationError::Diff`] when the versions cannot be compared.
    pub async fn diff(&self, entry: &ObjectEntry) -> Result<RecordDiff, ModerationError> {
        let options = self.options(&entry.object.kind)?;
        let public = self
            .record(&entry.object)
            .await?
            .and_then(|record| record.public)
            .unwrap_or_else(empty);
        compare(&options, &public, entry)
    }

    /// [`ObjectWorkflow::diff`] of the entry with id `entry`.
    ///
    /// # Errors
    /// [`ModerationError::UnknownEntry`] when there is no such entry,
    /// otherwise as [`ObjectWorkflow::diff`].
    pub async fn diff_entry(&self, entry: EntryId) -> Result<RecordDiff, ModerationError> {
        let loaded = self
            .entry(entry)
            .await?
            .ok_or(ModerationError::UnknownEntry { entry: entry.0 })?;
        self.diff(&loaded).await
    }

    /// The diff between the revision before the entry with id `entry` and
    /// that entry: what this one submission changed, whatever was decided
    /// about either of them, so a history shows each change on its own.
    /// Labels, resolvers and hidden fields are as in [`ObjectWorkflow::diff`].
    ///
    /// The revision before is the object's entry one revision lower
    /// (fetched alone, not with the whole history), whether it was
    /// approved, rejected or superseded. An
    /// object's first entry has none and is compared with an empty record,
    /// so every field shows as added. That holds for an object imported
    /// or saved with [`ObjectWorkflow::edit_pre_existing`] too: its original
    /// version was never an entry. Without
    /// [`WorkflowOptions::keep_history`](super::WorkflowOptions::keep_history)
    /// an object has one entry, reused by every edit, so there is no earlier
    /// revision to compare with.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use moderation_core::workflow::{MemoryObjectStore, ObjectWorkflow, WorkflowOptions};
    /// use moderation_core::{Actor, Moderated, ModerationError, ObjectId, UserId};
    ///
    /// #[derive(serde::Serialize)]
    /// struct Profile { id: i64, bio: String, city: String }
    /// impl Moderated for Profile {
    ///     const KIND: &'static str = "profile";
    ///     fn object_id(&self) -> ObjectId { ObjectId::from(self.id) }
    /// }
    ///
    /// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
    /// let workflow = ObjectWorkflow::builder(Arc::new(MemoryObjectStore::new())).build();
    /// workflow.register_type::<Profile>(WorkflowOptions::new().keep_history(true))?;
    /// let alice = Actor::user(UserId::from(7_i64));
    /// let moderator = Actor::user(UserId::from(1_i64));
    /// let no_entry = || ModerationError::Config("no entry".into());
    ///
    /// let first = workflow.create(&alice, &Profile { id: 1, bio: "Hi".into(), city: "Oslo".into() }).await?;
    /// workflow.approve(&moderator, first.entry.as_ref().ok_or_else(no_entry)?.into(), None).await?;
    /// let second = workflow.edit(&alice, &Profile { id: 1, bio: "Hello".into(), city: "Oslo".into() }).await?;
    /// let second = second.entry.ok_or_else(no_entry)?;
    /// workflow.approve(&moderator, (&second).into(), None).await?;
    /// workflow.edit(&alice, &Profile { id: 1, bio: "Hello".into(), city: "Bergen".into() }).await?;
    ///
    /// // The second entry changed the bio only, although the latest edit
    /// // changed the city since.
    /// let diff = workflow.diff_with_previous(second.id).await?;
    /// let changed: Vec<String> = diff
    ///     .changes()
    ///     .iter()
    ///     .filter(|field| field.kind() != moderation_diff::ChangeKind::Unchanged)
    ///     .map(|field| field.path().to_string())
    ///     .collect();
    /// assert_eq!(changed, ["bio"]);
    /// # Ok::<(), ModerationError>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`ModerationError::UnknownEntry`] when there is no such entry,
    /// otherwise as [`ObjectWorkflow::diff`].
    pub async fn diff_with_previous(&self, entry: EntryId) -> Result<RecordDiff, ModerationError> {
        let loaded = self
            .entry(entry)
            .await?
            .ok_or(ModerationError::UnknownEntry { entry: entry.0 })?;
        let options = self.options(&loaded.object.kind)?;
        // Only a save that opens an entry advances the revision, so the
        // entries are revisions 1, 2, 3, ... and the one before is a single
        // unique-key lookup, whatever the length of the history.
        let previous = match loaded.revision.checked_sub(1).filter(|&r| r > 0) {
            Some(revision) => self.store().revision(&loaded.object, revision).await?,
            None => None,
        }
        .map_or_else(empty, |earlier| earlier.snapshot);
        compare(&options, &previous, &loaded)
    }
}

/// The diff from `old` to `entry`'s version under its kind's `options`.
fn compare(
    options: &WorkflowOptions,
    old: &Value,
    entry: &ObjectEntry,
) -> Result<RecordDiff, ModerationError> {
    let diff_options = scoped(&options.diff, &options.scope);
    Ok(RecordDiff::between(old, &entry.snapshot, &diff_options)?)
}

/// The version compared with when there is none: every field is added.
fn empty() -> Value {
    Value::Object(serde_json::Map::new())
}
