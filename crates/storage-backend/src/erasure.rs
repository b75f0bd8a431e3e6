//! Erasure in batches: how a GDPR erasure walks one table's rows of a
//! user, a short transaction per batch, so the writer is never held for a
//! long job and no batch reads what an earlier one already changed. The
//! moderation log's anonymisation and the audit trail's erasure both use
//! it; `sqlite::erasure` and `postgres::erasure` run the batches.

/// Rows one erasure batch changes at most.
pub(crate) const ERASE_BATCH: i64 = 1_000;

/// Ids one batch of an id-range sweep covers (see [`Sweep::IdRange`]):
/// each row of the range is read once, so a batch stays as short as an
/// indexed one of [`ERASE_BATCH`] rows.
pub(crate) const ID_SPAN: i64 = 10_000;

/// How an erasure walks one table's rows of a user, a batch per
/// transaction. `$1` is always the user's value (see `audit::UserColumn`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sweep {
    /// The statement's change takes a row out of its own condition
    /// (a delete, or clearing the user column), through an index on the
    /// user: `$2` the batch size. Repeated until a batch changes fewer.
    Shrinking(&'static str),
    /// Rows keep matching the user after the change, so batches walk the
    /// user's index by `(time, id)`: `end` (`$2, $3` after this key, `$4`
    /// the offset) finds a batch's last key; `apply` changes the user's
    /// rows after `($2, $3)` up to `($4, $5)`.
    #[cfg_attr(
        not(feature = "audit"),
        allow(
            dead_code,
            reason = "only the audit trail's IP erasure walks by keyset"
        )
    )]
    Keyset {
        end: &'static str,
        apply: &'static str,
    },
    /// The table has no index on the user: batches walk id ranges of
    /// [`ID_SPAN`] up to the id `last` reads; `apply` changes the user's
    /// rows with `$2 < id <= $3`.
    IdRange {
        last: &'static str,
        apply: &'static str,
    },
}

/// An actor's erasure from the moderation log and the item log: the
/// entries stay, without the actor and the IP.
pub(crate) const ANONYMISE_ACTOR: [Sweep; 2] = [
    Sweep::Shrinking(crate::modlog::ANONYMISE_LOG_BATCH),
    Sweep::IdRange {
        last: crate::modlog::LAST_ITEM_LOG_ID,
        apply: crate::modlog::ANONYMISE_ITEM_LOG_RANGE,
    },
];

/// Where a [`Sweep::Keyset`] starts: before every key.
pub(crate) const FIRST_KEY: (i64, i64) = (i64::MIN, i64::MIN);

/// Where the last batch of a [`Sweep::Keyset`] ends: after every key.
pub(crate) const LAST_KEY: (i64, i64) = (i64::MAX, i64::MAX);

/// The `OFFSET` that finds a keyset batch's last key.
pub(crate) const BATCH_OFFSET: i64 = ERASE_BATCH - 1;
