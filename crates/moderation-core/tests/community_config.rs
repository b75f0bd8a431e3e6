//! Community rules read from TOML, checked like JSON.
#![cfg(feature = "toml")]
#![allow(clippy::panic, clippy::unwrap_used, clippy::indexing_slicing)]

use moderation_core::TrustLevel;
use moderation_core::community::{ActionKind, CommunityConfig, WordAction};

/// A file an operator might write: every section, comments included.
const FILE: &str = r#"
# Community rules for the support forum.

[gates]
private_message = 1
poll = 2

[rate_limits]
cooldown_secs = 10
level_multipliers = [1, 1, 2, 3, 5]

[rate_limits.daily_caps]
topic = 5
reply = 20

[content_limits]
new_user_max_links = 1
same_host_posts = 0

[guard]
threshold = 5
images_count = true

[[watched_words]]
word = "casino*"
action = "block"

[[watched_words]]
word = "colour"
action = "replace"
replacement = "color"

[[watched_words]]
word = '\bviag?ra\b'
action = "require_approval"
regex = true
"#;

fn message(result: Result<CommunityConfig, moderation_core::ModerationError>) -> String {
    match result {
        Ok(config) => panic!("accepted: {config:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_valid_file_sets_every_section_and_keeps_the_other_defaults() {
    let config = CommunityConfig::from_toml(FILE).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        config.gates.minimum[&ActionKind::PrivateMessage],
        TrustLevel::Tl1
    );
    assert_eq!(config.gates.minimum[&ActionKind::Poll], TrustLevel::Tl2);
    assert_eq!(config.rate_limits.cooldown_secs, 10);
    assert_eq!(config.rate_limits.level_multipliers, [1, 1, 2, 3, 5]);
    assert_eq!(config.rate_limits.daily_caps[&ActionKind::Reply], 20);
    assert_eq!(config.content_limits.new_user_max_links, 1);
    assert_eq!(config.content_limits.same_host_posts, 0);
    assert_eq!(
        (config.guard.threshold, config.guard.images_count),
        (5, true)
    );
    let actions: Vec<WordAction> = config.watched_words.iter().map(|w| w.action).collect();
    assert_eq!(
        actions,
        [
            WordAction::Block,
            WordAction::Replace,
            WordAction::RequireApproval
        ]
    );
    assert!(config.watched_words[2].regex);
    let defaults = CommunityConfig::default();
    assert_eq!(config.trust, defaults.trust);
    assert_eq!(
        config.content_limits.max_mentions,
        defaults.content_limits.max_mentions
    );
}

#[test]
fn toml_and_json_read_the_same_settings() {
    let toml = CommunityConfig::from_toml(FILE).unwrap_or_else(|e| panic!("{e}"));
    let json = serde_json::to_string(&toml).unwrap_or_else(|e| panic!("{e}"));
    let back = CommunityConfig::from_json(&json).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(back, toml);
}

#[test]
fn an_empty_file_is_the_defaults() {
    assert_eq!(
        CommunityConfig::from_toml("").unwrap_or_else(|e| panic!("{e}")),
        CommunityConfig::default()
    );
}

#[test]
fn an_unknown_key_is_named_with_its_place() {
    let error = message(CommunityConfig::from_toml(
        "[guard]\nthreshold = 5\nthreshhold = 6\n",
    ));
    assert!(error.contains("unknown field `threshhold`"), "{error}");
    assert!(error.contains("line 3 column 1"), "{error}");
    assert!(error.contains("fix the document"), "{error}");

    let error = message(CommunityConfig::from_toml("[rate_limit]\n"));
    assert!(error.contains("rate_limit"), "{error}");
}

#[test]
fn a_value_of_the_wrong_type_is_named() {
    let error = message(CommunityConfig::from_toml(
        "[content_limits]\nnew_user_max_links = \"two\"\n",
    ));
    assert!(error.contains("invalid type"), "{error}");
    assert!(error.contains("line 2"), "{error}");

    let error = message(CommunityConfig::from_toml(
        "[[watched_words]]\nword = \"casino\"\naction = \"ban\"\n",
    ));
    assert!(error.contains("ban"), "{error}");
}

#[test]
fn an_invalid_setting_is_refused_with_what_to_do() {
    let error = message(CommunityConfig::from_toml(
        "[content_limits]\nsame_host_posts = 1\n",
    ));
    assert!(error.contains("same_host_posts is 1"), "{error}");
    assert!(error.contains("use 0 to turn the check off"), "{error}");

    let error = message(CommunityConfig::from_toml(
        "[[watched_words]]\nword = \"(unclosed\"\naction = \"block\"\nregex = true\n",
    ));
    assert!(error.contains("not a valid regular expression"), "{error}");
}

#[test]
fn broken_syntax_is_located() {
    let error = message(CommunityConfig::from_toml("[guard\nthreshold = 5\n"));
    assert!(error.contains("line 1"), "{error}");
}
