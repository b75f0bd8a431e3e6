//! What both SQL backends share for moderation-core's `ObjectStore`, the
//! object moderation workflow: one record per moderated object in
//! `moderated_objects`, one entry per submitted revision in
//! `moderation_entries`, and the decisions' rows in `moderation_log`.
//!
//! The statements both backends run, the values they bind, the row
//! decoding and the pure decisions of a write (whether a batch of
//! decisions can be written a table at a time, which conflict a version
//! check that matched nothing reports) are here; `sqlite::objects` and
//! `postgres::objects` run them on their own connections.
//!
//! Every record and entry carries a version. A write changes a row only
//! `WHERE ... AND version = <the version the caller read>`; a write that
//! matches no row stops the whole change, and the error names what is
//! there now, read after the miss.

use std::collections::{HashMap, HashSet};

use moderation_core::workflow::{
    EntryId, EntryStatus, EntryWrite, ModeratedObject, NewEntry, ObjectEntry, ObjectState,
    ObjectStatus, ObjectWrite, StoredWrite,
};
use moderation_core::{ItemId, Kind, ModerationError, ObjectId, ObjectRef, UserId};
use serde_json::Value;
use sqlx::query::Query;

use crate::error::StorageError;
use crate::json::{self, JsonColumn};
use crate::options::StoreLimits;
use crate::record::{object_key, to_micros};

/// One object's record.
pub(crate) const SELECT_OBJECT: &str = "SELECT kind, object_key, state, status, decided_by, \
     decided_at, reason, public_version, approved_version, current_version, revision, version, \
     created_at, updated_at FROM moderated_objects WHERE kind = $1 AND object_key = $2";

/// One object's record with its newest entry, entry columns first as in a
/// decision target row; they are NULL while the record has no entry.
pub(crate) const SELECT_OBJECT_WITH_LATEST: &str = "SELECT e.id, e.kind, e.object_key, \
     e.revision, e.status, e.snapshot, e.submitted_by, e.submitted_at, e.decided_by, \
     e.decided_at, e.reason, e.version, o.kind, o.object_key, o.state, o.status, o.decided_by, \
     o.decided_at, o.reason, o.public_version, o.approved_version, o.current_version, \
     o.revision, o.version, o.created_at, o.updated_at \
     FROM moderated_objects AS o LEFT JOIN moderation_entries AS e \
     ON e.kind = o.kind AND e.object_key = o.object_key AND e.revision = o.revision \
     WHERE o.kind = $1 AND o.object_key = $2";

/// What public reads see of one object (NULL: hidden).
pub(crate) const SELECT_PUBLIC: &str =
    "SELECT public_version FROM moderated_objects WHERE kind = $1 AND object_key = $2";

/// A record's version, read to report a conflict.
pub(crate) const SELECT_OBJECT_VERSION: &str =
    "SELECT version FROM moderated_objects WHERE kind = $1 AND object_key = $2";

/// Public objects of kind `$1` after key `$2`, at most `$3`, in key order.
pub(crate) const PUBLIC_PAGE: &str = "SELECT object_key, public_version FROM moderated_objects \
     WHERE kind = $1 AND object_key > $2 AND public_version IS NOT NULL \
     ORDER BY object_key LIMIT $3";

/// Every entry of one object, oldest revision first.
pub(crate) const SELECT_HISTORY: &str = "SELECT id, kind, object_key, revision, status, \
     snapshot, submitted_by, submitted_at, decided_by, decided_at, reason, version \
     FROM moderation_entries WHERE kind = $1 AND object_key = $2 ORDER BY revision";

/// One revision's entry of one object.
pub(crate) const SELECT_REVISION: &str = "SELECT id, kind, object_key, revision, status, \
     snapshot, submitted_by, submitted_at, decided_by, decided_at, reason, version \
     FROM moderation_entries WHERE kind = $1 AND object_key = $2 AND revision = $3";

/// An entry's version, read to report a conflict.
pub(crate) const SELECT_ENTRY_VERSION: &str =
    "SELECT version FROM moderation_entries WHERE id = $1";

/// Pending entries oldest first after the cursor `($1, $2)`, at most `$3`;
/// the first page starts at the smallest cursor, so one statement serves
/// every page.
pub(crate) const PENDING: &str = "SELECT id, kind, object_key, revision, status, snapshot, \
     submitted_by, submitted_at, decided_by, decided_at, reason, version \
     FROM moderation_entries WHERE status = 'pending' \
     AND (submitted_at > $1 OR (submitted_at = $1 AND id > $2)) \
     ORDER BY submitted_at, id LIMIT $3";

