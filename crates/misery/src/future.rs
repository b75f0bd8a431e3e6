//! `ResponseFuture`: the response of [`Misery`](crate::Misery), without boxing.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use http::Response;
use pin_project_lite::pin_project;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Sleep;

use crate::logout::LogoutHook;
use crate::shared::Canned;

pin_project! {
    /// The future returned by [`Misery`](crate::Misery): the inner service's
    /// future as is for normal requests; for miserable ones, a timer first,
    /// then either the inner future or a response made by the layer.
    pub struct ResponseFuture<F> {
        #[pin]
        delay: Option<Sleep>,
        #[pin]
        inner: Option<F>,
        canned: Option<Canned>,
        // Held while the delay runs: it is what the concurrency cap counts.
        permit: Option<OwnedSemaphorePermit>,
        logout: Option<Arc<dyn LogoutHook>>,
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("delayed", &self.delay.is_some())
            .field("canned", &self.canned)
            .finish_non_exhaustive()
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn pass_through(inner: F) -> Self {
        Self {
            delay: None,
            inner: Some(inner),
            canned: None,
            permit: None,
            logout: None,
        }
    }

    pub(crate) fn canned(canned: Option<Canned>) -> Self {
        Self {
            delay: None,
            inner: None,
            canned,
            permit: None,
            logout: None,
        }
    }

    pub(crate) fn delayed(
        delay: Duration,
        permit: OwnedSemaphorePermit,
        inner: Option<F>,
        canned: Option<Canned>,
        logout: Option<Arc<dyn LogoutHook>>,
    ) -> Self {
        Self {
            delay: Some(tokio::time::sleep(delay)),
            inner,
            canned,
            permit: Some(permit),
            logout,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: From<&'static str>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Some(delay) = this.delay.as_mut().as_pin_mut() {
            ready!(delay.poll(cx));
            this.delay.set(None);
            // The wait is over: free the slot for the next delayed request.
            this.permit.take();
        }
        if let Some(inner) = this.inner.as_pin_mut() {
            let response = ready!(inner.poll(cx))?;
            let Some(hook) = this.logout.take() else {
                return Poll::Ready(Ok(response));
            };
            let (mut parts, body) = response.into_parts();
            hook.on_response(&mut parts);
            return Poll::Ready(Ok(Response::from_parts(parts, body)));
        }
        let canned = this.canned.unwrap_or(Canned::BLANK);
        Poll::Ready(Ok(canned.into_response()))
    }
}
