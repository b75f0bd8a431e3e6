//! The review queue's SQL, shared by both backends (the two schemas use the
//! same column types). Statements assembled at run time are made of the
//! fixed fragments below and placeholders, never of input.

use crate::sql::Placeholder;

/// The columns of a review row, in `ReviewRow`'s order.
macro_rules! review_columns {
    () => {
        "id, subject_key, kind, author_key, reasons, score, status, priority, created_at, \
         updated_at, claimed_by, claim_expires_at, version"
    };
}

/// The columns of a history row, in `HistoryRow`'s order.
macro_rules! history_columns {
    () => {
        "id, review_id, event, actor, from_status, to_status, reason, message, bulk_id, at"
    };
}

/// Rows per multi-row statement: 500 rows of at most 10 values stay far
/// under both backends' limits on bound values.
pub(crate) const REVIEW_BATCH_ROWS: usize = 500;

/// A new pending item; a concurrent open of the same subject makes this
/// insert nothing (the partial unique index), and the caller merges instead.
pub(crate) const INSERT_REVIEW: &str = "INSERT INTO review_items (subject_key, kind, author_key, \
     reasons, score, status, priority, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $7) \
     ON CONFLICT (subject_key) WHERE status = 'pending' DO NOTHING RETURNING id";

pub(crate) const SELECT_REVIEW: &str = concat!(
    "SELECT ",
    review_columns!(),
    " FROM review_items WHERE id = $1"
);

/// The literal `'pending'` lets both planners use the partial unique index.
pub(crate) const PENDING_FOR_SUBJECT: &str = concat!(
    "SELECT ",
    review_columns!(),
    " FROM review_items WHERE subject_key = $1 AND status = 'pending'"
);

pub(crate) const NEWEST_FOR_SUBJECT: &str = concat!(
    "SELECT ",
    review_columns!(),
    " FROM review_items WHERE subject_key = $1 ORDER BY id DESC LIMIT 1"
);

pub(crate) const HISTORY_FOR_REVIEW: &str = concat!(
    "SELECT ",
    history_columns!(),
    " FROM review_history WHERE review_id = $1 ORDER BY id"
);

