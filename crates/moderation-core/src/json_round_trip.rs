//! Every value an application sends over HTTP or keeps as JSON reads back
//! as itself: one test per type, with each variant of the enums whose
//! shape differs per variant.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::actor::{Actor, AuthorKey, Standing};
use crate::community::{NewSanction, Sanction, SanctionKind};
use crate::decision::{Decision, Reason};
use crate::events::ModerationEvent;
use crate::ids::{ItemId, Kind, ObjectId, ObjectRef, UserId};
use crate::modlog::{ModLogEntry, NewModLogEntry};
use crate::queue::{
    NewReview, ReviewAction, ReviewCursor, ReviewEvent, ReviewHistoryEntry, ReviewId, ReviewItem,
    ReviewPage, ReviewReason, ReviewStatus, ReviewSubject,
};
use crate::service::Outcome;
use crate::store::{Cursor, ItemStatus, LogAction, LogEntry, Page, StoredItem};
use crate::workflow::{EntryId, ObjectChange, ObjectStatus, PublicRead};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Serializes `value`, reads it back, and checks it is unchanged.
fn round_trip<T>(value: &T) -> TestResult
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let text = serde_json::to_string(value)?;
    let back: T = serde_json::from_str(&text)?;
    assert_eq!(&back, value, "{text}");
    Ok(())
}

fn at() -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000, 123_000)
        .single()
        .unwrap_or_default()
}

fn comment(id: i64) -> Result<ObjectRef, crate::ModerationError> {
    Ok(ObjectRef::new(Kind::new("blog.comment")?, id))
}

fn user(id: &str) -> Result<UserId, crate::ModerationError> {
    UserId::new(id)
}

fn subjects() -> Result<Vec<ReviewSubject>, crate::ModerationError> {
    Ok(vec![
        ReviewSubject::Submission(ItemId(42)),
        ReviewSubject::ObjectChange {
            object: ObjectRef::new(Kind::new("profile")?, ObjectId::Str("alice".into())),
            revision: 3,
        },
        ReviewSubject::Content(comment(7)?),
        ReviewSubject::User(user("mallory")?),
    ])
}

fn held_item() -> Result<StoredItem, crate::ModerationError> {
    Ok(StoredItem {
        id: ItemId(42),
        object: comment(42)?,
        parent: Some(ObjectRef::new(Kind::new("blog.post")?, 1_i64)),
        author: Some(AuthorKey::User(user("alice")?)),
        status: ItemStatus::Held,
        reasons: vec![Reason::new("links", "Too many links").with_detail(json!({ "links": 4 }))],
        payload: json!({ "body": "hello <b>world</b>", "links": ["https://example.com"] }),
        fingerprint: Some("f1".into()),
        ip: Some(IpAddr::V4(Ipv4Addr::new(198, 51, 100, 7))),
        created_at: at(),
        updated_at: at(),
        version: 1,
    })
}

fn review_item(subject: ReviewSubject) -> Result<ReviewItem, crate::ModerationError> {
    let review = NewReview {
        subject,
        kind: Kind::new("blog.comment")?,
        author: Some(AuthorKey::Identity("guest@example.com".into())),
        reasons: vec![ReviewReason::new("links", "Too many links", 2)],
        priority: 1,
        created_at: at(),
    };
    Ok(review.into_item(ReviewId(9)))
}

#[test]
fn review_subjects() -> TestResult {
    for subject in subjects()? {
        round_trip(&subject)?;
    }
    Ok(())
}

#[test]
fn review_items_of_every_subject() -> TestResult {
    for subject in subjects()? {
        round_trip(&review_item(subject)?)?;
    }
    Ok(())
}

#[test]
fn review_page() -> TestResult {
    let item = review_item(ReviewSubject::Submission(ItemId(42)))?;
    let next = Some(ReviewCursor::after(&item));
    round_trip(&ReviewPage {
        items: vec![item],
        next,
    })
}

#[test]
fn review_history_entry() -> TestResult {
    round_trip(&ReviewHistoryEntry {
        id: 1,
        review: ReviewId(9),
        event: ReviewEvent::Act(ReviewAction::Approve),
        actor: Some(user("moderator")?),
        from_status: Some(ReviewStatus::Pending),
        to_status: ReviewStatus::Approved,
        reason: Some("fine".into()),
        message: Some("Thanks".into()),
        bulk: Some(uuid::Uuid::nil()),
        at: at(),
    })
}

