//! Renderers: safe HTML, JSON and plain unified text.

#[cfg(feature = "html")]
mod html;
mod json;
mod text;

use serde_json::Value;

/// What a renderer shows for one side of a field: the resolver's name when
/// there is one, a string as itself, anything else as compact JSON.
pub(crate) fn shown(value: &Value, display: Option<&str>) -> String {
    match (display, value) {
        (Some(name), _) => name.to_owned(),
        (None, Value::String(text)) => text.clone(),
        (None, other) => other.to_string(),
    }
}
