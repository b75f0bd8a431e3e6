//! Snapshots of the HTML, JSON and text renderings for the cases a moderator
//! meets most. Review changes with `cargo insta review`.

// Test helpers outside `#[test]` functions unwrap too: a failure there is a
// test failure.
#![allow(clippy::unwrap_used)]

use moderation_diff::{DiffOptions, Presentation, RecordDiff};
use serde_json::{Value, json};

/// Renders one case three ways and snapshots each under `<name>_html`,
/// `<name>_json` and `<name>_text`; every case must also replay onto `old`.
fn snapshot_all(name: &str, old: &Value, new: &Value, options: &DiffOptions) -> RecordDiff {
    let diff = RecordDiff::between(old, new, options).unwrap();
    insta::assert_snapshot!(format!("{name}_html"), diff.to_html());
    let json: Value = serde_json::from_str(&diff.to_json().unwrap()).unwrap();
    insta::assert_json_snapshot!(format!("{name}_json"), json);
    insta::assert_snapshot!(format!("{name}_text"), diff.to_unified_text());
    diff
}

/// Snapshots a case whose options leave nothing out, so replaying the diff
/// gives back exactly the new version.
fn snapshot_and_replay(name: &str, old: &Value, new: &Value, options: &DiffOptions) {
    let diff = snapshot_all(name, old, new, options);
    assert_eq!(&diff.apply(old).unwrap(), new);
}

#[test]
fn one_word_change() {
    snapshot_and_replay(
        "one_word_change",
        &json!({"title": "The quick brown fox"}),
        &json!({"title": "The quick red fox"}),
        &DiffOptions::new().label("title", "Title"),
    );
}

#[test]
fn insertion_at_end() {
    snapshot_and_replay(
        "insertion_at_end",
        &json!({"title": "The quick brown fox"}),
        &json!({"title": "The quick brown fox jumps over the lazy dog."}),
        &DiffOptions::new(),
    );
}

#[test]
fn multi_paragraph_edit() {
    let old = "First paragraph stays as it was.\n\n\
               Second paragraph has a typo in teh middle.\n\n\
               Third paragraph will be removed entirely.\n\n\
               Fourth paragraph ends the post.";
    let new = "First paragraph stays as it was.\n\n\
               Second paragraph has a typo fixed in the middle.\n\n\
               Fourth paragraph ends the post, with a P.S.";
    snapshot_and_replay(
        "multi_paragraph_edit",
        &json!({"body": old}),
        &json!({"body": new}),
        &DiffOptions::new().label("body", "Message"),
    );
}

#[test]
fn non_text_field() {
    snapshot_and_replay(
        "non_text_field",
        &json!({"title": "Same", "score": 3, "pinned": false, "tags": ["a", "b"], "meta": {"lang": "en"}}),
        &json!({"title": "Same", "score": 4.5, "pinned": true, "tags": ["a", "c"], "meta": {"lang": "en", "region": null}}),
        &DiffOptions::new(),
    );
}

#[test]
fn excluded_field() {
    let old = json!({"title": "Hello", "internal_note": "secret one"});
    let diff = snapshot_all(
        "excluded_field",
        &old,
        &json!({"title": "Hello world", "internal_note": "secret two"}),
        &DiffOptions::new().exclude("internal_note"),
    );
    // The excluded value never travels with the diff: replaying keeps the old one.
    assert!(!diff.to_json().unwrap().contains("secret"));
    assert_eq!(
        diff.apply(&old).unwrap(),
        json!({"title": "Hello world", "internal_note": "secret one"})
    );
}

#[test]
fn resolved_related_id() {
    let users = [(1, "alice"), (2, "bob <admin>")];
    let options =
        DiffOptions::new()
            .label("author_id", "Author")
            .resolver("author_id", move |id| {
                users
                    .iter()
                    .find(|(known, _)| id.as_u64() == Some(*known))
                    .map(|(_, name)| (*name).to_owned())
            });
    snapshot_and_replay(
        "resolved_related_id",
        &json!({"author_id": 1, "title": "Post"}),
        &json!({"author_id": 2, "title": "Post"}),
        &options,
    );
}

#[test]
fn image_url() {
    snapshot_and_replay(
        "image_url",
        &json!({"avatar": "https://img.example.org/old.png", "website": "http://example.org/a?x=1&y=\"2\""}),
        &json!({"avatar": "https://img.example.org/new.png", "website": "https://example.org/b"}),
        &DiffOptions::new()
            .presentation("avatar", Presentation::Image)
            .presentation("website", Presentation::Link),
    );
}

#[test]
fn javascript_url() {
    snapshot_and_replay(
        "javascript_url",
        &json!({"avatar": "https://img.example.org/a.png", "website": "https://example.org"}),
        &json!({"avatar": "javascript:alert('x')", "website": "JaVaScRiPt:alert(document.cookie)"}),
        &DiffOptions::new()
            .presentation("avatar", Presentation::Image)
            .presentation("website", Presentation::Link),
    );
}
