//! The SQL both backends run. The two schemas use the same column types
//! (text, integers, JSON as text), and SQLite accepts PostgreSQL's `$N`
//! placeholders, so one text serves both. Only placeholders carry input:
//! the few statements assembled at run time (filters, batches) are made of
//! the fixed fragments below, placeholders, and values the library itself
//! produces (a status name from the closed set `ItemStatus::as_str`
//! returns, a page size as an integer), never of input text.

use moderation_core::ItemStatus;

/// The columns of an item row, in `ItemRow`'s order.
macro_rules! item_columns {
    () => {
        "id, kind, object_key, parent_kind, parent_key, author_key, status, reasons, payload, \
         fingerprint, ip, created_at, updated_at, version"
    };
}

/// The columns of a log row, in `LogRow`'s order.
macro_rules! log_columns {
    () => {
        "id, item_id, action, actor, reason, detail, ip, from_status, to_status, bulk_id, at"
    };
}

/// Inserted item columns; a batch binds the creation time twice, as
/// `created_at` and `updated_at`.
const INSERT_ITEM_HEAD: &str = "INSERT INTO moderation_items (kind, object_key, parent_kind, \
     parent_key, author_key, status, reasons, payload, fingerprint, ip, created_at, updated_at) VALUES ";
/// Values bound per item in a batch.
pub(crate) const ITEM_PARAMS: usize = 12;

const INSERT_LOG_HEAD: &str = "INSERT INTO moderation_item_log (item_id, action, actor, reason, \
     detail, ip, from_status, to_status, bulk_id, at) VALUES ";
/// Values bound per log entry in a batch.
pub(crate) const LOG_PARAMS: usize = 10;

/// How a backend writes the placeholders of the statements assembled at
/// run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// With one backend compiled in, the other backend's variant is unused.
#[cfg_attr(not(all(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) enum Placeholder {
    /// `$1, $2, ...` (PostgreSQL).
    Numbered,
    /// `?, ?, ...` bound by position (SQLite). SQLite finds each `$N` by a
    /// linear search over the statement's parameter names, so a batch
    /// statement with thousands of them would bind in quadratic time.
    Anonymous,
}

/// Rows per multi-row statement: 1 000 rows stay under both SQLite's
/// (32 766) and PostgreSQL's (65 535) limits on bound values.
pub(crate) const BATCH_ROWS: usize = 1_000;

pub(crate) const INSERT_LOG: &str = "INSERT INTO moderation_item_log (item_id, action, actor, \
     reason, detail, ip, from_status, to_status, bulk_id, at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// Single-statement writes: an item change and its log entry in one
