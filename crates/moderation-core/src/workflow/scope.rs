//! Field scope (C9): which top-level fields of a snapshot are moderated,
//! and how an edit splits into fields applied at once and fields held.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

/// Which top-level fields are moderated.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FieldScope {
    /// Every field (the default).
    #[default]
    All,
    /// Every field but these.
    Exclude(BTreeSet<String>),
    /// Only these fields.
    Only(BTreeSet<String>),
}

impl FieldScope {
    /// True when edits to `field` wait for review.
    #[must_use]
    pub fn is_moderated(&self, field: &str) -> bool {
        match self {
            Self::All => true,
            Self::Exclude(fields) => !fields.contains(field),
            Self::Only(fields) => fields.contains(field),
        }
    }

    /// True when `old` and `new` differ in at least one moderated field.
    /// Snapshots that are not JSON objects are moderated as a whole.
    #[must_use]
    pub(crate) fn moderated_change(&self, old: &Value, new: &Value) -> bool {
        match (old, new) {
            (Value::Object(old), Value::Object(new)) => changed_fields(old, new)
                .into_iter()
                .any(|field| self.is_moderated(field)),
            _ => old != new,
        }
    }

    /// `base` with its moderated fields taken from `moderated_from`: every
    /// unmoderated field keeps `base`'s value, and a moderated field missing
    /// from `moderated_from` is removed.
    #[must_use]
    pub(crate) fn compose(&self, moderated_from: &Value, base: &Value) -> Value {
        let (Value::Object(source), Value::Object(base)) = (moderated_from, base) else {
            return moderated_from.clone();
        };
        let mut out: Map<String, Value> = base
            .iter()
            .filter(|(field, _)| !self.is_moderated(field))
            .map(|(field, value)| (field.clone(), value.clone()))
            .collect();
        for (field, value) in source {
            if self.is_moderated(field) {
                out.insert(field.clone(), value.clone());
            }
        }
        Value::Object(out)
    }
}

/// The fields whose values differ (present on one side only counts).
fn changed_fields<'a>(old: &'a Map<String, Value>, new: &'a Map<String, Value>) -> Vec<&'a str> {
    let mut fields: Vec<&str> = new
        .iter()
        .filter(|(field, value)| old.get(*field) != Some(value))
        .map(|(field, _)| field.as_str())
        .collect();
    fields.extend(
        old.keys()
            .filter(|field| !new.contains_key(*field))
            .map(String::as_str),
    );
    fields
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn compose_keeps_unmoderated_fields_of_the_base() {
        let scope = FieldScope::Exclude(["views".to_owned()].into());
        let pending = json!({"bio": "new", "views": 1});
        let current = json!({"bio": "old", "views": 9});
        assert_eq!(
            scope.compose(&pending, &current),
            json!({"bio": "new", "views": 9})
        );
        assert!(scope.moderated_change(&current, &pending));
        assert!(!scope.moderated_change(&current, &json!({"bio": "old", "views": 3})));
    }
}
