//! Many workflow decisions in a few statements.
//!
//! A bulk approve, reject or set-pending plans one write per entry: the
//! entry's own update, its record's update and its moderation-log rows.
//! Run statement by statement, a batch of 100 decisions costs 100 or more
//! round trips to the database. Here the batch takes a fixed number:
//!
//! - SQLite ([`sqlite`]): three statements in the caller's transaction on
//!   values bound in place, one per table: the entries (`UPDATE ... FROM` a
//!   `VALUES` list), the records (likewise) and the log rows (a multi-row
//!   `INSERT`). No JSON is built or parsed and no trigger runs.
//! - PostgreSQL: one statement, `UPDATE ... FROM jsonb_to_recordset(...)` on
//!   the entries, then data-modifying CTEs for the records and the log rows
//!   ([`decisions`] builds its JSON array).
//!
//! Conflicts are found as before, only later: a stale entry or a stale
//! record matches no row, so the batch applies fewer decisions than it was
//! given. The caller then rolls the transaction back and replays the batch
//! one write at a time, which reports the exact conflict. A record named by
//! two decisions of one batch is updated once, so the count falls short and
//! the batch is replayed the same way.

use moderation_core::ModerationError;
use moderation_core::workflow::{EntryId, EntryWrite, ObjectWrite, StoredWrite};

use crate::objects::{EncodedEntry, EncodedWrite};

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

/// Decisions per statement: on PostgreSQL the JSON text of 500 stays well
/// under a megabyte for snapshots of ordinary size; on SQLite 500
/// decisions with one log row each bind 16 500 values, half its limit
/// (`sqlite::groups` splits batches with more log rows).
pub(crate) const DECISIONS_PER_STATEMENT: usize = 500;

/// Whether `write` is a decision: an existing record and one entry update,
/// the shape every bulk action plans.
pub(crate) fn is_decision(write: &ObjectWrite) -> bool {
    !write.insert && matches!(write.entries.as_slice(), [EntryWrite::Update { .. }])
}

/// One decision as PostgreSQL's batch statement reads it: the entry's own
/// columns beside its record's and its log rows, as a nested object (not a
/// string within the string), so that neither side escapes or parses it
/// twice.
#[cfg(feature = "postgres")]
#[derive(serde::Serialize)]
struct CarriedDecision<'a> {
    id: i64,
    expected: i64,
    status: &'a str,
    snapshot: &'a str,
    submitted_by: Option<&'a str>,
    submitted_at: i64,
    decided_by: Option<&'a str>,
    decided_at: Option<i64>,
    reason: Option<&'a str>,
    carry: CarriedRecord<'a>,
}

/// A decision's record, checked at version `expected`, and its log rows.
#[cfg(feature = "postgres")]
#[derive(serde::Serialize)]
struct CarriedRecord<'a> {
    kind: &'a str,
    key: &'a str,
    expected: i64,
    state: &'a str,
    status: &'a str,
    decided_by: Option<&'a str>,
    decided_at: Option<i64>,
    reason: Option<&'a str>,
    public: Option<&'a str>,
    approved: Option<&'a str>,
    current: &'a str,
    revision: i64,
    updated_at: i64,
    log: Vec<CarriedLog<'a>>,
}

/// One moderation log row in the column order of the statement's insert:
/// action, actor, target kind, target key, reason, before, after, detail,
/// ip, bulk id, time.
#[cfg(feature = "postgres")]
type CarriedLog<'a> = (
    &'a str,
    Option<&'a str>,
    &'a str,
    &'a str,
    Option<&'a str>,
    Option<&'a str>,
    Option<&'a str>,
    &'a str,
    Option<String>,
    Option<String>,
    i64,
);

