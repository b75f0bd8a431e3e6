//! Inline differences between two versions of a text field.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use similar::{DiffTag, TextDiffConfig};

use crate::options::Granularity;
use crate::tokenize;

/// What a [`TextSpan`] does to the old text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanOp {
    /// Present in both versions.
    Equal,
    /// Only in the old version.
    Delete,
    /// Only in the new version.
    Insert,
}

/// A run of text with one [`SpanOp`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TextSpan {
    /// What the span does.
    pub op: SpanOp,
    /// The text of the span, exactly as in the version it comes from.
    pub text: String,
}

/// The inline difference between two texts: a sequence of spans whose
/// `Equal` + `Delete` parts spell the old text and whose `Equal` + `Insert`
/// parts spell the new one.
///
/// Adjacent units with the same operation are merged, so a replaced word is
/// one `Delete` followed by one `Insert`.
///
/// ```
/// use moderation_diff::{Granularity, SpanOp, TextDiff};
/// use std::time::Duration;
///
/// let diff = TextDiff::new(
///     "The quick brown fox",
///     "The quick red fox jumps",
///     Granularity::Word,
///     Duration::from_secs(1),
/// );
/// let changed: Vec<_> = diff
///     .spans()
///     .iter()
///     .filter(|span| span.op != SpanOp::Equal)
///     .map(|span| (span.op, span.text.as_str()))
///     .collect();
/// assert_eq!(
///     changed,
///     [(SpanOp::Delete, "brown"), (SpanOp::Insert, "red"), (SpanOp::Insert, " jumps")]
/// );
/// assert!(!diff.used_fallback());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TextDiff {
    granularity: Granularity,
    fallback: bool,
    spans: Vec<TextSpan>,
}

impl TextDiff {
    /// Compares `old` and `new` unit by unit ([`Granularity::Auto`] means
    /// words here; the per-record choice is made by
    /// [`DiffOptions`](crate::DiffOptions)).
    ///
    /// When the comparison has not finished within `deadline`, the result is
    /// the documented fallback: the whole old text deleted and the whole new
    /// text inserted, with [`used_fallback`](Self::used_fallback) returning
    /// `true`. The result is correct either way, only coarser.
    ///
    /// ```
    /// use moderation_diff::{Granularity, TextDiff};
    /// use std::time::Duration;
    ///
    /// let diff = TextDiff::new("one\ntwo\n", "one\n2\n", Granularity::Line, Duration::from_secs(1));
    /// assert_eq!(diff.spans().len(), 3);
    /// ```
    pub fn new(old: &str, new: &str, granularity: Granularity, deadline: Duration) -> Self {
        let _span = tracing::debug_span!(
            "text_diff",
            ?granularity,
            old_len = old.len(),
            new_len = new.len()
        )
        .entered();
        let granularity = match granularity {
            Granularity::Auto => Granularity::Word,
            chosen => chosen,
        };
        let started = Instant::now();
        let due = started.checked_add(deadline);
        let mut config = TextDiffConfig::default();
        if let Some(due) = due {
            config.deadline(due);
        }
        let spans = match granularity {
            Granularity::Char => {
                let diff = config.diff_graphemes(old, new);
                let old_units: Vec<&str> = diff.iter_old_slices().collect();
                let new_units: Vec<&str> = diff.iter_new_slices().collect();
                spans_from_ops(old, &old_units, new, &new_units, diff.ops())
            }
            Granularity::Line => diff_units(
                &config,
                old,
                &tokenize::lines(old),
                new,
                &tokenize::lines(new),
            ),
            Granularity::Auto | Granularity::Word => diff_units(
                &config,
                old,
                &tokenize::words(old),
                new,
                &tokenize::words(new),
            ),
        };
        // `similar` returns a valid but arbitrarily coarse diff once the
        // deadline passes, so a late result is replaced by the one fallback
        // whose meaning is documented rather than shown half-refined.
        if due.is_some_and(|due| Instant::now() >= due) {
            tracing::warn!(
                ?deadline,
                "text diff ran out of time; showing a whole-field replace"
            );
            return Self::replace_whole(old, new, granularity);
        }
        Self {
            granularity,
            fallback: false,
            spans,
        }
    }

    /// The documented fallback: everything old deleted, everything new inserted.
    fn replace_whole(old: &str, new: &str, granularity: Granularity) -> Self {
        let spans = [(SpanOp::Delete, old), (SpanOp::Insert, new)]
            .into_iter()
            .filter(|(_, text)| !text.is_empty())
            .map(|(op, text)| TextSpan {
                op,
                text: text.to_owned(),
            })
            .collect();
        Self {
            granularity,
            fallback: true,
            spans,
        }
    }

    /// The spans, in reading order.
    ///
    /// ```
    /// use moderation_diff::{Granularity, SpanOp, TextDiff};
    /// use std::time::Duration;
    /// let diff = TextDiff::new("a b", "a c", Granularity::Word, Duration::from_secs(1));
    /// assert_eq!(diff.spans()[0].op, SpanOp::Equal);
    /// ```
    pub fn spans(&self) -> &[TextSpan] {
        &self.spans
    }

