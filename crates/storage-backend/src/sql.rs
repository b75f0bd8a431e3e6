//! The SQL of the item store (moderation-core's `ModerationStore`), shared
//! by both backends. The two schemas use the same column types (text,
//! integers, JSON as text), and SQLite accepts PostgreSQL's `$N`
//! placeholders, so one text serves both; the few fragments that differ
//! are passed in by `sqlite::items` and `postgres::items`.
//!
//! The statements whose length depends on the input (batches, listings)
//! are built with [`QueryBuilder`] from the fixed fragments below and bound
//! values: no input text ever becomes part of a statement.
//!
//! Every item statement names the columns of [`ITEM_COLUMNS`] (checked by
//! the tests below), which `record::ItemRow` reads by name.

use moderation_core::ItemStatus;
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::json::JsonColumn;
use crate::record::{EncodedItem, EncodedLog};

/// The columns of an item row, as every statement returning items lists them
/// (the tests check each statement against it).
#[cfg(test)]
const ITEM_COLUMNS: &str = "id, kind, object_key, parent_kind, parent_key, \
     author_key, status, reasons, payload, fingerprint, ip, created_at, updated_at, version";

/// Rows per multi-row statement. The widest row binds 13 values (an item
/// with its id), so a statement binds at most 13 000: under SQLite's limit
/// of 32 766 bound values and PostgreSQL's of 65 535.
pub(crate) const BATCH_ROWS: usize = 1_000;

/// One item and its first version; `updated_at` starts as `created_at`.
pub(crate) const INSERT_ITEM: &str = "INSERT INTO moderation_items (kind, object_key, \
     parent_kind, parent_key, author_key, status, reasons, payload, fingerprint, ip, created_at, \
     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id";

/// The optimistic-concurrency write: no row matches unless the version is
/// still the one the caller read, and then nothing is written.
pub(crate) const CHANGE_STATUS: &str = "UPDATE moderation_items \
     SET status = $1, updated_at = $2, version = version + 1 \
     WHERE id = $3 AND version = $4 \
     RETURNING id, kind, object_key, parent_kind, parent_key, author_key, status, reasons, \
     payload, fingerprint, ip, created_at, updated_at, version";

pub(crate) const SELECT_ITEM: &str = "SELECT id, kind, object_key, parent_kind, parent_key, \
     author_key, status, reasons, payload, fingerprint, ip, created_at, updated_at, version \
     FROM moderation_items WHERE id = $1";

pub(crate) const ITEM_FOR_OBJECT: &str = "SELECT id, kind, object_key, parent_kind, \
     parent_key, author_key, status, reasons, payload, fingerprint, ip, created_at, updated_at, \
     version FROM moderation_items WHERE kind = $1 AND object_key = $2 \
     ORDER BY created_at DESC, id DESC LIMIT 1";

pub(crate) const DUPLICATE_UNDER_PARENT: &str = "SELECT id, kind, object_key, parent_kind, \
     parent_key, author_key, status, reasons, payload, fingerprint, ip, created_at, updated_at, \
     version FROM moderation_items WHERE author_key = $1 AND fingerprint = $2 \
     AND created_at >= $3 AND kind = $4 AND parent_kind = $5 AND parent_key = $6 \
     ORDER BY created_at DESC, id DESC LIMIT 1";

pub(crate) const DUPLICATE_WITHOUT_PARENT: &str = "SELECT id, kind, object_key, parent_kind, \
     parent_key, author_key, status, reasons, payload, fingerprint, ip, created_at, updated_at, \
     version FROM moderation_items WHERE author_key = $1 AND fingerprint = $2 \
     AND created_at >= $3 AND kind = $4 AND parent_kind IS NULL \
     ORDER BY created_at DESC, id DESC LIMIT 1";

/// The literal `'public'` (not a placeholder) lets both planners use the
/// partial index `moderation_items_author_public`.
pub(crate) const AUTHOR_HAS_PUBLIC: &str = "SELECT id FROM moderation_items \
     WHERE kind = $1 AND author_key = $2 AND status = 'public' LIMIT 1";

