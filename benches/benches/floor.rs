//! Criterion bench `floor`: each SQLite store operation beside the same
//! SQL run directly on one SQLite connection on the calling thread
//! (rusqlite, same schema, same settings), in the same process and run.
//! The ratio store / floor is what the store adds: the writer task, the
//! driver's connection thread, encoding and decoding.
//!
//! | operation | store | floor |
//! |---|---|---|
//! | `submit` | `insert_item` (one held comment and its log entry) | `BEGIN IMMEDIATE`, the item insert, the log insert, `COMMIT` |
//! | `approve` | `change_status` | `BEGIN IMMEDIATE`, the versioned update, the item log and moderation log inserts, `COMMIT` |
//! | `read` | `item` by id, 10 000 items stored | the same `SELECT` |
//! | `batch_1000` | `insert_items` of 1 000 | one transaction of 1 000 item and log inserts |
//! | `submit_from_8_tasks` | `insert_item` from 8 tasks at once (group commit) | the floor's `submit`, one after the other |
//! | `thread_round_trip` | | a message to another thread and its answer: what each statement costs the store beyond SQLite, since the driver runs each connection on a thread of its own |
//!
//! ```text
//! cargo bench -p moderation-benches --bench floor
//! ```
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
use moderation_core::{ItemId, ModerationStore, NewItem, NewLogEntry, StatusChange};
use moderation_storage::testkit::TempSqlite;
use rusqlite::{Connection, params};
use tokio::runtime::Runtime;

/// Items stored before the reads.
const STORED: i64 = 10_000;
/// Items per batch.
const BATCH: usize = 1_000;

/// The schema the store migrates to, applied to the floor's file.
const SCHEMA: &str =
    include_str!("../../crates/storage-backend/migrations/sqlite/20261201000000_schema.sql");

const INSERT_ITEM: &str = "INSERT INTO moderation_items (kind, object_key, parent_kind, \
     parent_key, author_key, status, reasons, payload, fingerprint, ip, created_at, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11) RETURNING id";
const INSERT_LOG: &str = "INSERT INTO moderation_item_log (item_id, action, actor, reason, \
     detail, ip, from_status, to_status, bulk_id, at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
const CHANGE_STATUS: &str = "UPDATE moderation_items \
     SET status = ?1, updated_at = ?2, version = version + 1 WHERE id = ?3 AND version = ?4 \
     RETURNING id, kind, object_key, parent_kind, parent_key, author_key, status, reasons, \
     payload, fingerprint, ip, created_at, updated_at, version";
const INSERT_MODLOG: &str = "INSERT INTO moderation_log (action, actor, target_kind, \
     target_key, reason, before_state, after_state, detail, ip, bulk_id, at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)";
const SELECT_ITEM: &str = "SELECT id, kind, object_key, parent_kind, parent_key, author_key, \
     status, reasons, payload, fingerprint, ip, created_at, updated_at, version \
     FROM moderation_items WHERE id = ?1";

/// The floor: one connection on the calling thread, with the store's
/// pragmas (WAL, `synchronous = NORMAL`, foreign keys, memory temp store).
struct Floor {
    conn: Connection,
    _dir: tempfile::TempDir,
}

