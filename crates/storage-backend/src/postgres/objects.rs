//! moderation-core's `ObjectStore` for [`PgStore`]: records and entries
//! live in the store's database; each write is a transaction of its own on
//! the pool. Version checks are row-level (`UPDATE ... WHERE version = ..`
//! waits for a concurrent writer of the row and then checks again), so
//! concurrent moderators on any server cannot both win.
//!
//! Batches of ids are bound as arrays; batches of keys and of decisions as
//! one JSON array read with `jsonb_to_recordset`, by key name.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use moderation_core::workflow::{
    EntryId, EntryPage, EntryWrite, ModeratedObject, ObjectEntry, ObjectStore, ObjectWrite,
    PendingQuery, PublicObject, PublicRead, StoredWrite,
};
use moderation_core::{Kind, ModerationError, ObjectId, ObjectRef};
use sqlx::PgConnection;

use super::PgStore;
use crate::error::StorageError;
use crate::json::{self, JsonColumn};
use crate::objects::{self, EncodedObject, EncodedWrite, RecordKey};

/// Records whose `{"kind", "key"}` is in the JSON array `$1`.
const BATCH_OBJECTS: &str = "SELECT o.kind, o.object_key, o.state, o.status, o.decided_by, \
     o.decided_at, o.reason, o.public_version, o.approved_version, o.current_version, \
     o.revision, o.version, o.created_at, o.updated_at \
     FROM jsonb_to_recordset($1::text::jsonb) AS j(kind TEXT, key TEXT) \
     JOIN moderated_objects AS o ON o.kind = j.kind AND o.object_key = j.key";

/// Entries whose id is in the array `$1`.
const BATCH_ENTRIES: &str = "SELECT id, kind, object_key, revision, status, snapshot, \
     submitted_by, submitted_at, decided_by, decided_at, reason, version \
     FROM moderation_entries WHERE id = ANY($1)";

/// Hidden keys of kind `$1` among the array `$2`.
const BATCH_HIDDEN: &str = "SELECT object_key FROM moderated_objects WHERE kind = $1 \
     AND object_key = ANY($2) AND public_version IS NULL";

/// Entries whose id is in the array `$1`, each followed by its record's
/// columns.
const BATCH_TARGETS: &str = "SELECT e.id, e.kind, e.object_key, e.revision, e.status, \
     e.snapshot, e.submitted_by, e.submitted_at, e.decided_by, e.decided_at, e.reason, \
     e.version, o.kind, o.object_key, o.state, o.status, o.decided_by, o.decided_at, o.reason, \
     o.public_version, o.approved_version, o.current_version, o.revision, o.version, \
     o.created_at, o.updated_at FROM moderation_entries AS e JOIN moderated_objects AS o \
     ON o.kind = e.kind AND o.object_key = e.object_key WHERE e.id = ANY($1)";

/// The versions of the entries whose id is in the array `$1`.
const ENTRY_VERSIONS: &str = "SELECT id, version FROM moderation_entries WHERE id = ANY($1)";

/// The versions of the records whose `{"kind", "key"}` is in the JSON
/// array `$1`.
const RECORD_VERSIONS: &str = "SELECT o.kind, o.object_key, o.version \
     FROM jsonb_to_recordset($1::text::jsonb) AS j(kind TEXT, key TEXT) \
     JOIN moderated_objects AS o ON o.kind = j.kind AND o.object_key = j.key";

/// Updates every entry of the JSON array `$1` ([`EntryChange`]s) that
/// still has its expected version; returns the ids updated.
const UPDATE_ENTRIES: &str = "UPDATE moderation_entries AS e SET status = w.status, \
     snapshot = w.snapshot::jsonb, submitted_by = w.submitted_by, submitted_at = w.submitted_at, \
     decided_by = w.decided_by, decided_at = w.decided_at, reason = w.reason, \
     version = e.version + 1 \
     FROM jsonb_to_recordset($1::text::jsonb) AS w(id BIGINT, expected BIGINT, status TEXT, \
     snapshot TEXT, submitted_by TEXT, submitted_at BIGINT, decided_by TEXT, \
     decided_at BIGINT, reason TEXT) \
     WHERE e.id = w.id AND e.version = w.expected RETURNING e.id";

