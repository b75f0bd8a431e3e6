//! Held comments through the review queue on SQLite and PostgreSQL: one
//! store serves as the comment store, the review store and the moderation
//! log; approving in the queue publishes the comment and logs
//! `review.approve`, rejecting removes it.

use std::sync::Arc;

use moderation_core::{
    Actor, AlwaysModerate, HeldItemStore, ItemStatus, ModLogFilter, Moderated, Moderation,
    ModerationError, ModerationLog, ModerationStore, ObjectId, ReviewAction, ReviewQueue,
    ReviewSubject, Submission, UserId, Verdict,
};
use moderation_storage::testkit::{self, ScenarioResult, review};

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

async fn held_comments_are_decided_in_the_queue<S>(store: S) -> ScenarioResult
where
    S: HeldItemStore + ModerationLog + Clone,
{
    let moderation = Arc::new(
        Moderation::builder(Arc::new(store.clone()))
            .review_store(Arc::new(store.clone()))
            .build(),
    );
    moderation
        .registry()
        .register::<Comment, _>(AlwaysModerate)?;
    let queue = ReviewQueue::builder(Arc::new(store.clone()))
        .held_items(Arc::new(store.clone()))
        .build();
    let moderator = Actor::user(UserId::from(1_i64)).with_staff(true);
    for (id, action, status) in [
        (1, ReviewAction::Approve, ItemStatus::Public),
        (2, ReviewAction::Reject, ItemStatus::Removed),
    ] {
        let comment = Comment {
            id,
            body: format!("Comment {id}"),
        };
        let submission = Submission::new(Actor::user(UserId::from(7_i64)), &comment)?;
        let outcome = moderation.submit(submission).await?;
        assert_eq!(outcome.verdict(), Verdict::Hold);
        let Some(held) = outcome.item else {
            return Err(ModerationError::Config("a held comment is stored".into()));
        };
        let Some(item) = queue
            .for_subject(&ReviewSubject::Submission(held.id))
            .await?
        else {
            return Err(ModerationError::Config("a held comment is queued".into()));
        };
        queue
            .decide(
                item.id,
                item.version,
                action,
                &moderator,
                Some("Checked".into()),
            )
            .await?;
        let stored = ModerationStore::item(&store, held.id).await?;
        assert_eq!(stored.map(|s| s.status), Some(status));
    }
    let logged = review::all_log_entries(&store, &ModLogFilter::default()).await?;
    // Newest first; the comment store may log its own `item.*` steps too.
    let verbs: Vec<&str> = logged
        .iter()
        .map(|e| e.action.as_str())
        .filter(|verb| verb.starts_with("review."))
        .collect();
    assert_eq!(verbs, ["review.reject", "review.approve"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_held_comments_are_decided_in_the_queue() {
    testkit::with_sqlite(held_comments_are_decided_in_the_queue).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_held_comments_are_decided_in_the_queue() {
    testkit::with_postgres(held_comments_are_decided_in_the_queue).await;
}