/// The stored version of one item, to tell a conflict from a missing item.
pub(crate) const ITEM_VERSION: &str = "SELECT version FROM moderation_items WHERE id = $1";

/// The kind and object key of one item: the moderation log's target.
pub(crate) const ITEM_TARGET: &str = "SELECT kind, object_key FROM moderation_items WHERE id = $1";

/// A flag, once per user and item: a second one changes no row.
pub(crate) const INSERT_FLAG: &str = "INSERT INTO moderation_item_flags (item_id, flagger, at) \
     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

pub(crate) const LOG_FOR_ITEM: &str = "SELECT id, item_id, action, actor, reason, detail, ip, \
     from_status, to_status, bulk_id, at FROM moderation_item_log WHERE item_id = $1 ORDER BY id";

pub(crate) const NON_PUBLIC_FIRST: &str = "SELECT id, kind, object_key, parent_kind, \
     parent_key, author_key, status, reasons, payload, fingerprint, ip, created_at, updated_at, \
     version FROM moderation_items \
     WHERE status IN ('held', 'rejected', 'removed') AND created_at < $1 \
     ORDER BY created_at, id LIMIT $2";

pub(crate) const NON_PUBLIC_AFTER: &str = "SELECT id, kind, object_key, parent_kind, \
     parent_key, author_key, status, reasons, payload, fingerprint, ip, created_at, updated_at, \
     version FROM moderation_items \
     WHERE status IN ('held', 'rejected', 'removed') AND created_at < $1 \
     AND (created_at, id) > ($2, $3) ORDER BY created_at, id LIMIT $4";

// The builders below are generic over the database and list the types they
// bind in their bounds: sqlx implements each encoder per database, so the
// bounds cannot be implied.

/// Items with the ids the caller chose, in their order: `INSERT INTO
/// moderation_items (id, ...) <overriding> VALUES ...`. `overriding` is the
/// backend's clause that lets an insert name an identity column's value
/// (empty on SQLite).
pub(crate) fn insert_items<DB>(overriding: &str, rows: Vec<(i64, EncodedItem)>) -> QueryBuilder<DB>
where
    DB: Database,
    i64: for<'t> Encode<'t, DB> + Type<DB>,
    String: for<'t> Encode<'t, DB> + Type<DB>,
    Option<String>: for<'t> Encode<'t, DB> + Type<DB>,
    &'static str: for<'t> Encode<'t, DB> + Type<DB>,
    JsonColumn: for<'t> Encode<'t, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new(
        "INSERT INTO moderation_items (id, kind, object_key, parent_kind, parent_key, \
         author_key, status, reasons, payload, fingerprint, ip, created_at, updated_at) ",
    );
    query.push(overriding);
    query.push_values(rows, |mut row, (id, item)| {
        row.push_bind(id)
            .push_bind(item.kind)
            .push_bind(item.object_key)
            .push_bind(item.parent_kind)
            .push_bind(item.parent_key)
            .push_bind(item.author_key)
            .push_bind(item.status)
            .push_bind(item.reasons)
            .push_bind(item.payload)
            .push_bind(item.fingerprint)
            .push_bind(item.ip)
            .push_bind(item.created_at)
            .push_bind(item.created_at);
    });
    query
}

/// Item log entries, each for the item id it is paired with.
pub(crate) fn insert_logs<DB>(rows: Vec<(i64, EncodedLog)>) -> QueryBuilder<DB>
where
    DB: Database,
    i64: for<'t> Encode<'t, DB> + Type<DB>,
    String: for<'t> Encode<'t, DB> + Type<DB>,
    Option<String>: for<'t> Encode<'t, DB> + Type<DB>,
    &'static str: for<'t> Encode<'t, DB> + Type<DB>,
    Option<&'static str>: for<'t> Encode<'t, DB> + Type<DB>,
    JsonColumn: for<'t> Encode<'t, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new(
        "INSERT INTO moderation_item_log (item_id, action, actor, reason, detail, ip, \
         from_status, to_status, bulk_id, at) ",
    );
    query.push_values(rows, |mut row, (item, log)| {
        row.push_bind(item)
            .push_bind(log.action)
            .push_bind(log.actor)
            .push_bind(log.reason)
            .push_bind(log.detail)
            .push_bind(log.ip)
            .push_bind(log.from_status)
            .push_bind(log.to_status)
            .push_bind(log.bulk)
            .push_bind(log.at);
    });
    query
}

