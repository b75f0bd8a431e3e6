//! Purges 1 000 000 audit records on SQLite and on PostgreSQL while another
//! task keeps inserting, and prints how long the inserts waited (median,
//! p99, worst). Exits with a failure if an old record is left or a new one
//! is lost; the waits are measured, never judged, since they depend on the
//! machine.
//!
//! ```text
//! cargo run --release -p moderation-benches --bin audit_purge_load [RECORDS] [BATCH]
//! ```
//!
//! PostgreSQL runs on `DATABASE_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`) in a database created for the
//! run and dropped after; it is skipped when no server answers.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a workload program reports on the terminal"
)]

use std::process::ExitCode;
use std::sync::Arc;

use moderation_audit_trail::{AuditStore, DEFAULT_PURGE_BATCH};
use moderation_storage::testkit::purge_load::{PurgeLoadReport, purge_under_load};
use moderation_storage::testkit::{TempPostgres, TempSqlite};

fn arg(position: usize, default: u64) -> u64 {
    std::env::args()
        .nth(position)
        .and_then(|a| a.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn report(backend: &str, outcome: Result<PurgeLoadReport, impl std::fmt::Display>) -> bool {
    match outcome {
        Ok(r) => {
            println!(
                "{backend}: purged {} records in {:.1} s ({} transactions); {} concurrent inserts waited: median {:.1} ms, p99 {:.1} ms, worst {:.1} ms; old left {}, new found {}/{}",
                r.purge.audit_records,
                r.purge_time.as_secs_f64(),
                r.purge.batches,
                r.inserts,
                r.median_insert_wait.as_secs_f64() * 1_000.0,
                r.p99_insert_wait.as_secs_f64() * 1_000.0,
                r.worst_insert_wait.as_secs_f64() * 1_000.0,
                r.old_left,
                r.new_found,
                r.inserts
            );
            r.old_left == 0 && r.new_found == r.inserts
        }
        Err(error) => {
            eprintln!("{backend}: failed: {error}");
            false
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let records = arg(1, 1_000_000);
    let batch =
        u32::try_from(arg(2, u64::from(DEFAULT_PURGE_BATCH))).unwrap_or(DEFAULT_PURGE_BATCH);
    println!("purging {records} records in transactions of {batch} while inserting");
    let mut ok = true;

    match TempSqlite::new().await {
        Ok(temp) => {
            let store: Arc<dyn AuditStore> = Arc::new(temp.store().clone());
            ok &= report("sqlite", purge_under_load(store, records, batch).await);
            temp.close().await;
        }
        Err(error) => {
            eprintln!("sqlite: could not open a store: {error}");
            ok = false;
        }
    }
    if let Some(temp) = TempPostgres::new_or_skip().await {
        let store: Arc<dyn AuditStore> = Arc::new(temp.store().clone());
        ok &= report("postgres", purge_under_load(store, records, batch).await);
        temp.drop_database().await;
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
