//! The workflow in memory: [`MemoryStore`] implements [`ObjectStore`] and
//! [`ReviewedObjectStore`], the reference semantics of both.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;

use super::entry::{EntryId, EntryStatus, ObjectEntry};
use super::record::ModeratedObject;
use super::reviewed::{ReviewWrites, ReviewedObjectStore, ReviewedWrite};
use super::store::{
    EntryPage, EntryWrite, ObjectStore, ObjectWrite, PendingQuery, PublicObject, PublicRead,
    StoredWrite,
};
use crate::error::ModerationError;
use crate::ids::{ItemId, Kind, ObjectId, ObjectRef};
use crate::memory::MemoryStore;
use crate::modlog::NewModLogEntry;

/// The workflow's part of a [`MemoryStore`]'s state: records and entries.
#[derive(Debug, Default)]
pub(crate) struct ObjectTables {
    objects: HashMap<ObjectRef, ModeratedObject>,
    entries: BTreeMap<EntryId, ObjectEntry>,
    last_entry: i64,
}

/// Object writes checked against the tables, nothing changed yet.
pub(crate) struct StagedWrites {
    objects: HashMap<ObjectRef, ModeratedObject>,
    entries: BTreeMap<EntryId, ObjectEntry>,
    last_entry: i64,
    stored: Vec<StoredWrite>,
    log: Vec<NewModLogEntry>,
}

/// The in-memory [`ObjectStore`] is the [`MemoryStore`]: records and
/// entries sit under the lock of its items and review queue, so a change
/// and its review item commit together (see [`ReviewedObjectStore`]).
/// It is the reference the SQL stores are tested against.
///
/// ```
/// use moderation_core::workflow::{MemoryObjectStore, ObjectStore, PublicRead};
/// use moderation_core::{Kind, ObjectRef};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let store = MemoryObjectStore::new();
/// let profile = ObjectRef::new(Kind::new("profile")?, 1_i64);
/// assert_eq!(store.public_version(&profile).await?, PublicRead::Unmoderated);
/// # Ok::<(), moderation_core::ModerationError>(())
/// # }).unwrap();
/// ```
pub type MemoryObjectStore = MemoryStore;

impl MemoryStore {
    fn read<R>(&self, f: impl FnOnce(&ObjectTables) -> R) -> R {
        f(&self.lock().objects)
    }
}

impl ObjectTables {
    /// Checks `writes` against the stored versions: what they would store,
    /// nothing changed yet, so a conflict in the last write leaves the
    /// store untouched, as a rolled-back transaction would.
    pub(crate) fn stage(&self, writes: Vec<ObjectWrite>) -> Result<StagedWrites, ModerationError> {
        let mut objects: HashMap<ObjectRef, ModeratedObject> = HashMap::new();
        let mut entries: BTreeMap<EntryId, ObjectEntry> = BTreeMap::new();
        let mut last_entry = self.last_entry;
        let mut stored = Vec::with_capacity(writes.len());
        let mut log = Vec::new();
        for write in &writes {
            for entry in &write.log {
                entry.validate()?;
            }
        }
        for write in writes {
            log.extend(write.log);
            let mut written = Vec::with_capacity(write.entries.len());
            for entry_write in write.entries {
                match entry_write {
                    EntryWrite::Insert(new) => {
                        last_entry += 1;
                        let entry = new.stored(EntryId(last_entry));
                        entries.insert(entry.id, entry.clone());
                        written.push(entry);
                    }
                    EntryWrite::Update {
                        mut entry,
                        expected_version,
                    } => {
                        let actual = entries
                            .get(&entry.id)
                            .or_else(|| self.entries.get(&entry.id))
                            .map(|stored| stored.version)
                            .ok_or(ModerationError::UnknownEntry { entry: entry.id.0 })?;
                        if actual != expected_version {
                            return Err(ModerationError::Conflict {
                                item: ItemId(entry.id.0),
                                expected: expected_version,
                                actual,
                            });
                        }
                        entry.version = actual + 1;
                        entries.insert(entry.id, entry.clone());
                        written.push(entry);
                    }
                }
            }
            let mut record = write.record;
            let actual = objects
                .get(&record.object)
                .or_else(|| self.objects.get(&record.object))
                .map_or(0, |stored| stored.version);
            let expected = if write.insert { 0 } else { record.version };
            if actual != expected {
                return Err(ModerationError::ObjectConflict {
                    object: record.object,
                    expected,
                    actual,
                });
            }
            record.version = actual + 1;
            objects.insert(record.object.clone(), record.clone());
            stored.push(StoredWrite {
                record,
                entries: written,
            });
        }
        Ok(StagedWrites {
            objects,
            entries,
            last_entry,
            stored,
            log,
        })
    }

    /// Stores what [`ObjectTables::stage`] checked; returns the writes as
    /// stored and their moderation-log entries, which the caller appends
    /// under the same lock.
    pub(crate) fn commit(
        &mut self,
        staged: StagedWrites,
    ) -> (Vec<StoredWrite>, Vec<NewModLogEntry>) {
        self.objects.extend(staged.objects);
        self.entries.extend(staged.entries);
        self.last_entry = staged.last_entry;
        (staged.stored, staged.log)
    }
}

#[async_trait]
impl ObjectStore for MemoryStore {
    async fn object(&self, object: &ObjectRef) -> Result<Option<ModeratedObject>, ModerationError> {
        Ok(self.read(|state| state.objects.get(object).cloned()))
    }

