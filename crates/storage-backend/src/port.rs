//! The `ModerationStore` implementation shared by the SQL backends.
//!
//! Both backends run the same statements (see `sql`), but sqlx's executors
//! are typed per database and a generic version would need a long list of
//! driver bounds on every function. The body is therefore written once here
//! as a macro and instantiated for `SqliteStore` and `PgStore`, which each
//! implement [`Backend`] and provide `reader()`, `writer()` and `limits()`
//! (`reader()` and `writer()` hand out a connection guard).
//!
//! Invariants the body keeps:
//! - input is encoded and checked before any statement runs;
//! - a single submission or status change and its log entry are one
//!   statement (`Backend::INSERT_ITEM_WITH_LOG`,
//!   `Backend::CHANGE_STATUS_WITH_LOG`), atomic on its own; batches share one
//!   transaction, rolled back when dropped on any error path (`?`), so
//!   nothing is left half-written. On SQLite, submissions that queue behind
//!   one being written share a multi-row statement or a transaction
//!   (`Backend::submit`, `sqlite::grouped`), atomic in the same way;
//! - a status change matches `WHERE id = ? AND version = ?`; a miss is
//!   turned into `Conflict` or `NotFound`, and the statement wrote nothing.

/// Binds the nine values of a log entry in the order every log statement
/// takes them (see `sql`): action, actor, reason, detail, ip, from_status,
/// to_status, bulk_id, at. The entry is moved in: the driver keeps each
/// text it is given, and a borrowed one would be copied first.
macro_rules! bind_log {
    ($query:expr, $entry:expr) => {{
        let entry: $crate::record::EncodedLog = $entry;
        $query
            .bind(entry.action)
            .bind(entry.actor)
            .bind(entry.reason)
            .bind(entry.detail)
            .bind(entry.ip)
            .bind(entry.from_status)
            .bind(entry.to_status)
            .bind(entry.bulk)
            .bind(entry.at)
    }};
}

pub(crate) use bind_log;

/// Binds the eleven values of an item in the order every item insert takes
/// them (see `sql`): kind, object_key, parent_kind, parent_key, author_key,
/// status, reasons, payload, fingerprint, ip, created_at. Moved in, as
/// `bind_log!`'s entry is.
macro_rules! bind_item {
    ($query:expr, $row:expr) => {{
        let row: $crate::record::EncodedItem = $row;
        $query
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
    }};
}

pub(crate) use bind_item;

/// The first of the rows a write statement returned, once all were read.
///
/// Writes that return rows are read with `fetch_all`, never `fetch_one` or
/// `fetch_optional`: those reset the statement after its first row, and
/// SQLite runs its automatic checkpoint only when a statement outside a
/// transaction steps to its end, so a workload of such writes alone would
/// grow the write-ahead log without bound (see `tests/wal.rs`).
pub(crate) fn first_row<T>(rows: Vec<T>) -> Option<T> {
    rows.into_iter().next()
}

/// Opens a write transaction on the backend's write connection `$conn`.
macro_rules! begin_write {
    ($store:ty, $conn:expr) => {
        sqlx::Connection::begin_with(&mut *$conn, <$store as $crate::port::Backend>::BEGIN_WRITE)
            .await
            .map_err($crate::error::StorageError::from)
    };
}

pub(crate) use begin_write;

