//! moderation-core's `ReviewedObjectStore` for [`SqliteStore`]: the steps of
//! the object and review ports, run together in one transaction.
//!
//! The writer's `BEGIN IMMEDIATE` transaction is the lock: no other write runs between the steps.

use async_trait::async_trait;
use moderation_core::ModerationError;
use moderation_core::workflow::{ObjectWrite, ReviewWrites, ReviewedObjectStore, ReviewedWrite};
use sqlx::SqliteConnection;

use super::{SqliteStore, objects, review};
use crate::objects::{EncodedWrite, encode_writes};

#[async_trait]
impl ReviewedObjectStore for SqliteStore {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "sqlite", count = writes.len()))]
    async fn apply_reviewed(
        &self,
        writes: Vec<ObjectWrite>,
        reviews: ReviewWrites,
    ) -> Result<ReviewedWrite, ModerationError> {
        // Every value is encoded and checked before the transaction opens.
        let writes = encode_writes(writes, self.limits())?;
        for review in &reviews.open {
            review.validate()?;
        }
        self.write(move |conn| Box::pin(apply_reviewed(conn, writes, reviews)))
            .await
    }
}

/// Commits the review transitions, then the object writes, then opens the
/// review items; the first refusal stops it (the caller's transaction then
/// keeps nothing of it).
pub(crate) async fn apply_reviewed(
    conn: &mut SqliteConnection,
    writes: Vec<EncodedWrite>,
    reviews: ReviewWrites,
) -> Result<ReviewedWrite, ModerationError> {
    let transitioned = if reviews.transitions.is_empty() {
        Vec::new()
    } else {
        review::transition_batch(conn, reviews.transitions).await?
    };
    let objects = if writes.is_empty() {
        Vec::new()
    } else {
        objects::apply(conn, writes).await?
    };
    let mut opened = Vec::with_capacity(reviews.open.len());
    for item in reviews.open {
        opened.push(review::open(conn, item).await?);
    }
    Ok(ReviewedWrite {
        objects,
        opened,
        transitioned,
    })
}