impl Floor {
    fn open() -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let conn = Connection::open(dir.path().join("floor.db")).expect("open floor file");
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
             PRAGMA temp_store = MEMORY;",
        )
        .expect("pragmas");
        conn.execute_batch(SCHEMA).expect("schema");
        Self { conn, _dir: dir }
    }

    /// The item's insert and its log entry, inside the caller's transaction.
    fn insert(&self, item: &NewItem, log: &NewLogEntry) -> i64 {
        let object_key = format!("i:{}", item.object.id);
        let id: i64 = self
            .conn
            .prepare_cached(INSERT_ITEM)
            .expect("prepare")
            .query_row(
                params![
                    item.object.kind.as_str(),
                    object_key,
                    item.parent.as_ref().map(|p| p.kind.as_str().to_owned()),
                    item.parent.as_ref().map(|p| format!("i:{}", p.id)),
                    item.author.as_ref().map(moderation_core::AuthorKey::to_key),
                    item.status.as_str(),
                    serde_json::to_string(&item.reasons).expect("reasons"),
                    item.payload.to_string(),
                    item.fingerprint,
                    item.ip.map(|ip| ip.to_string()),
                    item.created_at.timestamp_micros(),
                ],
                |row| row.get(0),
            )
            .expect("insert item");
        self.log(id, log);
        id
    }

    fn log(&self, id: i64, log: &NewLogEntry) {
        self.conn
            .prepare_cached(INSERT_LOG)
            .expect("prepare")
            .execute(params![
                id,
                log.action.as_str(),
                log.actor.as_ref().map(|a| a.as_str().to_owned()),
                log.reason,
                log.detail.to_string(),
                log.ip.map(|ip| ip.to_string()),
                log.from_status.map(|s| s.as_str()),
                log.to_status.map(|s| s.as_str()),
                log.bulk.map(|b| b.to_string()),
                log.at.timestamp_micros(),
            ])
            .expect("insert log");
    }

    fn submit(&self, item: &NewItem, log: &NewLogEntry) -> i64 {
        self.conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        let id = self.insert(item, log);
        self.conn.execute_batch("COMMIT").expect("commit");
        id
    }

    fn approve(&self, change: &StatusChange) {
        self.conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        let (kind, key): (String, String) = self
            .conn
            .prepare_cached(CHANGE_STATUS)
            .expect("prepare")
            .query_row(
                params![
                    change.status.as_str(),
                    change.log.at.timestamp_micros(),
                    change.item.0,
                    change.expected_version,
                ],
                |row| Ok((row.get(1)?, row.get(2)?)),
            )
            .expect("approve");
        self.log(change.item.0, &change.log);
        self.conn
            .prepare_cached(INSERT_MODLOG)
            .expect("prepare")
            .execute(params![
                "item.approve",
                change.log.actor.as_ref().map(|a| a.as_str().to_owned()),
                kind,
                key,
                change.log.reason,
                change.log.from_status.map(|s| s.as_str()),
                change.log.to_status.map(|s| s.as_str()),
                change.log.detail.to_string(),
                change.log.ip.map(|ip| ip.to_string()),
                change.log.bulk.map(|b| b.to_string()),
                change.log.at.timestamp_micros(),
            ])
            .expect("moderation log");
        self.conn.execute_batch("COMMIT").expect("commit");
    }

    fn read(&self, id: i64) -> bool {
        self.conn
            .prepare_cached(SELECT_ITEM)
            .expect("prepare")
            .query_row(params![id], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(6)?,
                    row.get::<_, String>(8)?,
                ))
            })
            .map(|row| black_box(row).1 == "public")
            .expect("read")
    }

    fn batch(&self, items: &[(NewItem, NewLogEntry)]) {
        self.conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
        for (item, log) in items {
            self.insert(item, log);
        }
        self.conn.execute_batch("COMMIT").expect("commit");
    }
}

fn configure(group: &mut BenchmarkGroup<'_, WallTime>) {
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
}