/// [`PENDING`] of kind `$4` only.
pub(crate) const PENDING_OF_KIND: &str = "SELECT id, kind, object_key, revision, status, \
     snapshot, submitted_by, submitted_at, decided_by, decided_at, reason, version \
     FROM moderation_entries WHERE kind = $4 AND status = 'pending' \
     AND (submitted_at > $1 OR (submitted_at = $1 AND id > $2)) \
     ORDER BY submitted_at, id LIMIT $3";

/// A new record at version 1; it changes nothing when the object already
/// has one, which the caller reports as a conflict.
pub(crate) const INSERT_OBJECT: &str = "INSERT INTO moderated_objects (kind, object_key, state, \
     status, decided_by, decided_at, reason, public_version, approved_version, current_version, \
     revision, version, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $13) \
     ON CONFLICT (kind, object_key) DO NOTHING";

/// Writes the record only if it still has the version the caller read
/// (`$13`).
pub(crate) const UPDATE_OBJECT: &str = "UPDATE moderated_objects SET state = $3, status = $4, \
     decided_by = $5, decided_at = $6, reason = $7, public_version = $8, approved_version = $9, \
     current_version = $10, revision = $11, version = version + 1, updated_at = $12 \
     WHERE kind = $1 AND object_key = $2 AND version = $13";

/// A new entry at version 1; returns its id.
pub(crate) const INSERT_ENTRY: &str = "INSERT INTO moderation_entries (kind, object_key, \
     revision, status, snapshot, submitted_by, submitted_at, decided_by, decided_at, reason, \
     version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1) RETURNING id";

/// Writes entry `$1` only if it still has the version the caller read
/// (`$2`).
pub(crate) const UPDATE_ENTRY: &str = "UPDATE moderation_entries SET status = $3, \
     snapshot = $4, submitted_by = $5, submitted_at = $6, decided_by = $7, decided_at = $8, \
     reason = $9, version = version + 1 WHERE id = $1 AND version = $2";

/// How many columns of a decision target row belong to the entry.
pub(crate) const TARGET_ENTRY_COLUMNS: usize = 12;

/// A query on backend `DB` with its values bound.
pub(crate) type BoundQuery<'q, DB> = Query<'q, DB, <DB as sqlx::Database>::Arguments>;

/// A record as column values.
#[derive(Debug)]
pub(crate) struct EncodedObject {
    pub(crate) kind: String,
    pub(crate) key: String,
    pub(crate) state: &'static str,
    pub(crate) status: &'static str,
    pub(crate) decided_by: Option<String>,
    pub(crate) decided_at: Option<i64>,
    pub(crate) reason: Option<String>,
    pub(crate) public: Option<JsonColumn>,
    pub(crate) approved: Option<JsonColumn>,
    pub(crate) current: JsonColumn,
    pub(crate) revision: i64,
    /// The version the caller read (ignored on insert).
    pub(crate) version: i64,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

/// An entry's column values.
#[derive(Debug)]
pub(crate) struct EncodedEntry {
    pub(crate) status: &'static str,
    pub(crate) snapshot: JsonColumn,
    pub(crate) submitted_by: Option<String>,
    pub(crate) submitted_at: i64,
    pub(crate) decided_by: Option<String>,
    pub(crate) decided_at: Option<i64>,
    pub(crate) reason: Option<String>,
}

/// One object's change with every value encoded and checked, before any
/// SQL runs.
#[derive(Debug)]
pub(crate) struct EncodedWrite {
    /// The record as it should be stored; its version is the one read.
    pub(crate) record: ModeratedObject,
    /// Whether the record must not exist yet.
    pub(crate) insert: bool,
    /// The entries written, in the order of the write.
    pub(crate) entries: Vec<EntryWrite>,
    /// The record's column values.
    pub(crate) object: EncodedObject,
    /// Each entry's column values, in the order of [`Self::entries`].
    pub(crate) values: Vec<EncodedEntry>,
    /// The moderation-log rows of the change.
    pub(crate) log: Vec<crate::modlog::LogRow>,
}

impl EncodedWrite {
    /// The entry a decision (see [`is_batch`]) updates, the version it
    /// expects, and its values; `None` for any other shape.
    pub(crate) fn decision(&self) -> Option<(EntryId, i64, &EncodedEntry)> {
        match (self.insert, self.entries.as_slice(), self.values.as_slice()) {
            (
                false,
                [
                    EntryWrite::Update {
                        entry,
                        expected_version,
                    },
                ],
                [values],
            ) => Some((entry.id, *expected_version, values)),
            _ => None,
        }
    }

