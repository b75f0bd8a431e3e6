//! moderation-core's `HeldItemStore` for [`PgStore`]: the steps of the
//! item and review ports, run together in one transaction.
//!
//! Both decisions lock the review item before the submission (the queue's
//! transition reads it `FOR UPDATE`; a direct decision reads the pending
//! item `FOR UPDATE` before it changes the submission), so two of them on
//! the same submission never wait for each other in opposite orders.

use async_trait::async_trait;
use moderation_core::{
    Decided, HeldItemStore, ItemId, ModerationError, NewItem, NewLogEntry, Opened, ReviewClose,
    ReviewDraft, ReviewItem, ReviewSubject, ReviewTransition, StatusChange, StoredItem,
    submission_effect,
};
use sqlx::PgConnection;

use super::{PgStore, items, review};
use crate::record::{Change, ItemRow, Submission, db};
use crate::sql;

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

/// Applies queue decisions and what they do to held submissions.
pub(crate) async fn decide_held(
    conn: &mut PgConnection,
    transitions: Vec<ReviewTransition>,
) -> Result<Vec<Decided>, ModerationError> {
    let reviews = review::transition_batch(conn, transitions.clone()).await?;
    let mut decided = Vec::with_capacity(reviews.len());
    for (transition, review) in transitions.iter().zip(reviews) {
        let mut item = None;
        if let Some((id, effect)) = submission_effect(transition, &review) {
            let stored = read_item(conn, id).await?;
            if let Some(change) = effect.change_for(&stored) {
                item = Some(items::change_status(conn, Change::new(&change)?).await?);
            }
        }
        decided.push(Decided { review, item });
    }
    Ok(decided)
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

/// Submission `id` as stored; [`ModerationError::NotFound`] when it is gone.
async fn read_item(conn: &mut PgConnection, id: ItemId) -> Result<StoredItem, ModerationError> {
    let row: Option<ItemRow> = sqlx::query_as(sql::SELECT_ITEM)
        .bind(id.0)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db)?;
    row.ok_or(ModerationError::NotFound { item: id })?.decode()
}
