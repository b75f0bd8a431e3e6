//! moderation-core's `ModerationStore` for [`PgStore`]: items, their flags
//! and their log live in the `moderation_items`, `moderation_item_flags`
//! and `moderation_item_log` tables of the store's database; moderator
//! actions also go to `moderation_log`.
//!
//! Every write is a `pub(crate)` step on a [`PgConnection`] that the port
//! method runs in a transaction of its own (`PgStore::write`); the steps
//! never begin or commit, so several of them (of this port or another) can
//! share one transaction. Input is checked and encoded before the
//! transaction begins (`record::Submission`, `Change`, `Flag`).
//!
//! Transactions run concurrently here. A status change checks its version
//! in its `UPDATE`, which waits for a concurrent change of the same row and
//! then re-checks the version against the committed row, so two
//! moderators cannot both win; no step reads a row to decide a later
//! write. Steps that change or delete many items lock them in id order
//! first, so two of them on overlapping items wait instead of deadlocking.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use moderation_core::{
    AuthorKey, Cursor, DuplicateQuery, FlagOutcome, ItemFilter, ItemId, Kind, LogEntry,
    ModerationError, ModerationStore, NewItem, NewLogEntry, ObjectRef, Page, PageRequest,
    StatusChange, StoredItem, UserId,
};
use sqlx::{PgConnection, Postgres};

use super::PgStore;
use crate::error::StorageError;
use crate::record::{self, Change, Flag, ItemRow, LogRow, LogWrites, Submission, db, decode_items};
use crate::sql::{self, BATCH_ROWS, JsonTexts};

/// PostgreSQL reads a JSON array of texts as rows with
/// `jsonb_array_elements_text`.
const JSON_TEXTS: JsonTexts = JsonTexts {
    open: "SELECT jsonb_array_elements_text(CAST(",
    close: " AS jsonb))",
};

/// `$1` new ids from the identity sequence of `moderation_items`.
const NEXT_ITEM_IDS: &str =
    "SELECT nextval(pg_get_serial_sequence('moderation_items', 'id')) FROM generate_series(1, $1)";

/// Lets a batch insert name the ids it took from the sequence: the column
/// is `GENERATED ALWAYS AS IDENTITY`.
const OVERRIDING: &str = "OVERRIDING SYSTEM VALUE ";

