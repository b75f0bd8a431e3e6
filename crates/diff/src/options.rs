//! What to compare and how to present it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::path::FieldPath;

/// How finely a changed text field is compared.
///
/// ```
/// use moderation_diff::{Granularity, TextDiff};
/// use std::time::Duration;
///
/// let diff = TextDiff::new("colour", "color", Granularity::Char, Duration::from_secs(1));
/// assert_eq!(diff.new_text(), "color");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Granularity {
    /// Word level for prose, line level for long text (see
    /// [`DiffOptions::long_text_threshold`]).
    #[default]
    Auto,
    /// Runs of word characters and runs of other characters, like Python's
    /// `re.split(r'(\W+)')` used by django-moderation.
    Word,
    /// Whole lines, each with its line break.
    Line,
    /// Extended grapheme clusters, so an accented letter or an emoji is never
    /// split in two.
    Char,
}

/// How a field's values are shown by the renderers.
///
/// ```
/// use moderation_diff::{DiffOptions, Presentation};
///
/// let options = DiffOptions::new().presentation("avatar", Presentation::Image);
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Presentation {
    /// Plain text (strings diffed, other values as compact JSON).
    #[default]
    Text,
    /// A URL shown as a link when its scheme is `http` or `https`, as escaped
    /// text otherwise.
    Link,
    /// An image URL shown as an `<img>` when its scheme is `http` or `https`,
    /// as escaped text otherwise.
    Image,
}

/// Turns a stored value (typically a related object's id) into the name a
/// moderator should see, like django-moderation's `resolve_foreignkeys`.
type Resolver = Arc<dyn Fn(&Value) -> Option<String> + Send + Sync>;

/// Settings for [`RecordDiff::between`](crate::RecordDiff::between).
///
/// Field names are dotted paths (`"author.name"`). For exclusion, selection,
/// presentation and granularity, naming an object covers every field nested
/// inside it; labels and resolvers apply to the exact field named.
///
/// ```
/// use moderation_diff::{DiffOptions, Granularity};
/// use std::time::Duration;
///
/// let options = DiffOptions::new()
///     .exclude("updated_at")
///     .label("body", "Message")
///     .field_granularity("slug", Granularity::Char)
///     .deadline(Duration::from_millis(200))
///     .resolver("author_id", |id| id.as_u64().map(|id| format!("user #{id}")));
/// # let _ = options;
/// ```
#[derive(Clone)]
pub struct DiffOptions {
    pub(crate) exclude: BTreeSet<String>,
    pub(crate) only: BTreeSet<String>,
    pub(crate) labels: BTreeMap<String, String>,
    pub(crate) resolvers: BTreeMap<String, Resolver>,
    pub(crate) presentations: BTreeMap<String, Presentation>,
    pub(crate) granularity: Granularity,
    pub(crate) field_granularity: BTreeMap<String, Granularity>,
    pub(crate) deadline: Duration,
    pub(crate) long_text_threshold: usize,
}

impl fmt::Debug for DiffOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DiffOptions")
            .field("exclude", &self.exclude)
            .field("only", &self.only)
            .field("labels", &self.labels)
            .field("resolvers", &self.resolvers.keys().collect::<Vec<_>>())
            .field("presentations", &self.presentations)
            .field("granularity", &self.granularity)
            .field("field_granularity", &self.field_granularity)
            .field("deadline", &self.deadline)
            .field("long_text_threshold", &self.long_text_threshold)
            .finish()
    }
}

impl Default for DiffOptions {
    fn default() -> Self {
        Self {
            exclude: BTreeSet::new(),
            only: BTreeSet::new(),
            labels: BTreeMap::new(),
            resolvers: BTreeMap::new(),
            presentations: BTreeMap::new(),
            granularity: Granularity::Auto,
            field_granularity: BTreeMap::new(),
            deadline: Self::DEFAULT_DEADLINE,
            long_text_threshold: Self::DEFAULT_LONG_TEXT_THRESHOLD,
        }
    }
}

