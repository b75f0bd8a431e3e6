//! moderation-core's `ReviewedObjectStore` for [`PgStore`]: the steps of
//! the object and review ports, run together in one transaction.
//!
//! The transitions run first, so every step that decides a change locks its review item (`FOR UPDATE`) before the entry and record, in whichever port it started: two decisions on one change never wait for each other in opposite orders.

use async_trait::async_trait;
use moderation_core::ModerationError;
use moderation_core::workflow::{ObjectWrite, ReviewWrites, ReviewedObjectStore, ReviewedWrite};
use sqlx::PgConnection;

use super::{PgStore, objects, review};
use crate::objects::{EncodedWrite, encode_writes};

#[async_trait]
impl ReviewedObjectStore for PgStore {
    #[tracing::instrument(level = "debug", skip_all, fields(backend = "postgres", count = writes.len()))]
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
    conn: &mut PgConnection,
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
