//! `BanRefresher`: keeps a `BanList` in step with a `BanStore`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tracing::Instrument;

use crate::MiseryError;
use crate::ban_list::BanList;
use crate::store::BanStore;

/// Reloads a [`BanList`] from a [`BanStore`] every `interval`, or at once
/// when its signal is notified (after a local change, or from a database
/// notification channel in a multi-process deployment).
///
/// A failed reload is logged and the previous snapshot stays in force:
/// a store outage must not lift every ban.
#[derive(Debug, Clone)]
pub struct BanRefresher {
    list: BanList,
    store: Arc<dyn BanStore>,
    interval: Duration,
    signal: Arc<Notify>,
}

impl BanRefresher {
    /// The default refresh interval: changes reach every process within 30 s.
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);

    /// A refresher for `list` from `store`, with its own signal and the
    /// default interval.
    #[must_use]
    pub fn new(list: BanList, store: Arc<dyn BanStore>) -> Self {
        Self {
            list,
            store,
            interval: Self::DEFAULT_INTERVAL,
            signal: Arc::new(Notify::new()),
        }
    }

    /// Sets how often the store is read when nothing signals a change.
    #[must_use]
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Uses `signal` (e.g. [`MemoryBanStore::changes`](crate::MemoryBanStore::changes))
    /// to reload at once.
    #[must_use]
    pub fn with_signal(mut self, signal: Arc<Notify>) -> Self {
        self.signal = signal;
        self
    }

    /// The signal that triggers an immediate reload.
    #[must_use]
    pub fn signal(&self) -> Arc<Notify> {
        Arc::clone(&self.signal)
    }

    /// Reloads once and returns how many entries the list now holds.
    ///
    /// # Errors
    /// The store's error; the list is left as it was.
    pub async fn refresh_once(&self) -> Result<usize, MiseryError> {
        let entries = self.store.list().await?;
        let count = entries.len();
        self.list.replace(entries);
        Ok(count)
    }

    /// Reloads forever: at start, then on every tick or signal. Between
    /// reloads it also wakes when the earliest ban of the list expires and
    /// rebuilds the index without it ([`BanList::drop_expired`]), so expiry
    /// never costs lookups more than until then. Spawn it
    /// (`tokio::spawn(refresher.run())`); drop the task to stop it.
    pub async fn run(self) {
        loop {
            let reload = self
                .refresh_once()
                .instrument(tracing::debug_span!("ban_list_refresh"));
            if let Err(error) = reload.await {
                tracing::warn!(%error, "ban list refresh failed; keeping the previous list");
            }
            let next_reload = tokio::time::Instant::now() + self.interval;
            loop {
                let now = tokio::time::Instant::now();
                if now >= next_reload {
                    break;
                }
                let mut wait = next_reload - now;
                let until_expiry = self.until_next_expiry();
                let expiry_first = until_expiry.is_some_and(|until| until < wait);
                if let Some(until) = until_expiry {
                    wait = wait.min(until);
                }
                tokio::select! {
                    () = tokio::time::sleep(wait) => {
                        if expiry_first {
                            self.list.drop_expired();
                        }
                    }
                    () = self.signal.notified() => break,
                }
            }
        }
    }

    /// How long until the list's earliest ban expires, by its clock; zero
    /// when it already has.
    fn until_next_expiry(&self) -> Option<Duration> {
        let at = self.list.next_expiry()?;
        let now = self.list.clock().now();
        Some((at - now).to_std().unwrap_or(Duration::ZERO))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{BanKind, BanTarget};
    use crate::store::NewBan;
    use crate::{MemoryBanStore, parse_network};
    use moderation_core::{SystemClock, UserId};

    fn ban(target: &str) -> NewBan {
        NewBan {
            target: BanTarget::Network(parse_network(target).unwrap()),
            kind: BanKind::Misery,
            reason: "flooding".to_owned(),
            created_by: UserId::from(1_i64),
            expires_at: None,
        }
    }

    #[tokio::test(start_paused = true)]
    async fn change_signal_reloads_at_once_and_interval_reloads_later() {
        let store = Arc::new(MemoryBanStore::new(Arc::new(SystemClock)));
        let list = BanList::default();
        let refresher = BanRefresher::new(list.clone(), store.clone())
            .with_interval(Duration::from_secs(3600))
            .with_signal(store.changes());
        let task = tokio::spawn(refresher.run());
        tokio::task::yield_now().await;
        let ip = Some("203.0.113.7".parse().unwrap());
        assert!(!list.is_banned(ip, None, BanKind::Misery));

        let added = store.add(ban("203.0.113.0/24")).await.unwrap();
        // The signal wakes the task; no clock time needs to pass.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(list.is_banned(ip, None, BanKind::Misery));

        store.remove(added.id).await.unwrap();
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        assert!(!list.is_banned(ip, None, BanKind::Misery));
        task.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn interval_reload_picks_up_changes_without_a_signal() {
        let store = Arc::new(MemoryBanStore::new(Arc::new(SystemClock)));
        let list = BanList::default();
        let task = tokio::spawn(
            BanRefresher::new(list.clone(), store.clone())
                .with_interval(Duration::from_secs(5))
                .run(),
        );
        tokio::task::yield_now().await;
        store.add(ban("198.51.100.0/24")).await.unwrap();
        let ip = Some("198.51.100.1".parse().unwrap());
        assert!(!list.is_banned(ip, None, BanKind::Misery));
        tokio::time::sleep(Duration::from_secs(6)).await;
        assert!(list.is_banned(ip, None, BanKind::Misery));
        task.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn the_index_drops_a_ban_when_it_expires_without_a_reload() {
        let start = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2025, 1, 1, 12, 0, 0).unwrap();
        let clock = Arc::new(moderation_core::ManualClock::new(start));
        let store = Arc::new(MemoryBanStore::new(clock.clone()));
        let mut expiring = ban("198.51.100.0/24");
        expiring.expires_at = Some(start + chrono::Duration::minutes(1));
        store.add(expiring).await.unwrap();
        store.add(ban("203.0.113.0/24")).await.unwrap();
        let list = BanList::new(clock.clone());
        let task = tokio::spawn(
            BanRefresher::new(list.clone(), store.clone())
                .with_interval(Duration::from_secs(3600))
                .run(),
        );
        tokio::task::yield_now().await;
        assert_eq!(
            list.next_expiry(),
            Some(start + chrono::Duration::minutes(1))
        );
        clock.advance(chrono::Duration::minutes(1));
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert_eq!(list.next_expiry(), None, "rebuilt without the expired ban");
        assert_eq!(list.snapshot().len(), 2, "the expired ban is still listed");
        assert!(!list.is_banned(Some("198.51.100.1".parse().unwrap()), None, BanKind::Misery));
        assert!(list.is_banned(Some("203.0.113.1".parse().unwrap()), None, BanKind::Misery));
        task.abort();
    }

    #[tokio::test]
    async fn removing_an_unknown_ban_is_an_error() {
        let store = MemoryBanStore::new(Arc::new(SystemClock));
        assert!(matches!(
            store.remove(9).await,
            Err(MiseryError::UnknownBan { id: 9 })
        ));
    }
}
