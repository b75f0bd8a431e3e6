//! `AuditTrail`, the entry point: record, query, sock-puppet lookup,
//! retention, export and erasure.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use ipnet::IpNet;
use moderation_core::{Clock, ModerationLog, ObjectRef, Page, PageRequest, SystemClock, UserId};
use serde::{Deserialize, Serialize};

use crate::error::AuditError;
use crate::gdpr::{self, ErasureReport, UserExport};
use crate::ip_key::IpRange;
use crate::privacy::PrivacyMode;
use crate::query::AuditQuery;
use crate::record::{AuditRecord, NewAuditRecord};
use crate::retention::{self, DEFAULT_PURGE_BATCH, IpHolder, PurgeReport};
use crate::store::{AuditStore, SockPuppet};

/// The most accounts a sock-puppet lookup returns.
pub const MAX_SOCK_PUPPETS: u32 = 1_000;

/// One action to record: [`AuditTrail::record`]'s arguments as a value, for
/// [`AuditTrail::record_many`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Who acted; `None` for an anonymous visitor.
    pub actor: Option<UserId>,
    /// The client IP, resolved by
    /// [`ClientIpResolver`](crate::ClientIpResolver).
    pub ip: Option<IpAddr>,
    /// On what.
    pub target: ObjectRef,
    /// What, as a verb (`post.create`, `user.register`...).
    pub action: String,
    /// Structured detail (`null` when there is none).
    pub detail: serde_json::Value,
}

/// Who did what, from where: the audit trail (SPEC E1-E6).
///
/// It records actions through an [`AuditStore`], applying the
/// [`PrivacyMode`] to every IP before it is stored; answers queries by user,
/// IP or network, target and time; finds accounts sharing addresses; purges
/// IPs older than `ip_store_time`; and exports or erases one user's data,
/// moderation log included.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use moderation_audit_trail::{AuditQuery, AuditTrail, MemoryAuditStore};
/// use moderation_core::{Kind, MemoryModerationLog, ObjectRef, PageRequest, UserId};
///
/// let trail = AuditTrail::builder(
///     Arc::new(MemoryAuditStore::new()),
///     Arc::new(MemoryModerationLog::new()),
/// )
/// .build();
/// let post = ObjectRef::new(Kind::new("forum.post")?, 12_i64);
/// let alice = UserId::from(7_i64);
///
/// // Anonymous visitors are not recorded by default.
/// let none = trail
///     .record(None, Some("203.0.113.7".parse()?), post.clone(), "post.view", serde_json::Value::Null)
///     .await?;
/// assert!(none.is_none());
///
/// trail
///     .record(Some(&alice), Some("203.0.113.7".parse()?), post, "post.create", serde_json::Value::Null)
///     .await?;
/// let from_net = AuditQuery::by_ip(trail.ip_range("203.0.113.0/24".parse()?)?);
/// let page = trail.records(&from_net, PageRequest::first(20)).await?;
/// assert_eq!(page.items[0].actor, Some(alice));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct AuditTrail {
    store: Arc<dyn AuditStore>,
    log: Arc<dyn ModerationLog>,
    clock: Arc<dyn Clock>,
    privacy: PrivacyMode,
    record_anonymous: bool,
    ip_store_days: u32,
    purge_batch: u32,
    holders: Vec<Arc<dyn IpHolder>>,
}

/// Settings for [`AuditTrail`], built step by step.
#[derive(Debug)]
pub struct AuditTrailBuilder {
    trail: AuditTrail,
}

