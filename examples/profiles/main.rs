//! User profiles under moderation, stored in SQLite.
//!
//! Run it with `cargo run -p moderation-examples --example profiles`. A
//! member creates a profile (held for review), a moderator approves it, the
//! member edits it (the public keeps seeing the approved version while the
//! edit waits), the moderator reads the HTML diff of the pending change and
//! approves it, and the new version goes public. The database is a fresh
//! file in the system's temporary directory, removed at the end.
#![allow(clippy::print_stdout, reason = "an example prints what it does")]

use std::error::Error;
use std::sync::Arc;

use moderation_core::workflow::{
    ObjectEntry, ObjectWorkflow, PendingQuery, PublicRead, WorkflowOptions,
};
use moderation_core::{Actor, Kind, Moderated, ModerationError, ObjectId, ObjectRef, UserId};
use moderation_diff::DiffOptions;
use moderation_storage::SqliteStore;
use serde::{Deserialize, Serialize};

/// A member's public profile.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Profile {
    id: i64,
    display_name: String,
    bio: String,
    website: String,
    /// Bumped by the site on every visit; never worth a moderator's time.
    visits: u64,
}

impl Moderated for Profile {
    const KIND: &'static str = "user.profile";
    fn object_id(&self) -> ObjectId {
        ObjectId::from(self.id)
    }
}

/// What the public sees of profile `object`.
async fn show_public(workflow: &ObjectWorkflow, object: &ObjectRef) -> Result<(), Box<dyn Error>> {
    match workflow.public_version(object).await? {
        PublicRead::Public(version) => {
            let profile: Profile = serde_json::from_value(version)?;
            println!(
                "  public sees: {} -- {:?}",
                profile.display_name, profile.bio
            );
        }
        PublicRead::Hidden => println!("  public sees: nothing (hidden until approved)"),
        PublicRead::Unmoderated => println!("  public sees: the application's own row"),
    }
    Ok(())
}

/// The oldest pending entry.
async fn next_in_queue(workflow: &ObjectWorkflow) -> Result<ObjectEntry, ModerationError> {
    let page = workflow.pending(&PendingQuery::first(1)).await?;
    page.entries.into_iter().next().ok_or_else(|| {
        ModerationError::Config("the review queue is empty; nothing to approve".to_owned())
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn Error>> {
    let path = std::env::temp_dir().join(format!("profiles-{}.db", uuid::Uuid::new_v4()));
    let store = SqliteStore::open(&path).await?;
    let workflow = ObjectWorkflow::builder(Arc::new(store.clone())).build();
    workflow.register_type::<Profile>(
        WorkflowOptions::new()
            .exclude_fields(["visits"])
            .diff_options(
                DiffOptions::new()
                    .label("display_name", "Display name")
                    .label("bio", "About me")
                    .label("website", "Website"),
            ),
    )?;

    let member = Actor::user(UserId::from(42_i64));
    let moderator = Actor::user(UserId::from(1_i64)).with_staff(true);
    let object = ObjectRef::new(Kind::new(Profile::KIND)?, 42_i64);

    println!("1. The member creates a profile.");
    let mut profile = Profile {
        id: 42,
        display_name: "Grace".to_owned(),
        bio: "I write compilers.".to_owned(),
        website: "https://grace.example".to_owned(),
        visits: 0,
    };
    let saved = workflow.create(&member, &profile).await?;
    println!("  outcome: {:?}", saved.outcome);
    show_public(&workflow, &object).await?;

    println!("2. A moderator approves it.");
    let entry = next_in_queue(&workflow).await?;
    workflow
        .approve(&moderator, (&entry).into(), Some("Welcome!"))
        .await?;
    show_public(&workflow, &object).await?;

    println!("3. The member edits the bio; the site counts a visit.");
    profile.bio = "I write compilers and <script>teach</script> them.".to_owned();
    profile.visits = 1;
    let saved = workflow.edit(&member, &profile).await?;
    println!("  outcome: {:?}", saved.outcome);
    show_public(&workflow, &object).await?;

    println!("4. The moderator reviews the change:");
    let entry = next_in_queue(&workflow).await?;
    let diff = workflow.diff(&entry).await?;
    println!("{}", diff.to_html());

    println!("5. The moderator approves the edit.");
    workflow
        .approve(&moderator, (&entry).into(), Some("Nice update"))
        .await?;
    show_public(&workflow, &object).await?;

    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    Ok(())
}
