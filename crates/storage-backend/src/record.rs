//! Conversions between the item store's types (moderation-core's
//! `ModerationStore`) and the column values both SQL backends store (text
//! keys, JSON text, integer microseconds), and the decisions both backends
//! share.
//!
//! Writes are checked and encoded here before any SQL runs ([`Submission`],
//! [`Change`], [`Flag`]), so invalid input never reaches a transaction;
//! reads are decoded here so that a value the library did not write becomes
//! a typed error instead of a panic.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use moderation_core::{
    AuthorKey, Cursor, HiddenAuthors, ItemFilter, ItemId, ItemStatus, Kind, LogAction, LogEntry,
    ModerationError, NewItem, NewLogEntry, ObjectId, ObjectRef, Order, Page, PageRequest, Reason,
    StatusChange, StoredItem, UserId,
};
use uuid::Uuid;

use crate::error::StorageError;
use crate::json::{self, JsonColumn};
use crate::options::StoreLimits;
use crate::sql::{BATCH_ROWS, ListValues};

/// Microseconds since the Unix epoch; the stored form of every time.
pub(crate) fn to_micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// A stored time back from microseconds; a value out of range names its
/// column. Every table stores times this way.
pub(crate) fn from_micros(
    column: &'static str,
    micros: i64,
) -> Result<DateTime<Utc>, StorageError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StorageError::corrupt(column, &format!("{micros} is out of range")))
}

/// The stored key of an object id, checked: `ObjectId::Str` can be built
/// without validation, so the key must parse back to the same id.
pub(crate) fn object_key(id: &ObjectId) -> Result<String, ModerationError> {
    let key = id.to_key();
    if ObjectId::from_key(&key)? == *id {
        Ok(key)
    } else {
        Err(ModerationError::InvalidId { id: id.to_string() })
    }
}

/// An author key, checked the same way as object keys: an anonymous identity
/// must be a valid id text (no control characters, at most 256 bytes).
pub(crate) fn author_key(author: &AuthorKey) -> Result<String, ModerationError> {
    if let AuthorKey::Identity(identity) = author {
        UserId::new(identity.as_str())?;
    }
    Ok(author.to_key())
}

/// The authors a listing hides, as one JSON array of author keys; `None`
/// when it hides nobody (no condition at all then).
pub(crate) fn hidden_authors(hidden: &HiddenAuthors) -> Result<Option<String>, ModerationError> {
    let keys = hidden
        .effective()
        .map(author_key)
        .collect::<Result<Vec<_>, _>>()?;
    if keys.is_empty() {
        return Ok(None);
    }
    Ok(Some(serde_json::to_string(&keys)?))
}

/// A [`NewItem`] as column values.
#[derive(Debug)]
pub(crate) struct EncodedItem {
    pub(crate) kind: String,
    pub(crate) object_key: String,
    pub(crate) parent_kind: Option<String>,
    pub(crate) parent_key: Option<String>,
    pub(crate) author_key: Option<String>,
    pub(crate) status: &'static str,
    pub(crate) reasons: JsonColumn,
    pub(crate) payload: JsonColumn,
    pub(crate) fingerprint: Option<String>,
    pub(crate) ip: Option<String>,
    pub(crate) created_at: i64,
}

impl EncodedItem {
    /// Checks and encodes an item.
    ///
    /// # Errors
    /// `InvalidId` for a malformed object, parent or author id,
    /// `PayloadTooLarge` over the limit, `Serde` if the reasons do not serialise.
    pub(crate) fn new(item: &NewItem, limits: StoreLimits) -> Result<Self, ModerationError> {
        let payload = json::encode(&item.payload)?;
        if json::len(&payload) > limits.max_payload_bytes {
            return Err(ModerationError::PayloadTooLarge {
                len: json::len(&payload),
                max: limits.max_payload_bytes,
            });
        }
        let (parent_kind, parent_key) = match &item.parent {
            Some(parent) => (
                Some(parent.kind.as_str().to_owned()),
                Some(object_key(&parent.id)?),
            ),
            None => (None, None),
        };
        Ok(Self {
            kind: item.object.kind.as_str().to_owned(),
            object_key: object_key(&item.object.id)?,
            parent_kind,
            parent_key,
            author_key: item.author.as_ref().map(author_key).transpose()?,
            status: item.status.as_str(),
            reasons: json::encode(&item.reasons)?,
            payload,
            fingerprint: item.fingerprint.clone(),
            ip: item.ip.map(|ip| ip.to_string()),
            created_at: to_micros(item.created_at),
        })
    }
}

