//! moderation-core's `HeldItemStore` for [`PgStore`]: the steps of the
//! item and review ports, run together in one transaction.
//!
//! Both decisions lock the review item before the submission (the queue's
//! transition reads it `FOR UPDATE`; a direct decision reads the pending
//! item `FOR UPDATE` before it changes the submission), so two of them on
//! the same submission never wait for each other in opposite orders.

use async_trait::async_trait;
use std::collections::HashMap;

use moderation_core::{
    Decided, HeldItemStore, ItemId, ModerationError, NewItem, NewLogEntry, Opened, ReviewClose,
    ReviewDraft, ReviewItem, ReviewSubject, ReviewTransition, StatusChange, StoredItem,
    decided_submissions, decisions_with_items, submission_changes,
};
use sqlx::{PgConnection, Postgres};

use super::{PgStore, items, review};
use crate::record::{Change, ItemRow, Submission, db, decode_items};
use crate::sql::{self, BATCH_ROWS};

#[async_trait]
impl HeldItemStore for PgStore {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", kind = %item.object.kind))]
    async fn insert_held(
        &self,
        item: NewItem,
        log: NewLogEntry,
        draft: ReviewDraft,
    ) -> Result<(StoredItem, Opened), ModerationError> {
        let submission = Submission::new(item, &log, self.limits())?;
        self.write(move |conn| Box::pin(insert_held(conn, submission, draft)))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", count = transitions.len()))]
    async fn decide_held(
        &self,
        transitions: Vec<ReviewTransition>,
    ) -> Result<Vec<Decided>, ModerationError> {
        self.write(move |conn| Box::pin(decide_held(conn, transitions)))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", item = change.item.0))]
    async fn change_status_closing(
        &self,
        change: StatusChange,
        close: Option<ReviewClose>,
    ) -> Result<(StoredItem, Option<ReviewItem>), ModerationError> {
        let item = change.item;
        let change = Change::new(&change)?;
        self.write(move |conn| Box::pin(change_status_closing(conn, item, change, close)))
            .await
    }
}

/// Stores a held submission and opens its review item.
pub(crate) async fn insert_held(
    conn: &mut PgConnection,
    submission: Submission,
    draft: ReviewDraft,
) -> Result<(StoredItem, Opened), ModerationError> {
    let stored = items::insert_item(conn, submission).await?;
    let opened = review::open(conn, draft.for_item(&stored)).await?;
    Ok((stored, opened))
}

/// Applies queue decisions and what they do to held submissions: the
/// submissions are read in one query per [`BATCH_ROWS`] and changed with
/// one update per run of distinct items.
pub(crate) async fn decide_held(
    conn: &mut PgConnection,
    transitions: Vec<ReviewTransition>,
) -> Result<Vec<Decided>, ModerationError> {
    let reviews = review::transition_batch(conn, transitions.clone()).await?;
    let ids = decided_submissions(&transitions, &reviews);
    let mut stored = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(BATCH_ROWS) {
        let keys: Vec<i64> = chunk.iter().map(|id| id.0).collect();
        let rows: Vec<ItemRow> = sql::select_items::<Postgres>(&keys)
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(db)?;
        for item in decode_items(rows)? {
            stored.insert(item.id, item);
        }
    }
    let (positions, changes): (Vec<usize>, Vec<StatusChange>) =
        submission_changes(&transitions, &reviews, stored)?
            .into_iter()
            .unzip();
    let changes = Change::batch(&changes)?;
    let changed = items::change_statuses(conn, changes).await?;
    Ok(decisions_with_items(
        reviews,
        positions.into_iter().zip(changed).collect(),
    ))
}

/// Applies a direct decision and closes the submission's pending review
/// item, if it has one.
pub(crate) async fn change_status_closing(
    conn: &mut PgConnection,
    item: ItemId,
    change: Change,
    close: Option<ReviewClose>,
) -> Result<(StoredItem, Option<ReviewItem>), ModerationError> {
    let pending = match &close {
        Some(_) => review::read_pending(conn, &ReviewSubject::Submission(item).key()).await?,
        None => None,
    };
    let changed = items::change_status(conn, change).await?;
    let closed = match (close, pending) {
        (Some(close), Some(pending)) => {
            Some(review::transition(conn, close.transition_for(&pending)).await?)
        }
        _ => None,
    };
    Ok((changed, closed))
}
