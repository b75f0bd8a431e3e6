//! The plain-text renderer: one block per field, changed text fields as
//! unified-diff hunks.

use std::fmt::Write as _;
use std::time::Duration;

use super::shown;
use crate::record::{ChangeKind, FieldChange, RecordDiff};

/// Time allowed for the line diff behind one field's hunks; past it,
/// `similar` returns coarser hunks, still correct.
const HUNK_DEADLINE: Duration = Duration::from_millis(500);

impl RecordDiff {
    /// The diff as plain text, one block per field:
    ///
    /// - `  label: value` unchanged, `- label: value` removed,
    ///   `+ label: value` added;
    /// - `~ label` changed, followed by `-old` / `+new` lines, or by unified
    ///   hunks (`@@ -1,2 +1,2 @@`) for text fields.
    ///
    /// Continuation lines of multi-line values are indented.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    ///
    /// let diff = RecordDiff::between(
    ///     &json!({"title": "Hello", "views": 3}),
    ///     &json!({"title": "Hello", "views": 4}),
    ///     &DiffOptions::new(),
    /// )?;
    /// assert_eq!(diff.to_unified_text(), "  title: Hello\n~ views\n  -3\n  +4\n");
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn to_unified_text(&self) -> String {
        let _span = tracing::debug_span!("record_diff_text").entered();
        let mut out = String::new();
        for field in self.changes() {
            block(&mut out, field);
        }
        out
    }
}

fn block(out: &mut String, field: &FieldChange) {
    let label = field.label();
    match (field.kind(), field.old_value(), field.new_value()) {
        (ChangeKind::Unchanged, Some(value), _) => {
            one_line(out, ' ', label, &shown(value, field.old_display()));
        }
        (ChangeKind::Removed, Some(value), _) => {
            one_line(out, '-', label, &shown(value, field.old_display()));
        }
        (ChangeKind::Added, _, Some(value)) => {
            one_line(out, '+', label, &shown(value, field.new_display()));
        }
        (_, old, new) => {
            let _ = writeln!(out, "~ {label}");
            let old = old.map(|value| shown(value, field.old_display()));
            let new = new.map(|value| shown(value, field.new_display()));
            match field.text_diff() {
                Some(text) if text.used_fallback() => {
                    out.push_str("  (too large to compare in time: whole-field replace)\n");
                    prefixed(out, "  -", old.as_deref().unwrap_or_default());
                    prefixed(out, "  +", new.as_deref().unwrap_or_default());
                }
                Some(_) => hunks(
                    out,
                    old.as_deref().unwrap_or_default(),
                    new.as_deref().unwrap_or_default(),
                ),
                None => {
                    prefixed(out, "  -", old.as_deref().unwrap_or_default());
                    prefixed(out, "  +", new.as_deref().unwrap_or_default());
                }
            }
        }
    }
}

fn one_line(out: &mut String, sign: char, label: &str, value: &str) {
    let mut lines = value.split('\n');
    let _ = writeln!(out, "{sign} {label}: {}", lines.next().unwrap_or_default());
    for line in lines {
        let _ = writeln!(out, "    {line}");
    }
}

fn prefixed(out: &mut String, prefix: &str, value: &str) {
    for line in value.split('\n') {
        let _ = writeln!(out, "{prefix}{line}");
    }
}

fn hunks(out: &mut String, old: &str, new: &str) {
    let diff = similar::TextDiff::configure()
        .timeout(HUNK_DEADLINE)
        .diff_lines(old, new);
    let mut unified = diff.unified_diff();
    unified.context_radius(3).missing_newline_hint(false);
    for hunk in unified.iter_hunks() {
        for line in hunk.to_string().lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
}
