//! Criterion bench `floor`: what one round trip between two threads costs
//! on this machine, the floor under every SQLite statement.
//!
//! The SQLite driver runs each connection on a thread of its own: a
//! statement is a message to that thread and a message back, and each
//! message wakes a sleeping thread. How long a wake-up takes depends on the
//! machine far more than on this code (on a virtual machine whose idle
//! cores halt, waking another core costs tens of microseconds), so the
//! storage figures are read against this one.
//!
//! ```text
//! cargo bench -p moderation-benches --bench floor
//! ```
#![allow(
    clippy::expect_used,
    reason = "a benchmark whose setup fails must stop, not measure nothing"
)]

use std::hint::black_box;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

/// A message to a thread that answers it, and its answer, through
/// blocking channels: the pattern of the driver's worker thread.
fn thread_round_trip(c: &mut Criterion) {
    let (to_worker, inbox) = mpsc::channel::<u64>();
    let (to_caller, answers) = mpsc::channel::<u64>();
    let worker = thread::spawn(move || {
        while let Ok(n) = inbox.recv() {
            if to_caller.send(n).is_err() {
                break;
            }
        }
    });
    let mut group = c.benchmark_group("floor");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    group.bench_function("thread_round_trip", |b| {
        b.iter(|| {
            to_worker.send(black_box(1)).expect("worker alive");
            black_box(answers.recv().expect("worker alive"))
        });
    });
    group.finish();
    drop(to_worker);
    worker.join().expect("worker ends");
}

criterion_group!(benches, thread_round_trip);
criterion_main!(benches);
