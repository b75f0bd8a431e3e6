//! A workflow write on SQLite is one statement text holding its own
//! transaction. A caller that stops waiting (its future dropped: a timeout,
//! a client gone) stops the text wherever it was, possibly inside that
//! transaction. The write must then be all there or not there at all; the
//! abandoned transaction must not keep SQLite's write lock from other
//! connections while this store writes nothing; and the store's next write
//! must neither fail nor end up inside it: it is committed and seen by
//! other connections.
#![allow(
    clippy::unwrap_used,
    reason = "a helper that cannot set up or read the database fails the test"
)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use moderation_core::workflow::WorkflowOptions;
use moderation_storage::SqliteStore;
use moderation_storage::testkit::{self, workflow};

/// Polls `write` once, which sends its text to the connection's thread,
/// waits `delay` (spinning: the runtime's timer counts in milliseconds,
/// longer than a whole write takes), then drops it, finished or not.
async fn abandon(write: impl Future, delay: Duration) {
    let mut write = pin!(write);
    let _ = std::future::poll_fn(|cx| Poll::Ready(write.as_mut().poll(cx).is_ready())).await;
    let until = Instant::now() + delay;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// Whether another connection gets SQLite's write lock within a second.
async fn others_can_write(store: &SqliteStore) -> bool {
    let mut conn = store.write_pool().acquire().await.unwrap();
    sqlx::query("PRAGMA busy_timeout = 1000")
        .execute(&mut *conn)
        .await
        .unwrap();
    let locked = sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *conn)
        .await
        .is_ok();
    if locked {
        sqlx::query("COMMIT").execute(&mut *conn).await.unwrap();
    }
    sqlx::query("PRAGMA busy_timeout = 5000")
        .execute(&mut *conn)
        .await
        .unwrap();
    locked
}

/// How many rows of `table` belong to profile `id`, read on a connection
/// of its own: only committed rows count.
async fn rows(store: &SqliteStore, table: &str, id: i64) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table} WHERE object_key = 'i:' || ?");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(store.read_pool())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_write_abandoned_mid_text_is_whole_or_absent_and_lets_others_write() {
    testkit::with_sqlite(|store| async move {
        let harness = workflow::Harness::new(Arc::new(store.clone()), WorkflowOptions::new())?;
        let member = workflow::plain(7);
        // From dropped at once to dropped after the write is done, in steps
        // a few statements long.
        for step in 0..60_u64 {
            let delay = Duration::from_micros(step * 5);
            let abandoned = 1_000 + i64::try_from(step).unwrap();
            abandon(
                harness
                    .workflow
                    .create(&member, &workflow::profile(abandoned, "left behind")),
                delay,
            )
            .await;
            assert!(others_can_write(&store).await, "locked after {delay:?}");

            let next = 2_000 + i64::try_from(step).unwrap();
            harness
                .workflow
                .create(&member, &workflow::profile(next, "written after"))
                .await?;
            assert_eq!(
                rows(&store, "moderated_objects", next).await,
                1,
                "after {delay:?}"
            );
            assert_eq!(
                rows(&store, "moderation_entries", next).await,
                1,
                "after {delay:?}"
            );

            let records = rows(&store, "moderated_objects", abandoned).await;
            let entries = rows(&store, "moderation_entries", abandoned).await;
            assert_eq!(records, entries, "half a write after {delay:?}");
            assert!(records <= 1);
        }
        Ok(())
    })
    .await;
}
