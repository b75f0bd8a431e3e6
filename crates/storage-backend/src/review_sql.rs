//! The SQL of the review queue, shared by both backends: the fixed
//! statements as constants, and the statements whose length depends on the
//! call (id and subject lists, batches of rows, listing filters) as
//! `sqlx::QueryBuilder`s. Builders are made of the fixed fragments below and
//! placeholders (`push_bind`); no input ever becomes statement text.
//!
//! SQLite accepts PostgreSQL's `$N` placeholders, so one text of each fixed
//! statement serves both; a builder writes each backend's own placeholders.
//! The PostgreSQL backend appends `FOR_UPDATE` to the reads that a write
//! checks; SQLite's single writer already excludes every other writer.

use moderation_core::{
    ModerationError, ReviewFilter, ReviewHistoryEntry, ReviewId, ReviewPageRequest, ReviewSort,
};
use sqlx::{Database, Encode, QueryBuilder, Type};

use crate::json::JsonColumn;
use crate::record::{author_key, to_micros};
use crate::review_record::State;

/// Every column of a review row, in [`ReviewRow`](crate::review_record::ReviewRow)'s
/// order, selected from `review_items`; each read of rows starts with it.
pub(crate) const SELECT_REVIEWS: &str = "SELECT id, subject_key, kind, author_key, reasons, \
     score, status, priority, created_at, updated_at, claimed_by, claim_expires_at, version \
     FROM review_items";

/// Appended to a read on PostgreSQL: the rows it returns stay locked until
/// the transaction ends, so the write that follows decides on them as read.
#[cfg(feature = "postgres")]
pub(crate) const FOR_UPDATE: &str = " FOR UPDATE";

/// Rows per statement of a list or batch: 500 rows of at most 10 values
/// stay far under both backends' limits on bound values.
pub(crate) const REVIEW_BATCH_ROWS: usize = 500;

pub(crate) const SELECT_REVIEW: &str = "SELECT id, subject_key, kind, author_key, reasons, \
     score, status, priority, created_at, updated_at, claimed_by, claim_expires_at, version \
     FROM review_items WHERE id = $1";

/// [`SELECT_REVIEW`] with PostgreSQL's row lock.
#[cfg(feature = "postgres")]
pub(crate) const LOCK_REVIEW: &str = "SELECT id, subject_key, kind, author_key, reasons, \
     score, status, priority, created_at, updated_at, claimed_by, claim_expires_at, version \
     FROM review_items WHERE id = $1 FOR UPDATE";

/// The pending item of a subject key. The literal `'pending'` lets both
/// planners use the partial unique index `review_items_pending_subject`.
#[cfg(feature = "sqlite")]
pub(crate) const PENDING_FOR_SUBJECT: &str = "SELECT id, subject_key, kind, author_key, \
     reasons, score, status, priority, created_at, updated_at, claimed_by, claim_expires_at, \
     version FROM review_items WHERE subject_key = $1 AND status = 'pending'";

/// The pending item of a subject key, with PostgreSQL's row lock (see
/// `PENDING_FOR_SUBJECT`).
#[cfg(feature = "postgres")]
pub(crate) const LOCK_PENDING_FOR_SUBJECT: &str = "SELECT id, subject_key, kind, author_key, \
     reasons, score, status, priority, created_at, updated_at, claimed_by, claim_expires_at, \
     version FROM review_items WHERE subject_key = $1 AND status = 'pending' FOR UPDATE";

/// The newest item of a subject key, whatever its status (index
/// `review_items_subject`).
pub(crate) const NEWEST_FOR_SUBJECT: &str = "SELECT id, subject_key, kind, author_key, \
     reasons, score, status, priority, created_at, updated_at, claimed_by, claim_expires_at, \
     version FROM review_items WHERE subject_key = $1 ORDER BY id DESC LIMIT 1";

/// The current version of one item, to name it in a conflict.
pub(crate) const VERSION_OF_REVIEW: &str = "SELECT version FROM review_items WHERE id = $1";

/// A new pending item; binds subject_key, kind, author_key, reasons, score,
/// priority, created_at. It returns the new id, or no row when the subject
/// already has a pending item (the partial unique index). In that case the
/// `DO UPDATE ... WHERE false` changes nothing but, on PostgreSQL, locks that
/// pending item (an insert racing with a concurrent open of the same subject
/// first waits for that open to commit), so the caller can read it and merge
/// into it without another open slipping in between.
pub(crate) const INSERT_REVIEW: &str = "INSERT INTO review_items (subject_key, kind, \
     author_key, reasons, score, status, priority, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $7) \
     ON CONFLICT (subject_key) WHERE status = 'pending' \
     DO UPDATE SET version = review_items.version WHERE false RETURNING id";

/// One item's history, oldest first; columns in
/// [`HistoryRow`](crate::review_record::HistoryRow)'s order.
pub(crate) const HISTORY_FOR_REVIEW: &str = "SELECT id, review_id, event, actor, from_status, \
     to_status, reason, message, bulk_id, at FROM review_history WHERE review_id = $1 ORDER BY id";

