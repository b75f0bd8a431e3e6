//! The e-mail message backend: decisions reach submitters as e-mail, and a
//! transport that fails leaves the decision standing.

use std::sync::Arc;

use lettre::transport::stub::AsyncStubTransport;
use moderation_core::workflow::{
    EmailNotifier, MemoryObjectStore, ObjectWorkflow, PublicRead, RetryPolicy, WorkflowOptions,
};
use moderation_core::{Actor, ModerationError, UserId};

mod profile;

use profile::Profile;

/// The e-mail notifier under test, shared with the workflow.
type Email = Arc<EmailNotifier<AsyncStubTransport>>;

fn workflow(
    transport: AsyncStubTransport,
) -> Result<(ObjectWorkflow, Email), Box<dyn std::error::Error>> {
    let notifier = Arc::new(EmailNotifier::new(
        transport,
        "Moderation <mod@example.org>".parse()?,
    ));
    let workflow = ObjectWorkflow::builder(Arc::new(MemoryObjectStore::new()))
        .notifier(notifier.clone())
        .submitter_address(|user| Some(format!("user{user}@example.org")))
        .retry(RetryPolicy {
            attempts: 1,
            delay: std::time::Duration::ZERO,
        })
        .build();
    workflow.register_type::<Profile>(WorkflowOptions::new())?;
    Ok((workflow, notifier))
}

#[tokio::test]
async fn the_submitter_gets_the_decision_by_email() -> Result<(), Box<dyn std::error::Error>> {
    let (workflow, notifier) = workflow(AsyncStubTransport::new_ok())?;
    let saved = workflow
        .create(
            &Actor::user(UserId::from(7_i64)),
            &Profile {
                id: 1,
                bio: "hi".into(),
            },
        )
        .await?;
    let entry = saved
        .entry
        .ok_or(ModerationError::UnknownEntry { entry: 0 })?;
    workflow
        .approve(
            &Actor::user(UserId::from(1_i64)),
            (&entry).into(),
            Some("Welcome aboard"),
        )
        .await?;
    let messages = notifier.transport().messages().await;
    assert_eq!(messages.len(), 1);
    let (envelope, text) = messages.first().cloned().ok_or("no message")?;
    assert_eq!(
        envelope.to().first().map(ToString::to_string),
        Some("user7@example.org".to_owned())
    );
    assert!(text.contains("Welcome aboard"));
    Ok(())
}

#[tokio::test]
async fn a_failing_transport_leaves_the_decision_standing() -> Result<(), Box<dyn std::error::Error>>
{
    let (workflow, _) = workflow(AsyncStubTransport::new_error())?;
    let saved = workflow
        .create(
            &Actor::user(UserId::from(7_i64)),
            &Profile {
                id: 1,
                bio: "hi".into(),
            },
        )
        .await?;
    let entry = saved
        .entry
        .ok_or(ModerationError::UnknownEntry { entry: 0 })?;
    workflow
        .approve(&Actor::user(UserId::from(1_i64)), (&entry).into(), None)
        .await?;
    assert!(matches!(
        workflow.public_version(&saved.record.object).await?,
        PublicRead::Public(_)
    ));
    Ok(())
}