/// Updates every record of the JSON array `$1` ([`RecordChange`]s) that
/// still has its expected version; returns the keys updated.
const UPDATE_RECORDS: &str = "UPDATE moderated_objects AS o SET state = w.state, \
     status = w.status, decided_by = w.decided_by, decided_at = w.decided_at, \
     reason = w.reason, public_version = w.public_version::jsonb, \
     approved_version = w.approved_version::jsonb, current_version = w.current_version::jsonb, \
     revision = w.revision, version = o.version + 1, updated_at = w.updated_at \
     FROM jsonb_to_recordset($1::text::jsonb) AS w(kind TEXT, object_key TEXT, \
     expected BIGINT, state TEXT, status TEXT, decided_by TEXT, decided_at BIGINT, \
     reason TEXT, public_version TEXT, approved_version TEXT, current_version TEXT, \
     revision BIGINT, updated_at BIGINT) \
     WHERE o.kind = w.kind AND o.object_key = w.object_key AND o.version = w.expected \
     RETURNING o.kind, o.object_key";

/// One decision's entry as [`UPDATE_ENTRIES`] reads it.
#[derive(serde::Serialize)]
struct EntryChange<'a> {
    id: i64,
    expected: i64,
    status: &'a str,
    snapshot: &'a str,
    submitted_by: Option<&'a str>,
    submitted_at: i64,
    decided_by: Option<&'a str>,
    decided_at: Option<i64>,
    reason: Option<&'a str>,
}

/// One decision's record as [`UPDATE_RECORDS`] reads it.
#[derive(serde::Serialize)]
struct RecordChange<'a> {
    kind: &'a str,
    object_key: &'a str,
    expected: i64,
    state: &'a str,
    status: &'a str,
    decided_by: Option<&'a str>,
    decided_at: Option<i64>,
    reason: Option<&'a str>,
    public_version: Option<&'a str>,
    approved_version: Option<&'a str>,
    current_version: &'a str,
    revision: i64,
    updated_at: i64,
}