/// Implements `moderation_core::ModerationStore` for a SQL store type.
macro_rules! impl_moderation_store {
    ($store:ty, $backend:literal) => {
        #[async_trait::async_trait]
        impl moderation_core::ModerationStore for $store {
            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, kind = %item.object.kind))]
            async fn insert_item(
                &self,
                item: moderation_core::NewItem,
                log: moderation_core::NewLogEntry,
            ) -> Result<moderation_core::StoredItem, moderation_core::ModerationError> {
                // Not through `settle`: the backend's `submit` decides which
                // of its waits to spin on (see `sqlite::grouped`).
                <$store as $crate::port::Backend>::submit(self, item, log).await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, count = items.len()))]
            async fn insert_items(
                &self,
                items: Vec<(moderation_core::NewItem, moderation_core::NewLogEntry)>,
            ) -> Result<Vec<moderation_core::StoredItem>, moderation_core::ModerationError> {
                self.settle(async move {
                    let ids = insert_batch(self, &items).await?;
                    Ok(ids
                        .into_iter()
                        .zip(items)
                        .map(|(id, (item, _))| $crate::record::inserted(id, item))
                        .collect())
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, item = id.0))]
            async fn item(
                &self,
                id: moderation_core::ItemId,
            ) -> Result<Option<moderation_core::StoredItem>, moderation_core::ModerationError> {
                self.settle(async move {
                    sqlx::query_as::<_, $crate::record::ItemRow>($crate::sql::SELECT_ITEM)
                        .bind(id.0)
                        .fetch_optional(&mut *self.reader().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?
                        .map($crate::record::ItemRow::decode)
                        .transpose()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, object = %object))]
            async fn item_for_object(
                &self,
                object: &moderation_core::ObjectRef,
            ) -> Result<Option<moderation_core::StoredItem>, moderation_core::ModerationError> {
                self.settle(async move {
                    let key = $crate::record::object_key(&object.id)?;
                    sqlx::query_as::<_, $crate::record::ItemRow>($crate::sql::ITEM_FOR_OBJECT)
                        .bind(object.kind.as_str())
                        .bind(key)
                        .fetch_optional(&mut *self.reader().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?
                        .map($crate::record::ItemRow::decode)
                        .transpose()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, kind = %query.kind))]
            async fn find_duplicate(
                &self,
                query: &moderation_core::DuplicateQuery,
            ) -> Result<Option<moderation_core::StoredItem>, moderation_core::ModerationError> {
                self.settle(async move {
                    let author = $crate::record::author_key(&query.author)?;
                    let since = $crate::record::to_micros(query.since);
                    let select = match &query.parent {
                        Some(parent) => {
                            sqlx::query_as::<_, $crate::record::ItemRow>(
                                $crate::sql::DUPLICATE_UNDER_PARENT,
                            )
                            .bind(author)
                            .bind(query.fingerprint.as_str())
                            .bind(since)
                            .bind(query.kind.as_str())
                            .bind(parent.kind.as_str())
                            .bind($crate::record::object_key(&parent.id)?)
                        }
                        None => sqlx::query_as::<_, $crate::record::ItemRow>(
                            $crate::sql::DUPLICATE_WITHOUT_PARENT,
                        )
                        .bind(author)
                        .bind(query.fingerprint.as_str())
                        .bind(since)
                        .bind(query.kind.as_str()),
                    };
                    select
                        .fetch_optional(&mut *self.reader().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?
                        .map($crate::record::ItemRow::decode)
                        .transpose()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, kind = %kind))]
            async fn author_has_public(
                &self,
                kind: &moderation_core::Kind,
                author: &moderation_core::AuthorKey,
            ) -> Result<bool, moderation_core::ModerationError> {
                self.settle(async move {
                    let found: Option<i64> = sqlx::query_scalar($crate::sql::AUTHOR_HAS_PUBLIC)
                        .bind(kind.as_str())
                        .bind($crate::record::author_key(author)?)
                        .fetch_optional(&mut *self.reader().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?;
                    Ok(found.is_some())
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, item = change.item.0))]
            async fn change_status(
                &self,
                change: moderation_core::StatusChange,
            ) -> Result<moderation_core::StoredItem, moderation_core::ModerationError> {
                self.settle(async move {
                    // One statement, atomic by itself: no transaction needed.
                    apply_status_change(&mut *self.writer().await?, &change).await
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, count = changes.len()))]
            async fn change_statuses(
                &self,
                changes: Vec<moderation_core::StatusChange>,
            ) -> Result<Vec<moderation_core::StoredItem>, moderation_core::ModerationError> {
                self.settle(async move {
                    let mut conn = self.writer().await?;
                    let mut tx = $crate::port::begin_write!($store, conn)?;
                    if let Some(sql) = <$store as $crate::port::Backend>::CHANGE_STATUSES_AT_ONCE
                        && changes.len() > 1
                    {
                        // Chunks keep each JSON parameter and each result, one
                        // row per change, to a bounded size.
                        let mut items = Vec::with_capacity(changes.len());
                        for chunk in changes.chunks($crate::sql::BATCH_ROWS) {
                            let rows = sqlx::query_as::<_, $crate::record::ItemRow>(sql)
                                .bind($crate::carried_changes::changes(chunk)?)
                                .fetch_all(&mut *tx)
                                .await
                                .map_err($crate::error::StorageError::from)?;
                            match $crate::carried_changes::in_input_order(rows, chunk)? {
                                Some(changed) => items.extend(changed),
                                None => break,
                            }
                        }
                        if items.len() == changes.len() {
                            tx.commit().await.map_err($crate::error::StorageError::from)?;
                            return Ok(items);
                        }
                        // Some change matched nothing: start over one change at
                        // a time, which names it.
                        tx.rollback().await.map_err($crate::error::StorageError::from)?;
                        tx = $crate::port::begin_write!($store, conn)?;
                    }
                    // Each change checks its own version in its own UPDATE;
                    // they all share one transaction.
                    let mut items = Vec::with_capacity(changes.len());
                    for change in &changes {
                        items.push(apply_status_change(&mut tx, change).await?);
                    }
                    tx.commit().await.map_err($crate::error::StorageError::from)?;
                    Ok(items)
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, item = item.0))]
            async fn add_flag(
                &self,
                item: moderation_core::ItemId,
                flagger: &moderation_core::UserId,
                log: moderation_core::NewLogEntry,
            ) -> Result<moderation_core::FlagOutcome, moderation_core::ModerationError> {
                self.settle(async move {
                    use $crate::error::StorageError;
                    let entry = $crate::record::EncodedLog::new(&log)?;
                    let mut conn = self.writer().await?;
                    let mut tx = $crate::port::begin_write!($store, conn)?;
                    let added = sqlx::query($crate::sql::INSERT_FLAG)
                        .bind(item.0)
                        .bind(flagger.as_str())
                        .bind(entry.at)
                        .execute(&mut *tx)
                        .await
                        .map_err(|error| $crate::port::missing_item(error, item))?;
                    if added.rows_affected() == 0 {
                        return Ok(moderation_core::FlagOutcome::AlreadyFlagged);
                    }
                    insert_log(&mut tx, item.0, entry).await?;
                    tx.commit().await.map_err(StorageError::from)?;
                    Ok(moderation_core::FlagOutcome::Added)
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, limit = page.clamped_limit()))]
            async fn list_items(
                &self,
                filter: &moderation_core::ItemFilter,
                page: &moderation_core::PageRequest,
            ) -> Result<moderation_core::Page<moderation_core::StoredItem>, moderation_core::ModerationError> {
                self.settle(async move {
                    let limit = page.clamped_limit();
                    let hidden = $crate::record::hidden_authors(&filter.hidden)?;
                    let shape = $crate::sql::ListShape {
                        status: filter.status,
                        kind: filter.kind.is_some(),
                        author: filter.author.is_some(),
                        hidden: hidden.is_some(),
                        after: page.after.is_some(),
                        newest_first: page.order == moderation_core::Order::NewestFirst,
                        // One row more than asked tells whether a next page exists.
                        limit: limit.saturating_add(1),
                    };
                    let author = filter.author.as_ref().map($crate::record::author_key).transpose()?;
                    let sql = $crate::sql::list_items(
                        shape,
                        <$store as $crate::port::Backend>::PLACEHOLDER,
                    );
                    // Only placeholders, fixed fragments, a status name and the
                    // page size (see `sql`).
                    let mut query =
                        sqlx::query_as::<_, $crate::record::ItemRow>(sqlx::AssertSqlSafe(sql));
                    // Only a public status is bound (see `sql::list_items`).
                    if filter.status == Some(moderation_core::ItemStatus::Public) {
                        query = query.bind(moderation_core::ItemStatus::Public.as_str());
                    }
                    if let Some(kind) = &filter.kind {
                        query = query.bind(kind.as_str());
                    }
                    if let Some(author) = author {
                        query = query.bind(author);
                    }
                    if let Some(hidden) = hidden {
                        query = query.bind(hidden);
                    }
                    if let Some(cursor) = &page.after {
                        let (at, id) = $crate::record::cursor_values(cursor);
                        query = query.bind(at).bind(id);
                    }
                    let rows = query
                        .fetch_all(&mut *self.reader().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?;
                    let mut items = $crate::record::decode_items(rows)?;
                    let next = if items.len() > limit as usize {
                        items.truncate(limit as usize);
                        items.last().map(moderation_core::Cursor::after)
                    } else {
                        None
                    };
                    Ok(moderation_core::Page { items, next })
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, item = item.0))]
            async fn log_entries(
                &self,
                item: moderation_core::ItemId,
            ) -> Result<Vec<moderation_core::LogEntry>, moderation_core::ModerationError> {
                self.settle(async move {
                    sqlx::query_as::<_, $crate::record::LogRow>($crate::sql::LOG_FOR_ITEM)
                        .bind(item.0)
                        .fetch_all(&mut *self.reader().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?
                        .into_iter()
                        .map($crate::record::LogRow::decode)
                        .collect()
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, limit))]
            async fn non_public_before(
                &self,
                before: chrono::DateTime<chrono::Utc>,
                after: Option<moderation_core::Cursor>,
                limit: u32,
            ) -> Result<Vec<moderation_core::StoredItem>, moderation_core::ModerationError> {
                self.settle(async move {
                    let before = $crate::record::to_micros(before);
                    let limit = i64::from(limit);
                    let query = match &after {
                        Some(cursor) => {
                            let (at, id) = $crate::record::cursor_values(cursor);
                            sqlx::query_as::<_, $crate::record::ItemRow>($crate::sql::NON_PUBLIC_AFTER)
                                .bind(before)
                                .bind(at)
                                .bind(id)
                                .bind(limit)
                        }
                        None => sqlx::query_as::<_, $crate::record::ItemRow>(
                            $crate::sql::NON_PUBLIC_FIRST,
                        )
                        .bind(before)
                        .bind(limit),
                    };
                    let rows = query
                        .fetch_all(&mut *self.reader().await?)
                        .await
                        .map_err($crate::error::StorageError::from)?;
                    $crate::record::decode_items(rows)
                })
                .await
            }

            #[tracing::instrument(level = "debug", skip_all, fields(backend = $backend, count = ids.len()))]
            async fn delete_items(
                &self,
                ids: &[moderation_core::ItemId],
            ) -> Result<u64, moderation_core::ModerationError> {
                self.settle(async move {
                    use $crate::error::StorageError;
                    if ids.is_empty() {
                        return Ok(0);
                    }
                    let mut conn = self.writer().await?;
                    let mut tx = $crate::port::begin_write!($store, conn)?;
                    let mut deleted = 0;
                    for chunk in ids.chunks($crate::sql::BATCH_ROWS) {
                        let sql = $crate::sql::delete_items(chunk.len(), <$store as $crate::port::Backend>::PLACEHOLDER);
                        // Only placeholders and fixed fragments (see `sql`).
                        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                        for id in chunk {
                            query = query.bind(id.0);
                        }
                        deleted += query
                            .execute(&mut *tx)
                            .await
                            .map_err(StorageError::from)?
                            .rows_affected();
                    }
                    tx.commit().await.map_err(StorageError::from)?;
                    Ok(deleted)
                })
                .await
            }
        }

        /// Writes one item and its log entry in one statement on the
        /// store's writer; returns the new id.
        pub(crate) async fn insert_one(
            store: &$store,
            item: &moderation_core::NewItem,
            log: &moderation_core::NewLogEntry,
        ) -> Result<i64, moderation_core::ModerationError> {
            use $crate::error::StorageError;
            let row = $crate::record::EncodedItem::new(item, store.limits())?;
            let entry = $crate::record::EncodedLog::new(log)?;
            let query = $crate::port::bind_item!(
                sqlx::query(<$store as $crate::port::Backend>::INSERT_ITEM_WITH_LOG),
                row
            );
            let query = $crate::port::bind_log!(query, entry);
            let id = <$store as $crate::port::Backend>::inserted_ids(
                &mut *store.writer().await?,
                query,
                1,
            )
            .await?
            .first()
            .copied()
            .ok_or_else(|| StorageError::corrupt("id", &"the insert returned no id"))?;
            Ok(id)
        }

        /// Writes items and their log entries in one transaction on the
        /// store's writer; returns the new ids in input order. An error
        /// leaves nothing written.
        pub(crate) async fn insert_batch(
            store: &$store,
            items: &[(moderation_core::NewItem, moderation_core::NewLogEntry)],
        ) -> Result<Vec<i64>, moderation_core::ModerationError> {
            use $crate::error::StorageError;
            use $crate::record::{EncodedItem, EncodedLog};
            if items.is_empty() {
                return Ok(Vec::new());
            }
            let limits = store.limits();
            let encoded = items
                .iter()
                .map(|(item, log)| Ok((EncodedItem::new(item, limits)?, EncodedLog::new(log)?)))
                .collect::<Result<Vec<_>, moderation_core::ModerationError>>()?;
            let mut ids = Vec::with_capacity(encoded.len());
            let mut conn = store.writer().await?;
            let mut tx = $crate::port::begin_write!($store, conn)?;
            // The rows are moved into the statements chunk by chunk, so the
            // driver keeps their texts instead of copying them.
            let mut rest = encoded.into_iter();
            loop {
                let chunk: Vec<_> = rest.by_ref().take($crate::sql::BATCH_ROWS).collect();
                if chunk.is_empty() {
                    break;
                }
                let rows = chunk.len();
                let staff = chunk.iter().any(|(_, entry)| entry.staff);
                let (items, logs): (Vec<EncodedItem>, Vec<EncodedLog>) = chunk.into_iter().unzip();
                let sql = $crate::sql::insert_items(
                    rows,
                    <$store as $crate::port::Backend>::PLACEHOLDER,
                    <$store as $crate::port::Backend>::INSERT_ITEMS_TAIL,
                );
                // Only placeholders and fixed fragments (see `sql`).
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for row in items {
                    // `updated_at` starts as `created_at`.
                    let at = row.created_at;
                    query = $crate::port::bind_item!(query, row).bind(at);
                }
                let chunk_ids = <$store as $crate::port::Backend>::inserted_ids(
                    &mut *tx,
                    query,
                    rows,
                )
                .await?;
                let sql = $crate::sql::insert_logs(rows, <$store as $crate::port::Backend>::PLACEHOLDER);
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (id, entry) in chunk_ids.iter().zip(logs) {
                    query = $crate::port::bind_log!(query.bind(*id), entry);
                }
                let done = query.execute(&mut *tx).await.map_err(StorageError::from)?;
                if staff {
                    <$store as $crate::port::Backend>::copy_staff_actions(&mut *tx, &done, rows).await?;
                }
                ids.extend(chunk_ids);
            }
            tx.commit().await.map_err(StorageError::from)?;
            Ok(ids)
        }

        /// Appends one log entry inside an open transaction.
        async fn insert_log(
            conn: &mut <$store as $crate::port::Backend>::Conn,
            item: i64,
            entry: $crate::record::EncodedLog,
        ) -> Result<(), moderation_core::ModerationError> {
            let staff = entry.staff;
            let done = $crate::port::bind_log!(sqlx::query($crate::sql::INSERT_LOG).bind(item), entry)
                .execute(&mut *conn)
                .await
                .map_err($crate::error::StorageError::from)?;
            if staff {
                <$store as $crate::port::Backend>::copy_staff_actions(conn, &done, 1).await?;
            }
            Ok(())
        }

        /// One version-checked status change and its log entry, in one
        /// statement.
        async fn apply_status_change(
            conn: &mut <$store as $crate::port::Backend>::Conn,
            change: &moderation_core::StatusChange,
        ) -> Result<moderation_core::StoredItem, moderation_core::ModerationError> {
            use $crate::error::StorageError;
            let entry = $crate::record::EncodedLog::new(&change.log)?;
            let query = sqlx::query_as::<_, $crate::record::ItemRow>(
                <$store as $crate::port::Backend>::CHANGE_STATUS_WITH_LOG,
            )
            .bind(change.status.as_str())
            .bind(entry.at)
            .bind(change.item.0)
            .bind(change.expected_version);
            let updated = $crate::port::bind_log!(query, entry)
                .fetch_all(&mut *conn)
                .await
                .map(|rows| $crate::port::first_row(rows))
                .map_err(StorageError::from)?;
            let Some(row) = updated else {
                let actual: Option<i64> = sqlx::query_scalar($crate::sql::ITEM_VERSION)
                    .bind(change.item.0)
                    .fetch_optional(&mut *conn)
                    .await
                    .map_err(StorageError::from)?;
                return Err(match actual {
                    Some(actual) => moderation_core::ModerationError::Conflict {
                        item: change.item,
                        expected: change.expected_version,
                        actual,
                    },
                    None => moderation_core::ModerationError::NotFound { item: change.item },
                });
            };
            row.decode()
        }
    };
}

pub(crate) use impl_moderation_store;

use moderation_core::{ItemId, ModerationError};

use crate::error::StorageError;

/// What a backend provides to the shared implementation.
pub(crate) trait Backend {
    /// The driver's database.
    type Db: sqlx::Database;
    /// The driver's connection type, which a transaction dereferences to.
    type Conn;
    /// The placeholder style of statements assembled at run time.
    const PLACEHOLDER: crate::sql::Placeholder;
    /// The statement that opens a write transaction.
    const BEGIN_WRITE: &'static str;
    /// Inserts an item and its log entry in one statement, read by
    /// [`Backend::inserted_ids`].
    const INSERT_ITEM_WITH_LOG: &'static str;
    /// Changes a status, checking the version, and writes the log entry in
    /// one statement, returning the changed row (none on a version miss).
    const CHANGE_STATUS_WITH_LOG: &'static str;
    /// One statement making many status changes, each checking its
    /// version and writing its log entry, when the backend has one
    /// (`carried_changes`); otherwise each change is its own statement.
    const CHANGE_STATUSES_AT_ONCE: Option<&'static str>;
    /// What follows the rows of a multi-row item insert
    /// ([`sql::insert_items`](crate::sql::insert_items)) so that
    /// [`Backend::inserted_ids`] can learn the new ids.
    const INSERT_ITEMS_TAIL: &'static str;

    /// Stores one submission and its log entry (`ModerationStore::
    /// insert_item`). PostgreSQL writes it at once on a pooled connection;
    /// SQLite lets submissions that arrive while its one writer is busy
    /// share the next commit (see `sqlite::grouped`).
    fn submit(
        &self,
        item: moderation_core::NewItem,
        log: moderation_core::NewLogEntry,
    ) -> impl std::future::Future<Output = Result<moderation_core::StoredItem, ModerationError>> + Send;

    /// Copies to the moderation log the moderator actions among the `rows`
    /// item log entries the statement that returned `done` inserted
    /// straight into the item log. A backend whose item-log trigger copies
    /// them already does nothing. Callers skip it when none of the entries
    /// is a moderator action.
    fn copy_staff_actions<'c>(
        conn: &'c mut Self::Conn,
        done: &<Self::Db as sqlx::Database>::QueryResult,
        rows: usize,
    ) -> impl std::future::Future<Output = Result<(), StorageError>> + Send + 'c;

    /// Runs one multi-row item insert and returns the new ids in the order
    /// of its rows; `rows` is how many the statement inserts.
    fn inserted_ids<'c>(
        conn: &'c mut Self::Conn,
        query: sqlx::query::Query<'c, Self::Db, <Self::Db as sqlx::Database>::Arguments>,
        rows: usize,
    ) -> impl std::future::Future<Output = Result<Vec<i64>, StorageError>> + Send + 'c;
}

/// The error for a multi-row insert that reported fewer rows than it had.
pub(crate) fn missing_ids(rows: usize, inserted: u64) -> StorageError {
    StorageError::corrupt(
        "id",
        &format!("the insert of {rows} items reported {inserted} new rows"),
    )
}

/// A flag on an item that does not exist violates the foreign key: that is
/// `NotFound`, not a database failure.
pub(crate) fn missing_item(error: sqlx::Error, item: ItemId) -> ModerationError {
    let is_fk = error
        .as_database_error()
        .is_some_and(|e| e.is_foreign_key_violation());
    if is_fk {
        ModerationError::NotFound { item }
    } else {
        StorageError::from(error).into()
    }
}
