//! Watched words (D6): words, phrases and regular expressions with an
//! action each, matched on normalised text.
//!
//! The whole list compiles into one matcher (an Aho-Corasick automaton per
//! case mode, and regular expressions that only run when the automaton saw
//! one of their prefixes, all shared by every action, so a scan reads the
//! text once per automaton rather than once per action); it sits behind an
//! `ArcSwap`, so scans never lock and a new list is compiled once, when it
//! changes ([`WatchedWords::replace`]).

mod matcher;
mod normalize;

use std::ops::Range;
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};

use crate::error::ModerationError;
use matcher::Matcher;

/// What happens to content that contains a watched word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum WordAction {
    /// Refuse the post, listing every match.
    Block,
    /// Replace each match with as many `■` as it has characters.
    Censor,
    /// Hold the post for review.
    RequireApproval,
    /// Publish, and open a review item.
    Flag,
    /// Hold the post and freeze the author (for low-contribution authors).
    Freeze,
    /// Replace each match with the entry's replacement.
    Replace,
}

impl WordAction {
    /// Every action, in the order scans report them.
    pub const ALL: [Self; 6] = [
        Self::Block,
        Self::Censor,
        Self::RequireApproval,
        Self::Flag,
        Self::Freeze,
        Self::Replace,
    ];

    fn index(self) -> usize {
        match self {
            Self::Block => 0,
            Self::Censor => 1,
            Self::RequireApproval => 2,
            Self::Flag => 3,
            Self::Freeze => 4,
            Self::Replace => 5,
        }
    }
}

/// One entry of the list.
///
/// `word` is a word or phrase matched as whole words, case-insensitively
/// unless `case_sensitive`; a `*` matches any word characters (`casino*`
/// matches `casinos`). With `regex`, `word` is a regular expression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchedWord {
    /// The word, phrase or regular expression.
    pub word: String,
    /// What a match does.
    pub action: WordAction,
    /// `word` is a regular expression.
    #[serde(default)]
    pub regex: bool,
    /// Match case exactly.
    #[serde(default)]
    pub case_sensitive: bool,
    /// For [`WordAction::Replace`], the text put in place of a match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

impl WatchedWord {
    /// A case-insensitive word with `action`.
    #[must_use]
    pub fn new(word: impl Into<String>, action: WordAction) -> Self {
        Self {
            word: word.into(),
            action,
            regex: false,
            case_sensitive: false,
            replacement: None,
        }
    }

    /// A regular expression with `action`.
    #[must_use]
    pub fn regex(pattern: impl Into<String>, action: WordAction) -> Self {
        Self {
            regex: true,
            ..Self::new(pattern, action)
        }
    }

    /// A word replaced by `replacement`.
    #[must_use]
    pub fn replace(word: impl Into<String>, replacement: impl Into<String>) -> Self {
        Self {
            replacement: Some(replacement.into()),
            ..Self::new(word, WordAction::Replace)
        }
    }

    /// Matches case exactly.
    #[must_use]
    pub fn case_sensitive(mut self) -> Self {
        self.case_sensitive = true;
        self
    }

    fn validate(&self, index: usize) -> Result<(), ModerationError> {
        let bad = |problem: &str| {
            Err(ModerationError::Config(format!(
                "watched word #{index} `{}`: {problem}",
                self.word
            )))
        };
        if self.word.trim_matches('*').trim().is_empty() {
            return bad("is empty; give a word, a phrase or a regular expression");
        }
        if self.action == WordAction::Replace && self.replacement.is_none() {
            return bad("has the action `replace` but no `replacement`; add one");
        }
        if self.action != WordAction::Replace && self.replacement.is_some() {
            return bad("has a `replacement` but its action is not `replace`");
        }
        Ok(())
    }
}

/// One match, in the text as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordMatch {
    /// The entry's action.
    pub action: WordAction,
    /// The entry as configured.
    pub word: String,
    /// Byte range in the original text.
    pub span: Range<usize>,
    /// The original text of the match.
    pub matched: String,
}

/// Every match of a scan, by action then position.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WordScan {
    /// The matches.
    pub matches: Vec<WordMatch>,
}

impl WordScan {
    /// The matches of one action.
    pub fn of(&self, action: WordAction) -> impl Iterator<Item = &WordMatch> {
        self.matches.iter().filter(move |m| m.action == action)
    }

    /// True when some entry of `action` matched.
    #[must_use]
    pub fn has(&self, action: WordAction) -> bool {
        self.of(action).next().is_some()
    }
}

