//! Concurrent submissions share one commit.
//!
//! Every item write of a [`SqliteStore`] goes through its one writer
//! connection, and each statement costs a round trip to that connection's
//! worker thread and a commit that appends every changed page to the
//! write-ahead log. Written one after the other, concurrent submissions pay
//! all of it each: eight tasks submitting at once were no faster per item
//! than one task alone.
//!
//! So a submission that finds another one being written waits in a queue,
//! and the writer takes everything that queued up as one batch: up to
//! `CARRIED_ROWS` as one statement whose rows carry their log entries to
//! the item trigger, as a single submission's statement does, and more in
//! one transaction, as `insert_items` writes them. A submission that finds nobody
//! writing is written at once by its own caller, exactly as before, so a
//! lone caller pays nothing for the queue.
//!
//! Invariants:
//! - every queued submission gets its own answer: if a batch fails, its
//!   submissions are written again one at a time, so one bad submission
//!   fails alone and the rest are stored;
//! - someone always drains the queue: the caller writing at once hands the
//!   queue on when it finishes, and also when its future is dropped halfway
//!   (cancelled); the queue is then drained by a spawned task, which no
//!   caller can cancel;
//! - a submission is answered only after its commit.

use std::sync::{Mutex, MutexGuard, PoisonError};

use moderation_core::{ModerationError, NewItem, NewLogEntry, StoredItem};
use tokio::sync::oneshot;

use super::SqliteStore;
use super::items::{insert_batch, insert_one};
use crate::error::StorageError;
use crate::port::{Backend, bind_item, bind_log};
use crate::record::{EncodedItem, EncodedLog, inserted};
use crate::sql::BATCH_ROWS;

/// The submissions waiting for the writer, shared by a store's clones.
#[derive(Debug, Default)]
pub(crate) struct Submissions {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// Whether a caller or a drain task is writing; while it is, new
    /// submissions queue.
    writing: bool,
    waiting: Vec<Waiting>,
    /// Each batch taken from the queue, for the tests: its size, and
    /// whether it was written whole (not one at a time).
    #[cfg(test)]
    written: Vec<(usize, bool)>,
}

/// A queued submission and where its answer goes.
#[derive(Debug)]
struct Waiting {
    item: NewItem,
    log: NewLogEntry,
    answer: oneshot::Sender<Result<StoredItem, ModerationError>>,
}

impl Submissions {
    fn state(&self) -> MutexGuard<'_, State> {
        // The lock is never held across a call that could panic, so a
        // poisoned state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Stores one submission: at once when nobody is writing, otherwise in the
/// batch that the current writer takes next.
pub(super) async fn submit(
    store: &SqliteStore,
    item: NewItem,
    log: NewLogEntry,
) -> Result<StoredItem, ModerationError> {
    let queued = {
        let mut state = store.submissions().state();
        if state.writing {
            let (answer, reply) = oneshot::channel();
            state.waiting.push(Waiting { item, log, answer });
            Err(reply)
        } else {
            state.writing = true;
            Ok((item, log))
        }
    };
    match queued {
        Ok((item, log)) => {
            let _handover = HandOver { store };
            let id = store.settle(insert_one(store, &item, &log)).await?;
            Ok(inserted(id, item))
        }
        // A queued submission waits without spinning: it waits for a
        // whole commit of other submissions, and while several tasks wait
        // at once their spinning would take the CPU from the writer.
        Err(reply) => reply
            .await
            .unwrap_or_else(|_| Err(StorageError::WriterStopped.into())),
    }
}

/// Hands the queue on when the caller that wrote at once is done, or its
/// future is dropped: to a drain task when submissions are waiting,
/// otherwise nobody is writing any more.
struct HandOver<'a> {
    store: &'a SqliteStore,
}

impl Drop for HandOver<'_> {
    fn drop(&mut self) {
        let mut state = self.store.submissions().state();
        if state.waiting.is_empty() {
            state.writing = false;
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                drop(state);
                let span = tracing::debug_span!("queued_submissions", backend = "sqlite");
                runtime.spawn(tracing::Instrument::instrument(
                    drain(self.store.clone()),
                    span,
                ));
            }
            // Dropped outside a runtime, where nothing can write: the
            // waiting callers learn that their submissions were not stored.
            Err(_) => {
                state.writing = false;
                state.waiting.clear();
            }
        }
    }
}

/// Writes queued submissions, up to one statement's worth per batch, until
/// the queue is empty.
async fn drain(store: SqliteStore) {
    let mut guard = DrainGuard {
        store: &store,
        done: false,
    };
    loop {
        let batch: Vec<Waiting> = {
            let mut state = store.submissions().state();
            if state.waiting.is_empty() {
                state.writing = false;
                guard.done = true;
                return;
            }
            let take = state.waiting.len().min(BATCH_ROWS);
            state.waiting.drain(..take).collect()
        };
        write(&store, batch).await;
    }
}

/// Resets the queue if a drain task stops without finishing (a panic, or
/// its runtime shutting down): its waiting callers learn that their
/// submissions were not stored, and the next submission writes again.
struct DrainGuard<'a> {
    store: &'a SqliteStore,
    done: bool,
}

