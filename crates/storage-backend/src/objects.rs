//! moderation-core's `ObjectStore` on the SQL backends: the
//! `moderated_objects` and `moderation_entries` tables of migration 000005.
//!
//! The statements, encoding and row decoding are shared; the backends differ
//! only in how a JSON array of keys becomes rows ([`BatchSql`]) and in their
//! pools, so [`impl_object_store!`] instantiates the port once per backend.

use moderation_core::workflow::{
    EntryId, EntryStatus, EntryWrite, ModeratedObject, NewEntry, ObjectEntry, ObjectState,
    ObjectStatus, ObjectWrite,
};
use moderation_core::{Kind, ModerationError, ObjectId, ObjectRef, UserId};
use serde_json::Value;

use crate::bans::decode_time;
use crate::error::StorageError;
use crate::options::StoreLimits;
use crate::record::{object_key, to_micros};

/// The columns of a `moderated_objects` row, in [`ObjectRow`]'s order.
macro_rules! object_columns {
    () => {
        "kind, object_key, state, status, decided_by, decided_at, reason, public_version, \
         approved_version, current_version, revision, version, created_at, updated_at"
    };
}

/// The columns of a `moderation_entries` row, in [`EntryRow`]'s order.
macro_rules! entry_columns {
    () => {
        "id, kind, object_key, revision, status, snapshot, submitted_by, submitted_at, \
         decided_by, decided_at, reason, version"
    };
}

pub(crate) const SELECT_OBJECT: &str = concat!(
    "SELECT ",
    object_columns!(),
    " FROM moderated_objects WHERE kind = $1 AND object_key = $2"
);

pub(crate) const SELECT_PUBLIC: &str =
    "SELECT public_version FROM moderated_objects WHERE kind = $1 AND object_key = $2";

pub(crate) const SELECT_OBJECT_VERSION: &str =
    "SELECT version FROM moderated_objects WHERE kind = $1 AND object_key = $2";

pub(crate) const PUBLIC_PAGE: &str = "SELECT object_key, public_version FROM moderated_objects \
     WHERE kind = $1 AND object_key > $2 AND public_version IS NOT NULL \
     ORDER BY object_key LIMIT $3";

pub(crate) const INSERT_OBJECT: &str = concat!(
    "INSERT INTO moderated_objects (",
    object_columns!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12, $13) \
     ON CONFLICT (kind, object_key) DO NOTHING"
);

/// Writes the record only if it still has the version the caller read.
/// Its placeholders, like those of every statement a write text holds, come
/// in the order they are bound (see `write_text`).
pub(crate) const UPDATE_OBJECT: &str = "UPDATE moderated_objects SET state = $1, status = $2, \
     decided_by = $3, decided_at = $4, reason = $5, public_version = $6, approved_version = $7, \
     current_version = $8, revision = $9, version = version + 1, updated_at = $10 \
     WHERE kind = $11 AND object_key = $12 AND version = $13";

pub(crate) const SELECT_HISTORY: &str = concat!(
    "SELECT ",
    entry_columns!(),
    " FROM moderation_entries WHERE kind = $1 AND object_key = $2 ORDER BY revision"
);

pub(crate) const SELECT_REVISION: &str = concat!(
    "SELECT ",
    entry_columns!(),
    " FROM moderation_entries WHERE kind = $1 AND object_key = $2 AND revision = $3"
);

pub(crate) const SELECT_ENTRY_VERSION: &str =
    "SELECT version FROM moderation_entries WHERE id = $1";

/// Oldest first after the cursor `($1, $2)`; the first page starts at the
/// smallest cursor, so one statement serves every page.
pub(crate) const PENDING: &str = concat!(
    "SELECT ",
    entry_columns!(),
    " FROM moderation_entries WHERE status = 'pending' \
     AND (submitted_at > $1 OR (submitted_at = $1 AND id > $2)) \
     ORDER BY submitted_at, id LIMIT $3"
);

pub(crate) const PENDING_OF_KIND: &str = concat!(
    "SELECT ",
    entry_columns!(),
    " FROM moderation_entries WHERE kind = $4 AND status = 'pending' \
     AND (submitted_at > $1 OR (submitted_at = $1 AND id > $2)) \
     ORDER BY submitted_at, id LIMIT $3"
);

pub(crate) const INSERT_ENTRY: &str = "INSERT INTO moderation_entries (kind, object_key, \
     revision, status, snapshot, submitted_by, submitted_at, decided_by, decided_at, reason, \
     version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1) RETURNING id";

/// Writes the entry only if it still has the version the caller read.
pub(crate) const UPDATE_ENTRY: &str = "UPDATE moderation_entries SET status = $1, snapshot = $2, \
     submitted_by = $3, submitted_at = $4, decided_by = $5, decided_at = $6, reason = $7, \
     version = version + 1 WHERE id = $8 AND version = $9";

/// The statements that take a batch of keys as one JSON array parameter,
/// so a batch costs one query whatever its size.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchSql {
    /// Records whose `[kind, key]` pair is in the JSON array `$1`.
    pub(crate) objects: &'static str,
    /// Entries whose id is in the JSON array `$1`.
    pub(crate) entries: &'static str,
    /// Hidden keys of kind `$1` among the JSON array `$2`.
    pub(crate) hidden: &'static str,
    /// Entries whose id is in the JSON array `$1`, each followed by its
    /// record's columns (`target_columns!`).
    pub(crate) targets: &'static str,
}

/// Entry columns then record columns, as [`BatchSql::targets`] selects them.
macro_rules! target_columns {
    () => {
        "e.id, e.kind, e.object_key, e.revision, e.status, e.snapshot, e.submitted_by, \
         e.submitted_at, e.decided_by, e.decided_at, e.reason, e.version, o.kind, o.object_key, \
         o.state, o.status, o.decided_by, o.decided_at, o.reason, o.public_version, \
         o.approved_version, o.current_version, o.revision, o.version, o.created_at, o.updated_at"
    };
}

