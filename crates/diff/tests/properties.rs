//! Property tests for the invariants the crate promises: a diff replays onto
//! the old version, and the HTML renderer never lets user data become markup.

// Test helpers outside `#[test]` functions unwrap too: a failure there is a
// test failure.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use moderation_diff::{DiffOptions, Granularity, Presentation, RecordDiff, TextDiff};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Text that mixes prose, markup characters and arbitrary unicode.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-c ,.\n]{0,30}",
        "(<script>|</td>|\" onerror=\"x|' onload='y|&amp;|&|<|>|\"|'|javascript:|https://x.org/?a=<b>|é|👍🏽| |word|\n){0,12}",
    ]
}

/// JSON values nested a few levels deep; keys come from a small set so two
/// generated records share fields, plus arbitrary keys.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["title", "body", "a", "a.b", "url", "<k>"]).prop_map(str::to_owned),
        1 => text(),
    ]
}

fn granularity() -> impl Strategy<Value = Granularity> {
    prop::sample::select(vec![
        Granularity::Auto,
        Granularity::Word,
        Granularity::Line,
        Granularity::Char,
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn applying_a_record_diff_yields_the_new_version(old in json_value(), new in json_value()) {
        let diff = RecordDiff::between(&old, &new, &DiffOptions::new()).unwrap();
        prop_assert_eq!(&diff.apply(&old).unwrap(), &new);
        // A diff stored as JSON and read back replays the same way.
        let stored: RecordDiff = serde_json::from_str(&diff.to_json().unwrap()).unwrap();
        prop_assert_eq!(stored.apply(&old).unwrap(), new);
    }

    #[test]
    fn applying_a_text_diff_yields_the_new_text(
        old in text(),
        new in text(),
        granularity in granularity(),
    ) {
        let options = DiffOptions::new().granularity(granularity);
        let (old, new) = (json!({"body": old}), json!({"body": new}));
        let diff = RecordDiff::between(&old, &new, &options).unwrap();
        prop_assert_eq!(diff.apply(&old).unwrap(), new);
    }

    #[test]
    fn text_diff_spans_spell_both_versions(old in text(), new in text(), granularity in granularity()) {
        let diff = TextDiff::new(&old, &new, granularity, Duration::from_secs(5));
        prop_assert_eq!(diff.old_text(), old);
        prop_assert_eq!(diff.new_text(), new);
    }

    #[test]
    fn html_output_only_contains_the_renderers_markup(
        old in json_value(),
        new in json_value(),
        label in text(),
    ) {
        let resolved = label.clone();
        let options = DiffOptions::new()
            .label("title", label)
            .presentation("url", Presentation::Link)
            .presentation("a", Presentation::Image)
            .resolver("body", move |value| value.as_str().map(|text| format!("{resolved}{text}")));
        let diff = RecordDiff::between(&old, &new, &options).unwrap();
        let html = diff.to_html();
        if let Err(problem) = scan::check(&html) {
            prop_assert!(false, "{problem} in {html}");
        }
    }
}

/// A strict scanner for the renderer's HTML: every tag, attribute, class and
/// entity must be one the renderer itself writes.
mod scan {
    const TAGS: &[&str] = &["table", "tr", "th", "td", "span", "del", "ins", "a", "img"];
    const ATTRIBUTES: &[&str] = &[
        "class",
        "data-field",
        "href",
        "rel",
        "src",
        "alt",
        "loading",
        "referrerpolicy",
    ];
    const CLASSES: &[&str] = &[
        "md-diff",
        "md-field",
        "md-unchanged",
        "md-changed",
        "md-added",
        "md-removed",
        "md-fallback",
        "md-label",
        "md-value",
        "md-del",
        "md-ins",
        "md-modified",
        "md-note",
        "md-link",
        "md-image",
    ];
    const ENTITIES: &[&str] = &["&amp;", "&lt;", "&gt;", "&quot;", "&#39;"];

    pub(super) fn check(html: &str) -> Result<(), String> {
        let mut rest = html;
        while let Some(start) = rest.find('<') {
            text(rest.get(..start).unwrap_or_default())?;
            let after = rest.get(start + 1..).unwrap_or_default();
            rest = tag(after)?;
        }
        text(rest)
    }

    /// Text between tags: no `>` or quote, and only known entities.
    fn text(text: &str) -> Result<(), String> {
        if text.contains('>') {
            return Err(format!("raw `>` in text {text:?}"));
        }
        entities(text)
    }

    fn entities(text: &str) -> Result<(), String> {
        for (index, _) in text.match_indices('&') {
            let tail = text.get(index..).unwrap_or_default();
            if !ENTITIES.iter().any(|entity| tail.starts_with(entity)) {
                return Err(format!("unknown entity at {tail:?}"));
            }
        }
        Ok(())
    }

    /// Parses one tag after its `<` and returns what follows its `>`.
    fn tag(input: &str) -> Result<&str, String> {
        let closing = input.starts_with('/');
        let input = input.strip_prefix('/').unwrap_or(input);
        let name_len = input
            .find(|c: char| !c.is_ascii_lowercase())
            .unwrap_or(input.len());
        let (name, mut rest) = input.split_at(name_len);
        if !TAGS.contains(&name) {
            return Err(format!("unexpected tag {name:?}"));
        }
        loop {
            if let Some(after) = rest.strip_prefix('>') {
                return Ok(after);
            }
            if closing {
                return Err(format!("closing tag {name} with content"));
            }
            rest = rest
                .strip_prefix(' ')
                .ok_or_else(|| format!("malformed <{name}> at {rest:?}"))?;
            let attr_len = rest
                .find(|c: char| !(c.is_ascii_lowercase() || c == '-'))
                .unwrap_or(rest.len());
            let (attribute, after) = rest.split_at(attr_len);
            if !ATTRIBUTES.contains(&attribute) {
                return Err(format!("unexpected attribute {attribute:?} on <{name}>"));
            }
            let after = after
                .strip_prefix("=\"")
                .ok_or_else(|| format!("unquoted attribute {attribute}"))?;
            let end = after
                .find('"')
                .ok_or_else(|| format!("unterminated attribute {attribute}"))?;
            let (value, after) = after.split_at(end);
            if value.contains('<') || value.contains('>') || value.contains('\'') {
                return Err(format!("raw markup in attribute {attribute}={value:?}"));
            }
            entities(value)?;
            match attribute {
                "class" => {
                    if let Some(class) = value.split(' ').find(|class| !CLASSES.contains(class)) {
                        return Err(format!("unexpected class {class:?}"));
                    }
                }
                "href" | "src" => {
                    let lower = value.to_ascii_lowercase();
                    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
                        return Err(format!("unsafe URL {value:?}"));
                    }
                }
                _ => {}
            }
            rest = after.get(1..).unwrap_or_default();
        }
    }

    #[test]
    fn scanner_rejects_injected_markup() {
        assert!(check(r#"<td class="md-value">ok &amp; fine</td>"#).is_ok());
        assert!(check("<td><script>alert(1)</script></td>").is_err());
        assert!(check(r#"<img src="x" onerror="y">"#).is_err());
        assert!(check(r#"<a href="javascript:alert(1)">x</a>"#).is_err());
        assert!(check(r#"<span class="md-del evil">x</span>"#).is_err());
        assert!(check("<td>a > b</td>").is_err());
        assert!(check("<td>&nbsp;</td>").is_err());
    }
}