/// statement, which each backend makes atomic by itself, so a submission or
/// a status change is one round trip instead of four (begin, item, log,
/// commit). Every statement binds the item values first, then the nine log
/// values in `bind_log!` order: action, actor, reason, detail, ip,
/// from_status, to_status, bulk_id, at.
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite {
    /// Copies to the moderation log the moderator actions among the item
    /// log rows with ids `$1` to `$2`, as the item triggers of migration
    /// `20261121000011` copy the entries they write: for log entries the
    /// store inserted straight into the item log.
    pub(crate) const COPY_STAFF_ACTIONS: &str = "INSERT INTO moderation_log (action, actor, \
         target_kind, target_key, reason, before_state, after_state, detail, ip, bulk_id, at) \
         SELECT 'item.' || l.action, l.actor, i.kind, i.object_key, l.reason, l.from_status, \
         l.to_status, l.detail, l.ip, l.bulk_id, l.at \
         FROM moderation_item_log AS l JOIN moderation_items AS i ON i.id = l.item_id \
         WHERE l.id BETWEEN $1 AND $2 AND l.action IN ('approve', 'reject', 'remove') \
         ORDER BY l.id";

    /// The item carries its log entry in `pending_log`; the trigger of
    /// migration `20261121000007` moves it to the log and clears the column.
    /// No `RETURNING`: the new id is the connection's last inserted row id.
    pub(crate) const INSERT_ITEM_WITH_LOG: &str = "INSERT INTO moderation_items (kind, \
         object_key, parent_kind, parent_key, author_key, status, reasons, payload, fingerprint, \
         ip, created_at, updated_at, pending_log) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $11, jsonb_array($12, $13, $14, $15, $16, $17, $18, $19, $20))";

    /// `INSERT_ITEM_WITH_LOG` for `rows` items in one statement, bound by
    /// position: per row the eleven item values, `created_at` again as
    /// `updated_at`, and the nine log values. The trigger writes each row's
    /// log entry, so the statement is atomic on its own: one round trip to
    /// the driver's thread, where a transaction takes four.
    pub(crate) fn insert_items_carrying(rows: usize) -> String {
        const HEAD: &str = "INSERT INTO moderation_items (kind, object_key, parent_kind, \
             parent_key, author_key, status, reasons, payload, fingerprint, ip, created_at, \
             updated_at, pending_log) VALUES ";
        const ROW: &str =
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, jsonb_array(?, ?, ?, ?, ?, ?, ?, ?, ?))";
        let mut sql = String::with_capacity(HEAD.len() + rows * (ROW.len() + 2));
        sql.push_str(HEAD);
        for row in 0..rows {
            if row > 0 {
                sql.push_str(", ");
            }
            sql.push_str(ROW);
        }
        sql
    }

    /// The optimistic-concurrency write with its log entry: no row matches
    /// unless the version is still the one the caller read, and then no
    /// trigger fires and nothing is written.
    pub(crate) const CHANGE_STATUS_WITH_LOG: &str = concat!(
        "UPDATE moderation_items SET status = $1, updated_at = $2, version = version + 1, \
         pending_log = jsonb_array($5, $6, $7, $8, $9, $10, $11, $12, $13) \
         WHERE id = $3 AND version = $4 RETURNING ",
        item_columns!()
    );

    /// Many status changes at once (see `carried_changes`): `$1` is the
    /// JSON array `carried_changes::changes` builds. Each matched item
    /// carries its log as `CHANGE_STATUS_WITH_LOG` does.
    pub(crate) const CHANGE_STATUSES_CARRYING: &str = concat!(
        "UPDATE moderation_items SET status = w.value ->> 'status', \
         updated_at = w.value ->> 'updated_at', version = version + 1, \
         pending_log = jsonb_extract(w.value, '$.log') \
         FROM jsonb_each(jsonb($1)) AS w \
         WHERE moderation_items.id = w.value ->> 'id' \
           AND moderation_items.version = w.value ->> 'expected' \
         RETURNING ",
        item_columns!()
    );
}

/// PostgreSQL's forms of the single-statement writes: data-modifying
/// common table expressions.
#[cfg(feature = "postgres")]
pub(crate) mod postgres {
    pub(crate) const INSERT_ITEM_WITH_LOG: &str = "WITH item AS (INSERT INTO moderation_items \
         (kind, object_key, parent_kind, parent_key, author_key, status, reasons, payload, \
         fingerprint, ip, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id) \
         INSERT INTO moderation_item_log (item_id, action, actor, reason, detail, ip, \
         from_status, to_status, bulk_id, at) \
         SELECT id, $12, $13, $14, $15, $16, $17, $18, $19, $20 FROM item RETURNING item_id";

    /// As SQLite's: no matching row, no log entry.
    pub(crate) const CHANGE_STATUS_WITH_LOG: &str = concat!(
        "WITH changed AS (UPDATE moderation_items \
         SET status = $1, updated_at = $2, version = version + 1 \
         WHERE id = $3 AND version = $4 RETURNING ",
        item_columns!(),
        "), logged AS (INSERT INTO moderation_item_log (item_id, action, actor, reason, detail, \
         ip, from_status, to_status, bulk_id, at) \
         SELECT id, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM changed) SELECT ",
        item_columns!(),
        " FROM changed"
    );

