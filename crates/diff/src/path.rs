//! Addresses of fields inside a (possibly nested) record.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The address of a field: the keys to follow from the top of the record.
///
/// The empty path addresses the record itself (used when a version is not an
/// object). Paths are stored as separate segments so keys that contain a dot
/// stay unambiguous; [`Display`](fmt::Display) joins them with `.` for humans
/// and for option matching.
///
/// ```
/// use moderation_diff::FieldPath;
///
/// let path = FieldPath::from_segments(["author", "name"]);
/// assert_eq!(path.to_string(), "author.name");
/// assert_eq!(path.segments(), ["author", "name"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FieldPath(Vec<String>);

impl FieldPath {
    /// Builds a path from its segments, outermost key first.
    pub fn from_segments<I, S>(segments: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self(segments.into_iter().map(Into::into).collect())
    }

    /// The keys to follow, outermost first.
    pub fn segments(&self) -> &[String] {
        &self.0
    }

    /// Whether this is the path of the record itself.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn child(&self, key: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(key.to_owned());
        Self(segments)
    }

    /// Whether `name` (a dotted path as given in options) names this field or
    /// one of its enclosing objects.
    pub(crate) fn is_within(&self, name: &str) -> bool {
        let dotted = self.to_string();
        dotted == name
            || dotted
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('.'))
    }

    /// Whether `name` addresses a field nested inside this one.
    pub(crate) fn encloses(&self, name: &str) -> bool {
        if self.is_root() {
            return true;
        }
        name.strip_prefix(self.to_string().as_str())
            .is_some_and(|rest| rest.starts_with('.'))
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}
