//! Models, moderators and a wired service shared by the integration tests.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::borrow::Cow;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use moderation_core::{
    Actor, BoxError, CommentOptions, Kind, ManualClock, MemoryStore, Moderated, Moderation,
    Moderator, ObjectId, ObjectRef, Outcome, ParentObject, Recipients, RecordingEventSink,
    RecordingNotifier, Rule, SpamClassifier, SpamScore, SpamVerdict, Submission, UserId,
};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Comment {
    pub id: i64,
    pub body: String,
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

#[derive(Debug, Clone, Serialize)]
pub struct Review {
    pub slug: String,
}

impl Moderated for Review {
    const KIND: &'static str = "shop.review";
    fn object_id(&self) -> ObjectId {
        ObjectId::Str(self.slug.clone())
    }
}

/// A moderator whose options and extra rules the test chooses.
#[derive(Debug, Clone, Default)]
pub struct CommentModerator {
    pub options: CommentOptions,
    pub rules: Vec<Arc<dyn Rule>>,
}

impl CommentModerator {
    pub fn new(options: CommentOptions) -> Self {
        Self {
            options,
            rules: Vec::new(),
        }
    }

    pub fn with_rule(mut self, rule: Arc<dyn Rule>) -> Self {
        self.rules.push(rule);
        self
    }
}

impl Moderator<Comment> for CommentModerator {
    fn options(&self) -> CommentOptions {
        self.options.clone()
    }
    fn rules(&self) -> Vec<Arc<dyn Rule>> {
        self.rules.clone()
    }
}

pub struct Harness {
    pub moderation: Moderation,
    pub clock: Arc<ManualClock>,
    pub store: Arc<MemoryStore>,
    pub notifier: Arc<RecordingNotifier>,
    pub events: Arc<RecordingEventSink>,
}

/// 2024-03-10 12:00:00 UTC.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, 10, 12, 0, 0).unwrap()
}

pub fn harness() -> Harness {
    let clock = Arc::new(ManualClock::new(now()));
    let store = Arc::new(MemoryStore::new());
    let notifier = Arc::new(RecordingNotifier::new());
    let events = Arc::new(RecordingEventSink::new());
    let moderation = Moderation::builder(store.clone())
        .clock(clock.clone())
        .notifier(notifier.clone())
        .events(events.clone())
        .recipients(Recipients::Fixed(vec!["staff@example.org".to_owned()]))
        .max_text_len(1_000)
        .build();
    Harness {
        moderation,
        clock,
        store,
        notifier,
        events,
    }
}

/// A harness with one moderator for comments.
pub fn with_options(options: CommentOptions) -> Harness {
    let h = harness();
    h.moderation
        .registry()
        .register::<Comment, _>(CommentModerator::new(options))
        .unwrap();
    h
}

pub fn user(n: i64) -> Actor {
    Actor::user(UserId::from(n))
}

pub fn entry(payload: serde_json::Value) -> ParentObject {
    ParentObject {
        object: ObjectRef::new(Kind::new("blog.entry").unwrap(), 1_i64),
        payload,
    }
}

pub fn comment_by(actor: Actor, id: i64, body: &str) -> Submission {
    Submission::new(
        actor,
        &Comment {
            id,
            body: body.to_owned(),
        },
    )
    .unwrap()
}

pub fn comment_on(actor: Actor, id: i64, body: &str, parent: serde_json::Value) -> Submission {
    comment_by(actor, id, body).with_parent_object(entry(parent))
}

pub fn rules_of(outcome: &Outcome) -> Vec<String> {
    outcome
        .decision
        .reasons
        .iter()
        .map(|r| r.rule.to_string())
        .collect()
}

/// A classifier that always answers the same, or always fails.
#[derive(Debug, Clone)]
pub enum FixedClassifier {
    Says(SpamVerdict),
    Fails,
}

#[async_trait]
impl SpamClassifier for FixedClassifier {
    async fn classify(&self, _submission: &Submission) -> Result<SpamScore, BoxError> {
        match self {
            Self::Says(verdict) => Ok(SpamScore {
                verdict: *verdict,
                score: 0.9,
            }),
            Self::Fails => Err("connection timed out".into()),
        }
    }
}
