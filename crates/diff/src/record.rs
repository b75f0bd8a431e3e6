//! The field-by-field comparison of two versions of a record.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::DiffError;
use crate::options::{DiffOptions, Presentation};
use crate::path::FieldPath;
use crate::text::TextDiff;

/// What happened to one field between the two versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// Same value in both versions.
    Unchanged,
    /// Present in both versions with different values.
    Changed,
    /// Only in the new version.
    Added,
    /// Only in the old version.
    Removed,
}

/// One field of a [`RecordDiff`].
///
/// A field is a leaf of the record: a value that is not an object, or an
/// empty object. Nested objects are flattened into paths (`author.name`);
/// arrays are compared as whole values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldChange {
    path: FieldPath,
    label: String,
    kind: ChangeKind,
    #[serde(default, skip_serializing_if = "is_text")]
    presentation: Presentation,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    old: Option<Value>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    new: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    old_display: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    new_display: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<TextDiff>,
}

/// A side that is present in the JSON is `Some`, even when it is `null`: a
/// field set to `null` is not the same as a field that does not exist.
fn present<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

fn is_text(presentation: &Presentation) -> bool {
    *presentation == Presentation::Text
}

impl FieldChange {
    /// Where the field lives in the record.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    /// let diff = RecordDiff::between(
    ///     &json!({"author": {"name": "a"}}),
    ///     &json!({"author": {"name": "b"}}),
    ///     &DiffOptions::new(),
    /// )?;
    /// assert_eq!(diff.changes()[0].path().to_string(), "author.name");
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn path(&self) -> &FieldPath {
        &self.path
    }

    /// The name shown to moderators: the configured label, or the dotted path.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    /// let diff = RecordDiff::between(&json!({"t": 1}), &json!({"t": 2}), &DiffOptions::new().label("t", "Title"))?;
    /// assert_eq!(diff.changes()[0].label(), "Title");
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Unchanged, changed, added or removed.
    ///
    /// ```
    /// use moderation_diff::{ChangeKind, DiffOptions, RecordDiff};
    /// use serde_json::json;
    /// let diff = RecordDiff::between(&json!({"a": 1}), &json!({"b": 1}), &DiffOptions::new())?;
    /// let kinds: Vec<_> = diff.changes().iter().map(|c| c.kind()).collect();
    /// assert_eq!(kinds, [ChangeKind::Removed, ChangeKind::Added]);
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn kind(&self) -> ChangeKind {
        self.kind
    }

    /// How the renderers show the values.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, Presentation, RecordDiff};
    /// use serde_json::json;
    /// let options = DiffOptions::new().presentation("site", Presentation::Link);
    /// let diff = RecordDiff::between(&json!({"site": "a"}), &json!({"site": "b"}), &options)?;
    /// assert_eq!(diff.changes()[0].presentation(), Presentation::Link);
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn presentation(&self) -> Presentation {
        self.presentation
    }

    /// The value in the old version (`None` when added).
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    /// let diff = RecordDiff::between(&json!({"n": 1}), &json!({"n": 2}), &DiffOptions::new())?;
    /// assert_eq!(diff.changes()[0].old_value(), Some(&json!(1)));
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn old_value(&self) -> Option<&Value> {
        self.old.as_ref()
    }

    /// The value in the new version (`None` when removed).
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    /// let diff = RecordDiff::between(&json!({"n": 1}), &json!({"n": 2}), &DiffOptions::new())?;
    /// assert_eq!(diff.changes()[0].new_value(), Some(&json!(2)));
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn new_value(&self) -> Option<&Value> {
        self.new.as_ref()
    }

    /// The old value's display name from a resolver, if one matched.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    /// let options = DiffOptions::new().resolver("owner", |id| Some(format!("user {id}")));
    /// let diff = RecordDiff::between(&json!({"owner": 1}), &json!({"owner": 2}), &options)?;
    /// assert_eq!(diff.changes()[0].old_display(), Some("user 1"));
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn old_display(&self) -> Option<&str> {
        self.old_display.as_deref()
    }

    /// The new value's display name from a resolver, if one matched.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    /// let options = DiffOptions::new().resolver("owner", |id| Some(format!("user {id}")));
    /// let diff = RecordDiff::between(&json!({"owner": 1}), &json!({"owner": 2}), &options)?;
    /// assert_eq!(diff.changes()[0].new_display(), Some("user 2"));
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn new_display(&self) -> Option<&str> {
        self.new_display.as_deref()
    }

    /// The inline difference, for a changed text field shown as text.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    /// let diff = RecordDiff::between(&json!({"t": "a b"}), &json!({"t": "a c"}), &DiffOptions::new())?;
    /// assert_eq!(diff.changes()[0].text_diff().map(|t| t.new_text()), Some("a c".to_owned()));
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn text_diff(&self) -> Option<&TextDiff> {
        self.text.as_ref()
    }
}

/// The differences between two versions of a record, field by field.
///
/// Field order is stable: the old version's fields in its key order, then the
/// fields only the new version has, in its key order (with `serde_json`'s
/// default map, key order is alphabetical).
///
/// The JSON form (`serde`) is a stable, versioned schema documented in the
/// crate's guide: `{"schema": 1, "fields": [FieldChange...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordDiff {
    schema: u32,
    fields: Vec<FieldChange>,
}

