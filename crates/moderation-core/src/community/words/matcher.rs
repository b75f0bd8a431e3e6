//! The compiled list: one Aho-Corasick automaton over the folded text for
//! every case-insensitive literal, one over the exact text for the
//! case-sensitive ones, and regular expressions for true regexes and inner
//! wildcards. Every action shares them, so a scan reads the text once per
//! automaton, however many actions the list uses; each pattern remembers its
//! entry, and the entry its action.
//!
//! A regular expression rarely matches, and running a few dozen of them over
//! every post costs more than all the literals together. So each one's
//! prefixes (every match starts with one of them, lower-cased) join the
//! folded automaton as triggers, and a regular expression only runs over a
//! text where one of its triggers was seen. Those with no usable prefix
//! (`\w+ing`) run over every text, together, in a regex set.

use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::{Regex, RegexSet};
use regex_syntax::hir::literal::{ExtractKind, Extractor};

use super::WatchedWord;
use super::normalize::{Normalized, normalize, normalize_exact};
use crate::error::ModerationError;

/// What surrounds a literal: a whole word must start and end at a word
/// boundary; a `*` side extends the match to the end of the word instead.
#[derive(Debug, Clone, Copy)]
struct Literal {
    entry: usize,
    open_start: bool,
    open_end: bool,
}

/// What an automaton pattern stands for.
#[derive(Debug, Clone, Copy)]
enum Role {
    /// A watched literal.
    Literal(Literal),
    /// A prefix of the triggered regular expression with this index.
    Trigger(usize),
}

#[derive(Debug)]
struct Automaton {
    automaton: AhoCorasick,
    roles: Vec<Role>,
}

/// The compiled entries.
#[derive(Debug, Default)]
pub(crate) struct Matcher {
    folded: Option<Automaton>,
    exact: Option<Automaton>,
    /// Regular expressions run only when one of their triggers is seen.
    triggered: Vec<(Regex, usize)>,
    /// Regular expressions run over every text.
    always: Option<(RegexSet, Vec<(Regex, usize)>)>,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn config(message: String) -> ModerationError {
    ModerationError::Config(message)
}

/// A wildcard entry (`*` inside the word) as a regular expression, without
/// its case flag.
fn wildcard_regex(entry: &WatchedWord) -> String {
    let body: Vec<String> = entry.word.split('*').map(regex::escape).collect();
    let start = if entry.word.starts_with('*') {
        ""
    } else {
        r"\b"
    };
    let end = if entry.word.ends_with('*') { "" } else { r"\b" };
    format!(r"{start}{}{end}", body.join(r"\w*"))
}

/// The triggers of a regular expression: for a case-insensitive `body`,
/// the prefixes of the case-sensitive one when they are all ASCII (the
/// exact text is NFKC, so the only characters that match an ASCII letter
/// case-insensitively are its two cases, which lower-case alike), else the
/// prefixes of `source` itself, every case variant included.
fn regex_triggers(source: &str, body: &str, case_sensitive: bool) -> Option<Vec<String>> {
    if !case_sensitive
        && let Some(ascii) = triggers(body).filter(|t| t.iter().all(|t| t.is_ascii()))
    {
        return Some(ascii);
    }
    triggers(source)
}

/// The lower-cased prefixes of `source`: every match of it starts with one
/// of them in the exact text, so the folded text (the exact one lower-cased
/// character by character) holds one of the strings returned wherever it
/// matches. `None` when the regular expression has no such prefix (it may
/// start anywhere, or with any of too many strings).
fn triggers(source: &str) -> Option<Vec<String>> {
    let hir = regex_syntax::parse(source).ok()?;
    let prefixes = Extractor::new().kind(ExtractKind::Prefix).extract(&hir);
    let mut triggers = Vec::new();
    for literal in prefixes.literals()? {
        let bytes = literal.as_bytes();
        // A prefix cut short may end inside a character; keep the whole
        // characters before the cut.
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => std::str::from_utf8(bytes.get(..e.valid_up_to())?).ok()?,
        };
        if text.is_empty() {
            return None;
        }
        triggers.push(
            text.chars()
                .flat_map(char::to_lowercase)
                .collect::<String>(),
        );
    }
    if triggers.is_empty() {
        return None;
    }
    triggers.sort_unstable();
    triggers.dedup();
    Some(triggers)
}

