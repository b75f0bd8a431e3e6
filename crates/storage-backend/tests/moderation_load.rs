//! Many callers at once through the entry points (`Moderation::submit`,
//! `ReviewQueue::decide`), on SQLite and PostgreSQL: 8 tasks submitting
//! 1 000 held comments each lose nothing; two moderators deciding the same
//! 1 000 items at once decide each exactly once; callers cancelled
//! mid-flight leave each submission whole or absent, and every
//! acknowledged one is stored.
#![allow(clippy::unwrap_used, clippy::panic, clippy::print_stderr)]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use moderation_core::{
    Actor, AlwaysModerate, HeldItemStore, ItemFilter, ItemStatus, Moderated, Moderation,
    ModerationError, ObjectId, ObjectRef, PageRequest, ReviewAction, ReviewFilter,
    ReviewPageRequest, ReviewQueue, ReviewSort, ReviewStatus, ReviewSubject, Submission, UserId,
};
use moderation_storage::testkit::{self, ScenarioResult};
use tokio::sync::Barrier;

const TASKS: i64 = 8;
const PER_TASK: i64 = 1_000;
const CONTESTED: i64 = 1_000;
const CANCELLED: i64 = 1_000;

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
    fn text(&self) -> std::borrow::Cow<'_, str> {
        self.body.as_str().into()
    }
}

/// The kit over `store`: comments always held, the queue deciding them.
fn kit(
    store: Arc<dyn HeldItemStore>,
) -> Result<(Arc<Moderation>, Arc<ReviewQueue>), ModerationError> {
    let moderation = Moderation::builder(store.clone())
        .review_store(store.clone())
        .build();
    moderation
        .registry()
        .register::<Comment, _>(AlwaysModerate)?;
    let queue = ReviewQueue::builder(store.clone())
        .held_items(store)
        .build();
    Ok((Arc::new(moderation), Arc::new(queue)))
}

fn comment(id: i64) -> Result<Submission, ModerationError> {
    let comment = Comment {
        id,
        body: format!("comment number {id}"),
    };
    Submission::new(Actor::user(UserId::from(id % 97 + 1)), &comment)
}

fn object(id: i64) -> Result<ObjectRef, ModerationError> {
    Ok(ObjectRef::new(
        moderation_core::Kind::new(Comment::KIND)?,
        id,
    ))
}

/// Every item of the store with its number of log entries, and every
/// review item by its submission, read through the ports page by page.
async fn contents(
    store: &dyn HeldItemStore,
) -> Result<
    (
        HashMap<i64, (ItemStatus, usize)>,
        HashMap<i64, ReviewStatus>,
    ),
    ModerationError,
> {
    let mut items = HashMap::new();
    let mut page = PageRequest::first(1_000);
    loop {
        let found = store.list_items(&ItemFilter::default(), &page).await?;
        for item in found.items {
            let logged = store.log_entries(item.id).await?.len();
            let ObjectRef {
                id: ObjectId::Int(n),
                ..
            } = item.object
            else {
                panic!("unexpected object {}", item.object);
            };
            items.insert(n, (item.status, logged));
        }
        match found.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    let mut reviews = HashMap::new();
    let mut request = ReviewPageRequest {
        sort: ReviewSort::Oldest,
        after: None,
        limit: 500,
    };
    loop {
        let found = store.list(&ReviewFilter::default(), &request).await?;
        for review in &found.items {
            let ReviewSubject::Submission(id) = review.subject else {
                panic!("unexpected subject {:?}", review.subject);
            };
            let item = store.item(id).await?.unwrap();
            let ObjectId::Int(n) = item.object.id else {
                panic!("unexpected object {}", item.object);
            };
            assert!(
                reviews.insert(n, review.status).is_none(),
                "two review items for {n}"
            );
        }
        match found.next {
            Some(next) => request.after = Some(next),
            None => break,
        }
    }
    Ok((items, reviews))
}

async fn eight_tasks_submit_1000_held_comments_each(
    store: Arc<dyn HeldItemStore>,
) -> ScenarioResult {
    let (moderation, _) = kit(store.clone())?;
    let barrier = Arc::new(Barrier::new(usize::try_from(TASKS).unwrap()));
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (moderation, barrier) = (Arc::clone(&moderation), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            for n in 0..PER_TASK {
                let outcome = moderation.submit(comment(task * PER_TASK + n)?).await?;
                assert_eq!(outcome.item.map(|i| i.status), Some(ItemStatus::Held));
            }
            Ok::<_, ModerationError>(())
        }));
    }
    for task in tasks {
        task.await.map_err(ModerationError::store)??;
    }
    let (items, reviews) = contents(store.as_ref()).await?;
    let total = usize::try_from(TASKS * PER_TASK).unwrap();
    assert_eq!(items.len(), total, "items");
    assert!(
        items.values().all(|&entry| entry == (ItemStatus::Held, 1)),
        "one log entry each"
    );
    assert_eq!(reviews.len(), total, "review items");
    assert!(reviews.values().all(|&s| s == ReviewStatus::Pending));
    Ok(())
}

