//! `MiseryLayer`: wraps services in [`Misery`].

use std::sync::Arc;

use tower_layer::Layer;

use crate::ban_list::BanList;
use crate::config::MiseryBuilder;
use crate::service::Misery;
use crate::shared::Shared;

/// A tower layer that punishes requests from clients on the [`BanList`]
/// with [`BanKind::Misery`](crate::BanKind::Misery) and passes every other
/// request straight through.
///
/// It reads the [`ClientIp`](moderation_core::http::ClientIp) and the user
/// ([`UserId`](moderation_core::UserId), or the user of an
/// [`Actor`](moderation_core::Actor)) from the request extensions: put the
/// client IP resolver and authentication in front of it.
#[derive(Debug, Clone)]
pub struct MiseryLayer {
    shared: Arc<Shared>,
}

impl MiseryLayer {
    /// Starts configuring a layer for `bans`.
    #[must_use]
    pub fn builder(bans: BanList) -> MiseryBuilder {
        MiseryBuilder::new(bans)
    }

    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Self { shared }
    }
}

impl<S> Layer<S> for MiseryLayer {
    type Service = Misery<S>;

    fn layer(&self, inner: S) -> Misery<S> {
        Misery::new(inner, Arc::clone(&self.shared))
    }
}
