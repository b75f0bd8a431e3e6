//! `ClientIpLayer`: tower middleware that resolves the client address and
//! inserts [`ClientIp`] into the request extensions, ahead of misery.

use std::net::IpAddr;
use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Extensions, Request};
use moderation_core::http::{ClientIp, ClientIpResolver};
use tower_layer::Layer;
use tower_service::Service;

/// Reads the TCP peer address from the extensions the server put there
/// (axum's `ConnectInfo<SocketAddr>`, or your own type with hyper).
pub type PeerAddr = fn(&Extensions) -> Option<IpAddr>;

/// Wraps services in [`ResolveClientIp`].
///
/// ```
/// use std::net::IpAddr;
/// use moderation_misery::{ClientIpLayer, ClientIpResolver};
///
/// #[derive(Clone)]
/// struct Peer(IpAddr); // what the server inserts per connection
///
/// let layer = ClientIpLayer::new(
///     ClientIpResolver::with_trusted_proxies(["10.0.0.0/8".parse()?]),
///     |extensions| extensions.get::<Peer>().map(|peer| peer.0),
/// );
/// # let _ = layer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientIpLayer {
    resolver: Arc<ClientIpResolver>,
    peer: PeerAddr,
}

impl ClientIpLayer {
    /// A layer resolving with `resolver` from the peer address `peer` finds.
    #[must_use]
    pub fn new(resolver: ClientIpResolver, peer: PeerAddr) -> Self {
        Self {
            resolver: Arc::new(resolver),
            peer,
        }
    }
}

impl<S> Layer<S> for ClientIpLayer {
    type Service = ResolveClientIp<S>;

    fn layer(&self, inner: S) -> ResolveClientIp<S> {
        ResolveClientIp {
            inner,
            resolver: Arc::clone(&self.resolver),
            peer: self.peer,
        }
    }
}

/// Inserts the resolved [`ClientIp`] into each request, then calls the inner
/// service. A request without a peer address gets no `ClientIp`, so nothing
/// downstream can mistake a guess for the client.
#[derive(Debug, Clone)]
pub struct ResolveClientIp<S> {
    inner: S,
    resolver: Arc<ClientIpResolver>,
    peer: PeerAddr,
}

impl<S, B> Service<Request<B>> for ResolveClientIp<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    // Nothing to do after the call, so the inner future is returned as is.
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        if let Some(peer) = (self.peer)(request.extensions()) {
            let _: ClientIp = self.resolver.insert_client_ip(&mut request, peer);
        }
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;
    use tower::{ServiceExt, service_fn};

    #[derive(Clone)]
    struct Peer(IpAddr);

    async fn echo(request: Request<()>) -> Result<Option<ClientIp>, Infallible> {
        Ok(request.extensions().get::<ClientIp>().copied())
    }

    fn layer() -> ClientIpLayer {
        ClientIpLayer::new(
            ClientIpResolver::with_trusted_proxies(["10.0.0.0/8".parse().unwrap()]),
            |extensions| extensions.get::<Peer>().map(|peer| peer.0),
        )
    }

    #[tokio::test]
    async fn layer_inserts_the_resolved_client_ip() {
        let mut request = Request::builder()
            .header("x-forwarded-for", "6.6.6.6, 203.0.113.7")
            .body(())
            .unwrap();
        request
            .extensions_mut()
            .insert(Peer("10.0.0.2".parse().unwrap()));
        let ip = layer()
            .layer(service_fn(echo))
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(ip.map(ClientIp::ip), Some("203.0.113.7".parse().unwrap()));
    }

    #[tokio::test]
    async fn without_a_peer_no_client_ip_is_inserted() {
        let request = Request::builder()
            .header("x-forwarded-for", "203.0.113.7")
            .body(())
            .unwrap();
        let ip = layer()
            .layer(service_fn(echo))
            .oneshot(request)
            .await
            .unwrap();
        assert_eq!(ip, None);
    }
}
