//! moderation-core's `ReviewStore` for [`SqliteStore`]: the review queue
//! lives in the `review_*` tables of the same file. Writes go through the
//! store's one writer, whose `BEGIN IMMEDIATE` transaction is the lock every
//! read-check-write relies on; reads go through its readers.
//!
//! Each write step is a function on a `SqliteConnection` inside a
//! transaction it does not own, so steps of several ports can share one
//! transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use moderation_core::{
    Claim, ModerationError, NewReview, Opened, ReviewCursor, ReviewFilter, ReviewHistoryEntry,
    ReviewId, ReviewItem, ReviewPage, ReviewPageRequest, ReviewSort, ReviewStore, ReviewSubject,
    ReviewTransition, UserId,
};
use sqlx::{Sqlite, SqliteConnection};

use super::SqliteStore;
use crate::error::StorageError;
use crate::review::{self, Change, PendingItemVanished, Save};
use crate::review_record::{self, EncodedReview, HistoryRow, ReviewRow};
use crate::review_sql::{self, REVIEW_BATCH_ROWS};

#[async_trait]
impl ReviewStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", subject = %review.subject))]
    async fn open(&self, review: NewReview) -> Result<Opened, ModerationError> {
        // Checked before the write queue, so bad input never waits for the writer.
        review.validate()?;
        self.write(move |conn| Box::pin(open(conn, review))).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", review = id.0))]
    async fn review(&self, id: ReviewId) -> Result<Option<ReviewItem>, ModerationError> {
        let mut conn = self.reader().await?;
        let row: Option<ReviewRow> = sqlx::query_as(review_sql::SELECT_REVIEW)
            .bind(id.0)
            .fetch_optional(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        row.map(review_record::decode_review).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", count = ids.len()))]
    async fn reviews(&self, ids: &[ReviewId]) -> Result<Vec<ReviewItem>, ModerationError> {
        let mut conn = self.reader().await?;
        let mut items = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(REVIEW_BATCH_ROWS) {
            let rows: Vec<ReviewRow> = review_sql::select_ids::<Sqlite>(chunk)
                .build_query_as()
                .fetch_all(&mut *conn)
                .await
                .map_err(StorageError::from)?;
            for row in rows {
                items.push(review_record::decode_review(row)?);
            }
        }
        Ok(items)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", subject = %subject))]
    async fn review_for_subject(
        &self,
        subject: &ReviewSubject,
    ) -> Result<Option<ReviewItem>, ModerationError> {
        let mut conn = self.reader().await?;
        let row: Option<ReviewRow> = sqlx::query_as(review_sql::NEWEST_FOR_SUBJECT)
            .bind(subject.key())
            .fetch_optional(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        row.map(review_record::decode_review).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", count = subjects.len()))]
    async fn reviews_for_subjects(
        &self,
        subjects: &[ReviewSubject],
    ) -> Result<Vec<ReviewItem>, ModerationError> {
        let keys = review::subject_keys(subjects);
        let mut found = Vec::with_capacity(keys.len());
        let mut conn = self.reader().await?;
        for chunk in keys.chunks(REVIEW_BATCH_ROWS) {
            let rows: Vec<ReviewRow> = review_sql::newest_for_subjects::<Sqlite>(chunk)
                .build_query_as()
                .fetch_all(&mut *conn)
                .await
                .map_err(StorageError::from)?;
            found.extend(review_record::decode_reviews(rows)?);
        }
        Ok(found)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", limit = page.clamped_limit()))]
    async fn list(
        &self,
        filter: &ReviewFilter,
        page: &ReviewPageRequest,
    ) -> Result<ReviewPage, ModerationError> {
        let mut query = review_sql::list::<Sqlite>(filter, page)?;
        let mut conn = self.reader().await?;
        let rows: Vec<ReviewRow> = query
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        review::page_of(review_record::decode_reviews(rows)?, page)
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", review = wanted.review.0))]
    async fn claim(&self, wanted: Claim) -> Result<ReviewItem, ModerationError> {
        self.write(move |conn| Box::pin(claim(conn, wanted))).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", review = review.0))]
    async fn release(
        &self,
        review: ReviewId,
        by: &UserId,
        at: DateTime<Utc>,
    ) -> Result<ReviewItem, ModerationError> {
        let by = by.clone();
        self.write(move |conn| Box::pin(release(conn, review, by, at)))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", review = change.review.0))]
    async fn transition(&self, change: ReviewTransition) -> Result<ReviewItem, ModerationError> {
        self.write(move |conn| Box::pin(transition(conn, change)))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", count = transitions.len()))]
    async fn transition_batch(
        &self,
        transitions: Vec<ReviewTransition>,
    ) -> Result<Vec<ReviewItem>, ModerationError> {
        if transitions.is_empty() {
            return Ok(Vec::new());
        }
        self.write(move |conn| Box::pin(transition_batch(conn, transitions)))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", review = review.0))]
    async fn history(&self, review: ReviewId) -> Result<Vec<ReviewHistoryEntry>, ModerationError> {
        let mut conn = self.reader().await?;
        let rows: Vec<HistoryRow> = sqlx::query_as(review_sql::HISTORY_FOR_REVIEW)
            .bind(review.0)
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        rows.into_iter()
            .map(review_record::decode_history)
            .collect()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", limit))]
    async fn stale(
        &self,
        before: DateTime<Utc>,
        after: Option<ReviewCursor>,
        limit: u32,
    ) -> Result<Vec<ReviewItem>, ModerationError> {
        let filter = ReviewFilter {
            created_before: Some(before),
            ..ReviewFilter::pending()
        };
        let page = ReviewPageRequest {
            sort: ReviewSort::Oldest,
            after,
            limit,
        };
        Ok(self.list(&filter, &page).await?.items)
    }
}

/// Opens a pending item for `review`'s subject, or merges `review` into the
/// subject's pending item (reasons by code, the larger priority, version
/// plus one); records the `open` or `merge` step and the reason codes.
pub(crate) async fn open(
    conn: &mut SqliteConnection,
    review: NewReview,
) -> Result<Opened, ModerationError> {
    let template = review.clone().into_item(ReviewId(0));
    let encoded = EncodedReview::new(&review, &template)?;
    if let Some(pending) = read_pending(conn, &encoded.subject_key).await? {
        return merge(conn, pending, &review).await;
    }
    let inserted: Option<i64> = sqlx::query_scalar(review_sql::INSERT_REVIEW)
        .bind(encoded.subject_key.as_str())
        .bind(encoded.kind)
        .bind(encoded.author_key)
        .bind(encoded.reasons)
        .bind(encoded.score)
        .bind(encoded.priority)
        .bind(encoded.created_at)
        .fetch_optional(&mut *conn)
        .await
        .map_err(StorageError::from)?;
    let Some(id) = inserted else {
        // Unreachable with one writer, which read no pending item above;
        // kept so that the step stays right inside any transaction.
        let pending =
            read_pending(conn, &encoded.subject_key)
                .await?
                .ok_or(PendingItemVanished {
                    subject: encoded.subject_key,
                })?;
        return merge(conn, pending, &review).await;
    };
    let item = ReviewItem {
        id: ReviewId(id),
        ..template
    };
    insert_codes(conn, item.id, &review_record::reason_codes(&item.reasons)).await?;
    insert_history(conn, &[review::open_step(&item)]).await?;
    Ok(Opened {
        item,
        created: true,
    })
}

/// Takes (or renews) `claim` on its pending item; records a `claim` step.
pub(crate) async fn claim(
    conn: &mut SqliteConnection,
    claim: Claim,
) -> Result<ReviewItem, ModerationError> {
    let before = read_one(conn, claim.review).await?;
    let change = review::claimed(&claim, before)?;
    write_change(conn, change).await
}

/// Releases `by`'s claim on `review` at `at`; records a `release` step. No
/// claim: the item as it is, nothing written.
pub(crate) async fn release(
    conn: &mut SqliteConnection,
    review: ReviewId,
    by: UserId,
    at: DateTime<Utc>,
) -> Result<ReviewItem, ModerationError> {
    let before = read_one(conn, review).await?;
    match review::release(&before, &by, at)? {
        Some(change) => write_change(conn, change).await,
        None => Ok(before),
    }
}

/// Applies one version-checked transition: the new state, its history step
/// and its moderation-log entry.
pub(crate) async fn transition(
    conn: &mut SqliteConnection,
    transition: ReviewTransition,
) -> Result<ReviewItem, ModerationError> {
    let before = read_one(conn, transition.review).await?;
    let (change, entry) = review::decided(&transition, before)?;
    let item = write_change(conn, change).await?;
    crate::modlog::sqlite_append(conn, &entry).await?;
    Ok(item)
}

/// Applies `transitions` in order, all or nothing: every row is read (one
/// statement per 500 items) and every transition decided before anything is
/// written; then the states, the history steps and the moderation-log
/// entries.
pub(crate) async fn transition_batch(
    conn: &mut SqliteConnection,
    transitions: Vec<ReviewTransition>,
) -> Result<Vec<ReviewItem>, ModerationError> {
    let ids = review::named_ids(&transitions);
    let mut stored = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(REVIEW_BATCH_ROWS) {
        let rows: Vec<ReviewRow> = review_sql::select_ids::<Sqlite>(chunk)
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        stored.extend(review_record::decode_reviews(rows)?);
    }
    let decided = review::decided_batch(&transitions, stored)?;
    let log = crate::modlog::LogRow::all(&decided.entries)?;
    save(conn, &decided.saves).await?;
    insert_history(conn, &decided.steps).await?;
    crate::modlog::sqlite_insert_all(conn, &log).await?;
    Ok(decided.applied)
}

/// Merges `review` into `pending`, the subject's pending item as read.
async fn merge(
    conn: &mut SqliteConnection,
    pending: ReviewItem,
    review: &NewReview,
) -> Result<Opened, ModerationError> {
    let change = review::merged(pending, review);
    insert_codes(
        conn,
        change.save.item.id,
        &review_record::reason_codes(&review.reasons),
    )
    .await?;
    let item = write_change(conn, change).await?;
    Ok(Opened {
        item,
        created: false,
    })
}

/// The pending item of subject `key`.
pub(crate) async fn read_pending(
    conn: &mut SqliteConnection,
    key: &str,
) -> Result<Option<ReviewItem>, ModerationError> {
    let row: Option<ReviewRow> = sqlx::query_as(review_sql::PENDING_FOR_SUBJECT)
        .bind(key)
        .fetch_optional(&mut *conn)
        .await
        .map_err(StorageError::from)?;
    row.map(review_record::decode_review).transpose()
}

/// Item `id` as stored; [`ModerationError::ReviewNotFound`] when there is none.
async fn read_one(
    conn: &mut SqliteConnection,
    id: ReviewId,
) -> Result<ReviewItem, ModerationError> {
    let row: Option<ReviewRow> = sqlx::query_as(review_sql::SELECT_REVIEW)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(StorageError::from)?;
    let row = row.ok_or(ModerationError::ReviewNotFound { review: id })?;
    review_record::decode_review(row)
}

/// Writes one change (state and step); returns the item as written.
async fn write_change(
    conn: &mut SqliteConnection,
    change: Change,
) -> Result<ReviewItem, ModerationError> {
    save(conn, std::slice::from_ref(&change.save)).await?;
    insert_history(conn, std::slice::from_ref(&change.step)).await?;
    Ok(change.save.item)
}

/// Writes the states of `saves`, one statement per 500, each over the
/// version it was decided on. A row whose version moved anyway is
/// [`ModerationError::ReviewConflict`] naming it (the caller's transaction
/// then rolls back).
async fn save(conn: &mut SqliteConnection, saves: &[Save]) -> Result<(), ModerationError> {
    for chunk in saves.chunks(REVIEW_BATCH_ROWS) {
        let states = chunk
            .iter()
            .map(Save::state)
            .collect::<Result<Vec<_>, _>>()?;
        let written: Vec<i64> = review_sql::save_states::<Sqlite>(states)
            .build_query_scalar()
            .fetch_all(&mut *conn)
            .await
            .map_err(StorageError::from)?;
        if let Some(moved) = review::first_unwritten(chunk, &written) {
            let actual: Option<i64> = sqlx::query_scalar(review_sql::VERSION_OF_REVIEW)
                .bind(moved.item.id.0)
                .fetch_optional(&mut *conn)
                .await
                .map_err(StorageError::from)?;
            return Err(review::version_moved(moved, actual));
        }
    }
    Ok(())
}

/// Appends history steps, one statement per 500.
async fn insert_history(
    conn: &mut SqliteConnection,
    steps: &[ReviewHistoryEntry],
) -> Result<(), ModerationError> {
    for chunk in steps.chunks(REVIEW_BATCH_ROWS) {
        review_sql::insert_history::<Sqlite>(chunk)
            .build()
            .execute(&mut *conn)
            .await
            .map_err(StorageError::from)?;
    }
    Ok(())
}

/// Records `codes` as reason codes of `review`, one statement per 500.
async fn insert_codes(
    conn: &mut SqliteConnection,
    review: ReviewId,
    codes: &[String],
) -> Result<(), ModerationError> {
    for chunk in codes.chunks(REVIEW_BATCH_ROWS) {
        review_sql::insert_codes::<Sqlite>(review, chunk)
            .build()
            .execute(&mut *conn)
            .await
            .map_err(StorageError::from)?;
    }
    Ok(())
}
