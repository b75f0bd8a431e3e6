//! The one error type of the crate.

/// What can go wrong while diffing, applying or rendering a [`RecordDiff`](crate::RecordDiff).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    /// A version of the record could not be turned into a serde value.
    #[error(
        "could not serialize the record into a JSON value: {0}; make sure its Serialize impl produces JSON-compatible data (string map keys, finite numbers)"
    )]
    Serialize(#[source] serde_json::Error),
    /// The record given to `apply` is not the version the diff was taken from.
    #[error(
        "field `{path}` does not hold the value this diff was computed from; recompute the diff against the current version of the record"
    )]
    StaleBase {
        /// Dotted path of the first field that did not match.
        path: String,
    },
}
