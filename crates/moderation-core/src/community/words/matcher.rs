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
//!
//! Most literals are whole words at their start: they can only match where
//! a word begins. Scanning every byte of the text through a 10 000-word
//! automaton costs about fifteen instructions a byte; so those literals get
//! an anchored automaton of their own, walked by hand from each word start,
//! where it is usually dead within a few bytes (ASCII text is classified
//! eight bytes at a time to find the starts). The triggers of a regular
//! expression that starts with `\b` join it. Only the rest (a leading `*`,
//! a first character that is not a word character, triggers that may start
//! inside a word) keep the overlapping scan of the whole text.

use std::ops::Range;

use aho_corasick::automaton::{self as ac, StateID};
use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, MatchKind, StartKind, dfa, nfa};
use regex::{Regex, RegexSet};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind, Look};

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

/// The patterns found anywhere in the text, by an overlapping scan.
#[derive(Debug)]
struct Automaton {
    automaton: AhoCorasick,
    roles: Vec<Role>,
}

/// An automaton for anchored searches only: its start state has no loop
/// back to itself, so a walk from a word start dies as soon as no pattern
/// continues with the next byte.
#[derive(Debug)]
enum Anchor {
    /// The fast form.
    Dfa(dfa::DFA),
    /// The fallback when the list is too large for a DFA.
    Nfa(nfa::contiguous::NFA),
}

/// The literals that start with a word character and must start a word,
/// and the triggers of regular expressions that start at a word boundary.
#[derive(Debug)]
struct WordStarts {
    automaton: Anchor,
    roles: Vec<Role>,
}

/// Every literal (and trigger) matched in one form of the text.
#[derive(Debug, Default)]
struct Literals {
    word_starts: Option<WordStarts>,
    anywhere: Option<Automaton>,
}

/// The patterns of one form of the text, sorted by how they are searched.
#[derive(Debug, Default)]
struct Patterns {
    /// Whether literals that must start a word go to their own automaton.
    word_starts: bool,
    anchored: Vec<String>,
    anchored_roles: Vec<Role>,
    anywhere: Vec<String>,
    anywhere_roles: Vec<Role>,
}

impl Patterns {
    fn new(word_starts: bool) -> Self {
        Self {
            word_starts,
            ..Self::default()
        }
    }

    fn literal(&mut self, pattern: String, literal: Literal) {
        // A literal that starts with anything but a word character, or
        // with nothing (an empty pattern matches everywhere), may match
        // where no word starts: it stays in the overlapping scan.
        if self.word_starts && !literal.open_start && pattern.chars().next().is_some_and(is_word) {
            self.anchored.push(pattern);
            self.anchored_roles.push(Role::Literal(literal));
        } else {
            self.anywhere.push(pattern);
            self.anywhere_roles.push(Role::Literal(literal));
        }
    }

    /// A trigger of a regular expression that, with `at_word_start`,
    /// only matches after a word boundary.
    fn trigger(&mut self, pattern: String, regex: usize, at_word_start: bool) {
        // The walks start wherever the character before is not an ASCII
        // word character, a superset of where the regular expression's
        // `\b` holds (whose word characters differ from `is_word` beyond
        // ASCII), provided the trigger starts with an ASCII one.
        let ascii_word = pattern.bytes().next().is_some_and(is_ascii_word);
        if self.word_starts && at_word_start && ascii_word {
            self.anchored.push(pattern);
            self.anchored_roles.push(Role::Trigger(regex));
        } else {
            self.anywhere.push(pattern);
            self.anywhere_roles.push(Role::Trigger(regex));
        }
    }

    fn build(self) -> Result<Literals, ModerationError> {
        let word_starts = if self.anchored.is_empty() {
            None
        } else {
            Some(WordStarts {
                automaton: build_anchored(&self.anchored)?,
                roles: self.anchored_roles,
            })
        };
        Ok(Literals {
            word_starts,
            anywhere: build(&self.anywhere, self.anywhere_roles)?,
        })
    }
}

/// The compiled entries.
#[derive(Debug, Default)]
pub(crate) struct Matcher {
    folded: Literals,
    exact: Literals,
    /// Regular expressions run only when one of their triggers is seen.
    triggered: Vec<(Regex, usize)>,
    /// Regular expressions run over every text.
    always: Option<(RegexSet, Vec<(Regex, usize)>)>,
}

/// How a matcher searches; tests compare the fast plan with the plain one.
#[derive(Debug, Clone, Copy)]
struct Plan {
    /// Regular expressions run only where one of their triggers was seen
    /// (else every one runs over every text).
    triggers: bool,
    /// Literals that must start a word are walked from word starts (else
    /// every literal is found by the overlapping scan of the whole text).
    word_starts: bool,
}

