//! Diffs of pending changes (C16): what a moderator sees in the queue.

use moderation_diff::{DiffOptions, RecordDiff};
use serde_json::Value;

use super::entry::{EntryId, ObjectEntry};
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
            .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
        let diff_options = scoped(&options.diff, &options.scope);
        Ok(RecordDiff::between(
            &public,
            &entry.snapshot,
            &diff_options,
        )?)
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
}
