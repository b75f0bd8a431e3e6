//! `MemoryBanStore`: the reference `BanStore`, kept in process memory.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use moderation_core::Clock;
use tokio::sync::Notify;

use crate::MiseryError;
use crate::entry::BanEntry;
use crate::store::{BanStore, NewBan};

/// Bans kept in memory; every change wakes the [`changes`](Self::changes)
/// signal so a [`BanRefresher`](crate::BanRefresher) reloads at once.
#[derive(Debug)]
pub struct MemoryBanStore {
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
    changes: Arc<Notify>,
}

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    bans: Vec<BanEntry>,
}

impl MemoryBanStore {
    /// An empty store stamping bans with `clock`.
    #[must_use]
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            state: Mutex::new(State::default()),
            changes: Arc::new(Notify::new()),
        }
    }

    /// The signal woken after every change; give it to
    /// [`BanRefresher::with_signal`](crate::BanRefresher::with_signal).
    #[must_use]
    pub fn changes(&self) -> Arc<Notify> {
        Arc::clone(&self.changes)
    }

    fn with_state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        // A panic while holding the lock cannot leave a half-written ban:
        // every mutation below is a single push or remove.
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut state)
    }
}

#[async_trait]
impl BanStore for MemoryBanStore {
    async fn add(&self, ban: NewBan) -> Result<BanEntry, MiseryError> {
        let created_at = self.clock.now();
        let entry = self.with_state(|state| {
            state.next_id += 1;
            let entry = BanEntry {
                id: state.next_id,
                target: ban.target,
                kind: ban.kind,
                reason: ban.reason,
                created_by: ban.created_by,
                created_at,
                expires_at: ban.expires_at,
            };
            state.bans.push(entry.clone());
            entry
        });
        self.changes.notify_one();
        Ok(entry)
    }

    async fn remove(&self, id: u64) -> Result<BanEntry, MiseryError> {
        let removed = self.with_state(|state| {
            let position = state.bans.iter().position(|ban| ban.id == id)?;
            Some(state.bans.remove(position))
        });
        let removed = removed.ok_or(MiseryError::UnknownBan { id })?;
        self.changes.notify_one();
        Ok(removed)
    }

    async fn list(&self) -> Result<Vec<BanEntry>, MiseryError> {
        Ok(self.with_state(|state| state.bans.clone()))
    }
}
