//! The object-workflow workload, phase by phase, on a fresh store.
//!
//! ```text
//! cargo run --release -p moderation-benches --bin workflow-workload -- \
//!     --backend sqlite|postgres --n 10000 --edit 1000 [--approve one|page]
//! ```
//!
//! Phases, as django-moderation's reference measured them: create N
//! objects as a plain user (each held for review), list the pending queue
//! (pages of 100), approve all, list the public objects (pages of 100), get
//! each object as the public would, edit E of them, re-approve those E.
//! Each phase prints one line:
//! `<phase> <count> ops <seconds> s <ms per op> ms/op <cpu ms per op> cpu-ms/op`,
//! the CPU time being the whole process's (every thread, user and system,
//! from `getrusage`): for one caller it stays below the wall time, since
//! nothing waits by spinning.
//!
//! `--approve page` (the default) approves each page of the pending list with
//! one bulk action, as a moderator selecting a page of the queue would
//! (`ObjectWorkflow::bulk`): every entry still gets its own log entry,
//! events and notification. It is this library's way to approve everything
//! pending; django-moderation's own bulk action (the admin's
//! `approve_objects`) approves the selected objects one by one, so its
//! per-item cost is the reference's either way. `--approve one` approves
//! each entry with its own moderator action, a version check and a commit
//! each: the cost of a single decision.
//!
//! SQLite runs with the store's default settings (WAL, `synchronous =
//! NORMAL`) on a file in the temporary directory; PostgreSQL runs on
//! `DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/test`) in a
//! database created for the run and dropped after.
#![allow(
    clippy::print_stdout,
    reason = "a workload program reports its figures on standard output"
)]

use std::error::Error;
use std::sync::Arc;
use std::time::Instant;

use moderation_core::workflow::{
    EntryVersion, ObjectAction, ObjectStore, ObjectWorkflow, PublicRead, WorkflowOptions,
};
use moderation_core::{Actor, Kind, ModerationError, ObjectId, ObjectRef, UserId};
use moderation_storage::testkit::workflow::{Profile, pending_in_pages, profile};
use moderation_storage::testkit::{TempPostgres, TempSqlite};

/// Which store to run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// How the approve phases act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Approve {
    /// One moderator action per entry.
    One,
    /// One bulk action per page of the pending list.
    Page,
}

/// The command line.
#[derive(Debug)]
struct Args {
    backend: Backend,
    n: i64,
    edit: i64,
    approve: Approve,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        backend: Backend::Sqlite,
        n: 10_000,
        edit: 1_000,
        approve: Approve::Page,
    };
    let mut words = std::env::args().skip(1);
    while let Some(flag) = words.next() {
        let value = words
            .next()
            .ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--backend" => {
                args.backend = match value.as_str() {
                    "sqlite" => Backend::Sqlite,
                    "postgres" => Backend::Postgres,
                    other => {
                        return Err(format!("unknown backend `{other}`: use sqlite or postgres"));
                    }
                };
            }
            "--n" => args.n = value.parse().map_err(|e| format!("--n {value}: {e}"))?,
            "--edit" => args.edit = value.parse().map_err(|e| format!("--edit {value}: {e}"))?,
            "--approve" => {
                args.approve = match value.as_str() {
                    "one" => Approve::One,
                    "page" => Approve::Page,
                    other => {
                        return Err(format!("unknown approve mode `{other}`: use one or page"));
                    }
                };
            }
            other => {
                return Err(format!(
                    "unknown flag `{other}`: use --backend sqlite|postgres --n N --edit E \
                     --approve one|page"
                ));
            }
        }
    }
    if args.edit > args.n {
        return Err(format!("--edit {} is more than --n {}", args.edit, args.n));
    }
    Ok(args)
}

/// Times one phase, in wall and CPU time, and prints its line.
struct Phase {
    name: &'static str,
    started: Instant,
    cpu: f64,
}

/// The CPU time this process has used so far (all threads, user and
/// system), in seconds; 0 where `getrusage` fails.
fn cpu_seconds() -> f64 {
    let Ok(usage) = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF) else {
        return 0.0;
    };
    let seconds = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    seconds(usage.user_time()) + seconds(usage.system_time())
}

