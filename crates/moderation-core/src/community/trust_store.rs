//! The `TrustStore` port: each member's level, whether staff locked it, and
//! every change, plus [`TrustLevels`], the service that applies
//! [`TrustRequirements`] to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::trust::{ActivityFacts, TrustRequirements};
use crate::actor::TrustLevel;
use crate::clock::Clock;
use crate::error::ModerationError;
use crate::ids::UserId;
use crate::memory_log::MemoryModerationLog;
use crate::modlog::NewModLogEntry;

/// A member's current level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustRecord {
    /// The member.
    pub user: UserId,
    /// The level in force.
    pub level: TrustLevel,
    /// Locked by staff: activity never changes it.
    pub locked: bool,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// One change of level or lock, as written to the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustChange {
    /// The member.
    pub user: UserId,
    /// The level before (`None` for a member seen for the first time).
    pub from: Option<TrustLevel>,
    /// The level after.
    pub to: TrustLevel,
    /// Whether the level is locked after the change.
    pub locked: bool,
    /// The staff member who made it; `None` when activity did.
    pub by: Option<UserId>,
    /// Why (`activity`, or what staff wrote).
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

impl TrustChange {
    /// The moderation-log entry of the change (`trust.change`): before and
    /// after are the levels, the detail says whether it is locked.
    ///
    /// # Errors
    /// Never in practice (see [`NewModLogEntry::validate`]).
    pub fn log_entry(&self) -> Result<NewModLogEntry, ModerationError> {
        Ok(NewModLogEntry {
            action: "trust.change".to_owned(),
            actor: self.by.clone(),
            target: super::sanctions::user_target(&self.user)?,
            reason: Some(self.reason.clone()),
            before: self.from.map(|level| u8::from(level).to_string()),
            after: Some(u8::from(self.to).to_string()),
            detail: serde_json::json!({ "locked": self.locked }),
            ip: None,
            bulk: None,
            at: self.at,
        })
    }
}

/// Where trust levels and their history live. Stores write the record, its
/// history row and its moderation-log entry (`trust.change`) in one
/// transaction.
#[async_trait]
pub trait TrustStore: Send + Sync + std::fmt::Debug {
    /// The member's record, `None` before the first change.
    ///
    /// # Errors
    /// [`ModerationError::Store`].
    async fn trust_record(&self, user: &UserId) -> Result<Option<TrustRecord>, ModerationError>;

    /// Writes `change` to the record and appends it to the history, atomically.
    ///
    /// # Errors
    /// [`ModerationError::Store`]; nothing is written.
    async fn apply_trust_change(
        &self,
        change: &TrustChange,
    ) -> Result<TrustRecord, ModerationError>;

    /// The member's changes, oldest first.
    ///
    /// # Errors
    /// [`ModerationError::Store`].
    async fn trust_history(&self, user: &UserId) -> Result<Vec<TrustChange>, ModerationError>;
}

#[derive(Debug, Default)]
struct Members {
    records: HashMap<UserId, TrustRecord>,
    history: HashMap<UserId, Vec<TrustChange>>,
}

/// The in-memory reference [`TrustStore`]. Cloning shares the data.
#[derive(Debug, Clone, Default)]
pub struct MemoryTrustStore {
    inner: Arc<Mutex<Members>>,
    log: MemoryModerationLog,
}

impl MemoryTrustStore {
    /// An empty store with a moderation log of its own.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store appending to `log` (shared with other memory stores).
    #[must_use]
    pub fn with_log(log: MemoryModerationLog) -> Self {
        Self {
            inner: Arc::default(),
            log,
        }
    }

    /// The moderation log it appends to.
    #[must_use]
    pub fn log(&self) -> &MemoryModerationLog {
        &self.log
    }
}

#[async_trait]
impl TrustStore for MemoryTrustStore {
    async fn trust_record(&self, user: &UserId) -> Result<Option<TrustRecord>, ModerationError> {
        let members = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(members.records.get(user).cloned())
    }

