//! Workflow notifications: a message backend that is down does not hold up
//! decisions, and templates overridden at run time shape the next message.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use moderation_core::workflow::notify::{DECISION_BODY, QUEUED_SUBJECT};
use moderation_core::workflow::{
    EntryStatus, EntryVersion, MemoryObjectStore, ObjectAction, ObjectWorkflow, PublicRead,
    RetryPolicy, WorkflowOptions,
};
use moderation_core::{
    Actor, BoxError, ModerationError, Notification, Notifier, ObjectId, Recipients,
    RecordingNotifier, UserId,
};

mod profile;

use profile::Profile;

fn profile(id: i64) -> Profile {
    Profile {
        id,
        bio: format!("bio {id}"),
    }
}

/// A backend that fails while it is down and counts every call.
#[derive(Debug, Default)]
struct FlakyBackend {
    down: AtomicBool,
    calls: AtomicUsize,
}

impl FlakyBackend {
    fn down() -> Arc<Self> {
        Arc::new(Self {
            down: AtomicBool::new(true),
            calls: AtomicUsize::new(0),
        })
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
}

#[async_trait]
impl Notifier for FlakyBackend {
    async fn notify(&self, _notification: &Notification) -> Result<(), BoxError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            Err("message backend down".into())
        } else {
            Ok(())
        }
    }
}

/// Three tries, 1 ms then 2 ms apart: the default policy's shape with
/// delays short enough for real time.
const THREE_TRIES: RetryPolicy = RetryPolicy {
    attempts: 3,
    delay: Duration::from_millis(1),
};

fn member() -> Actor {
    Actor::user(UserId::from(7_i64))
}

fn moderator() -> Actor {
    Actor::user(UserId::from(1_i64))
}

/// A workflow sending the submitter's messages through `backend`.
fn workflow_over(
    backend: Arc<FlakyBackend>,
    cooldown: Option<Duration>,
) -> Result<ObjectWorkflow, ModerationError> {
    let builder = ObjectWorkflow::builder(Arc::new(MemoryObjectStore::new()))
        .notifier(backend)
        .retry(THREE_TRIES);
    let workflow = match cooldown {
        Some(cooldown) => builder.retry_cooldown(cooldown),
        None => builder,
    }
    .build();
    workflow.register_type::<Profile>(WorkflowOptions::new())?;
    Ok(workflow)
}

/// Queues profile `id` and approves it: one decision message.
async fn create_and_approve(workflow: &ObjectWorkflow, id: i64) -> Result<(), ModerationError> {
    let saved = workflow.create(&member(), &profile(id)).await?;
    let entry = saved
        .entry
        .ok_or(ModerationError::UnknownEntry { entry: 0 })?;
    let taken = workflow
        .approve(&moderator(), (&entry).into(), None)
        .await?;
    assert_eq!(taken.entry.status, EntryStatus::Approved);
    Ok(())
}

