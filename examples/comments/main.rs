//! A small blog: entries and comments, moderated with every comment rule of
//! `moderation-core` on the in-memory store. Each submission's decision is
//! printed with its reasons.
//!
//! Run with `cargo run -p moderation-examples --example comments`.
#![allow(clippy::print_stdout)]

use std::borrow::Cow;
use std::error::Error;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use moderation_core::{
    Actor, BoxError, CleanupOptions, CommentOptions, Kind, ManualClock, MemoryStore, Moderated,
    Moderation, ModerationEvent, Moderator, ObjectId, Outcome, ParentObject, Recipients,
    RecordingEventSink, RecordingNotifier, SpamCheck, SpamClassifier, SpamScore, SpamVerdict,
    Standing, Submission, UserId,
};
use serde::Serialize;

/// A blog entry: the parent every comment attaches to.
#[derive(Debug, Serialize)]
struct Entry {
    id: i64,
    title: &'static str,
    enable_comments: bool,
    /// RFC 3339 timestamp, read by `close_after` and `moderate_after`.
    pub_date: String,
}

impl Moderated for Entry {
    const KIND: &'static str = "blog.entry";
    fn object_id(&self) -> ObjectId {
        ObjectId::from(self.id)
    }
}

/// A comment on an entry.
#[derive(Debug, Serialize)]
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

/// A guestbook signature: a kind nobody registered, so it is not moderated.
#[derive(Debug, Serialize)]
struct Signature {
    id: i64,
}

impl Moderated for Signature {
    const KIND: &'static str = "site.guestbook";
    fn object_id(&self) -> ObjectId {
        ObjectId::from(self.id)
    }
}

/// A toy spam classifier: a few words make spam. Real sites plug in Akismet
/// or a model here.
#[derive(Debug)]
struct KeywordClassifier;

#[async_trait]
impl SpamClassifier for KeywordClassifier {
    async fn classify(&self, submission: &Submission) -> Result<SpamScore, BoxError> {
        let text = submission.text.to_lowercase();
        let spam = ["cheap pills", "casino"].iter().any(|w| text.contains(w));
        Ok(SpamScore {
            verdict: if spam {
                SpamVerdict::Spam
            } else {
                SpamVerdict::Ham
            },
            score: if spam { 0.98 } else { 0.02 },
        })
    }
}

/// How the blog moderates comments: every built-in option on.
struct BlogModerator;

impl Moderator<Comment> for BlogModerator {
    fn options(&self) -> CommentOptions {
        CommentOptions::default()
            .enable_field("enable_comments")
            .close_after("pub_date", 30)
            .moderate_after("pub_date", 7)
            .moderate_first_timers(true)
            .deny_group("trolls")
            .allow_group("trusted")
            .email_notification(true)
            .spam(SpamCheck::new(Arc::new(KeywordClassifier)))
    }
}

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 1, 9, 0, 0)
        .single()
        .unwrap_or_default()
}

fn entry(id: i64, title: &'static str, enable_comments: bool, days_old: i64) -> Entry {
    Entry {
        id,
        title,
        enable_comments,
        pub_date: (start() - Duration::days(days_old)).to_rfc3339(),
    }
}

fn print_outcome(label: &str, outcome: &Outcome) {
    let duplicate = if outcome.duplicate {
        " (duplicate: existing item returned)"
    } else {
        ""
    };
    let stored = outcome.item.as_ref().map_or_else(
        || "not stored".to_owned(),
        |item| format!("item {}", item.id),
    );
    println!(
        "{label:<50} -> {:<8} {stored}{duplicate}",
        outcome.decision.verdict
    );
    for reason in &outcome.decision.reasons {
        println!("{:<54}{reason}", "");
    }
}

struct Blog {
    moderation: Moderation,
    next_id: i64,
}

