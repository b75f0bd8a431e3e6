//! Criterion bench `rules`: decisions per second for a 2 KB post through
//! every community rule (frozen check, gates, new-user content limits, 10 000
//! watched words over six actions, the guard, rate limits, duplicate and
//! same-host checks).
//!
//! - `rules/evaluate`: the in-memory rule evaluation alone
//!   (`CommunityRules::evaluate`, no store), the figure the target of
//!   100 000 decisions per second per core applies to;
//! - `rules/screen_memory`, `rules/screen_sqlite`, `rules/screen_postgres`:
//!   the whole check with the action log's check-and-append on the
//!   in-memory log, SQLite and PostgreSQL. Each decision is by another
//!   member, so no limit refuses and every one is appended.
//!
//! PostgreSQL runs on `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) in a database created for the
//! run and dropped after; it is skipped when no server answers.
//!
//! ```text
//! cargo bench -p moderation-benches --bench rules
//! ```
#![allow(
    clippy::expect_used,
    reason = "a benchmark whose setup fails must stop, not measure nothing"
)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Instant;

use chrono::Utc;
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use moderation_core::community::{
    ActionKind, ActionLog, Attempt, CommunityConfig, CommunityRules, MemoryActionLog,
    MemorySanctionStore, SanctionStore, WatchedWord, WordAction,
};
use moderation_core::{Actor, SystemClock, TrustLevel, UserId};
use moderation_storage::testkit::{TempPostgres, TempSqlite};
use tokio::runtime::Runtime;

/// Watched words in the list.
const WORDS: usize = 10_000;
/// Bytes in the post.
const POST_BYTES: usize = 2_048;

/// A deterministic pseudo-random word of 6 to 11 letters, all from `a` to
/// `z` like a real list, so the automaton cannot skip ahead to one rare
/// byte; random letters keep it out of the post's English prose.
fn word(seed: u64) -> String {
    let mut state = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let len = 6 + (state >> 60) as usize % 6;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            char::from(b'a' + ((state >> 59) % 26) as u8)
        })
        .collect::<String>()
}

/// 10 000 entries spread over the six actions; one in fifty has a trailing
/// wildcard and one in two hundred is a regular expression.
fn watched_words() -> Vec<WatchedWord> {
    let actions = [
        WordAction::Block,
        WordAction::Censor,
        WordAction::RequireApproval,
        WordAction::Flag,
        WordAction::Freeze,
        WordAction::Replace,
    ];
    (0..WORDS)
        .zip(actions.into_iter().cycle())
        .map(|(i, action)| {
            let mut text = word(i as u64);
            if i % 50 == 7 {
                text.push('*');
            }
            let mut entry = match action {
                WordAction::Replace => WatchedWord::replace(text, "[link removed]"),
                _ => WatchedWord::new(text, action),
            };
            if i % 200 == 13 {
                entry.word = format!(r"\b{}\d+\b", word(i as u64));
                entry.regex = true;
            }
            entry
        })
        .collect()
}

/// A 2 KB post of prose with two links, a mention, markup, and one censor
/// and one replace word from the list.
fn post(words: &[WatchedWord]) -> String {
    let entry = |action| {
        words
            .iter()
            .find(|w| w.action == action && !w.regex && !w.word.contains('*'))
            .map(|w| w.word.as_str())
            .expect("the list has an entry of every action")
    };
    let (censor, replace) = (entry(WordAction::Censor), entry(WordAction::Replace));
    let mut text = format!(
        "Hello @maria, I tried the <b>steps</b> from https://docs.example.org/guide and \
         the notes at wiki.example.net/setup. Oddly the {censor} part failed, and {replace} \
         did not help. "
    );
    let prose = "The configuration loads on start, the workers pick up jobs from the queue, \
                 and each job writes its result before the next one begins. ";
    while text.len() < POST_BYTES {
        text.push_str(prose);
    }
    text.truncate(POST_BYTES);
    text
}

fn rules(log: Arc<dyn ActionLog>, sanctions: Arc<dyn SanctionStore>) -> CommunityRules {
    let config = CommunityConfig {
        watched_words: watched_words(),
        ..CommunityConfig::default()
    };
    CommunityRules::new(config, log, sanctions, Arc::new(SystemClock)).expect("valid rules")
}

/// A TL1 member past their first day, with enough contributions to pass the
/// guard: every rule runs, none refuses.
fn member(id: i64) -> Actor {
    Actor::user(UserId::from(id)).with_trust_level(TrustLevel::Tl1)
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group.throughput(Throughput::Elements(1));
    group.sample_size(30);
}

fn evaluate(c: &mut Criterion) {
    let rules = rules(
        Arc::new(MemoryActionLog::new()),
        Arc::new(MemorySanctionStore::new()),
    );
    let text = post(&rules.config().watched_words);
    let actor = member(1);
    let first_post = Some(Utc::now() - chrono::Duration::days(30));
    let mut group = c.benchmark_group("rules");
    configure(&mut group);
    group.bench_function("evaluate", |b| {
        b.iter(|| {
            let attempt = Attempt::new(&actor, ActionKind::Reply, &text)
                .contributions(10)
                .first_post_at(first_post);
            black_box(rules.evaluate(&attempt, Utc::now()).expect("accepted"))
        });
    });
    group.finish();
}

/// `screen` (frozen check, rules, check-and-append) on one backend.
fn screen(c: &mut Criterion, rt: &Runtime, name: &str, rules: &CommunityRules) {
    let text = Arc::new(post(&rules.config().watched_words));
    let ids = Arc::new(AtomicI64::new(1_000));
    let mut group = c.benchmark_group("rules");
    configure(&mut group);
    group.bench_function(name, |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (rules, text, ids) = (rules.clone(), Arc::clone(&text), Arc::clone(&ids));
            async move {
                let first_post = Some(Utc::now() - chrono::Duration::days(30));
                let start = Instant::now();
                for _ in 0..iters {
                    let actor = member(ids.fetch_add(1, Ordering::Relaxed));
                    let attempt = Attempt::new(&actor, ActionKind::Reply, &text)
                        .contributions(10)
                        .first_post_at(first_post);
                    black_box(rules.screen(&attempt).await.expect("accepted"));
                }
                start.elapsed()
            }
        });
    });
    group.finish();
}

fn community_rules(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    evaluate(c);

    let memory = rules(
        Arc::new(MemoryActionLog::new()),
        Arc::new(MemorySanctionStore::new()),
    );
    screen(c, &rt, "screen_memory", &memory);

    let temp = rt.block_on(TempSqlite::new()).expect("sqlite store");
    let store = Arc::new(temp.store().clone());
    screen(c, &rt, "screen_sqlite", &rules(store.clone(), store));
    rt.block_on(temp.close());

    if let Some(temp) = rt.block_on(TempPostgres::new_or_skip()) {
        let store = Arc::new(temp.store().clone());
        screen(c, &rt, "screen_postgres", &rules(store.clone(), store));
        rt.block_on(temp.drop_database());
    }
}

criterion_group!(benches, community_rules);
criterion_main!(benches);