fn build(patterns: &[String], roles: Vec<Role>) -> Result<Option<Automaton>, ModerationError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut builder = AhoCorasick::builder();
    builder.match_kind(MatchKind::Standard);
    // A DFA scans several times faster than the NFAs; it is only refused
    // when the list is too large for its size limit, and then the automatic
    // choice (a contiguous NFA) still works.
    let automaton = builder
        .clone()
        .kind(Some(AhoCorasickKind::DFA))
        .build(patterns)
        .or_else(|_| builder.build(patterns))
        .map_err(|e| {
            config(format!(
                "watched words do not compile: {e}; shorten the list"
            ))
        })?;
    Ok(Some(Automaton { automaton, roles }))
}

impl Matcher {
    /// Compiles `entries` (with their indexes in the list).
    pub(crate) fn compile(entries: &[(usize, &WatchedWord)]) -> Result<Self, ModerationError> {
        Self::compile_with(entries, true)
    }

    /// Compiles `entries`; without `prefilter`, every regular expression
    /// runs over every text (the definition the triggers must agree with).
    fn compile_with(
        entries: &[(usize, &WatchedWord)],
        prefilter: bool,
    ) -> Result<Self, ModerationError> {
        let (mut folded, mut folded_roles) = (Vec::new(), Vec::new());
        let (mut exact, mut exact_roles) = (Vec::new(), Vec::new());
        let (mut sources, mut always) = (Vec::new(), Vec::new());
        let mut triggered = Vec::new();
        for &(index, entry) in entries {
            let inner = entry.word.trim_matches('*');
            if entry.regex || inner.contains('*') {
                let body = if entry.regex {
                    entry.word.clone()
                } else {
                    wildcard_regex(entry)
                };
                let flags = if entry.case_sensitive { "" } else { "(?i)" };
                let source = format!("{flags}{body}");
                let compiled = Regex::new(&source).map_err(|e| {
                    config(format!(
                        "watched word #{index} `{}` is not a valid regular expression: {e}",
                        entry.word
                    ))
                })?;
                let prefixes = regex_triggers(&source, &body, entry.case_sensitive);
                match prefixes.filter(|_| prefilter) {
                    Some(prefixes) => {
                        let regex = triggered.len();
                        triggered.push((compiled, index));
                        for prefix in prefixes {
                            folded.push(prefix);
                            folded_roles.push(Role::Trigger(regex));
                        }
                    }
                    None => {
                        sources.push(source);
                        always.push((compiled, index));
                    }
                }
                continue;
            }
            let literal = Role::Literal(Literal {
                entry: index,
                open_start: entry.word.starts_with('*'),
                open_end: entry.word.ends_with('*'),
            });
            if entry.case_sensitive {
                exact.push(normalize(inner, true).exact.text);
                exact_roles.push(literal);
            } else {
                folded.push(normalize(inner, false).folded.text);
                folded_roles.push(literal);
            }
        }
        let always = if sources.is_empty() {
            None
        } else {
            let set = RegexSet::new(&sources).map_err(|e| {
                config(format!(
                    "watched regular expressions do not compile together: {e}"
                ))
            })?;
            Some((set, always))
        };
        Ok(Self {
            folded: build(&folded, folded_roles)?,
            exact: build(&exact, exact_roles)?,
            triggered,
            always,
        })
    }

    /// Every match in `text`: `(entry, original byte span)`, in no
    /// particular order.
    pub(crate) fn find(&self, text: &str, out: &mut Vec<(usize, Range<usize>)>) {
        // The exact form is only built up front when something reads every
        // text in it; a triggered regular expression builds it on demand.
        let needs_exact = self.exact.is_some() || self.always.is_some();
        let normalized = normalize(text, needs_exact);
        let mut fired = Vec::new();
        if let Some(automaton) = &self.folded {
            find_literals(automaton, &normalized.folded, out, &mut fired);
        }
        if let Some(automaton) = &self.exact {
            find_literals(automaton, &normalized.exact, out, &mut fired);
        }
        if let Some((set, regexes)) = &self.always {
            for matched in set.matches(&normalized.exact.text).iter() {
                if let Some((regex, entry)) = regexes.get(matched) {
                    find_regex(regex, *entry, &normalized.exact, out);
                }
            }
        }
        if fired.is_empty() {
            return;
        }
        let built;
        let exact = if needs_exact {
            &normalized.exact
        } else {
            built = normalize_exact(text);
            &built
        };
        fired.sort_unstable();
        fired.dedup();
        for regex in fired {
            if let Some((regex, entry)) = self.triggered.get(regex) {
                find_regex(regex, *entry, exact, out);
            }
        }
    }
}

fn find_regex(
    regex: &Regex,
    entry: usize,
    text: &Normalized,
    out: &mut Vec<(usize, Range<usize>)>,
) {
    for m in regex.find_iter(&text.text) {
        if let Some(span) = text.original(m.range()) {
            out.push((entry, span));
        }
    }
}

