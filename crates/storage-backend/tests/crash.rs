//! A process killed with SIGKILL while it moderates leaves a SQLite file
//! that opens, passes `PRAGMA integrity_check`, and is consistent: every
//! item's status is its last log entry's, every held item and every
//! pending object change has a pending review item, and every review item
//! agrees with its submission or object change.
//!
//! The test runs this test binary again as the child (the
//! `child_moderates_until_killed` test, which does nothing unless
//! `MODERATION_CRASH_DB` names a file). The child submits held comments and
//! queued profiles, decides them through the review queue, and approves,
//! rejects and removes them directly, from six tasks; the parent kills it
//! at a pseudo-random moment and checks the file, 24 times over on the same
//! file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr
)]

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use moderation_core::workflow::{
    EntryStatus, EntryVersion, ObjectChangeHandler, ObjectStore, ObjectWorkflow, PendingQuery,
    WorkflowOptions,
};
use moderation_core::{
    Actor, CommentOptions, ItemFilter, ItemStatus, Moderated, Moderation, ModerationStore,
    Moderator, ObjectId, PageRequest, ReviewAction, ReviewFilter, ReviewPageRequest, ReviewQueue,
    ReviewSort, ReviewStatus, ReviewStore, ReviewSubject, SubjectType, Submission, UserId,
};
use moderation_storage::SqliteStore;

const DB_VAR: &str = "MODERATION_CRASH_DB";
const ROUNDS: u64 = 24;

#[derive(serde::Serialize)]
struct Comment {
    id: i64,
    body: String,
}

impl Moderated for Comment {
    const KIND: &'static str = "blog.comment";
    fn object_id(&self) -> ObjectId {
        ObjectId::from(self.id)
    }
    fn text(&self) -> Cow<'_, str> {
        Cow::Borrowed(&self.body)
    }
}

/// A profile under the object workflow: a plain member's create waits
/// for review.
#[derive(serde::Serialize)]
struct Profile {
    id: i64,
    bio: String,
}

impl Moderated for Profile {
    const KIND: &'static str = "profile";
    fn object_id(&self) -> ObjectId {
        ObjectId::from(self.id)
    }
}

struct HoldEverything;

impl Moderator<Comment> for HoldEverything {
    fn options(&self) -> CommentOptions {
        CommentOptions::default().always_moderate(true)
    }
}

/// The child: moderates on the file named by `MODERATION_CRASH_DB` until
/// it is killed. Without the variable it returns at once.
#[test]
fn child_moderates_until_killed() {
    let Ok(path) = std::env::var(DB_VAR) else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(moderate_forever(Path::new(&path)));
}

