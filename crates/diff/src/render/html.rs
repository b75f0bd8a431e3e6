//! The HTML renderer. Every piece of user data (labels, paths, values, URLs)
//! goes through [`escape`]; markup only ever comes from the literals here.

use std::fmt::Write as _;

use serde_json::Value;

use super::shown;
use crate::options::Presentation;
use crate::record::{ChangeKind, FieldChange, RecordDiff};
use crate::text::{SpanOp, TextDiff};
use crate::url::safe_url;

impl RecordDiff {
    /// The diff as an HTML `<table class="md-diff">`, one row per field.
    ///
    /// Rows carry `md-unchanged`, `md-changed`, `md-added` or `md-removed`;
    /// deleted text is in `<del class="md-del">`, inserted text in
    /// `<ins class="md-ins">`, and a deletion directly followed by an
    /// insertion is wrapped in `<span class="md-modified">`. A field that ran
    /// out of time carries `md-fallback` and a `<span class="md-note">`.
    /// Text keeps its line breaks, so style cells with
    /// `white-space: pre-wrap`. All user data is escaped.
    ///
    /// ```
    /// use moderation_diff::{DiffOptions, RecordDiff};
    /// use serde_json::json;
    ///
    /// let diff = RecordDiff::between(
    ///     &json!({"title": "The quick brown fox"}),
    ///     &json!({"title": "The quick <b>red</b> fox"}),
    ///     &DiffOptions::new(),
    /// )?;
    /// let html = diff.to_html();
    /// assert!(html.contains("&lt;b&gt;"));
    /// assert!(!html.contains("<b>"));
    /// # Ok::<(), moderation_diff::DiffError>(())
    /// ```
    pub fn to_html(&self) -> String {
        let _span = tracing::debug_span!("record_diff_html").entered();
        let mut out = String::from("<table class=\"md-diff\">\n");
        for field in self.changes() {
            row(&mut out, field);
        }
        out.push_str("</table>\n");
        out
    }
}

fn row(out: &mut String, field: &FieldChange) {
    let kind = match field.kind() {
        ChangeKind::Unchanged => "md-unchanged",
        ChangeKind::Changed => "md-changed",
        ChangeKind::Added => "md-added",
        ChangeKind::Removed => "md-removed",
    };
    let fallback = field.text_diff().is_some_and(TextDiff::used_fallback);
    let _ = write!(
        out,
        "<tr class=\"md-field {kind}{}\" data-field=\"{}\"><th class=\"md-label\">{}</th><td class=\"md-value\">",
        if fallback { " md-fallback" } else { "" },
        escape(&field.path().to_string()),
        escape(field.label()),
    );
    match (field.text_diff(), field.old_value(), field.new_value()) {
        (Some(text), _, _) => text_spans(out, text),
        (None, Some(old), Some(new)) if field.kind() == ChangeKind::Changed => {
            out.push_str("<span class=\"md-modified\"><del class=\"md-del\">");
            value(out, field.presentation(), old, field.old_display());
            out.push_str("</del><ins class=\"md-ins\">");
            value(out, field.presentation(), new, field.new_display());
            out.push_str("</ins></span>");
        }
        (None, Some(old), None) => {
            out.push_str("<del class=\"md-del\">");
            value(out, field.presentation(), old, field.old_display());
            out.push_str("</del>");
        }
        (None, None, Some(new)) => {
            out.push_str("<ins class=\"md-ins\">");
            value(out, field.presentation(), new, field.new_display());
            out.push_str("</ins>");
        }
        (None, Some(same), _) => value(out, field.presentation(), same, field.old_display()),
        (None, None, None) => {}
    }
    if fallback {
        out.push_str(
            "<span class=\"md-note\">Too large to compare in time: shown as a whole-field replace.</span>",
        );
    }
    out.push_str("</td></tr>\n");
}

fn text_spans(out: &mut String, text: &TextDiff) {
    let mut spans = text.spans().iter().peekable();
    while let Some(span) = spans.next() {
        match span.op {
            SpanOp::Equal => out.push_str(&escape(&span.text)),
            SpanOp::Insert => {
                let _ = write!(out, "<ins class=\"md-ins\">{}</ins>", escape(&span.text));
            }
            SpanOp::Delete => match spans.next_if(|next| next.op == SpanOp::Insert) {
                Some(inserted) => {
                    let _ = write!(
                        out,
                        "<span class=\"md-modified\"><del class=\"md-del\">{}</del><ins class=\"md-ins\">{}</ins></span>",
                        escape(&span.text),
                        escape(&inserted.text),
                    );
                }
                None => {
                    let _ = write!(out, "<del class=\"md-del\">{}</del>", escape(&span.text));
                }
            },
        }
    }
}

/// One side of a field. Links and images only for `http`/`https` URLs; a
/// resolved display name always wins over the raw value.
fn value(out: &mut String, presentation: Presentation, value: &Value, display: Option<&str>) {
    let url = match (display, value) {
        (None, Value::String(text)) => safe_url(text),
        _ => None,
    };
    match (presentation, url) {
        (Presentation::Link, Some(url)) => {
            let url = escape(url);
            let _ = write!(
                out,
                "<a class=\"md-link\" href=\"{url}\" rel=\"nofollow noopener noreferrer\">{url}</a>"
            );
        }
        (Presentation::Image, Some(url)) => {
            let _ = write!(
                out,
                "<img class=\"md-image\" src=\"{}\" alt=\"\" loading=\"lazy\" referrerpolicy=\"no-referrer\">",
                escape(url)
            );
        }
        _ => out.push_str(&escape(&shown(value, display))),
    }
}

/// Escapes text for use both between tags and inside double- or
/// single-quoted attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;"
        );
    }
}