impl Plan {
    const FAST: Self = Self {
        triggers: true,
        word_starts: true,
    };
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// [`is_word`] for an ASCII byte.
fn is_ascii_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
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

/// Whether every match of `hir` starts where the character before is not
/// a word character: it opens with `\b` (or a word-start assertion).
fn starts_at_word_boundary(hir: &Hir) -> bool {
    match hir.kind() {
        HirKind::Look(look) => matches!(
            look,
            Look::WordAscii
                | Look::WordUnicode
                | Look::WordStartAscii
                | Look::WordStartUnicode
                | Look::WordStartHalfAscii
                | Look::WordStartHalfUnicode
        ),
        HirKind::Concat(items) => items.first().is_some_and(starts_at_word_boundary),
        HirKind::Capture(capture) => starts_at_word_boundary(&capture.sub),
        _ => false,
    }
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

// Standard semantics keep every pattern of a match state, so a walk
// reports `free` and `free money` both; no prefilter, as a walk never asks
// for one.
fn anchored_dfa(patterns: &[String]) -> Result<dfa::DFA, aho_corasick::BuildError> {
    dfa::DFA::builder()
        .match_kind(MatchKind::Standard)
        .start_kind(StartKind::Anchored)
        .prefilter(false)
        .build(patterns)
}

fn anchored_nfa(patterns: &[String]) -> Result<nfa::contiguous::NFA, aho_corasick::BuildError> {
    nfa::contiguous::NFA::builder()
        .match_kind(MatchKind::Standard)
        .prefilter(false)
        .build(patterns)
}

fn build_anchored(patterns: &[String]) -> Result<Anchor, ModerationError> {
    anchored_dfa(patterns)
        .map(Anchor::Dfa)
        .or_else(|_| anchored_nfa(patterns).map(Anchor::Nfa))
        .map_err(|e| {
            config(format!(
                "watched words do not compile: {e}; shorten the list"
            ))
        })
}

impl Matcher {
    /// Compiles `entries` (with their indexes in the list).
    pub(crate) fn compile(entries: &[(usize, &WatchedWord)]) -> Result<Self, ModerationError> {
        Self::compile_with(entries, Plan::FAST)
    }

    /// Compiles `entries` searched as `plan` says.
    fn compile_with(
        entries: &[(usize, &WatchedWord)],
        plan: Plan,
    ) -> Result<Self, ModerationError> {
        let mut folded = Patterns::new(plan.word_starts);
        let mut exact = Patterns::new(plan.word_starts);
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
                match prefixes.filter(|_| plan.triggers) {
                    Some(prefixes) => {
                        let regex = triggered.len();
                        triggered.push((compiled, index));
                        let at_word_start = regex_syntax::parse(&source)
                            .is_ok_and(|hir| starts_at_word_boundary(&hir));
                        for prefix in prefixes {
                            folded.trigger(prefix, regex, at_word_start);
                        }
                    }
                    None => {
                        sources.push(source);
                        always.push((compiled, index));
                    }
                }
                continue;
            }
            let literal = Literal {
                entry: index,
                open_start: entry.word.starts_with('*'),
                open_end: entry.word.ends_with('*'),
            };
            if entry.case_sensitive {
                exact.literal(normalize(inner, true).exact.text, literal);
            } else {
                folded.literal(normalize(inner, false).folded.text, literal);
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
            folded: folded.build()?,
            exact: exact.build()?,
            triggered,
            always,
        })
    }