impl DiffOptions {
    /// Time allowed for diffing one text field before falling back to a
    /// whole-field replace.
    pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(2);
    /// Size in bytes above which [`Granularity::Auto`] compares multi-line
    /// text line by line.
    pub const DEFAULT_LONG_TEXT_THRESHOLD: usize = 64 * 1024;

    /// Options that compare every field, word by word, with the default
    /// deadline.
    ///
    /// ```
    /// use moderation_diff::DiffOptions;
    /// let options = DiffOptions::new();
    /// # let _ = options;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Leaves a field (and everything nested in it) out of the diff.
    ///
    /// A diff never carries excluded values, so [`apply`](crate::RecordDiff::apply)
    /// keeps the old version's value for them.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    ///
    /// let options = DiffOptions::new().exclude("password_hash");
    /// let diff = RecordDiff::between(
    ///     &json!({"name": "a", "password_hash": "x"}),
    ///     &json!({"name": "b", "password_hash": "y"}),
    ///     &options,
    /// )?;
    /// assert_eq!(diff.changes().len(), 1);
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    #[must_use]
    pub fn exclude(mut self, field: impl Into<String>) -> Self {
        self.exclude.insert(field.into());
        self
    }

    /// Compares only the named fields (may be called several times); without
    /// it every field is compared.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    ///
    /// let options = DiffOptions::new().only("title");
    /// let diff = RecordDiff::between(
    ///     &json!({"title": "a", "views": 1}),
    ///     &json!({"title": "b", "views": 2}),
    ///     &options,
    /// )?;
    /// assert_eq!(diff.changes()[0].path().to_string(), "title");
    /// assert_eq!(diff.changes().len(), 1);
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    #[must_use]
    pub fn only(mut self, field: impl Into<String>) -> Self {
        self.only.insert(field.into());
        self
    }

    /// The human name shown for a field instead of its path.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    ///
    /// let options = DiffOptions::new().label("body", "Message");
    /// let diff = RecordDiff::between(&json!({"body": "a"}), &json!({"body": "b"}), &options)?;
    /// assert_eq!(diff.changes()[0].label(), "Message");
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    #[must_use]
    pub fn label(mut self, field: impl Into<String>, label: impl Into<String>) -> Self {
        self.labels.insert(field.into(), label.into());
        self
    }

    /// Registers a hook that turns a field's value into a display name (for
    /// example a related user's id into their username). Returning `None`
    /// shows the raw value.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    ///
    /// let options = DiffOptions::new()
    ///     .resolver("author_id", |id| (id == &json!(7)).then(|| "alice".to_owned()));
    /// let diff = RecordDiff::between(&json!({"author_id": 3}), &json!({"author_id": 7}), &options)?;
    /// assert_eq!(diff.changes()[0].new_display(), Some("alice"));
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    #[must_use]
    pub fn resolver<F>(mut self, field: impl Into<String>, resolve: F) -> Self
    where
        F: Fn(&Value) -> Option<String> + Send + Sync + 'static,
    {
        self.resolvers.insert(field.into(), Arc::new(resolve));
        self
    }