/// One status change per row of `changes` (`(item, expected version,
/// status, updated_at)`), each checking its version, returning the changed
/// items. The ids must be distinct (`record::runs`): an `UPDATE ... FROM`
/// changes each row at most once.
pub(crate) fn change_statuses<DB>(changes: &[(i64, i64, &'static str, i64)]) -> QueryBuilder<DB>
where
    DB: Database,
    i64: for<'t> Encode<'t, DB> + Type<DB>,
    &'static str: for<'t> Encode<'t, DB> + Type<DB>,
{
    // The change's columns are named apart from the item's, so the
    // `RETURNING` list and `SET` read the item's without qualification.
    let mut query =
        QueryBuilder::new("WITH change (change_id, expected, new_status, changed_at) AS (");
    query.push_values(changes, |mut row, &(item, expected, status, at)| {
        row.push_bind(item)
            .push_bind(expected)
            .push_bind(status)
            .push_bind(at);
    });
    query.push(
        ") UPDATE moderation_items \
         SET status = change.new_status, updated_at = change.changed_at, version = version + 1 \
         FROM change \
         WHERE moderation_items.id = change.change_id AND moderation_items.version = change.expected \
         RETURNING id, kind, object_key, parent_kind, parent_key, author_key, status, reasons, \
         payload, fingerprint, ip, created_at, updated_at, version",
    );
    query
}

/// The items `ids`, in no particular order.
pub(crate) fn select_items<DB>(ids: &[i64]) -> QueryBuilder<DB>
where
    DB: Database,
    i64: for<'t> Encode<'t, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new(
        "SELECT id, kind, object_key, parent_kind, parent_key, author_key, status, reasons, \
         payload, fingerprint, ip, created_at, updated_at, version FROM moderation_items \
         WHERE id IN (",
    );
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    query.push(")");
    query
}

/// Deletes the items `ids`; their flags and log entries follow by
/// `ON DELETE CASCADE`.
pub(crate) fn delete_items<DB>(ids: &[i64]) -> QueryBuilder<DB>
where
    DB: Database,
    i64: for<'t> Encode<'t, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new("DELETE FROM moderation_items WHERE id IN (");
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    query.push(")");
    query
}

/// How a backend reads a JSON array of texts as a set of rows:
/// `<open> $n <close>` is a subquery.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonTexts {
    pub(crate) open: &'static str,
    pub(crate) close: &'static str,
}

/// What a listing filters on, encoded.
#[derive(Debug)]
pub(crate) struct ListValues {
    pub(crate) status: Option<ItemStatus>,
    pub(crate) kind: Option<String>,
    pub(crate) author: Option<String>,
    /// The parent's kind and key.
    pub(crate) parent: Option<(String, String)>,
    /// The JSON array of the author keys left out (`record::hidden_authors`).
    pub(crate) hidden: Option<String>,
    /// `(created_at, id)` of the last item seen.
    pub(crate) after: Option<(i64, i64)>,
    pub(crate) newest_first: bool,
    /// Rows to fetch: the page size and one more, which tells whether
    /// another page follows.
    pub(crate) fetch: u32,
}