    /// The stored key of the record.
    pub(crate) fn key(&self) -> (&str, &str) {
        (&self.object.kind, &self.object.key)
    }
}

/// A record's key as an owned pair, for sets and maps of keys.
pub(crate) type RecordKey = (String, String);

/// A JSON version as a column value, refused when over the payload limit.
fn encode_json(value: &Value, limits: StoreLimits) -> Result<JsonColumn, ModerationError> {
    let encoded = json::encode(value)?;
    if json::len(&encoded) > limits.max_payload_bytes {
        return Err(ModerationError::PayloadTooLarge {
            len: json::len(&encoded),
            max: limits.max_payload_bytes,
        });
    }
    Ok(encoded)
}

fn encode_user(user: Option<&UserId>) -> Option<String> {
    user.map(|user| user.as_str().to_owned())
}

fn encode_new_entry(
    entry: &NewEntry,
    limits: StoreLimits,
) -> Result<EncodedEntry, ModerationError> {
    Ok(EncodedEntry {
        status: entry.status.as_str(),
        snapshot: encode_json(&entry.snapshot, limits)?,
        submitted_by: encode_user(entry.submitted_by.as_ref()),
        submitted_at: to_micros(entry.submitted_at),
        decided_by: encode_user(entry.decided_by.as_ref()),
        decided_at: entry.decided_at.map(to_micros),
        reason: entry.reason.clone(),
    })
}

fn encode_stored_entry(
    entry: &ObjectEntry,
    limits: StoreLimits,
) -> Result<EncodedEntry, ModerationError> {
    Ok(EncodedEntry {
        status: entry.status.as_str(),
        snapshot: encode_json(&entry.snapshot, limits)?,
        submitted_by: encode_user(entry.submitted_by.as_ref()),
        submitted_at: to_micros(entry.submitted_at),
        decided_by: encode_user(entry.decided_by.as_ref()),
        decided_at: entry.decided_at.map(to_micros),
        reason: entry.reason.clone(),
    })
}

/// The stored `(kind, key)` of an object.
pub(crate) fn encode_ref(object: &ObjectRef) -> Result<(String, String), ModerationError> {
    Ok((object.kind.as_str().to_owned(), object_key(&object.id)?))
}

/// Encodes `write`, checking every key, payload size and log entry.
///
/// # Errors
/// [`ModerationError::PayloadTooLarge`], an invalid id or log action, or
/// [`ModerationError::Config`] for a new entry of another object than the
/// record's.
pub(crate) fn encode_write(
    write: ObjectWrite,
    limits: StoreLimits,
) -> Result<EncodedWrite, ModerationError> {
    let ObjectWrite {
        record,
        insert,
        entries,
        log,
    } = write;
    let (kind, key) = encode_ref(&record.object)?;
    let object = EncodedObject {
        kind,
        key,
        state: record.state.as_str(),
        status: record.status.as_str(),
        decided_by: encode_user(record.decided_by.as_ref()),
        decided_at: record.decided_at.map(to_micros),
        reason: record.reason.clone(),
        public: record
            .public
            .as_ref()
            .map(|v| encode_json(v, limits))
            .transpose()?,
        approved: record
            .approved
            .as_ref()
            .map(|v| encode_json(v, limits))
            .transpose()?,
        current: encode_json(&record.current, limits)?,
        revision: record.revision,
        version: record.version,
        created_at: to_micros(record.created_at),
        updated_at: to_micros(record.updated_at),
    };
    let values = entries
        .iter()
        .map(|entry| match entry {
            EntryWrite::Insert(new) => {
                if new.object != record.object {
                    return Err(ModerationError::Config(format!(
                        "an entry of {} was written with the record of {}; write each object's entries with its own record",
                        new.object, record.object
                    )));
                }
                encode_new_entry(new, limits)
            }
            EntryWrite::Update { entry, .. } => encode_stored_entry(entry, limits),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let log = log
        .iter()
        .map(crate::modlog::LogRow::new)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(EncodedWrite {
        record,
        insert,
        entries,
        object,
        values,
        log,
    })
}

/// Encodes every write (see [`encode_write`]) before any SQL runs.
///
/// # Errors
/// As [`encode_write`], for the first write that fails.
pub(crate) fn encode_writes(
    writes: Vec<ObjectWrite>,
    limits: StoreLimits,
) -> Result<Vec<EncodedWrite>, ModerationError> {
    writes
        .into_iter()
        .map(|write| encode_write(write, limits))
        .collect()
}

/// Takes the moderation-log rows out of every write, in order: they are
/// inserted together once the records and entries are written.
pub(crate) fn take_log(writes: &mut [EncodedWrite]) -> Vec<crate::modlog::LogRow> {
    writes
        .iter_mut()
        .flat_map(|write| std::mem::take(&mut write.log))
        .collect()
}

/// Whether `writes` is written a table at a time (all entries in one
/// statement, then all records): more than one write, each a decision (an
/// existing record and one entry update, the shape every bulk action
/// plans), no entry or record named twice. A record named twice must see
/// the first write before the second is checked, so such a batch is
/// written one change at a time.
pub(crate) fn is_batch(writes: &[EncodedWrite]) -> bool {
    if writes.len() < 2 {
        return false;
    }
    let mut entries = HashSet::with_capacity(writes.len());
    let mut records = HashSet::with_capacity(writes.len());
    writes.iter().all(|write| {
        write
            .decision()
            .is_some_and(|(id, _, _)| entries.insert(id) && records.insert(write.key()))
    })
}

/// What a write stored: the record at its new version and the entries as
/// written, in the order of the write. `ids` are the ids of the new
/// entries, in order.
pub(crate) fn stored(
    write: EncodedWrite,
    ids: impl IntoIterator<Item = i64>,
) -> Result<StoredWrite, ModerationError> {
    let EncodedWrite {
        mut record,
        insert,
        entries,
        object,
        ..
    } = write;
    record.version = if insert { 1 } else { object.version + 1 };
    let mut ids = ids.into_iter();
    let entries = entries
        .into_iter()
        .map(|entry| match entry {
            EntryWrite::Insert(new) => ids
                .next()
                .map(|id| new.stored(EntryId(id)))
                .ok_or_else(|| ModerationError::store("a new entry's id was not returned")),
            EntryWrite::Update {
                mut entry,
                expected_version,
            } => {
                entry.version = expected_version + 1;
                Ok(entry)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(StoredWrite { record, entries })
}

/// The error for entry `id` that no longer has `expected`, given the
/// version it has now (`None`: it is gone).
pub(crate) fn entry_conflict(id: EntryId, expected: i64, actual: Option<i64>) -> ModerationError {
    match actual {
        None => ModerationError::UnknownEntry { entry: id.0 },
        Some(actual) => ModerationError::Conflict {
            item: ItemId(id.0),
            expected,
            actual,
        },
    }
}

/// The error for a write's record that no longer has the version the write
/// expected (0 on insert), given the version it has now (`None`: none).
pub(crate) fn record_conflict(write: &EncodedWrite, actual: Option<i64>) -> ModerationError {
    ModerationError::ObjectConflict {
        object: write.record.object.clone(),
        expected: if write.insert {
            0
        } else {
            write.object.version
        },
        actual: actual.unwrap_or(0),
    }
}

/// The conflict a batch of decisions reports when its entry update missed
/// the entries `missed` (whose versions are now `entries`, absent when
/// gone), before any record was written (their versions are `records`):
/// the first write, in order, whose entry or record changed, as if the
/// writes ran one at a time.
pub(crate) fn batch_entry_conflict(
    writes: &[EncodedWrite],
    missed: &HashSet<i64>,
    entries: &HashMap<i64, i64>,
    records: &HashMap<RecordKey, i64>,
) -> ModerationError {
    for write in writes {
        let Some((id, expected, _)) = write.decision() else {
            continue;
        };
        if missed.contains(&id.0) {
            return entry_conflict(id, expected, entries.get(&id.0).copied());
        }
        let actual = records
            .get(&(write.object.kind.clone(), write.object.key.clone()))
            .copied();
        if actual != Some(write.object.version) {
            return record_conflict(write, actual);
        }
    }
    ModerationError::store("a batch of decisions matched fewer entries than it holds")
}

/// The conflict a batch of decisions reports when its record update
/// missed the records `missed` (whose versions are now `records`): the
/// first write, in order, whose record changed.
pub(crate) fn batch_record_conflict(
    writes: &[EncodedWrite],
    missed: &HashSet<RecordKey>,
    records: &HashMap<RecordKey, i64>,
) -> ModerationError {
    writes
        .iter()
        .find_map(|write| {
            let key = (write.object.kind.clone(), write.object.key.clone());
            missed
                .contains(&key)
                .then(|| record_conflict(write, records.get(&key).copied()))
        })
        .unwrap_or_else(|| {
            ModerationError::store("a batch of decisions matched fewer records than it holds")
        })
}

/// What each decision of a batch stored once every one was written.
///
/// # Errors
/// None in practice: a decision inserts no entry.
pub(crate) fn decided(writes: Vec<EncodedWrite>) -> Result<Vec<StoredWrite>, ModerationError> {
    writes
        .into_iter()
        .map(|write| stored(write, std::iter::empty()))
        .collect()
}

/// The record keys of `writes` as the JSON array the batch reads take:
/// one `{"kind", "key"}` object per record.
pub(crate) fn encode_write_keys<'w>(
    writes: impl IntoIterator<Item = &'w EncodedWrite>,
) -> Result<String, ModerationError> {
    let keys: Vec<RefJson<'_>> = writes
        .into_iter()
        .map(|write| RefJson {
            kind: &write.object.kind,
            key: &write.object.key,
        })
        .collect();
    Ok(serde_json::to_string(&keys)?)
}

/// One object as the batch reads take it, by name.
#[derive(serde::Serialize)]
struct RefJson<'a> {
    kind: &'a str,
    key: &'a str,
}

/// A batch of object references as the JSON array of `{"kind", "key"}`
/// objects the batch reads take.
pub(crate) fn encode_refs(objects: &[ObjectRef]) -> Result<String, ModerationError> {
    let pairs = objects
        .iter()
        .map(encode_ref)
        .collect::<Result<Vec<_>, _>>()?;
    let keys: Vec<RefJson<'_>> = pairs
        .iter()
        .map(|(kind, key)| RefJson { kind, key })
        .collect();
    Ok(serde_json::to_string(&keys)?)
}

/// Object ids as stored keys.
pub(crate) fn encode_keys(ids: &[ObjectId]) -> Result<Vec<String>, ModerationError> {
    ids.iter().map(object_key).collect()
}

/// Entry ids as stored.
pub(crate) fn encode_entry_ids(ids: &[EntryId]) -> Vec<i64> {
    ids.iter().map(|id| id.0).collect()
}

/// The cursor values and row count of a pending page: the first page
/// starts before every entry; one more row than the page holds says
/// whether a next page exists.
pub(crate) fn pending_bounds(query: &moderation_core::workflow::PendingQuery) -> (i64, i64, i64) {
    let (at, id) = query.after.map_or((i64::MIN, i64::MIN), |after| {
        (to_micros(after.submitted_at), after.id.0)
    });
    let fetch = i64::try_from(query.clamped_limit().saturating_add(1)).unwrap_or(i64::MAX);
    (at, id, fetch)
}

/// A public page's limit, clamped to 1..=`MAX_WORKFLOW_PAGE`.
pub(crate) fn page_limit(limit: usize) -> i64 {
    let limit = limit.clamp(1, moderation_core::workflow::MAX_WORKFLOW_PAGE);
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// Binds [`INSERT_OBJECT`]'s values.
pub(crate) fn bind_insert_object<'q, DB>(
    query: BoundQuery<'q, DB>,
    o: &EncodedObject,
) -> BoundQuery<'q, DB>
where
    DB: sqlx::Database,
    for<'t> &'t str: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<&'t str>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<i64>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> &'t JsonColumn: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<&'t JsonColumn>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    bind_object_values(query, o)
        .bind(o.created_at)
        .bind(o.updated_at)
}

/// Binds [`UPDATE_OBJECT`]'s values.
pub(crate) fn bind_update_object<'q, DB>(
    query: BoundQuery<'q, DB>,
    o: &EncodedObject,
) -> BoundQuery<'q, DB>
where
    DB: sqlx::Database,
    for<'t> &'t str: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<&'t str>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<i64>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> &'t JsonColumn: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<&'t JsonColumn>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    bind_object_values(query, o)
        .bind(o.updated_at)
        .bind(o.version)
}

/// The eleven values [`INSERT_OBJECT`] and [`UPDATE_OBJECT`] share
/// (`$1` to `$11`).
fn bind_object_values<'q, DB>(query: BoundQuery<'q, DB>, o: &EncodedObject) -> BoundQuery<'q, DB>
where
    DB: sqlx::Database,
    for<'t> &'t str: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<&'t str>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<i64>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> &'t JsonColumn: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<&'t JsonColumn>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    query
        .bind(o.kind.as_str())
        .bind(o.key.as_str())
        .bind(o.state)
        .bind(o.status)
        .bind(o.decided_by.as_deref())
        .bind(o.decided_at)
        .bind(o.reason.as_deref())
        .bind(o.public.as_ref())
        .bind(o.approved.as_ref())
        .bind(&o.current)
        .bind(o.revision)
}

