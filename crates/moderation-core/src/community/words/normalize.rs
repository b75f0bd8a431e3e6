//! Text normalisation before matching, with a map back to the original.
//!
//! Spammers write `c\u{200b}asino`, `<b>cas</b>ino` or `ｃａｓｉｎｏ`; peers
//! that match raw text miss all three. Each original character is
//! NFKC-normalised on its own, zero-width characters, HTML tags and Markdown
//! emphasis marks are dropped, and the folded form is lower-cased. Every
//! byte of the normalised text remembers the original character it came
//! from, so a match reports its span in the text the member wrote.
//!
//! Posts are mostly ASCII, so the loop works on bytes: a run of ordinary
//! ASCII is copied (and lower-cased) whole, tags and emphasis marks are
//! skipped without decoding, and only non-ASCII characters go through NFKC,
//! one at a time, after a table lookup tells whether NFKC would change them.

use std::ops::Range;

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfkc_quick};

/// Characters that render as nothing (or as an invisible hyphen).
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
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
    /// Appends the ASCII run `run`, copied from original offset `at`,
    /// lower-cased when `fold`. A run that continues the previous one (no
    /// byte dropped in between) extends its map entry.
    fn push_ascii_run(&mut self, run: &str, at: usize, fold: bool) {
        let here = self.text.len();
        let (here32, at32) = (to_u32(here), to_u32(at));
        let continues = self
            .segments
            .last()
            .is_some_and(|s| s.linear && s.origin.saturating_add(here32 - s.start) == at32);
        if !continues {
            self.segments.push(Segment {
                start: here32,
                origin: at32,
                origin_end: 0,
                linear: true,
            });
        }
        self.text.push_str(run);
        if fold && let Some(added) = self.text.get_mut(here..) {
            added.make_ascii_lowercase();
        }
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

/// Bytes the ASCII loop cannot copy as they are: anything non-ASCII (NFKC,
/// invisible characters), a possible tag opener, and the Markdown emphasis
/// and code marks, dropped so `ca**sin**o` reads `casino`. Written without
/// short-circuits so a block of bytes is tested with vector compares.
fn is_special(b: u8) -> bool {
    (b >= 0x80) | (b == b'<') | (b == b'*') | (b == b'_') | (b == b'~') | (b == b'`')
}

/// The offset of the first special byte of `bytes`. Whole blocks are
/// tested branch-free, and only the block holding one is searched byte by
/// byte: ordinary prose costs a fraction of an instruction per byte.
fn find_special(bytes: &[u8]) -> Option<usize> {
    const BLOCK: usize = 32;
    let mut blocks = bytes.chunks_exact(BLOCK);
    let mut offset = 0;
    for block in &mut blocks {
        if block.iter().fold(false, |any, &b| any | is_special(b)) {
            return block
                .iter()
                .position(|&b| is_special(b))
                .map(|i| offset + i);
        }
        offset += BLOCK;
    }
    blocks
        .remainder()
        .iter()
        .position(|&b| is_special(b))
        .map(|i| offset + i)
}

/// Where the HTML tag opening at `at` (a `<`) ends: `<` followed by a
/// letter, `/` or `!`, up to and including the next `>`.
///
/// `unclosed` remembers that no `>` follows some earlier offset, so a text
/// full of `<` and without `>` is searched once, not once per `<`.
fn tag_end(text: &str, at: usize, unclosed: &mut bool) -> Option<usize> {
    if *unclosed {
        return None;
    }
    let rest = text.as_bytes().get(at + 1..)?;
    let first = *rest.first()?;
    if !(first.is_ascii_alphabetic() || first == b'/' || first == b'!') {
        return None;
    }
    let close = memchr::memchr(b'>', rest);
    *unclosed = close.is_none();
    close.map(|close| at + 1 + close + 1)
}

/// The forms being built: `folded` (lower-cased) and `exact`, each optional.
struct Forms<'a> {
    folded: Option<&'a mut Normalized>,
    exact: Option<&'a mut Normalized>,
}

