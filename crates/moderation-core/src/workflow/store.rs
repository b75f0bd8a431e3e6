//! The `ObjectStore` port: where moderated objects and their entries live.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::entry::{EntryId, NewEntry, ObjectEntry};
use super::record::ModeratedObject;
use crate::error::ModerationError;
use crate::ids::{Kind, ObjectId, ObjectRef};
use crate::modlog::NewModLogEntry;

/// The most entries or objects one page holds.
pub const MAX_WORKFLOW_PAGE: usize = 1_000;

/// A change to one entry inside an [`ObjectWrite`].
#[derive(Debug, Clone, PartialEq)]
pub enum EntryWrite {
    /// Opens a new entry.
    Insert(NewEntry),
    /// Replaces a stored entry, if it still has `expected_version`.
    Update {
        /// The entry as it should be stored (its `version` is ignored).
        entry: ObjectEntry,
        /// The version the caller read.
        expected_version: i64,
    },
}

/// One object's change: its record, the entries it touches and its
/// moderation-log entries, stored together or not at all.
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectWrite {
    /// The record as it should be stored. Its `version` is the version the
    /// caller read (ignored on insert); the store writes `version + 1`.
    pub record: ModeratedObject,
    /// True to insert a record that must not exist yet.
    pub insert: bool,
    /// The entries written with it.
    pub entries: Vec<EntryWrite>,
    /// The moderation-log entries of the decision it carries (none for a
    /// queued or unmoderated change), appended in the same transaction.
    pub log: Vec<NewModLogEntry>,
}

/// What a stored [`ObjectWrite`] became.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredWrite {
    /// The record as stored, with its new version.
    pub record: ModeratedObject,
    /// The written entries as stored, in the order of the write.
    pub entries: Vec<ObjectEntry>,
}

/// What a public read finds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "visibility", content = "version", rename_all = "snake_case")]
pub enum PublicRead {
    /// The object has no moderation record: it predates moderation (or was
    /// never saved through it), and the application's own row is public.
    Unmoderated,
    /// The public version.
    Public(Value),
    /// The object exists but is not public.
    Hidden,
}

/// A position in the pending list: the `(submitted_at, id)` of the last
/// entry seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryCursor {
    /// The last entry's submission time.
    pub submitted_at: DateTime<Utc>,
    /// The last entry's id.
    pub id: EntryId,
}

/// Which pending entries to list, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingQuery {
    /// Only this kind, or every kind.
    pub kind: Option<Kind>,
    /// Start after this entry.
    pub after: Option<EntryCursor>,
    /// At most this many entries (clamped to 1..=[`MAX_WORKFLOW_PAGE`]).
    pub limit: usize,
}

impl PendingQuery {
    /// The first page of up to `limit` pending entries of every kind.
    #[must_use]
    pub fn first(limit: usize) -> Self {
        Self {
            kind: None,
            after: None,
            limit,
        }
    }

    /// The limit, clamped to 1..=[`MAX_WORKFLOW_PAGE`].
    #[must_use]
    pub fn clamped_limit(&self) -> usize {
        self.limit.clamp(1, MAX_WORKFLOW_PAGE)
    }
}

/// One page of entries and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryPage {
    /// The entries, oldest first.
    pub entries: Vec<ObjectEntry>,
    /// The cursor for the next page; `None` on the last page.
    pub next: Option<EntryCursor>,
}

impl EntryPage {
    /// A page from up to `limit + 1` fetched entries: the extra one only
    /// says a next page exists.
    #[must_use]
    pub fn from_fetched(mut entries: Vec<ObjectEntry>, limit: usize) -> Self {
        let more = entries.len() > limit;
        entries.truncate(limit);
        let next = if more {
            entries.last().map(|entry| EntryCursor {
                submitted_at: entry.submitted_at,
                id: entry.id,
            })
        } else {
            None
        };
        Self { entries, next }
    }
}

/// One public object in a [`ObjectStore::public_page`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PublicObject {
    /// The object's id.
    pub id: ObjectId,
    /// Its public version.
    pub version: Value,
}