impl Blog {
    async fn comment(
        &mut self,
        label: &str,
        author: Actor,
        on: &Entry,
        body: &str,
    ) -> Result<Outcome, Box<dyn Error>> {
        self.next_id += 1;
        let comment = Comment {
            id: self.next_id,
            body: body.to_owned(),
        };
        let submission = Submission::new(author, &comment)?.with_parent(on)?;
        let outcome = self.moderation.submit(submission).await?;
        print_outcome(label, &outcome);
        Ok(outcome)
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let clock = Arc::new(ManualClock::new(start()));
    let store = Arc::new(MemoryStore::new());
    let notifier = Arc::new(RecordingNotifier::new());
    let events = Arc::new(RecordingEventSink::new());
    let moderation = Moderation::builder(store.clone())
        .clock(clock.clone())
        .notifier(notifier.clone())
        .events(events.clone())
        .recipients(Recipients::Fixed(vec!["editors@blog.example".to_owned()]))
        .build();
    moderation
        .registry()
        .register::<Comment, _>(BlogModerator)?;
    let mut blog = Blog {
        moderation,
        next_id: 0,
    };

    let fresh = entry(1, "Fresh post", true, 1);
    let week_old = entry(2, "Last week's post", true, 10);
    let archived = entry(3, "Archived post", true, 45);
    let locked = entry(4, "Comments off", false, 1);

    let ann = Actor::user(UserId::from(1_i64)).with_display_name("Ann");
    let staff = Actor::user(UserId::from(2_i64)).with_staff(true);
    let trusted = Actor::user(UserId::from(3_i64)).with_group("trusted");
    let troll = Actor::user(UserId::from(4_i64)).with_group("trolls");
    let frozen = Actor::user(UserId::from(5_i64)).with_standing(Standing::Frozen {
        reason: "posted the same link 40 times".to_owned(),
    });
    let guest = Actor::anonymous()
        .with_identity("guest@example.org")
        .with_display_name("Ann");

    println!("== Comments, one rule at a time ==");
    blog.comment(
        "comments disabled (enable_field)",
        ann.clone(),
        &locked,
        "Hello?",
    )
    .await?;
    blog.comment(
        "entry 45 days old (close_after 30)",
        ann.clone(),
        &archived,
        "Late!",
    )
    .await?;
    blog.comment("frozen author", frozen, &fresh, "Let me out")
        .await?;
    blog.comment("deny group", troll, &fresh, "First!!!")
        .await?;
    blog.comment("staff author", staff.clone(), &fresh, "Welcome all")
        .await?;
    blog.comment("allow group", trusted, &fresh, "Great read")
        .await?;
    blog.comment("spam text", ann.clone(), &fresh, "Cheap pills here")
        .await?;
    let first = blog
        .comment(
            "Ann's first comment (first-timer)",
            ann.clone(),
            &fresh,
            "Nice post",
        )
        .await?;
    blog.comment(
        "same comment again (duplicate)",
        ann.clone(),
        &fresh,
        "Nice post",
    )
    .await?;
    blog.comment(
        "anonymous named Ann (display name never counts)",
        guest,
        &fresh,
        "Me too",
    )
    .await?;

    if let Some(item) = first.item {
        blog.moderation
            .approve(item.id, item.version, &staff, Some("welcome".to_owned()))
            .await?;
        println!(
            "{:<50} -> approved item {}",
            "editor approves Ann's comment", item.id
        );
    }
    let second = blog
        .comment(
            "Ann's second comment (now known)",
            ann.clone(),
            &fresh,
            "Thanks!",
        )
        .await?;

    blog.comment(
        "entry 10 days old (moderate_after 7)",
        ann.clone(),
        &week_old,
        "Still relevant?",
    )
    .await?;

    let future = entry(5, "Scheduled post", true, -2);
    let comment = Comment {
        id: 999,
        body: "Too early".to_owned(),
    };
    let early = Submission::new(ann.clone(), &comment)?.with_parent(&future)?;
    match blog.moderation.submit(early).await {
        Ok(outcome) => print_outcome("entry dated in the future", &outcome),
        Err(error) => println!("{:<50} -> error: {error}", "entry dated in the future"),
    }

    let signature = Submission::new(ann.clone(), &Signature { id: 1 })?;
    let outcome = blog.moderation.submit(signature).await?;
    print_outcome("guestbook (kind not registered)", &outcome);

    println!("\n== Before showing a comment form ==");
    let kind = Kind::new(Comment::KIND)?;
    for on in [&fresh, &week_old, &archived, &locked] {
        let parent = ParentObject::of(on)?;
        println!(
            "{:<20} open: {:<5} moderated: {}",
            on.title,
            blog.moderation.comments_open(&kind, &parent).await?,
            blog.moderation.comments_moderated(&kind, &parent)?
        );
    }

    println!("\n== Readers and editors act ==");
    if let Some(item) = second.item {
        let reader = Actor::user(UserId::from(7_i64));
        let flag = blog
            .moderation
            .flag(item.id, &reader, Some("spoilers".to_owned()))
            .await?;
        let again = blog.moderation.flag(item.id, &reader, None).await?;
        println!("flag item {}: {flag:?}, then {again:?}", item.id);
        let removed = blog
            .moderation
            .remove(item.id, item.version, &staff, Some("spoilers".to_owned()))
            .await?;
        println!("remove item {}: now {:?}", item.id, removed.status);
        match blog
            .moderation
            .approve(item.id, item.version, &staff, None)
            .await
        {
            Ok(_) => println!("stale approve went through (unexpected)"),
            Err(error) => println!("stale approve refused: {error}"),
        }
    }

    println!("\n== Staff notifications ({}) ==", notifier.sent().len());
    for notification in notifier.sent() {
        println!("to {:?}: {}", notification.recipients, notification.subject);
    }
    if let Some(first) = notifier.sent().first() {
        println!("\nFirst message body:\n{}\n", first.body);
    }

    let queued = events
        .events()
        .iter()
        .filter(|e| matches!(e, ModerationEvent::Queued { .. }))
        .count();
    println!(
        "== Events: {} in all, {queued} queued ==",
        events.events().len()
    );

    println!("\n== Cleanup, 20 days later ==");
    clock.advance(Duration::days(20));
    let dry = blog
        .moderation
        .cleanup(CleanupOptions {
            dry_run: true,
            verbose: true,
            ..CleanupOptions::default()
        })
        .await?;
    println!("{}", dry.summary());
    for item in &dry.items {
        println!("  {} ({:?}, {})", item.object, item.status, item.created_at);
    }
    let done = blog.moderation.cleanup(CleanupOptions::default()).await?;
    println!("{}", done.summary());
    println!("items left in the store: {}", store.len());
    Ok(())
}
