//! Watched words (D6).
#![allow(clippy::panic, clippy::unwrap_used, clippy::indexing_slicing)]

use moderation_core::community::{WatchedWord, WatchedWords, WordAction};

fn block(words: &[&str]) -> WatchedWords {
    let entries = words
        .iter()
        .map(|w| WatchedWord::new(*w, WordAction::Block))
        .collect();
    WatchedWords::new(entries).unwrap_or_else(|e| panic!("valid list: {e}"))
}

fn matched(words: &WatchedWords, text: &str) -> Vec<String> {
    words
        .scan(text)
        .matches
        .into_iter()
        .map(|m| m.matched)
        .collect()
}

#[test]
fn casino_matches_any_case_and_punctuation_but_not_casinos() {
    let words = block(&["casino"]);
    assert_eq!(matched(&words, "CASINO"), ["CASINO"]);
    assert_eq!(matched(&words, "Visit the Casino!"), ["Casino"]);
    assert!(matched(&words, "casinos are fun").is_empty());
}

#[test]
fn casino_star_matches_casinos() {
    let words = block(&["casino*"]);
    assert_eq!(matched(&words, "casinos are fun"), ["casinos"]);
    assert_eq!(matched(&words, "one casino"), ["casino"]);
    assert!(matched(&words, "megacasino").is_empty());
    assert_eq!(matched(&block(&["*casino"]), "megacasino"), ["megacasino"]);
    assert_eq!(matched(&block(&["ca*no"]), "Caaasino"), ["Caaasino"]);
}

#[test]
fn a_word_split_by_a_zero_width_space_still_matches() {
    let words = block(&["casino"]);
    let text = "play ca\u{200b}sino now";
    let scan = words.scan(text);
    assert_eq!(scan.matches.len(), 1);
    assert_eq!(scan.matches.first().map(|m| m.span.clone()), Some(5..14));
}

#[test]
fn a_word_split_by_an_html_tag_still_matches() {
    let words = block(&["casino"]);
    assert_eq!(matched(&words, "play <b>cas</b>ino now"), ["cas</b>ino"]);
    assert_eq!(matched(&words, "play **cas**ino now"), ["cas**ino"]);
    assert_eq!(matched(&words, "ＣＡＳＩＮＯ"), ["ＣＡＳＩＮＯ"]);
}

#[test]
fn censor_replaces_with_the_same_number_of_characters() {
    let words = WatchedWords::new(vec![WatchedWord::new("darn", WordAction::Censor)])
        .unwrap_or_else(|e| panic!("{e}"));
    let text = "Darn it, darn ünïcode DARN";
    let out = words.rewrite(text, &words.scan(text));
    assert_eq!(out, "■■■■ it, ■■■■ ünïcode ■■■■");
    assert_eq!(out.chars().count(), text.chars().count());
}

#[test]
fn replace_puts_the_replacement_in() {
    let words = WatchedWords::new(vec![WatchedWord::replace("colour", "color")])
        .unwrap_or_else(|e| panic!("{e}"));
    let text = "Colour me surprised";
    assert_eq!(words.rewrite(text, &words.scan(text)), "color me surprised");
}

#[test]
fn block_lists_every_match_with_its_span() {
    let words = block(&["casino", "poker"]);
    let text = "casino, Poker and CASINO";
    let scan = words.scan(text);
    let spans: Vec<_> = scan
        .matches
        .iter()
        .map(|m| (m.matched.as_str(), m.span.clone()))
        .collect();
    assert_eq!(
        spans,
        [("casino", 0..6), ("Poker", 8..13), ("CASINO", 18..24)]
    );
}

#[test]
fn case_sensitive_entries_and_regexes() {
    let words = WatchedWords::new(vec![
        WatchedWord::new("NASA", WordAction::Flag).case_sensitive(),
        WatchedWord::regex(r"\bviag?ra\b", WordAction::RequireApproval),
    ])
    .unwrap_or_else(|e| panic!("{e}"));
    let scan = words.scan("nasa NASA Viagra");
    let found: Vec<_> = scan
        .matches
        .iter()
        .map(|m| (m.action, m.matched.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (WordAction::RequireApproval, "Viagra"),
            (WordAction::Flag, "NASA")
        ]
    );
}

#[test]
fn phrases_match_as_whole_words() {
    let words = block(&["buy now"]);
    assert_eq!(matched(&words, "Click, BUY NOW!"), ["BUY NOW"]);
    assert!(matched(&words, "buy nowhere").is_empty());
}

#[test]
fn nested_words_and_phrases_all_match_from_the_same_word_start() {
    let words = block(&["free", "free money", "money", "éte", "-deal"]);
    assert_eq!(
        matched(&words, "Free money, ÉTÉ, été, a -deal, freedom, moneyfree"),
        ["Free", "Free money", "money", "-deal"]
    );
    assert_eq!(matched(&words, "(free)"), ["free"]);
    assert!(matched(&words, "carefree_money").is_empty());
}

#[test]
fn a_regex_at_a_word_boundary_matches_after_any_character_that_is_not_a_word_character() {
    let entries = vec![WatchedWord::regex(r"\bviagra\d+", WordAction::Block)];
    let words = WatchedWords::new(entries).unwrap_or_else(|e| panic!("valid list: {e}"));
    assert_eq!(matched(&words, "buy viagra100 now"), ["viagra100"]);
    assert_eq!(matched(&words, "«Viagra5»"), ["Viagra5"]);
    // U+1372 is a number but not a word character to the regular
    // expression, so `\b` holds after it.
    assert_eq!(matched(&words, "\u{1372}viagra7"), ["viagra7"]);
    assert!(matched(&words, "xviagra1").is_empty());
}

#[test]
fn the_list_is_recompiled_only_when_it_changes() {
    let words = block(&["casino"]);
    assert!(
        !words
            .replace(vec![WatchedWord::new("casino", WordAction::Block)])
            .unwrap_or(true)
    );
    assert!(
        words
            .replace(vec![WatchedWord::new("poker", WordAction::Block)])
            .unwrap_or(false)
    );
    assert!(matched(&words, "casino").is_empty());
    assert_eq!(matched(&words, "poker"), ["poker"]);
}

#[test]
fn a_bad_entry_is_a_config_error_and_keeps_the_list() {
    let words = block(&["casino"]);
    let bad = words.replace(vec![WatchedWord::regex("(unclosed", WordAction::Block)]);
    let message = bad.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.contains("not a valid regular expression"),
        "{message}"
    );
    assert_eq!(matched(&words, "casino"), ["casino"]);
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Every reported span lies on character boundaries of the original
        /// text and the censored text keeps its character count.
        #[test]
        fn spans_are_valid_and_censor_keeps_length(text in "\\PC{0,80}") {
            let words = WatchedWords::new(vec![
                WatchedWord::new("ab", WordAction::Censor),
                WatchedWord::new("c*", WordAction::Censor),
            ]).unwrap_or_else(|e| panic!("{e}"));
            let scan = words.scan(&text);
            for m in &scan.matches {
                prop_assert!(text.get(m.span.clone()).is_some());
            }
            let out = words.rewrite(&text, &scan);
            prop_assert_eq!(out.chars().count(), text.chars().count());
        }
    }
}
