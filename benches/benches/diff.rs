//! Criterion bench `diff`: word diff of 10 KB and 1 MB prose with 1 % of the
//! words changed, and a 50-field record with 3 changed fields.
//!
//! The prose pairs are generated deterministically and also written to
//! `$TMPDIR/moderation-diff-bench/` (`prose_10k_old.txt`, `prose_10k_new.txt`,
//! `prose_1m_old.txt`, `prose_1m_new.txt`) so `benches/difflib/word_diff.py`
//! can time Python's difflib on exactly the same inputs.
//!
//! ```text
//! cargo bench -p moderation-benches --bench diff -- --warm-up-time 1 --measurement-time 3
//! python3 benches/difflib/word_diff.py
//! ```

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use moderation_diff::{ChangeKind, DiffOptions, Granularity, RecordDiff, TextDiff};
use serde_json::{Map, Value, json};

/// Words the prose is made of: common English, so, as in real posts, most
/// words repeat many times.
const VOCABULARY: &[&str] = &[
    "the",
    "of",
    "and",
    "to",
    "in",
    "a",
    "is",
    "that",
    "for",
    "it",
    "as",
    "was",
    "with",
    "be",
    "by",
    "on",
    "not",
    "he",
    "this",
    "are",
    "or",
    "his",
    "from",
    "at",
    "which",
    "but",
    "have",
    "an",
    "had",
    "they",
    "you",
    "were",
    "their",
    "one",
    "all",
    "we",
    "can",
    "her",
    "has",
    "there",
    "been",
    "if",
    "more",
    "when",
    "will",
    "would",
    "who",
    "so",
    "no",
    "moderator",
    "post",
    "thread",
    "reply",
    "forum",
    "community",
    "rules",
    "spam",
    "review",
    "queue",
    "approve",
    "reject",
    "edit",
    "user",
    "member",
    "topic",
    "link",
    "image",
    "quote",
    "report",
    "flag",
    "staff",
    "trust",
    "level",
    "new",
    "old",
    "first",
    "time",
    "people",
    "world",
    "year",
    "day",
    "way",
    "thing",
    "man",
    "woman",
    "life",
    "child",
    "work",
    "school",
    "system",
    "program",
    "question",
    "number",
    "night",
    "point",
    "home",
    "water",
    "room",
    "mother",
    "area",
    "money",
    "story",
    "fact",
    "month",
    "lot",
    "right",
    "study",
    "book",
    "eye",
    "job",
    "word",
    "business",
    "issue",
    "side",
    "kind",
    "head",
    "house",
    "service",
    "friend",
    "father",
    "power",
    "hour",
    "game",
    "line",
    "end",
    "member",
    "law",
    "car",
    "city",
    "name",
    "team",
    "minute",
    "idea",
    "kid",
    "body",
    "information",
    "back",
    "parent",
    "face",
    "others",
    "level",
    "office",
    "door",
    "health",
    "person",
    "art",
    "war",
    "history",
    "party",
    "result",
    "change",
    "morning",
    "reason",
    "research",
    "girl",
    "guy",
    "moment",
    "air",
    "teacher",
];

/// A tiny xorshift generator: deterministic across runs and platforms.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        usize::try_from(self.next() % bound as u64).unwrap_or(0)
    }

    fn word(&mut self) -> &'static str {
        VOCABULARY
            .get(self.below(VOCABULARY.len()))
            .copied()
            .unwrap_or("word")
    }
}

/// Prose of at least `len` bytes, and a copy with 1 % of its words replaced.
fn prose_pair(len: usize, seed: u64) -> (String, String) {
    let mut rng = Rng(seed);
    let (mut old, mut new) = (
        String::with_capacity(len + 64),
        String::with_capacity(len + 64),
    );
    let mut sentence_left = 0;
    let mut sentences_in_paragraph = 0;
    while old.len() < len {
        let word = rng.word();
        let changed = if rng.below(100) == 0 {
            let mut other = rng.word();
            while other == word {
                other = rng.word();
            }
            other
        } else {
            word
        };
        let separator = if sentence_left == 0 {
            sentence_left = 8 + rng.below(12);
            sentences_in_paragraph += 1;
            if sentences_in_paragraph % 6 == 0 {
                ".\n\n"
            } else {
                ". "
            }
        } else if rng.below(12) == 0 {
            ", "
        } else {
            " "
        };
        sentence_left -= 1;
        old.push_str(word);
        old.push_str(separator);
        new.push_str(changed);
        new.push_str(separator);
    }
    (old, new)
}