impl Drop for DrainGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            let mut state = self.store.submissions().state();
            state.writing = false;
            state.waiting.clear();
        }
    }
}

/// Queued submissions up to this many are written as one statement that
/// carries their log entries to the item trigger (one round trip); more
/// are written as `insert_items` writes a batch (a transaction of four
/// statements, but no trigger program per row). Each size is a statement
/// of its own in the driver's cache, so the bound also bounds how many.
const CARRIED_ROWS: usize = 32;

/// Writes one batch and answers each of its submissions.
async fn write(store: &SqliteStore, batch: Vec<Waiting>) {
    let mut answers = Vec::with_capacity(batch.len());
    let mut pairs = Vec::with_capacity(batch.len());
    for waiting in batch {
        answers.push(waiting.answer);
        pairs.push((waiting.item, waiting.log));
    }
    tracing::debug!(submissions = pairs.len(), "writing queued submissions");
    let ids = match pairs.len() {
        0 | 1 => None,
        n if n <= CARRIED_ROWS => Some(insert_carrying(store, &pairs).await),
        _ => Some(insert_batch(store, &pairs).await),
    };
    #[cfg(test)]
    store
        .submissions()
        .state()
        .written
        .push((pairs.len(), matches!(ids, Some(Ok(_)))));
    match ids {
        Some(Ok(ids)) => {
            for ((id, (item, _)), answer) in ids.into_iter().zip(pairs).zip(answers) {
                // A caller that stopped waiting no longer needs the answer.
                let _ = answer.send(Ok(inserted(id, item)));
            }
        }
        failed => {
            if let Some(Err(error)) = failed {
                tracing::debug!(%error, "a batch of queued submissions failed; writing them one at a time");
            }
            for ((item, log), answer) in pairs.into_iter().zip(answers) {
                let result = insert_one(store, &item, &log)
                    .await
                    .map(|id| inserted(id, item));
                let _ = answer.send(result);
            }
        }
    }
}

/// Writes submissions as one statement carrying their log entries
/// (`sql::sqlite::insert_items_carrying`); returns their ids in order.
async fn insert_carrying(
    store: &SqliteStore,
    pairs: &[(NewItem, NewLogEntry)],
) -> Result<Vec<i64>, ModerationError> {
    let limits = store.limits();
    // Only placeholders and fixed fragments (see `sql`).
    let mut query = sqlx::query(sqlx::AssertSqlSafe(
        crate::sql::sqlite::insert_items_carrying(pairs.len()),
    ));
    for (item, log) in pairs {
        let row = EncodedItem::new(item, limits)?;
        let entry = EncodedLog::new(log)?;
        // `updated_at` starts as `created_at`.
        let at = row.created_at;
        query = bind_log!(bind_item!(query, row).bind(at), entry);
    }
    let ids =
        <SqliteStore as Backend>::inserted_ids(&mut *store.writer().await?, query, pairs.len())
            .await?;
    Ok(ids)
}

#[cfg(all(test, feature = "testkit"))]
mod tests {
    //! The queue made to fill deterministically: the test holds the writer,
    //! so the first submission waits for it while the others queue.

    use std::time::Duration;

    use moderation_core::{ItemId, ModerationError, ModerationStore, StoredItem};
    use tokio::task::JoinHandle;

    use super::*;
    use crate::testkit::items::held_comment;

    type Submitted = JoinHandle<Result<StoredItem, ModerationError>>;

    async fn open() -> Result<(tempfile::TempDir, SqliteStore), ModerationError> {
        let dir = tempfile::tempdir().map_err(ModerationError::store)?;
        let store = SqliteStore::open(dir.path().join("grouped.db")).await?;
        Ok((dir, store))
    }

    /// Submission `id`: a held comment, except the fifth, a moderator's
    /// approval, which the moderation log gets too.
    fn submission(id: i64) -> Result<(NewItem, NewLogEntry), ModerationError> {
        let (mut item, mut log) = held_comment(id, 7, id)?;
        if id == 5 {
            item.status = moderation_core::ItemStatus::Public;
            log.action = moderation_core::LogAction::Approve;
            log.actor = Some(moderation_core::UserId::from(1_i64));
            log.to_status = Some(moderation_core::ItemStatus::Public);
        }
        Ok((item, log))
    }

    fn spawn_submit(store: &SqliteStore, id: i64) -> Result<Submitted, ModerationError> {
        let (item, log) = submission(id)?;
        let store = store.clone();
        Ok(tokio::spawn(
            async move { store.insert_item(item, log).await },
        ))
    }

