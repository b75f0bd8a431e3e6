//! With history kept, each entry's diff against the revision before it
//! shows that entry's own change, however many edits came after it.

use std::sync::Arc;

use moderation_core::workflow::{
    EntryId, MemoryObjectStore, ObjectEntry, ObjectWorkflow, WorkflowOptions,
};
use moderation_core::{Actor, Moderated, ModerationError, ObjectId, UserId};
use moderation_diff::{ChangeKind, RecordDiff};
use serde_json::{Value, json};

#[derive(serde::Serialize)]
struct Profile {
    id: i64,
    bio: String,
    city: String,
    website: String,
}

impl Moderated for Profile {
    const KIND: &'static str = "profile";
    fn object_id(&self) -> ObjectId {
        ObjectId::from(self.id)
    }
}

fn profile(bio: &str, city: &str, website: &str) -> Profile {
    Profile {
        id: 1,
        bio: bio.to_owned(),
        city: city.to_owned(),
        website: website.to_owned(),
    }
}

fn member() -> Actor {
    Actor::user(UserId::from(7_i64))
}

fn moderator() -> Actor {
    Actor::user(UserId::from(1_i64))
}

/// The fields that differ, as (name, old, new).
fn changed(diff: &RecordDiff) -> Vec<(String, Option<Value>, Option<Value>)> {
    diff.changes()
        .iter()
        .filter(|field| field.kind() != ChangeKind::Unchanged)
        .map(|field| {
            (
                field.path().to_string(),
                field.old_value().cloned(),
                field.new_value().cloned(),
            )
        })
        .collect()
}

fn change(field: &str, old: &str, new: &str) -> (String, Option<Value>, Option<Value>) {
    (field.to_owned(), Some(json!(old)), Some(json!(new)))
}

fn workflow() -> Result<ObjectWorkflow, ModerationError> {
    let workflow = ObjectWorkflow::builder(Arc::new(MemoryObjectStore::new())).build();
    workflow.register_type::<Profile>(WorkflowOptions::new().keep_history(true))?;
    Ok(workflow)
}

/// Saves `version` (created when `create`) and returns its entry, undecided.
async fn save(
    workflow: &ObjectWorkflow,
    version: &Profile,
    create: bool,
) -> Result<ObjectEntry, ModerationError> {
    let saved = if create {
        workflow.create(&member(), version).await?
    } else {
        workflow.edit(&member(), version).await?
    };
    saved
        .entry
        .ok_or(ModerationError::UnknownEntry { entry: 0 })
}

/// Saves `version` and approves it.
async fn approved(
    workflow: &ObjectWorkflow,
    version: &Profile,
    create: bool,
) -> Result<EntryId, ModerationError> {
    let entry = save(workflow, version, create).await?;
    workflow
        .approve(&moderator(), (&entry).into(), None)
        .await?;
    Ok(entry.id)
}

#[tokio::test]
async fn each_approved_edit_shows_only_its_own_change() -> Result<(), Box<dyn std::error::Error>> {
    let workflow = workflow()?;
    let created = approved(&workflow, &profile("Hi", "Oslo", "a.example"), true).await?;
    let a = approved(&workflow, &profile("Hello", "Oslo", "a.example"), false).await?;
    let b = approved(&workflow, &profile("Hello", "Bergen", "a.example"), false).await?;
    let c = approved(&workflow, &profile("Hello", "Bergen", "b.example"), false).await?;

    assert_eq!(
        changed(&workflow.diff_with_previous(a).await?),
        [change("bio", "Hi", "Hello")]
    );
    assert_eq!(
        changed(&workflow.diff_with_previous(b).await?),
        [change("city", "Oslo", "Bergen")]
    );
    assert_eq!(
        changed(&workflow.diff_with_previous(c).await?),
        [change("website", "a.example", "b.example")]
    );

    // The first entry has no revision before it: every field is added.
    let first = workflow.diff_with_previous(created).await?;
    let added: Vec<(String, ChangeKind, Option<Value>)> = first
        .changes()
        .iter()
        .map(|field| {
            (
                field.path().to_string(),
                field.kind(),
                field.new_value().cloned(),
            )
        })
        .collect();
    assert_eq!(
        added,
        [
            ("bio".to_owned(), ChangeKind::Added, Some(json!("Hi"))),
            ("city".to_owned(), ChangeKind::Added, Some(json!("Oslo"))),
            ("id".to_owned(), ChangeKind::Added, Some(json!(1))),
            (
                "website".to_owned(),
                ChangeKind::Added,
                Some(json!("a.example"))
            ),
        ]
    );

    // Against the public version, an old entry shows the later edits undone.
    assert_eq!(
        changed(&workflow.diff_entry(a).await?),
        [
            change("city", "Bergen", "Oslo"),
            change("website", "b.example", "a.example"),
        ]
    );
    Ok(())
}

#[tokio::test]
async fn the_revision_before_is_the_previous_entry_whatever_became_of_it()
-> Result<(), Box<dyn std::error::Error>> {
    let workflow = workflow()?;
    approved(&workflow, &profile("Hi", "Oslo", "a.example"), true).await?;
    let rejected = save(&workflow, &profile("Spam", "Oslo", "a.example"), false).await?;
    workflow
        .reject(&moderator(), (&rejected).into(), Some("no"))
        .await?;
    let superseded = save(&workflow, &profile("Spam", "Bergen", "a.example"), false).await?;
    let latest = save(&workflow, &profile("Spam", "Bergen", "b.example"), false).await?;

    assert_eq!(
        changed(&workflow.diff_with_previous(rejected.id).await?),
        [change("bio", "Hi", "Spam")]
    );
    assert_eq!(
        changed(&workflow.diff_with_previous(superseded.id).await?),
        [change("city", "Oslo", "Bergen")]
    );
    assert_eq!(
        changed(&workflow.diff_with_previous(latest.id).await?),
        [change("website", "a.example", "b.example")]
    );
    Ok(())
}

#[tokio::test]
async fn an_unknown_entry_has_no_diff() -> Result<(), Box<dyn std::error::Error>> {
    let workflow = workflow()?;
    let missing = workflow.diff_with_previous(EntryId(404)).await;
    assert!(
        matches!(missing, Err(ModerationError::UnknownEntry { entry: 404 })),
        "{missing:?}"
    );
    Ok(())
}