impl RecordDiff {
    /// Version of the JSON schema written by this release.
    pub const SCHEMA_VERSION: u32 = 1;

    /// Compares two versions of a record.
    ///
    /// ```
    /// use moderation_diff::{ChangeKind, DiffOptions, RecordDiff};
    /// use serde_json::json;
    ///
    /// let old = json!({"title": "Hello world", "views": 3});
    /// let new = json!({"title": "Hello there world", "views": 3});
    /// let diff = RecordDiff::between(&old, &new, &DiffOptions::new())?;
    /// assert_eq!(diff.changes()[0].kind(), ChangeKind::Changed);
    /// assert_eq!(diff.changes()[1].kind(), ChangeKind::Unchanged);
    /// assert!(diff.has_changes());
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn between<Old, New>(old: &Old, new: &New, options: &DiffOptions) -> Result<Self, DiffError>
    where
        Old: Serialize + ?Sized,
        New: Serialize + ?Sized,
    {
        let _span = tracing::debug_span!("record_diff").entered();
        let old = serde_json::to_value(old).map_err(DiffError::Serialize)?;
        let new = serde_json::to_value(new).map_err(DiffError::Serialize)?;
        let mut old_fields = Vec::new();
        flatten(&FieldPath::default(), &old, &mut old_fields);
        let mut new_fields = Vec::new();
        flatten(&FieldPath::default(), &new, &mut new_fields);

        let new_by_path: HashMap<&FieldPath, &Value> = new_fields
            .iter()
            .map(|(path, value)| (path, *value))
            .collect();
        let old_by_path: HashMap<&FieldPath, &Value> = old_fields
            .iter()
            .map(|(path, value)| (path, *value))
            .collect();

        let mut fields = Vec::with_capacity(old_fields.len().max(new_fields.len()));
        for (path, old_value) in &old_fields {
            if !options.includes(path) {
                continue;
            }
            let new_value = new_by_path.get(path).copied();
            fields.push(field_change(path, Some(old_value), new_value, options));
        }
        for (path, new_value) in &new_fields {
            if !options.includes(path) || old_by_path.contains_key(path) {
                continue;
            }
            fields.push(field_change(path, None, Some(new_value), options));
        }
        tracing::debug!(fields = fields.len(), "record diff computed");
        Ok(Self {
            schema: Self::SCHEMA_VERSION,
            fields,
        })
    }

    /// Every compared field, in the stable order.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    /// let diff = RecordDiff::between(&json!({"a": 1, "b": 2}), &json!({"a": 1, "b": 3}), &DiffOptions::new())?;
    /// assert_eq!(diff.changes().len(), 2);
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn changes(&self) -> &[FieldChange] {
        &self.fields
    }

    /// Whether any compared field differs.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    /// let diff = RecordDiff::between(&json!({"a": 1}), &json!({"a": 1}), &DiffOptions::new())?;
    /// assert!(!diff.has_changes());
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn has_changes(&self) -> bool {
        self.fields
            .iter()
            .any(|field| field.kind != ChangeKind::Unchanged)
    }

    /// Whether any text field ran out of time and is shown as a whole-field
    /// replace.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    /// use std::time::Duration;
    /// let options = DiffOptions::new().deadline(Duration::ZERO);
    /// let diff = RecordDiff::between(&json!({"t": "a b"}), &json!({"t": "a c"}), &options)?;
    /// assert!(diff.used_fallback());
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn used_fallback(&self) -> bool {
        self.fields
            .iter()
            .filter_map(|field| field.text.as_ref())
            .any(TextDiff::used_fallback)
    }
}

/// Collects the leaves of `value` with their paths, in map order.
fn flatten<'v>(path: &FieldPath, value: &'v Value, out: &mut Vec<(FieldPath, &'v Value)>) {
    match value {
        // The record itself is never a leaf when it is an object: an empty
        // record simply has no fields.
        Value::Object(map) if !map.is_empty() || path.is_root() => {
            for (key, child) in map {
                flatten(&path.child(key), child, out);
            }
        }
        leaf => out.push((path.clone(), leaf)),
    }
}

fn field_change(
    path: &FieldPath,
    old: Option<&Value>,
    new: Option<&Value>,
    options: &DiffOptions,
) -> FieldChange {
    let kind = match (old, new) {
        (Some(old), Some(new)) if old == new => ChangeKind::Unchanged,
        (Some(_), Some(_)) => ChangeKind::Changed,
        (None, _) => ChangeKind::Added,
        (Some(_), None) => ChangeKind::Removed,
    };
    let presentation = options.presentation_for(path);
    let old_display = options.resolve(path, old);
    let new_display = options.resolve(path, new);
    let text = match (kind, presentation, old, new) {
        (
            ChangeKind::Changed,
            Presentation::Text,
            Some(Value::String(old)),
            Some(Value::String(new)),
        ) if old_display.is_none() && new_display.is_none() => Some(TextDiff::new(
            old,
            new,
            options.granularity_for(path, old, new),
            options.deadline,
        )),
        _ => None,
    };
    FieldChange {
        path: path.clone(),
        label: options.label_for(path),
        kind,
        presentation,
        old: old.cloned(),
        new: new.cloned(),
        old_display,
        new_display,
        text,
    }
}