/// A [`NewLogEntry`] as column values.
#[derive(Debug)]
pub(crate) struct EncodedLog {
    pub(crate) action: &'static str,
    pub(crate) actor: Option<String>,
    pub(crate) reason: Option<String>,
    pub(crate) detail: JsonColumn,
    pub(crate) ip: Option<String>,
    pub(crate) from_status: Option<&'static str>,
    pub(crate) to_status: Option<&'static str>,
    pub(crate) bulk: Option<String>,
    pub(crate) at: i64,
    /// The moderation log's verb when the entry is a moderator action,
    /// which the moderation log gets too
    /// ([`LogAction::moderation_log_verb`], the one definition of which
    /// actions those are).
    pub(crate) verb: Option<&'static str>,
}

impl EncodedLog {
    /// Encodes a log entry.
    ///
    /// # Errors
    /// `Serde` if the detail does not serialise.
    pub(crate) fn new(log: &NewLogEntry) -> Result<Self, ModerationError> {
        Ok(Self {
            action: log.action.as_str(),
            actor: log.actor.as_ref().map(|a| a.as_str().to_owned()),
            reason: log.reason.clone(),
            detail: json::encode(&log.detail)?,
            ip: log.ip.map(|ip| ip.to_string()),
            from_status: log.from_status.map(ItemStatus::as_str),
            to_status: log.to_status.map(ItemStatus::as_str),
            bulk: log.bulk.map(|b| b.hyphenated().to_string()),
            at: to_micros(log.at),
            verb: log.action.moderation_log_verb(),
        })
    }
}

/// One row of `moderation_items`, as both drivers return it.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ItemRow {
    id: i64,
    kind: String,
    object_key: String,
    parent_kind: Option<String>,
    parent_key: Option<String>,
    author_key: Option<String>,
    status: String,
    reasons: JsonColumn,
    payload: JsonColumn,
    fingerprint: Option<String>,
    ip: Option<String>,
    created_at: i64,
    updated_at: i64,
    version: i64,
}

fn parse_ip(column: &'static str, text: Option<String>) -> Result<Option<IpAddr>, StorageError> {
    text.map(|t| t.parse().map_err(|e| StorageError::corrupt(column, &e)))
        .transpose()
}

fn parse_status(column: &'static str, text: &str) -> Result<ItemStatus, StorageError> {
    ItemStatus::parse(text)
        .ok_or_else(|| StorageError::corrupt(column, &format!("unknown status `{text}`")))
}

fn parse_author(text: &str) -> Result<AuthorKey, ModerationError> {
    match text.split_once(':') {
        Some(("u", id)) => Ok(AuthorKey::User(UserId::new(id)?)),
        Some(("e", identity)) => Ok(AuthorKey::Identity(identity.to_owned())),
        _ => Err(ModerationError::InvalidId {
            id: text.to_owned(),
        }),
    }
}

impl ItemRow {
    /// Decodes the row. A malformed kind or id keeps its typed error
    /// (`InvalidKind`, `InvalidId`); other unreadable values are `Store`
    /// errors naming the column.
    pub(crate) fn decode(self) -> Result<StoredItem, ModerationError> {
        let parent = match (self.parent_kind, self.parent_key) {
            (Some(kind), Some(key)) => {
                Some(ObjectRef::new(Kind::new(kind)?, ObjectId::from_key(&key)?))
            }
            (None, None) => None,
            _ => {
                return Err(StorageError::corrupt(
                    "parent_kind",
                    &"parent kind and key must be both set or both null",
                )
                .into());
            }
        };
        let reasons: Vec<Reason> = json::decode("reasons", &self.reasons)?;
        Ok(StoredItem {
            id: ItemId(self.id),
            object: ObjectRef::new(Kind::new(self.kind)?, ObjectId::from_key(&self.object_key)?),
            parent,
            author: self.author_key.as_deref().map(parse_author).transpose()?,
            status: parse_status("status", &self.status)?,
            reasons,
            payload: json::decode("payload", &self.payload)?,
            fingerprint: self.fingerprint,
            ip: parse_ip("ip", self.ip)?,
            created_at: from_micros("created_at", self.created_at)?,
            updated_at: from_micros("updated_at", self.updated_at)?,
            version: self.version,
        })
    }
}

/// Decodes many rows, stopping at the first bad one.
pub(crate) fn decode_items(rows: Vec<ItemRow>) -> Result<Vec<StoredItem>, ModerationError> {
    rows.into_iter().map(ItemRow::decode).collect()
}