/// A 50-field record (text, numbers, flags, URLs) and a version
/// with 3 fields changed.
fn record_pair() -> (Value, Value) {
    let mut rng = Rng(0x5EED_0050);
    let mut old = Map::new();
    for index in 0..50 {
        let key = format!("field_{index:02}");
        let value = match index % 5 {
            0 | 1 => Value::String(
                (0..12 + rng.below(30))
                    .map(|_| rng.word())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            2 => json!(rng.below(1_000_000)),
            3 => json!(rng.below(2) == 0),
            _ => json!(format!(
                "https://example.org/{}/{}",
                rng.word(),
                rng.below(1000)
            )),
        };
        old.insert(key, value);
    }
    let mut new = old.clone();
    if let Some(Value::String(text)) = new.get_mut("field_05") {
        *text = text.replacen(' ', " edited ", 1);
    }
    new.insert("field_12".to_owned(), json!(42));
    new.insert("field_23".to_owned(), json!("a flag turned into text"));
    (Value::Object(old), Value::Object(new))
}

/// Where the prose pairs are written for the difflib script.
fn input_dir() -> PathBuf {
    std::env::temp_dir().join("moderation-diff-bench")
}

// A bench program reports to the terminal; this is its one message.
#[allow(clippy::print_stderr)]
fn write_inputs(name: &str, old: &str, new: &str) {
    let dir = input_dir();
    let written = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join(format!("{name}_old.txt")), old))
        .and_then(|()| std::fs::write(dir.join(format!("{name}_new.txt")), new));
    if let Err(error) = written {
        // The Rust figures do not depend on the files; only the comparison
        // does, so say why it will be missing and carry on.
        eprintln!(
            "could not write {name} inputs to {}: {error}",
            dir.display()
        );
    }
}

fn word_diff(c: &mut Criterion) {
    let mut group = c.benchmark_group("diff");
    // Generous: the bench measures the full diff, never the fallback.
    let deadline = Duration::from_secs(60);
    for (name, len, seed) in [
        ("prose_10k", 10 * 1024, 0x0010_C0DE),
        ("prose_1m", 1024 * 1024, 0x0100_C0DE),
    ] {
        let (old, new) = prose_pair(len, seed);
        write_inputs(name, &old, &new);
        let check = TextDiff::new(&old, &new, Granularity::Word, deadline);
        assert!(
            !check.used_fallback(),
            "{name} fell back; the figure would be meaningless"
        );
        if len > 100 * 1024 {
            group.sample_size(10);
        }
        group.bench_function(format!("word_{name}"), |b| {
            b.iter(|| {
                TextDiff::new(
                    black_box(&old),
                    black_box(&new),
                    Granularity::Word,
                    deadline,
                )
            });
        });
    }
    group.sample_size(100);
    let (old, new) = record_pair();
    let options = DiffOptions::new();
    let diff = RecordDiff::between(&old, &new, &options)
        .unwrap_or_else(|error| unreachable!("a JSON value always serializes: {error}"));
    assert_eq!(diff.changes().len(), 50);
    assert_eq!(
        diff.changes()
            .iter()
            .filter(|field| field.kind() != ChangeKind::Unchanged)
            .count(),
        3
    );
    group.bench_function("record_50_fields_3_changed", |b| {
        b.iter(|| RecordDiff::between(black_box(&old), black_box(&new), &options));
    });
    group.finish();
}

criterion_group!(benches, word_diff);
criterion_main!(benches);