impl Phase {
    fn start(name: &'static str) -> Self {
        Self {
            name,
            started: Instant::now(),
            cpu: cpu_seconds(),
        }
    }

    fn done(self, ops: i64) {
        let seconds = self.started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - self.cpu;
        let per_op = |total: f64| {
            if ops > 0 {
                total * 1_000.0 / ops as f64
            } else {
                0.0
            }
        };
        println!(
            "{} {ops} ops {seconds:.3} s {:.4} ms/op {:.4} cpu-ms/op",
            self.name,
            per_op(seconds),
            per_op(cpu)
        );
    }
}

/// Pending-list pages, and the pages a bulk approval takes at a time.
const PAGE: usize = 100;

/// Every pending entry, oldest first, in pages of [`PAGE`].
async fn pending_entries(workflow: &ObjectWorkflow) -> Result<Vec<EntryVersion>, ModerationError> {
    let entries = pending_in_pages(workflow, PAGE).await?;
    Ok(entries.iter().map(EntryVersion::from).collect())
}

/// Approves `entries` as `mode` says.
async fn approve_all(
    workflow: &ObjectWorkflow,
    moderator: &Actor,
    entries: &[EntryVersion],
    mode: Approve,
) -> Result<(), ModerationError> {
    match mode {
        Approve::One => {
            for entry in entries {
                workflow.approve(moderator, *entry, Some("ok")).await?;
            }
        }
        Approve::Page => {
            for page in entries.chunks(PAGE) {
                workflow
                    .bulk(moderator, ObjectAction::Approve, page, Some("ok"))
                    .await?;
            }
        }
    }
    Ok(())
}

async fn run(store: Arc<dyn ObjectStore>, args: &Args) -> Result<(), Box<dyn Error>> {
    let workflow = ObjectWorkflow::builder(store).build();
    workflow.register_type::<Profile>(WorkflowOptions::new())?;
    let kind = Kind::new("profile")?;
    let member = Actor::user(UserId::from(7_i64));
    let moderator = Actor::user(UserId::from(1_i64)).with_staff(true);

    let phase = Phase::start("create");
    for id in 1..=args.n {
        workflow
            .create(&member, &profile(id, "A short bio."))
            .await?;
    }
    phase.done(args.n);

    let phase = Phase::start("list-pending");
    let pending = pending_entries(&workflow).await?;
    phase.done(i64::try_from(pending.len())?);

    let phase = Phase::start("approve");
    approve_all(&workflow, &moderator, &pending, args.approve).await?;
    phase.done(i64::try_from(pending.len())?);

    let phase = Phase::start("public-list");
    let mut listed = 0_i64;
    let mut after: Option<ObjectId> = None;
    loop {
        let page = workflow.public_page(&kind, after.as_ref(), 100).await?;
        listed += i64::try_from(page.len())?;
        match page.last() {
            Some(last) if page.len() == 100 => after = Some(last.id.clone()),
            _ => break,
        }
    }
    phase.done(listed);

    let phase = Phase::start("public-get");
    for id in 1..=args.n {
        let read = workflow
            .public_version(&ObjectRef::new(kind.clone(), id))
            .await?;
        if !matches!(read, PublicRead::Public(_)) {
            return Err(format!("profile {id} is not public after approval").into());
        }
    }
    phase.done(args.n);

    let phase = Phase::start("edit");
    for id in 1..=args.edit {
        workflow
            .edit(&member, &profile(id, "A longer bio, edited."))
            .await?;
    }
    phase.done(args.edit);

    let phase = Phase::start("re-approve");
    let pending = pending_entries(&workflow).await?;
    approve_all(&workflow, &moderator, &pending, args.approve).await?;
    phase.done(i64::try_from(pending.len())?);
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = parse_args()?;
    match args.backend {
        Backend::Sqlite => {
            let temp = TempSqlite::new().await?;
            let result = run(Arc::new(temp.store().clone()), &args).await;
            temp.close().await;
            result
        }
        Backend::Postgres => {
            let temp = TempPostgres::new().await?;
            let result = run(Arc::new(temp.store().clone()), &args).await;
            temp.drop_database().await;
            result
        }
    }
}