/// The stored item right after an insert: everything but the id is known,
/// so no read-back query is needed.
pub(crate) fn inserted(id: i64, item: NewItem) -> StoredItem {
    StoredItem {
        id: ItemId(id),
        object: item.object,
        parent: item.parent,
        author: item.author,
        status: item.status,
        reasons: item.reasons,
        payload: item.payload,
        fingerprint: item.fingerprint,
        ip: item.ip,
        created_at: item.created_at,
        updated_at: item.created_at,
        version: 1,
    }
}

/// One row of `moderation_item_log`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct LogRow {
    id: i64,
    item_id: i64,
    action: String,
    actor: Option<String>,
    reason: Option<String>,
    detail: JsonColumn,
    ip: Option<String>,
    from_status: Option<String>,
    to_status: Option<String>,
    bulk_id: Option<String>,
    at: i64,
}

impl LogRow {
    /// Decodes the row.
    pub(crate) fn decode(self) -> Result<LogEntry, ModerationError> {
        let action = LogAction::parse(&self.action).ok_or_else(|| {
            StorageError::corrupt("action", &format!("unknown action `{}`", self.action))
        })?;
        Ok(LogEntry {
            id: self.id,
            item: ItemId(self.item_id),
            action,
            actor: self.actor.map(UserId::new).transpose()?,
            reason: self.reason,
            detail: json::decode("detail", &self.detail)?,
            ip: parse_ip("ip", self.ip)?,
            from_status: self
                .from_status
                .as_deref()
                .map(|s| parse_status("from_status", s))
                .transpose()?,
            to_status: self
                .to_status
                .as_deref()
                .map(|s| parse_status("to_status", s))
                .transpose()?,
            bulk: self
                .bulk_id
                .as_deref()
                .map(|b| Uuid::parse_str(b).map_err(|e| StorageError::corrupt("bulk_id", &e)))
                .transpose()?,
            at: from_micros("at", self.at)?,
        })
    }
}

/// The cursor's stored form.
pub(crate) fn cursor_values(cursor: &Cursor) -> (i64, i64) {
    (to_micros(cursor.created_at), cursor.id.0)
}

/// A database failure, as the port reports it.
pub(crate) fn db(error: sqlx::Error) -> ModerationError {
    StorageError::from(error).into()
}

/// A submission (`ModerationStore::insert_item`), checked and encoded.
#[derive(Debug)]
pub(crate) struct Submission {
    /// The item as given, returned with its id once stored.
    pub(crate) item: NewItem,
    /// The item's column values.
    pub(crate) row: EncodedItem,
    /// Its first log entry.
    pub(crate) log: EncodedLog,
}

impl Submission {
    /// Checks and encodes `item` and its first log entry.
    ///
    /// # Errors
    /// As [`EncodedItem::new`] and [`EncodedLog::new`].
    pub(crate) fn new(
        item: NewItem,
        log: &NewLogEntry,
        limits: StoreLimits,
    ) -> Result<Self, ModerationError> {
        Ok(Self {
            row: EncodedItem::new(&item, limits)?,
            log: EncodedLog::new(log)?,
            item,
        })
    }

    /// Checks and encodes a batch, stopping at the first bad submission.
    ///
    /// # Errors
    /// As [`Submission::new`].
    pub(crate) fn batch(
        items: Vec<(NewItem, NewLogEntry)>,
        limits: StoreLimits,
    ) -> Result<Vec<Self>, ModerationError> {
        items
            .into_iter()
            .map(|(item, log)| Self::new(item, &log, limits))
            .collect()
    }
}

/// A status change (`ModerationStore::change_status`), checked and encoded.
#[derive(Debug)]
pub(crate) struct Change {
    pub(crate) item: ItemId,
    /// The version the caller read.
    pub(crate) expected: i64,
    /// The new status (`ItemStatus::as_str`).
    pub(crate) status: &'static str,
    /// The log entry written with it; its time is the item's `updated_at`.
    pub(crate) log: EncodedLog,
}

impl Change {
    /// Encodes `change`.
    ///
    /// # Errors
    /// As [`EncodedLog::new`].
    pub(crate) fn new(change: &StatusChange) -> Result<Self, ModerationError> {
        Ok(Self {
            item: change.item,
            expected: change.expected_version,
            status: change.status.as_str(),
            log: EncodedLog::new(&change.log)?,
        })
    }

    /// Encodes a batch, stopping at the first bad change.
    ///
    /// # Errors
    /// As [`EncodedLog::new`].
    pub(crate) fn batch(changes: &[StatusChange]) -> Result<Vec<Self>, ModerationError> {
        changes.iter().map(Self::new).collect()
    }

    /// The values `sql::change_statuses` binds for this change: item,
    /// expected version, new status, `updated_at` (the log entry's time).
    pub(crate) fn values(&self) -> (i64, i64, &'static str, i64) {
        (self.item.0, self.expected, self.status, self.log.at)
    }
}