    /// Waits until the queue shows `writing` and `waiting` submissions.
    async fn until_queued(store: &SqliteStore, waiting: usize) {
        loop {
            {
                let state = store.submissions().state();
                if state.writing && state.waiting.len() == waiting {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    /// While the writer is held: the first submission, then `followers`
    /// more queued behind it.
    async fn first_and_queued(
        store: &SqliteStore,
        followers: std::ops::RangeInclusive<i64>,
    ) -> Result<(Submitted, Vec<Submitted>), ModerationError> {
        let first = spawn_submit(store, 0)?;
        until_queued(store, 0).await;
        let mut queued = Vec::new();
        for id in followers {
            queued.push(spawn_submit(store, id)?);
            until_queued(store, queued.len()).await;
        }
        Ok((first, queued))
    }

    async fn answer(handle: Submitted) -> Result<StoredItem, ModerationError> {
        handle.await.map_err(ModerationError::store)?
    }

    async fn stored_with_one_log(store: &SqliteStore, id: ItemId) -> Result<(), ModerationError> {
        assert!(store.item(id).await?.is_some(), "item {id} is stored");
        assert_eq!(
            store.log_entries(id).await?.len(),
            1,
            "item {id} has its log entry"
        );
        Ok(())
    }

    /// `followers` submissions queue behind a first one.
    async fn queued_submissions_share_one_batch(followers: i64) -> Result<(), ModerationError> {
        let (_dir, store) = open().await?;
        let writer = store.writer().await?;
        let (first, queued) = first_and_queued(&store, 1..=followers).await?;
        drop(writer);
        let first = answer(first).await?;
        let mut ids = Vec::new();
        for (n, handle) in (1_i64..).zip(queued) {
            let stored = answer(handle).await?;
            let (expected, _) = submission(n)?;
            assert_eq!(
                stored.object, expected.object,
                "each caller gets its own item"
            );
            assert_eq!(stored.payload, expected.payload);
            ids.push(stored.id.0);
        }
        // Ids follow queue order, after the first submission's.
        let expected: Vec<i64> = (first.id.0 + 1..=first.id.0 + followers).collect();
        assert_eq!(ids, expected);
        for id in std::iter::once(first.id.0).chain(ids) {
            stored_with_one_log(&store, ItemId(id)).await?;
        }
        let approvals: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM moderation_log WHERE target_key = 'i:5' AND action = 'item.approve'",
        )
        .fetch_one(&mut *store.writer().await?)
        .await
        .map_err(StorageError::from)?;
        assert_eq!(approvals, 1, "the approval reached the moderation log");
        let state = store.submissions().state();
        let size = usize::try_from(followers).unwrap_or(0);
        assert_eq!(
            state.written,
            vec![(size, true)],
            "the queue was one batch, written whole"
        );
        assert!(!state.writing, "the queue is idle again");
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_few_queued_submissions_are_one_statement() -> Result<(), ModerationError> {
        queued_submissions_share_one_batch(20).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn many_queued_submissions_are_one_transaction() -> Result<(), ModerationError> {
        queued_submissions_share_one_batch(40).await
    }

    /// `followers` submissions queue behind a first one, and the
    /// thirteenth is refused by the database.
    async fn a_failing_submission_fails_alone(followers: i64) -> Result<(), ModerationError> {
        let (_dir, store) = open().await?;
        sqlx::query(
            "CREATE TEMP TRIGGER refuse_13 BEFORE INSERT ON moderation_items \
             WHEN NEW.object_key = 'i:13' BEGIN SELECT RAISE(ABORT, 'refused'); END",
        )
        .execute(&mut *store.writer().await?)
        .await
        .map_err(StorageError::from)?;
        let writer = store.writer().await?;
        let (first, queued) = first_and_queued(&store, 1..=followers).await?;
        drop(writer);
        answer(first).await?;
        for (n, handle) in (1_i64..).zip(queued) {
            match answer(handle).await {
                Ok(stored) => {
                    assert_ne!(n, 13, "the refused submission is not stored");
                    stored_with_one_log(&store, stored.id).await?;
                }
                Err(ModerationError::Store { .. }) if n == 13 => {}
                Err(other) => return Err(other),
            }
        }
        let kind = crate::testkit::items::comment_kind()?;
        assert!(
            store
                .item_for_object(&moderation_core::ObjectRef::new(kind, 13_i64))
                .await?
                .is_none(),
            "nothing of the refused submission was written"
        );
        let size = usize::try_from(followers).unwrap_or(0);
        assert_eq!(
            store.submissions().state().written,
            vec![(size, false)],
            "the batch failed whole and was written again one at a time"
        );
        Ok(())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_submission_in_one_statement_fails_alone() -> Result<(), ModerationError> {
        a_failing_submission_fails_alone(20).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_submission_in_one_transaction_fails_alone() -> Result<(), ModerationError> {
        a_failing_submission_fails_alone(40).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_cancelled_writer_hands_the_queue_on() -> Result<(), ModerationError> {
        let (_dir, store) = open().await?;
        let writer = store.writer().await?;
        let (first, queued) = first_and_queued(&store, 1..=5).await?;
        first.abort();
        assert!(first.await.is_err_and(|e| e.is_cancelled()));
        drop(writer);
        for handle in queued {
            let stored = answer(handle).await?;
            stored_with_one_log(&store, stored.id).await?;
        }
        // The next lone submission is written at once again.
        let next = answer(spawn_submit(&store, 99)?).await?;
        stored_with_one_log(&store, next.id).await?;
        Ok(())
    }
}