    /// How the renderers show a field's values (links and images are only
    /// ever produced for `http` / `https` URLs).
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, Presentation};
    /// let options = DiffOptions::new().presentation("website", Presentation::Link);
    /// # let _ = options;
    /// ```
    #[must_use]
    pub fn presentation(mut self, field: impl Into<String>, presentation: Presentation) -> Self {
        self.presentations.insert(field.into(), presentation);
        self
    }

    /// The granularity used for text fields without a per-field setting.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, Granularity};
    /// let options = DiffOptions::new().granularity(Granularity::Line);
    /// # let _ = options;
    /// ```
    #[must_use]
    pub fn granularity(mut self, granularity: Granularity) -> Self {
        self.granularity = granularity;
        self
    }

    /// The granularity for one field, for example [`Granularity::Char`] for a
    /// slug or a code.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, Granularity};
    /// let options = DiffOptions::new().field_granularity("sku", Granularity::Char);
    /// # let _ = options;
    /// ```
    #[must_use]
    pub fn field_granularity(mut self, field: impl Into<String>, granularity: Granularity) -> Self {
        self.field_granularity.insert(field.into(), granularity);
        self
    }

    /// Time allowed for diffing each text field. When it runs out the field is
    /// shown as a whole-field replace and
    /// [`TextDiff::used_fallback`](crate::TextDiff::used_fallback) says so.
    ///
    /// ```
    /// use moderation_diff::DiffOptions;
    /// use std::time::Duration;
    /// let options = DiffOptions::new().deadline(Duration::from_millis(100));
    /// # let _ = options;
    /// ```
    #[must_use]
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Size in bytes above which [`Granularity::Auto`] diffs multi-line text
    /// line by line instead of word by word.
    ///
    /// ```
    /// use moderation_diff::DiffOptions;
    /// let options = DiffOptions::new().long_text_threshold(4096);
    /// # let _ = options;
    /// ```
    #[must_use]
    pub fn long_text_threshold(mut self, bytes: usize) -> Self {
        self.long_text_threshold = bytes;
        self
    }

    pub(crate) fn includes(&self, path: &FieldPath) -> bool {
        if self.exclude.iter().any(|name| path.is_within(name)) {
            return false;
        }
        self.only.is_empty()
            || self
                .only
                .iter()
                .any(|name| path.is_within(name) || path.encloses(name))
    }

    /// The most specific setting registered for `path` or an enclosing object.
    fn lookup<'a, T>(map: &'a BTreeMap<String, T>, path: &FieldPath) -> Option<&'a T> {
        map.iter()
            .filter(|(name, _)| path.is_within(name))
            .max_by_key(|(name, _)| name.len())
            .map(|(_, value)| value)
    }

    pub(crate) fn label_for(&self, path: &FieldPath) -> String {
        self.labels
            .get(&path.to_string())
            .cloned()
            .unwrap_or_else(|| path.to_string())
    }

    pub(crate) fn resolve(&self, path: &FieldPath, value: Option<&Value>) -> Option<String> {
        let resolver = self.resolvers.get(&path.to_string())?;
        value.and_then(|value| resolver(value))
    }

    pub(crate) fn presentation_for(&self, path: &FieldPath) -> Presentation {
        Self::lookup(&self.presentations, path)
            .copied()
            .unwrap_or_default()
    }

    pub(crate) fn granularity_for(&self, path: &FieldPath, old: &str, new: &str) -> Granularity {
        match Self::lookup(&self.field_granularity, path)
            .copied()
            .unwrap_or(self.granularity)
        {
            Granularity::Auto => {
                let long = old.len().max(new.len()) > self.long_text_threshold;
                if long && (old.contains('\n') || new.contains('\n')) {
                    Granularity::Line
                } else {
                    Granularity::Word
                }
            }
            chosen => chosen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(dotted: &str) -> FieldPath {
        FieldPath::from_segments(dotted.split('.'))
    }

    #[test]
    fn exclusion_covers_nested_fields_and_wins_over_selection() {
        let options = DiffOptions::new().only("author").exclude("author.email");
        assert!(options.includes(&path("author.name")));
        assert!(!options.includes(&path("author.email")));
        assert!(!options.includes(&path("authority")));
        assert!(!options.includes(&path("title")));
    }

    #[test]
    fn selecting_a_nested_field_keeps_its_path() {
        let options = DiffOptions::new().only("author.name");
        assert!(options.includes(&path("author.name")));
        assert!(!options.includes(&path("author.email")));
    }

    #[test]
    fn auto_switches_to_lines_for_long_multi_line_text() {
        let options = DiffOptions::new().long_text_threshold(10);
        let field = path("body");
        assert_eq!(
            options.granularity_for(&field, "short", "text"),
            Granularity::Word
        );
        assert_eq!(
            options.granularity_for(&field, "a long line\nand more", "x"),
            Granularity::Line
        );
        assert_eq!(
            options.granularity_for(&field, "a long single line", "x"),
            Granularity::Word
        );
        let options = options.field_granularity("body", Granularity::Char);
        assert_eq!(
            options.granularity_for(&field, "a\nb", "c"),
            Granularity::Char
        );
    }
}