/// Binds [`INSERT_ENTRY`]'s values: a new entry of revision `revision` of
/// the record `o`.
pub(crate) fn bind_insert_entry<'q, DB>(
    query: BoundQuery<'q, DB>,
    o: &EncodedObject,
    revision: i64,
    e: &EncodedEntry,
) -> BoundQuery<'q, DB>
where
    DB: sqlx::Database,
    for<'t> &'t str: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<&'t str>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<i64>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> &'t JsonColumn: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<&'t JsonColumn>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    bind_entry_values(
        query
            .bind(o.kind.as_str())
            .bind(o.key.as_str())
            .bind(revision),
        e,
    )
}

/// Binds [`UPDATE_ENTRY`]'s values: entry `id`, expected at `expected`.
pub(crate) fn bind_update_entry<'q, DB>(
    query: BoundQuery<'q, DB>,
    id: EntryId,
    expected: i64,
    e: &EncodedEntry,
) -> BoundQuery<'q, DB>
where
    DB: sqlx::Database,
    for<'t> &'t str: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<&'t str>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<i64>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> &'t JsonColumn: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<&'t JsonColumn>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    bind_entry_values(query.bind(id.0).bind(expected), e)
}

/// The seven entry columns every entry statement writes, in their order:
/// status, snapshot, submitted by and at, decided by and at, reason.
fn bind_entry_values<'q, DB>(query: BoundQuery<'q, DB>, e: &EncodedEntry) -> BoundQuery<'q, DB>
where
    DB: sqlx::Database,
    for<'t> &'t str: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<&'t str>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<i64>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> &'t JsonColumn: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> Option<&'t JsonColumn>: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    query
        .bind(e.status)
        .bind(&e.snapshot)
        .bind(e.submitted_by.as_deref())
        .bind(e.submitted_at)
        .bind(e.decided_by.as_deref())
        .bind(e.decided_at)
        .bind(e.reason.as_deref())
}

