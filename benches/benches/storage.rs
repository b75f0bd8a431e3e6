//! Criterion bench `storage`: the review-queue workload on SQLite
//! (`synchronous` NORMAL and FULL) and PostgreSQL.
//!
//! Per backend: submitting held comments by a plain user one at a time, one
//! at a time from 8 tasks at once, and through the batch API, listing 10 000 pending comments page by page,
//! approving held comments one at a time and 1 000 per call
//! (`change_statuses`), the public read of one item with 10 000 (also from 8
//! tasks at once) and with 1 000 000 stored items (populated once with the batch API), and a read
//! that finds nothing (the round trip alone).
//! PostgreSQL runs on `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) in a database created for the
//! run and dropped after; it is skipped when no server answers.
//!
//! ```text
//! cargo bench -p moderation-benches --bench storage
//! cargo bench -p moderation-benches --bench storage -- sqlite_normal/approve
//! ```
//!
//! Setup that only filtered-out benches need is skipped: with a filter that
//! leaves out `public_read_at_1m`, no store is filled to 1 000 000 items.
#![allow(
    clippy::expect_used,
    reason = "a benchmark whose setup fails must stop, not measure nothing"
)]

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, Throughput, criterion_group, criterion_main};
use moderation_benches::comments::{Ids, across_tasks, approval, held_comment};
use moderation_core::{ItemFilter, ItemId, ItemStatus, Kind, ModerationStore, PageRequest};
use moderation_storage::Synchronous;
use moderation_storage::testkit::{TempPostgres, TempSqlite};
use tokio::runtime::Runtime;

/// Items in the queue workloads.
const QUEUE: i64 = 10_000;
/// Items behind the large public-read measurement.
const LARGE: i64 = 1_000_000;
/// Items per batch call.
const BATCH: usize = 1_000;
/// Items per queue page.
const PAGE: u32 = 100;

/// Adds `count` comments in `status` through the batch API; returns their ids.
async fn populate(
    store: &dyn ModerationStore,
    ids: &Ids,
    count: i64,
    status: ItemStatus,
) -> Vec<ItemId> {
    let mut stored = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
    let mut left = count;
    while left > 0 {
        let n = left.min(BATCH as i64);
        let batch = (0..n)
            .map(|_| {
                let (mut item, log) = held_comment(ids.next());
                item.status = status;
                (item, log)
            })
            .collect();
        let items = store.insert_items(batch).await.expect("populate");
        stored.extend(items.into_iter().map(|i| i.id));
        left -= n;
    }
    stored
}

/// The write and queue measurements for one backend.
fn queue_workload(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    store: &Arc<dyn ModerationStore>,
) {
    let ids = Arc::new(Ids::default());

    group.throughput(Throughput::Elements(1));
    group.bench_function("submit_single", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (store, ids) = (Arc::clone(store), Arc::clone(&ids));
            async move {
                let start = Instant::now();
                for _ in 0..iters {
                    let (item, log) = held_comment(ids.next());
                    black_box(store.insert_item(item, log).await.expect("submit"));
                }
                start.elapsed()
            }
        });
    });

    // The same submissions from many tasks at once, as a busy web server
    // makes them: the time per submission, not per task.
    group.bench_function("submit_single_from_8_tasks", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (store, ids) = (Arc::clone(store), Arc::clone(&ids));
            across_tasks(iters, move |_, count| {
                let (store, ids) = (Arc::clone(&store), Arc::clone(&ids));
                async move {
                    for _ in 0..count {
                        let (item, log) = held_comment(ids.next());
                        black_box(store.insert_item(item, log).await.expect("submit"));
                    }
                }
            })
        });
    });

    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("submit_batch_1000", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (store, ids) = (Arc::clone(store), Arc::clone(&ids));
            async move {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let batch = (0..BATCH).map(|_| held_comment(ids.next())).collect();
                    let start = Instant::now();
                    black_box(store.insert_items(batch).await.expect("submit batch"));
                    spent += start.elapsed();
                }
                spent
            }
        });
    });

    group.throughput(Throughput::Elements(1));
    group.bench_function("approve", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (store, ids) = (Arc::clone(store), Arc::clone(&ids));
            async move {
                let held = populate(
                    store.as_ref(),
                    &ids,
                    i64::try_from(iters).unwrap_or(0),
                    ItemStatus::Held,
                )
                .await;
                let start = Instant::now();
                for id in held {
                    black_box(
                        store
                            .change_status(approval(id, ids.next()))
                            .await
                            .expect("approve"),
                    );
                }
                start.elapsed()
            }
        });
    });

    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("approve_batch_1000", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (store, ids) = (Arc::clone(store), Arc::clone(&ids));
            async move {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let held = populate(store.as_ref(), &ids, BATCH as i64, ItemStatus::Held).await;
                    let changes = held
                        .into_iter()
                        .map(|id| approval(id, ids.next()))
                        .collect();
                    let start = Instant::now();
                    black_box(store.change_statuses(changes).await.expect("approve batch"));
                    spent += start.elapsed();
                }
                spent
            }
        });
    });
}

