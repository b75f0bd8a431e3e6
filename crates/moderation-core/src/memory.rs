//! `MemoryStore`: the in-memory reference implementation of [`ModerationStore`].
//!
//! It states the semantics every other store must match (the conformance
//! suite in `moderation-storage` runs against it too). All state sits behind
//! one mutex that is never held across an `.await`, so every method is one
//! atomic step: a failed call leaves nothing behind.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::actor::AuthorKey;
use crate::error::ModerationError;
use crate::ids::{ItemId, Kind, ObjectRef, UserId};
use crate::memory_log::MemoryModerationLog;
use crate::modlog::NewModLogEntry;
use crate::store::{
    Cursor, DuplicateQuery, FlagOutcome, ItemFilter, LogEntry, ModerationStore, NewItem,
    NewLogEntry, Order, Page, PageRequest, StatusChange, StoredItem,
};

/// The position of an item in every listing: `(created_at, id)`.
type SortKey = (DateTime<Utc>, ItemId);

/// A [`ModerationStore`] that keeps everything in memory. It is also a
/// [`ReviewStore`](crate::ReviewStore), a
/// [`HeldItemStore`](crate::HeldItemStore), an
/// [`ObjectStore`](crate::workflow::ObjectStore) and a
/// [`ReviewedObjectStore`](crate::workflow::ReviewedObjectStore): the
/// review queue and the object workflow sit under the same lock, as they
/// sit in the same database for the SQL stores.
///
/// Use it in tests, examples and single-process tools; data is lost when it is
/// dropped. Semantics, which every store shares:
/// - an item and its log entry are written together or not at all;
/// - a status change naming a stale version fails with
///   [`ModerationError::Conflict`]; a successful one bumps the version by one
///   and sets `updated_at` to the log entry's time; the item's reasons are
///   kept (they explain the last pipeline decision, the log explains the rest);
/// - a flag does not change the item, so it does not bump the version;
/// - batch calls apply all or nothing;
/// - listings are keyset-paginated on `(created_at, id)`.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use moderation_core::{MemoryStore, ModerationStore, ItemId};
/// let store = MemoryStore::new();
/// assert!(store.item(ItemId(1)).await?.is_none());
/// # Ok::<(), moderation_core::ModerationError>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
pub(crate) struct State {
    next_item: i64,
    next_log: i64,
    items: HashMap<ItemId, StoredItem>,
    /// Every item in `(created_at, id)` order, for keyset pagination.
    by_time: BTreeSet<SortKey>,
    /// Items per (kind, author), for first-timer and duplicate checks.
    by_author: HashMap<(Kind, AuthorKey), BTreeSet<SortKey>>,
    /// Items per moderated object.
    by_object: HashMap<ObjectRef, BTreeSet<SortKey>>,
    logs: BTreeMap<ItemId, Vec<LogEntry>>,
    /// Who flagged each item.
    flags: HashMap<ItemId, HashSet<UserId>>,
    /// The moderation log that moderator actions on items and review
    /// transitions also reach.
    pub(crate) modlog: Option<MemoryModerationLog>,
    /// The review queue, under the same lock (see `queue::memory`).
    pub(crate) reviews: crate::queue::memory::ReviewState,
    /// The object workflow's records and entries, under the same lock (see
    /// `workflow::memory`).
    pub(crate) objects: crate::workflow::memory::ObjectTables,
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store whose moderator actions (approve, reject, remove) are
    /// also appended to `log` as `item.approve`, `item.reject` and
    /// `item.remove`, under the same lock as the status change, as the SQL
    /// stores do in the same transaction.
    #[must_use]
    pub fn with_log(log: MemoryModerationLog) -> Self {
        let store = Self::default();
        store.lock().modlog = Some(log);
        store
    }

    /// How many items the store holds (every status).
    #[must_use]
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// True when the store holds no item.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lock().items.is_empty()
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere cannot leave the state half-written: every method
        // validates before it mutates, so the data behind a poisoned lock is
        // still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    /// Appends entries to the moderation log, if the store keeps one. Called
    /// under the state lock, so no reader sees a change without its entry.
    pub(crate) fn append_mod_log_entries(&self, entries: Vec<NewModLogEntry>) {
        if let Some(log) = &self.modlog {
            for entry in entries {
                log.append_now(entry);
            }
        }
    }

    /// The item stored as `id`.
    pub(crate) fn stored(&self, id: ItemId) -> Option<&StoredItem> {
        self.items.get(&id)
    }

