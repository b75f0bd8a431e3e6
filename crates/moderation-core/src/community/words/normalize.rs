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

/// A run of normalised bytes that came from the same place: either ASCII
/// copied one byte for one (`linear`), or the whole of one original
/// character (NFKC and lower-casing may expand it to several bytes).
#[derive(Debug, Clone, Copy)]
struct Segment {
    /// First normalised byte of the run.
    start: u32,
    /// First original byte of the run.
    origin: u32,
    /// For a non-linear run, the end of its original character.
    origin_end: u32,
    linear: bool,
}

/// A normalised text and a map from its bytes back to the original.
///
/// The map holds runs rather than one entry per byte: ordinary ASCII text
/// is a single run, so normalising it allocates no per-byte table.
#[derive(Debug, Clone, Default)]
pub(crate) struct Normalized {
    pub(crate) text: String,
    segments: Vec<Segment>,
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Normalized {
    /// The whole of `text`, copied byte for byte from offset 0.
    fn identity(text: String) -> Self {
        Self {
            text,
            segments: vec![Segment {
                start: 0,
                origin: 0,
                origin_end: 0,
                linear: true,
            }],
        }
    }

    /// Appends an ASCII byte copied from original offset `at`.
    fn push_ascii(&mut self, c: char, at: usize) {
        let here = to_u32(self.text.len());
        let at = to_u32(at);
        let continues = self
            .segments
            .last()
            .is_some_and(|s| s.linear && s.origin.saturating_add(here - s.start) == at);
        if !continues {
            self.segments.push(Segment {
                start: here,
                origin: at,
                origin_end: 0,
                linear: true,
            });
        }
        self.text.push(c);
    }

    /// Appends `c`, which came from the original character at `from`.
    fn push(&mut self, c: char, from: &Range<usize>) {
        let here = to_u32(self.text.len());
        let (origin, origin_end) = (to_u32(from.start), to_u32(from.end));
        let continues = self
            .segments
            .last()
            .is_some_and(|s| !s.linear && s.origin == origin && s.origin_end == origin_end);
        if !continues {
            self.segments.push(Segment {
                start: here,
                origin,
                origin_end,
                linear: false,
            });
        }
        self.text.push(c);
    }

    /// The original byte range of the character normalised byte `at` came
    /// from.
    fn origin_of(&self, at: usize) -> Option<(usize, usize)> {
        if at >= self.text.len() {
            return None;
        }
        let at = to_u32(at);
        let index = self.segments.partition_point(|s| s.start <= at);
        let segment = self.segments.get(index.checked_sub(1)?)?;
        if segment.linear {
            let start = segment.origin.saturating_add(at - segment.start) as usize;
            Some((start, start + 1))
        } else {
            Some((segment.origin as usize, segment.origin_end as usize))
        }
    }

    /// The original byte range of the normalised range `span`.
    pub(crate) fn original(&self, span: Range<usize>) -> Option<Range<usize>> {
        let first = self.origin_of(span.start)?;
        let last = self.origin_of(span.end.checked_sub(1)?)?;
        Some(first.0..last.1)
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
    // Plain ASCII with no tag opener and no emphasis mark is already NFKC
    // and has nothing to drop: both forms are straight copies, mapped by a
    // single run. Most posts take this path.
    if text
        .bytes()
        .all(|b| b.is_ascii() && b != b'<' && !is_emphasis(char::from(b)))
    {
        return NormalizedText {
            exact: if want_exact {
                Normalized::identity(text.to_owned())
            } else {
                Normalized::default()
            },
            folded: Normalized::identity(text.to_ascii_lowercase()),
        };
    }
    let mut out = NormalizedText::default();
    out.folded.text.reserve(text.len());
    if want_exact {
        out.exact.text.reserve(text.len());
    }
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
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
            out.folded.push_ascii(c.to_ascii_lowercase(), at);
            if want_exact {
                out.exact.push_ascii(c, at);
            }
            continue;
        }
        let from = at..at + c.len_utf8();
        for n in std::iter::once(c).nfkc() {
            if is_invisible(n) {
                continue;
            }
            for lower in n.to_lowercase() {
                out.folded.push(lower, &from);
            }
            if want_exact {
                out.exact.push(n, &from);
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