/// The literal matches of `automaton` in `text` into `out`, and the
/// triggered regular expressions into `fired`.
fn find_literals(
    automaton: &Automaton,
    text: &Normalized,
    out: &mut Vec<(usize, Range<usize>)>,
    fired: &mut Vec<usize>,
) {
    let haystack = text.text.as_str();
    for m in automaton.automaton.find_overlapping_iter(haystack) {
        let literal = match automaton.roles.get(m.pattern().as_usize()) {
            Some(Role::Literal(literal)) => literal,
            Some(Role::Trigger(regex)) => {
                fired.push(*regex);
                continue;
            }
            None => continue,
        };
        let (mut start, mut end) = (m.start(), m.end());
        let before = haystack.get(..start).and_then(|s| s.chars().next_back());
        let after = haystack.get(end..).and_then(|s| s.chars().next());
        if literal.open_start {
            start = haystack
                .get(..start)
                .and_then(|s| {
                    s.char_indices()
                        .rev()
                        .take_while(|&(_, c)| is_word(c))
                        .last()
                })
                .map_or(start, |(i, _)| i);
        } else if before.is_some_and(is_word) {
            continue;
        }
        if literal.open_end {
            end += haystack.get(end..).map_or(0, |s| {
                s.chars()
                    .take_while(|&c| is_word(c))
                    .map(char::len_utf8)
                    .sum()
            });
        } else if after.is_some_and(is_word) {
            continue;
        }
        if let Some(span) = text.original(start..end) {
            out.push((literal.entry, span));
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::community::WordAction;

    fn found(matcher: &Matcher, text: &str) -> Vec<(usize, Range<usize>)> {
        let mut out = Vec::new();
        matcher.find(text, &mut out);
        out.sort_by_key(|(entry, span)| (*entry, span.start, span.end));
        out.dedup();
        out
    }

    fn entry(word: &str, regex: bool, case_sensitive: bool) -> WatchedWord {
        WatchedWord {
            regex,
            case_sensitive,
            ..WatchedWord::new(word, WordAction::Flag)
        }
    }

    #[test]
    fn prefixes_are_lower_cased_and_unusable_ones_refused() {
        assert_eq!(
            triggers(r"(?i)\bViag?ra\b"),
            Some(vec!["viagra".to_owned(), "viara".to_owned()])
        );
        assert_eq!(
            triggers("(?i)ÉTÉ"),
            Some(vec!["été".to_owned()]),
            "case variants of non-ASCII letters fold together"
        );
        assert_eq!(triggers(r"\w+ing"), None);
        assert_eq!(triggers("a*b"), Some(vec!["a".to_owned(), "b".to_owned()]));
        assert_eq!(triggers("x?"), None, "it can match the empty string");
        assert_eq!(
            regex_triggers(r"(?i)\bLongerwordq\d+", r"\bLongerwordq\d+", false),
            Some(vec!["longerwordq".to_owned()]),
            "an ASCII prefix is taken whole, not cut at the case variants' limit"
        );
    }

    proptest! {
        /// Triggered regular expressions find exactly what running every
        /// regular expression over every text finds.
        #[test]
        fn triggers_find_what_running_every_regex_finds(
            text in prop_oneof![
                "\\PC{0,60}",
                "[a-cA-CéÉ0-9 _*<>\\u{200b}\\u{ff21}]{0,40}",
            ],
            words in proptest::collection::vec(
                (
                    prop_oneof![
                        Just(r"\bab\d+".to_owned()),
                        Just(r"[bc]a".to_owned()),
                        Just(r"É\w".to_owned()),
                        Just("a|b*".to_owned()),
                        Just(r"\d{2}".to_owned()),
                        "[a-cé]{1,3}",
                        "[a-c]{1,2}\\*[a-c]{1,2}",
                    ],
                    any::<bool>(),
                ),
                1..6,
            ),
        ) {
            let entries: Vec<WatchedWord> = words
                .iter()
                .map(|(word, case_sensitive)| {
                    let wildcard = word.contains('*') && !word.contains('\\') && !word.contains('|');
                    entry(word, !wildcard && !word.chars().all(|c| c.is_alphabetic()), *case_sensitive)
                })
                .collect();
            let all: Vec<(usize, &WatchedWord)> = entries.iter().enumerate().collect();
            let fast = Matcher::compile_with(&all, true);
            let plain = Matcher::compile_with(&all, false);
            let (Ok(fast), Ok(plain)) = (fast, plain) else {
                return Err(TestCaseError::fail("the entries compile"));
            };
            prop_assert_eq!(found(&fast, &text), found(&plain, &text));
        }
    }
}