/// One object's record with its newest entry, entry columns first as in
/// [`BatchSql::targets`]; they are NULL while the record has no entry.
pub(crate) const SELECT_OBJECT_WITH_LATEST: &str = concat!(
    "SELECT ",
    target_columns!(),
    " FROM moderated_objects AS o LEFT JOIN moderation_entries AS e \
     ON e.kind = o.kind AND e.object_key = o.object_key AND e.revision = o.revision \
     WHERE o.kind = $1 AND o.object_key = $2"
);

/// How many columns of a [`BatchSql::targets`] row belong to the entry.
pub(crate) const TARGET_ENTRY_COLUMNS: usize = 12;

#[cfg(feature = "sqlite")]
pub(crate) const SQLITE_BATCH: BatchSql = BatchSql {
    objects: "SELECT o.kind, o.object_key, o.state, o.status, o.decided_by, o.decided_at, \
         o.reason, o.public_version, o.approved_version, o.current_version, o.revision, \
         o.version, o.created_at, o.updated_at FROM json_each($1) AS j JOIN moderated_objects \
         AS o ON o.kind = (j.value ->> 0) AND o.object_key = (j.value ->> 1)",
    entries: concat!(
        "SELECT ",
        entry_columns!(),
        " FROM moderation_entries WHERE id IN (SELECT value FROM json_each($1))"
    ),
    hidden: "SELECT object_key FROM moderated_objects WHERE kind = $1 \
         AND object_key IN (SELECT value FROM json_each($2)) AND public_version IS NULL",
    targets: concat!(
        "SELECT ",
        target_columns!(),
        " FROM json_each($1) AS j JOIN moderation_entries AS e ON e.id = j.value \
         JOIN moderated_objects AS o ON o.kind = e.kind AND o.object_key = e.object_key"
    ),
};

#[cfg(feature = "postgres")]
pub(crate) const POSTGRES_BATCH: BatchSql = BatchSql {
    objects: "SELECT o.kind, o.object_key, o.state, o.status, o.decided_by, o.decided_at, \
         o.reason, o.public_version, o.approved_version, o.current_version, o.revision, \
         o.version, o.created_at, o.updated_at FROM jsonb_array_elements($1::text::jsonb) AS j(v) \
         JOIN moderated_objects AS o ON o.kind = (j.v ->> 0) AND o.object_key = (j.v ->> 1)",
    entries: concat!(
        "SELECT ",
        entry_columns!(),
        " FROM moderation_entries WHERE id IN \
         (SELECT jsonb_array_elements_text($1::text::jsonb)::bigint)"
    ),
    hidden: "SELECT object_key FROM moderated_objects WHERE kind = $1 \
         AND object_key IN (SELECT jsonb_array_elements_text($2::text::jsonb)) \
         AND public_version IS NULL",
    targets: concat!(
        "SELECT ",
        target_columns!(),
        " FROM moderation_entries AS e JOIN moderated_objects AS o \
         ON o.kind = e.kind AND o.object_key = e.object_key \
         WHERE e.id IN (SELECT jsonb_array_elements_text($1::text::jsonb)::bigint)"
    ),
};

/// One `moderated_objects` row as read.
pub(crate) type ObjectRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
    i64,
    i64,
    i64,
);

/// One `moderation_entries` row as read.
pub(crate) type EntryRow = (
    i64,
    String,
    String,
    i64,
    String,
    String,
    Option<String>,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    i64,
);

/// A JSON version as stored text, refused when over the payload limit.
fn encode_json(value: &Value, limits: StoreLimits) -> Result<String, ModerationError> {
    let text = serde_json::to_string(value)?;
    if text.len() > limits.max_payload_bytes {
        return Err(ModerationError::PayloadTooLarge {
            len: text.len(),
            max: limits.max_payload_bytes,
        });
    }
    Ok(text)
}