    /// Many status changes at once (see `carried_changes`): `$1` is the
    /// JSON array `carried_changes::changes` builds, as text. A log row is
    /// written for each changed item, joined back to its change by id and
    /// version, so a repeated id never logs twice.
    pub(crate) const CHANGE_STATUSES_CARRYING: &str = concat!(
        "WITH input AS (SELECT * FROM jsonb_to_recordset($1::text::jsonb) \
         AS x(id BIGINT, expected BIGINT, status TEXT, updated_at BIGINT, log JSONB)), \
         changed AS (UPDATE moderation_items AS items \
         SET status = input.status, updated_at = input.updated_at, version = items.version + 1 \
         FROM input WHERE items.id = input.id AND items.version = input.expected \
         RETURNING items.*), \
         logged AS (INSERT INTO moderation_item_log (item_id, action, actor, reason, detail, \
         ip, from_status, to_status, bulk_id, at) \
         SELECT changed.id, input.log ->> 0, input.log ->> 1, input.log ->> 2, \
         input.log ->> 3, input.log ->> 4, input.log ->> 5, input.log ->> 6, \
         input.log ->> 7, (input.log ->> 8)::BIGINT \
         FROM changed JOIN input ON input.id = changed.id \
         AND input.expected = changed.version - 1) SELECT ",
        item_columns!(),
        " FROM changed"
    );
}

pub(crate) const SELECT_ITEM: &str = concat!(
    "SELECT ",
    item_columns!(),
    " FROM moderation_items WHERE id = $1"
);

pub(crate) const ITEM_FOR_OBJECT: &str = concat!(
    "SELECT ",
    item_columns!(),
    " FROM moderation_items WHERE kind = $1 AND object_key = $2 \
     ORDER BY created_at DESC, id DESC LIMIT 1"
);

pub(crate) const DUPLICATE_UNDER_PARENT: &str = concat!(
    "SELECT ",
    item_columns!(),
    " FROM moderation_items WHERE author_key = $1 AND fingerprint = $2 AND created_at >= $3 \
     AND kind = $4 AND parent_kind = $5 AND parent_key = $6 \
     ORDER BY created_at DESC, id DESC LIMIT 1"
);

pub(crate) const DUPLICATE_WITHOUT_PARENT: &str = concat!(
    "SELECT ",
    item_columns!(),
    " FROM moderation_items WHERE author_key = $1 AND fingerprint = $2 AND created_at >= $3 \
     AND kind = $4 AND parent_kind IS NULL ORDER BY created_at DESC, id DESC LIMIT 1"
);

/// The literal `'public'` (not a placeholder) lets both planners use the
/// partial index `moderation_items_author_public`.
pub(crate) const AUTHOR_HAS_PUBLIC: &str = "SELECT id FROM moderation_items \
     WHERE kind = $1 AND author_key = $2 AND status = 'public' LIMIT 1";

pub(crate) const ITEM_VERSION: &str = "SELECT version FROM moderation_items WHERE id = $1";

pub(crate) const INSERT_FLAG: &str = "INSERT INTO moderation_item_flags (item_id, flagger, at) \
     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

pub(crate) const LOG_FOR_ITEM: &str = concat!(
    "SELECT ",
    log_columns!(),
    " FROM moderation_item_log WHERE item_id = $1 ORDER BY id"
);

pub(crate) const NON_PUBLIC_FIRST: &str = concat!(
    "SELECT ",
    item_columns!(),
    " FROM moderation_items WHERE status IN ('held', 'rejected', 'removed') AND created_at < $1 \
     ORDER BY created_at, id LIMIT $2"
);

pub(crate) const NON_PUBLIC_AFTER: &str = concat!(
    "SELECT ",
    item_columns!(),
    " FROM moderation_items WHERE status IN ('held', 'rejected', 'removed') AND created_at < $1 \
     AND (created_at, id) > ($2, $3) ORDER BY created_at, id LIMIT $4"
);

/// The condition of the partial queue index (migration `20261121000009`).
/// A planner uses a partial index only when the query's own terms imply its
/// condition, and SQLite does not see that `status = 'held'` does, so a
/// listing of a status other than public repeats this term.
const NOT_PUBLIC: &str = "status <> 'public'";

/// `($1, $2, ...), ($k, ...)` (or `(?, ?, ...), ...`) for `rows` rows of
/// `per_row` values each.
pub(crate) fn values_list(rows: usize, per_row: usize, style: Placeholder) -> String {
    let mut sql = String::with_capacity(rows * per_row * 6);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 1..=per_row {
            if col > 1 {
                sql.push_str(", ");
            }
            match style {
                Placeholder::Numbered => sql.push_str(&format!("${}", row * per_row + col)),
                Placeholder::Anonymous => sql.push('?'),
            }
        }
        sql.push(')');
    }
    sql
}