async fn moderate_forever(path: &Path) {
    let store = Arc::new(SqliteStore::open(path).await.unwrap());
    let moderation = Arc::new(
        Moderation::builder(store.clone())
            .review_store(store.clone())
            .build(),
    );
    moderation
        .registry()
        .register::<Comment, _>(HoldEverything)
        .unwrap();
    let workflow = Arc::new(
        ObjectWorkflow::builder(store.clone())
            .review_store(store.clone())
            .build(),
    );
    workflow
        .register_type::<Profile>(WorkflowOptions::new())
        .unwrap();
    let queue = Arc::new(
        ReviewQueue::builder(store.clone())
            .held_items(store.clone())
            .handler(
                SubjectType::ObjectChange,
                Arc::new(ObjectChangeHandler::new(workflow.clone())),
            )
            .build(),
    );
    let moderator = Actor::user(UserId::new("moderator").unwrap()).with_staff(true);
    let first_id: i64 = std::process::id().into();
    let mut tasks = Vec::new();
    // Submissions, all held.
    for task in 0..2_i64 {
        let moderation = Arc::clone(&moderation);
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                let id = first_id * 1_000_000 + task * 500_000 + n;
                let comment = Comment {
                    id,
                    body: format!("comment {id}"),
                };
                let author = Actor::user(UserId::from(id % 50));
                let submission = Submission::new(author, &comment).unwrap();
                moderation.submit(submission).await.unwrap();
            }
        }));
    }
    // Profiles, all queued.
    {
        let workflow = Arc::clone(&workflow);
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                let id = first_id * 1_000_000 + n;
                let profile = Profile {
                    id,
                    bio: format!("profile {id}"),
                };
                let member = Actor::user(UserId::from(id % 50));
                workflow.create(&member, &profile).await.unwrap();
            }
        }));
    }
    // Direct workflow decisions: approvals and rejections in turn.
    {
        let workflow = Arc::clone(&workflow);
        let moderator = moderator.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0_u64.. {
                let pending = workflow.pending(&PendingQuery::first(10)).await.unwrap();
                for entry in pending.entries.iter().rev().take(3) {
                    let entry = EntryVersion::from(entry);
                    let decided = if round % 2 == 0 {
                        workflow.approve(&moderator, entry, None).await
                    } else {
                        workflow.reject(&moderator, entry, None).await
                    };
                    if let Err(error) = decided {
                        assert!(error.is_conflict(), "{error}");
                    }
                }
                tokio::task::yield_now().await;
            }
        }));
    }
    // Queue decisions: approve and reject in turn.
    {
        let queue = Arc::clone(&queue);
        let moderator = moderator.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0_u64.. {
                let page = queue
                    .list(
                        &ReviewFilter::pending(),
                        &ReviewPageRequest {
                            sort: ReviewSort::Oldest,
                            after: None,
                            limit: 10,
                        },
                    )
                    .await
                    .unwrap();
                for item in page.items {
                    let action = if round % 2 == 0 {
                        ReviewAction::Approve
                    } else {
                        ReviewAction::Reject
                    };
                    let decided = queue
                        .decide(item.id, item.version, action, &moderator, None)
                        .await;
                    if let Err(error) = decided {
                        assert!(error.is_conflict(), "{error}");
                    }
                }
                tokio::task::yield_now().await;
            }
        }));
    }
    // Direct decisions on held items: approvals and removals in turn.
    {
        let moderation = Arc::clone(&moderation);
        tasks.push(tokio::spawn(async move {
            for round in 0_u64.. {
                let held = moderation
                    .store()
                    .list_items(
                        &ItemFilter {
                            status: Some(ItemStatus::Held),
                            ..ItemFilter::default()
                        },
                        &PageRequest::first(10),
                    )
                    .await
                    .unwrap();
                for item in held.items.into_iter().rev().take(3) {
                    let decided = if round % 2 == 0 {
                        moderation
                            .approve(item.id, item.version, &moderator, None)
                            .await
                    } else {
                        moderation
                            .remove(item.id, item.version, &moderator, None)
                            .await
                    };
                    if let Err(error) = decided {
                        assert!(error.is_conflict(), "{error}");
                    }
                }
                tokio::task::yield_now().await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
}

/// A small deterministic generator: the kill moments differ per round and
/// repeat from run to run.
fn kill_after(round: u64) -> Duration {
    let mixed = round
        .wrapping_add(1)
        .wrapping_mul(6_364_136_223_846_793_005)
        .rotate_left(17);
    Duration::from_millis(150 + mixed % 450)
}

#[test]
fn killed_mid_moderation_leaves_everything_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let exe = std::env::current_exe().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut checked = Totals::default();
    for round in 0..ROUNDS {
        let mut child = Command::new(&exe)
            .args(["--exact", "child_moderates_until_killed", "--nocapture"])
            .env(DB_VAR, &path)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        std::thread::sleep(kill_after(round));
        let exited_early = child.try_wait().unwrap();
        assert!(
            exited_early.is_none(),
            "round {round}: the child stopped by itself: {exited_early:?}"
        );
        // `Child::kill` sends SIGKILL on Unix: no destructor, no rollback.
        child.kill().unwrap();
        child.wait().unwrap();
        let totals = runtime.block_on(check(&path));
        assert!(
            totals.items >= checked.items,
            "round {round}: items were lost ({} before, {} now)",
            checked.items,
            totals.items
        );
        checked = totals;
    }
    eprintln!(
        "crash test: {ROUNDS} kills, {} items, {} object entries, {} review items, 0 anomalies",
        checked.items, checked.entries, checked.reviews
    );
    assert!(checked.items > 0, "the child never stored an item");
    assert!(
        checked.entries > 0,
        "the child never stored an object entry"
    );
}

#[derive(Debug, Default, Clone, Copy)]
struct Totals {
    items: usize,
    entries: usize,
    reviews: usize,
}

/// Opens the file after a kill and checks every invariant; panics with the
/// anomalies found.
async fn check(path: &Path) -> Totals {
    let store = SqliteStore::open(path).await.unwrap();
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(store.read_pool())
        .await
        .unwrap();
    assert_eq!(integrity, "ok");
    let mut anomalies = Vec::new();

    let items: Vec<(i64, String)> = sqlx::query_as("SELECT id, status FROM moderation_items")
        .fetch_all(store.read_pool())
        .await
        .unwrap();
    let last_logged: HashMap<i64, Option<String>> = sqlx::query_as(
        "SELECT l.item_id, l.to_status FROM moderation_item_log AS l \
         WHERE l.id = (SELECT MAX(id) FROM moderation_item_log WHERE item_id = l.item_id)",
    )
    .fetch_all(store.read_pool())
    .await
    .unwrap()
    .into_iter()
    .collect();
    let reviews: Vec<(String, String)> =
        sqlx::query_as("SELECT subject_key, status FROM review_items")
            .fetch_all(store.read_pool())
            .await
            .unwrap();
    let mut review_of: HashMap<i64, Vec<ReviewStatus>> = HashMap::new();
    let mut change_review_of: HashMap<String, Vec<ReviewStatus>> = HashMap::new();
    for (key, status) in &reviews {
        let status = [
            ReviewStatus::Pending,
            ReviewStatus::Approved,
            ReviewStatus::Rejected,
            ReviewStatus::Ignored,
            ReviewStatus::Deleted,
        ]
        .into_iter()
        .find(|s| s.as_str() == status);
        let Some(status) = status else {
            anomalies.push(format!("review item of {key} in status {status:?}"));
            continue;
        };
        match ReviewSubject::from_key(key) {
            Ok(ReviewSubject::Submission(item)) => {
                review_of.entry(item.0).or_default().push(status);
            }
            Ok(ReviewSubject::ObjectChange { .. }) => {
                change_review_of
                    .entry(key.clone())
                    .or_default()
                    .push(status);
            }
            _ => anomalies.push(format!("review item with subject {key}")),
        }
    }
    let entries: Vec<(String, String, i64, String)> =
        sqlx::query_as("SELECT kind, object_key, revision, status FROM moderation_entries")
            .fetch_all(store.read_pool())
            .await
            .unwrap();
    for (kind, object_key, revision, status) in &entries {
        let key = format!("object_change:{revision}:{kind}:{object_key}");
        let statuses = change_review_of.remove(&key).unwrap_or_default();
        let expected = match status.as_str() {
            "pending" => ReviewStatus::Pending,
            "approved" => ReviewStatus::Approved,
            "rejected" => ReviewStatus::Rejected,
            _ => ReviewStatus::Deleted,
        };
        check_reviews(
            &mut anomalies,
            &format!("entry {key}"),
            status,
            expected,
            &statuses,
        );
    }
    for key in change_review_of.keys() {
        anomalies.push(format!("review item of missing entry {key}"));
    }

    for (id, status) in &items {
        match last_logged.get(id) {
            Some(Some(logged)) if logged == status => {}
            other => anomalies.push(format!(
                "item {id} is {status}, its last log entry {other:?}"
            )),
        }
        let statuses = review_of.get(id).cloned().unwrap_or_default();
        let expected = match status.as_str() {
            "held" => ReviewStatus::Pending,
            "public" => ReviewStatus::Approved,
            "removed" => ReviewStatus::Rejected,
            _ => ReviewStatus::Deleted,
        };
        check_reviews(
            &mut anomalies,
            &format!("item {id}"),
            status,
            expected,
            &statuses,
        );
    }
    for item in review_of.keys() {
        if !items.iter().any(|(id, _)| id == item) {
            anomalies.push(format!("review item of missing item {item}"));
        }
    }
    store.close().await;
    assert!(
        anomalies.is_empty(),
        "{} anomalies: {anomalies:#?}",
        anomalies.len()
    );
    Totals {
        items: items.len(),
        entries: entries.len(),
        reviews: reviews.len(),
    }
}

/// Records an anomaly unless `subject`, in `status`, has exactly one review
/// item, in `expected`. Nothing this test does deletes a review item, so
/// `Deleted` stands for a status the test never produces.
fn check_reviews(
    anomalies: &mut Vec<String>,
    subject: &str,
    status: &str,
    expected: ReviewStatus,
    statuses: &[ReviewStatus],
) {
    if expected == ReviewStatus::Deleted || statuses != [expected] {
        anomalies.push(format!(
            "{subject} is {status}, its review items {statuses:?}"
        ));
    }
}

/// The store's own view agrees with the SQL above: reading through the
/// ports after a kill works (nothing unreadable was left behind).
#[tokio::test]
async fn a_store_reopened_after_a_kill_reads_through_its_ports() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(&exe)
        .args(["--exact", "child_moderates_until_killed", "--nocapture"])
        .env(DB_VAR, &path)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let store = SqliteStore::open(&path).await.unwrap();
    let page = ReviewStore::list(
        &store,
        &ReviewFilter::pending(),
        &ReviewPageRequest {
            sort: ReviewSort::Oldest,
            after: None,
            limit: 1_000,
        },
    )
    .await
    .unwrap();
    for review in page.items {
        match review.subject {
            ReviewSubject::Submission(id) => {
                let item = ModerationStore::item(&store, id).await.unwrap().unwrap();
                assert_eq!(item.status, ItemStatus::Held);
            }
            ReviewSubject::ObjectChange { object, revision } => {
                let entry = ObjectStore::revision(&store, &object, revision)
                    .await
                    .unwrap()
                    .unwrap();
                assert_eq!(entry.status, EntryStatus::Pending);
            }
            other => panic!("unexpected subject {other:?}"),
        }
    }
    store.close().await;
}