fn decode_json(column: &'static str, text: &str) -> Result<Value, StorageError> {
    serde_json::from_str(text).map_err(|e| StorageError::corrupt(column, &e))
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

/// The stored `[kind, key]` of an object.
pub(crate) fn encode_ref(object: &ObjectRef) -> Result<(String, String), ModerationError> {
    Ok((object.kind.as_str().to_owned(), object_key(&object.id)?))
}

/// A batch of object references as the JSON array parameter of [`BatchSql::objects`].
pub(crate) fn encode_refs(objects: &[ObjectRef]) -> Result<String, ModerationError> {
    let pairs = objects
        .iter()
        .map(|object| encode_ref(object).map(|(kind, key)| [kind, key]))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(serde_json::to_string(&pairs)?)
}

/// A batch of object ids as the JSON array parameter of [`BatchSql::hidden`].
pub(crate) fn encode_keys(ids: &[ObjectId]) -> Result<String, ModerationError> {
    let keys = ids.iter().map(object_key).collect::<Result<Vec<_>, _>>()?;
    Ok(serde_json::to_string(&keys)?)
}

/// A batch of entry ids as the JSON array parameter of [`BatchSql::entries`].
pub(crate) fn encode_entry_ids(ids: &[EntryId]) -> Result<String, ModerationError> {
    Ok(serde_json::to_string(
        &ids.iter().map(|id| id.0).collect::<Vec<_>>(),
    )?)
}

pub(crate) fn decode_object(row: ObjectRow) -> Result<ModeratedObject, ModerationError> {
    let (
        kind,
        key,
        state,
        status,
        decided_by,
        decided_at,
        reason,
        public,
        approved,
        current,
        revision,
        version,
        created_at,
        updated_at,
    ) = row;
    Ok(ModeratedObject {
        object: decode_ref(kind, &key)?,
        state: state
            .parse::<ObjectState>()
            .map_err(|e| StorageError::corrupt("state", &e))?,
        status: status
            .parse::<ObjectStatus>()
            .map_err(|e| StorageError::corrupt("status", &e))?,
        decided_by: decode_user("decided_by", decided_by)?,
        decided_at: decided_at
            .map(|at| decode_time("decided_at", at))
            .transpose()?,
        reason,
        public: public
            .map(|text| decode_json("public_version", &text))
            .transpose()?,
        approved: approved
            .map(|text| decode_json("approved_version", &text))
            .transpose()?,
        current: decode_json("current_version", &current)?,
        revision,
        version,
        created_at: decode_time("created_at", created_at)?,
        updated_at: decode_time("updated_at", updated_at)?,
    })
}

pub(crate) fn decode_entry(row: EntryRow) -> Result<ObjectEntry, ModerationError> {
    let (
        id,
        kind,
        key,
        revision,
        status,
        snapshot,
        submitted_by,
        submitted_at,
        decided_by,
        decided_at,
        reason,
        version,
    ) = row;
    Ok(ObjectEntry {
        id: EntryId(id),
        object: decode_ref(kind, &key)?,
        revision,
        status: status
            .parse::<EntryStatus>()
            .map_err(|e| StorageError::corrupt("status", &e))?,
        snapshot: decode_json("snapshot", &snapshot)?,
        submitted_by: decode_user("submitted_by", submitted_by)?,
        submitted_at: decode_time("submitted_at", submitted_at)?,
        decided_by: decode_user("decided_by", decided_by)?,
        decided_at: decided_at
            .map(|at| decode_time("decided_at", at))
            .transpose()?,
        reason,
        version,
    })
}

/// Splits a [`BatchSql::targets`] row into its entry and its record.
pub(crate) fn decode_target<R>(row: &R) -> Result<(ObjectEntry, ModeratedObject), ModerationError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok((
        decode_entry(entry_row(row)?)?,
        decode_object(record_row(row, TARGET_ENTRY_COLUMNS)?)?,
    ))
}

/// A [`SELECT_OBJECT_WITH_LATEST`] row: the record, and its newest entry
/// when the join found one.
pub(crate) fn decode_with_latest<R>(
    row: &R,
) -> Result<(ModeratedObject, Option<ObjectEntry>), ModerationError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let entry_id: Option<i64> = column(row, 0)?;
    let latest = entry_id
        .map(|_| entry_row(row).and_then(decode_entry))
        .transpose()?;
    Ok((
        decode_object(record_row(row, TARGET_ENTRY_COLUMNS)?)?,
        latest,
    ))
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

/// The entry columns of a row that starts with them (an entry read, or a
/// [`BatchSql::targets`] row).
fn entry_row<R>(row: &R) -> Result<EntryRow, ModerationError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok((
        column(row, 0)?,
        column(row, 1)?,
        column(row, 2)?,
        column(row, 3)?,
        column(row, 4)?,
        column(row, 5)?,
        column(row, 6)?,
        column(row, 7)?,
        column(row, 8)?,
        column(row, 9)?,
        column(row, 10)?,
        column(row, 11)?,
    ))
}

/// The record columns of a row, from column `o` on (0 for a record read,
/// [`TARGET_ENTRY_COLUMNS`] in a [`BatchSql::targets`] row).
fn record_row<R>(row: &R, o: usize) -> Result<ObjectRow, ModerationError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    Ok((
        column(row, o)?,
        column(row, o + 1)?,
        column(row, o + 2)?,
        column(row, o + 3)?,
        column(row, o + 4)?,
        column(row, o + 5)?,
        column(row, o + 6)?,
        column(row, o + 7)?,
        column(row, o + 8)?,
        column(row, o + 9)?,
        column(row, o + 10)?,
        column(row, o + 11)?,
        column(row, o + 12)?,
        column(row, o + 13)?,
    ))
}

/// A record read ([`object_columns!`] first).
pub(crate) fn object_from_row<R>(row: &R) -> Result<ModeratedObject, ModerationError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    decode_object(record_row(row, 0)?)
}

/// An entry read ([`entry_columns!`] first).
pub(crate) fn entry_from_row<R>(row: &R) -> Result<ObjectEntry, ModerationError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    decode_entry(entry_row(row)?)
}

/// The public version of a [`SELECT_PUBLIC`] row: `None` while hidden.
pub(crate) fn public_from_row<R>(row: &R) -> Result<Option<Value>, ModerationError>
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let text: Option<String> = column(row, 0)?;
    text.as_deref().map(decode_public).transpose()
}

pub(crate) fn decode_public(text: &str) -> Result<Value, ModerationError> {
    Ok(decode_json("public_version", text)?)
}

/// Binds the eleven record columns that [`INSERT_OBJECT`] and
/// [`UPDATE_OBJECT`] share, in their order ($1 to $11); each statement then
/// binds what differs (the creation time, or the version it expects).
macro_rules! bind_record {
    ($query:expr, $o:expr) => {
        $crate::objects::bind_record_values!($query.bind(&$o.kind).bind(&$o.key), $o)
    };
}

/// Binds the nine record columns after its key, in their order (state,
/// status, decided by and at, reason, public, approved and current
/// versions, revision): what [`UPDATE_OBJECT`] sets.
macro_rules! bind_record_values {
    ($query:expr, $o:expr) => {
        $query
            .bind($o.state)
            .bind($o.status)
            .bind(&$o.decided_by)
            .bind($o.decided_at)
            .bind(&$o.reason)
            .bind(&$o.public)
            .bind(&$o.approved)
            .bind(&$o.current)
            .bind($o.revision)
    };
}

pub(crate) use bind_record;
pub(crate) use bind_record_values;