    /// The id the next inserted item gets.
    pub(crate) fn next_item_id(&self) -> ItemId {
        ItemId(self.next_item + 1)
    }

    pub(crate) fn insert(&mut self, item: NewItem, log: NewLogEntry) -> StoredItem {
        self.next_item += 1;
        let id = ItemId(self.next_item);
        let stored = StoredItem {
            id,
            object: item.object,
            parent: item.parent,
            author: item.author,
            status: item.status,
            reasons: item.reasons,
            payload: item.payload,
            fingerprint: item.fingerprint,
            ip: item.ip,
            created_at: item.created_at,
            updated_at: item.created_at,
            version: 1,
        };
        let key = (stored.created_at, id);
        self.by_time.insert(key);
        if let Some(author) = &stored.author {
            self.by_author
                .entry((stored.object.kind.clone(), author.clone()))
                .or_default()
                .insert(key);
        }
        self.by_object
            .entry(stored.object.clone())
            .or_default()
            .insert(key);
        // The item first: a moderator action logged with it reaches the
        // moderation log, which names the item as its target.
        self.items.insert(id, stored.clone());
        self.append_log(id, log);
        stored
    }

    fn append_log(&mut self, item: ItemId, log: NewLogEntry) {
        self.append_mod_log(item, &log);
        self.next_log += 1;
        let entry = LogEntry {
            id: self.next_log,
            item,
            action: log.action,
            actor: log.actor,
            reason: log.reason,
            detail: log.detail,
            ip: log.ip,
            from_status: log.from_status,
            to_status: log.to_status,
            bulk: log.bulk,
            at: log.at,
        };
        self.logs.entry(item).or_default().push(entry);
    }

    /// Copies a moderator action on `item` to the moderation log, if any;
    /// submissions and flags are not staff actions and are not copied.
    fn append_mod_log(&self, item: ItemId, log: &NewLogEntry) {
        let (Some(modlog), Some(stored)) = (&self.modlog, self.items.get(&item)) else {
            return;
        };
        let Some(verb) = log.action.moderation_log_verb() else {
            return;
        };
        modlog.append_now(NewModLogEntry {
            action: verb.to_owned(),
            actor: log.actor.clone(),
            target: stored.object.clone(),
            reason: log.reason.clone(),
            before: log.from_status.map(|s| s.as_str().to_owned()),
            after: log.to_status.map(|s| s.as_str().to_owned()),
            detail: log.detail.clone(),
            ip: log.ip,
            bulk: log.bulk,
            at: log.at,
        });
    }

    /// Checks a change without applying it.
    pub(crate) fn check(&self, change: &StatusChange) -> Result<(), ModerationError> {
        let item = self
            .items
            .get(&change.item)
            .ok_or(ModerationError::NotFound { item: change.item })?;
        if item.version != change.expected_version {
            return Err(ModerationError::Conflict {
                item: change.item,
                expected: change.expected_version,
                actual: item.version,
            });
        }
        Ok(())
    }

    /// Applies a change that [`State::check`] accepted.
    pub(crate) fn apply(&mut self, change: StatusChange) -> Result<StoredItem, ModerationError> {
        let item = self
            .items
            .get_mut(&change.item)
            .ok_or(ModerationError::NotFound { item: change.item })?;
        item.status = change.status;
        item.version += 1;
        item.updated_at = change.log.at;
        let updated = item.clone();
        self.append_log(change.item, change.log);
        Ok(updated)
    }

    fn remove(&mut self, id: ItemId) -> bool {
        let Some(item) = self.items.remove(&id) else {
            return false;
        };
        let key = (item.created_at, id);
        self.by_time.remove(&key);
        if let Some(author) = item.author {
            let index = (item.object.kind.clone(), author);
            if let Some(set) = self.by_author.get_mut(&index) {
                set.remove(&key);
                if set.is_empty() {
                    self.by_author.remove(&index);
                }
            }
        }
        if let Some(set) = self.by_object.get_mut(&item.object) {
            set.remove(&key);
            if set.is_empty() {
                self.by_object.remove(&item.object);
            }
        }
        self.logs.remove(&id);
        self.flags.remove(&id);
        true
    }