#[async_trait]
impl ObjectStore for PgStore {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", %object))]
    async fn object(&self, object: &ObjectRef) -> Result<Option<ModeratedObject>, ModerationError> {
        let (kind, key) = objects::encode_ref(object)?;
        let mut conn = self.reader().await?;
        let row = sqlx::query(objects::SELECT_OBJECT)
            .bind(kind)
            .bind(key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        row.as_ref().map(objects::object_from_row).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", count = objects.len()))]
    async fn objects(
        &self,
        objects: &[ObjectRef],
    ) -> Result<Vec<ModeratedObject>, ModerationError> {
        if objects.is_empty() {
            return Ok(Vec::new());
        }
        let keys = objects::encode_refs(objects)?;
        let mut conn = self.reader().await?;
        let rows = sqlx::query(BATCH_OBJECTS)
            .bind(keys)
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        rows.iter().map(objects::object_from_row).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", count = ids.len()))]
    async fn entries(&self, ids: &[EntryId]) -> Result<Vec<ObjectEntry>, ModerationError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.reader().await?;
        let rows = sqlx::query(BATCH_ENTRIES)
            .bind(objects::encode_entry_ids(ids))
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        rows.iter().map(objects::entry_from_row).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", count = ids.len()))]
    async fn decision_targets(
        &self,
        ids: &[EntryId],
    ) -> Result<Vec<(ObjectEntry, ModeratedObject)>, ModerationError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut conn = self.reader().await?;
        let rows = sqlx::query(BATCH_TARGETS)
            .bind(objects::encode_entry_ids(ids))
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        rows.iter().map(objects::target_from_row).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", %object))]
    async fn object_with_latest(
        &self,
        object: &ObjectRef,
    ) -> Result<Option<(ModeratedObject, Option<ObjectEntry>)>, ModerationError> {
        let (kind, key) = objects::encode_ref(object)?;
        let mut conn = self.reader().await?;
        let row = sqlx::query(objects::SELECT_OBJECT_WITH_LATEST)
            .bind(kind)
            .bind(key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        row.as_ref().map(objects::with_latest_from_row).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", %object, revision))]
    async fn revision(
        &self,
        object: &ObjectRef,
        revision: i64,
    ) -> Result<Option<ObjectEntry>, ModerationError> {
        let (kind, key) = objects::encode_ref(object)?;
        let mut conn = self.reader().await?;
        let row = sqlx::query(objects::SELECT_REVISION)
            .bind(kind)
            .bind(key)
            .bind(revision)
            .fetch_optional(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        row.as_ref().map(objects::entry_from_row).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", %object))]
    async fn history(&self, object: &ObjectRef) -> Result<Vec<ObjectEntry>, ModerationError> {
        let (kind, key) = objects::encode_ref(object)?;
        let mut conn = self.reader().await?;
        let rows = sqlx::query(objects::SELECT_HISTORY)
            .bind(kind)
            .bind(key)
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        rows.iter().map(objects::entry_from_row).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres"))]
    async fn pending(&self, query: &PendingQuery) -> Result<EntryPage, ModerationError> {
        let (at, id, fetch) = objects::pending_bounds(query);
        let statement = if query.kind.is_some() {
            objects::PENDING_OF_KIND
        } else {
            objects::PENDING
        };
        let mut sql = sqlx::query(statement).bind(at).bind(id).bind(fetch);
        if let Some(kind) = &query.kind {
            sql = sql.bind(kind.as_str());
        }
        let mut conn = self.reader().await?;
        let rows = sql
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        let entries = rows
            .iter()
            .map(objects::entry_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(EntryPage::from_fetched(entries, query.clamped_limit()))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", %object))]
    async fn public_version(&self, object: &ObjectRef) -> Result<PublicRead, ModerationError> {
        let (kind, key) = objects::encode_ref(object)?;
        let mut conn = self.reader().await?;
        let row = sqlx::query(objects::SELECT_PUBLIC)
            .bind(kind)
            .bind(key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        objects::public_read(row.as_ref().map(objects::public_from_row).transpose()?)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", %kind, count = ids.len()))]
    async fn hidden_among(
        &self,
        kind: &Kind,
        ids: &[ObjectId],
    ) -> Result<Vec<ObjectId>, ModerationError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys = objects::encode_keys(ids)?;
        let mut conn = self.reader().await?;
        let hidden: Vec<String> = sqlx::query_scalar(BATCH_HIDDEN)
            .bind(kind.as_str())
            .bind(keys)
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        objects::decode_keys(&hidden)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", %kind, limit))]
    async fn public_page(
        &self,
        kind: &Kind,
        after: Option<&ObjectId>,
        limit: usize,
    ) -> Result<Vec<PublicObject>, ModerationError> {
        let after = after
            .map(crate::record::object_key)
            .transpose()?
            .unwrap_or_default();
        let mut conn = self.reader().await?;
        let rows: Vec<(String, JsonColumn)> = sqlx::query_as(objects::PUBLIC_PAGE)
            .bind(kind.as_str())
            .bind(after)
            .bind(objects::page_limit(limit))
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        objects::public_page(rows)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", count = writes.len()))]
    async fn apply(&self, writes: Vec<ObjectWrite>) -> Result<Vec<StoredWrite>, ModerationError> {
        // Every value is encoded and checked before the transaction opens.
        let writes = objects::encode_writes(writes, self.limits())?;
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        self.write(move |conn| Box::pin(apply(conn, writes))).await
    }
}

/// Stores every write, then their moderation-log rows; a version that no
/// longer matches stops it with the conflict it found (the caller's
/// transaction then keeps nothing of it).
pub(crate) async fn apply(
    conn: &mut PgConnection,
    mut writes: Vec<EncodedWrite>,
) -> Result<Vec<StoredWrite>, ModerationError> {
    let log = objects::take_log(&mut writes);
    let stored = if objects::is_batch(&writes) {
        decide_batch(conn, writes).await?
    } else {
        let mut stored = Vec::with_capacity(writes.len());
        for write in writes {
            stored.push(write_object(conn, write).await?);
        }
        stored
    };
    crate::modlog::pg_insert_all(conn, &log).await?;
    Ok(stored)
}

/// Writes one object's change (its moderation-log rows aside): a new
/// record first (its entries reference it), then the entries it updates,
/// then an existing record, then the new entries. Entries go before an
/// existing record so that the loser of two moderators deciding one entry
/// learns it from the entry's version, and an edit's new revision is
/// inserted only once the record's version check passed: two concurrent
/// edits then conflict on the record instead of on the revision's unique
/// key.
pub(crate) async fn write_object(
    conn: &mut PgConnection,
    write: EncodedWrite,
) -> Result<StoredWrite, ModerationError> {
    if write.insert {
        insert_record(conn, &write).await?;
    }
    for (entry, values) in write.entries.iter().zip(&write.values) {
        if let EntryWrite::Update {
            entry,
            expected_version,
        } = entry
        {
            update_entry(conn, entry.id, *expected_version, values).await?;
        }
    }
    if !write.insert {
        update_record(conn, &write).await?;
    }
    let mut ids = Vec::new();
    for (entry, values) in write.entries.iter().zip(&write.values) {
        if let EntryWrite::Insert(new) = entry {
            ids.push(insert_entry(conn, &write.object, new.revision, values).await?);
        }
    }
    objects::stored(write, ids)
}

/// Inserts the record of `write`, which must not exist yet.
pub(crate) async fn insert_record(
    conn: &mut PgConnection,
    write: &EncodedWrite,
) -> Result<(), ModerationError> {
    let inserted = objects::bind_insert_object(sqlx::query(objects::INSERT_OBJECT), &write.object)
        .execute(&mut *conn)
        .await
        .map_err(StorageError::from)?
        .rows_affected();
    if inserted == 0 {
        let actual = record_version(conn, &write.object).await?;
        return Err(objects::record_conflict(write, actual));
    }
    Ok(())
}

/// Updates the record of `write` if it still has the version the write
/// was planned on.
pub(crate) async fn update_record(
    conn: &mut PgConnection,
    write: &EncodedWrite,
) -> Result<(), ModerationError> {
    let updated = objects::bind_update_object(sqlx::query(objects::UPDATE_OBJECT), &write.object)
        .execute(&mut *conn)
        .await
        .map_err(StorageError::from)?
        .rows_affected();
    if updated == 0 {
        let actual = record_version(conn, &write.object).await?;
        return Err(objects::record_conflict(write, actual));
    }
    Ok(())
}

/// The version record `o` has now (`None`: it has none).
async fn record_version(
    conn: &mut PgConnection,
    o: &EncodedObject,
) -> Result<Option<i64>, ModerationError> {
    Ok(sqlx::query_scalar(objects::SELECT_OBJECT_VERSION)
        .bind(o.kind.as_str())
        .bind(o.key.as_str())
        .fetch_optional(&mut *conn)
        .await
        .map_err(StorageError::from)?)
}

/// Inserts a new entry of revision `revision` of record `o`; returns its id.
pub(crate) async fn insert_entry(
    conn: &mut PgConnection,
    o: &EncodedObject,
    revision: i64,
    values: &objects::EncodedEntry,
) -> Result<i64, ModerationError> {
    let row = objects::bind_insert_entry(sqlx::query(objects::INSERT_ENTRY), o, revision, values)
        .fetch_one(&mut *conn)
        .await
        .map_err(StorageError::from)?;
    Ok(sqlx::Row::try_get(&row, 0).map_err(StorageError::from)?)
}

/// Updates entry `id` if it still has version `expected`.
pub(crate) async fn update_entry(
    conn: &mut PgConnection,
    id: EntryId,
    expected: i64,
    values: &objects::EncodedEntry,
) -> Result<(), ModerationError> {
    let updated =
        objects::bind_update_entry(sqlx::query(objects::UPDATE_ENTRY), id, expected, values)
            .execute(&mut *conn)
            .await
            .map_err(StorageError::from)?
            .rows_affected();
    if updated == 0 {
        let actual: Option<i64> = sqlx::query_scalar(objects::SELECT_ENTRY_VERSION)
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        return Err(objects::entry_conflict(id, expected, actual));
    }
    Ok(())
}

/// Writes a batch of decisions (see `objects::is_batch`) a table at a time:
/// every entry at its expected version, then every record at its own.
/// What either update misses is read back and reported as the conflict
/// the batch would have met one write at a time.
pub(crate) async fn decide_batch(
    conn: &mut PgConnection,
    writes: Vec<EncodedWrite>,
) -> Result<Vec<StoredWrite>, ModerationError> {
    let updated = update_entries(conn, &writes).await?;
    if updated.len() < writes.len() {
        return Err(batch_entry_conflict(conn, &writes, &updated).await);
    }
    let updated = update_records(conn, &writes).await?;
    if updated.len() < writes.len() {
        return Err(batch_record_conflict(conn, &writes, &updated).await);
    }
    objects::decided(writes)
}

/// Updates the entry of every decision at its expected version; returns
/// the ids of the entries updated.
async fn update_entries(
    conn: &mut PgConnection,
    writes: &[EncodedWrite],
) -> Result<HashSet<i64>, ModerationError> {
    let changes: Vec<EntryChange<'_>> = writes
        .iter()
        .filter_map(EncodedWrite::decision)
        .map(|(id, expected, e)| EntryChange {
            id: id.0,
            expected,
            status: e.status,
            snapshot: json::text(&e.snapshot),
            submitted_by: e.submitted_by.as_deref(),
            submitted_at: e.submitted_at,
            decided_by: e.decided_by.as_deref(),
            decided_at: e.decided_at,
            reason: e.reason.as_deref(),
        })
        .collect();
    let ids: Vec<i64> = sqlx::query_scalar(UPDATE_ENTRIES)
        .bind(serde_json::to_string(&changes)?)
        .fetch_all(&mut *conn)
        .await
        .map_err(StorageError::from)?;
    Ok(ids.into_iter().collect())
}

/// Updates the record of every decision at its expected version; returns
/// the keys of the records updated.
async fn update_records(
    conn: &mut PgConnection,
    writes: &[EncodedWrite],
) -> Result<HashSet<RecordKey>, ModerationError> {
    let changes: Vec<RecordChange<'_>> = writes
        .iter()
        .map(|write| {
            let o = &write.object;
            RecordChange {
                kind: &o.kind,
                object_key: &o.key,
                expected: o.version,
                state: o.state,
                status: o.status,
                decided_by: o.decided_by.as_deref(),
                decided_at: o.decided_at,
                reason: o.reason.as_deref(),
                public_version: o.public.as_ref().map(json::text),
                approved_version: o.approved.as_ref().map(json::text),
                current_version: json::text(&o.current),
                revision: o.revision,
                updated_at: o.updated_at,
            }
        })
        .collect();
    let keys: Vec<RecordKey> = sqlx::query_as(UPDATE_RECORDS)
        .bind(serde_json::to_string(&changes)?)
        .fetch_all(&mut *conn)
        .await
        .map_err(StorageError::from)?;
    Ok(keys.into_iter().collect())
}

/// The conflict of a batch whose entry update matched only `updated`,
/// before any record was written.
async fn batch_entry_conflict(
    conn: &mut PgConnection,
    writes: &[EncodedWrite],
    updated: &HashSet<i64>,
) -> ModerationError {
    let missed: HashSet<i64> = writes
        .iter()
        .filter_map(EncodedWrite::decision)
        .map(|(id, _, _)| id.0)
        .filter(|id| !updated.contains(id))
        .collect();
    let read = async {
        let entries: Vec<(i64, i64)> = sqlx::query_as(ENTRY_VERSIONS)
            .bind(missed.iter().copied().collect::<Vec<_>>())
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        let records = record_versions(conn, writes).await?;
        Ok::<_, ModerationError>((entries.into_iter().collect::<HashMap<_, _>>(), records))
    };
    match read.await {
        Ok((entries, records)) => {
            objects::batch_entry_conflict(writes, &missed, &entries, &records)
        }
        Err(error) => error,
    }
}

/// The conflict of a batch whose record update matched only `updated`.
async fn batch_record_conflict(
    conn: &mut PgConnection,
    writes: &[EncodedWrite],
    updated: &HashSet<RecordKey>,
) -> ModerationError {
    let missed: Vec<&EncodedWrite> = writes
        .iter()
        .filter(|write| {
            let (kind, key) = write.key();
            !updated.contains(&(kind.to_owned(), key.to_owned()))
        })
        .collect();
    let keys: HashSet<RecordKey> = missed
        .iter()
        .map(|write| (write.object.kind.clone(), write.object.key.clone()))
        .collect();
    match record_versions(conn, missed).await {
        Ok(records) => objects::batch_record_conflict(writes, &keys, &records),
        Err(error) => error,
    }
}

/// The versions the records of `writes` have now, by key.
async fn record_versions<'w>(
    conn: &mut PgConnection,
    writes: impl IntoIterator<Item = &'w EncodedWrite>,
) -> Result<HashMap<RecordKey, i64>, ModerationError> {
    let keys = objects::encode_write_keys(writes)?;
    let rows: Vec<(String, String, i64)> = sqlx::query_as(RECORD_VERSIONS)
        .bind(keys)
        .fetch_all(&mut *conn)
        .await
        .map_err(StorageError::from)?;
    Ok(rows
        .into_iter()
        .map(|(kind, key, version)| ((kind, key), version))
        .collect())
}