/// A flag (`ModerationStore::add_flag`), checked and encoded.
#[derive(Debug)]
pub(crate) struct Flag {
    pub(crate) item: ItemId,
    /// The flagging user's id.
    pub(crate) flagger: String,
    /// The flag's log entry; its time is the flag's.
    pub(crate) log: EncodedLog,
}

impl Flag {
    /// Encodes a flag by `flagger` on `item`.
    ///
    /// # Errors
    /// As [`EncodedLog::new`].
    pub(crate) fn new(
        item: ItemId,
        flagger: &UserId,
        log: &NewLogEntry,
    ) -> Result<Self, ModerationError> {
        Ok(Self {
            item,
            flagger: flagger.as_str().to_owned(),
            log: EncodedLog::new(log)?,
        })
    }
}

/// The log rows one write appends: its item log entries, and a moderation
/// log entry (verb `item.<action>`, the item as target, the statuses as
/// before and after) for each of them that is a moderator action.
#[derive(Debug, Default)]
pub(crate) struct LogWrites {
    /// Item log entries, each with its item's id.
    pub(crate) entries: Vec<(i64, EncodedLog)>,
    /// The moderation log copies of the moderator actions among them.
    pub(crate) staff: Vec<crate::modlog::LogRow>,
}

impl LogWrites {
    /// Room for `entries` item log entries.
    pub(crate) fn with_capacity(entries: usize) -> Self {
        Self {
            entries: Vec::with_capacity(entries),
            staff: Vec::new(),
        }
    }

    /// Adds `entry` for item `item`. `target` is the item's kind and object
    /// key, the moderation log's target: callers may pass `None` only for
    /// an entry that is no moderator action (`entry.verb` is `None`).
    pub(crate) fn push(&mut self, item: i64, target: Option<(&str, &str)>, entry: EncodedLog) {
        if let (Some(verb), Some((kind, key))) = (entry.verb, target) {
            self.staff.push(crate::modlog::LogRow {
                action: verb.to_owned(),
                actor: entry.actor.clone(),
                target_kind: kind.to_owned(),
                target_key: key.to_owned(),
                reason: entry.reason.clone(),
                before_state: entry.from_status.map(str::to_owned),
                after_state: entry.to_status.map(str::to_owned),
                detail: entry.detail.clone(),
                ip: entry.ip.clone(),
                bulk_id: entry.bulk.clone(),
                at: entry.at,
            });
        }
        self.entries.push((item, entry));
    }
}

/// Splits `changes` into runs, in order, that each name an item at most
/// once and hold at most [`BATCH_ROWS`] changes: one `UPDATE` each
/// (`sql::change_statuses`). A change naming an item again (at the version
/// the earlier change leaves) starts a new run, so it sees that change.
pub(crate) fn runs(changes: Vec<Change>) -> Vec<Vec<Change>> {
    let mut runs = Vec::new();
    let mut run: Vec<Change> = Vec::new();
    let mut ids = HashSet::new();
    for change in changes {
        if run.len() == BATCH_ROWS || !ids.insert(change.item) {
            runs.push(std::mem::take(&mut run));
            ids.clear();
            ids.insert(change.item);
        }
        run.push(change);
    }
    if !run.is_empty() {
        runs.push(run);
    }
    runs
}

/// The items one run changed, in the run's order; `Err` with the first
/// change that matched no row (a stale version or a missing item).
pub(crate) fn in_run_order(
    changed: Vec<StoredItem>,
    run: &[Change],
) -> Result<Vec<StoredItem>, &Change> {
    let mut by_id: HashMap<ItemId, StoredItem> =
        changed.into_iter().map(|item| (item.id, item)).collect();
    run.iter()
        .map(|change| by_id.remove(&change.item).ok_or(change))
        .collect()
}

/// Why `change` matched no row, given the item's stored version now
/// (`None`: there is no such item).
pub(crate) fn missed(change: &Change, actual: Option<i64>) -> ModerationError {
    match actual {
        Some(actual) => ModerationError::Conflict {
            item: change.item,
            expected: change.expected,
            actual,
        },
        None => ModerationError::NotFound { item: change.item },
    }
}