/// The JSON array of `writes` (all [`is_decision`]) for
/// [`UPDATE_ENTRIES_WITH_RECORDS`].
///
/// # Errors
/// [`ModerationError::Config`] when a write is not a decision.
#[cfg(feature = "postgres")]
pub(crate) fn decisions(
    writes: &[ObjectWrite],
    encoded: &[EncodedWrite],
) -> Result<String, ModerationError> {
    let mut carried = Vec::with_capacity(writes.len());
    for (write, encoded) in writes.iter().zip(encoded) {
        let (id, expected, e) = decided_entry(write, encoded)?;
        let o = &encoded.object;
        carried.push(CarriedDecision {
            id: id.0,
            expected,
            status: e.status,
            snapshot: &e.snapshot,
            submitted_by: e.submitted_by.as_deref(),
            submitted_at: e.submitted_at,
            decided_by: e.decided_by.as_deref(),
            decided_at: e.decided_at,
            reason: e.reason.as_deref(),
            carry: CarriedRecord {
                kind: &o.kind,
                key: &o.key,
                expected: o.version,
                state: o.state,
                status: o.status,
                decided_by: o.decided_by.as_deref(),
                decided_at: o.decided_at,
                reason: o.reason.as_deref(),
                public: o.public.as_deref(),
                approved: o.approved.as_deref(),
                current: &o.current,
                revision: o.revision,
                updated_at: o.updated_at,
                log: write
                    .log
                    .iter()
                    .zip(&encoded.log)
                    .map(|(entry, encoded)| {
                        (
                            entry.action.as_str(),
                            entry.actor.as_ref().map(moderation_core::UserId::as_str),
                            entry.target.kind.as_str(),
                            encoded.target_key.as_str(),
                            entry.reason.as_deref(),
                            entry.before.as_deref(),
                            entry.after.as_deref(),
                            encoded.detail.as_str(),
                            entry.ip.map(|ip| ip.to_string()),
                            entry.bulk.map(|bulk| bulk.hyphenated().to_string()),
                            crate::record::to_micros(entry.at),
                        )
                    })
                    .collect(),
            },
        });
    }
    Ok(serde_json::to_string(&carried)?)
}

