//! Many item status changes in one statement.
//!
//! A batch of approvals (`ModerationStore::change_statuses`) used to run
//! one `UPDATE` per item inside its transaction, each a round trip to the
//! database. Here the whole batch is one statement reading a JSON array:
//! on SQLite an `UPDATE ... FROM jsonb_each(jsonb(...))` (the array read
//! once into SQLite's binary JSON, so each `->>` reads a value in place
//! instead of parsing text again) whose matched items carry their log
//! entries in `pending_log`, as binary JSON too, to the triggers of
//! migrations 000007, 000009 and 000011; on PostgreSQL an `UPDATE ... FROM
//! jsonb_to_recordset(...)` with the log rows inserted by a data-modifying
//! CTE, as for a single change.
//!
//! A stale version matches no row, so the statement returns fewer items
//! than it was given; the caller then rolls the transaction back and
//! replays the batch one change at a time, which names the conflict.

use std::collections::HashMap;

use moderation_core::{ModerationError, StatusChange, StoredItem};

use crate::record::{EncodedLog, ItemRow};

/// The log values in `pending_log` order: action, actor, reason, detail,
/// ip, from_status, to_status, bulk_id, at.
type CarriedLog<'a> = (
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    i64,
);

/// One change as the batch statements read it.
#[derive(serde::Serialize)]
struct CarriedChange<'a> {
    id: i64,
    expected: i64,
    status: &'a str,
    updated_at: i64,
    log: CarriedLog<'a>,
}

/// The JSON array of `changes` for the batch statements
/// (`sql::sqlite::CHANGE_STATUSES_CARRYING`,
/// `sql::postgres::CHANGE_STATUSES_CARRYING`): one object per change with
/// its item `id`, `expected` version, new `status`, `updated_at` and `log`,
/// the `pending_log` array of SQLite's single statement.
///
/// # Errors
/// `Serde` when a log entry's detail does not serialise.
pub(crate) fn changes(changes: &[StatusChange]) -> Result<String, ModerationError> {
    let logs = changes
        .iter()
        .map(|change| EncodedLog::new(&change.log))
        .collect::<Result<Vec<_>, _>>()?;
    let carried: Vec<CarriedChange<'_>> = changes
        .iter()
        .zip(&logs)
        .map(|(change, log)| CarriedChange {
            id: change.item.0,
            expected: change.expected_version,
            status: change.status.as_str(),
            updated_at: log.at,
            log: (
                log.action,
                log.actor.as_deref(),
                log.reason.as_deref(),
                log.detail.as_str(),
                log.ip.as_deref(),
                log.from_status,
                log.to_status,
                log.bulk.as_deref(),
                log.at,
            ),
        })
        .collect();
    Ok(serde_json::to_string(&carried)?)
}

/// The changed items in the order of `changes`, or `None` when some change
/// matched no row (a stale version, a missing item or a repeated id).
///
/// # Errors
/// A row that does not decode.
pub(crate) fn in_input_order(
    rows: Vec<ItemRow>,
    changes: &[StatusChange],
) -> Result<Option<Vec<StoredItem>>, ModerationError> {
    if rows.len() != changes.len() {
        return Ok(None);
    }
    let mut by_id = rows
        .into_iter()
        .map(|row| row.decode().map(|item| (item.id, item)))
        .collect::<Result<HashMap<_, _>, _>>()?;
    Ok(changes
        .iter()
        .map(|change| by_id.remove(&change.item))
        .collect())
}