    /// Every match in `text`: `(entry, original byte span)`, in no
    /// particular order.
    pub(crate) fn find(&self, text: &str, out: &mut Vec<(usize, Range<usize>)>) {
        // The exact form is only built up front when something reads every
        // text in it; a triggered regular expression builds it on demand.
        let needs_exact = self.exact.word_starts.is_some()
            || self.exact.anywhere.is_some()
            || self.always.is_some();
        let normalized = normalize(text, needs_exact);
        let mut fired = Vec::new();
        find_literals(&self.folded, &normalized.folded, out, &mut fired);
        find_literals(&self.exact, &normalized.exact, out, &mut fired);
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

/// The literal matches of `literals` in `text` into `out`, and the
/// triggered regular expressions into `fired`.
fn find_literals(
    literals: &Literals,
    text: &Normalized,
    out: &mut Vec<(usize, Range<usize>)>,
    fired: &mut Vec<usize>,
) {
    if let Some(word_starts) = &literals.word_starts {
        match &word_starts.automaton {
            Anchor::Dfa(automaton) => {
                walk_word_starts(automaton, &word_starts.roles, text, out, fired);
            }
            Anchor::Nfa(automaton) => {
                walk_word_starts(automaton, &word_starts.roles, text, out, fired);
            }
        }
    }
    if let Some(anywhere) = &literals.anywhere {
        find_anywhere(anywhere, text, out, fired);
    }
}

/// The overlapping scan of the whole text.
fn find_anywhere(
    automaton: &Automaton,
    text: &Normalized,
    out: &mut Vec<(usize, Range<usize>)>,
    fired: &mut Vec<usize>,
) {
    for m in automaton
        .automaton
        .find_overlapping_iter(text.text.as_str())
    {
        match automaton.roles.get(m.pattern().as_usize()) {
            Some(Role::Literal(literal)) => accept(literal, text, m.start(), m.end(), out),
            Some(Role::Trigger(regex)) => fired.push(*regex),
            None => {}
        }
    }
}

/// Walks `automaton` (anchored) from every word character of `text` that
/// does not follow an ASCII word character: every word start, and a few
/// more after non-ASCII characters, where only triggers may match (a
/// literal is checked against its boundary when found).
fn walk_word_starts<A: ac::Automaton>(
    automaton: &A,
    roles: &[Role],
    text: &Normalized,
    out: &mut Vec<(usize, Range<usize>)>,
    fired: &mut Vec<usize>,
) {
    let Ok(start) = automaton.start_state(Anchored::Yes) else {
        return;
    };
    let mut walker = Walker {
        automaton,
        start,
        roles,
        text,
        out,
        fired,
    };
    let bytes = text.text.as_bytes();
    let mut after_ascii_word = false;
    let (chunks, remainder) = bytes.as_chunks::<64>();
    let mut base = 0;
    for chunk in chunks {
        if chunk.is_ascii() {
            let mut words: u64 = 0;
            for (i, &eight) in chunk.as_chunks::<8>().0.iter().enumerate() {
                words |= ascii_word_bits(u64::from_le_bytes(eight)) << (8 * i);
            }
            let mut starts = words & !((words << 1) | u64::from(after_ascii_word));
            while starts != 0 {
                walker.walk(base + starts.trailing_zeros() as usize);
                starts &= starts - 1;
            }
            after_ascii_word = words >> 63 == 1;
        } else {
            after_ascii_word = walker.walk_bytes(base, chunk, after_ascii_word);
        }
        base += chunk.len();
    }
    walker.walk_bytes(base, remainder, after_ascii_word);
}

/// Eight bytes of ASCII as eight bits, bit `i` set when byte `i` (little
/// endian) is a word character: `[0-9A-Za-z_]`, tested on all eight at once
/// (the bytes are below 0x80, so no sum carries into the next byte).
fn ascii_word_bits(bytes: u64) -> u64 {
    const fn splat(byte: u8) -> u64 {
        u64::from_le_bytes([byte; 8])
    }
    // The high bit of each byte set where lo <= byte <= hi.
    let within = |bytes: u64, lo: u8, hi: u8| {
        let at_least_lo = bytes.wrapping_add(splat(0x80 - lo));
        let above_hi = bytes.wrapping_add(splat(0x7F - hi));
        at_least_lo & !above_hi & splat(0x80)
    };
    let words = within(bytes | splat(0x20), b'a', b'z')
        | within(bytes, b'0', b'9')
        | within(bytes, b'_', b'_');
    // Gathers the eight high bits into the top byte, byte 0 lowest.
    (words >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56
}

/// An anchored walk through one text.
struct Walker<'a, A> {
    automaton: &'a A,
    start: StateID,
    roles: &'a [Role],
    text: &'a Normalized,
    out: &'a mut Vec<(usize, Range<usize>)>,
    fired: &'a mut Vec<usize>,
}

impl<A: ac::Automaton> Walker<'_, A> {
    /// Walks from the starts in `bytes`, which begin at `base` in the text,
    /// one byte at a time (decoding non-ASCII characters); returns whether
    /// the last character is an ASCII word character.
    fn walk_bytes(&mut self, base: usize, bytes: &[u8], mut after_ascii_word: bool) -> bool {
        for (i, &byte) in bytes.iter().enumerate() {
            let at = base + i;
            if byte.is_ascii() {
                let word = is_ascii_word(byte);
                if word && !after_ascii_word {
                    self.walk(at);
                }
                after_ascii_word = word;
            } else if byte >= 0xC0 {
                // The first byte of a character (later ones are skipped).
                let word = self
                    .text
                    .text
                    .get(at..)
                    .and_then(|rest| rest.chars().next())
                    .is_some_and(is_word);
                if word && !after_ascii_word {
                    self.walk(at);
                }
                after_ascii_word = false;
            }
        }
        after_ascii_word
    }

    /// Follows the automaton from the text's byte `at` until it dies,
    /// reporting every pattern that begins at `at`.
    #[inline]
    fn walk(&mut self, at: usize) {
        let automaton = self.automaton;
        let bytes = self.text.text.as_bytes();
        let mut state = self.start;
        let mut end = at;
        while let Some(&byte) = bytes.get(end) {
            end += 1;
            state = automaton.next_state(Anchored::Yes, state, byte);
            if automaton.is_special(state) {
                if automaton.is_dead(state) {
                    return;
                }
                if automaton.is_match(state) {
                    self.report(state, at, end - at);
                }
            }
        }
    }

    /// Reports the patterns of the match state `state` that are `len` bytes
    /// long, so begin at `at`: the state also holds the patterns that end
    /// there but started later (the DFA copies them from its failure
    /// states); those are found from their own start.
    #[cold]
    fn report(&mut self, state: StateID, at: usize, len: usize) {
        for index in 0..self.automaton.match_len(state) {
            let pattern = self.automaton.match_pattern(state, index);
            if self.automaton.pattern_len(pattern) != len {
                continue;
            }
            match self.roles.get(pattern.as_usize()) {
                Some(Role::Literal(literal)) => accept(literal, self.text, at, at + len, self.out),
                Some(Role::Trigger(regex)) => self.fired.push(*regex),
                None => {}
            }
        }
    }
}

/// Checks a literal found at `start..end` against the word boundaries its
/// entry asks for, widens a `*` side to the whole word, and records it.
fn accept(
    literal: &Literal,
    text: &Normalized,
    mut start: usize,
    mut end: usize,
    out: &mut Vec<(usize, Range<usize>)>,
) {
    let haystack = text.text.as_str();
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
        return;
    }
    if literal.open_end {
        end += haystack.get(end..).map_or(0, |s| {
            s.chars()
                .take_while(|&c| is_word(c))
                .map(char::len_utf8)
                .sum()
        });
    } else if after.is_some_and(is_word) {
        return;
    }
    if let Some(span) = text.original(start..end) {
        out.push((literal.entry, span));
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

    #[test]
    fn ascii_word_bits_agree_with_the_byte_test() {
        for byte in 0..0x80_u8 {
            for at in 0..8 {
                let mut bytes = [b' '; 8];
                if let Some(slot) = bytes.get_mut(at) {
                    *slot = byte;
                }
                let expected = u64::from(is_ascii_word(byte)) << at;
                assert_eq!(
                    ascii_word_bits(u64::from_le_bytes(bytes)),
                    expected,
                    "{byte:#x} at {at}"
                );
            }
        }
    }

    #[test]
    fn the_nfa_fallback_walks_like_the_dfa() {
        let patterns = ["ab", "abc", "b", "éa", "a b", "ab c"].map(String::from);
        let roles: Vec<Role> = (0..patterns.len())
            .map(|entry| {
                Role::Literal(Literal {
                    entry,
                    open_start: false,
                    open_end: entry % 2 == 1,
                })
            })
            .collect();
        let (Ok(dfa), Ok(nfa)) = (anchored_dfa(&patterns), anchored_nfa(&patterns)) else {
            panic!("the patterns compile");
        };
        let text = normalize(&"ab abc, b éa a b xab ab cd éab ".repeat(5), false).folded;
        let walk = |automaton: &dyn Fn(&mut Vec<_>, &mut Vec<_>)| {
            let (mut out, mut fired) = (Vec::new(), Vec::new());
            automaton(&mut out, &mut fired);
            out.sort_by_key(|(entry, span): &(usize, Range<usize>)| (*entry, span.start));
            out
        };
        let by_dfa = walk(&|out, fired| walk_word_starts(&dfa, &roles, &text, out, fired));
        let by_nfa = walk(&|out, fired| walk_word_starts(&nfa, &roles, &text, out, fired));
        // Nine matches in each copy: ab, abc, b, éa, a b, b, ab, ab c, éa.
        assert_eq!(by_dfa.len(), 45);
        assert_eq!(by_nfa, by_dfa);
    }

    /// Word starts on either side of the 64-byte blocks the scan
    /// classifies at once, in ASCII and in non-ASCII blocks.
    #[test]
    fn word_starts_are_found_across_blocks() {
        let entries = [
            entry("ab", false, false),
            entry("b*", false, false),
            entry("*b", false, false),
            entry(r"\bab\d", true, false),
        ];
        let all: Vec<(usize, &WatchedWord)> = entries.iter().enumerate().collect();
        let fast = Matcher::compile_with(&all, Plan::FAST);
        let plain = Matcher::compile_with(
            &all,
            Plan {
                triggers: false,
                word_starts: false,
            },
        );
        let (Ok(fast), Ok(plain)) = (fast, plain) else {
            panic!("the entries compile");
        };
        for pad in 0..140 {
            for fill in [" ", "é", ",x"] {
                let text = format!("{}ab ab1 bab{}ab", fill.repeat(pad), fill.repeat(pad % 7));
                let expected = found(&plain, &text);
                assert!(!expected.is_empty());
                assert_eq!(found(&fast, &text), expected, "{text:?}");
            }
        }
    }

    proptest! {
        /// Triggered regular expressions find exactly what running every
        /// regular expression over every text finds.
        #[test]
        fn triggers_find_what_running_every_regex_finds(
            text in prop_oneof![
                "\\PC{0,60}",
                "[a-cA-CéÉ0-9 _*<>\u{200b}\u{ff21}]{0,40}",
                // Characters whose word-ness differs between `is_word` and
                // the regular expressions' `\w`, or that lower-case to
                // ASCII or to a combining mark.
                "[abc ,\u{1372}\u{212a}\u{130}\u{307}\u{b2}k]{0,30}",
            ],
            words in proptest::collection::vec(
                (
                    prop_oneof![
                        Just(r"\bab\d+".to_owned()),
                        Just(r"\bka".to_owned()),
                        Just(r"(?-u:\b)ab\w".to_owned()),
                        Just(r"(\bc|x)".to_owned()),
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
            let fast = Matcher::compile_with(&all, Plan::FAST);
            let plain = Matcher::compile_with(&all, Plan { triggers: false, ..Plan::FAST });
            let (Ok(fast), Ok(plain)) = (fast, plain) else {
                return Err(TestCaseError::fail("the entries compile"));
            };
            prop_assert_eq!(found(&fast, &text), found(&plain, &text));
        }
    }

    /// Entries (word, leading `*`, trailing `*`, case-sensitive) and a text
    /// made mostly of those words, in any case, between separators, so that
    /// words overlap, nest and sit inside one another, and long enough to
    /// span the 64-byte blocks the scan classifies at once.
    fn words_and_text() -> impl Strategy<Value = (Vec<(String, bool, bool, bool)>, String)> {
        let word = prop_oneof![
            "[a-cA-CéÉßİ0-9 _.\u{200b}\u{301}\u{ff21}\u{2460}]{1,5}",
            "[abé ]{1,4}",
        ];
        proptest::collection::vec((word, any::<bool>(), any::<bool>(), any::<bool>()), 1..8)
            .prop_flat_map(|words| {
                let mut pieces: Vec<String> = [" ", ",", "a", "É", "\u{301}", "Ａ", "<b>", "x_"]
                    .map(String::from)
                    .into();
                for (word, ..) in &words {
                    pieces.push(word.clone());
                    pieces.push(word.to_uppercase());
                }
                let text = prop_oneof![
                    proptest::collection::vec(proptest::sample::select(pieces), 0..60)
                        .prop_map(|pieces| pieces.concat()),
                    "\\PC{0,60}",
                    "[a-cA-CéÉßİ0-9 _*.,<>\u{200b}\u{301}\u{ff21}\u{2460}]{0,50}",
                ];
                (Just(words), text)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        /// Walking literals from word starts finds exactly what the
        /// overlapping scan of the whole text finds.
        #[test]
        fn word_start_walks_find_what_the_overlapping_scan_finds(
            (words, text) in words_and_text(),
        ) {
            let entries: Vec<WatchedWord> = words
                .iter()
                .filter(|(word, ..)| !word.trim().is_empty())
                .map(|(word, open_start, open_end, case_sensitive)| {
                    let star = |open: bool| if open { "*" } else { "" };
                    let word = format!("{}{word}{}", star(*open_start), star(*open_end));
                    entry(&word, false, *case_sensitive)
                })
                .collect();
            let all: Vec<(usize, &WatchedWord)> = entries.iter().enumerate().collect();
            let fast = Matcher::compile_with(&all, Plan::FAST);
            let plain = Matcher::compile_with(&all, Plan { word_starts: false, ..Plan::FAST });
            let (Ok(fast), Ok(plain)) = (fast, plain) else {
                return Err(TestCaseError::fail("the entries compile"));
            };
            prop_assert_eq!(found(&fast, &text), found(&plain, &text));
        }
    }
}