#[derive(Debug)]
struct Compiled {
    entries: Vec<WatchedWord>,
    matcher: Matcher,
}

impl Compiled {
    fn new(entries: Vec<WatchedWord>) -> Result<Self, ModerationError> {
        for (index, entry) in entries.iter().enumerate() {
            entry.validate(index)?;
        }
        let all: Vec<(usize, &WatchedWord)> = entries.iter().enumerate().collect();
        let matcher = Matcher::compile(&all)?;
        Ok(Self { entries, matcher })
    }
}

/// The watched-word list, compiled.
///
/// ```
/// use moderation_core::community::{WatchedWord, WatchedWords, WordAction};
/// let words = WatchedWords::new(vec![
///     WatchedWord::new("casino", WordAction::Block),
///     WatchedWord::new("darn", WordAction::Censor),
/// ])?;
/// let text = "Darn, the CASINO!";
/// let scan = words.scan(text);
/// assert_eq!(scan.of(WordAction::Block).map(|m| m.matched.as_str()).collect::<Vec<_>>(), ["CASINO"]);
/// assert_eq!(words.rewrite(text, &scan), "■■■■, the CASINO!");
/// # Ok::<(), moderation_core::ModerationError>(())
/// ```
#[derive(Debug)]
pub struct WatchedWords {
    compiled: ArcSwap<Compiled>,
}

impl WatchedWords {
    /// Validates and compiles `entries`.
    ///
    /// # Errors
    /// [`ModerationError::Config`] naming the first bad entry.
    pub fn new(entries: Vec<WatchedWord>) -> Result<Self, ModerationError> {
        Ok(Self {
            compiled: ArcSwap::from_pointee(Compiled::new(entries)?),
        })
    }

    /// Replaces the list. An unchanged list is not recompiled; a bad one
    /// leaves the current list in force. Returns whether it changed.
    ///
    /// # Errors
    /// [`ModerationError::Config`] naming the first bad entry.
    pub fn replace(&self, entries: Vec<WatchedWord>) -> Result<bool, ModerationError> {
        if self.compiled.load().entries == entries {
            return Ok(false);
        }
        self.compiled.store(Arc::new(Compiled::new(entries)?));
        Ok(true)
    }

    /// The entries in force.
    #[must_use]
    pub fn entries(&self) -> Vec<WatchedWord> {
        self.compiled.load().entries.clone()
    }

    /// Every match in `text`, sorted by action then span.
    #[must_use]
    pub fn scan(&self, text: &str) -> WordScan {
        let compiled = self.compiled.load();
        let mut found = Vec::new();
        compiled.matcher.find(text, &mut found);
        let action_of = |entry: usize| compiled.entries.get(entry).map(|e| e.action);
        found.sort_by_key(|(entry, span)| {
            (
                action_of(*entry).map(WordAction::index),
                span.start,
                span.end,
                *entry,
            )
        });
        found.dedup();
        let matches = found
            .into_iter()
            .filter_map(|(entry, span)| {
                let word = compiled.entries.get(entry)?;
                let matched = text.get(span.clone())?;
                Some(WordMatch {
                    action: word.action,
                    word: word.word.clone(),
                    span,
                    matched: matched.to_owned(),
                })
            })
            .collect();
        WordScan { matches }
    }

    /// `text` with censor matches blacked out (one `■` per character) and
    /// replace matches replaced. Overlapping matches are applied once, the
    /// earliest first.
    #[must_use]
    pub fn rewrite(&self, text: &str, scan: &WordScan) -> String {
        let compiled = self.compiled.load();
        let mut edits: Vec<(&Range<usize>, Option<&str>)> = scan
            .matches
            .iter()
            .filter_map(|m| match m.action {
                WordAction::Censor => Some((&m.span, None)),
                WordAction::Replace => compiled
                    .entries
                    .iter()
                    .find(|e| e.action == WordAction::Replace && e.word == m.word)
                    .map(|e| (&m.span, e.replacement.as_deref())),
                _ => None,
            })
            .collect();
        edits.sort_by_key(|(span, _)| (span.start, span.end));
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for (span, replacement) in edits {
            if span.start < at {
                continue;
            }
            out.push_str(text.get(at..span.start).unwrap_or_default());
            let original = text.get(span.clone()).unwrap_or_default();
            match replacement {
                Some(replacement) => out.push_str(replacement),
                None => out.extend(std::iter::repeat_n('■', original.chars().count())),
            }
            at = span.end;
        }
        out.push_str(text.get(at..).unwrap_or_default());
        out
    }
}
