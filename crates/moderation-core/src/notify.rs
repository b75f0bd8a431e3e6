//! The `Notifier` port: staff are told of every saved submission (B7).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use async_trait::async_trait;
use minijinja::Environment;
use serde::{Deserialize, Serialize};

use crate::decision::{Reason, Verdict};
use crate::error::{BoxError, ModerationError};
use crate::ids::{ItemId, Kind, ObjectRef};

/// The name of the subject template.
pub const SUBJECT_TEMPLATE: &str = "staff_notification_subject.txt";
/// The name of the body template.
pub const BODY_TEMPLATE: &str = "staff_notification_body.txt";

/// One message to staff about a saved submission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Who should get it.
    pub recipients: Vec<String>,
    /// The kind of the submission.
    pub kind: Kind,
    /// The stored item.
    pub item: ItemId,
    /// The moderated object.
    pub object: ObjectRef,
    /// What the pipeline decided.
    pub verdict: Verdict,
    /// Why.
    pub reasons: Vec<Reason>,
    /// The rendered subject line.
    pub subject: String,
    /// The rendered body.
    pub body: String,
}

/// Sends notifications (e-mail, chat, a queue).
///
/// A failure is logged by the caller and never undoes the decision.
#[async_trait]
pub trait Notifier: Send + Sync + fmt::Debug {
    /// Sends one notification.
    ///
    /// # Errors
    /// Any delivery failure.
    async fn notify(&self, notification: &Notification) -> Result<(), BoxError>;
}

/// A notifier that only writes a tracing event; the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogNotifier;

#[async_trait]
impl Notifier for LogNotifier {
    async fn notify(&self, notification: &Notification) -> Result<(), BoxError> {
        tracing::info!(
            recipients = ?notification.recipients,
            subject = %notification.subject,
            "staff notification"
        );
        Ok(())
    }
}

/// A notifier that keeps every notification, for tests.
#[derive(Debug, Default)]
pub struct RecordingNotifier {
    sent: Mutex<Vec<Notification>>,
}

impl RecordingNotifier {
    /// An empty recorder.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything sent so far.
    #[must_use]
    pub fn sent(&self) -> Vec<Notification> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn notify(&self, notification: &Notification) -> Result<(), BoxError> {
        self.sent
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(notification.clone());
        Ok(())
    }
}

/// A callback that names the recipients for a kind.
pub type RecipientsFn = dyn Fn(&Kind) -> Vec<String> + Send + Sync;

/// Who gets staff notifications: a fixed list, or a callback per kind.
#[derive(Clone, Default)]
pub enum Recipients {
    /// Nobody: notifications are skipped (and a debug event says so).
    #[default]
    Nobody,
    /// The same addresses for every kind.
    Fixed(Vec<String>),
    /// A callback per kind (per site, per section).
    PerKind(Arc<RecipientsFn>),
}

impl Recipients {
    /// The recipients for `kind`.
    #[must_use]
    pub fn for_kind(&self, kind: &Kind) -> Vec<String> {
        match self {
            Self::Nobody => Vec::new(),
            Self::Fixed(list) => list.clone(),
            Self::PerKind(callback) => callback(kind),
        }
    }
}

impl fmt::Debug for Recipients {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Nobody => f.write_str("Nobody"),
            Self::Fixed(list) => f.debug_tuple("Fixed").field(list).finish(),
            Self::PerKind(_) => f.write_str("PerKind(..)"),
        }
    }
}

/// The notification templates: shipped with the crate, overridable at run time.
///
/// ```
/// use moderation_core::Templates;
/// let templates = Templates::new();
/// templates.set("staff_notification_subject.txt", "New {{ kind }}")?;
/// let subject = templates.render(
///     "staff_notification_subject.txt",
///     serde_json::json!({"kind": "blog.comment"}),
/// )?;
/// assert_eq!(subject, "New blog.comment");
/// # Ok::<(), moderation_core::ModerationError>(())
/// ```
#[derive(Debug)]
pub struct Templates {
    env: RwLock<Environment<'static>>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    /// The templates shipped in `templates/`.
    #[must_use]
    pub fn new() -> Self {
        let mut env = Environment::new();
        for (name, source) in [
            (
                SUBJECT_TEMPLATE,
                include_str!("../templates/staff_notification_subject.txt"),
            ),
            (
                BODY_TEMPLATE,
                include_str!("../templates/staff_notification_body.txt"),
            ),
        ] {
            // The shipped templates are checked by the crate's tests; a
            // syntax error would surface there, not here.
            if let Err(error) = env.add_template(name, source) {
                tracing::error!(%error, name, "shipped template does not parse");
            }
        }
        Self {
            env: RwLock::new(env),
        }
    }

    /// Replaces (or adds) a template.
    ///
    /// # Errors
    /// [`ModerationError::Template`] when the source does not parse; the
    /// previous template stays.
    pub fn set(&self, name: &str, source: &str) -> Result<(), ModerationError> {
        let mut env = self.env.write().unwrap_or_else(PoisonError::into_inner);
        env.add_template_owned(name.to_owned(), source.to_owned())
            .map_err(|error| ModerationError::Template {
                name: name.to_owned(),
                message: error.to_string(),
            })
    }

    /// Renders a template with a serde context.
    ///
    /// # Errors
    /// [`ModerationError::Template`] when the template is missing or fails.
    pub fn render(&self, name: &str, context: impl Serialize) -> Result<String, ModerationError> {
        let env = self.env.read().unwrap_or_else(PoisonError::into_inner);
        let failed = |error: minijinja::Error| ModerationError::Template {
            name: name.to_owned(),
            message: error.to_string(),
        };
        env.get_template(name)
            .map_err(failed)?
            .render(minijinja::value::Serde(context))
            .map_err(failed)
    }
}
