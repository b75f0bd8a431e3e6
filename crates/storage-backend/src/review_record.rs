//! Conversions between the review queue's types and the column values both
//! SQL backends store (text keys, JSON text, integer microseconds). Writes
//! are encoded and checked here before any SQL runs; reads are decoded
//! here, so a value this library did not write is a typed error naming its
//! column.

use chrono::{DateTime, Utc};
use moderation_core::{
    AuthorKey, Kind, ModerationError, NewReview, ReviewEvent, ReviewHistoryEntry, ReviewId,
    ReviewItem, ReviewReason, ReviewStatus, ReviewSubject, UserId,
};

use crate::error::StorageError;
use crate::json::{self, JsonColumn};
use crate::record::{author_key, to_micros};

/// One `review_items` row as read, in
/// [`SELECT_REVIEWS`](crate::review_sql::SELECT_REVIEWS)'s column order.
pub(crate) type ReviewRow = (
    i64,
    String,
    String,
    Option<String>,
    JsonColumn,
    i64,
    String,
    i32,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    i64,
);

/// One `review_history` row as read, in
/// [`HISTORY_FOR_REVIEW`](crate::review_sql::HISTORY_FOR_REVIEW)'s column order.
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

/// A [`NewReview`] as the values
/// [`INSERT_REVIEW`](crate::review_sql::INSERT_REVIEW) binds, in its order,
/// for the item the review opens as.
#[derive(Debug)]
pub(crate) struct EncodedReview {
    pub(crate) subject_key: String,
    pub(crate) kind: String,
    pub(crate) author_key: Option<String>,
    pub(crate) reasons: JsonColumn,
    pub(crate) score: i64,
    pub(crate) priority: i32,
    pub(crate) created_at: i64,
}

impl EncodedReview {
    /// Checks `review` and encodes `item`, the pending item it opens as.
    ///
    /// # Errors
    /// [`ModerationError::InvalidSubject`] or [`ModerationError::InvalidId`]
    /// for a review that would not read back as itself.
    pub(crate) fn new(review: &NewReview, item: &ReviewItem) -> Result<Self, ModerationError> {
        review.validate()?;
        Ok(Self {
            subject_key: item.subject.key(),
            kind: item.kind.as_str().to_owned(),
            author_key: item.author.as_ref().map(author_key).transpose()?,
            reasons: encode_reasons(&item.reasons)?,
            score: item.score,
            priority: item.priority,
            created_at: to_micros(item.created_at),
        })
    }
}

/// The reasons as stored: a JSON array.
pub(crate) fn encode_reasons(reasons: &[ReviewReason]) -> Result<JsonColumn, ModerationError> {
    Ok(json::encode(reasons)?)
}

/// The distinct codes of `reasons`, as the reason filter's table keeps them.
pub(crate) fn reason_codes(reasons: &[ReviewReason]) -> Vec<String> {
    let codes: std::collections::BTreeSet<&str> =
        reasons.iter().map(|reason| reason.code.as_str()).collect();
    codes.into_iter().map(str::to_owned).collect()
}

/// The mutable columns of an item, as
/// [`save_states`](crate::review_sql::save_states) writes them, with the
/// version the row must still have (`expected`) for the write to apply.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) id: i64,
    pub(crate) expected: i64,
    pub(crate) reasons: JsonColumn,
    pub(crate) score: i64,
    pub(crate) status: String,
    pub(crate) priority: i32,
    pub(crate) updated_at: i64,
    pub(crate) claimed_by: Option<String>,
    pub(crate) claim_expires_at: Option<i64>,
    pub(crate) version: i64,
}

impl State {
    /// `item` as written over a row read at version `expected`.
    pub(crate) fn of(item: &ReviewItem, expected: i64) -> Result<Self, ModerationError> {
        Ok(Self {
            id: item.id.0,
            expected,
            reasons: encode_reasons(&item.reasons)?,
            score: item.score,
            status: item.status.as_str().to_owned(),
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

fn decode_time(column: &'static str, micros: i64) -> Result<DateTime<Utc>, ModerationError> {
    Ok(crate::record::from_micros(column, micros)?)
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
        subject: ReviewSubject::from_key(&subject_key).map_err(|e| corrupt("subject_key", &e))?,
        kind: Kind::new(kind).map_err(|e| corrupt("kind", &e))?,
        author: author.as_deref().map(decode_author).transpose()?,
        reasons: json::decode("reasons", &reasons)?,
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

/// Decodes review rows, in their order.
pub(crate) fn decode_reviews(rows: Vec<ReviewRow>) -> Result<Vec<ReviewItem>, ModerationError> {
    rows.into_iter().map(decode_review).collect()
}

/// Decodes a history row; an unreadable value names its column.
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
