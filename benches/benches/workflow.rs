//! Criterion bench `workflow`: the object moderation workflow on SQLite
//! (default settings) and PostgreSQL.
//!
//! Per backend: a plain user's create (held for review), a moderator's
//! approve, an edit of an approved object, a bulk approve of 1 000 entries,
//! and the public read of one object with 10 000 and with 100 000 records
//! stored (populated once through the bulk import), which shows the public
//! read does not grow with the table. PostgreSQL runs on `DATABASE_URL`
//! (default `postgres://postgres@127.0.0.1:5432/test`) in a database
//! created for the run and dropped after; it is skipped when no server
//! answers.
//!
//! ```text
//! cargo bench -p moderation-benches --bench workflow
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
use moderation_core::workflow::{
    EntryVersion, ObjectAction, ObjectStore, ObjectWorkflow, WorkflowOptions,
};
use moderation_core::{Actor, Kind, ObjectRef, UserId};
use moderation_storage::testkit::workflow::{Profile, profile};
use moderation_storage::testkit::{TempPostgres, TempSqlite};
use tokio::runtime::Runtime;

/// Records behind the small public-read measurement.
const SMALL: i64 = 10_000;
/// Records behind the large one.
const LARGE: i64 = 100_000;
/// Entries per bulk approve.
const BULK: i64 = 1_000;

/// Hands out profile ids, unique within one store.
#[derive(Debug, Default)]
struct Ids(AtomicI64);

impl Ids {
    fn take(&self, n: i64) -> std::ops::RangeInclusive<i64> {
        let first = self.0.fetch_add(n, Ordering::Relaxed) + 1;
        first..=first + n - 1
    }
}

fn member() -> Actor {
    Actor::user(UserId::from(7_i64))
}

fn moderator() -> Actor {
    Actor::user(UserId::from(1_i64)).with_staff(true)
}

fn workflow(store: Arc<dyn ObjectStore>) -> Arc<ObjectWorkflow> {
    let workflow = ObjectWorkflow::builder(store).build();
    workflow
        .register_type::<Profile>(WorkflowOptions::new())
        .expect("register");
    Arc::new(workflow)
}

/// Creates `ids` as held profiles; returns their entries.
async fn held(workflow: &ObjectWorkflow, ids: std::ops::RangeInclusive<i64>) -> Vec<EntryVersion> {
    let mut entries = Vec::new();
    for id in ids {
        let saved = workflow
            .create(&member(), &profile(id, "A short bio."))
            .await
            .expect("create");
        entries.push(EntryVersion::from(saved.entry.as_ref().expect("an entry")));
    }
    entries
}

/// Create, approve, edit and bulk approve.
fn decisions(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    workflow: &Arc<ObjectWorkflow>,
) {
    let ids = Arc::new(Ids::default());

    group.throughput(Throughput::Elements(1));
    group.bench_function("create_held", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (workflow, ids) = (Arc::clone(workflow), Arc::clone(&ids));
            async move {
                let range = ids.take(i64::try_from(iters).unwrap_or(0));
                let start = Instant::now();
                black_box(held(&workflow, range).await);
                start.elapsed()
            }
        });
    });

    group.bench_function("approve", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (workflow, ids) = (Arc::clone(workflow), Arc::clone(&ids));
            async move {
                let entries = held(&workflow, ids.take(i64::try_from(iters).unwrap_or(0))).await;
                let start = Instant::now();
                for entry in entries {
                    black_box(
                        workflow
                            .approve(&moderator(), entry, Some("ok"))
                            .await
                            .expect("approve"),
                    );
                }
                start.elapsed()
            }
        });
    });

    group.bench_function("edit_approved", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (workflow, ids) = (Arc::clone(workflow), Arc::clone(&ids));
            async move {
                let range = ids.take(i64::try_from(iters).unwrap_or(0));
                let entries = held(&workflow, range.clone()).await;
                workflow
                    .bulk(&moderator(), ObjectAction::Approve, &entries, None)
                    .await
                    .expect("approve");
                let start = Instant::now();
                for id in range {
                    black_box(
                        workflow
                            .edit(&member(), &profile(id, "A longer bio, edited."))
                            .await
                            .expect("edit"),
                    );
                }
                start.elapsed()
            }
        });
    });

    group.throughput(Throughput::Elements(u64::try_from(BULK).unwrap_or(1)));
    group.bench_function("bulk_approve_1000", |b| {
        b.to_async(rt).iter_custom(|iters| {
            let (workflow, ids) = (Arc::clone(workflow), Arc::clone(&ids));
            async move {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let entries = held(&workflow, ids.take(BULK)).await;
                    let start = Instant::now();
                    black_box(
                        workflow
                            .bulk(&moderator(), ObjectAction::Approve, &entries, None)
                            .await
                            .expect("bulk approve"),
                    );
                    spent += start.elapsed();
                }
                spent
            }
        });
    });
}

/// The public read of one object with `size` records stored.
fn public_get(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    store: Arc<dyn ObjectStore>,
    size: i64,
) {
    let workflow = workflow(store);
    rt.block_on(async {
        let mut id = 0;
        while id < size {
            let batch: Vec<Profile> = (id + 1..=(id + 1_000).min(size))
                .map(|n| profile(n, "Imported."))
                .collect();
            id += i64::try_from(batch.len()).unwrap_or(1_000);
            workflow.import(&batch).await.expect("import");
        }
    });
    let kind = Kind::new("profile").expect("kind");
    let counter = AtomicI64::new(0);
    group.throughput(Throughput::Elements(1));
    group.bench_function(format!("public_get_{size}"), |b| {
        b.to_async(rt).iter(|| {
            let n = counter.fetch_add(7_919, Ordering::Relaxed) % size + 1;
            let object = ObjectRef::new(kind.clone(), n);
            let workflow = Arc::clone(&workflow);
            async move { black_box(workflow.public_version(&object).await.expect("read")) }
        });
    });
}

fn sqlite(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("workflow/sqlite");
    group.sample_size(20);
    let temp = rt.block_on(TempSqlite::new()).expect("sqlite store");
    decisions(&mut group, &rt, &workflow(Arc::new(temp.store().clone())));
    rt.block_on(temp.close());
    for size in [SMALL, LARGE] {
        let temp = rt.block_on(TempSqlite::new()).expect("sqlite store");
        public_get(&mut group, &rt, Arc::new(temp.store().clone()), size);
        rt.block_on(temp.close());
    }
    group.finish();
}

fn postgres(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let Some(temp) = rt.block_on(TempPostgres::new_or_skip()) else {
        return;
    };
    let mut group = c.benchmark_group("workflow/postgres");
    group.sample_size(20);
    decisions(&mut group, &rt, &workflow(Arc::new(temp.store().clone())));
    rt.block_on(temp.drop_database());
    for size in [SMALL, LARGE] {
        let Some(temp) = rt.block_on(TempPostgres::new_or_skip()) else {
            return;
        };
        public_get(&mut group, &rt, Arc::new(temp.store().clone()), size);
        rt.block_on(temp.drop_database());
    }
    group.finish();
}

criterion_group!(benches, sqlite, postgres);
criterion_main!(benches);
