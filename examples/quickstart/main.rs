//! The quickstart: moderate a batch of blog comments into a SQLite file.
//!
//! Run it with `cargo run -p moderation-examples --example quickstart`. It
//! opens (creating on first run) `moderation.db` in the working directory,
//! registers a comment moderator with everyday rules, moderates the sample
//! comments in `comments.json`, prints each decision with its reasons, then
//! approves one held comment as a moderator and shows the review queue
//! before and after. Run it again: comments get fresh ids, authors approved
//! last time are no longer first-timers, and a comment repeated within ten
//! minutes is recognised as a duplicate instead of stored twice.
#![allow(clippy::print_stdout, reason = "an example prints what it does")]

use std::borrow::Cow;
use std::error::Error;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{Duration, Utc};
use moderation_core::{
    Actor, BoxError, CommentOptions, Decision, ItemFilter, ItemStatus, Kind, Moderated, Moderation,
    ModerationError, ModerationStore, Moderator, ObjectId, PageRequest, Reason, Rule, RuleContext,
    SpamCheck, SpamClassifier, SpamScore, SpamVerdict, Stage, StoredItem, Submission, UserId,
};
use moderation_storage::SqliteStore;
use serde::{Deserialize, Serialize};

/// The sample data shipped next to this file.
const SAMPLE: &str = include_str!("comments.json");

#[derive(Debug, Deserialize)]
struct Sample {
    entries: Vec<SampleEntry>,
    comments: Vec<SampleComment>,
}

#[derive(Debug, Deserialize)]
struct SampleEntry {
    id: i64,
    title: String,
    enable_comments: bool,
    age_days: i64,
}

#[derive(Debug, Deserialize)]
struct SampleComment {
    entry: i64,
    author: SampleAuthor,
    body: String,
}

#[derive(Debug, Deserialize)]
struct SampleAuthor {
    user: Option<i64>,
    identity: Option<String>,
    name: String,
    #[serde(default)]
    staff: bool,
}

impl SampleAuthor {
    fn actor(&self) -> Actor {
        let actor = match (self.user, &self.identity) {
            (Some(id), _) => Actor::user(UserId::from(id)),
            (None, Some(identity)) => Actor::anonymous().with_identity(identity.as_str()),
            (None, None) => Actor::anonymous(),
        };
        actor
            .with_display_name(self.name.as_str())
            .with_staff(self.staff)
    }
}

/// A blog entry: the parent comments attach to.
#[derive(Debug, Serialize)]
struct Entry {
    id: i64,
    title: String,
    enable_comments: bool,
    published: chrono::DateTime<Utc>,
}

impl Moderated for Entry {
    const KIND: &'static str = "blog.entry";
    fn object_id(&self) -> ObjectId {
        ObjectId::from(self.id)
    }
}

/// A comment. Its id is a fresh UUID, so every run submits new objects.
#[derive(Debug, Serialize)]
struct Comment {
    id: uuid::Uuid,
    entry: i64,
    author: String,
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

/// A tiny keyword classifier standing in for Akismet or a trained model.
#[derive(Debug)]
struct KeywordSpamClassifier;

const SPAM_WORDS: [&str; 8] = [
    "casino",
    "cheap",
    "click here",
    "free money",
    "limited offer",
    "pills",
    "watches",
    "win big",
];

#[async_trait]
impl SpamClassifier for KeywordSpamClassifier {
    async fn classify(&self, submission: &Submission) -> Result<SpamScore, BoxError> {
        let text = submission.text.to_lowercase();
        let hits = SPAM_WORDS.iter().filter(|w| text.contains(*w)).count();
        let verdict = match hits {
            0 => SpamVerdict::Ham,
            1 => SpamVerdict::Unsure,
            _ => SpamVerdict::Spam,
        };
        Ok(SpamScore {
            verdict,
            score: hits as f64 / SPAM_WORDS.len() as f64,
        })
    }
}

/// Holds comments with links from authors who have nothing published yet
/// (a small version of Agouti's low-contribution guard).
#[derive(Debug)]
struct LinksFromNewUsers;

#[async_trait]
impl Rule for LinksFromNewUsers {
    fn stage(&self) -> Stage {
        Stage::Content
    }

    async fn check(&self, ctx: &RuleContext<'_>) -> Result<Option<Decision>, ModerationError> {
        let text = &ctx.submission.text;
        if !(text.contains("http://") || text.contains("https://") || text.contains("www.")) {
            return Ok(None);
        }
        let known = match ctx.submission.actor.author_key() {
            Some(author) => {
                ctx.facts
                    .author_has_public(ctx.submission.kind(), &author)
                    .await?
            }
            None => false,
        };
        Ok((!known).then(|| {
            Decision::hold(Reason::new(
                "new_user_links",
                "Links from authors with nothing published yet are reviewed first",
            ))
        }))
    }
}

/// The blog's comment moderator.
struct CommentModerator;

impl Moderator<Comment> for CommentModerator {
    fn options(&self) -> CommentOptions {
        CommentOptions::default()
            // No comments where the entry turned them off.
            .enable_field("enable_comments")
            // Comments on entries older than 30 days wait for a moderator.
            .moderate_after("published", 30)
            .moderate_first_timers(true)
            // Spam is rejected; a hesitant classifier holds for review.
            .spam(
                SpamCheck::new(Arc::new(KeywordSpamClassifier))
                    .on_spam(moderation_core::SpamAction::Reject),
            )
    }