    /// The items after `after` in `order`, lazily.
    fn walk(
        &self,
        after: Option<Cursor>,
        order: Order,
    ) -> Box<dyn Iterator<Item = &StoredItem> + '_> {
        let keys: Box<dyn Iterator<Item = &SortKey>> = match (order, after) {
            (Order::OldestFirst, None) => Box::new(self.by_time.iter()),
            (Order::OldestFirst, Some(c)) => Box::new(
                self.by_time
                    .range((Bound::Excluded((c.created_at, c.id)), Bound::Unbounded)),
            ),
            (Order::NewestFirst, None) => Box::new(self.by_time.iter().rev()),
            (Order::NewestFirst, Some(c)) => Box::new(
                self.by_time
                    .range((Bound::Unbounded, Bound::Excluded((c.created_at, c.id))))
                    .rev(),
            ),
        };
        Box::new(keys.filter_map(|(_, id)| self.items.get(id)))
    }
}

fn matches(filter: &ItemFilter, item: &StoredItem) -> bool {
    filter.status.is_none_or(|s| s == item.status)
        && filter.kind.as_ref().is_none_or(|k| *k == item.object.kind)
        && filter
            .author
            .as_ref()
            .is_none_or(|a| item.author.as_ref() == Some(a))
        && filter
            .parent
            .as_ref()
            .is_none_or(|p| item.parent.as_ref() == Some(p))
        && filter.hidden.shows(item.author.as_ref())
}

#[async_trait]
impl ModerationStore for MemoryStore {
    async fn insert_item(
        &self,
        item: NewItem,
        log: NewLogEntry,
    ) -> Result<StoredItem, ModerationError> {
        Ok(self.lock().insert(item, log))
    }

    async fn insert_items(
        &self,
        items: Vec<(NewItem, NewLogEntry)>,
    ) -> Result<Vec<StoredItem>, ModerationError> {
        let mut state = self.lock();
        Ok(items
            .into_iter()
            .map(|(item, log)| state.insert(item, log))
            .collect())
    }

    async fn item(&self, id: ItemId) -> Result<Option<StoredItem>, ModerationError> {
        Ok(self.lock().items.get(&id).cloned())
    }

    async fn item_for_object(
        &self,
        object: &ObjectRef,
    ) -> Result<Option<StoredItem>, ModerationError> {
        let state = self.lock();
        Ok(state
            .by_object
            .get(object)
            .and_then(|keys| keys.iter().next_back())
            .and_then(|(_, id)| state.items.get(id))
            .cloned())
    }

    async fn find_duplicate(
        &self,
        query: &DuplicateQuery,
    ) -> Result<Option<StoredItem>, ModerationError> {
        let state = self.lock();
        let Some(keys) = state
            .by_author
            .get(&(query.kind.clone(), query.author.clone()))
        else {
            return Ok(None);
        };
        Ok(keys
            .iter()
            .rev()
            .take_while(|(created, _)| *created >= query.since)
            .filter_map(|(_, id)| state.items.get(id))
            .find(|item| {
                item.parent == query.parent
                    && item.fingerprint.as_deref() == Some(query.fingerprint.as_str())
            })
            .cloned())
    }

    async fn author_has_public(
        &self,
        kind: &Kind,
        author: &AuthorKey,
    ) -> Result<bool, ModerationError> {
        let state = self.lock();
        Ok(state
            .by_author
            .get(&(kind.clone(), author.clone()))
            .is_some_and(|keys| {
                keys.iter()
                    .filter_map(|(_, id)| state.items.get(id))
                    .any(StoredItem::is_public)
            }))
    }

    async fn change_status(&self, change: StatusChange) -> Result<StoredItem, ModerationError> {
        let mut state = self.lock();
        state.check(&change)?;
        state.apply(change)
    }

    async fn change_statuses(
        &self,
        changes: Vec<StatusChange>,
    ) -> Result<Vec<StoredItem>, ModerationError> {
        let mut state = self.lock();
        // Two changes to one item in one batch: the second names the version
        // the first leaves behind, so check against a running version.
        let mut versions: HashMap<ItemId, i64> = HashMap::new();
        for change in &changes {
            let current = match versions.get(&change.item) {
                Some(v) => *v,
                None => {
                    state.check(change)?;
                    change.expected_version
                }
            };
            if current != change.expected_version {
                return Err(ModerationError::Conflict {
                    item: change.item,
                    expected: change.expected_version,
                    actual: current,
                });
            }
            versions.insert(change.item, current + 1);
        }
        changes
            .into_iter()
            .map(|change| state.apply(change))
            .collect()
    }