    async fn objects(
        &self,
        objects: &[ObjectRef],
    ) -> Result<Vec<ModeratedObject>, ModerationError> {
        Ok(self.read(|state| {
            objects
                .iter()
                .filter_map(|object| state.objects.get(object).cloned())
                .collect()
        }))
    }

    async fn entries(&self, ids: &[EntryId]) -> Result<Vec<ObjectEntry>, ModerationError> {
        Ok(self.read(|state| {
            ids.iter()
                .filter_map(|id| state.entries.get(id).cloned())
                .collect()
        }))
    }

    async fn revision(
        &self,
        object: &ObjectRef,
        revision: i64,
    ) -> Result<Option<ObjectEntry>, ModerationError> {
        Ok(self.read(|state| {
            state
                .entries
                .values()
                .find(|entry| &entry.object == object && entry.revision == revision)
                .cloned()
        }))
    }

    async fn history(&self, object: &ObjectRef) -> Result<Vec<ObjectEntry>, ModerationError> {
        let mut entries: Vec<ObjectEntry> = self.read(|state| {
            state
                .entries
                .values()
                .filter(|entry| &entry.object == object)
                .cloned()
                .collect()
        });
        entries.sort_by_key(|entry| entry.revision);
        Ok(entries)
    }

    async fn pending(&self, query: &PendingQuery) -> Result<EntryPage, ModerationError> {
        let limit = query.clamped_limit();
        let mut entries: Vec<ObjectEntry> = self.read(|state| {
            state
                .entries
                .values()
                .filter(|entry| entry.status == EntryStatus::Pending)
                .filter(|entry| {
                    query
                        .kind
                        .as_ref()
                        .is_none_or(|kind| &entry.object.kind == kind)
                })
                .filter(|entry| {
                    query.after.is_none_or(|after| {
                        (entry.submitted_at, entry.id) > (after.submitted_at, after.id)
                    })
                })
                .cloned()
                .collect()
        });
        entries.sort_by_key(|entry| (entry.submitted_at, entry.id));
        entries.truncate(limit.saturating_add(1));
        Ok(EntryPage::from_fetched(entries, limit))
    }

    async fn public_version(&self, object: &ObjectRef) -> Result<PublicRead, ModerationError> {
        Ok(self.read(|state| match state.objects.get(object) {
            None => PublicRead::Unmoderated,
            Some(record) => record
                .public
                .clone()
                .map_or(PublicRead::Hidden, PublicRead::Public),
        }))
    }

    async fn hidden_among(
        &self,
        kind: &Kind,
        ids: &[ObjectId],
    ) -> Result<Vec<ObjectId>, ModerationError> {
        Ok(self.read(|state| {
            ids.iter()
                .filter(|id| {
                    state
                        .objects
                        .get(&ObjectRef::new(kind.clone(), (*id).clone()))
                        .is_some_and(|record| record.public.is_none())
                })
                .cloned()
                .collect()
        }))
    }

    async fn public_page(
        &self,
        kind: &Kind,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> Result<Vec<PublicObject>, ModerationError> {
        // Key order, as the SQL stores sort by the stored key text.
        let after = after.map(ObjectId::to_key);
        let mut page: Vec<(String, PublicObject)> = self.read(|state| {
            state
                .objects
                .values()
                .filter(|record| &record.object.kind == kind)
                .filter_map(|record| {
                    let key = record.object.id.to_key();
                    let newer = after.as_ref().is_none_or(|after| &key > after);
                    let version = record.public.clone().filter(|_| newer)?;
                    Some((
                        key,
                        PublicObject {
                            id: record.object.id.clone(),
                            version,
                        },
                    ))
                })
                .collect()
        });
        page.sort_by(|a, b| a.0.cmp(&b.0));
        page.truncate(limit.clamp(1, super::store::MAX_WORKFLOW_PAGE));
        Ok(page.into_iter().map(|(_, object)| object).collect())
    }

    async fn apply(&self, writes: Vec<ObjectWrite>) -> Result<Vec<StoredWrite>, ModerationError> {
        let mut state = self.lock();
        let staged = state.objects.stage(writes)?;
        let (stored, log) = state.objects.commit(staged);
        // Appended under the state lock, so no reader sees the decision
        // without its log entry.
        state.append_mod_log_entries(log);
        Ok(stored)
    }
}

#[async_trait]
impl ReviewedObjectStore for MemoryStore {
    async fn apply_reviewed(
        &self,
        writes: Vec<ObjectWrite>,
        reviews: ReviewWrites,
    ) -> Result<ReviewedWrite, ModerationError> {
        for review in &reviews.open {
            review.validate()?;
        }
        let mut state = self.lock();
        // Everything is checked before anything changes: all or nothing.
        let staged = state.objects.stage(writes)?;
        let checked = state.reviews.check_batch(&reviews.transitions)?;
        let (objects, mut log) = state.objects.commit(staged);
        let mut opened = Vec::with_capacity(reviews.open.len());
        for review in reviews.open {
            opened.push(state.reviews.open(review)?);
        }
        let (transitioned, entries) = state.reviews.commit_batch(&reviews.transitions, checked);
        log.extend(entries);
        state.append_mod_log_entries(log);
        Ok(ReviewedWrite {
            objects,
            opened,
            transitioned,
        })
    }
}