/// Walks the whole pending queue of a store holding exactly `QUEUE` held items.
fn list_workload(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    store: &Arc<dyn ModerationStore>,
) {
    let ids = Ids::default();
    rt.block_on(populate(store.as_ref(), &ids, QUEUE, ItemStatus::Held));
    let filter = ItemFilter {
        status: Some(ItemStatus::Held),
        kind: Some(Kind::new("blog.comment").expect("valid kind")),
        author: None,
        ..ItemFilter::default()
    };
    group.throughput(Throughput::Elements(QUEUE as u64));
    group.bench_function("list_pending_10k_by_pages_of_100", |b| {
        b.to_async(rt).iter(|| async {
            let mut page = PageRequest::first(PAGE);
            let mut seen = 0;
            loop {
                let result = store.list_items(&filter, &page).await.expect("list");
                seen += result.items.len();
                match result.next {
                    Some(next) => page.after = Some(next),
                    None => break,
                }
            }
            assert_eq!(seen, QUEUE as usize);
        });
    });
}

/// Public reads of items spread over the whole id range.
fn read_workload(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    store: &Arc<dyn ModerationStore>,
    name: &str,
    ids: &[ItemId],
) {
    group.throughput(Throughput::Elements(1));
    let mut cursor = 0_usize;
    group.bench_function(name, |b| {
        b.to_async(rt).iter(|| {
            // A fixed stride over the ids touches the whole table, not a hot corner.
            cursor = (cursor + 7_919) % ids.len();
            let id = ids.get(cursor).copied().unwrap_or(ItemId(1));
            let store = Arc::clone(store);
            async move {
                let item = store.item(id).await.expect("read");
                black_box(item.is_some_and(|i| i.is_public()))
            }
        });
    });
}

/// The same reads from 8 tasks at once, as a busy web server makes them:
/// the time per read, not per task.
fn concurrent_reads(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    store: &Arc<dyn ModerationStore>,
    name: &str,
    ids: &[ItemId],
) {
    let ids: Arc<[ItemId]> = ids.into();
    group.throughput(Throughput::Elements(1));
    group.bench_function(name, |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (store, ids) = (Arc::clone(store), Arc::clone(&ids));
            across_tasks(iters, move |task, count| {
                let (store, ids) = (Arc::clone(&store), Arc::clone(&ids));
                async move {
                    // Each task strides over the whole table from its own
                    // start, as `read_workload` does.
                    let mut cursor = usize::try_from(task).unwrap_or(0) * 1_249;
                    for _ in 0..count {
                        cursor = (cursor + 7_919) % ids.len().max(1);
                        let id = ids.get(cursor).copied().unwrap_or(ItemId(1));
                        let item = store.item(id).await.expect("read");
                        black_box(item.is_some_and(|i| i.is_public()));
                    }
                }
            })
        });
    });
}

/// Public reads with 10 000 items stored (those of the list workload), then
/// with 1 000 000 after populating the rest through the batch API.
fn read_workloads(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    store: &Arc<dyn ModerationStore>,
    label: &str,
) {
    let first = rt
        .block_on(store.list_items(&ItemFilter::default(), &PageRequest::first(1)))
        .expect("list")
        .items
        .first()
        .map_or(1, |i| i.id.0);
    let at_10k: Vec<ItemId> = (first..first + QUEUE).map(ItemId).collect();
    read_workload(group, rt, store, "public_read_at_10k", &at_10k);
    concurrent_reads(group, rt, store, "public_read_at_10k_from_8_tasks", &at_10k);
    // The same statement finding nothing: the round trip to a reader
    // connection's thread without a row to decode.
    let missing: Vec<ItemId> = (1..=QUEUE).map(|n| ItemId(-n)).collect();
    read_workload(group, rt, store, "read_missing", &missing);
    if !wanted(&format!("{label}/public_read_at_1m")) {
        return;
    }
    let ids = Ids::starting_after(QUEUE);
    rt.block_on(populate(
        store.as_ref(),
        &ids,
        LARGE - QUEUE,
        ItemStatus::Public,
    ));
    let at_1m: Vec<ItemId> = (first..first + LARGE).map(ItemId).collect();
    read_workload(group, rt, store, "public_read_at_1m", &at_1m);
}