#[tokio::test]
async fn a_bulk_approve_with_a_dead_backend_retries_only_the_first_message()
-> Result<(), Box<dyn std::error::Error>> {
    let backend = FlakyBackend::down();
    let workflow = workflow_over(backend.clone(), None)?;
    let mut targets = Vec::new();
    for id in 1..=50 {
        let saved = workflow.create(&member(), &profile(id)).await?;
        let entry = saved.entry.ok_or("no entry")?;
        targets.push(EntryVersion::from(&entry));
    }
    assert_eq!(backend.calls(), 0, "nobody hears of queued changes");

    let taken = workflow
        .bulk(&moderator(), ObjectAction::Approve, &targets, Some("ok"))
        .await?;

    assert_eq!(
        backend.calls(),
        3 + 49,
        "three tries for the first message, then one each"
    );
    assert_eq!(taken.len(), 50);
    for (id, target) in (1..=50).zip(&targets) {
        let stored = workflow.entry(target.id).await?.ok_or("entry missing")?;
        assert_eq!(stored.status, EntryStatus::Approved);
        let object = stored.object.clone();
        assert_eq!(
            workflow.public_version(&object).await?,
            PublicRead::Public(serde_json::to_value(profile(id))?)
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_delivery_after_the_backend_recovered_gets_every_try_again()
-> Result<(), Box<dyn std::error::Error>> {
    let backend = FlakyBackend::down();
    let workflow = workflow_over(backend.clone(), None)?;
    create_and_approve(&workflow, 1).await?;
    assert_eq!(backend.calls(), 3, "every try, then give up");
    create_and_approve(&workflow, 2).await?;
    assert_eq!(backend.calls(), 4, "one try while the backend looks down");

    backend.set_down(false);
    create_and_approve(&workflow, 3).await?;
    assert_eq!(backend.calls(), 5, "delivered at the first try");

    backend.set_down(true);
    create_and_approve(&workflow, 4).await?;
    assert_eq!(backend.calls(), 8, "the success ended the cool-down");
    create_and_approve(&workflow, 5).await?;
    assert_eq!(backend.calls(), 9);
    Ok(())
}

// Paused time: the cool-down ends exactly when the clock says, however
// slowly the machine runs.
#[tokio::test(start_paused = true)]
async fn a_delivery_after_the_cooldown_gets_every_try_again()
-> Result<(), Box<dyn std::error::Error>> {
    let backend = FlakyBackend::down();
    let cooldown = Duration::from_millis(50);
    let workflow = workflow_over(backend.clone(), Some(cooldown))?;
    create_and_approve(&workflow, 1).await?;
    create_and_approve(&workflow, 2).await?;
    assert_eq!(backend.calls(), 3 + 1);

    tokio::time::sleep(cooldown * 2).await;
    create_and_approve(&workflow, 3).await?;
    assert_eq!(backend.calls(), 4 + 3, "the cool-down is over");
    create_and_approve(&workflow, 4).await?;
    assert_eq!(backend.calls(), 7 + 1, "and began again");
    Ok(())
}

#[tokio::test]
async fn a_zero_cooldown_retries_every_delivery() -> Result<(), Box<dyn std::error::Error>> {
    let backend = FlakyBackend::down();
    let workflow = workflow_over(backend.clone(), Some(Duration::ZERO))?;
    create_and_approve(&workflow, 1).await?;
    create_and_approve(&workflow, 2).await?;
    assert_eq!(backend.calls(), 3 + 3);
    Ok(())
}

/// A workflow whose moderators and submitters' messages are recorded.
fn recorded() -> Result<(ObjectWorkflow, Arc<RecordingNotifier>), ModerationError> {
    let notes = Arc::new(RecordingNotifier::new());
    let workflow = ObjectWorkflow::builder(Arc::new(MemoryObjectStore::new()))
        .notifier(notes.clone())
        .moderators(Recipients::Fixed(vec!["mods@example.org".to_owned()]))
        .submitter_address(|user| Some(format!("user{user}@example.org")))
        .build();
    workflow.register_type::<Profile>(WorkflowOptions::new())?;
    Ok((workflow, notes))
}

#[tokio::test]
async fn an_overridden_template_shapes_the_next_message() -> Result<(), Box<dyn std::error::Error>>
{
    let (workflow, notes) = recorded()?;
    workflow.create(&member(), &profile(1)).await?;
    assert_eq!(
        notes.sent().last().map(|note| note.subject.clone()),
        Some("[profile] New object waiting for review: profile#1".to_owned())
    );

    workflow.templates().set(
        QUEUED_SUBJECT,
        "Please review {{ object }} (revision {{ revision }})",
    )?;
    workflow
        .templates()
        .set(DECISION_BODY, "{{ object }} is {{ status }}: {{ reason }}")?;
    let saved = workflow.create(&member(), &profile(2)).await?;
    assert_eq!(
        notes.sent().last().map(|note| note.subject.clone()),
        Some("Please review profile#2 (revision 1)".to_owned())
    );
    let entry = saved.entry.ok_or("no entry")?;
    workflow
        .approve(&moderator(), (&entry).into(), Some("Welcome"))
        .await?;
    let decision = notes.sent().last().cloned().ok_or("no message")?;
    assert_eq!(decision.recipients, ["user7@example.org"]);
    assert_eq!(decision.body, "profile#2 is approved: Welcome");
    assert_eq!(notes.sent().len(), 3);
    Ok(())
}

#[tokio::test]
async fn a_template_that_does_not_parse_is_refused_and_the_shipped_one_stays()
-> Result<(), Box<dyn std::error::Error>> {
    let (workflow, notes) = recorded()?;
    let refused = workflow
        .templates()
        .set(QUEUED_SUBJECT, "{% if revision > 1 %}Edit of {{ object }}");
    match refused {
        Err(ModerationError::Template { name, message }) => {
            assert_eq!(name, QUEUED_SUBJECT);
            assert!(!message.is_empty(), "the parser's reason is kept");
        }
        other => return Err(format!("expected a template error, got {other:?}").into()),
    }
    workflow.create(&member(), &profile(1)).await?;
    assert_eq!(
        notes.sent().last().map(|note| note.subject.clone()),
        Some("[profile] New object waiting for review: profile#1".to_owned())
    );
    Ok(())
}

/// Formatted log lines, shared with the subscriber that writes them.
#[derive(Clone, Default)]
struct CapturedLog(Arc<std::sync::Mutex<Vec<u8>>>);

impl CapturedLog {
    /// The log of the whole test binary, installed as the global
    /// subscriber on first use. Global, not per test: tracing caches each
    /// log site's interest across threads, so a subscriber scoped to one
    /// test's thread can miss events while other tests run.
    fn global() -> Self {
        static LOG: std::sync::OnceLock<CapturedLog> = std::sync::OnceLock::new();
        LOG.get_or_init(|| {
            let log = Self::default();
            let writer = log.clone();
            let subscriber = tracing_subscriber::fmt()
                .with_writer(move || writer.clone())
                .with_ansi(false)
                .with_max_level(tracing::Level::WARN)
                .finish();
            // Nothing else in this binary installs one; were it to, the
            // assertions on the captured lines would report what is missing.
            tracing::subscriber::set_global_default(subscriber).ok();
            log
        })
        .clone()
    }

    /// The lines about `object`.
    fn lines_about(&self, object: &str) -> Vec<String> {
        let bytes = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let marker = format!("object={object}");
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|line| line.split_whitespace().any(|word| word == marker))
            .map(str::to_owned)
            .collect()
    }
}

impl std::io::Write for CapturedLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_failed_delivery_is_logged_and_the_decision_stands()
-> Result<(), Box<dyn std::error::Error>> {
    let log = CapturedLog::global();
    let backend = FlakyBackend::down();
    let workflow = workflow_over(backend.clone(), None)?;
    create_and_approve(&workflow, 901).await?;
    create_and_approve(&workflow, 902).await?;

    let first = log.lines_about("profile#901");
    assert_eq!(first.len(), 3, "two retries, then giving up: {first:#?}");
    for line in first.iter().take(2) {
        assert!(line.contains("WARN") && line.contains("notification failed; retrying"));
    }
    let given_up = first.last().map_or("", String::as_str);
    assert!(
        given_up.contains("ERROR")
            && given_up.contains("notification failed; giving up")
            && given_up.contains("message backend down"),
        "the failure is an error naming its cause: {given_up}"
    );
    let second = log.lines_about("profile#902");
    assert_eq!(second.len(), 2, "one try, then giving up: {second:#?}");
    assert!(
        second.first().is_some_and(
            |line| line.contains("WARN") && line.contains("trying once without retries")
        )
    );
    assert!(second.last().is_some_and(
        |line| line.contains("ERROR") && line.contains("notification failed; giving up")
    ));
    for id in [901_i64, 902] {
        let object = moderation_core::ObjectRef::new(
            moderation_core::Kind::new("profile")?,
            ObjectId::from(id),
        );
        assert_eq!(
            workflow.public_version(&object).await?,
            PublicRead::Public(serde_json::to_value(profile(id))?)
        );
    }
    Ok(())
}
