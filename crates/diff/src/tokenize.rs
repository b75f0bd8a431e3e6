//! Splitting text into the units a [`TextDiff`](crate::TextDiff) compares.
//!
//! Every tokenizer returns slices that, concatenated, give back the input
//! exactly: the diff maps token ranges back to byte ranges of the original.

/// Whether `c` belongs to a word, the same class as Python's `\w`.
fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Alternating runs of word and non-word characters, like
/// `re.split(r'(\W+)', text)` without its empty strings.
pub(crate) fn words(text: &str) -> Vec<&str> {
    let mut tokens = Vec::with_capacity(text.len() / 3);
    let mut start = 0;
    let mut current: Option<bool> = None;
    for (index, c) in text.char_indices() {
        let word = is_word_char(c);
        if current.is_some_and(|kind| kind != word) {
            if let Some(token) = text.get(start..index) {
                tokens.push(token);
            }
            start = index;
        }
        current = Some(word);
    }
    if let Some(token) = text.get(start..).filter(|rest| !rest.is_empty()) {
        tokens.push(token);
    }
    tokens
}

/// Lines, each with its line break.
pub(crate) fn lines(text: &str) -> Vec<&str> {
    text.split_inclusive('\n').collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_alternate_between_word_and_separator_runs() {
        assert_eq!(
            words("The quick, brown fox!"),
            ["The", " ", "quick", ", ", "brown", " ", "fox", "!"]
        );
        assert_eq!(words("héllo wörld_1"), ["héllo", " ", "wörld_1"]);
        assert!(words("").is_empty());
    }

    #[test]
    fn lines_keep_their_breaks() {
        assert_eq!(lines("a\nb\n\nc"), ["a\n", "b\n", "\n", "c"]);
    }
}
