//! The JSON renderer: the serde form of [`RecordDiff`].

use crate::error::DiffError;
use crate::record::RecordDiff;

impl RecordDiff {
    /// The diff as JSON, in the stable schema described in the crate's guide
    /// (`docs/moderation-diff.md`). The same text deserializes back into a
    /// `RecordDiff` with `serde_json::from_str`.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    ///
    /// let diff = RecordDiff::between(&json!({"n": 1}), &json!({"n": 2}), &DiffOptions::new())?;
    /// let json = diff.to_json()?;
    /// assert_eq!(
    ///     json,
    ///     r#"{"schema":1,"fields":[{"path":["n"],"label":"n","kind":"changed","old":1,"new":2}]}"#
    /// );
    /// let back: RecordDiff = serde_json::from_str(&json).map_err(moderation_diff::DiffError::Serialize)?;
    /// assert_eq!(back, diff);
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn to_json(&self) -> Result<String, DiffError> {
        serde_json::to_string(self).map_err(DiffError::Serialize)
    }
}
