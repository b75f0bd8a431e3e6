//! Held comments as the storage benches submit them, and a way to run
//! operations from many tasks at once.
#![allow(
    clippy::expect_used,
    reason = "a benchmark whose setup fails must stop, not measure nothing"
)]

use std::future::Future;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use moderation_core::{
    AuthorKey, ItemId, ItemStatus, Kind, LogAction, NewItem, NewLogEntry, ObjectRef, Reason,
    StatusChange, UserId,
};

/// Tasks submitting at once in the concurrent benches.
pub const TASKS: u64 = 8;

/// Hands out comment ids, unique within one store.
#[derive(Debug, Default)]
pub struct Ids(AtomicI64);

impl Ids {
    /// Ids after `last`.
    #[must_use]
    pub fn starting_after(last: i64) -> Self {
        Self(AtomicI64::new(last))
    }

    /// The next id.
    pub fn next(&self) -> i64 {
        self.0.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// A held comment by a plain user, as the pipeline stores a first-timer's.
pub fn held_comment(id: i64) -> (NewItem, NewLogEntry) {
    let at = Utc
        .timestamp_opt(1_795_000_000 + id, 0)
        .single()
        .expect("valid time");
    let item = NewItem {
        object: ObjectRef::new(Kind::new("blog.comment").expect("valid kind"), id),
        parent: Some(ObjectRef::new(
            Kind::new("blog.entry").expect("valid kind"),
            1_i64,
        )),
        author: Some(AuthorKey::User(UserId::from(1_000 + id % 97))),
        status: ItemStatus::Held,
        reasons: vec![Reason::new(
            "first_timer",
            "First submissions are reviewed by a moderator",
        )],
        payload: serde_json::json!({
            "id": id,
            "author": "reader",
            "body": "Thanks for the write-up; the part about keyset pagination helped a lot.",
        }),
        fingerprint: Some(format!("{id:016x}")),
        ip: None,
        created_at: at,
    };
    let log = NewLogEntry {
        action: LogAction::SubmitHeld,
        actor: Some(UserId::from(1_000 + id % 97)),
        reason: None,
        detail: serde_json::json!({"reasons": ["first_timer"]}),
        ip: None,
        from_status: None,
        to_status: Some(ItemStatus::Held),
        bulk: None,
        at,
    };
    (item, log)
}

/// A moderator's approval of held item `item`, logged at comment `at_id`'s time.
pub fn approval(item: ItemId, at_id: i64) -> StatusChange {
    let (_, mut log) = held_comment(at_id);
    log.action = LogAction::Approve;
    log.actor = Some(UserId::from(1_i64));
    log.from_status = Some(ItemStatus::Held);
    log.to_status = Some(ItemStatus::Public);
    StatusChange {
        item,
        expected_version: 1,
        status: ItemStatus::Public,
        log,
    }
}

/// Runs `iters` operations split over `TASKS` tasks started together and
/// returns the wall time: `run(task, count)` makes task `task`'s `count`.
pub async fn across_tasks<F, Fut>(iters: u64, run: F) -> Duration
where
    F: Fn(u64, u64) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let start = Instant::now();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| tokio::spawn(run(task, iters / TASKS + u64::from(task < iters % TASKS))))
        .collect();
    for task in tasks {
        task.await.expect("task of a concurrent bench");
    }
    start.elapsed()
}
