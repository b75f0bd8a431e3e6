//! `MemoryModerationLog`: the in-memory reference implementation of
//! [`ModerationLog`].

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::ModerationError;
use crate::ids::UserId;
use crate::modlog::{ModLogEntry, ModLogFilter, ModerationLog, NewModLogEntry, newest_first_after};
use crate::store::{Page, PageRequest};

/// A [`ModerationLog`] kept in memory.
///
/// Cloning is cheap and every clone shares the same entries, so an in-memory
/// store of another port (a review queue, sanctions) keeps a clone and calls
/// [`append_now`](Self::append_now) inside the same critical section as its
/// own write: the action and its entry appear together or not at all.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use chrono::Utc;
/// use moderation_core::{
///     Kind, MemoryModerationLog, ModLogFilter, ModerationLog, NewModLogEntry, ObjectRef,
///     PageRequest, UserId, truncate_to_micros,
/// };
///
/// let log = MemoryModerationLog::new();
/// let entry = NewModLogEntry {
///     action: "item.approve".into(),
///     actor: Some(UserId::from(1_i64)),
///     target: ObjectRef::new(Kind::new("blog.comment")?, 10_i64),
///     reason: Some("not spam".into()),
///     before: Some("held".into()),
///     after: Some("public".into()),
///     detail: serde_json::Value::Null,
///     ip: None,
///     bulk: None,
///     at: truncate_to_micros(Utc::now()),
/// };
/// entry.validate()?;
/// let stored = log.append_now(entry);
/// let page = log.mod_log(&ModLogFilter::default(), PageRequest::first(10)).await?;
/// assert_eq!(page.items, vec![stored]);
/// # Ok::<(), moderation_core::ModerationError>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryModerationLog {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    next_id: i64,
    /// Every entry by `(at, id)`, the page order read backwards.
    entries: BTreeMap<(DateTime<Utc>, i64), ModLogEntry>,
}

impl MemoryModerationLog {
    /// An empty log.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave an entry half-written: every change
        // below is a single insert or field assignment.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends `entry` at once, without awaiting, so callers can do it while
    /// holding their own lock. It cannot fail: call
    /// [`NewModLogEntry::validate`] before changing anything, so an invalid
    /// entry is refused before the action it records is applied.
    pub fn append_now(&self, entry: NewModLogEntry) -> ModLogEntry {
        let mut state = self.lock();
        state.next_id += 1;
        let stored = entry.stored(state.next_id);
        state.entries.insert((stored.at, stored.id), stored.clone());
        stored
    }

    /// How many entries at or before `cutoff` still hold an IP (for IP
    /// retention).
    #[must_use]
    pub fn count_ips_older(&self, cutoff: DateTime<Utc>) -> u64 {
        let state = self.lock();
        let count = state
            .entries
            .range(..=(cutoff, i64::MAX))
            .filter(|(_, e)| e.ip.is_some())
            .count();
        u64::try_from(count).unwrap_or(u64::MAX)
    }

    /// Clears the IP of at most `limit` entries at or before `cutoff`,
    /// oldest first; returns how many (IP retention).
    pub fn clear_ips_older(&self, cutoff: DateTime<Utc>, limit: usize) -> u64 {
        let mut state = self.lock();
        let mut cleared = 0_u64;
        for (_, entry) in state
            .entries
            .range_mut(..=(cutoff, i64::MAX))
            .filter(|(_, e)| e.ip.is_some())
            .take(limit)
        {
            entry.ip = None;
            cleared += 1;
        }
        cleared
    }

    /// Every entry, oldest first (for tests and exports of small logs).
    #[must_use]
    pub fn entries(&self) -> Vec<ModLogEntry> {
        self.lock().entries.values().cloned().collect()
    }
}

#[async_trait]
impl ModerationLog for MemoryModerationLog {
    async fn append(&self, entry: NewModLogEntry) -> Result<ModLogEntry, ModerationError> {
        entry.validate()?;
        Ok(self.append_now(entry))
    }

    async fn mod_log(
        &self,
        filter: &ModLogFilter,
        page: PageRequest,
    ) -> Result<Page<ModLogEntry>, ModerationError> {
        let limit = usize::try_from(page.clamped_limit()).unwrap_or(usize::MAX);
        let state = self.lock();
        let mut items: Vec<ModLogEntry> = state
            .entries
            .values()
            .rev()
            .filter(|e| page.after.is_none_or(|c| newest_first_after(e, &c)))
            .filter(|e| filter.matches(e))
            .take(limit + 1)
            .cloned()
            .collect();
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(ModLogEntry::cursor)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn anonymise_actor(&self, actor: &UserId) -> Result<u64, ModerationError> {
        let mut state = self.lock();
        let mut changed = 0_u64;
        for entry in state.entries.values_mut() {
            if entry.actor.as_ref() == Some(actor) {
                entry.actor = None;
                entry.ip = None;
                changed += 1;
            }
        }
        Ok(changed)
    }
}
