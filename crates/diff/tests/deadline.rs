//! The one timing bound the crate promises: a pathological pair of texts
//! comes back within the configured deadline plus a margin, as the documented
//! whole-field replace.

// Test helpers outside `#[test]` functions unwrap too: a failure there is a
// test failure.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use moderation_diff::{DiffOptions, Granularity, RecordDiff, SpanOp};
use serde_json::json;

/// A deterministic pseudo-random text of `len` bytes over a small alphabet
/// with word breaks, so both texts share many tokens in no useful order.
fn random_text(len: usize, mut seed: u64) -> String {
    const ALPHABET: &[u8] = b"abcdefgh ijklmn opqrst uvwxyz.\n";
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let index = usize::try_from(seed % ALPHABET.len() as u64).unwrap();
            char::from(*ALPHABET.get(index).unwrap())
        })
        .collect()
}

#[test]
fn two_random_megabyte_texts_fall_back_within_the_deadline() {
    let old = random_text(1 << 20, 0x9E37_79B9_7F4A_7C15);
    let new = random_text(1 << 20, 0xD1B5_4A32_D192_ED03);
    let deadline = Duration::from_millis(200);
    // Generous margin for tokenizing and copying 2 MB in an unoptimized test
    // build on a loaded machine (about 0.25 s optimized, 1.3 s unoptimized);
    // an unbounded comparison of this pair would take minutes.
    let margin = Duration::from_secs(5);
    // Word level is the default for prose and the case the bound is about.
    let options = DiffOptions::new()
        .deadline(deadline)
        .granularity(Granularity::Word);
    let (old_record, new_record) = (json!({"body": old}), json!({"body": new}));

    let started = Instant::now();
    let diff = RecordDiff::between(&old_record, &new_record, &options).unwrap();
    let elapsed = started.elapsed();

    assert!(elapsed < deadline + margin, "took {elapsed:?}");
    eprintln!("pathological pair returned in {elapsed:?}");
    assert!(diff.used_fallback());
    let text = diff.changes()[0].text_diff().unwrap();
    assert!(text.used_fallback());
    let ops: Vec<_> = text.spans().iter().map(|span| span.op).collect();
    assert_eq!(ops, [SpanOp::Delete, SpanOp::Insert]);
    #[cfg(feature = "html")]
    assert!(diff.to_html().contains("md-fallback"));
    assert_eq!(diff.apply(&old_record).unwrap(), new_record);
}
