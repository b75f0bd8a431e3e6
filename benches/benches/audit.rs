//! Criterion bench `audit`: the audit trail on SQLite and PostgreSQL.
//!
//! Per backend: recording one action per transaction and 1 000 per
//! transaction, the sock-puppet lookup of one account among 1 000 000
//! records (50 000 accounts, see `audit_population`), and the retention
//! purge, each iteration deleting the next 100 000 of the 1 000 000 records
//! in transactions of `DEFAULT_PURGE_BATCH` (500; the table is refilled,
//! untimed, when empty).
//! PostgreSQL runs on `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) in a database created for the
//! run and dropped after; it is skipped when no server answers.
//!
//! ```text
//! cargo bench -p moderation-benches --bench audit
//! ```
#![allow(
    clippy::expect_used,
    reason = "a benchmark whose setup fails must stop, not measure nothing"
)]
#![allow(
    clippy::print_stderr,
    reason = "the untimed seeding of 1 000 000 records is reported beside the figures"
)]

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use criterion::measurement::WallTime;
use criterion::{
    BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use moderation_audit_trail::{AuditEvent, AuditStore, AuditTrail, DEFAULT_PURGE_BATCH, purge};
use moderation_benches::audit_population::{self, PUPPET, SUSPECT};
use moderation_core::{Kind, MemoryModerationLog, ObjectRef, UserId};
use moderation_storage::testkit::{TempPostgres, TempSqlite};
use tokio::runtime::Runtime;

/// Records in the table the lookup and the purge run against.
const POPULATION: u64 = 1_000_000;
/// Records one purge iteration deletes.
const PURGE_SLICE: u64 = 100_000;

fn event(n: u64) -> AuditEvent {
    AuditEvent {
        actor: Some(UserId::from(i64::try_from(n % 1_000).unwrap_or(0))),
        ip: Some(IpAddr::V4(Ipv4Addr::from(
            u32::try_from(n % 1_000_000).unwrap_or(0),
        ))),
        target: ObjectRef::new(
            Kind::new("forum.post").expect("kind"),
            i64::try_from(n).unwrap_or(0),
        ),
        action: "post.create".to_owned(),
        detail: serde_json::json!({"words": 120}),
    }
}

fn record_workload(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    store: &Arc<dyn AuditStore>,
) {
    let trail = AuditTrail::builder(store.clone(), Arc::new(MemoryModerationLog::new())).build();
    let mut n = 0_u64;
    group.throughput(Throughput::Elements(1));
    group.bench_function("record_single", |b| {
        b.iter(|| {
            n += 1;
            let e = event(n);
            rt.block_on(trail.record(e.actor.as_ref(), e.ip, e.target, &e.action, e.detail))
                .expect("record")
        });
    });
    group.throughput(Throughput::Elements(1_000));
    group.bench_function("record_batch_1000", |b| {
        b.iter(|| {
            let events = (n..n + 1_000).map(event).collect();
            n += 1_000;
            rt.block_on(trail.record_many(events))
                .expect("record batch")
        });
    });
}

fn population_workloads(
    group: &mut BenchmarkGroup<'_, WallTime>,
    rt: &Runtime,
    store: &Arc<dyn AuditStore>,
) {
    let start = Utc
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .expect("date");
    let seeded = Instant::now();
    rt.block_on(audit_population::seed(store.as_ref(), 0, POPULATION, start))
        .expect("seed");
    eprintln!(
        "seeded {POPULATION} records in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );

    let since = start;
    let until = audit_population::time_of(POPULATION, start);
    let suspect = UserId::from(SUSPECT);
    let ranked = rt
        .block_on(store.sock_puppets(&suspect, since, until, 10))
        .expect("sock puppets");
    assert_eq!(
        ranked.first().map(|p| p.user.clone()),
        Some(UserId::from(PUPPET))
    );
    group.throughput(Throughput::Elements(1));
    group.bench_function("sock_puppets_at_1m", |b| {
        b.iter(|| {
            rt.block_on(store.sock_puppets(black_box(&suspect), since, until, 10))
                .expect("sock puppets")
        });
    });

    let mut purged = 0_u64;
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(PURGE_SLICE));
    group.bench_function("purge_100k_of_1m", |b| {
        b.iter_custom(|iters| {
            let mut timed = Duration::ZERO;
            for _ in 0..iters {
                if purged >= POPULATION {
                    rt.block_on(audit_population::seed(store.as_ref(), 0, POPULATION, start))
                        .expect("reseed");
                    purged = 0;
                }
                let cutoff = audit_population::time_of(purged + PURGE_SLICE - 1, start);
                let started = Instant::now();
                let report = rt
                    .block_on(purge(
                        store.as_ref(),
                        &[],
                        cutoff,
                        DEFAULT_PURGE_BATCH,
                        false,
                    ))
                    .expect("purge");
                timed += started.elapsed();
                assert_eq!(report.audit_records, PURGE_SLICE);
                purged += PURGE_SLICE;
            }
            timed
        });
    });
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
}

fn audit(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");

    let temp = rt.block_on(TempSqlite::new()).expect("sqlite store");
    let store: Arc<dyn AuditStore> = Arc::new(temp.store().clone());
    let mut group = c.benchmark_group("audit_sqlite");
    configure(&mut group);
    record_workload(&mut group, &rt, &store);
    population_workloads(&mut group, &rt, &store);
    group.finish();
    rt.block_on(temp.close());

    if let Some(temp) = rt.block_on(TempPostgres::new_or_skip()) {
        let store: Arc<dyn AuditStore> = Arc::new(temp.store().clone());
        let mut group = c.benchmark_group("audit_postgres");
        configure(&mut group);
        record_workload(&mut group, &rt, &store);
        population_workloads(&mut group, &rt, &store);
        group.finish();
        rt.block_on(temp.drop_database());
    }
}

criterion_group!(benches, audit);
criterion_main!(benches);