/// `filter` and `page` as `sql::list_items` binds them.
///
/// # Errors
/// `InvalidId` for a malformed author key in the filter.
pub(crate) fn list_values(
    filter: &ItemFilter,
    page: &PageRequest,
) -> Result<ListValues, ModerationError> {
    Ok(ListValues {
        status: filter.status,
        kind: filter.kind.as_ref().map(|kind| kind.as_str().to_owned()),
        author: filter.author.as_ref().map(author_key).transpose()?,
        parent: filter
            .parent
            .as_ref()
            .map(|parent| {
                Ok::<_, ModerationError>((parent.kind.as_str().to_owned(), object_key(&parent.id)?))
            })
            .transpose()?,
        hidden: hidden_authors(&filter.hidden)?,
        after: page.after.as_ref().map(cursor_values),
        newest_first: page.order == Order::NewestFirst,
        // One more than the page holds tells whether another follows.
        fetch: page.clamped_limit() + 1,
    })
}

/// One page of a listing from the `limit + 1` rows fetched: the cursor of
/// the next page is set when the extra row came back.
pub(crate) fn page(mut items: Vec<StoredItem>, limit: u32) -> Page<StoredItem> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let next = if items.len() > limit {
        items.truncate(limit);
        items.last().map(Cursor::after)
    } else {
        None
    };
    Page { items, next }
}

/// `rows` moved into vectors of at most `size` rows each, in order: one
/// multi-row statement each, which takes its values without copying them.
pub(crate) fn chunks<T>(rows: Vec<T>, size: usize) -> impl Iterator<Item = Vec<T>> {
    let mut rows = rows.into_iter().peekable();
    std::iter::from_fn(move || {
        rows.peek()?;
        Some(rows.by_ref().take(size.max(1)).collect())
    })
}

/// A failed foreign key on a flag means its item does not exist: that is
/// `NotFound`, not a database failure. Told by the driver's error kind,
/// never by the database's message.
pub(crate) fn missing_item(error: sqlx::Error, item: ItemId) -> ModerationError {
    let is_fk = error
        .as_database_error()
        .is_some_and(|e| e.is_foreign_key_violation());
    if is_fk {
        ModerationError::NotFound { item }
    } else {
        db(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(item: i64) -> Result<Change, ModerationError> {
        Change::new(&StatusChange {
            item: ItemId(item),
            expected_version: 1,
            status: ItemStatus::Public,
            log: NewLogEntry {
                action: LogAction::Approve,
                actor: None,
                reason: None,
                detail: serde_json::Value::Null,
                ip: None,
                from_status: Some(ItemStatus::Held),
                to_status: Some(ItemStatus::Public),
                bulk: None,
                at: DateTime::<Utc>::UNIX_EPOCH,
            },
        })
    }

    fn ids(runs: &[Vec<Change>]) -> Vec<Vec<i64>> {
        runs.iter()
            .map(|run| run.iter().map(|c| c.item.0).collect())
            .collect()
    }

    #[test]
    fn a_repeated_item_starts_a_new_run() -> Result<(), ModerationError> {
        let changes = [1, 2, 1, 3, 3]
            .into_iter()
            .map(change)
            .collect::<Result<Vec<_>, _>>()?;
        assert_eq!(ids(&runs(changes)), [vec![1, 2], vec![1, 3], vec![3]]);
        assert!(runs(Vec::new()).is_empty());
        Ok(())
    }

    #[test]
    fn runs_hold_at_most_one_statement_of_changes() -> Result<(), ModerationError> {
        let count = i64::try_from(BATCH_ROWS * 2 + 1).unwrap_or(i64::MAX);
        let changes = (0..count).map(change).collect::<Result<Vec<_>, _>>()?;
        let sizes: Vec<usize> = runs(changes).iter().map(Vec::len).collect();
        assert_eq!(sizes, [BATCH_ROWS, BATCH_ROWS, 1]);
        Ok(())
    }

    #[test]
    fn chunks_keep_order_and_size() {
        let split: Vec<Vec<i32>> = chunks((1..=5).collect(), 2).collect();
        assert_eq!(split, [vec![1, 2], vec![3, 4], vec![5]]);
        assert_eq!(chunks::<i32>(Vec::new(), 2).count(), 0);
    }

    #[test]
    fn moderator_actions_also_go_to_the_moderation_log() -> Result<(), ModerationError> {
        let mut logs = LogWrites::default();
        logs.push(1, Some(("blog.comment", "i:1")), change(1)?.log);
        let mut flag = change(2)?.log;
        flag.verb = LogAction::Flag.moderation_log_verb();
        logs.push(2, None, flag);
        assert_eq!(logs.entries.len(), 2);
        let staff: Vec<(&str, &str, Option<&str>)> = logs
            .staff
            .iter()
            .map(|e| {
                (
                    e.action.as_str(),
                    e.target_key.as_str(),
                    e.after_state.as_deref(),
                )
            })
            .collect();
        assert_eq!(staff, [("item.approve", "i:1", Some("public"))]);
        Ok(())
    }
}