/// A keyset page query for `values`; `texts` is the backend's reading of
/// the hidden authors' JSON array, so any number of them binds one value.
pub(crate) fn list_items<DB>(values: ListValues, texts: JsonTexts) -> QueryBuilder<DB>
where
    DB: Database,
    i64: for<'t> Encode<'t, DB> + Type<DB>,
    String: for<'t> Encode<'t, DB> + Type<DB>,
    &'static str: for<'t> Encode<'t, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new(
        "SELECT id, kind, object_key, parent_kind, parent_key, author_key, status, reasons, \
         payload, fingerprint, ip, created_at, updated_at, version FROM moderation_items",
    );
    let mut glue = " WHERE ";
    let mut and = |query: &mut QueryBuilder<DB>| {
        query.push(glue);
        glue = " AND ";
    };
    if let Some(status) = values.status {
        and(&mut query);
        match status {
            ItemStatus::Public => {
                query
                    .push("status = ")
                    .push_bind(ItemStatus::Public.as_str());
            }
            // A bound status ties SQLite's plan to the bound value: it
            // compares `status = ?` with the condition of the partial index
            // `moderation_items_author_public` and prepares the statement
            // again whenever the value is bound again. The other statuses
            // are therefore fixed fragments, with `status <> 'public'`, the
            // condition of the partial queue index, which SQLite does not
            // derive from `status = 'held'` by itself.
            ItemStatus::Held => {
                query.push("status = 'held' AND status <> 'public'");
            }
            ItemStatus::Rejected => {
                query.push("status = 'rejected' AND status <> 'public'");
            }
            ItemStatus::Removed => {
                query.push("status = 'removed' AND status <> 'public'");
            }
        }
    }
    if let Some(kind) = values.kind {
        and(&mut query);
        query.push("kind = ").push_bind(kind);
    }
    if let Some(author) = values.author {
        and(&mut query);
        query.push("author_key = ").push_bind(author);
    }
    if let Some((kind, key)) = values.parent {
        and(&mut query);
        query
            .push("parent_kind = ")
            .push_bind(kind)
            .push(" AND parent_key = ")
            .push_bind(key);
    }
    if let Some(hidden) = values.hidden {
        // Anonymous items have no author and are never hidden. The
        // condition is a residual check on the rows the index walk visits,
        // so the plan and its early stop at the limit stay the same.
        and(&mut query);
        query
            .push("(author_key IS NULL OR author_key NOT IN (")
            .push(texts.open)
            .push_bind(hidden)
            .push(texts.close)
            .push("))");
    }
    let newest_first = values.newest_first;
    if let Some((at, id)) = values.after {
        and(&mut query);
        query
            .push(if newest_first {
                "(created_at, id) < ("
            } else {
                "(created_at, id) > ("
            })
            .push_bind(at)
            .push(", ")
            .push_bind(id)
            .push(")");
    }
    query.push(if newest_first {
        " ORDER BY created_at DESC, id DESC LIMIT "
    } else {
        " ORDER BY created_at ASC, id ASC LIMIT "
    });
    query.push_bind(i64::from(values.fetch));
    query
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every statement that returns items lists the columns `ItemRow`
    /// reads, so a column added to one is added to all.
    #[test]
    fn item_statements_return_every_item_column() {
        let fixed = [
            CHANGE_STATUS,
            SELECT_ITEM,
            ITEM_FOR_OBJECT,
            DUPLICATE_UNDER_PARENT,
            DUPLICATE_WITHOUT_PARENT,
            NON_PUBLIC_FIRST,
            NON_PUBLIC_AFTER,
        ];
        for sql in fixed {
            assert!(sql.contains(ITEM_COLUMNS), "{sql}");
        }
        #[cfg(feature = "sqlite")]
        {
            let built = [
                change_statuses::<sqlx::Sqlite>(&[(1, 1, "public", 0)]).into_string(),
                list_items::<sqlx::Sqlite>(
                    ListValues {
                        status: None,
                        kind: None,
                        author: None,
                        parent: None,
                        hidden: None,
                        after: None,
                        newest_first: false,
                        fetch: 2,
                    },
                    JsonTexts {
                        open: "",
                        close: "",
                    },
                )
                .into_string(),
            ];
            for sql in built {
                assert!(sql.contains(ITEM_COLUMNS), "{sql}");
            }
        }
    }
}
