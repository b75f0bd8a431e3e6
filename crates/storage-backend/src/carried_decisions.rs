//! Many workflow decisions in one statement.
//!
//! A bulk approve, reject or set-pending plans one write per entry: the
//! entry's own update, its record's update and its moderation-log rows
//! (see [`carrier`]). Run statement by statement, a batch of 100 decisions
//! costs 100 or more round trips to the database. Here the whole batch is
//! one statement reading a JSON array:
//!
//! - SQLite: `UPDATE ... FROM json_each(...)`; every matched entry carries
//!   the rest of its write to the triggers of migration 000010, as its
//!   single statement would.
//! - PostgreSQL: `UPDATE ... FROM jsonb_to_recordset(...)` on the entries,
//!   then data-modifying CTEs for the records and the log rows.
//!
//! Conflicts are found as before, only later: a stale entry matches no row,
//! a stale record matches no row (PostgreSQL) or aborts the statement from
//! a trigger (SQLite), so the statement applies fewer decisions than it was
//! given. The caller then rolls the transaction back and replays the batch
//! one write at a time, which reports the exact conflict.

use moderation_core::ModerationError;
use moderation_core::workflow::{EntryWrite, ObjectWrite, StoredWrite};

use crate::objects::{CarriedEntry, EncodedWrite, WriteCarrier};

/// SQLite's batch statement: `$1` is the JSON array [`decisions`] builds;
/// the rows it changes are the decisions applied.
///
/// The array is converted to SQLite's binary JSON once, so each decision
/// is a binary value that every `->>` reads in place. With `json_each`
/// every mention of `w.value` turned the decision back into text and every
/// `->>` parsed that text again: about two thirds of the statement's work.
/// The carried rest of each write reaches the triggers as binary JSON too.
#[cfg(feature = "sqlite")]
pub(crate) const UPDATE_ENTRIES_CARRYING: &str = "UPDATE moderation_entries SET \
     status = w.value ->> 'status', snapshot = w.value ->> 'snapshot', \
     submitted_by = w.value ->> 'submitted_by', submitted_at = w.value ->> 'submitted_at', \
     decided_by = w.value ->> 'decided_by', decided_at = w.value ->> 'decided_at', \
     reason = w.value ->> 'reason', version = version + 1, \
     pending_write = jsonb_extract(w.value, '$.carry') \
     FROM jsonb_each(jsonb($1)) AS w \
     WHERE moderation_entries.id = w.value ->> 'id' \
       AND moderation_entries.version = w.value ->> 'expected'";

/// PostgreSQL's batch statement: `$1` is the JSON array [`decisions`]
/// builds, as text; it returns one row per decision applied in full, entry
/// and record. A record named by two decisions of one batch is updated
/// once, so the count falls short and the batch is replayed.
#[cfg(feature = "postgres")]
pub(crate) const UPDATE_ENTRIES_WITH_RECORDS: &str = "WITH input AS (SELECT * FROM \
     jsonb_to_recordset($1::text::jsonb) AS x(id BIGINT, expected BIGINT, status TEXT, \
     snapshot TEXT, submitted_by TEXT, submitted_at BIGINT, decided_by TEXT, \
     decided_at BIGINT, reason TEXT, carry JSONB)), \
     entries AS (UPDATE moderation_entries AS e SET status = input.status, \
     snapshot = input.snapshot, submitted_by = input.submitted_by, \
     submitted_at = input.submitted_at, decided_by = input.decided_by, \
     decided_at = input.decided_at, reason = input.reason, version = e.version + 1 \
     FROM input WHERE e.id = input.id AND e.version = input.expected \
     RETURNING input.carry AS carry), \
     records AS (UPDATE moderated_objects AS o SET state = c.carry ->> 'state', \
     status = c.carry ->> 'status', decided_by = c.carry ->> 'decided_by', \
     decided_at = (c.carry ->> 'decided_at')::BIGINT, reason = c.carry ->> 'reason', \
     public_version = c.carry ->> 'public', approved_version = c.carry ->> 'approved', \
     current_version = c.carry ->> 'current', revision = (c.carry ->> 'revision')::BIGINT, \
     version = o.version + 1, updated_at = (c.carry ->> 'updated_at')::BIGINT \
     FROM entries AS c WHERE o.kind = c.carry ->> 'kind' AND o.object_key = c.carry ->> 'key' \
     AND o.version = (c.carry ->> 'expected')::BIGINT RETURNING 1), \
     logged AS (INSERT INTO moderation_log (action, actor, target_kind, target_key, reason, \
     before_state, after_state, detail, ip, bulk_id, at) \
     SELECT l ->> 0, l ->> 1, l ->> 2, l ->> 3, l ->> 4, l ->> 5, l ->> 6, l ->> 7, l ->> 8, \
     l ->> 9, (l ->> 10)::BIGINT \
     FROM entries, jsonb_array_elements(entries.carry -> 'log') AS l) \
     SELECT 1 AS applied FROM records";

/// Decisions per statement: the JSON text of 500 stays well under a
/// megabyte for snapshots of ordinary size.
pub(crate) const DECISIONS_PER_STATEMENT: usize = 500;

/// Whether `write` is a decision: an existing record and one entry update,
/// the shape every bulk action plans.
pub(crate) fn is_decision(write: &ObjectWrite) -> bool {
    !write.insert && matches!(write.entries.as_slice(), [EntryWrite::Update { .. }])
}

/// One decision as the batch statement reads it: the entry's own columns
/// beside the rest of its write, as a nested object (not a string within
/// the string), so that neither side escapes or parses it twice.
#[derive(serde::Serialize)]
struct CarriedDecision<'a> {
    #[serde(flatten)]
    entry: CarriedEntry<'a>,
    carry: WriteCarrier<'a>,
}

/// The JSON array of `writes` (all [`is_decision`]) for
/// [`UPDATE_ENTRIES_CARRYING`].
///
/// # Errors
/// [`ModerationError::Config`] when a write is not a decision.
pub(crate) fn decisions(
    writes: &[ObjectWrite],
    encoded: &[EncodedWrite],
) -> Result<String, ModerationError> {
    let mut carried = Vec::with_capacity(writes.len());
    for (write, encoded) in writes.iter().zip(encoded) {
        let (
            Some(EntryWrite::Update {
                entry,
                expected_version,
            }),
            Some(e),
        ) = (write.entries.first(), encoded.entries.first())
        else {
            return Err(ModerationError::Config(
                "only decisions (one entry update each) fit a batch statement".to_owned(),
            ));
        };
        carried.push(CarriedDecision {
            entry: CarriedEntry::new(entry.id, *expected_version, e),
            carry: WriteCarrier::new(&encoded.object, false, None, &write.log, &encoded.log),
        });
    }
    Ok(serde_json::to_string(&carried)?)
}

/// What a decision `write` stored once its batch committed: the entry and
/// the record each one version on from the versions they were checked at.
pub(crate) fn decided(write: ObjectWrite, encoded: &EncodedWrite) -> StoredWrite {
    let ObjectWrite {
        mut record,
        entries,
        ..
    } = write;
    record.version = encoded.object.version + 1;
    let entries = entries
        .into_iter()
        .filter_map(|write| match write {
            EntryWrite::Update {
                mut entry,
                expected_version,
            } => {
                entry.version = expected_version + 1;
                Some(entry)
            }
            EntryWrite::Insert(_) => None,
        })
        .collect();
    StoredWrite { record, entries }
}