impl AuditTrailBuilder {
    /// Where "now" comes from (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.trail.clock = clock;
        self
    }

    /// What is kept of each IP (default: [`PrivacyMode::Full`]).
    #[must_use]
    pub fn privacy(mut self, privacy: PrivacyMode) -> Self {
        self.trail.privacy = privacy;
        self
    }

    /// Also record anonymous visitors' actions, keyed by their IP (default:
    /// off, as Misago: anonymous actions are not recorded).
    #[must_use]
    pub fn record_anonymous(mut self, record: bool) -> Self {
        self.trail.record_anonymous = record;
        self
    }

    /// Keep IPs this many days; 0 (the default) keeps them forever and
    /// makes [`AuditTrail::purge`] report that retention is disabled.
    #[must_use]
    pub fn ip_store_time(mut self, days: u32) -> Self {
        self.trail.ip_store_days = days;
        self
    }

    /// Rows per purge transaction (default [`DEFAULT_PURGE_BATCH`]); smaller
    /// batches keep the application's writes waiting less.
    #[must_use]
    pub fn purge_batch(mut self, rows: u32) -> Self {
        self.trail.purge_batch = rows.max(1);
        self
    }

    /// Another place keeping IPs, which retention and erasure clear too
    /// (the SQL stores' own tables, a registration IP column).
    #[must_use]
    pub fn ip_holder(mut self, holder: Arc<dyn IpHolder>) -> Self {
        self.trail.holders.push(holder);
        self
    }

    /// The trail.
    #[must_use]
    pub fn build(self) -> AuditTrail {
        self.trail
    }
}

impl AuditTrail {
    /// A builder over `store` and the moderation `log` (exported and
    /// anonymised with the user's audit records).
    #[must_use]
    pub fn builder(store: Arc<dyn AuditStore>, log: Arc<dyn ModerationLog>) -> AuditTrailBuilder {
        AuditTrailBuilder {
            trail: Self {
                store,
                log,
                clock: Arc::new(SystemClock),
                privacy: PrivacyMode::Full,
                record_anonymous: false,
                ip_store_days: 0,
                purge_batch: DEFAULT_PURGE_BATCH,
                holders: Vec::new(),
            },
        }
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Arc<dyn AuditStore> {
        &self.store
    }

    /// The privacy mode.
    #[must_use]
    pub fn privacy(&self) -> &PrivacyMode {
        &self.privacy
    }

    /// The record `event` becomes now, or `None` when nothing is recorded
    /// for it (an anonymous actor, unless anonymous actions are recorded by
    /// IP and an IP is known). The privacy mode is applied here.
    #[must_use]
    pub fn prepare(&self, event: AuditEvent) -> Option<NewAuditRecord> {
        if event.actor.is_none() && !(self.record_anonymous && event.ip.is_some()) {
            return None;
        }
        Some(NewAuditRecord {
            actor: event.actor,
            ip: event.ip.map(|ip| self.privacy.protect(ip)),
            target: event.target,
            action: event.action,
            detail: event.detail,
            at: self.clock.now(),
        })
    }

    /// Records that `actor`, from `ip`, did `action` to `target` (SPEC E1).
    ///
    /// Returns `None`, storing nothing, for an anonymous actor unless the
    /// trail records anonymous actions (and then only with an IP).
    ///
    /// # Errors
    /// [`AuditError::Invalid`] for a malformed action verb or id (nothing is
    /// written); [`AuditError::Store`] when the store fails.
    #[tracing::instrument(level = "debug", skip(self, ip, target, detail))]
    pub async fn record(
        &self,
        actor: Option<&UserId>,
        ip: Option<IpAddr>,
        target: ObjectRef,
        action: &str,
        detail: serde_json::Value,
    ) -> Result<Option<AuditRecord>, AuditError> {
        let event = AuditEvent {
            actor: actor.cloned(),
            ip,
            target,
            action: action.to_owned(),
            detail,
        };
        Ok(self.record_many(vec![event]).await?.into_iter().next())
    }

    /// Records many events in one store transaction; anonymous ones are
    /// skipped as by [`record`](Self::record). Returns the stored records in
    /// input order.
    ///
    /// # Errors
    /// As [`record`](Self::record); one invalid event means none is stored.
    #[tracing::instrument(level = "debug", skip_all, fields(count = events.len()))]
    pub async fn record_many(
        &self,
        events: Vec<AuditEvent>,
    ) -> Result<Vec<AuditRecord>, AuditError> {
        let records: Vec<NewAuditRecord> =
            events.into_iter().filter_map(|e| self.prepare(e)).collect();
        if records.is_empty() {
            return Ok(Vec::new());
        }
        self.store.insert(records).await
    }

    /// The key range finding records from `network` under the privacy mode
    /// (see [`PrivacyMode::range`]).
    ///
    /// # Errors
    /// [`AuditError::NetworkInKeyedMode`] for a network wider than one
    /// address in keyed mode.
    pub fn ip_range(&self, network: IpNet) -> Result<IpRange, AuditError> {
        self.privacy.range(network)
    }

    /// The key range finding records from exactly `ip` under the privacy
    /// mode (in truncated mode: from its /24 or /48).
    #[must_use]
    pub fn exact_ip(&self, ip: IpAddr) -> IpRange {
        self.privacy.exact(ip)
    }

    /// One page of records matching `query`, newest first (SPEC E3).
    ///
    /// # Errors
    /// [`AuditError::Store`] when the store fails.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn records(
        &self,
        query: &AuditQuery,
        page: PageRequest,
    ) -> Result<Page<AuditRecord>, AuditError> {
        self.store.records(query, page).await
    }