/// The rows of `ids` (at most [`REVIEW_BATCH_ROWS`], at least one) in id
/// order, so that two PostgreSQL batches locking rows lock them in the same
/// order and cannot deadlock.
pub(crate) fn select_ids<DB>(ids: &[ReviewId]) -> QueryBuilder<DB>
where
    DB: Database,
    DB::Arguments: Default,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new(SELECT_REVIEWS);
    query.push(" WHERE id IN (");
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(id.0);
    }
    query.push(") ORDER BY id");
    query
}

/// The newest item of each of `keys` (subject keys, at most
/// [`REVIEW_BATCH_ROWS`], at least one) that has one. The subject index
/// (`subject_key, id`) finds each key's largest id without reading its
/// older items.
pub(crate) fn newest_for_subjects<DB>(keys: &[String]) -> QueryBuilder<DB>
where
    DB: Database,
    DB::Arguments: Default,
    String: for<'q> Encode<'q, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new(SELECT_REVIEWS);
    query.push(" WHERE id IN (SELECT MAX(id) FROM review_items WHERE subject_key IN (");
    let mut list = query.separated(", ");
    for key in keys {
        list.push_bind(key.clone());
    }
    query.push(") GROUP BY subject_key)");
    query
}

/// Writes the mutable columns of `states` (at most [`REVIEW_BATCH_ROWS`], at
/// least one) in one statement, each only while its row still has the
/// version the write decided on; returns the ids it wrote. A missing id is a
/// row whose version moved, which the caller reports as a conflict.
pub(crate) fn save_states<DB>(states: Vec<State>) -> QueryBuilder<DB>
where
    DB: Database,
    DB::Arguments: Default,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    i32: for<'q> Encode<'q, DB> + Type<DB>,
    String: for<'q> Encode<'q, DB> + Type<DB>,
    Option<String>: for<'q> Encode<'q, DB> + Type<DB>,
    Option<i64>: for<'q> Encode<'q, DB> + Type<DB>,
    JsonColumn: for<'q> Encode<'q, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new(
        "WITH v (review, expected, reasons, score, status, priority, updated_at, claimed_by, \
         claim_expires_at, version) AS (",
    );
    query.push_values(states, |mut row, state| {
        row.push_bind(state.id)
            .push_bind(state.expected)
            .push_bind(state.reasons)
            .push_bind(state.score)
            .push_bind(state.status)
            .push_bind(state.priority)
            .push_bind(state.updated_at)
            .push_bind(state.claimed_by)
            .push_bind(state.claim_expires_at)
            .push_bind(state.version);
    });
    query.push(
        ") UPDATE review_items SET reasons = v.reasons, score = v.score, status = v.status, \
         priority = v.priority, updated_at = v.updated_at, claimed_by = v.claimed_by, \
         claim_expires_at = v.claim_expires_at, version = v.version \
         FROM v WHERE review_items.id = v.review AND review_items.version = v.expected \
         RETURNING review_items.id",
    );
    query
}

/// Appends `steps` (at most [`REVIEW_BATCH_ROWS`], at least one) to the
/// history in one statement, in their order (so their ids increase in it).
pub(crate) fn insert_history<DB>(steps: &[ReviewHistoryEntry]) -> QueryBuilder<DB>
where
    DB: Database,
    DB::Arguments: Default,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    String: for<'q> Encode<'q, DB> + Type<DB>,
    Option<String>: for<'q> Encode<'q, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new(
        "INSERT INTO review_history (review_id, event, actor, from_status, to_status, reason, \
         message, bulk_id, at) ",
    );
    query.push_values(steps, |mut row, step| {
        row.push_bind(step.review.0)
            .push_bind(step.event.as_str().to_owned())
            .push_bind(step.actor.as_ref().map(|user| user.as_str().to_owned()))
            .push_bind(step.from_status.map(|status| status.as_str().to_owned()))
            .push_bind(step.to_status.as_str().to_owned())
            .push_bind(step.reason.clone())
            .push_bind(step.message.clone())
            .push_bind(step.bulk.map(|bulk| bulk.hyphenated().to_string()))
            .push_bind(to_micros(step.at));
    });
    query
}

/// Records `codes` (at most [`REVIEW_BATCH_ROWS`], at least one) as reason
/// codes of `review`, for the reason filter; codes it has already are
/// skipped.
pub(crate) fn insert_codes<DB>(review: ReviewId, codes: &[String]) -> QueryBuilder<DB>
where
    DB: Database,
    DB::Arguments: Default,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    String: for<'q> Encode<'q, DB> + Type<DB>,
{
    let mut query = QueryBuilder::new("INSERT INTO review_reason_codes (review_id, code) ");
    query.push_values(codes, |mut row, code| {
        row.push_bind(review.0).push_bind(code.clone());
    });
    query.push(" ON CONFLICT DO NOTHING");
    query
}

