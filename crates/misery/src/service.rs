//! `Misery<S>`: the service that delays and punishes miserable requests.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{Request, Response};
use tower_service::Service;

use crate::future::ResponseFuture;
use crate::punishment::Punishment;
use crate::shared::Shared;

/// The service built by [`MiseryLayer`](crate::MiseryLayer).
///
/// A request that is not miserable goes to the inner service untouched and
/// its future is wrapped without boxing or allocating.
#[derive(Debug, Clone)]
pub struct Misery<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Misery<S> {
    pub(crate) fn new(inner: S, shared: Arc<Shared>) -> Self {
        Self { inner, shared }
    }

    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Unwraps the inner service.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Misery<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<&'static str>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        if !self.shared.is_miserable(&request) {
            return ResponseFuture::pass_through(self.inner.call(request));
        }
        self.punish(request)
    }
}

impl<S> Misery<S> {
    fn punish<ReqBody, ResBody>(&mut self, request: Request<ReqBody>) -> ResponseFuture<S::Future>
    where
        S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    {
        let shared = &self.shared;
        let span = tracing::info_span!("misery", path = %request.uri().path());
        let _entered = span.enter();
        let Ok(permit) = Arc::clone(&shared.delayed).try_acquire_owned() else {
            let punishment = shared.immediate_error();
            tracing::info!(?punishment, "too many delayed requests; punishing at once");
            return ResponseFuture::canned(shared.canned(punishment));
        };
        let (delay, punishment) = shared.draw();
        tracing::info!(
            ?punishment,
            delay_ms = delay.as_millis(),
            "miserable request"
        );
        let canned = shared.canned(punishment);
        if canned.is_some() {
            return ResponseFuture::delayed(delay, permit, None, canned, None);
        }
        let (request, hook) = match (punishment, &shared.logout) {
            (Punishment::Logout, Some(hook)) => {
                let (mut parts, body) = request.into_parts();
                hook.0.end_session(&mut parts);
                (Request::from_parts(parts, body), Some(Arc::clone(&hook.0)))
            }
            _ => (request, None),
        };
        // The inner future is created now but only polled after the delay,
        // so the real page is computed late, as the user will see it.
        let inner = self.inner.call(request);
        ResponseFuture::delayed(delay, permit, Some(inner), None, hook)
    }
}