/// Stores moderated objects and their entries.
///
/// Every read is one indexed lookup; none grows with the table (C13).
/// [`ObjectStore::apply`] is the only write: all of its writes commit in one
/// transaction or none does, and each record and entry is written only if
/// it still has the version the caller read.
#[async_trait]
pub trait ObjectStore: Send + Sync + fmt::Debug {
    /// The record of one object.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    async fn object(&self, object: &ObjectRef) -> Result<Option<ModeratedObject>, ModerationError>;

    /// The records of several objects (absent ones are left out), in one query.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    async fn objects(&self, objects: &[ObjectRef])
    -> Result<Vec<ModeratedObject>, ModerationError>;

    /// Entries by id (absent ones are left out), in one query.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    async fn entries(&self, ids: &[EntryId]) -> Result<Vec<ObjectEntry>, ModerationError>;

    /// Entries by id with their objects' records, for decisions on them:
    /// absent entries are left out. The default reads entries, then
    /// records; SQL stores override it with one joined query. A write
    /// follows this read, so a store may serve it from its write connection
    /// (the SQLite store does).
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    async fn decision_targets(
        &self,
        ids: &[EntryId],
    ) -> Result<Vec<(ObjectEntry, ModeratedObject)>, ModerationError> {
        let entries = self.entries(ids).await?;
        let refs: Vec<ObjectRef> = entries.iter().map(|entry| entry.object.clone()).collect();
        let records: std::collections::HashMap<ObjectRef, ModeratedObject> = self
            .objects(&refs)
            .await?
            .into_iter()
            .map(|record| (record.object.clone(), record))
            .collect();
        Ok(entries
            .into_iter()
            .filter_map(|entry| {
                let record = records.get(&entry.object).cloned()?;
                Some((entry, record))
            })
            .collect())
    }

    /// The record of one object with its newest entry (`None` while it has
    /// none), which an edit plans from. The default reads the record, then
    /// the entry of its revision; SQL stores override it with one joined
    /// query. As with [`decision_targets`](ObjectStore::decision_targets),
    /// a store may serve it from its write connection.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    async fn object_with_latest(
        &self,
        object: &ObjectRef,
    ) -> Result<Option<(ModeratedObject, Option<ObjectEntry>)>, ModerationError> {
        let Some(record) = self.object(object).await? else {
            return Ok(None);
        };
        let latest = if record.revision == 0 {
            None
        } else {
            self.revision(object, record.revision).await?
        };
        Ok(Some((record, latest)))
    }

    /// One revision's entry of one object: a unique-key lookup, whatever
    /// the length of the history.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    async fn revision(
        &self,
        object: &ObjectRef,
        revision: i64,
    ) -> Result<Option<ObjectEntry>, ModerationError>;

    /// Every entry of one object, oldest revision first.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    async fn history(&self, object: &ObjectRef) -> Result<Vec<ObjectEntry>, ModerationError>;

    /// Pending entries, oldest first, one keyset page.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    async fn pending(&self, query: &PendingQuery) -> Result<EntryPage, ModerationError>;

    /// What public reads see of one object: a primary-key lookup.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    async fn public_version(&self, object: &ObjectRef) -> Result<PublicRead, ModerationError>;

    /// The ids among `ids` that public reads must not show, in one query:
    /// an application filters its own list with it. Ids without a record
    /// are public, so they are never returned.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    async fn hidden_among(
        &self,
        kind: &Kind,
        ids: &[ObjectId],
    ) -> Result<Vec<ObjectId>, ModerationError>;

    /// Public objects of one kind in key order, after `after`'s key.
    ///
    /// # Errors
    /// [`ModerationError::Store`] when the store fails.
    async fn public_page(
        &self,
        kind: &Kind,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> Result<Vec<PublicObject>, ModerationError>;

    /// Stores every write in one transaction.
    ///
    /// # Errors
    /// [`ModerationError::Conflict`] when an entry no longer has its
    /// expected version, [`ModerationError::ObjectConflict`] when a record
    /// changed or (on insert) already exists; nothing is written then.
    /// [`ModerationError::Store`] when the store fails.
    async fn apply(&self, writes: Vec<ObjectWrite>) -> Result<Vec<StoredWrite>, ModerationError>;
}