#[test]
fn held_stored_item_and_its_page() -> TestResult {
    let item = held_item()?;
    round_trip(&item)?;
    round_trip(&Page {
        items: vec![item.clone()],
        next: Some(Cursor {
            created_at: item.created_at,
            id: item.id,
        }),
    })
}

#[test]
fn item_log_entry() -> TestResult {
    round_trip(&LogEntry {
        id: 3,
        item: ItemId(42),
        action: LogAction::Approve,
        actor: Some(user("moderator")?),
        reason: Some("fine".into()),
        detail: json!({}),
        ip: None,
        from_status: Some(ItemStatus::Held),
        to_status: Some(ItemStatus::Public),
        bulk: None,
        at: at(),
    })
}

#[test]
fn outcome_and_decision() -> TestResult {
    round_trip(&Decision::hold(Reason::new("links", "Too many links")))?;
    round_trip(&Outcome {
        decision: Decision::publish(Reason::new("default", "Published")),
        item: Some(held_item()?),
        duplicate: false,
    })
}

#[test]
fn every_moderation_event() -> TestResult {
    let item = held_item()?;
    let change = ObjectChange {
        object: ObjectRef::new(Kind::new("profile")?, 1_i64),
        entry: EntryId(5),
        from: Some(ObjectStatus::Pending),
        to: ObjectStatus::Approved,
        by: Some(user("moderator")?),
        reason: None,
        old_version: None,
        new_version: json!({ "bio": "hi" }),
    };
    for event in [
        ModerationEvent::Queued { item: item.clone() },
        ModerationEvent::Decided {
            item,
            action: LogAction::Approve,
            from: Some(ItemStatus::Held),
            by: Some(user("moderator")?),
            reasons: vec![Reason::new("staff", "Approved")],
        },
        ModerationEvent::ObjectQueued {
            change: change.clone(),
        },
        ModerationEvent::PreModeration {
            change: change.clone(),
        },
        ModerationEvent::PostModeration { change },
        ModerationEvent::Flagged {
            item: ItemId(42),
            by: user("bob")?,
            reason: Some("spam".into()),
        },
    ] {
        round_trip(&event)?;
    }
    Ok(())
}

#[test]
fn public_reads() -> TestResult {
    for read in [
        PublicRead::Unmoderated,
        PublicRead::Public(json!({ "bio": "hi" })),
        PublicRead::Hidden,
    ] {
        round_trip(&read)?;
    }
    Ok(())
}

#[test]
fn moderation_log_entries() -> TestResult {
    let new = NewModLogEntry {
        action: "review.approve".into(),
        actor: Some(user("moderator")?),
        target: comment(42)?,
        reason: None,
        before: Some("pending".into()),
        after: Some("approved".into()),
        detail: json!({ "review": 9 }),
        ip: Some(IpAddr::V4(Ipv4Addr::LOCALHOST)),
        bulk: None,
        at: at(),
    };
    round_trip(&new)?;
    round_trip(&ModLogEntry {
        id: 1,
        action: new.action,
        actor: new.actor,
        target: new.target,
        reason: new.reason,
        before: new.before,
        after: new.after,
        detail: new.detail,
        ip: new.ip,
        bulk: new.bulk,
        at: new.at,
    })
}

#[test]
fn standings_actors_and_sanctions() -> TestResult {
    for standing in [
        Standing::Good,
        Standing::Frozen {
            reason: "links".into(),
        },
        Standing::Silenced {
            until: Some(at()),
            reason: "flood".into(),
        },
    ] {
        round_trip(&standing)?;
    }
    round_trip(&Actor::user(user("alice")?).with_staff(true))?;
    round_trip(&Sanction {
        id: 1,
        imposed: NewSanction {
            user: user("mallory")?,
            kind: SanctionKind::Freeze,
            reason: "links".into(),
            by: None,
            at: at(),
            expires_at: None,
            cause: Some("review:9".into()),
        },
        lifted_by: None,
        lifted_at: None,
    })
}