/// Binds the seven entry columns every entry statement writes, in their
/// order (status, snapshot, submitted by and at, decided by and at,
/// reason), from an [`EncodedEntry`]: `bind_entry!(query, e)` moves its
/// values into the query, `bind_entry!(query, &e)` binds copies.
macro_rules! bind_entry {
    ($query:expr, $($e:tt)+) => {
        $query
            .bind($($e)+.status)
            .bind($($e)+.snapshot)
            .bind($($e)+.submitted_by)
            .bind($($e)+.submitted_at)
            .bind($($e)+.decided_by)
            .bind($($e)+.decided_at)
            .bind($($e)+.reason)
    };
}

pub(crate) use bind_entry;

/// A record as column values, in the order of [`INSERT_OBJECT`] and
/// [`UPDATE_OBJECT`].
pub(crate) struct EncodedObject {
    pub(crate) kind: String,
    pub(crate) key: String,
    pub(crate) state: &'static str,
    pub(crate) status: &'static str,
    pub(crate) decided_by: Option<String>,
    pub(crate) decided_at: Option<i64>,
    pub(crate) reason: Option<String>,
    pub(crate) public: Option<String>,
    pub(crate) approved: Option<String>,
    pub(crate) current: String,
    pub(crate) revision: i64,
    pub(crate) version: i64,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

/// An entry's column values.
pub(crate) struct EncodedEntry {
    pub(crate) status: &'static str,
    pub(crate) snapshot: String,
    pub(crate) submitted_by: Option<String>,
    pub(crate) submitted_at: i64,
    pub(crate) decided_by: Option<String>,
    pub(crate) decided_at: Option<i64>,
    pub(crate) reason: Option<String>,
}

/// A write with every value encoded and checked, before any SQL runs.
pub(crate) struct EncodedWrite {
    pub(crate) object: EncodedObject,
    pub(crate) entries: Vec<EncodedEntry>,
    pub(crate) log: Vec<crate::modlog::EncodedEntry>,
}

/// Whether `write` fits one statement text (`write_text`): a record
/// change alone, or one entry with its record, the log and, before a new
/// entry, the one it supersedes: every shape a save or a decision plans.
/// Other shapes run statement by statement.
pub(crate) fn fits_one_text(write: &ObjectWrite) -> bool {
    match write.entries.as_slice() {
        [] => write.log.is_empty(),
        [_] | [EntryWrite::Update { .. }, EntryWrite::Insert(_)] => true,
        _ => false,
    }
}

fn encode_entry_fields(
    status: EntryStatus,
    snapshot: &Value,
    submitted_by: Option<&UserId>,
    submitted_at: chrono::DateTime<chrono::Utc>,
    decided: (
        Option<&UserId>,
        Option<chrono::DateTime<chrono::Utc>>,
        Option<&String>,
    ),
    limits: StoreLimits,
) -> Result<EncodedEntry, ModerationError> {
    let (decided_by, decided_at, reason) = decided;
    Ok(EncodedEntry {
        status: status.as_str(),
        snapshot: encode_json(snapshot, limits)?,
        submitted_by: submitted_by.map(|user| user.as_str().to_owned()),
        submitted_at: to_micros(submitted_at),
        decided_by: decided_by.map(|user| user.as_str().to_owned()),
        decided_at: decided_at.map(to_micros),
        reason: reason.cloned(),
    })
}

fn encode_new_entry(
    entry: &NewEntry,
    limits: StoreLimits,
) -> Result<EncodedEntry, ModerationError> {
    encode_entry_fields(
        entry.status,
        &entry.snapshot,
        entry.submitted_by.as_ref(),
        entry.submitted_at,
        (
            entry.decided_by.as_ref(),
            entry.decided_at,
            entry.reason.as_ref(),
        ),
        limits,
    )
}

fn encode_stored_entry(
    entry: &ObjectEntry,
    limits: StoreLimits,
) -> Result<EncodedEntry, ModerationError> {
    encode_entry_fields(
        entry.status,
        &entry.snapshot,
        entry.submitted_by.as_ref(),
        entry.submitted_at,
        (
            entry.decided_by.as_ref(),
            entry.decided_at,
            entry.reason.as_ref(),
        ),
        limits,
    )
}

/// Encodes `write`, checking every key and payload size.
pub(crate) fn encode_write(
    write: &ObjectWrite,
    limits: StoreLimits,
) -> Result<EncodedWrite, ModerationError> {
    let record = &write.record;
    let (kind, key) = encode_ref(&record.object)?;
    let object = EncodedObject {
        kind,
        key,
        state: record.state.as_str(),
        status: record.status.as_str(),
        decided_by: record.decided_by.as_ref().map(|u| u.as_str().to_owned()),
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
    let entries = write
        .entries
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
    let log = write
        .log
        .iter()
        .map(crate::modlog::EncodedEntry::new)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(EncodedWrite {
        object,
        entries,
        log,
    })
}

/// What a backend adds to [`crate::port::Backend`] for the object store.
pub(crate) trait ObjectBackend: crate::port::Backend {
    /// Whether a write that [`fits_one_text`] is sent as one statement
    /// text (`write_text`, SQLite), so that it costs one round trip.
    const WRITES_AS_ONE_TEXT: bool;

    /// Runs one batch of decisions (all
    /// [`is_decision`](crate::carried_decisions::is_decision)) inside the
    /// caller's transaction, in a fixed number of statements; returns how
    /// many it applied in full (entry and record). Fewer than the batch
    /// holds means a conflict, and the caller rolls back.
    fn run_decisions<'c>(
        conn: &'c mut Self::Conn,
        writes: &'c [ObjectWrite],
        encoded: &'c [EncodedWrite],
    ) -> impl std::future::Future<Output = Result<u64, ModerationError>> + Send + 'c;
}

/// Implements `moderation_core::workflow::ObjectStore` for a SQL store type,
/// given the backend's name, its [`BatchSql`] and the moderation log's
/// in-transaction append helper. The store implements [`ObjectBackend`] and
/// provides `reader()`, `writer()` and `limits()`: every write goes through
/// the store's one write connection, shared with the item store.
macro_rules! impl_object_store {
    ($store:ty, $backend:literal, $batch:path, $append:path) => {
        impl $store {
            /// Writes one entry on `conn` (inside the caller's transaction).
            async fn write_entry(
                conn: &mut <$store as $crate::port::Backend>::Conn,
                kind: &str,
                key: &str,
                write: moderation_core::workflow::EntryWrite,
                encoded: $crate::objects::EncodedEntry,
            ) -> Result<moderation_core::workflow::ObjectEntry, moderation_core::ModerationError> {
                use moderation_core::workflow::{EntryId, EntryWrite};
                let e = encoded;
                match write {
                    EntryWrite::Insert(new) => {
                        let id: i64 = $crate::objects::bind_entry!(
                            sqlx::query_scalar($crate::objects::INSERT_ENTRY)
                                .bind(kind)
                                .bind(key)
                                .bind(new.revision),
                            e
                        )
                            .fetch_one(&mut *conn)
                            .await
                            .map_err($crate::error::StorageError::from)?;
                        Ok(new.stored(EntryId(id)))
                    }
                    EntryWrite::Update {
                        mut entry,
                        expected_version,
                    } => {
                        let updated = $crate::objects::bind_entry!(
                            sqlx::query($crate::objects::UPDATE_ENTRY),
                            e
                        )
                            .bind(entry.id.0)
                            .bind(expected_version)
                            .execute(&mut *conn)
                            .await
                            .map_err($crate::error::StorageError::from)?
                            .rows_affected();
                        if updated == 0 {
                            return Err(Self::entry_conflict(conn, entry.id, expected_version).await);
                        }
                        entry.version = expected_version + 1;
                        Ok(entry)
                    }
                }
            }

            /// The error for an entry that no longer has `expected`:
            /// `UnknownEntry` when it is gone, `Conflict` otherwise.
            async fn entry_conflict(
                conn: &mut <$store as $crate::port::Backend>::Conn,
                id: moderation_core::workflow::EntryId,
                expected: i64,
            ) -> moderation_core::ModerationError {
                let actual: Result<Option<i64>, _> =
                    sqlx::query_scalar($crate::objects::SELECT_ENTRY_VERSION)
                        .bind(id.0)
                        .fetch_optional(&mut *conn)
                        .await;
                match actual {
                    Ok(None) => moderation_core::ModerationError::UnknownEntry { entry: id.0 },
                    Ok(Some(actual)) => moderation_core::ModerationError::Conflict {
                        item: moderation_core::ItemId(id.0),
                        expected,
                        actual,
                    },
                    Err(error) => $crate::error::StorageError::from(error).into(),
                }
            }

            /// The error for a record that no longer has the version the
            /// write expected (0: it had none, on insert).
            async fn record_conflict(
                conn: &mut <$store as $crate::port::Backend>::Conn,
                o: &$crate::objects::EncodedObject,
                object: moderation_core::ObjectRef,
                insert: bool,
            ) -> moderation_core::ModerationError {
                let actual: Result<Option<i64>, _> =
                    sqlx::query_scalar($crate::objects::SELECT_OBJECT_VERSION)
                        .bind(&o.kind)
                        .bind(&o.key)
                        .fetch_optional(&mut *conn)
                        .await;
                match actual {
                    Ok(actual) => moderation_core::ModerationError::ObjectConflict {
                        object,
                        expected: if insert { 0 } else { o.version },
                        actual: actual.unwrap_or(0),
                    },
                    Err(error) => $crate::error::StorageError::from(error).into(),
                }
            }

            /// Inserts or updates the record alone; returns its new version.
            async fn write_record(
                conn: &mut <$store as $crate::port::Backend>::Conn,
                o: &$crate::objects::EncodedObject,
                object: &moderation_core::ObjectRef,
                insert: bool,
            ) -> Result<i64, moderation_core::ModerationError> {
                let written = if insert {
                    $crate::objects::bind_record!(sqlx::query($crate::objects::INSERT_OBJECT), o)
                        .bind(o.created_at)
                        .bind(o.updated_at)
                        .execute(&mut *conn)
                        .await
                } else {
                    $crate::objects::bind_record_values!(sqlx::query($crate::objects::UPDATE_OBJECT), o)
                        .bind(o.updated_at)
                        .bind(&o.kind)
                        .bind(&o.key)
                        .bind(o.version)
                        .execute(&mut *conn)
                        .await
                }
                .map_err($crate::error::StorageError::from)?
                .rows_affected();
                if written == 0 {
                    return Err(Self::record_conflict(conn, o, object.clone(), insert).await);
                }
                Ok(if insert { 1 } else { o.version + 1 })
            }

            /// Writes one object's change statement by statement, inside
            /// the caller's transaction.
            async fn write_statements(
                conn: &mut <$store as $crate::port::Backend>::Conn,
                write: moderation_core::workflow::ObjectWrite,
                encoded: $crate::objects::EncodedWrite,
            ) -> Result<moderation_core::workflow::StoredWrite, moderation_core::ModerationError> {
                let $crate::objects::EncodedWrite { object: o, entries: encoded_entries, .. } = encoded;
                let moderation_core::workflow::ObjectWrite { mut record, insert, entries, log } = write;
                let mut written = Vec::with_capacity(entries.len());
                if insert {
                    // The record goes first: entries reference it.
                    record.version = Self::write_record(conn, &o, &record.object, true).await?;
                }
                // Otherwise entries go first, so the loser of two moderators
                // deciding one entry learns it from the entry's version.
                for (entry, e) in entries.into_iter().zip(encoded_entries) {
                    written.push(Self::write_entry(conn, &o.kind, &o.key, entry, e).await?);
                }
                if !insert {
                    record.version = Self::write_record(conn, &o, &record.object, false).await?;
                }
                for entry in &log {
                    $append(&mut *conn, entry).await?;
                }
                Ok(moderation_core::workflow::StoredWrite { record, entries: written })
            }

            /// Writes a change that `objects::fits_one_text` accepts as one
            /// statement text (`write_text`), one round trip: a transaction
            /// of its own when `standalone`, else inside the caller's. The
            /// main entry's version is checked first, then the superseded
            /// entry's, then the record's; a miss stops the text, which a
            /// standalone write then rolls back before it reads the
            /// conflict.
            async fn write_one_text(
                conn: &mut <$store as $crate::port::Backend>::Conn,
                write: moderation_core::workflow::ObjectWrite,
                encoded: $crate::objects::EncodedWrite,
                standalone: bool,
            ) -> Result<moderation_core::workflow::StoredWrite, moderation_core::ModerationError> {
                use moderation_core::workflow::{EntryId, EntryWrite, StoredWrite};
                use $crate::write_text::{Check, WriteText};
                let $crate::objects::EncodedWrite { object: o, entries: encoded_entries, log: encoded_log } = encoded;
                let moderation_core::workflow::ObjectWrite { mut record, insert, entries, log } = write;
                let mut pairs = entries.into_iter().zip(encoded_entries);
                let (main, other) = match (pairs.next(), pairs.next()) {
                    (main, None) => (main, None),
                    (Some((EntryWrite::Update { entry, expected_version }, e)), Some(main)) => {
                        (Some(main), Some((entry, expected_version, e)))
                    }
                    (_, Some(_)) => {
                        return Err(moderation_core::ModerationError::Config(
                            "only a new entry after the one it supersedes fits one write".to_owned(),
                        ));
                    }
                };
                let (main, main_values) = main.unzip();

                let mut text = WriteText::new(standalone);
                if let Some(EntryWrite::Update { .. }) = &main {
                    text.statement($crate::objects::UPDATE_ENTRY).check(Check::Entry);
                }
                if other.is_some() {
                    text.statement($crate::objects::UPDATE_ENTRY)
                        .check(Check::SupersededEntry);
                }
                let record_sql = if insert {
                    $crate::objects::INSERT_OBJECT
                } else {
                    $crate::objects::UPDATE_OBJECT
                };
                text.statement(record_sql).check(Check::Record);
                if let Some(EntryWrite::Insert(_)) = &main {
                    text.statement($crate::objects::INSERT_ENTRY);
                }
                if !log.is_empty() {
                    text.statement(&$crate::modlog::insert_rows(
                        log.len(),
                        $crate::sql::Placeholder::Anonymous,
                    ));
                }
                // Only placeholders and fixed fragments (see `write_text`).
                let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(text.finish()));

                if let (Some(EntryWrite::Update { entry, expected_version }), Some(e)) =
                    (&main, &main_values)
                {
                    query = $crate::objects::bind_entry!(query, &e)
                        .bind(entry.id.0)
                        .bind(*expected_version);
                }
                if let Some((entry, expected_version, e)) = &other {
                    query = $crate::objects::bind_entry!(query, &e)
                        .bind(entry.id.0)
                        .bind(*expected_version);
                }
                query = if insert {
                    $crate::objects::bind_record!(query, o)
                        .bind(o.created_at)
                        .bind(o.updated_at)
                } else {
                    $crate::objects::bind_record_values!(query, o)
                        .bind(o.updated_at)
                        .bind(&o.kind)
                        .bind(&o.key)
                        .bind(o.version)
                };
                if let (Some(EntryWrite::Insert(new)), Some(e)) = (&main, &main_values) {
                    query = $crate::objects::bind_entry!(
                        query.bind(&o.kind).bind(&o.key).bind(new.revision),
                        &e
                    );
                }
                for (entry, e) in log.iter().zip(&encoded_log) {
                    query = $crate::modlog::bind_entry!(query, entry, &e);
                }

                // The new entry's id is the only row the text returns.
                let ids = match query.fetch_all(&mut *conn).await {
                    Ok(ids) => ids,
                    Err(error) => {
                        if standalone
                            && let Err(rollback) = sqlx::query("ROLLBACK").execute(&mut *conn).await
                        {
                            // The text failed before it began, or SQLite
                            // rolled back by itself.
                            tracing::debug!(%rollback, "no transaction left open by a failed write");
                        }
                        let main_id = match &main {
                            Some(EntryWrite::Update { entry, expected_version }) => Some((entry.id, *expected_version)),
                            _ => None,
                        };
                        let other_id = other.as_ref().map(|(entry, expected, _)| (entry.id, *expected));
                        return Err(match ($crate::write_text::failed_check(&error), main_id, other_id) {
                            (Some(Check::Record), _, _) => {
                                Self::record_conflict(conn, &o, record.object, insert).await
                            }
                            (Some(Check::Entry), Some((id, expected)), _)
                            | (Some(Check::SupersededEntry), _, Some((id, expected))) => {
                                Self::entry_conflict(conn, id, expected).await
                            }
                            _ => $crate::error::StorageError::from(error).into(),
                        });
                    }
                };
                let mut written = Vec::with_capacity(2);
                if let Some((mut entry, expected_version, _)) = other {
                    entry.version = expected_version + 1;
                    written.push(entry);
                }
                match main {
                    Some(EntryWrite::Insert(new)) => {
                        let id = ids.first().copied().ok_or_else(|| {
                            moderation_core::ModerationError::store("the new entry's id was not returned")
                        })?;
                        written.push(new.stored(EntryId(id)));
                    }
                    Some(EntryWrite::Update { mut entry, expected_version }) => {
                        entry.version = expected_version + 1;
                        written.push(entry);
                    }
                    None => {}
                }
                record.version = if insert { 1 } else { o.version + 1 };
                Ok(StoredWrite { record, entries: written })
            }

            /// Runs decisions (all `carried_decisions::is_decision`) a
            /// batch at a time. `Ok(false)` on a conflict, found as a row
            /// not matched; other failures are errors. The caller rolls
            /// back either way.
            async fn write_decisions(
                conn: &mut <$store as $crate::port::Backend>::Conn,
                writes: &[moderation_core::workflow::ObjectWrite],
                encoded: &[$crate::objects::EncodedWrite],
            ) -> Result<bool, moderation_core::ModerationError> {
                use $crate::carried_decisions::DECISIONS_PER_STATEMENT;
                for (writes, encoded) in writes
                    .chunks(DECISIONS_PER_STATEMENT)
                    .zip(encoded.chunks(DECISIONS_PER_STATEMENT))
                {
                    let applied = <$store as $crate::objects::ObjectBackend>::run_decisions(
                        &mut *conn,
                        writes,
                        encoded,
                    )
                    .await?;
                    if applied != writes.len() as u64 {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
        }

        #[async_trait::async_trait]
        impl moderation_core::workflow::ObjectStore for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, %object))]
            async fn object(
                &self,
                object: &moderation_core::ObjectRef,
            ) -> Result<Option<moderation_core::workflow::ModeratedObject>, moderation_core::ModerationError> {
                self.settle(async move {
                    let (kind, key) = $crate::objects::encode_ref(object)?;
                    let row = sqlx::query($crate::objects::SELECT_OBJECT)
                        .bind(kind)
                        .bind(key)
                        .fetch_optional(&mut *self.reader().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?;
                    row.as_ref().map($crate::objects::object_from_row).transpose()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, %object))]
            async fn object_with_latest(
                &self,
                object: &moderation_core::ObjectRef,
            ) -> Result<
                Option<(moderation_core::workflow::ModeratedObject, Option<moderation_core::workflow::ObjectEntry>)>,
                moderation_core::ModerationError,
            > {
                self.settle(async move {
                    let (kind, key) = $crate::objects::encode_ref(object)?;
                    // An edit writes right after this read: see `decision_targets`.
                    let row = sqlx::query($crate::objects::SELECT_OBJECT_WITH_LATEST)
                        .bind(kind)
                        .bind(key)
                        .fetch_optional(&mut *self.writer().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?;
                    row.as_ref().map($crate::objects::decode_with_latest).transpose()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, count = objects.len()))]
            async fn objects(
                &self,
                objects: &[moderation_core::ObjectRef],
            ) -> Result<Vec<moderation_core::workflow::ModeratedObject>, moderation_core::ModerationError> {
                self.settle(async move {
                    if objects.is_empty() {
                        return Ok(Vec::new());
                    }
                    let rows = sqlx::query($batch.objects)
                        .bind($crate::objects::encode_refs(objects)?)
                        .fetch_all(&mut *self.reader().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?;
                    rows.iter().map($crate::objects::object_from_row).collect()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, count = ids.len()))]
            async fn entries(
                &self,
                ids: &[moderation_core::workflow::EntryId],
            ) -> Result<Vec<moderation_core::workflow::ObjectEntry>, moderation_core::ModerationError> {
                self.settle(async move {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let rows = sqlx::query($batch.entries)
                        .bind($crate::objects::encode_entry_ids(ids)?)
                        .fetch_all(&mut *self.reader().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?;
                    rows.iter().map($crate::objects::entry_from_row).collect()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, count = ids.len()))]
            async fn decision_targets(
                &self,
                ids: &[moderation_core::workflow::EntryId],
            ) -> Result<
                Vec<(moderation_core::workflow::ObjectEntry, moderation_core::workflow::ModeratedObject)>,
                moderation_core::ModerationError,
            > {
                self.settle(async move {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    // A decision writes right after this read, so it runs on the
                    // write connection. On SQLite a read connection that finds the
                    // database changed since its last read drops its page cache
                    // and unmaps the file (a page-table flush on every core);
                    // the writer's own commits leave its cache warm. An approval
                    // one at a time took about a third less.
                    let rows = sqlx::query($batch.targets)
                        .bind($crate::objects::encode_entry_ids(ids)?)
                        .fetch_all(&mut *self.writer().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?;
                    rows.iter().map($crate::objects::decode_target).collect()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, %object, revision))]
            async fn revision(
                &self,
                object: &moderation_core::ObjectRef,
                revision: i64,
            ) -> Result<Option<moderation_core::workflow::ObjectEntry>, moderation_core::ModerationError> {
                self.settle(async move {
                    let (kind, key) = $crate::objects::encode_ref(object)?;
                    let row = sqlx::query($crate::objects::SELECT_REVISION)
                        .bind(kind)
                        .bind(key)
                        .bind(revision)
                        .fetch_optional(&mut *self.reader().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?;
                    row.as_ref().map($crate::objects::entry_from_row).transpose()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, %object))]
            async fn history(
                &self,
                object: &moderation_core::ObjectRef,
            ) -> Result<Vec<moderation_core::workflow::ObjectEntry>, moderation_core::ModerationError> {
                self.settle(async move {
                    let (kind, key) = $crate::objects::encode_ref(object)?;
                    let rows = sqlx::query($crate::objects::SELECT_HISTORY)
                        .bind(kind)
                        .bind(key)
                        .fetch_all(&mut *self.reader().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?;
                    rows.iter().map($crate::objects::entry_from_row).collect()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend))]
            async fn pending(
                &self,
                query: &moderation_core::workflow::PendingQuery,
            ) -> Result<moderation_core::workflow::EntryPage, moderation_core::ModerationError> {
                self.settle(async move {
                    let limit = query.clamped_limit();
                    let (at, id) = query
                        .after
                        .map_or((i64::MIN, i64::MIN), |after| {
                            ($crate::record::to_micros(after.submitted_at), after.id.0)
                        });
                    let fetch = i64::try_from(limit.saturating_add(1)).unwrap_or(i64::MAX);
                    let statement = if query.kind.is_some() {
                        $crate::objects::PENDING_OF_KIND
                    } else {
                        $crate::objects::PENDING
                    };
                    let mut sql = sqlx::query(statement).bind(at).bind(id).bind(fetch);
                    if let Some(kind) = &query.kind {
                        sql = sql.bind(kind.as_str());
                    }
                    let rows = sql
                        .fetch_all(&mut *self.reader().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?;
                    let entries = rows
                        .iter()
                        .map($crate::objects::entry_from_row)
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok(moderation_core::workflow::EntryPage::from_fetched(entries, limit))
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, %object))]
            async fn public_version(
                &self,
                object: &moderation_core::ObjectRef,
            ) -> Result<moderation_core::workflow::PublicRead, moderation_core::ModerationError> {
                self.settle(async move {
                    use moderation_core::workflow::PublicRead;
                    let (kind, key) = $crate::objects::encode_ref(object)?;
                    let row = sqlx::query($crate::objects::SELECT_PUBLIC)
                        .bind(kind)
                        .bind(key)
                        .fetch_optional(&mut *self.reader().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?;
                    Ok(match row.as_ref().map($crate::objects::public_from_row).transpose()? {
                        None => PublicRead::Unmoderated,
                        Some(None) => PublicRead::Hidden,
                        Some(Some(version)) => PublicRead::Public(version),
                    })
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, %kind, count = ids.len()))]
            async fn hidden_among(
                &self,
                kind: &moderation_core::Kind,
                ids: &[moderation_core::ObjectId],
            ) -> Result<Vec<moderation_core::ObjectId>, moderation_core::ModerationError> {
                self.settle(async move {
                    if ids.is_empty() {
                        return Ok(Vec::new());
                    }
                    let keys: Vec<String> = sqlx::query_scalar($batch.hidden)
                        .bind(kind.as_str())
                        .bind($crate::objects::encode_keys(ids)?)
                        .fetch_all(&mut *self.reader().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?;
                    keys.iter()
                        .map(|key| {
                            moderation_core::ObjectId::from_key(key).map_err(|e| {
                                $crate::error::StorageError::corrupt("object_key", &e).into()
                            })
                        })
                        .collect()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, %kind, limit))]
            async fn public_page(
                &self,
                kind: &moderation_core::Kind,
                after: Option<&moderation_core::ObjectId>,
                limit: usize,
            ) -> Result<Vec<moderation_core::workflow::PublicObject>, moderation_core::ModerationError> {
                self.settle(async move {
                    let after = after.map($crate::record::object_key).transpose()?.unwrap_or_default();
                    let limit = limit.clamp(1, moderation_core::workflow::MAX_WORKFLOW_PAGE);
                    let rows: Vec<(String, String)> = sqlx::query_as($crate::objects::PUBLIC_PAGE)
                        .bind(kind.as_str())
                        .bind(after)
                        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                        .fetch_all(&mut *self.reader().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?;
                    rows.into_iter()
                        .map(|(key, version)| {
                            Ok(moderation_core::workflow::PublicObject {
                                id: moderation_core::ObjectId::from_key(&key).map_err(|e| {
                                    $crate::error::StorageError::corrupt("object_key", &e)
                                })?,
                                version: $crate::objects::decode_public(&version)?,
                            })
                        })
                        .collect()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, count = writes.len()))]
            async fn apply(
                &self,
                writes: Vec<moderation_core::workflow::ObjectWrite>,
            ) -> Result<Vec<moderation_core::workflow::StoredWrite>, moderation_core::ModerationError> {
                self.settle(async move {
                    // Every value is encoded and checked before the transaction opens.
                    let limits = self.limits();
                    let encoded = writes
                        .iter()
                        .map(|write| $crate::objects::encode_write(write, limits))
                        .collect::<Result<Vec<_>, _>>()?;
                    if writes.is_empty() {
                        return Ok(Vec::new());
                    }
                    let as_text = <$store as $crate::objects::ObjectBackend>::WRITES_AS_ONE_TEXT;
                    let mut conn = self.writer().await?;
                    if as_text && writes.len() == 1 && writes.iter().all($crate::objects::fits_one_text) {
                        let mut stored = Vec::with_capacity(1);
                        for (write, encoded) in writes.into_iter().zip(encoded) {
                            let open = self.open_text();
                            let written = Self::write_one_text(&mut *conn, write, encoded, true).await;
                            // Committed, or rolled back by `write_one_text`.
                            open.close();
                            stored.push(written?);
                        }
                        return Ok(stored);
                    }
                    let mut tx = $crate::port::begin_write!($store, conn)?;
                    if writes.len() > 1 && writes.iter().all($crate::carried_decisions::is_decision) {
                        if Self::write_decisions(&mut *tx, &writes, &encoded).await? {
                            tx.commit().await.map_err($crate::error::StorageError::from)?;
                            return Ok(writes.into_iter().zip(encoded).map(|(write, encoded)| {
                                $crate::carried_decisions::decided(write, &encoded)
                            }).collect());
                        }
                        // A conflict: start over one statement per write, which
                        // names it.
                        tx.rollback().await.map_err($crate::error::StorageError::from)?;
                        tx = $crate::port::begin_write!($store, conn)?;
                    }
                    let mut stored = Vec::with_capacity(writes.len());
                    for (write, encoded) in writes.into_iter().zip(encoded) {
                        let one = as_text && $crate::objects::fits_one_text(&write);
                        stored.push(if one {
                            Self::write_one_text(&mut *tx, write, encoded, false).await?
                        } else {
                            Self::write_statements(&mut *tx, write, encoded).await?
                        });
                    }
                    tx.commit().await.map_err($crate::error::StorageError::from)?;
                    Ok(stored)
                })
                .await
            }
        }
    };
}

pub(crate) use impl_object_store;