/// The entry a decision `write` updates, the version it expects, and its
/// encoded values.
///
/// # Errors
/// [`ModerationError::Config`] when `write` is not a decision.
pub(crate) fn decided_entry<'a>(
    write: &ObjectWrite,
    encoded: &'a EncodedWrite,
) -> Result<(EntryId, i64, &'a EncodedEntry), ModerationError> {
    match (write.entries.as_slice(), encoded.entries.as_slice()) {
        (
            [
                EntryWrite::Update {
                    entry,
                    expected_version,
                },
            ],
            [e],
        ) => Ok((entry.id, *expected_version, e)),
        _ => Err(ModerationError::Config(
            "only decisions (one entry update each) fit a batch statement".to_owned(),
        )),
    }
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

/// SQLite's statements for a batch of decisions, on values bound in place
/// by position. Each reads its rows from a `VALUES` list named by a common
/// table expression, so SQLite walks the list and finds each row by its key.
#[cfg(feature = "sqlite")]
pub(crate) mod sqlite {
    use std::ops::Range;

    use crate::sql::{Placeholder, values_list};

    /// Values bound per entry: id, expected version, then the seven
    /// columns of `objects::bind_entry!`.
    pub(crate) const ENTRY_PARAMS: usize = 9;
    /// Values bound per record: the eleven of `objects::bind_record!`, then
    /// the expected version and the update time.
    pub(crate) const RECORD_PARAMS: usize = 13;

    /// Updates `rows` entries, each only at its expected version; the rows
    /// changed are the entries that matched.
    pub(crate) fn update_entries(rows: usize) -> String {
        format!(
            "WITH w (id, expected, status, snapshot, submitted_by, submitted_at, decided_by, \
             decided_at, reason) AS (VALUES {}) \
             UPDATE moderation_entries SET status = w.status, snapshot = w.snapshot, \
             submitted_by = w.submitted_by, submitted_at = w.submitted_at, \
             decided_by = w.decided_by, decided_at = w.decided_at, reason = w.reason, \
             version = moderation_entries.version + 1 \
             FROM w WHERE moderation_entries.id = w.id \
             AND moderation_entries.version = w.expected",
            values_list(rows, ENTRY_PARAMS, Placeholder::Anonymous)
        )
    }

    /// Updates `rows` records, each only at its expected version; the rows
    /// changed are the records that matched.
    pub(crate) fn update_records(rows: usize) -> String {
        format!(
            "WITH w (kind, object_key, state, status, decided_by, decided_at, reason, \
             public_version, approved_version, current_version, revision, expected, \
             updated_at) AS (VALUES {}) \
             UPDATE moderated_objects SET state = w.state, status = w.status, \
             decided_by = w.decided_by, decided_at = w.decided_at, reason = w.reason, \
             public_version = w.public_version, approved_version = w.approved_version, \
             current_version = w.current_version, revision = w.revision, \
             version = moderated_objects.version + 1, updated_at = w.updated_at \
             FROM w WHERE moderated_objects.kind = w.kind \
             AND moderated_objects.object_key = w.object_key \
             AND moderated_objects.version = w.expected",
            values_list(rows, RECORD_PARAMS, Placeholder::Anonymous)
        )
    }

    /// The most values one SQLite statement binds.
    const MAX_PARAMS: usize = 32_766;

    /// Consecutive runs of decisions, given the log rows of each, whose
    /// [`decisions`] text binds at most SQLite's limit of values; a
    /// decision that alone binds more is a run of its own, which SQLite
    /// refuses with an error.
    pub(crate) fn groups(log_rows: impl IntoIterator<Item = usize>) -> Vec<Range<usize>> {
        let mut groups = Vec::new();
        let (mut start, mut end, mut params) = (0, 0, 0);
        for logs in log_rows {
            let own = ENTRY_PARAMS + RECORD_PARAMS + logs * crate::modlog::ENTRY_PARAMS;
            if end > start && params + own > MAX_PARAMS {
                groups.push(start..end);
                (start, params) = (end, 0);
            }
            params += own;
            end += 1;
        }
        if start < end {
            groups.push(start..end);
        }
        groups
    }

    /// The whole batch: [`update_entries`] and [`update_records`] for
    /// `decisions` decisions, then an insert of their `logs` log rows (none
    /// when there are none), bound in that order.
    pub(crate) fn decisions(decisions: usize, logs: usize) -> String {
        let mut sql = format!(
            "{}; {}",
            update_entries(decisions),
            update_records(decisions)
        );
        if logs > 0 {
            sql.push_str("; ");
            sql.push_str(&crate::modlog::insert_rows(logs, Placeholder::Anonymous));
        }
        sql
    }
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use proptest::prelude::*;

    use super::sqlite::{ENTRY_PARAMS, RECORD_PARAMS, groups};
    use crate::modlog::ENTRY_PARAMS as LOG_PARAMS;

    fn params(logs: &[usize]) -> usize {
        logs.iter()
            .map(|n| ENTRY_PARAMS + RECORD_PARAMS + n * LOG_PARAMS)
            .sum()
    }

    #[test]
    fn a_page_of_decisions_is_one_statement() {
        let runs = groups([1; 500]);
        assert_eq!(runs.len(), 1);
        assert_eq!(runs.first(), Some(&(0..500)));
        assert!(groups([]).is_empty());
    }

    #[test]
    fn decisions_past_the_limit_of_values_are_split() {
        // 500 decisions with 6 log rows each bind 44 000 values.
        let split = groups([6; 500]);
        assert_eq!(split.len(), 2);
        assert_eq!(split.first().map(|g| g.start), Some(0));
        assert_eq!(split.last().map(|g| g.end), Some(500));
    }

    proptest! {
        /// The runs cover every decision once, in order, and each binds at
        /// most SQLite's limit unless it is a single decision.
        #[test]
        fn runs_partition_the_batch_within_the_limit(
            logs in proptest::collection::vec(0_usize..4_000, 0..600)
        ) {
            let runs = groups(logs.iter().copied());
            let mut next = 0;
            for run in &runs {
                prop_assert_eq!(run.start, next);
                prop_assert!(run.end > run.start);
                let own = logs.get(run.clone()).unwrap_or_default();
                prop_assert!(own.len() == 1 || params(own) <= 32_766);
                next = run.end;
            }
            prop_assert_eq!(next, logs.len());
        }
    }
}