/// A multi-row item insert, followed by `tail` (the backend's
/// [`Backend::INSERT_ITEMS_TAIL`](crate::port::Backend::INSERT_ITEMS_TAIL)).
pub(crate) fn insert_items(rows: usize, style: Placeholder, tail: &str) -> String {
    format!(
        "{INSERT_ITEM_HEAD}{}{tail}",
        values_list(rows, ITEM_PARAMS, style)
    )
}

/// A multi-row log insert.
pub(crate) fn insert_logs(rows: usize, style: Placeholder) -> String {
    format!("{INSERT_LOG_HEAD}{}", values_list(rows, LOG_PARAMS, style))
}

/// `DELETE ... WHERE id IN ($1, ..., $n)`. Flags and log entries follow by
/// `ON DELETE CASCADE`.
pub(crate) fn delete_items(count: usize, style: Placeholder) -> String {
    format!(
        "DELETE FROM moderation_items WHERE id IN {}",
        values_list(1, count, style)
    )
}

/// Which filters a listing applies; each adds one placeholder, except a
/// status other than public and the limit, which are written as literals.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListShape {
    /// The status filtered on. Only `public` is bound; the others are
    /// written into the statement (see `list_items`).
    pub(crate) status: Option<ItemStatus>,
    pub(crate) kind: bool,
    pub(crate) author: bool,
    /// Leave out the items of the authors in a JSON array of author keys.
    pub(crate) hidden: bool,
    pub(crate) after: bool,
    pub(crate) newest_first: bool,
    /// Rows to return. Written into the statement, not bound: SQLite lets
    /// the value bound to `LIMIT ?` shape the plan and then re-prepares the
    /// statement each time that parameter is bound again, which was every
    /// page. Page sizes are few, so the statement cache keeps them all.
    pub(crate) limit: u32,
}

/// A keyset page query. Placeholders are numbered in the order status
/// (public only), kind, author, hidden authors, cursor time, cursor id,
/// skipping absent ones. The hidden authors are one JSON array (`style`
/// names the backend that unpacks it), so any number of them binds one
/// value; the condition is a residual check on rows the index walk already
/// visits, which leaves the plan and its early stop at the limit unchanged.
pub(crate) fn list_items(shape: ListShape, style: Placeholder) -> String {
    let mut sql = String::from(concat!(
        "SELECT ",
        item_columns!(),
        " FROM moderation_items"
    ));
    let mut conditions = Vec::new();
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    match shape.status {
        None => {}
        // A bound status, like a bound limit, ties SQLite's plan to the
        // bound value (it compares `status = ?` with the condition of the
        // partial index `moderation_items_author_public`, `status =
        // 'public'`), and the statement is re-prepared whenever the value
        // is bound again. A status other than public is therefore a literal
        // from the closed set `ItemStatus::as_str` returns, never input; it
        // also lets the planners use the partial queue index.
        Some(ItemStatus::Public) => conditions.push(format!("status = ${}", next())),
        Some(status) => {
            conditions.push(format!("status = '{}'", status.as_str()));
            conditions.push(NOT_PUBLIC.to_owned());
        }
    }
    if shape.kind {
        conditions.push(format!("kind = ${}", next()));
    }
    if shape.author {
        conditions.push(format!("author_key = ${}", next()));
    }
    if shape.hidden {
        let set = match style {
            Placeholder::Anonymous => format!("SELECT value FROM json_each(${})", next()),
            Placeholder::Numbered => {
                format!(
                    "SELECT jsonb_array_elements_text(CAST(${} AS jsonb))",
                    next()
                )
            }
        };
        // Anonymous items have no author and are never hidden.
        conditions.push(format!("(author_key IS NULL OR author_key NOT IN ({set}))"));
    }
    if shape.after {
        let op = if shape.newest_first { "<" } else { ">" };
        let (at, id) = (next(), next());
        conditions.push(format!("(created_at, id) {op} (${at}, ${id})"));
    }
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    let direction = if shape.newest_first { "DESC" } else { "ASC" };
    sql.push_str(&format!(
        " ORDER BY created_at {direction}, id {direction} LIMIT {}",
        shape.limit
    ));
    sql
}