fn decode_user(column: &'static str, text: Option<String>) -> Result<Option<UserId>, StorageError> {
    text.map(|text| UserId::new(text).map_err(|e| StorageError::corrupt(column, &e)))
        .transpose()
}

fn decode_ref(kind: String, key: &str) -> Result<ObjectRef, StorageError> {
    let kind = Kind::new(kind).map_err(|e| StorageError::corrupt("kind", &e))?;
    let id = ObjectId::from_key(key).map_err(|e| StorageError::corrupt("object_key", &e))?;
    Ok(ObjectRef::new(kind, id))
}

/// A stored object key read back.
pub(crate) fn decode_key(key: &str) -> Result<ObjectId, ModerationError> {
    Ok(ObjectId::from_key(key).map_err(|e| StorageError::corrupt("object_key", &e))?)
}

/// A stored public version read back.
pub(crate) fn decode_public(value: &JsonColumn) -> Result<Value, ModerationError> {
    Ok(json::decode("public_version", value)?)
}

/// Column `index` of `row`. The driver reports a value it cannot decode
/// (text that is not UTF-8, say) by the column's position alone; the error
/// here names the column, so it says which stored value is unreadable.
fn column<'r, R, T>(row: &'r R, index: usize) -> Result<T, ModerationError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    row.try_get(index).map_err(|error| {
        let error = match error {
            sqlx::Error::ColumnDecode { source, .. } => sqlx::Error::ColumnDecode {
                index: row.columns().get(index).map_or_else(
                    || index.to_string(),
                    |column| sqlx::Column::name(column).to_owned(),
                ),
                source,
            },
            other => other,
        };
        ModerationError::from(StorageError::from(error))
    })
}

