//! The compiled list: one Aho-Corasick automaton over the folded text for
//! every case-insensitive literal, one over the exact text for the
//! case-sensitive ones, and one regex set for regular expressions and inner
//! wildcards. Every action shares them, so a scan reads the text once per
//! automaton, however many actions the list uses; each pattern remembers its
//! entry, and the entry its action.

use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::{Regex, RegexSet};

use super::WatchedWord;
use super::normalize::{Normalized, NormalizedText};
use crate::error::ModerationError;

/// What surrounds a literal: a whole word must start and end at a word
/// boundary; a `*` side extends the match to the end of the word instead.
#[derive(Debug, Clone, Copy)]
struct Literal {
    entry: usize,
    open_start: bool,
    open_end: bool,
}

#[derive(Debug)]
struct Automaton {
    automaton: AhoCorasick,
    literals: Vec<Literal>,
}

/// The compiled entries.
#[derive(Debug, Default)]
pub(crate) struct Matcher {
    folded: Option<Automaton>,
    exact: Option<Automaton>,
    regexes: Option<(RegexSet, Vec<(Regex, usize)>)>,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn config(message: String) -> ModerationError {
    ModerationError::Config(message)
}

/// A wildcard entry (`*` inside the word) as a regular expression.
fn wildcard_regex(entry: &WatchedWord) -> String {
    let body: Vec<String> = entry.word.split('*').map(regex::escape).collect();
    let flags = if entry.case_sensitive { "" } else { "(?i)" };
    let start = if entry.word.starts_with('*') {
        ""
    } else {
        r"\b"
    };
    let end = if entry.word.ends_with('*') { "" } else { r"\b" };
    format!(r"{flags}{start}{}{end}", body.join(r"\w*"))
}

fn build(
    patterns: &[String],
    literals: Vec<Literal>,
) -> Result<Option<Automaton>, ModerationError> {
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
    Ok(Some(Automaton {
        automaton,
        literals,
    }))
}

impl Matcher {
    /// Compiles `entries` (with their indexes in the list).
    pub(crate) fn compile(entries: &[(usize, &WatchedWord)]) -> Result<Self, ModerationError> {
        let (mut folded, mut folded_literals) = (Vec::new(), Vec::new());
        let (mut exact, mut exact_literals) = (Vec::new(), Vec::new());
        let (mut sources, mut regexes) = (Vec::new(), Vec::new());
        for &(index, entry) in entries {
            let inner = entry.word.trim_matches('*');
            if entry.regex || inner.contains('*') {
                let source = if entry.regex {
                    let flags = if entry.case_sensitive { "" } else { "(?i)" };
                    format!("{flags}{}", entry.word)
                } else {
                    wildcard_regex(entry)
                };
                let compiled = Regex::new(&source).map_err(|e| {
                    config(format!(
                        "watched word #{index} `{}` is not a valid regular expression: {e}",
                        entry.word
                    ))
                })?;
                sources.push(source);
                regexes.push((compiled, index));
                continue;
            }
            let literal = Literal {
                entry: index,
                open_start: entry.word.starts_with('*'),
                open_end: entry.word.ends_with('*'),
            };
            if entry.case_sensitive {
                exact.push(super::normalize::normalize(inner, true).exact.text);
                exact_literals.push(literal);
            } else {
                folded.push(super::normalize::normalize(inner, false).folded.text);
                folded_literals.push(literal);
            }
        }
        let regexes = if sources.is_empty() {
            None
        } else {
            let set = RegexSet::new(&sources).map_err(|e| {
                config(format!(
                    "watched regular expressions do not compile together: {e}"
                ))
            })?;
            Some((set, regexes))
        };
        Ok(Self {
            folded: build(&folded, folded_literals)?,
            exact: build(&exact, exact_literals)?,
            regexes,
        })
    }

    /// True when matching needs the exact (unfolded) text.
    pub(crate) fn needs_exact(&self) -> bool {
        self.exact.is_some() || self.regexes.is_some()
    }

    /// Every match: `(entry, original byte span)`, in no particular order.
    pub(crate) fn find(&self, text: &NormalizedText, out: &mut Vec<(usize, Range<usize>)>) {
        if let Some(automaton) = &self.folded {
            find_literals(automaton, &text.folded, out);
        }
        if let Some(automaton) = &self.exact {
            find_literals(automaton, &text.exact, out);
        }
        if let Some((set, regexes)) = &self.regexes {
            for matched in set.matches(&text.exact.text).iter() {
                let Some((regex, entry)) = regexes.get(matched) else {
                    continue;
                };
                for m in regex.find_iter(&text.exact.text) {
                    if let Some(span) = text.exact.original(m.range()) {
                        out.push((*entry, span));
                    }
                }
            }
        }
    }
}

fn find_literals(automaton: &Automaton, text: &Normalized, out: &mut Vec<(usize, Range<usize>)>) {
    let haystack = text.text.as_str();
    for m in automaton.automaton.find_overlapping_iter(haystack) {
        let Some(literal) = automaton.literals.get(m.pattern().as_usize()) else {
            continue;
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