    /// The granularity actually used (never [`Granularity::Auto`]).
    ///
    /// ```
    /// use moderation_diff::{Granularity, TextDiff};
    /// use std::time::Duration;
    /// let diff = TextDiff::new("a", "b", Granularity::Auto, Duration::from_secs(1));
    /// assert_eq!(diff.granularity(), Granularity::Word);
    /// ```
    pub fn granularity(&self) -> Granularity {
        self.granularity
    }

    /// Whether the deadline ran out and the field is shown as a whole-field
    /// replace.
    ///
    /// ```
    /// use moderation_diff::{Granularity, TextDiff};
    /// use std::time::Duration;
    /// let diff = TextDiff::new("a b", "a c", Granularity::Word, Duration::ZERO);
    /// assert!(diff.used_fallback());
    /// assert_eq!(diff.new_text(), "a c");
    /// ```
    pub fn used_fallback(&self) -> bool {
        self.fallback
    }

    /// The old text, rebuilt from the spans.
    ///
    /// ```
    /// use moderation_diff::{Granularity, TextDiff};
    /// use std::time::Duration;
    /// let diff = TextDiff::new("a b", "a c", Granularity::Word, Duration::from_secs(1));
    /// assert_eq!(diff.old_text(), "a b");
    /// ```
    pub fn old_text(&self) -> String {
        self.side(SpanOp::Delete)
    }

    /// The new text, rebuilt from the spans.
    ///
    /// ```
    /// use moderation_diff::{Granularity, TextDiff};
    /// use std::time::Duration;
    /// let diff = TextDiff::new("a b", "a c", Granularity::Word, Duration::from_secs(1));
    /// assert_eq!(diff.new_text(), "a c");
    /// ```
    pub fn new_text(&self) -> String {
        self.side(SpanOp::Insert)
    }

    fn side(&self, changed: SpanOp) -> String {
        self.spans
            .iter()
            .filter(|span| span.op == SpanOp::Equal || span.op == changed)
            .map(|span| span.text.as_str())
            .collect()
    }
}

fn diff_units(
    config: &TextDiffConfig,
    old: &str,
    old_units: &[&str],
    new: &str,
    new_units: &[&str],
) -> Vec<TextSpan> {
    let diff = config.diff_slices(old_units, new_units);
    spans_from_ops(old, old_units, new, new_units, diff.ops())
}

/// Byte offset where each unit starts, plus the total length at the end.
fn offsets(units: &[&str]) -> Vec<usize> {
    let mut offsets = Vec::with_capacity(units.len() + 1);
    let mut at = 0;
    offsets.push(at);
    for unit in units {
        at += unit.len();
        offsets.push(at);
    }
    offsets
}

/// Turns unit-index operations into spans of the original texts, merging
/// neighbours with the same operation.
fn spans_from_ops(
    old: &str,
    old_units: &[&str],
    new: &str,
    new_units: &[&str],
    ops: &[similar::DiffOp],
) -> Vec<TextSpan> {
    let old_at = offsets(old_units);
    let new_at = offsets(new_units);
    let byte_range = |at: &[usize], text: &str, range: std::ops::Range<usize>| -> String {
        let start = at.get(range.start).copied().unwrap_or(0);
        let end = at.get(range.end).copied().unwrap_or(start);
        text.get(start..end).unwrap_or_default().to_owned()
    };
    let mut spans: Vec<TextSpan> = Vec::new();
    let mut push = |op: SpanOp, text: String| {
        if text.is_empty() {
            return;
        }
        match spans.last_mut() {
            Some(last) if last.op == op => last.text.push_str(&text),
            _ => spans.push(TextSpan { op, text }),
        }
    };
    for op in ops {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => push(SpanOp::Equal, byte_range(&old_at, old, old_range)),
            DiffTag::Delete => push(SpanOp::Delete, byte_range(&old_at, old, old_range)),
            DiffTag::Insert => push(SpanOp::Insert, byte_range(&new_at, new, new_range)),
            DiffTag::Replace => {
                push(SpanOp::Delete, byte_range(&old_at, old, old_range));
                push(SpanOp::Insert, byte_range(&new_at, new, new_range));
            }
        }
    }
    // A delete that follows an insert is swapped so a replace always reads
    // "old, then new"; the merge above already joined equal neighbours.
    normalize_order(spans)
}

/// Within each run of changed spans, puts all deletions before all
/// insertions and merges them, so renderers see at most one `Delete` then one
/// `Insert` between two `Equal` spans.
fn normalize_order(spans: Vec<TextSpan>) -> Vec<TextSpan> {
    let mut out = Vec::with_capacity(spans.len());
    let mut deleted = String::new();
    let mut inserted = String::new();
    let flush = |out: &mut Vec<TextSpan>, deleted: &mut String, inserted: &mut String| {
        if !deleted.is_empty() {
            out.push(TextSpan {
                op: SpanOp::Delete,
                text: std::mem::take(deleted),
            });
        }
        if !inserted.is_empty() {
            out.push(TextSpan {
                op: SpanOp::Insert,
                text: std::mem::take(inserted),
            });
        }
    };
    for span in spans {
        match span.op {
            SpanOp::Delete => deleted.push_str(&span.text),
            SpanOp::Insert => inserted.push_str(&span.text),
            SpanOp::Equal => {
                flush(&mut out, &mut deleted, &mut inserted);
                out.push(span);
            }
        }
    }
    flush(&mut out, &mut deleted, &mut inserted);
    out
}
