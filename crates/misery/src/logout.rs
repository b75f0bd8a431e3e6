//! `LogoutHook`: how the application ends a session for the logout outcome.

use std::fmt;
use std::sync::Arc;

use http::{request, response};

/// Ends the session of a miserable request drawn for
/// [`Punishment::Logout`](crate::Punishment::Logout); the real page is then
/// served to the now-anonymous client.
///
/// Any `Fn(&mut http::request::Parts)` is a hook (revoke the token, remove
/// the user from the extensions); implement the trait to also touch the
/// response, e.g. a `Set-Cookie` that clears the session cookie.
pub trait LogoutHook: Send + Sync + 'static {
    /// Ends the session behind the request before the inner service sees it.
    fn end_session(&self, request: &mut request::Parts);

    /// Adjusts the real page's response. Does nothing by default.
    fn on_response(&self, response: &mut response::Parts) {
        let _ = response;
    }
}

impl<F> LogoutHook for F
where
    F: Fn(&mut request::Parts) + Send + Sync + 'static,
{
    fn end_session(&self, request: &mut request::Parts) {
        self(request);
    }
}

/// A shared hook with a `Debug` impl, so configs holding one stay `Debug`.
#[derive(Clone)]
pub(crate) struct SharedLogoutHook(pub(crate) Arc<dyn LogoutHook>);

impl fmt::Debug for SharedLogoutHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LogoutHook")
    }
}