    async fn apply_trust_change(
        &self,
        change: &TrustChange,
    ) -> Result<TrustRecord, ModerationError> {
        let record = TrustRecord {
            user: change.user.clone(),
            level: change.to,
            locked: change.locked,
            updated_at: change.at,
        };
        let entry = change.log_entry()?;
        entry.validate()?;
        let mut members = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        self.log.append_now(entry);
        members.records.insert(change.user.clone(), record.clone());
        members
            .history
            .entry(change.user.clone())
            .or_default()
            .push(change.clone());
        Ok(record)
    }

    async fn trust_history(&self, user: &UserId) -> Result<Vec<TrustChange>, ModerationError> {
        let members = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(members.history.get(user).cloned().unwrap_or_default())
    }
}

/// Computes levels from activity and records every change.
///
/// ```
/// use std::sync::Arc;
/// use moderation_core::community::{ActivityFacts, MemoryTrustStore, TrustLevels, TrustRequirements};
/// use moderation_core::{SystemClock, TrustLevel, UserId};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let levels = TrustLevels::new(Arc::new(MemoryTrustStore::new()), TrustRequirements::default(), Arc::new(SystemClock));
/// let member = UserId::from(7_i64);
/// let facts = ActivityFacts { topics_entered: 5, posts_read: 30, minutes_read: 10, ..Default::default() };
/// assert_eq!(levels.update(&member, &facts).await?.level, TrustLevel::Tl1);
/// assert_eq!(levels.history(&member).await?.len(), 1);
/// # Ok::<(), moderation_core::ModerationError>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct TrustLevels {
    store: Arc<dyn TrustStore>,
    requirements: TrustRequirements,
    clock: Arc<dyn Clock>,
}

impl TrustLevels {
    /// The service over `store`.
    #[must_use]
    pub fn new(
        store: Arc<dyn TrustStore>,
        requirements: TrustRequirements,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self {
            store,
            requirements,
            clock,
        }
    }

    /// The member's level in force (TL0 for a member never seen).
    ///
    /// # Errors
    /// The store's error.
    pub async fn level(&self, user: &UserId) -> Result<TrustLevel, ModerationError> {
        Ok(self
            .store
            .trust_record(user)
            .await?
            .map_or(TrustLevel::Tl0, |record| record.level))
    }

    /// Recomputes the level from `facts`. A locked level is returned
    /// unchanged; a new level is written with its history row.
    ///
    /// # Errors
    /// The store's error.
    #[tracing::instrument(level = "debug", skip(self, facts), fields(user = %user))]
    pub async fn update(
        &self,
        user: &UserId,
        facts: &ActivityFacts,
    ) -> Result<TrustRecord, ModerationError> {
        let now = self.clock.now();
        let record = self.store.trust_record(user).await?;
        let current = record.as_ref().map_or(TrustLevel::Tl0, |r| r.level);
        if let Some(record) = record.as_ref().filter(|r| r.locked) {
            return Ok(record.clone());
        }
        let level = self.requirements.level_for(facts, current);
        match record {
            Some(record) if record.level == level => Ok(record),
            record => {
                let change = TrustChange {
                    user: user.clone(),
                    from: record.map(|r| r.level),
                    to: level,
                    locked: false,
                    by: None,
                    reason: "activity".to_owned(),
                    at: now,
                };
                self.store.apply_trust_change(&change).await
            }
        }
    }

    /// Staff set a level (TL4 is only reachable this way), locking it or not.
    ///
    /// # Errors
    /// The store's error.
    #[tracing::instrument(level = "debug", skip(self, reason), fields(user = %user, by = %by))]
    pub async fn set_by_staff(
        &self,
        user: &UserId,
        level: TrustLevel,
        locked: bool,
        by: &UserId,
        reason: &str,
    ) -> Result<TrustRecord, ModerationError> {
        let from = self.store.trust_record(user).await?.map(|r| r.level);
        let change = TrustChange {
            user: user.clone(),
            from,
            to: level,
            locked,
            by: Some(by.clone()),
            reason: reason.to_owned(),
            at: self.clock.now(),
        };
        self.store.apply_trust_change(&change).await
    }

    /// Every change of the member's level, oldest first.
    ///
    /// # Errors
    /// The store's error.
    pub async fn history(&self, user: &UserId) -> Result<Vec<TrustChange>, ModerationError> {
        self.store.trust_history(user).await
    }
}