impl Forms<'_> {
    /// Appends the ASCII run `run`, copied from original offset `at`.
    fn push_ascii_run(&mut self, run: &str, at: usize) {
        if let Some(folded) = self.folded.as_deref_mut() {
            folded.push_ascii_run(run, at, true);
        }
        if let Some(exact) = self.exact.as_deref_mut() {
            exact.push_ascii_run(run, at, false);
        }
    }

    /// Appends one normalised character `n` of the original character at
    /// `from`.
    fn push(&mut self, n: char, from: &Range<usize>) {
        if let Some(folded) = self.folded.as_deref_mut() {
            for lower in n.to_lowercase() {
                folded.push(lower, from);
            }
        }
        if let Some(exact) = self.exact.as_deref_mut() {
            exact.push(n, from);
        }
    }

    /// Appends the normalised forms of the non-ASCII character `c` found at
    /// `from` in the original.
    fn push_char(&mut self, c: char, from: &Range<usize>) {
        if is_invisible(c) {
            return;
        }
        // Most letters of most scripts are their own NFKC form; the quick
        // check answers that from a table, without running the
        // decomposition and recomposition.
        if is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes {
            self.push(c, from);
            return;
        }
        for n in std::iter::once(c).nfkc() {
            if !is_invisible(n) {
                self.push(n, from);
            }
        }
    }
}

/// Normalises `text` into the wanted forms.
fn normalize_into(text: &str, mut forms: Forms<'_>) {
    let bytes = text.as_bytes();
    let mut unclosed = false;
    let mut at = 0;
    while at < bytes.len() {
        let run_end = bytes
            .get(at..)
            .and_then(find_special)
            .map_or(bytes.len(), |i| at + i);
        if run_end > at
            && let Some(run) = text.get(at..run_end)
        {
            forms.push_ascii_run(run, at);
        }
        at = run_end;
        let Some(&b) = bytes.get(at) else {
            break;
        };
        if b.is_ascii() {
            if b == b'<' {
                if let Some(end) = tag_end(text, at, &mut unclosed) {
                    at = end;
                    continue;
                }
                forms.push_ascii_run("<", at);
            }
            // Otherwise an emphasis mark, dropped.
            at += 1;
            continue;
        }
        let Some(c) = text.get(at..).and_then(|rest| rest.chars().next()) else {
            break;
        };
        let from = at..at + c.len_utf8();
        forms.push_char(c, &from);
        at = from.end;
    }
}

/// Normalises `text`; `exact` is only built when `want_exact`.
pub(crate) fn normalize(text: &str, want_exact: bool) -> NormalizedText {
    let mut out = NormalizedText::default();
    out.folded.text.reserve(text.len());
    if want_exact {
        out.exact.text.reserve(text.len());
    }
    let forms = Forms {
        folded: Some(&mut out.folded),
        exact: want_exact.then_some(&mut out.exact),
    };
    normalize_into(text, forms);
    out
}

/// The exact form of `text` alone: a regular expression that only turns
/// out to be needed once the folded form was scanned reads it.
pub(crate) fn normalize_exact(text: &str) -> Normalized {
    let mut exact = Normalized::default();
    exact.text.reserve(text.len());
    normalize_into(
        text,
        Forms {
            folded: None,
            exact: Some(&mut exact),
        },
    );
    exact
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn is_emphasis(c: char) -> bool {
        matches!(c, '*' | '_' | '~' | '`')
    }

    /// The character-by-character definition the byte loop must agree
    /// with: every character decoded, NFKC-normalised on its own, and
    /// pushed one at a time.
    fn reference(text: &str) -> NormalizedText {
        let mut out = NormalizedText::default();
        let mut buf = [0_u8; 4];
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if c == '<' {
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
                out.folded.push_ascii_run(c.encode_utf8(&mut buf), at, true);
                out.exact.push_ascii_run(c.encode_utf8(&mut buf), at, false);
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
                out.exact.push(n, &from);
            }
        }
        out
    }

    /// Same text, and every byte maps back to the same original range.
    fn same(fast: &Normalized, slow: &Normalized) -> Result<(), TestCaseError> {
        prop_assert_eq!(&fast.text, &slow.text);
        for at in 0..=fast.text.len() {
            prop_assert_eq!(fast.origin_of(at), slow.origin_of(at), "byte {}", at);
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn the_byte_loop_agrees_with_the_character_definition(
            text in prop_oneof![
                "\\PC{0,60}",
                "[a-zA-Z0-9 .<>/!*_~`\u{200b}\u{00ad}\u{feff}\u{ff21}-\u{ff3a}éÉ\u{301}İßﬁ①Σς\u{212a}ſ]{0,60}",
            ]
        ) {
            let fast = normalize(&text, true);
            let slow = reference(&text);
            same(&fast.folded, &slow.folded)?;
            same(&fast.exact, &slow.exact)?;
            same(&normalize_exact(&text), &slow.exact)?;
            let folded_only = normalize(&text, false);
            same(&folded_only.folded, &slow.folded)?;
            prop_assert!(folded_only.exact.text.is_empty());
        }
    }

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