/// A record's columns in `row` from column `o` on (0 for a record read,
/// [`TARGET_ENTRY_COLUMNS`] in a decision target row).
fn record_at<R>(row: &R, o: usize) -> Result<ModeratedObject, ModerationError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    JsonColumn: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let kind: String = column(row, o)?;
    let key: String = column(row, o + 1)?;
    let state: String = column(row, o + 2)?;
    let status: String = column(row, o + 3)?;
    let public: Option<JsonColumn> = column(row, o + 7)?;
    let approved: Option<JsonColumn> = column(row, o + 8)?;
    let current: JsonColumn = column(row, o + 9)?;
    Ok(ModeratedObject {
        object: decode_ref(kind, &key)?,
        state: state
            .parse::<ObjectState>()
            .map_err(|e| StorageError::corrupt("state", &e))?,
        status: status
            .parse::<ObjectStatus>()
            .map_err(|e| StorageError::corrupt("status", &e))?,
        decided_by: decode_user("decided_by", column(row, o + 4)?)?,
        decided_at: column::<_, Option<i64>>(row, o + 5)?
            .map(|at| crate::record::from_micros("decided_at", at))
            .transpose()?,
        reason: column(row, o + 6)?,
        public: public
            .map(|value| json::decode("public_version", &value))
            .transpose()?,
        approved: approved
            .map(|value| json::decode("approved_version", &value))
            .transpose()?,
        current: json::decode("current_version", &current)?,
        revision: column(row, o + 10)?,
        version: column(row, o + 11)?,
        created_at: crate::record::from_micros("created_at", column(row, o + 12)?)?,
        updated_at: crate::record::from_micros("updated_at", column(row, o + 13)?)?,
    })
}

