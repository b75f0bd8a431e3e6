//! The editor's view (C15): which version an edit form starts from.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::entry::EntryStatus;
use super::service::ObjectWorkflow;
use crate::actor::Actor;
use crate::error::ModerationError;
use crate::ids::ObjectRef;

/// Where an [`EditorView`]'s version comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EditorSource {
    /// The editor's own change, still waiting for review.
    Pending,
    /// The editor's own change, rejected: they can fix it and resubmit.
    Rejected,
    /// The public version (someone else's change may be pending).
    Public,
}

/// The version an editor should start from, and why that one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditorView {
    /// The version to fill the form with.
    pub version: Value,
    /// Where it comes from.
    pub source: EditorSource,
}

impl ObjectWorkflow {
    /// What `editor` should start editing `object` from: their own pending
    /// or rejected change when the newest entry is theirs, else the public
    /// version. `None` when the object has no record (the application's own
    /// row is the version) or is hidden from this editor.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    pub async fn editor_view(
        &self,
        editor: &Actor,
        object: &ObjectRef,
    ) -> Result<Option<EditorView>, ModerationError> {
        let Some(record) = self.record(object).await? else {
            return Ok(None);
        };
        if record.revision > 0 && editor.user.is_some() {
            let latest = self.store().revision(object, record.revision).await?;
            if let Some(entry) = latest.filter(|entry| entry.submitted_by == editor.user) {
                let source = match entry.status {
                    EntryStatus::Pending => Some(EditorSource::Pending),
                    EntryStatus::Rejected => Some(EditorSource::Rejected),
                    EntryStatus::Approved | EntryStatus::Superseded => None,
                };
                if let Some(source) = source {
                    return Ok(Some(EditorView {
                        version: record.current,
                        source,
                    }));
                }
            }
        }
        Ok(record.public.map(|version| EditorView {
            version,
            source: EditorSource::Public,
        }))
    }
}
