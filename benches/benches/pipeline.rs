//! Criterion bench `pipeline`: decisions per second through
//! `Moderation::submit` on the in-memory store, with every comment rule on
//! (enable field, close-after, moderate-after, sanctions, auto-reject and
//! auto-approve groups, an in-process spam classifier, first-timers, the
//! duplicate check) and staff notifications rendered for every saved item.
//!
//! ```text
//! cargo bench -p moderation-benches --bench pipeline -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Each iteration submits a batch of 1 000 comments by 100 authors to a fresh
//! store (built outside the timing), so the store's size does not drift with
//! the number of iterations.

// A bench has nobody to return an error to: a failed setup or submission
// must stop it loudly rather than measure nothing.
#![allow(clippy::panic)]

use std::borrow::Cow;
use std::hint::black_box;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{Duration, TimeZone, Utc};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use moderation_core::{
    Actor, BoxError, CommentOptions, Kind, LogNotifier, ManualClock, MemoryStore, Moderated,
    Moderation, Moderator, ObjectId, ObjectRef, ParentObject, Recipients, SpamCheck,
    SpamClassifier, SpamScore, SpamVerdict, Submission, UserId,
};
use serde::Serialize;

const BATCH: u64 = 1_000;

#[derive(Serialize)]
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

/// A classifier that answers in-process, so the bench measures the pipeline.
#[derive(Debug)]
struct LengthClassifier;

#[async_trait]
impl SpamClassifier for LengthClassifier {
    async fn classify(&self, submission: &Submission) -> Result<SpamScore, BoxError> {
        let spam = submission.text.contains("casino");
        Ok(SpamScore {
            verdict: if spam {
                SpamVerdict::Spam
            } else {
                SpamVerdict::Ham
            },
            score: if spam { 0.9 } else { 0.1 },
        })
    }
}

struct AllRules;

impl Moderator<Comment> for AllRules {
    fn options(&self) -> CommentOptions {
        CommentOptions::default()
            .enable_field("enable_comments")
            .close_after("pub_date", 30)
            .moderate_after("pub_date", 7)
            .moderate_first_timers(true)
            .deny_group("trolls")
            .allow_group("regulars")
            .email_notification(true)
            .spam(SpamCheck::new(Arc::new(LengthClassifier)))
    }
}

fn service() -> Moderation {
    let start = Utc
        .with_ymd_and_hms(2024, 6, 1, 9, 0, 0)
        .single()
        .unwrap_or_default();
    let moderation = Moderation::builder(Arc::new(MemoryStore::new()))
        .clock(Arc::new(ManualClock::new(start)))
        .notifier(Arc::new(LogNotifier))
        .recipients(Recipients::Fixed(vec!["staff@example.org".to_owned()]))
        .build();
    if let Err(error) = moderation.registry().register::<Comment, _>(AllRules) {
        panic!("registering the bench moderator failed: {error}");
    }
    moderation
}

fn parent(start_days_ago: i64) -> ParentObject {
    let pub_date = Utc
        .with_ymd_and_hms(2024, 6, 1, 9, 0, 0)
        .single()
        .unwrap_or_default()
        - Duration::days(start_days_ago);
    ParentObject {
        object: ObjectRef::new(
            Kind::new("blog.entry").unwrap_or_else(|e| panic!("{e}")),
            1_i64,
        ),
        payload: serde_json::json!({
            "title": "A post",
            "enable_comments": true,
            "pub_date": pub_date.to_rfc3339(),
        }),
    }
}

fn author(n: u64) -> Actor {
    let actor = Actor::user(UserId::from(i64::try_from(n % 100).unwrap_or_default()));
    match n % 10 {
        0 => actor.with_group("regulars"),
        1 => actor.with_group("trolls"),
        _ => actor,
    }
}

async fn submit_batch(moderation: Moderation, fresh: &ParentObject, old: &ParentObject) {
    for n in 0..BATCH {
        let comment = Comment {
            id: i64::try_from(n).unwrap_or_default(),
            body: format!("Comment number {n}: thanks for the post, very helpful."),
        };
        let on = if n % 4 == 0 { old } else { fresh };
        let submission = match Submission::new(author(n), &comment) {
            Ok(submission) => submission.with_parent_object(on.clone()),
            Err(error) => panic!("{error}"),
        };
        match moderation.submit(submission).await {
            Ok(outcome) => {
                black_box(outcome);
            }
            Err(error) => panic!("{error}"),
        }
    }
}

fn pipeline(c: &mut Criterion) {
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(runtime) => runtime,
        Err(error) => panic!("{error}"),
    };
    let fresh = parent(1);
    let old = parent(10);
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(BATCH));
    group.sample_size(20);
    group.bench_function("submit_all_comment_rules_memory_store", |b| {
        b.to_async(&runtime).iter_batched(
            service,
            |moderation| submit_batch(moderation, &fresh, &old),
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
