//! Conversions between the review queue's types and their columns.

use moderation_core::{
    AuthorKey, Kind, ModerationError, NewReview, ReviewEvent, ReviewHistoryEntry, ReviewId,
    ReviewItem, ReviewReason, ReviewStatus, ReviewSubject, UserId,
};

use crate::bans::decode_time;
use crate::error::StorageError;
use crate::record::{author_key, to_micros};

/// One `review_items` row as read, in `review_columns!` order.
pub(crate) type ReviewRow = (
    i64,
    String,
    String,
    Option<String>,
    String,
    i64,
    String,
    i32,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    i64,
);

/// One `review_history` row as read, in `history_columns!` order.
pub(crate) type HistoryRow = (
    i64,
    i64,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

/// A [`NewReview`] as column values, checked before any SQL runs.
#[derive(Debug)]
pub(crate) struct EncodedReview {
    pub(crate) subject_key: String,
    pub(crate) author_key: Option<String>,
}

impl EncodedReview {
    pub(crate) fn new(review: &NewReview) -> Result<Self, ModerationError> {
        review.validate()?;
        Ok(Self {
            subject_key: review.subject.key(),
            author_key: review.author.as_ref().map(author_key).transpose()?,
        })
    }
}

/// The reasons as stored JSON.
pub(crate) fn encode_reasons(reasons: &[ReviewReason]) -> Result<String, ModerationError> {
    Ok(serde_json::to_string(reasons)?)
}

/// The mutable columns of `item`, in `save_states` order after the id.
pub(crate) struct ItemState {
    pub(crate) id: i64,
    pub(crate) reasons: String,
    pub(crate) score: i64,
    pub(crate) status: &'static str,
    pub(crate) priority: i32,
    pub(crate) updated_at: i64,
    pub(crate) claimed_by: Option<String>,
    pub(crate) claim_expires_at: Option<i64>,
    pub(crate) version: i64,
}

impl ItemState {
    pub(crate) fn of(item: &ReviewItem) -> Result<Self, ModerationError> {
        Ok(Self {
            id: item.id.0,
            reasons: encode_reasons(&item.reasons)?,
            score: item.score,
            status: item.status.as_str(),
            priority: item.priority,
            updated_at: to_micros(item.updated_at),
            claimed_by: item
                .claimed_by
                .as_ref()
                .map(|user| user.as_str().to_owned()),
            claim_expires_at: item.claim_expires_at.map(to_micros),
            version: item.version,
        })
    }
}

fn corrupt(column: &'static str, problem: &dyn std::fmt::Display) -> ModerationError {
    StorageError::corrupt(column, problem).into()
}

fn decode_status(column: &'static str, text: &str) -> Result<ReviewStatus, ModerationError> {
    ReviewStatus::parse(text).ok_or_else(|| corrupt(column, &format!("unknown status `{text}`")))
}

fn decode_user(
    column: &'static str,
    text: Option<String>,
) -> Result<Option<UserId>, ModerationError> {
    text.map(|text| UserId::new(text).map_err(|e| corrupt(column, &e)))
        .transpose()
}

fn decode_author(text: &str) -> Result<AuthorKey, ModerationError> {
    let parsed = match text.split_once(':') {
        Some(("u", id)) => UserId::new(id).ok().map(AuthorKey::User),
        Some(("e", identity)) => Some(AuthorKey::Identity(identity.to_owned())),
        _ => None,
    };
    parsed.ok_or_else(|| corrupt("author_key", &format!("unreadable author `{text}`")))
}

/// Decodes a review row; an unreadable value names its column.
pub(crate) fn decode_review(row: ReviewRow) -> Result<ReviewItem, ModerationError> {
    let (
        id,
        subject_key,
        kind,
        author,
        reasons,
        score,
        status,
        priority,
        created_at,
        updated_at,
        claimed_by,
        claim_expires_at,
        version,
    ) = row;
    Ok(ReviewItem {
        id: ReviewId(id),
        subject: ReviewSubject::from_key(&subject_key)?,
        kind: Kind::new(kind)?,
        author: author.as_deref().map(decode_author).transpose()?,
        reasons: serde_json::from_str(&reasons).map_err(|e| corrupt("reasons", &e))?,
        score,
        status: decode_status("status", &status)?,
        priority,
        created_at: decode_time("created_at", created_at)?,
        updated_at: decode_time("updated_at", updated_at)?,
        claimed_by: decode_user("claimed_by", claimed_by)?,
        claim_expires_at: claim_expires_at
            .map(|micros| decode_time("claim_expires_at", micros))
            .transpose()?,
        version,
    })
}

/// Decodes a history row.
pub(crate) fn decode_history(row: HistoryRow) -> Result<ReviewHistoryEntry, ModerationError> {
    let (id, review, event, actor, from_status, to_status, reason, message, bulk, at) = row;
    Ok(ReviewHistoryEntry {
        id,
        review: ReviewId(review),
        event: ReviewEvent::parse(&event)
            .ok_or_else(|| corrupt("event", &format!("unknown event `{event}`")))?,
        actor: decode_user("actor", actor)?,
        from_status: from_status
            .map(|text| decode_status("from_status", &text))
            .transpose()?,
        to_status: decode_status("to_status", &to_status)?,
        reason,
        message,
        bulk: bulk
            .map(|text| uuid::Uuid::parse_str(&text).map_err(|e| corrupt("bulk_id", &e)))
            .transpose()?,
        at: decode_time("at", at)?,
    })
}
