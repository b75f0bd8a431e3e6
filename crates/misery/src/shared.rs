//! State shared by every clone of the layer and service: the decision whether
//! a request is miserable, and the draws that punish it.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use http::{HeaderValue, Request, Response, StatusCode, header};
use moderation_core::http::ClientIp;
use moderation_core::{Actor, UserId};
use rand::{Rng, RngExt};
use tokio::sync::Semaphore;

use crate::ban_list::BanList;
use crate::entry::BanKind;
use crate::logout::SharedLogoutHook;
use crate::punishment::{Percentages, Punishment};

/// The injectable random number generator, shared by all clones.
#[derive(Clone)]
pub(crate) struct SharedRng(Arc<Mutex<Box<dyn Rng + Send>>>);

impl SharedRng {
    pub(crate) fn new(rng: impl Rng + Send + 'static) -> Self {
        Self(Arc::new(Mutex::new(Box::new(rng))))
    }
}

impl std::fmt::Debug for SharedRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Rng")
    }
}

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) bans: BanList,
    pub(crate) delay: Duration,
    pub(crate) percentages: Percentages,
    pub(crate) fake_error_page: &'static str,
    pub(crate) fake_error_status: StatusCode,
    pub(crate) exempt_paths: Vec<String>,
    pub(crate) exempt_staff: bool,
    pub(crate) exempt_groups: Vec<String>,
    pub(crate) delayed: Arc<Semaphore>,
    pub(crate) rng: SharedRng,
    pub(crate) logout: Option<SharedLogoutHook>,
}

impl Shared {
    /// Whether `request` is to be punished. The ban lookup comes first
    /// because almost every request is not banned and it is the cheapest
    /// test that settles them; exemptions are only read for banned ones.
    pub(crate) fn is_miserable<B>(&self, request: &Request<B>) -> bool {
        let extensions = request.extensions();
        let ip = extensions.get::<ClientIp>().map(|ip| ip.ip());
        let actor = extensions.get::<Actor>();
        let user = extensions
            .get::<UserId>()
            .or_else(|| actor.and_then(|actor| actor.user.as_ref()));
        if !self.bans.is_banned(ip, user, BanKind::Misery) {
            return false;
        }
        let path = request.uri().path();
        if self
            .exempt_paths
            .iter()
            .any(|prefix| path.starts_with(prefix.as_str()))
        {
            return false;
        }
        !actor.is_some_and(|actor| {
            (self.exempt_staff && actor.is_staff())
                || self.exempt_groups.iter().any(|group| actor.in_group(group))
        })
    }

    fn with_rng<T>(&self, f: impl FnOnce(&mut dyn Rng) -> T) -> T {
        // Only miserable requests take this lock, and only for two draws.
        let mut rng = self.rng.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(rng.as_mut())
    }

    /// The delay, uniform in [S, 2S], and the outcome for one request.
    pub(crate) fn draw(&self) -> (Duration, Punishment) {
        let base = self.delay;
        self.with_rng(|rng| {
            let extra = rng.random_range(0.0..=1.0_f64);
            (base + base.mul_f64(extra), self.percentages.draw(rng))
        })
    }

    /// An error outcome for a request over the cap on delayed requests.
    pub(crate) fn immediate_error(&self) -> Punishment {
        const ERRORS: [Punishment; 3] = [
            Punishment::Forbidden,
            Punishment::NotFound,
            Punishment::FakeErrorPage,
        ];
        let index = self.with_rng(|rng| rng.random_range(0..ERRORS.len()));
        ERRORS.get(index).copied().unwrap_or(Punishment::Forbidden)
    }

    /// The response served instead of the real page, when there is one.
    pub(crate) fn canned(&self, punishment: Punishment) -> Option<Canned> {
        let (status, body) = match punishment {
            Punishment::Forbidden => (StatusCode::FORBIDDEN, ""),
            Punishment::NotFound => (StatusCode::NOT_FOUND, ""),
            Punishment::BlankPage => (StatusCode::OK, ""),
            Punishment::FakeErrorPage => (self.fake_error_status, self.fake_error_page),
            Punishment::Logout | Punishment::RealPage => return None,
        };
        Some(Canned { status, body })
    }
}

/// A response made by the layer itself: a status and a static HTML body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Canned {
    status: StatusCode,
    body: &'static str,
}

impl Canned {
    /// An empty `200` page, the answer when nothing better is known.
    pub(crate) const BLANK: Self = Self {
        status: StatusCode::OK,
        body: "",
    };

    pub(crate) fn into_response<B: From<&'static str>>(self) -> Response<B> {
        let mut response = Response::new(B::from(self.body));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        response
    }
}