    fn rules(&self) -> Vec<Arc<dyn Rule>> {
        vec![Arc::new(LinksFromNewUsers)]
    }
}

fn reasons(decision: &Decision) -> String {
    decision
        .reasons
        .iter()
        .map(|r| format!("{}: {}", r.rule, r.text))
        .collect::<Vec<_>>()
        .join("; ")
}

fn excerpt(text: &str, width: usize) -> String {
    let mut short: String = text.chars().take(width).collect();
    if text.chars().count() > width {
        short.pop();
        short.push('…');
    }
    short
}

/// Every held comment, page by page through the keyset cursor.
async fn review_queue(store: &dyn ModerationStore) -> Result<Vec<StoredItem>, ModerationError> {
    let filter = ItemFilter {
        status: Some(ItemStatus::Held),
        kind: Some(Kind::new(Comment::KIND)?),
        author: None,
        ..ItemFilter::default()
    };
    let mut page = PageRequest::first(50);
    let mut held = Vec::new();
    loop {
        let result = store.list_items(&filter, &page).await?;
        held.extend(result.items);
        match result.next {
            Some(next) => page.after = Some(next),
            None => return Ok(held),
        }
    }
}

fn print_queue(title: &str, queue: &[StoredItem]) {
    println!("\n{title}: {} held comment(s)", queue.len());
    for item in queue {
        let body = item
            .payload
            .get("body")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        let why = item
            .reasons
            .iter()
            .map(|r| r.rule.as_ref())
            .collect::<Vec<_>>()
            .join(", ");
        println!(
            "  #{:<5} v{} {:<44} [{why}]",
            item.id,
            item.version,
            excerpt(body, 44)
        );
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let sqlite = SqliteStore::open("moderation.db").await?;
    let store: Arc<dyn ModerationStore> = Arc::new(sqlite.clone());
    let moderation = Moderation::builder(Arc::clone(&store)).build();
    moderation
        .registry()
        .register::<Comment, _>(CommentModerator)?;
    println!("Opened moderation.db and registered `{}`.", Comment::KIND);

    let sample: Sample = serde_json::from_str(SAMPLE)?;
    let now = Utc::now();
    let entries: Vec<Entry> = sample
        .entries
        .into_iter()
        .map(|e| Entry {
            id: e.id,
            title: e.title,
            enable_comments: e.enable_comments,
            published: now - Duration::days(e.age_days),
        })
        .collect();

    println!(
        "\n{:<10} {:<42} {:<8} reasons",
        "author", "comment", "decision"
    );
    println!("{}", "-".repeat(120));
    for sample in &sample.comments {
        let Some(entry) = entries.iter().find(|e| e.id == sample.entry) else {
            println!("skipping a comment on unknown entry {}", sample.entry);
            continue;
        };
        let comment = Comment {
            id: uuid::Uuid::new_v4(),
            entry: entry.id,
            author: sample.author.name.clone(),
            body: sample.body.clone(),
        };
        let submission = Submission::new(sample.author.actor(), &comment)?.with_parent(entry)?;
        let outcome = moderation.submit(submission).await?;
        let mut verdict = outcome.verdict().to_string();
        if outcome.duplicate {
            verdict.push_str(" (duplicate)");
        }
        println!(
            "{:<10} {:<42} {:<17} {}",
            excerpt(&sample.author.name, 10),
            excerpt(&comment.body, 42),
            verdict,
            reasons(&outcome.decision)
        );
    }

    let before = review_queue(store.as_ref()).await?;
    print_queue("Review queue before", &before);

    let moderator = Actor::user(UserId::new("dana")?).with_staff(true);
    let first_timer = before
        .iter()
        .find(|item| item.reasons.iter().any(|r| r.rule == "first_timer"));
    if let Some(item) = first_timer {
        let approved = moderation
            .approve(
                item.id,
                item.version,
                &moderator,
                Some("Welcome aboard".to_owned()),
            )
            .await?;
        println!(
            "\nApproved #{} as moderator `dana`: now {} (version {}).",
            approved.id,
            approved.status.as_str(),
            approved.version
        );
        for entry in store.log_entries(approved.id).await? {
            println!(
                "  log: {:<12} {} -> {}  by {}",
                entry.action.as_str(),
                entry.from_status.map_or("-", ItemStatus::as_str),
                entry.to_status.map_or("-", ItemStatus::as_str),
                entry.actor.as_ref().map_or("pipeline", UserId::as_str)
            );
        }
    } else {
        println!("\nNo first-timer is waiting; nothing to approve.");
    }

    let after = review_queue(store.as_ref()).await?;
    print_queue("Review queue after", &after);
    // Closing folds the write-ahead log into the file and removes it, so
    // `moderation.db` alone holds everything.
    sqlite.close().await;
    Ok(())
}
