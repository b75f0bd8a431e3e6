//! A caller that stops waiting for a workflow write on SQLite (its future
//! dropped: a timeout, a client gone) leaves that write whole or absent:
//! the store's writer skips work whose caller left before it started, and
//! runs work it started to its commit. A create is then its record with
//! its entry or nothing; a bulk decision is every decision of the batch,
//! each with its log row, or none; and the store's next write is committed
//! and seen.
#![allow(
    clippy::unwrap_used,
    reason = "a helper that cannot set up or read the database fails the test"
)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use moderation_core::workflow::{
    EntryStatus, EntryVersion, ObjectAction, ObjectStore, WorkflowOptions,
};
use moderation_core::{ModLogFilter, ModerationError};
use moderation_storage::SqliteStore;
use moderation_storage::testkit::{self, review, workflow};

/// Polls `write` once, which hands its work to the writer, waits `delay`
/// (spinning: the runtime's timer counts in milliseconds, longer than a
/// whole write takes), then drops it, finished or not.
async fn abandon(write: impl Future, delay: Duration) {
    let mut write = pin!(write);
    let _ = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx).is_ready())).await;
    let until = Instant::now() + delay;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// From dropped at once to dropped after the write is done, in steps a
/// few statements long.
fn delays() -> impl Iterator<Item = (i64, Duration)> {
    (0..40_u64).map(|step| {
        (
            i64::try_from(step).unwrap(),
            Duration::from_micros(step * 10),
        )
    })
}

/// Whether object `id`'s create is whole (`Some(true)`: its record with its
/// entry) or absent (`Some(false)`), read in one query; `None` for half a
/// create.
async fn create_stored(store: &SqliteStore, id: i64) -> Result<Option<bool>, ModerationError> {
    Ok(
        match store
            .object_with_latest(&workflow::profile_ref(id)?)
            .await?
        {
            None => Some(false),
            Some((record, Some(entry))) if record.revision == 1 && entry.revision == 1 => {
                Some(true)
            }
            Some(_) => None,
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_abandoned_create_is_whole_or_absent_and_the_next_write_lands() {
    testkit::with_sqlite(|store| async move {
        let harness = workflow::Harness::new(Arc::new(store.clone()), WorkflowOptions::new())?;
        let member = workflow::plain(7);
        for (step, delay) in delays() {
            let abandoned = 1_000 + step;
            abandon(
                harness
                    .workflow
                    .create(&member, &workflow::profile(abandoned, "left behind")),
                delay,
            )
            .await;
            // The writer takes work in order: once this one is answered,
            // the abandoned one has been skipped or committed.
            let next = 2_000 + step;
            harness
                .workflow
                .create(&member, &workflow::profile(next, "written after"))
                .await?;
            assert_eq!(create_stored(&store, next).await?, Some(true), "{delay:?}");
            assert!(
                create_stored(&store, abandoned).await?.is_some(),
                "half a create after {delay:?}"
            );
        }
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_abandoned_bulk_decision_is_all_or_nothing() {
    testkit::with_sqlite(|store| async move {
        let harness = workflow::Harness::new(Arc::new(store.clone()), WorkflowOptions::new())?;
        let member = workflow::plain(7);
        let mut logged = 0;
        for (step, delay) in delays() {
            let ids: Vec<i64> = (0..10).map(|n| 10_000 + step * 10 + n).collect();
            for id in &ids {
                harness
                    .workflow
                    .create(&member, &workflow::profile(*id, "queued"))
                    .await?;
            }
            let mut targets = Vec::with_capacity(ids.len());
            for id in &ids {
                targets.push(EntryVersion::from(&harness.latest(*id).await?));
            }
            abandon(
                harness.workflow.bulk(
                    &workflow::moderator(99),
                    ObjectAction::Approve,
                    &targets,
                    Some("ok"),
                ),
                delay,
            )
            .await;
            // Answered after the abandoned batch was skipped or committed.
            harness
                .workflow
                .create(&member, &workflow::profile(5_000 + step, "written after"))
                .await?;
            let mut approved = 0;
            for id in &ids {
                if harness.latest(*id).await?.status == EntryStatus::Approved {
                    approved += 1;
                }
            }
            assert!(
                approved == 0 || approved == ids.len(),
                "{approved} of {} decided after {delay:?}",
                ids.len()
            );
            logged += approved;
            let log = review::all_log_entries(&store, &ModLogFilter::default()).await?;
            assert_eq!(log.len(), logged, "log rows after {delay:?}");
        }
        Ok(())
    })
    .await;
}
