//! `ChannelNotifier`: a message backend that hands every notification to a
//! channel, for tests and for applications that deliver from their own task.

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::error::BoxError;
use crate::notify::{Notification, Notifier};

/// Sends each notification into an unbounded channel; fails when the
/// receiver is gone.
///
/// ```
/// use moderation_core::Notifier;
/// use moderation_core::workflow::ChannelNotifier;
/// let (notifier, mut received) = ChannelNotifier::new();
/// drop(notifier);
/// assert!(received.try_recv().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct ChannelNotifier {
    sender: mpsc::UnboundedSender<Notification>,
}

impl ChannelNotifier {
    /// A notifier and the receiving end of its channel.
    #[must_use]
    pub fn new() -> (Self, mpsc::UnboundedReceiver<Notification>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (Self { sender }, receiver)
    }
}

#[async_trait]
impl Notifier for ChannelNotifier {
    async fn notify(&self, notification: &Notification) -> Result<(), BoxError> {
        self.sender
            .send(notification.clone())
            .map_err(|_| BoxError::from("the notification channel's receiver was dropped"))
    }
}
