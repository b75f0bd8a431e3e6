//! Many workflow decisions in one SQLite statement.
//!
//! A bulk approve, reject or set-pending plans one write per entry: the
//! entry's own update, carrying its record and log rows for the triggers of
//! SQLite migration 000010 (see [`carrier`]). Run one statement per entry,
//! a batch of 100 decisions costs 100 round trips to the connection's
//! worker thread, each a sleep and a wake-up of two threads. Here the whole
//! batch is one `UPDATE ... FROM json_each(...)`: every matched entry fires
//! the same triggers as its single statement would, in the same
//! transaction.
//!
//! Conflicts are found as before, only later: a stale entry matches no row
//! (the statement changes fewer rows than it was given), a stale record
//! aborts the statement from a trigger. Either way the caller rolls the
//! transaction back and replays the batch one statement per entry, which
//! reports the exact conflict.

use moderation_core::ModerationError;
use moderation_core::workflow::{EntryWrite, ObjectWrite, StoredWrite};

use crate::objects::{CarriedEntry, EncodedWrite, carrier};

/// The batch statement: `$1` is the JSON array [`decisions`] builds.
pub(crate) const UPDATE_ENTRIES_CARRYING: &str = "UPDATE moderation_entries SET \
     status = w.value ->> 'status', snapshot = w.value ->> 'snapshot', \
     submitted_by = w.value ->> 'submitted_by', submitted_at = w.value ->> 'submitted_at', \
     decided_by = w.value ->> 'decided_by', decided_at = w.value ->> 'decided_at', \
     reason = w.value ->> 'reason', version = version + 1, pending_write = w.value ->> 'carry' \
     FROM json_each($1) AS w \
     WHERE moderation_entries.id = w.value ->> 'id' \
       AND moderation_entries.version = w.value ->> 'expected'";

/// Decisions per statement: the JSON text of 500 stays well under a
/// megabyte for snapshots of ordinary size.
pub(crate) const DECISIONS_PER_STATEMENT: usize = 500;

/// Whether `write` is a decision: an existing record and one entry update,
/// the shape every bulk action plans.
pub(crate) fn is_decision(write: &ObjectWrite) -> bool {
    !write.insert && matches!(write.entries.as_slice(), [EntryWrite::Update { .. }])
}

/// One decision as the batch statement reads it: the entry's own columns
/// beside the rest of its write.
#[derive(serde::Serialize)]
struct CarriedDecision<'a> {
    #[serde(flatten)]
    entry: CarriedEntry<'a>,
    carry: String,
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
            carry: carrier(&encoded.object, false, None, &write.log, &encoded.log)?,
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