/// `$k, $k+1, ...` or `?, ?, ...` for `count` values numbered from `first`.
fn placeholders(first: usize, count: usize, style: Placeholder) -> String {
    (first..first + count)
        .map(|n| match style {
            Placeholder::Numbered => format!("${n}"),
            Placeholder::Anonymous => "?".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `(..), (..)` for `rows` tuples of `per_row` values.
fn tuples(rows: usize, per_row: usize, style: Placeholder) -> String {
    (0..rows)
        .map(|row| format!("({})", placeholders(row * per_row + 1, per_row, style)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The rows of `count` ids in id order (so two batches lock in the same
/// order and cannot deadlock), locked for the rest of the transaction where the
/// backend supports row locks (`lock` is `" FOR UPDATE"` on PostgreSQL;
/// SQLite's single writer already excludes every other writer).
pub(crate) fn select_reviews(count: usize, style: Placeholder, lock: &str) -> String {
    format!(
        concat!(
            "SELECT ",
            review_columns!(),
            " FROM review_items WHERE id IN ({}){}"
        ),
        placeholders(1, count, style),
        lock
    )
}

/// The newest item of each of `count` subject keys that has one. The
/// subject index (`subject_key, id`) finds each key's largest id without
/// reading its older items.
pub(crate) fn newest_for_subjects(count: usize, style: Placeholder) -> String {
    format!(
        concat!(
            "SELECT ",
            review_columns!(),
            " FROM review_items WHERE id IN (SELECT MAX(id) FROM review_items \
             WHERE subject_key IN ({}) GROUP BY subject_key)"
        ),
        placeholders(1, count, style)
    )
}

/// `PENDING_FOR_SUBJECT` with the backend's row lock.
pub(crate) fn pending_for_subject(lock: &str) -> String {
    format!("{PENDING_FOR_SUBJECT}{lock}")
}

/// Values per row of [`save_states`].
pub(crate) const STATE_PARAMS: usize = 9;

/// Writes the mutable columns of `rows` items in one statement; each row
/// binds id, reasons, score, status, priority, updated_at, claimed_by,
/// claim_expires_at, version. The caller checked every row under its lock.
pub(crate) fn save_states(rows: usize, style: Placeholder) -> String {
    format!(
        "UPDATE review_items SET reasons = v.column2, score = v.column3, status = v.column4, \
         priority = v.column5, updated_at = v.column6, claimed_by = v.column7, \
         claim_expires_at = v.column8, version = v.column9 \
         FROM (VALUES {}) AS v WHERE review_items.id = v.column1",
        tuples(rows, STATE_PARAMS, style)
    )
}

/// Values per history row.
pub(crate) const HISTORY_PARAMS: usize = 9;

/// A multi-row history insert: review_id, event, actor, from_status,
/// to_status, reason, message, bulk_id, at.
pub(crate) fn insert_history(rows: usize, style: Placeholder) -> String {
    format!(
        "INSERT INTO review_history (review_id, event, actor, from_status, to_status, reason, \
         message, bulk_id, at) VALUES {}",
        tuples(rows, HISTORY_PARAMS, style)
    )
}

/// A multi-row insert of one item's reason codes; known codes are skipped.
pub(crate) fn insert_codes(rows: usize, style: Placeholder) -> String {
    format!(
        "INSERT INTO review_reason_codes (review_id, code) VALUES {} ON CONFLICT DO NOTHING",
        tuples(rows, 2, style)
    )
}

/// Which filters and which order a listing uses; each filter adds one
/// placeholder, the cursor two (score sort) or two (age sort).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReviewListShape {
    pub(crate) status: bool,
    pub(crate) kind: bool,
    pub(crate) reason: bool,
    pub(crate) author: bool,
    pub(crate) created_from: bool,
    pub(crate) created_before: bool,
    pub(crate) min_priority: bool,
    pub(crate) after: bool,
    pub(crate) by_score: bool,
}

/// A keyset page query. Placeholders are numbered in the order status,
/// kind, reason, author, created_from, created_before, min_priority, cursor
/// (score or time, then id), limit, skipping absent ones.
pub(crate) fn list_reviews(shape: ReviewListShape) -> String {
    let mut n = 0;
    let mut next = || {
        n += 1;
        n
    };
    let mut conditions = Vec::new();
    if shape.status {
        conditions.push(format!("status = ${}", next()));
    }
    if shape.kind {
        conditions.push(format!("kind = ${}", next()));
    }
    if shape.reason {
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM review_reason_codes c WHERE c.review_id = review_items.id \
             AND c.code = ${})",
            next()
        ));
    }
    if shape.author {
        conditions.push(format!("author_key = ${}", next()));
    }
    if shape.created_from {
        conditions.push(format!("created_at >= ${}", next()));
    }
    if shape.created_before {
        conditions.push(format!("created_at < ${}", next()));
    }
    if shape.min_priority {
        conditions.push(format!("priority >= ${}", next()));
    }
    if shape.after {
        let (key, id) = (next(), next());
        conditions.push(if shape.by_score {
            // `score <= $k` is implied by the rest; it gives the planner a
            // bound on the (status, score DESC, id) index, so a deep page
            // starts where the cursor is instead of scanning from the top.
            format!("score <= ${key} AND (score < ${key} OR id > ${id})")
        } else {
            format!("(created_at, id) > (${key}, ${id})")
        });
    }
    let mut sql = String::from(concat!("SELECT ", review_columns!(), " FROM review_items"));
    if !conditions.is_empty() {
        sql.push_str(" WHERE ");
        sql.push_str(&conditions.join(" AND "));
    }
    let order = if shape.by_score {
        "score DESC, id ASC"
    } else {
        "created_at ASC, id ASC"
    };
    sql.push_str(&format!(" ORDER BY {order} LIMIT ${}", next()));
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_statements_number_their_placeholders_in_row_order() {
        assert_eq!(
            insert_codes(2, Placeholder::Numbered),
            "INSERT INTO review_reason_codes (review_id, code) VALUES ($1, $2), ($3, $4) \
             ON CONFLICT DO NOTHING"
        );
        assert!(select_reviews(3, Placeholder::Anonymous, "").contains("IN (?, ?, ?)"));
    }
}
