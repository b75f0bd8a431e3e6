//! Whole days elapsed since a parent's date field (SPEC B2-B4).

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::Value;

use crate::error::ModerationError;
use crate::rule::RuleContext;
use crate::submission::ParentObject;

/// Whole days (floored) from the parent's `field` to `now`.
///
/// - `Ok(None)`: the field is null (the option does not apply: open).
/// - A date-only value (`YYYY-MM-DD`) compares as a date with `now`'s UTC date.
/// - An RFC 3339 timestamp compares as an instant.
///
/// # Errors
/// [`ModerationError::FutureDate`] when the date lies after now;
/// [`ModerationError::InvalidField`] when the field is missing or not a date.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use moderation_core::{Kind, ObjectRef, ParentObject, rules::whole_days_elapsed};
/// let parent = ParentObject {
///     object: ObjectRef::new(Kind::new("blog.entry")?, 1_i64),
///     payload: serde_json::json!({"pub_date": "2024-01-01T12:00:00Z"}),
/// };
/// let now = Utc.with_ymd_and_hms(2024, 1, 8, 11, 59, 59).unwrap();
/// assert_eq!(whole_days_elapsed(&parent, "pub_date", now)?, Some(6));
/// # Ok::<(), moderation_core::ModerationError>(())
/// ```
pub fn whole_days_elapsed(
    parent: &ParentObject,
    field: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, ModerationError> {
    let invalid = |problem: &str| ModerationError::InvalidField {
        field: field.to_owned(),
        problem: problem.to_owned(),
    };
    let text = match parent.field(field) {
        None => return Err(invalid("the field is missing")),
        Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => text.as_str(),
        Some(_) => return Err(invalid("expected a date string or null")),
    };
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let today = now.date_naive();
        if date > today {
            return Err(ModerationError::FutureDate {
                field: field.to_owned(),
                date: date.and_time(chrono::NaiveTime::MIN).and_utc(),
                now,
            });
        }
        return Ok(Some((today - date).num_days()));
    }
    let at = DateTime::parse_from_rfc3339(text)
        .map_err(|_| invalid("expected `YYYY-MM-DD` or an RFC 3339 timestamp"))?
        .with_timezone(&Utc);
    if at > now {
        return Err(ModerationError::FutureDate {
            field: field.to_owned(),
            date: at,
            now,
        });
    }
    // Non-negative here, so truncation is the floor.
    Ok(Some((now - at).num_days()))
}

/// The whole days elapsed since the parent's `field` when they have reached
/// `days`, else `None` (no parent, a null date, or too few days): the shared
/// arithmetic of close-after (B2) and moderate-after (B3), which differ only
/// in what they decide.
pub(crate) fn days_reached(
    ctx: &RuleContext<'_>,
    field: &str,
    days: u32,
) -> Result<Option<i64>, ModerationError> {
    let Some(parent) = &ctx.submission.parent else {
        return Ok(None);
    };
    let Some(elapsed) = whole_days_elapsed(parent, field, ctx.now)? else {
        return Ok(None);
    };
    Ok((elapsed >= i64::from(days)).then_some(elapsed))
}