/// The entry columns of a row that starts with them (an entry read, or a
/// decision target row).
fn entry_at<R>(row: &R) -> Result<ObjectEntry, ModerationError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    JsonColumn: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let kind: String = column(row, 1)?;
    let key: String = column(row, 2)?;
    let status: String = column(row, 4)?;
    let snapshot: JsonColumn = column(row, 5)?;
    Ok(ObjectEntry {
        id: EntryId(column(row, 0)?),
        object: decode_ref(kind, &key)?,
        revision: column(row, 3)?,
        status: status
            .parse::<EntryStatus>()
            .map_err(|e| StorageError::corrupt("status", &e))?,
        snapshot: json::decode("snapshot", &snapshot)?,
        submitted_by: decode_user("submitted_by", column(row, 6)?)?,
        submitted_at: crate::record::from_micros("submitted_at", column(row, 7)?)?,
        decided_by: decode_user("decided_by", column(row, 8)?)?,
        decided_at: column::<_, Option<i64>>(row, 9)?
            .map(|at| crate::record::from_micros("decided_at", at))
            .transpose()?,
        reason: column(row, 10)?,
        version: column(row, 11)?,
    })
}

/// A record read (the columns of [`SELECT_OBJECT`]).
pub(crate) fn object_from_row<R>(row: &R) -> Result<ModeratedObject, ModerationError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    JsonColumn: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    record_at(row, 0)
}

/// An entry read (the columns of [`SELECT_HISTORY`]).
pub(crate) fn entry_from_row<R>(row: &R) -> Result<ObjectEntry, ModerationError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    JsonColumn: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    entry_at(row)
}

/// A decision target row: an entry's columns, then its record's.
pub(crate) fn target_from_row<R>(row: &R) -> Result<(ObjectEntry, ModeratedObject), ModerationError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    JsonColumn: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok((entry_at(row)?, record_at(row, TARGET_ENTRY_COLUMNS)?))
}

/// A [`SELECT_OBJECT_WITH_LATEST`] row: the record, and its newest entry
/// when the join found one.
pub(crate) fn with_latest_from_row<R>(
    row: &R,
) -> Result<(ModeratedObject, Option<ObjectEntry>), ModerationError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    JsonColumn: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let entry_id: Option<i64> = column(row, 0)?;
    let latest = entry_id.map(|_| entry_at(row)).transpose()?;
    Ok((record_at(row, TARGET_ENTRY_COLUMNS)?, latest))
}

/// The public version column of a [`SELECT_PUBLIC`] row (`None`: hidden).
pub(crate) fn public_from_row<R>(row: &R) -> Result<Option<JsonColumn>, ModerationError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    JsonColumn: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    column(row, 0)
}

/// What a public read sees, given the public version column of the
/// object's record (`None`: it has no record).
pub(crate) fn public_read(
    public: Option<Option<JsonColumn>>,
) -> Result<moderation_core::workflow::PublicRead, ModerationError> {
    use moderation_core::workflow::PublicRead;
    Ok(match public {
        None => PublicRead::Unmoderated,
        Some(None) => PublicRead::Hidden,
        Some(Some(version)) => PublicRead::Public(decode_public(&version)?),
    })
}