fn floor(c: &mut Criterion) {
    let rt = Runtime::new().expect("runtime");
    let temp = rt.block_on(TempSqlite::new()).expect("SQLite store");
    let store: Arc<dyn ModerationStore> = Arc::new(temp.store().clone());
    let floor = Floor::open();
    let ids = Arc::new(Ids::default());
    let floor_ids = Ids::default();

    let mut group = c.benchmark_group("floor/submit");
    configure(&mut group);
    group.throughput(Throughput::Elements(1));
    group.bench_function("store", |b| {
        b.to_async(&rt).iter(|| {
            let (store, ids) = (Arc::clone(&store), Arc::clone(&ids));
            async move {
                let (item, log) = held_comment(ids.next());
                black_box(store.insert_item(item, log).await.expect("submit"))
            }
        });
    });
    group.bench_function("sqlite", |b| {
        b.iter(|| {
            let (item, log) = held_comment(floor_ids.next());
            black_box(floor.submit(&item, &log))
        });
    });
    group.finish();

    let mut group = c.benchmark_group("floor/submit_from_8_tasks");
    configure(&mut group);
    group.throughput(Throughput::Elements(1));
    group.bench_function("store", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (store, ids) = (Arc::clone(&store), Arc::clone(&ids));
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
    group.bench_function("sqlite", |b| {
        b.iter(|| {
            let (item, log) = held_comment(floor_ids.next());
            black_box(floor.submit(&item, &log))
        });
    });
    group.finish();

    let mut group = c.benchmark_group("floor/approve");
    configure(&mut group);
    group.throughput(Throughput::Elements(1));
    group.bench_function("store", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (store, ids) = (Arc::clone(&store), Arc::clone(&ids));
            async move {
                let mut held = Vec::new();
                for _ in 0..iters {
                    let (item, log) = held_comment(ids.next());
                    held.push(store.insert_item(item, log).await.expect("hold").id);
                }
                let start = Instant::now();
                for id in held {
                    let change = approval(id, ids.next());
                    black_box(store.change_status(change).await.expect("approve"));
                }
                start.elapsed()
            }
        });
    });
    group.bench_function("sqlite", |b| {
        b.iter_custom(|iters| {
            let held: Vec<i64> = (0..iters)
                .map(|_| {
                    let (item, log) = held_comment(floor_ids.next());
                    floor.submit(&item, &log)
                })
                .collect();
            let start = Instant::now();
            for id in held {
                floor.approve(&approval(ItemId(id), floor_ids.next()));
            }
            start.elapsed()
        });
    });
    group.finish();

    let mut group = c.benchmark_group("floor/batch_1000");
    configure(&mut group);
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("store", |b| {
        b.to_async(&rt).iter_custom(|iters| {
            let (store, ids) = (Arc::clone(&store), Arc::clone(&ids));
            async move {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    let batch = (0..BATCH).map(|_| held_comment(ids.next())).collect();
                    let start = Instant::now();
                    black_box(store.insert_items(batch).await.expect("batch"));
                    spent += start.elapsed();
                }
                spent
            }
        });
    });
    group.bench_function("sqlite", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let batch: Vec<_> = (0..BATCH).map(|_| held_comment(floor_ids.next())).collect();
                let start = Instant::now();
                floor.batch(&batch);
                spent += start.elapsed();
            }
            spent
        });
    });
    group.finish();

    // Reads with at least `STORED` items in each file.
    rt.block_on(async {
        while ids.next() < STORED {
            let batch = (0..BATCH).map(|_| held_comment(ids.next())).collect();
            store.insert_items(batch).await.expect("fill");
        }
    });
    while floor_ids.next() < STORED {
        let batch: Vec<_> = (0..BATCH).map(|_| held_comment(floor_ids.next())).collect();
        floor.batch(&batch);
    }
    let mut group = c.benchmark_group("floor/read");
    configure(&mut group);
    group.throughput(Throughput::Elements(1));
    let mut cursor = 0_i64;
    group.bench_function("store", |b| {
        b.to_async(&rt).iter(|| {
            cursor = (cursor + 7_919) % STORED + 1;
            let store = Arc::clone(&store);
            async move { black_box(store.item(ItemId(cursor)).await.expect("read")) }
        });
    });
    let mut cursor = 0_i64;
    group.bench_function("sqlite", |b| {
        b.iter(|| {
            cursor = (cursor + 7_919) % STORED + 1;
            black_box(floor.read(cursor))
        });
    });
    group.finish();
    rt.block_on(temp.close());
}

/// A message to a thread that answers it, through blocking channels: the
/// pattern of the driver's connection thread, without SQLite.
fn thread_round_trip(c: &mut Criterion) {
    let (to_worker, inbox) = std::sync::mpsc::channel::<u64>();
    let (to_caller, answers) = std::sync::mpsc::channel::<u64>();
    let worker = std::thread::spawn(move || {
        while let Ok(n) = inbox.recv() {
            if to_caller.send(n).is_err() {
                break;
            }
        }
    });
    let mut group = c.benchmark_group("floor/thread_round_trip");
    configure(&mut group);
    group.bench_function("two_threads", |b| {
        b.iter(|| {
            to_worker.send(black_box(1)).expect("worker alive");
            black_box(answers.recv().expect("worker alive"))
        });
    });
    group.finish();
    drop(to_worker);
    worker.join().expect("worker ends");
}

criterion_group!(benches, floor, thread_round_trip);
criterion_main!(benches);