/// Criterion options that take a value, so the value is not mistaken for
/// the name filter.
const VALUED_FLAGS: &[&str] = &[
    "--baseline",
    "--baseline-lenient",
    "--color",
    "--confidence-level",
    "--format",
    "--load-baseline",
    "--measurement-time",
    "--noise-threshold",
    "--nresamples",
    "--output-format",
    "--plotting-backend",
    "--profile-time",
    "--sample-size",
    "--save-baseline",
    "--significance-level",
    "--warm-up-time",
];

/// Whether criterion's name filter (its first positional argument) can
/// select the bench `id` (`group/function`). A plain filter is compared as
/// a substring, as criterion's regular expression would match it; a filter
/// using other regular-expression syntax selects everything, so nothing is
/// skipped by mistake.
fn wanted(id: &str) -> bool {
    let mut args = std::env::args().skip(1);
    let mut filter = None;
    while let Some(arg) = args.next() {
        if VALUED_FLAGS.contains(&arg.as_str()) {
            args.next();
        } else if !arg.starts_with('-') {
            filter = Some(arg);
            break;
        }
    }
    filter.is_none_or(|f| {
        let plain = f
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '/' | '-'));
        !plain || id.contains(&f)
    })
}

/// The benches of the first store (writes).
const WRITE_BENCHES: [&str; 5] = [
    "submit_single",
    "submit_single_from_8_tasks",
    "submit_batch_1000",
    "approve",
    "approve_batch_1000",
];
/// The benches of the second store (10 000 held items, then 1 000 000).
const READ_BENCHES: [&str; 5] = [
    "list_pending_10k_by_pages_of_100",
    "public_read_at_10k",
    "public_read_at_10k_from_8_tasks",
    "read_missing",
    "public_read_at_1m",
];

/// Whether the filter can select any of `names` in the group `label`.
fn any_wanted(label: &str, names: &[&str]) -> bool {
    names.iter().any(|name| wanted(&format!("{label}/{name}")))
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
}

fn sqlite(c: &mut Criterion, rt: &Runtime, synchronous: Synchronous, label: &str) {
    let (writes, reads) = (
        any_wanted(label, &WRITE_BENCHES),
        any_wanted(label, &READ_BENCHES),
    );
    if !writes && !reads {
        return;
    }
    let mut group = c.benchmark_group(label);
    configure(&mut group);
    let open = || {
        rt.block_on(TempSqlite::with_options(|o| o.synchronous(synchronous)))
            .expect("sqlite store")
    };
    if writes {
        let temp = open();
        let store: Arc<dyn ModerationStore> = Arc::new(temp.store().clone());
        queue_workload(&mut group, rt, &store);
        rt.block_on(temp.close());
    }
    if reads {
        let temp = open();
        let store: Arc<dyn ModerationStore> = Arc::new(temp.store().clone());
        list_workload(&mut group, rt, &store);
        read_workloads(&mut group, rt, &store, label);
        rt.block_on(temp.close());
    }
    group.finish();
}

fn postgres(c: &mut Criterion, rt: &Runtime) {
    if !any_wanted("postgres", &WRITE_BENCHES) && !any_wanted("postgres", &READ_BENCHES) {
        return;
    }
    let Some(temp) = rt.block_on(TempPostgres::new_or_skip()) else {
        return;
    };
    let mut group = c.benchmark_group("postgres");
    configure(&mut group);
    let store: Arc<dyn ModerationStore> = Arc::new(temp.store().clone());
    queue_workload(&mut group, rt, &store);
    rt.block_on(temp.drop_database());

    let temp = rt.block_on(TempPostgres::new()).expect("postgres store");
    let store: Arc<dyn ModerationStore> = Arc::new(temp.store().clone());
    list_workload(&mut group, rt, &store);
    read_workloads(&mut group, rt, &store, "postgres");
    group.finish();
    rt.block_on(temp.drop_database());
}

fn storage(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    sqlite(c, &rt, Synchronous::Normal, "sqlite_normal");
    sqlite(c, &rt, Synchronous::Full, "sqlite_full");
    postgres(c, &rt);
}

criterion_group!(benches, storage);
criterion_main!(benches);
