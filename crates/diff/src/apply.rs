//! Replaying a [`RecordDiff`] on the version it was taken from.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::DiffError;
use crate::path::FieldPath;
use crate::record::{ChangeKind, FieldChange, RecordDiff};

impl RecordDiff {
    /// Applies the diff to the old version and returns the new one.
    ///
    /// Every changed or removed field must still hold the value the diff was
    /// computed from, otherwise nothing is written and
    /// [`DiffError::StaleBase`] names the first field that differs. Text
    /// fields are rebuilt from their spans, so a stored diff is checked as it
    /// is replayed. Fields left out by the options keep their old values.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    ///
    /// let old = json!({"title": "The quick brown fox", "tags": ["a"], "draft": true});
    /// let new = json!({"title": "The quick red fox jumps", "tags": ["a", "b"]});
    /// let diff = RecordDiff::between(&old, &new, &DiffOptions::new())?;
    /// assert_eq!(diff.apply(&old)?, new);
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn apply<T: Serialize + ?Sized>(&self, old: &T) -> Result<Value, DiffError> {
        let _span = tracing::debug_span!("record_diff_apply").entered();
        let mut record = serde_json::to_value(old).map_err(DiffError::Serialize)?;
        for field in self.changes() {
            check_base(&record, field)?;
        }
        // Removals first: a path can turn from an object into a leaf (or
        // back) between versions, and the new leaves must land on the cleared
        // ground.
        for field in self.changes() {
            if field.kind() == ChangeKind::Removed {
                remove(&mut record, field.path().segments());
            }
        }
        for field in self.changes() {
            if let ChangeKind::Changed | ChangeKind::Added = field.kind() {
                let value = new_value(field);
                set(&mut record, field.path().segments(), value);
            }
        }
        Ok(record)
    }
}

fn stale(path: &FieldPath) -> DiffError {
    DiffError::StaleBase {
        path: path.to_string(),
    }
}

/// Makes sure the record holds what the diff expects before anything changes.
fn check_base(record: &Value, field: &FieldChange) -> Result<(), DiffError> {
    let current = get(record, field.path().segments());
    let expected = match field.text_diff() {
        Some(text) => Some(Value::String(text.old_text())),
        None => field.old_value().cloned(),
    };
    match (field.kind(), current, expected) {
        (ChangeKind::Added, _, _) => Ok(()),
        (_, Some(current), Some(expected)) if *current == expected => Ok(()),
        _ => Err(stale(field.path())),
    }
}

fn new_value(field: &FieldChange) -> Value {
    match field.text_diff() {
        Some(text) => Value::String(text.new_text()),
        None => field.new_value().cloned().unwrap_or(Value::Null),
    }
}

fn get<'v>(value: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter()
        .try_fold(value, |value, key| value.as_object()?.get(key))
}

/// Writes `value` at `path`, turning anything in the way into objects.
fn set(record: &mut Value, path: &[String], value: Value) {
    let Some((first, rest)) = path.split_first() else {
        *record = value;
        return;
    };
    if !record.is_object() {
        *record = Value::Object(Map::new());
    }
    if let Value::Object(map) = record {
        set(map.entry(first.clone()).or_insert(Value::Null), rest, value);
    }
}

/// Removes the leaf at `path`, then any object it leaves empty, because a
/// diff records an empty object as a field of its own.
fn remove(record: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else {
        // The old version was not an object; whatever the new version holds
        // is written by the additions, and an empty record is an object.
        *record = Value::Object(Map::new());
        return;
    };
    let Some(Value::Object(parent)) = get_mut(record, parents) else {
        return;
    };
    parent.remove(last);
    if parent.is_empty() && !parents.is_empty() {
        remove(record, parents);
    }
}

fn get_mut<'v>(value: &'v mut Value, path: &[String]) -> Option<&'v mut Value> {
    path.iter()
        .try_fold(value, |value, key| value.as_object_mut()?.get_mut(key))
}
