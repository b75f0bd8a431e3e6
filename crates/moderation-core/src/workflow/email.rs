//! `EmailNotifier`: notifications as e-mail through lettre (feature `email`).

use std::fmt;

use async_trait::async_trait;
use lettre::message::Mailbox;
use lettre::{AsyncTransport, Message};

use crate::error::BoxError;
use crate::notify::{Notification, Notifier};

/// Sends each notification as one plain-text e-mail per recipient through
/// any lettre [`AsyncTransport`]: SMTP in production
/// (`AsyncSmtpTransport<Tokio1Executor>`, with the TLS feature of lettre
/// your deployment needs), lettre's stub transport in tests.
///
/// A recipient that is not an e-mail address fails the delivery; the
/// workflow logs it, retries per its policy and keeps the decision.
///
/// ```
/// use lettre::transport::stub::AsyncStubTransport;
/// use moderation_core::workflow::EmailNotifier;
///
/// let from = "Moderation <moderation@example.org>".parse()?;
/// let notifier = EmailNotifier::new(AsyncStubTransport::new_ok(), from);
/// # let _ = notifier;
/// # Ok::<(), lettre::address::AddressError>(())
/// ```
pub struct EmailNotifier<T> {
    transport: T,
    from: Mailbox,
}

impl<T> EmailNotifier<T> {
    /// Sends through `transport` from `from`.
    pub fn new(transport: T, from: Mailbox) -> Self {
        Self { transport, from }
    }

    /// The transport, to inspect a stub's messages in tests.
    pub fn transport(&self) -> &T {
        &self.transport
    }
}

impl<T> fmt::Debug for EmailNotifier<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailNotifier")
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl<T> Notifier for EmailNotifier<T>
where
    T: AsyncTransport + Send + Sync,
    T::Error: std::error::Error + Send + Sync + 'static,
{
    async fn notify(&self, notification: &Notification) -> Result<(), BoxError> {
        for recipient in &notification.recipients {
            let to: Mailbox = recipient.parse()?;
            let message = Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(notification.subject.clone())
                .body(notification.body.clone())?;
            self.transport.send(message).await?;
        }
        Ok(())
    }
}
