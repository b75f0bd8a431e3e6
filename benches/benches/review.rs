//! Criterion bench `review`: the review queue on SQLite (`synchronous`
//! NORMAL) and PostgreSQL.
//!
//! Per backend: opening one review item, approving one (version-checked,
//! with its history step and moderation-log entry), a bulk approve of 1 000
//! items in one batch, and one page of 100 pending items sorted by score
//! with 10 000 pending, both the first page and one deep in the queue
//! (keyset, so both cost the same). PostgreSQL runs on `DATABASE_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`) in a database
//! created for the run; it is skipped when no server answers.
//!
//! ```text
//! cargo bench -p moderation-benches --bench review
//! ```
#![allow(
    clippy::expect_used,
    reason = "a benchmark whose setup fails must stop, not measure nothing"
)]

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use moderation_core::{
    ReviewAction, ReviewFilter, ReviewItem, ReviewPageRequest, ReviewSort, ReviewStore,
};
use moderation_storage::testkit::review::{act, submission_review};
use moderation_storage::testkit::{TempPostgres, TempSqlite};
use tokio::runtime::Runtime;

/// Pending items behind the listing measurement.
const QUEUE: i64 = 10_000;
/// Items per bulk approve.
const BULK: usize = 1_000;
/// Items per page.
const PAGE: u32 = 100;

/// Hands out subject ids, unique within one store.
#[derive(Debug, Default)]
struct Subjects(AtomicI64);

impl Subjects {
    fn next(&self) -> i64 {
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// Opens `count` review items with scores 0..7; returns them.
async fn open_many(store: &dyn ReviewStore, subjects: &Subjects, count: usize) -> Vec<ReviewItem> {
    let mut items = Vec::with_capacity(count);
    for _ in 0..count {
        let n = subjects.next();
        let score = i32::try_from(n % 7).unwrap_or(0);
        let review =
            submission_review(n, n % 97, "first_timer", score, n % 86_400).expect("valid review");
        items.push(store.open(review).await.expect("open").item);
    }
    items
}

fn writes(group: &mut BenchmarkGroup<'_, WallTime>, rt: &Runtime, store: &Arc<dyn ReviewStore>) {
    let subjects = Arc::new(Subjects::default());
    group.throughput(Throughput::Elements(1));
    group.bench_function("open", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (store, subjects) = (Arc::clone(store), Arc::clone(&subjects));
            async move {
                let start = Instant::now();
                open_many(
                    store.as_ref(),
                    &subjects,
                    usize::try_from(iters).unwrap_or(0),
                )
                .await;
                start.elapsed()
            }
        });
    });
    group.bench_function("approve", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (store, subjects) = (Arc::clone(store), Arc::clone(&subjects));
            async move {
                let items = open_many(
                    store.as_ref(),
                    &subjects,
                    usize::try_from(iters).unwrap_or(0),
                )
                .await;
                let start = Instant::now();
                for item in items {
                    let approve = act(item.id, item.version, ReviewAction::Approve, 1);
                    black_box(store.transition(approve).await.expect("approve"));
                }
                start.elapsed()
            }
        });
    });
    group.throughput(Throughput::Elements(BULK as u64));
    group.bench_function("bulk_approve_1000", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (store, subjects) = (Arc::clone(store), Arc::clone(&subjects));
            async move {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let items = open_many(store.as_ref(), &subjects, BULK).await;
                    let batch = items
                        .iter()
                        .map(|item| act(item.id, item.version, ReviewAction::Approve, 1))
                        .collect();
                    let start = Instant::now();
                    black_box(store.transition_batch(batch).await.expect("bulk"));
                    spent += start.elapsed();
                }
                spent
            }
        });
    });
}

fn listing(group: &mut BenchmarkGroup<'_, WallTime>, rt: &Runtime, store: &Arc<dyn ReviewStore>) {
    rt.block_on(open_many(
        store.as_ref(),
        &Subjects::default(),
        usize::try_from(QUEUE).unwrap_or(0),
    ));
    let filter = ReviewFilter::pending();
    let first = ReviewPageRequest::first(ReviewSort::ScoreDesc, PAGE);
    // A cursor 90 pages deep.
    let mut deep = first;
    for _ in 0..90 {
        let page = rt.block_on(store.list(&filter, &deep)).expect("list");
        deep = deep.next(page.next.expect("more pages"));
    }
    group.throughput(Throughput::Elements(u64::from(PAGE)));
    for (name, page) in [("page_by_score_first", first), ("page_by_score_deep", deep)] {
        group.bench_function(name, |b| {
            b.to_async(rt).iter(|| {
                let store = Arc::clone(store);
                let filter = filter.clone();
                async move { black_box(store.list(&filter, &page).await.expect("list")) }
            });
        });
    }
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
}

fn review(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    {
        let mut group = c.benchmark_group("review_sqlite");
        configure(&mut group);
        let temp = rt.block_on(TempSqlite::new()).expect("sqlite store");
        let store: Arc<dyn ReviewStore> = Arc::new(temp.store().clone());
        writes(&mut group, &rt, &store);
        rt.block_on(temp.close());
        let temp = rt.block_on(TempSqlite::new()).expect("sqlite store");
        let store: Arc<dyn ReviewStore> = Arc::new(temp.store().clone());
        listing(&mut group, &rt, &store);
        group.finish();
        rt.block_on(temp.close());
    }
    if let Some(temp) = rt.block_on(TempPostgres::new_or_skip()) {
        let mut group = c.benchmark_group("review_postgres");
        configure(&mut group);
        let store: Arc<dyn ReviewStore> = Arc::new(temp.store().clone());
        writes(&mut group, &rt, &store);
        rt.block_on(temp.drop_database());
        let temp = rt.block_on(TempPostgres::new()).expect("postgres store");
        let store: Arc<dyn ReviewStore> = Arc::new(temp.store().clone());
        listing(&mut group, &rt, &store);
        group.finish();
        rt.block_on(temp.drop_database());
    }
}

criterion_group!(benches, review);
criterion_main!(benches);
