//! `MemoryAuditStore`: the in-memory reference implementation of
//! [`AuditStore`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use moderation_core::{Page, PageRequest, UserId};

use crate::error::AuditError;
use crate::query::AuditQuery;
use crate::record::{AuditRecord, NewAuditRecord};
use crate::store::{AuditStore, SockPuppet};

/// An [`AuditStore`] kept in memory: for tests, examples and single-process
/// tools. It states the semantics every store shares; queries scan, which
/// is fine for the sizes it is meant for.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use moderation_audit_trail::{AuditQuery, AuditStore, MemoryAuditStore};
/// use moderation_core::{PageRequest, UserId};
///
/// let store = MemoryAuditStore::new();
/// let page = store
///     .records(&AuditQuery::by_actor(UserId::from(7_i64)), PageRequest::first(20))
///     .await?;
/// assert!(page.items.is_empty());
/// # Ok::<(), moderation_audit_trail::AuditError>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Default)]
pub struct MemoryAuditStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    next_id: i64,
    /// Every record by `(at, id)`; pages read it backwards.
    records: BTreeMap<(DateTime<Utc>, i64), AuditRecord>,
}

impl MemoryAuditStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Every change below is one map operation, so a panic elsewhere
        // cannot leave a record half-written.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl AuditStore for MemoryAuditStore {
    async fn insert(&self, records: Vec<NewAuditRecord>) -> Result<Vec<AuditRecord>, AuditError> {
        for record in &records {
            record.validate()?;
        }
        let mut state = self.lock();
        let mut stored = Vec::with_capacity(records.len());
        for record in records {
            state.next_id += 1;
            let record = record.stored(state.next_id);
            state.records.insert((record.at, record.id), record.clone());
            stored.push(record);
        }
        Ok(stored)
    }

    async fn records(
        &self,
        query: &AuditQuery,
        page: PageRequest,
    ) -> Result<Page<AuditRecord>, AuditError> {
        let limit = usize::try_from(page.clamped_limit()).unwrap_or(usize::MAX);
        let state = self.lock();
        let mut items: Vec<AuditRecord> = state
            .records
            .values()
            .rev()
            .filter(|r| page.after.is_none_or(|c| r.is_after(&c)))
            .filter(|r| query.matches(r))
            .take(limit + 1)
            .cloned()
            .collect();
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(AuditRecord::cursor)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn sock_puppets(
        &self,
        user: &UserId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<SockPuppet>, AuditError> {
        let state = self.lock();
        let window = || {
            state
                .records
                .range((since, i64::MIN)..(until, i64::MIN))
                .map(|(_, r)| r)
        };
        let mine: HashSet<String> = window()
            .filter(|r| r.actor.as_ref() == Some(user))
            .filter_map(|r| r.ip.as_ref().map(crate::RecordedIp::group_key))
            .collect();
        let mut others: HashMap<&UserId, (HashSet<String>, u64)> = HashMap::new();
        for record in window() {
            let (Some(actor), Some(ip)) = (&record.actor, &record.ip) else {
                continue;
            };
            let group = ip.group_key();
            if actor != user && mine.contains(&group) {
                let entry = others.entry(actor).or_default();
                entry.0.insert(group);
                entry.1 += 1;
            }
        }
        let mut found: Vec<SockPuppet> = others
            .into_iter()
            .map(|(user, (groups, overlap))| SockPuppet {
                user: user.clone(),
                shared_addresses: groups.len() as u64,
                overlap,
            })
            .collect();
        found.sort_by(|a, b| {
            (b.shared_addresses, b.overlap)
                .cmp(&(a.shared_addresses, a.overlap))
                .then_with(|| a.user.cmp(&b.user))
        });
        found.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(found)
    }

    async fn count_older(&self, cutoff: DateTime<Utc>) -> Result<u64, AuditError> {
        let state = self.lock();
        Ok(state.records.range(..=(cutoff, i64::MAX)).count() as u64)
    }

    async fn delete_older(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<u64, AuditError> {
        let mut state = self.lock();
        let doomed: Vec<(DateTime<Utc>, i64)> = state
            .records
            .range(..=(cutoff, i64::MAX))
            .map(|(key, _)| *key)
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .collect();
        for key in &doomed {
            state.records.remove(key);
        }
        Ok(doomed.len() as u64)
    }

    async fn delete_actor(&self, actor: &UserId) -> Result<u64, AuditError> {
        let mut state = self.lock();
        let before = state.records.len();
        state.records.retain(|_, r| r.actor.as_ref() != Some(actor));
        Ok((before - state.records.len()) as u64)
    }
}