async fn two_moderators_decide_1000_contested_items_once_each(
    store: Arc<dyn HeldItemStore>,
) -> ScenarioResult {
    let (moderation, queue) = kit(store.clone())?;
    let mut targets = Vec::new();
    for n in 0..CONTESTED {
        moderation.submit(comment(n)?).await?;
        let item = store.item_for_object(&object(n)?).await?.unwrap();
        let review = store
            .review_for_subject(&ReviewSubject::Submission(item.id))
            .await?
            .unwrap();
        targets.push((review.id, review.version));
    }
    let targets = Arc::new(targets);
    let barrier = Arc::new(Barrier::new(2));
    let mut tasks = Vec::new();
    for (moderator, action) in [(1_i64, ReviewAction::Approve), (2, ReviewAction::Reject)] {
        let (queue, targets, barrier) = (
            Arc::clone(&queue),
            Arc::clone(&targets),
            Arc::clone(&barrier),
        );
        tasks.push(tokio::spawn(async move {
            let by = Actor::user(UserId::from(moderator)).with_staff(true);
            barrier.wait().await;
            let (mut won, mut lost) = (0_i64, 0_i64);
            for &(review, version) in targets.iter() {
                match queue.decide(review, version, action, &by, None).await {
                    Ok(_) => won += 1,
                    Err(error) if error.is_conflict() => lost += 1,
                    Err(error) => return Err(error),
                }
            }
            Ok::<_, ModerationError>((won, lost))
        }));
    }
    let mut wins = 0;
    for task in tasks {
        let (won, lost) = task.await.map_err(ModerationError::store)??;
        assert_eq!(won + lost, CONTESTED);
        wins += won;
    }
    assert_eq!(wins, CONTESTED, "every item decided exactly once");
    for &(review, _) in targets.iter() {
        assert_eq!(
            store.history(review).await?.len(),
            2,
            "opened, then decided once"
        );
    }
    let (items, reviews) = contents(store.as_ref()).await?;
    for (n, (status, logged)) in &items {
        let expected = match reviews.get(n) {
            Some(ReviewStatus::Approved) => ItemStatus::Public,
            Some(ReviewStatus::Rejected) => ItemStatus::Removed,
            other => panic!("comment {n}: review {other:?}"),
        };
        assert_eq!((*status, *logged), (expected, 2), "comment {n}");
    }
    Ok(())
}

async fn cancelled_callers_leave_whole_submissions_or_none(
    store: Arc<dyn HeldItemStore>,
) -> ScenarioResult {
    let (moderation, _) = kit(store.clone())?;
    let mut tasks = Vec::new();
    for n in 0..CANCELLED {
        let moderation = Arc::clone(&moderation);
        let submission = comment(n)?;
        tasks.push((
            n,
            tokio::spawn(async move { moderation.submit(submission).await }),
        ));
    }
    // Every other caller is cancelled, at moments spread over the run.
    for (n, task) in &tasks {
        if n % 2 == 1 {
            tokio::time::sleep(Duration::from_micros(u64::try_from(n % 7).unwrap() * 50)).await;
            task.abort();
        }
    }
    let mut acknowledged = Vec::new();
    let mut cancelled = 0;
    for (n, task) in tasks {
        match task.await {
            Ok(Ok(_)) => acknowledged.push(n),
            Ok(Err(error)) => return Err(error),
            Err(join) if join.is_cancelled() => cancelled += 1,
            Err(join) => return Err(ModerationError::store(join)),
        }
    }
    let (items, reviews) = contents(store.as_ref()).await?;
    for n in &acknowledged {
        assert_eq!(
            items.get(n),
            Some(&(ItemStatus::Held, 1)),
            "acknowledged {n} is stored"
        );
    }
    for (n, entry) in &items {
        assert_eq!(*entry, (ItemStatus::Held, 1), "comment {n} whole");
        assert_eq!(
            reviews.get(n),
            Some(&ReviewStatus::Pending),
            "comment {n} queued"
        );
    }
    assert_eq!(reviews.len(), items.len());
    let committed_after_cancel = items.len() - acknowledged.len();
    eprintln!(
        "{} acknowledged, {cancelled} cancelled, of which {committed_after_cancel} were already \
         taken by the writer and committed whole",
        acknowledged.len()
    );
    assert!(committed_after_cancel <= cancelled);
    Ok(())
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                testkit::with_sqlite(|store| super::$name(Arc::new(store))).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                testkit::with_postgres(|store| super::$name(Arc::new(store))).await;
            }
        }
    )*};
}

on_both!(
    eight_tasks_submit_1000_held_comments_each,
    two_moderators_decide_1000_contested_items_once_each,
    cancelled_callers_leave_whole_submissions_or_none,
);
