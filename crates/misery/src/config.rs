//! `MiseryBuilder`: every knob of the layer, checked once when it is built.

use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use rand::Rng;
use rand::rngs::StdRng;
use tokio::sync::Semaphore;

use crate::MiseryError;
use crate::ban_list::BanList;
use crate::layer::MiseryLayer;
use crate::logout::{LogoutHook, SharedLogoutHook};
use crate::punishment::Percentages;
use crate::shared::{Shared, SharedRng};

/// The fake ASP.NET-style error page shipped with the crate.
pub const FAKE_ERROR_PAGE: &str = include_str!("fake_error_page.html");

/// The default base delay S: miserable requests wait between S and 2S.
pub const DEFAULT_DELAY: Duration = Duration::from_secs(6);

/// The default cap on requests waiting out their delay at the same time.
pub const DEFAULT_MAX_DELAYED: usize = 1_000;

/// The longest base delay accepted; anything longer looks like a unit mistake.
const MAX_DELAY: Duration = Duration::from_secs(3_600);

/// Configures a [`MiseryLayer`]; [`build`](Self::build) checks the whole
/// configuration, so a bad one never reaches a running server.
#[derive(Debug)]
pub struct MiseryBuilder {
    bans: BanList,
    delay: Duration,
    percentages: Percentages,
    fake_error_page: &'static str,
    fake_error_status: StatusCode,
    exempt_paths: Vec<String>,
    exempt_staff: bool,
    exempt_groups: Vec<String>,
    max_delayed: usize,
    rng: Option<SharedRng>,
    logout: Option<SharedLogoutHook>,
}

impl MiseryBuilder {
    pub(crate) fn new(bans: BanList) -> Self {
        Self {
            bans,
            delay: DEFAULT_DELAY,
            percentages: Percentages::default(),
            fake_error_page: FAKE_ERROR_PAGE,
            fake_error_status: StatusCode::OK,
            exempt_paths: Vec::new(),
            exempt_staff: true,
            exempt_groups: Vec::new(),
            max_delayed: DEFAULT_MAX_DELAYED,
            rng: None,
            logout: None,
        }
    }

    /// Sets the base delay S; each miserable request waits uniformly in [S, 2S].
    #[must_use]
    pub fn delay(mut self, base: Duration) -> Self {
        self.delay = base;
        self
    }

    /// Sets the outcome percentages.
    #[must_use]
    pub fn percentages(mut self, percentages: Percentages) -> Self {
        self.percentages = percentages;
        self
    }

    /// Replaces the fake error page body.
    #[must_use]
    pub fn fake_error_page(mut self, html: &'static str) -> Self {
        self.fake_error_page = html;
        self
    }

    /// Sets the status of the fake error page (200 by default, so clients
    /// and monitoring see a "successful" broken page).
    #[must_use]
    pub fn fake_error_status(mut self, status: StatusCode) -> Self {
        self.fake_error_status = status;
        self
    }

    /// Exempts every path starting with `prefix` (e.g. `/health`, `/static/`).
    #[must_use]
    pub fn exempt_path(mut self, prefix: impl Into<String>) -> Self {
        self.exempt_paths.push(prefix.into());
        self
    }

    /// Whether staff ([`Actor::is_staff`](moderation_core::Actor::is_staff))
    /// are exempt; on by default so moderators can test a ban on themselves.
    #[must_use]
    pub fn exempt_staff(mut self, exempt: bool) -> Self {
        self.exempt_staff = exempt;
        self
    }

    /// Exempts members of a group ([`Actor::in_group`](moderation_core::Actor::in_group)).
    #[must_use]
    pub fn exempt_group(mut self, group: impl Into<String>) -> Self {
        self.exempt_groups.push(group.into());
        self
    }

    /// Caps how many miserable requests may wait out their delay at once;
    /// beyond it, requests get an error outcome immediately, so a banned
    /// client opening many connections cannot pile up timers and memory.
    #[must_use]
    pub fn max_delayed(mut self, max: usize) -> Self {
        self.max_delayed = max;
        self
    }

    /// Uses `rng` for delays and outcomes (seed it for reproducible tests).
    #[must_use]
    pub fn rng(mut self, rng: impl Rng + Send + 'static) -> Self {
        self.rng = Some(SharedRng::new(rng));
        self
    }

    /// Sets the hook that ends a session for the logout outcome. Without a
    /// hook, logout serves the real page and ends nothing.
    #[must_use]
    pub fn logout_hook(mut self, hook: impl LogoutHook) -> Self {
        self.logout = Some(SharedLogoutHook(Arc::new(hook)));
        self
    }

    /// Checks the configuration and builds the layer.
    ///
    /// # Errors
    /// [`MiseryError::PercentagesOverHundred`] when the outcome percentages
    /// add up to more than 100, [`MiseryError::DelayTooLong`] for a base
    /// delay over an hour.
    pub fn build(self) -> Result<MiseryLayer, MiseryError> {
        let percentages = self.percentages.validate()?;
        if self.delay > MAX_DELAY {
            return Err(MiseryError::DelayTooLong {
                seconds: self.delay.as_secs(),
            });
        }
        let rng = self.rng.unwrap_or_else(|| {
            let rng: StdRng = rand::make_rng();
            SharedRng::new(rng)
        });
        let max_delayed = self.max_delayed.min(Semaphore::MAX_PERMITS);
        Ok(MiseryLayer::from_shared(Arc::new(Shared {
            bans: self.bans,
            delay: self.delay,
            percentages,
            fake_error_page: self.fake_error_page,
            fake_error_status: self.fake_error_status,
            exempt_paths: self.exempt_paths,
            exempt_staff: self.exempt_staff,
            exempt_groups: self.exempt_groups,
            delayed: Arc::new(Semaphore::new(max_delayed)),
            rng,
            logout: self.logout,
        })))
    }
}