/// The rows of a public page read back.
pub(crate) fn public_page(
    rows: Vec<(String, JsonColumn)>,
) -> Result<Vec<moderation_core::workflow::PublicObject>, ModerationError> {
    rows.into_iter()
        .map(|(key, version)| {
            Ok(moderation_core::workflow::PublicObject {
                id: decode_key(&key)?,
                version: decode_public(&version)?,
            })
        })
        .collect()
}

/// Hidden keys read back as ids.
pub(crate) fn decode_keys(keys: &[String]) -> Result<Vec<ObjectId>, ModerationError> {
    keys.iter().map(String::as_str).map(decode_key).collect()
}

#[cfg(test)]
mod tests {
    use moderation_core::workflow::{EntryStatus, ObjectState, ObjectStatus};

    use super::*;

    fn object(id: i64) -> Result<ObjectRef, ModerationError> {
        Ok(ObjectRef::new(Kind::new("profile")?, id))
    }

    fn decision(
        entry_id: i64,
        object_id: i64,
        version: i64,
    ) -> Result<EncodedWrite, ModerationError> {
        let at = chrono::DateTime::<chrono::Utc>::UNIX_EPOCH;
        let record = ModeratedObject {
            object: object(object_id)?,
            state: ObjectState::Ready,
            status: ObjectStatus::Approved,
            decided_by: None,
            decided_at: None,
            reason: None,
            public: None,
            approved: None,
            current: Value::Null,
            revision: 1,
            version,
            created_at: at,
            updated_at: at,
        };
        let entry = ObjectEntry {
            id: EntryId(entry_id),
            object: object(object_id)?,
            revision: 1,
            status: EntryStatus::Approved,
            snapshot: Value::Null,
            submitted_by: None,
            submitted_at: at,
            decided_by: None,
            decided_at: None,
            reason: None,
            version: 1,
        };
        let write = ObjectWrite {
            record,
            insert: false,
            entries: vec![EntryWrite::Update {
                entry,
                expected_version: 1,
            }],
            log: Vec::new(),
        };
        encode_write(write, StoreLimits::default())
    }

    fn key(object_id: i64) -> RecordKey {
        ("profile".to_owned(), format!("i:{object_id}"))
    }

    #[test]
    fn only_distinct_decisions_are_written_a_table_at_a_time() -> Result<(), ModerationError> {
        assert!(is_batch(&[decision(1, 1, 3)?, decision(2, 2, 3)?]));
        assert!(!is_batch(&[decision(1, 1, 3)?]));
        // The same record twice: the second write must see the first.
        assert!(!is_batch(&[decision(1, 1, 3)?, decision(2, 1, 3)?]));
        assert!(!is_batch(&[decision(1, 1, 3)?, decision(1, 2, 3)?]));
        let mut insert = decision(3, 3, 0)?;
        insert.insert = true;
        assert!(!is_batch(&[decision(1, 1, 3)?, insert]));
        Ok(())
    }

    #[test]
    fn a_batch_reports_the_first_change_in_order() -> Result<(), ModerationError> {
        let writes = [decision(1, 1, 3)?, decision(2, 2, 3)?, decision(3, 3, 3)?];
        // Entry 3 missed, but record 2 changed before it in the batch.
        let missed: HashSet<i64> = [3].into_iter().collect();
        let entries: HashMap<i64, i64> = [(3, 2)].into_iter().collect();
        let records: HashMap<RecordKey, i64> = [(key(1), 3), (key(2), 4), (key(3), 3)]
            .into_iter()
            .collect();
        assert!(matches!(
            batch_entry_conflict(&writes, &missed, &entries, &records),
            ModerationError::ObjectConflict {
                expected: 3,
                actual: 4,
                ..
            }
        ));
        let records: HashMap<RecordKey, i64> = [(key(1), 3), (key(2), 3), (key(3), 3)]
            .into_iter()
            .collect();
        assert!(matches!(
            batch_entry_conflict(&writes, &missed, &entries, &records),
            ModerationError::Conflict {
                expected: 1,
                actual: 2,
                ..
            }
        ));
        assert!(matches!(
            batch_entry_conflict(&writes, &missed, &HashMap::new(), &records),
            ModerationError::UnknownEntry { entry: 3 }
        ));
        let missed: HashSet<RecordKey> = [key(2)].into_iter().collect();
        assert!(matches!(
            batch_record_conflict(&writes, &missed, &HashMap::new()),
            ModerationError::ObjectConflict {
                expected: 3,
                actual: 0,
                ..
            }
        ));
        Ok(())
    }
}