    /// Other accounts seen from the addresses `user` used in the last
    /// `window` (IPv6 grouped by /64), most shared addresses first, then
    /// most overlap; at most `limit` (up to [`MAX_SOCK_PUPPETS`]).
    ///
    /// # Errors
    /// [`AuditError::Store`] when the store fails.
    #[tracing::instrument(level = "debug", skip(self))]
    pub async fn sock_puppets(
        &self,
        user: &UserId,
        window: Duration,
        limit: u32,
    ) -> Result<Vec<SockPuppet>, AuditError> {
        let until = self.clock.now() + Duration::microseconds(1);
        let since = until - window;
        self.store
            .sock_puppets(user, since, until, limit.clamp(1, MAX_SOCK_PUPPETS))
            .await
    }

    /// The retention cut-off now: records and IPs at or before it are
    /// purged. `None` when `ip_store_time` is 0 (retention disabled).
    #[must_use]
    pub fn cutoff(&self) -> Option<DateTime<Utc>> {
        (self.ip_store_days > 0)
            .then(|| self.clock.now() - Duration::days(i64::from(self.ip_store_days)))
    }

    /// Purges audit records and IPs older than `ip_store_time` (SPEC E4), in
    /// batches of one transaction each, safe while the application writes.
    /// With `dry_run` it only counts. With `ip_store_time` 0 it does nothing
    /// and the report says retention is disabled.
    ///
    /// # Errors
    /// [`AuditError::Store`]; completed batches stay done and a re-run
    /// finishes the work.
    #[tracing::instrument(level = "info", skip(self), fields(days = self.ip_store_days))]
    pub async fn purge(&self, dry_run: bool) -> Result<PurgeReport, AuditError> {
        let Some(cutoff) = self.cutoff() else {
            tracing::info!("retention disabled (ip_store_time = 0): nothing purged");
            return Ok(PurgeReport::disabled(dry_run));
        };
        let report = retention::purge(
            self.store.as_ref(),
            &self.holders,
            cutoff,
            self.purge_batch,
            dry_run,
        )
        .await?;
        tracing::info!(%report, "purge finished");
        Ok(report)
    }

    /// Everything about `user`: their audit records and their moderation
    /// log entries (SPEC E6).
    ///
    /// # Errors
    /// [`AuditError::Store`] when a store fails.
    #[tracing::instrument(level = "info", skip(self))]
    pub async fn export_user(&self, user: &UserId) -> Result<UserExport, AuditError> {
        gdpr::export(
            self.store.as_ref(),
            self.log.as_ref(),
            user,
            self.clock.now(),
        )
        .await
    }

    /// Erases `user`: deletes their audit records, clears their IPs in every
    /// holder, and keeps their moderation log entries with the actor and IP
    /// removed (SPEC E6).
    ///
    /// # Errors
    /// [`AuditError::Store`]; every step is idempotent, so run it again.
    #[tracing::instrument(level = "info", skip(self))]
    pub async fn erase_user(&self, user: &UserId) -> Result<ErasureReport, AuditError> {
        gdpr::erase(self.store.as_ref(), self.log.as_ref(), &self.holders, user).await
    }
}