/// One keyset page of items matching `filter`, one row more than the page
/// holds (which tells whether a next page exists). Each set filter adds one
/// condition; the order breaks ties on the id, so pages never skip or
/// repeat an item.
///
/// # Errors
/// [`ModerationError::InvalidId`] for an author identity that is not a
/// valid id, before anything runs.
pub(crate) fn list<DB>(
    filter: &ReviewFilter,
    page: &ReviewPageRequest,
) -> Result<QueryBuilder<DB>, ModerationError>
where
    DB: Database,
    DB::Arguments: Default,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    i32: for<'q> Encode<'q, DB> + Type<DB>,
    String: for<'q> Encode<'q, DB> + Type<DB>,
{
    let author = filter.author.as_ref().map(author_key).transpose()?;
    let mut query = QueryBuilder::new(SELECT_REVIEWS);
    let mut glue = Glue::default();
    if let Some(status) = filter.status {
        query
            .push(glue.next())
            .push("status = ")
            .push_bind(status.as_str().to_owned());
    }
    if let Some(kind) = &filter.kind {
        query
            .push(glue.next())
            .push("kind = ")
            .push_bind(kind.as_str().to_owned());
    }
    if let Some(code) = &filter.reason {
        query
            .push(glue.next())
            .push(
                "EXISTS (SELECT 1 FROM review_reason_codes c \
                 WHERE c.review_id = review_items.id AND c.code = ",
            )
            .push_bind(code.clone())
            .push(")");
    }
    if let Some(author) = author {
        query
            .push(glue.next())
            .push("author_key = ")
            .push_bind(author);
    }
    if let Some(from) = filter.created_from {
        query
            .push(glue.next())
            .push("created_at >= ")
            .push_bind(to_micros(from));
    }
    if let Some(before) = filter.created_before {
        query
            .push(glue.next())
            .push("created_at < ")
            .push_bind(to_micros(before));
    }
    if let Some(priority) = filter.min_priority {
        query
            .push(glue.next())
            .push("priority >= ")
            .push_bind(priority);
    }
    let by_score = page.sort == ReviewSort::ScoreDesc;
    if let Some(cursor) = &page.after {
        query.push(glue.next());
        if by_score {
            // `score <= s` is implied by the rest; it gives the planner a
            // bound on the (status, score DESC, id) index, so a deep page
            // starts where the cursor is instead of scanning from the top.
            query
                .push("score <= ")
                .push_bind(cursor.score)
                .push(" AND (score < ")
                .push_bind(cursor.score)
                .push(" OR id > ")
                .push_bind(cursor.id.0)
                .push(")");
        } else {
            query
                .push("(created_at, id) > (")
                .push_bind(to_micros(cursor.created_at))
                .push(", ")
                .push_bind(cursor.id.0)
                .push(")");
        }
    }
    query.push(if by_score {
        " ORDER BY score DESC, id ASC LIMIT "
    } else {
        " ORDER BY created_at ASC, id ASC LIMIT "
    });
    query.push_bind(i64::from(page.clamped_limit()) + 1);
    Ok(query)
}

/// `WHERE` before the first condition, `AND` before the others.
#[derive(Debug, Default)]
struct Glue {
    started: bool,
}

impl Glue {
    fn next(&mut self) -> &'static str {
        if std::mem::replace(&mut self.started, true) {
            " AND "
        } else {
            " WHERE "
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(feature = "sqlite", feature = "postgres"))]
    #[test]
    fn every_fixed_read_selects_the_review_columns() {
        for statement in [
            SELECT_REVIEW,
            LOCK_REVIEW,
            PENDING_FOR_SUBJECT,
            LOCK_PENDING_FOR_SUBJECT,
            NEWEST_FOR_SUBJECT,
        ] {
            assert!(statement.starts_with(SELECT_REVIEWS), "{statement}");
        }
        assert_eq!(LOCK_REVIEW, format!("{SELECT_REVIEW}{FOR_UPDATE}"));
        assert_eq!(
            LOCK_PENDING_FOR_SUBJECT,
            format!("{PENDING_FOR_SUBJECT}{FOR_UPDATE}")
        );
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn lists_are_placeholders_only() {
        let ids = [ReviewId(3), ReviewId(1)];
        let sql = select_ids::<sqlx::Sqlite>(&ids).into_string();
        assert!(sql.ends_with("WHERE id IN (?, ?) ORDER BY id"), "{sql}");
        let filter = ReviewFilter {
            reason: Some("x'; DROP TABLE review_items; --".to_owned()),
            ..ReviewFilter::pending()
        };
        let page = ReviewPageRequest::first(ReviewSort::Oldest, 10);
        let sql = list::<sqlx::Sqlite>(&filter, &page)
            .map(QueryBuilder::into_string)
            .unwrap_or_default();
        assert!(!sql.contains("DROP"), "{sql}");
        assert!(sql.contains("WHERE status = ? AND EXISTS"), "{sql}");
        assert!(sql.ends_with("LIMIT ?"), "{sql}");
    }
}