    async fn add_flag(
        &self,
        item: ItemId,
        flagger: &UserId,
        log: NewLogEntry,
    ) -> Result<FlagOutcome, ModerationError> {
        let mut state = self.lock();
        if !state.items.contains_key(&item) {
            return Err(ModerationError::NotFound { item });
        }
        if !state.flags.entry(item).or_default().insert(flagger.clone()) {
            return Ok(FlagOutcome::AlreadyFlagged);
        }
        state.append_log(item, log);
        Ok(FlagOutcome::Added)
    }

    async fn list_items(
        &self,
        filter: &ItemFilter,
        page: &PageRequest,
    ) -> Result<Page<StoredItem>, ModerationError> {
        let limit = page.clamped_limit() as usize;
        let state = self.lock();
        let mut items: Vec<StoredItem> = state
            .walk(page.after, page.order)
            .filter(|item| matches(filter, item))
            .take(limit + 1)
            .cloned()
            .collect();
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(Cursor::after)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    async fn log_entries(&self, item: ItemId) -> Result<Vec<LogEntry>, ModerationError> {
        Ok(self.lock().logs.get(&item).cloned().unwrap_or_default())
    }

    async fn non_public_before(
        &self,
        before: DateTime<Utc>,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Vec<StoredItem>, ModerationError> {
        let state = self.lock();
        Ok(state
            .walk(after, Order::OldestFirst)
            .take_while(|item| item.created_at < before)
            .filter(|item| !item.is_public())
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn delete_items(&self, ids: &[ItemId]) -> Result<u64, ModerationError> {
        let mut state = self.lock();
        let mut deleted = 0_u64;
        for id in ids {
            if state.remove(*id) {
                deleted += 1;
            }
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::decision::Verdict;
    use crate::store::{ItemStatus, LogAction};

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap()
    }

    fn new_item(n: i64, at: DateTime<Utc>, status: ItemStatus) -> (NewItem, NewLogEntry) {
        let kind = Kind::new("blog.comment").unwrap();
        let item = NewItem {
            object: ObjectRef::new(kind, n),
            parent: None,
            author: Some(AuthorKey::User(UserId::from(n % 3))),
            status,
            reasons: Vec::new(),
            payload: serde_json::json!({"n": n}),
            fingerprint: Some(format!("f{n}")),
            ip: None,
            created_at: at,
        };
        let verdict = match status {
            ItemStatus::Public => Verdict::Publish,
            ItemStatus::Held => Verdict::Hold,
            _ => Verdict::Reject,
        };
        let log = log_entry(LogAction::for_verdict(verdict).unwrap(), at, Some(status));
        (item, log)
    }

    fn log_entry(action: LogAction, at: DateTime<Utc>, to: Option<ItemStatus>) -> NewLogEntry {
        NewLogEntry {
            action,
            actor: None,
            reason: None,
            detail: serde_json::Value::Null,
            ip: None,
            from_status: None,
            to_status: to,
            bulk: None,
            at,
        }
    }

    fn change(item: &StoredItem, status: ItemStatus) -> StatusChange {
        StatusChange {
            item: item.id,
            expected_version: item.version,
            status,
            log: log_entry(LogAction::Approve, t0(), Some(status)),
        }
    }

    #[tokio::test]
    async fn insert_writes_item_and_log_together() {
        let store = MemoryStore::new();
        let (item, log) = new_item(1, t0(), ItemStatus::Held);
        let stored = store.insert_item(item, log).await.unwrap();
        assert_eq!(stored.version, 1);
        let logs = store.log_entries(stored.id).await.unwrap();
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].action, LogAction::SubmitHeld);
    }

    #[tokio::test]
    async fn stale_version_is_a_conflict_and_writes_nothing() {
        let store = MemoryStore::new();
        let (item, log) = new_item(1, t0(), ItemStatus::Held);
        let stored = store.insert_item(item, log).await.unwrap();
        let after = store
            .change_status(change(&stored, ItemStatus::Public))
            .await
            .unwrap();
        assert_eq!(after.version, 2);
        let err = store
            .change_status(change(&stored, ItemStatus::Removed))
            .await
            .unwrap_err();
        assert!(matches!(
            err,
            ModerationError::Conflict {
                expected: 1,
                actual: 2,
                ..
            }
        ));
        assert_eq!(store.log_entries(stored.id).await.unwrap().len(), 2);
        let now = store.item(stored.id).await.unwrap().unwrap();
        assert_eq!(now.status, ItemStatus::Public);
    }

    #[tokio::test]
    async fn batch_change_is_all_or_nothing() {
        let store = MemoryStore::new();
        let (a, la) = new_item(1, t0(), ItemStatus::Held);
        let (b, lb) = new_item(2, t0(), ItemStatus::Held);
        let stored = store.insert_items(vec![(a, la), (b, lb)]).await.unwrap();
        let mut stale = change(&stored[1], ItemStatus::Public);
        stale.expected_version = 9;
        let err = store
            .change_statuses(vec![change(&stored[0], ItemStatus::Public), stale])
            .await
            .unwrap_err();
        assert!(matches!(err, ModerationError::Conflict { .. }));
        let first = store.item(stored[0].id).await.unwrap().unwrap();
        assert_eq!((first.status, first.version), (ItemStatus::Held, 1));
        let missing = StatusChange {
            item: ItemId(99),
            ..change(&stored[0], ItemStatus::Public)
        };
        let err = store
            .change_statuses(vec![change(&stored[0], ItemStatus::Public), missing])
            .await
            .unwrap_err();
        assert!(matches!(err, ModerationError::NotFound { .. }));
        assert_eq!(store.log_entries(stored[0].id).await.unwrap().len(), 1);
    }

    #[tokio::test]
    async fn pagination_walks_both_orders_with_equal_times() {
        let store = MemoryStore::new();
        let mut batch = Vec::new();
        for n in 0..7 {
            // Pairs share a timestamp so the id breaks ties.
            batch.push(new_item(
                n,
                t0() + Duration::seconds(n / 2),
                ItemStatus::Held,
            ));
        }
        let stored = store.insert_items(batch).await.unwrap();
        for order in [Order::OldestFirst, Order::NewestFirst] {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page = store
                    .list_items(
                        &ItemFilter::default(),
                        &PageRequest {
                            after,
                            limit: 3,
                            order,
                        },
                    )
                    .await
                    .unwrap();
                seen.extend(page.items.iter().map(|i| i.id));
                match page.next {
                    Some(next) => after = Some(next),
                    None => break,
                }
            }
            let mut expected: Vec<ItemId> = stored.iter().map(|i| i.id).collect();
            if order == Order::NewestFirst {
                expected.reverse();
            }
            assert_eq!(seen, expected);
        }
    }

    #[tokio::test]
    async fn flags_once_per_user_and_delete_removes_everything() {
        let store = MemoryStore::new();
        let (item, log) = new_item(1, t0(), ItemStatus::Held);
        let stored = store.insert_item(item, log).await.unwrap();
        let user = UserId::from(5_i64);
        let flag = log_entry(LogAction::Flag, t0(), None);
        assert_eq!(
            store
                .add_flag(stored.id, &user, flag.clone())
                .await
                .unwrap(),
            FlagOutcome::Added
        );
        assert_eq!(
            store
                .add_flag(stored.id, &user, flag.clone())
                .await
                .unwrap(),
            FlagOutcome::AlreadyFlagged
        );
        assert_eq!(store.log_entries(stored.id).await.unwrap().len(), 2);
        assert_eq!(
            store.delete_items(&[stored.id, ItemId(42)]).await.unwrap(),
            1
        );
        assert!(store.item(stored.id).await.unwrap().is_none());
        assert!(store.log_entries(stored.id).await.unwrap().is_empty());
        assert!(store.is_empty());
    }

    #[tokio::test]
    async fn non_public_before_is_strict_and_batched() {
        let store = MemoryStore::new();
        let batch = (0..6)
            .map(|n| {
                let status = if n % 2 == 0 {
                    ItemStatus::Held
                } else {
                    ItemStatus::Public
                };
                new_item(n, t0() + Duration::days(n), status)
            })
            .collect();
        store.insert_items(batch).await.unwrap();
        let first = store
            .non_public_before(t0() + Duration::days(4), None, 1)
            .await
            .unwrap();
        assert_eq!(first.len(), 1);
        let rest = store
            .non_public_before(t0() + Duration::days(4), Some(Cursor::after(&first[0])), 10)
            .await
            .unwrap();
        // Day 4 is not strictly before the cut-off.
        assert_eq!(rest.len(), 1);
        assert_eq!(rest[0].created_at, t0() + Duration::days(2));
    }
}