#[async_trait]
impl ModerationStore for PgStore {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", kind = %item.object.kind))]
    async fn insert_item(
        &self,
        item: NewItem,
        log: NewLogEntry,
    ) -> Result<StoredItem, ModerationError> {
        let submission = Submission::new(item, &log, self.limits())?;
        self.write(move |conn| Box::pin(insert_item(conn, submission)))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", count = items.len()))]
    async fn insert_items(
        &self,
        items: Vec<(NewItem, NewLogEntry)>,
    ) -> Result<Vec<StoredItem>, ModerationError> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let submissions = Submission::batch(items, self.limits())?;
        self.write(move |conn| Box::pin(insert_items(conn, submissions)))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", item = id.0))]
    async fn item(&self, id: ItemId) -> Result<Option<StoredItem>, ModerationError> {
        let mut conn = self.reader().await?;
        let row: Option<ItemRow> = sqlx::query_as(sql::SELECT_ITEM)
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
        row.map(ItemRow::decode).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", object = %object))]
    async fn item_for_object(
        &self,
        object: &ObjectRef,
    ) -> Result<Option<StoredItem>, ModerationError> {
        let key = record::object_key(&object.id)?;
        let mut conn = self.reader().await?;
        let row: Option<ItemRow> = sqlx::query_as(sql::ITEM_FOR_OBJECT)
            .bind(object.kind.as_str())
            .bind(key)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
        row.map(ItemRow::decode).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", kind = %query.kind))]
    async fn find_duplicate(
        &self,
        query: &DuplicateQuery,
    ) -> Result<Option<StoredItem>, ModerationError> {
        let author = record::author_key(&query.author)?;
        let since = record::to_micros(query.since);
        let parent = query
            .parent
            .as_ref()
            .map(|parent| {
                Ok::<_, ModerationError>((parent.kind.as_str(), record::object_key(&parent.id)?))
            })
            .transpose()?;
        let select = match parent {
            Some((parent_kind, parent_key)) => sqlx::query_as(sql::DUPLICATE_UNDER_PARENT)
                .bind(author)
                .bind(query.fingerprint.as_str())
                .bind(since)
                .bind(query.kind.as_str())
                .bind(parent_kind)
                .bind(parent_key),
            None => sqlx::query_as(sql::DUPLICATE_WITHOUT_PARENT)
                .bind(author)
                .bind(query.fingerprint.as_str())
                .bind(since)
                .bind(query.kind.as_str()),
        };
        let mut conn = self.reader().await?;
        let row: Option<ItemRow> = select.fetch_optional(&mut *conn).await.map_err(db)?;
        row.map(ItemRow::decode).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", kind = %kind))]
    async fn author_has_public(
        &self,
        kind: &Kind,
        author: &AuthorKey,
    ) -> Result<bool, ModerationError> {
        let author = record::author_key(author)?;
        let mut conn = self.reader().await?;
        let found: Option<i64> = sqlx::query_scalar(sql::AUTHOR_HAS_PUBLIC)
            .bind(kind.as_str())
            .bind(author)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?;
        Ok(found.is_some())
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", item = change.item.0))]
    async fn change_status(&self, change: StatusChange) -> Result<StoredItem, ModerationError> {
        let change = Change::new(&change)?;
        self.write(move |conn| Box::pin(change_status(conn, change)))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", count = changes.len()))]
    async fn change_statuses(
        &self,
        changes: Vec<StatusChange>,
    ) -> Result<Vec<StoredItem>, ModerationError> {
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let changes = Change::batch(&changes)?;
        self.write(move |conn| Box::pin(change_statuses(conn, changes)))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", item = item.0))]
    async fn add_flag(
        &self,
        item: ItemId,
        flagger: &UserId,
        log: NewLogEntry,
    ) -> Result<FlagOutcome, ModerationError> {
        let flag = Flag::new(item, flagger, &log)?;
        self.write(move |conn| Box::pin(add_flag(conn, flag))).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", limit = page.clamped_limit()))]
    async fn list_items(
        &self,
        filter: &ItemFilter,
        page: &PageRequest,
    ) -> Result<Page<StoredItem>, ModerationError> {
        let limit = page.clamped_limit();
        let values = record::list_values(filter, page)?;
        let mut query = sql::list_items::<Postgres>(values, JSON_TEXTS);
        let mut conn = self.reader().await?;
        let rows: Vec<ItemRow> = query
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
        Ok(record::page(decode_items(rows)?, limit))
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", item = item.0))]
    async fn log_entries(&self, item: ItemId) -> Result<Vec<LogEntry>, ModerationError> {
        let mut conn = self.reader().await?;
        let rows: Vec<LogRow> = sqlx::query_as(sql::LOG_FOR_ITEM)
            .bind(item.0)
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
        rows.into_iter().map(LogRow::decode).collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", limit))]
    async fn non_public_before(
        &self,
        before: DateTime<Utc>,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Vec<StoredItem>, ModerationError> {
        let before = record::to_micros(before);
        let limit = i64::from(limit);
        let query = match after.as_ref().map(record::cursor_values) {
            Some((at, id)) => sqlx::query_as(sql::NON_PUBLIC_AFTER)
                .bind(before)
                .bind(at)
                .bind(id)
                .bind(limit),
            None => sqlx::query_as(sql::NON_PUBLIC_FIRST)
                .bind(before)
                .bind(limit),
        };
        let mut conn = self.reader().await?;
        let rows: Vec<ItemRow> = query.fetch_all(&mut *conn).await.map_err(db)?;
        decode_items(rows)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", count = ids.len()))]
    async fn delete_items(&self, ids: &[ItemId]) -> Result<u64, ModerationError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
        self.write(move |conn| Box::pin(delete_items(conn, ids)))
            .await
    }
}

/// Stores one submission and its log entry (and, for a moderator action,
/// its moderation log entry); returns the item as stored.
pub(crate) async fn insert_item(
    conn: &mut PgConnection,
    submission: Submission,
) -> Result<StoredItem, ModerationError> {
    let Submission { item, row, log } = submission;
    // Only a moderator action needs the target, for the moderation log.
    let target = log.verb.map(|_| (row.kind.clone(), row.object_key.clone()));
    let id: i64 = sqlx::query_scalar(sql::INSERT_ITEM)
        .bind(row.kind)
        .bind(row.object_key)
        .bind(row.parent_kind)
        .bind(row.parent_key)
        .bind(row.author_key)
        .bind(row.status)
        .bind(row.reasons)
        .bind(row.payload)
        .bind(row.fingerprint)
        .bind(row.ip)
        .bind(row.created_at)
        .fetch_one(&mut *conn)
        .await
        .map_err(db)?;
    let mut logs = LogWrites::with_capacity(1);
    let target = target
        .as_ref()
        .map(|(kind, key)| (kind.as_str(), key.as_str()));
    logs.push(id, target, log);
    append_logs(conn, logs).await?;
    Ok(record::inserted(id, item))
}

/// Stores submissions, each with its log entries, in input order; returns
/// the items as stored, in that order. Nothing is stored if any fails (the
/// caller's transaction is rolled back).
pub(crate) async fn insert_items(
    conn: &mut PgConnection,
    submissions: Vec<Submission>,
) -> Result<Vec<StoredItem>, ModerationError> {
    if submissions.is_empty() {
        return Ok(Vec::new());
    }
    // The ids are taken from the sequence first instead of read back:
    // PostgreSQL does not promise any order for the rows of `RETURNING`.
    // Sorted, they increase in input order, as they would one by one.
    let count = i64::try_from(submissions.len()).map_err(|e| StorageError::corrupt("id", &e))?;
    let mut ids: Vec<i64> = sqlx::query_scalar(NEXT_ITEM_IDS)
        .bind(count)
        .fetch_all(&mut *conn)
        .await
        .map_err(db)?;
    if ids.len() != submissions.len() {
        return Err(StorageError::corrupt(
            "id",
            &format!("the sequence gave {} ids for {count} items", ids.len()),
        )
        .into());
    }
    ids.sort_unstable();
    let mut stored = Vec::with_capacity(submissions.len());
    let mut rows = Vec::with_capacity(submissions.len());
    let mut logs = LogWrites::with_capacity(submissions.len());
    for (id, Submission { item, row, log }) in ids.into_iter().zip(submissions) {
        logs.push(id, Some((&row.kind, &row.object_key)), log);
        rows.push((id, row));
        stored.push(record::inserted(id, item));
    }
    for chunk in record::chunks(rows, BATCH_ROWS) {
        sql::insert_items::<Postgres>(OVERRIDING, chunk)
            .build()
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    append_logs(conn, logs).await?;
    Ok(stored)
}

/// Applies one version-checked status change with its log entries; a
/// stale version is `Conflict`, a missing item `NotFound`, and then
/// nothing was written.
pub(crate) async fn change_status(
    conn: &mut PgConnection,
    change: Change,
) -> Result<StoredItem, ModerationError> {
    let row: Option<ItemRow> = sqlx::query_as(sql::CHANGE_STATUS)
        .bind(change.status)
        .bind(change.log.at)
        .bind(change.item.0)
        .bind(change.expected)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    let Some(row) = row else {
        return Err(missed(conn, &change).await);
    };
    let item = row.decode()?;
    let mut logs = LogWrites::with_capacity(1);
    let key = item.object.id.to_key();
    logs.push(
        item.id.0,
        Some((item.object.kind.as_str(), &key)),
        change.log,
    );
    append_logs(conn, logs).await?;
    Ok(item)
}

/// Applies status changes in input order, one `UPDATE` per run of
/// distinct items (`record::runs`), with their log entries; returns the
/// changed items in input order. The first change that misses fails the
/// whole batch (`Conflict` or `NotFound`), and the caller's transaction is
/// rolled back.
pub(crate) async fn change_statuses(
    conn: &mut PgConnection,
    changes: Vec<Change>,
) -> Result<Vec<StoredItem>, ModerationError> {
    if changes.len() > 1 {
        let ids: Vec<i64> = changes.iter().map(|change| change.item.0).collect();
        lock_items(conn, &ids).await?;
    }
    let mut changed = Vec::with_capacity(changes.len());
    for run in record::runs(changes) {
        let values: Vec<_> = run.iter().map(Change::values).collect();
        let rows: Vec<ItemRow> = sql::change_statuses::<Postgres>(&values)
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
        let items = match record::in_run_order(decode_items(rows)?, &run) {
            Ok(items) => items,
            Err(miss) => return Err(missed(conn, miss).await),
        };
        let mut logs = LogWrites::with_capacity(run.len());
        for (change, item) in run.into_iter().zip(&items) {
            let key = item.object.id.to_key();
            logs.push(
                item.id.0,
                Some((item.object.kind.as_str(), &key)),
                change.log,
            );
        }
        append_logs(conn, logs).await?;
        changed.extend(items);
    }
    Ok(changed)
}

/// Records a flag with its log entry, once per user and item; a repeated
/// flag writes nothing. A missing item is `NotFound`.
pub(crate) async fn add_flag(
    conn: &mut PgConnection,
    flag: Flag,
) -> Result<FlagOutcome, ModerationError> {
    let added = sqlx::query(sql::INSERT_FLAG)
        .bind(flag.item.0)
        .bind(flag.flagger)
        .bind(flag.log.at)
        .execute(&mut *conn)
        .await
        .map_err(|error| record::missing_item(error, flag.item))?;
    if added.rows_affected() == 0 {
        return Ok(FlagOutcome::AlreadyFlagged);
    }
    // Only a moderator action needs the item's target (the flag's insert
    // found the item, so it is there).
    let target: Option<(String, String)> = match flag.log.verb {
        Some(_) => sqlx::query_as(sql::ITEM_TARGET)
            .bind(flag.item.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db)?,
        None => None,
    };
    let mut logs = LogWrites::with_capacity(1);
    let target = target
        .as_ref()
        .map(|(kind, key)| (kind.as_str(), key.as_str()));
    logs.push(flag.item.0, target, flag.log);
    append_logs(conn, logs).await?;
    Ok(FlagOutcome::Added)
}

/// Deletes items with their flags and log entries; returns how many items
/// there were. Unknown ids count nothing.
pub(crate) async fn delete_items(
    conn: &mut PgConnection,
    ids: Vec<i64>,
) -> Result<u64, ModerationError> {
    if ids.len() > 1 {
        lock_items(conn, &ids).await?;
    }
    let mut deleted = 0;
    for chunk in ids.chunks(BATCH_ROWS) {
        deleted += sql::delete_items::<Postgres>(chunk)
            .build()
            .execute(&mut *conn)
            .await
            .map_err(db)?
            .rows_affected();
    }
    Ok(deleted)
}

/// Writes `logs`: the item log entries, then the moderation log entries of
/// the moderator actions among them, a multi-row statement per
/// [`BATCH_ROWS`] rows.
async fn append_logs(conn: &mut PgConnection, logs: LogWrites) -> Result<(), ModerationError> {
    let LogWrites { entries, staff } = logs;
    for chunk in record::chunks(entries, BATCH_ROWS) {
        sql::insert_logs::<Postgres>(chunk)
            .build()
            .execute(&mut *conn)
            .await
            .map_err(db)?;
    }
    crate::modlog::pg_insert_all(conn, &staff).await?;
    Ok(())
}

/// Locks the items `ids` (those that exist) in id order, so that
/// transactions changing or deleting overlapping sets of items wait for one
/// another instead of deadlocking: an `UPDATE` or `DELETE` of many rows
/// locks them in whatever order its plan visits them.
async fn lock_items(conn: &mut PgConnection, ids: &[i64]) -> Result<(), ModerationError> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for chunk in ids.chunks(BATCH_ROWS) {
        let mut query =
            sqlx::QueryBuilder::<Postgres>::new("SELECT id FROM moderation_items WHERE id IN (");
        let mut list = query.separated(", ");
        for id in chunk {
            list.push_bind(*id);
        }
        query.push(") ORDER BY id FOR UPDATE");
        query.build().fetch_all(&mut *conn).await.map_err(db)?;
    }
    Ok(())
}

/// The error for `change`, which matched no row: `Conflict` with the
/// version stored now, or `NotFound`.
async fn missed(conn: &mut PgConnection, change: &Change) -> ModerationError {
    let actual: Result<Option<i64>, sqlx::Error> = sqlx::query_scalar(sql::ITEM_VERSION)
        .bind(change.item.0)
        .fetch_optional(&mut *conn)
        .await;
    match actual {
        Ok(actual) => record::missed(change, actual),
        Err(error) => db(error),
    }
}
