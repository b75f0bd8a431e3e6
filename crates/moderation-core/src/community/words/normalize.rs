//! Text normalisation before matching, with a map back to the original.
//!
//! Spammers write `c\u{200b}asino`, `<b>cas</b>ino` or `ｃａｓｉｎｏ`; peers
//! that match raw text miss all three. Each original character is
//! NFKC-normalised on its own, zero-width characters, HTML tags and Markdown
//! emphasis marks are dropped, and the folded form is lower-cased. Every
//! byte of the normalised text remembers the original character it came
//! from, so a match reports its span in the text the member wrote.

use std::ops::Range;

use unicode_normalization::UnicodeNormalization;

/// Characters that render as nothing (or as an invisible hyphen).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

/// Markdown emphasis and code marks, dropped so `ca**sin**o` reads `casino`.
fn is_emphasis(c: char) -> bool {
    matches!(c, '*' | '_' | '~' | '`')
}

/// A normalised text and, per byte, the original range it came from.
#[derive(Debug, Clone, Default)]
pub(crate) struct Normalized {
    pub(crate) text: String,
    /// For each byte of `text`, the byte range of its original character.
    origin: Vec<(u32, u32)>,
}

impl Normalized {
    fn push(&mut self, c: char, from: Range<usize>) {
        let start = u32::try_from(from.start).unwrap_or(u32::MAX);
        let end = u32::try_from(from.end).unwrap_or(u32::MAX);
        self.text.push(c);
        self.origin.resize(self.text.len(), (start, end));
    }

    /// The original byte range of the normalised range `span`.
    pub(crate) fn original(&self, span: Range<usize>) -> Option<Range<usize>> {
        let first = self.origin.get(span.start)?;
        let last = self.origin.get(span.end.checked_sub(1)?)?;
        Some(first.0 as usize..last.1 as usize)
    }
}

/// The two normalised forms: `exact` (NFKC, stripped) for case-sensitive
/// entries and regular expressions, `folded` (also lower-cased) for the rest.
#[derive(Debug, Clone, Default)]
pub(crate) struct NormalizedText {
    pub(crate) exact: Normalized,
    pub(crate) folded: Normalized,
}

/// Normalises `text`; `exact` is only built when `want_exact`.
pub(crate) fn normalize(text: &str, want_exact: bool) -> NormalizedText {
    let mut out = NormalizedText::default();
    out.folded.text.reserve(text.len());
    out.folded.origin.reserve(text.len());
    if want_exact {
        out.exact.text.reserve(text.len());
        out.exact.origin.reserve(text.len());
    }
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let from = at..at + c.len_utf8();
        if c == '<' {
            // An HTML tag: `<` followed by a letter, `/` or `!`, up to `>`.
            let tag = text.get(at + 1..).and_then(|rest| {
                let first = rest.chars().next()?;
                (first.is_ascii_alphabetic() || first == '/' || first == '!')
                    .then(|| rest.find('>'))
                    .flatten()
            });
            if let Some(close) = tag {
                let end = at + 1 + close + 1;
                while chars.next_if(|&(i, _)| i < end).is_some() {}
                continue;
            }
        }
        if is_invisible(c) || is_emphasis(c) {
            continue;
        }
        if c.is_ascii() {
            out.folded.push(c.to_ascii_lowercase(), from.clone());
            if want_exact {
                out.exact.push(c, from);
            }
            continue;
        }
        for n in std::iter::once(c).nfkc() {
            if is_invisible(n) {
                continue;
            }
            for lower in n.to_lowercase() {
                out.folded.push(lower, from.clone());
            }
            if want_exact {
                out.exact.push(n, from.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_map_back_through_tags_and_invisible_characters() {
        let text = "Play c\u{200b}a<b>si</b>no now";
        let normalized = normalize(text, true);
        assert_eq!(normalized.folded.text, "play casino now");
        let start = normalized.folded.text.find("casino").unwrap_or_default();
        let span = normalized.folded.original(start..start + 6);
        assert_eq!(
            span.and_then(|s| text.get(s)),
            Some("c\u{200b}a<b>si</b>no")
        );
    }

    #[test]
    fn fullwidth_letters_fold_to_ascii() {
        assert_eq!(normalize("ＣＡＳＩＮＯ", false).folded.text, "casino");
    }
}
