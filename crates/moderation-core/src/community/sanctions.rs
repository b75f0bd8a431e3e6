//! Freezes (part of D7) and the `SanctionStore` port.
//!
//! A frozen member is signed in but cannot post or edit; they can still
//! message staff. A freeze records why, who (or which rule), when, an
//! optional expiry, who lifted it and when, and the review item that caused
//! it, so approving that item can lift exactly that freeze.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::ModerationError;
use crate::ids::{Kind, ObjectId, ObjectRef, UserId};
use crate::memory_log::MemoryModerationLog;
use crate::modlog::NewModLogEntry;

/// The kind of sanction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SanctionKind {
    /// Cannot post or edit; can message staff (Agouti's mute).
    Freeze,
}

impl SanctionKind {
    /// The stable name stored by the SQL stores.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Freeze => "freeze",
        }
    }

    /// The kind named `text`.
    ///
    /// # Errors
    /// [`ModerationError::Config`] for an unknown name.
    pub fn parse(text: &str) -> Result<Self, ModerationError> {
        match text {
            "freeze" => Ok(Self::Freeze),
            other => Err(ModerationError::Config(format!(
                "unknown sanction kind `{other}`; use `freeze`"
            ))),
        }
    }
}

/// A sanction to impose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewSanction {
    /// The member.
    pub user: UserId,
    /// What kind.
    pub kind: SanctionKind,
    /// Why, in words staff and the member read.
    pub reason: String,
    /// The staff member who imposed it; `None` when a rule did.
    pub by: Option<UserId>,
    /// When.
    pub at: DateTime<Utc>,
    /// When it ends by itself, if ever.
    pub expires_at: Option<DateTime<Utc>>,
    /// The review item that caused it, as the queue's id text.
    pub cause: Option<String>,
}

/// A stored sanction: what was imposed, its id, and whether it was lifted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sanction {
    /// Store-assigned id.
    pub id: i64,
    /// What was imposed, on whom, why, by whom, when, until when, and the
    /// review item that caused it.
    #[serde(flatten)]
    pub imposed: NewSanction,
    /// Who lifted it (`None` with `lifted_at` set: a rule or an approval).
    pub lifted_by: Option<UserId>,
    /// When it was lifted.
    pub lifted_at: Option<DateTime<Utc>>,
}

impl Sanction {
    /// True while it is neither lifted nor expired at `now`.
    #[must_use]
    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        self.lifted_at.is_none() && self.imposed.expires_at.is_none_or(|end| end > now)
    }
}

/// The moderation-log target for a member: kind `user`, the user id.
///
/// # Errors
/// Never in practice: `user` is a valid kind name.
pub(crate) fn user_target(user: &UserId) -> Result<ObjectRef, ModerationError> {
    Ok(ObjectRef::new(
        Kind::new("user")?,
        ObjectId::Str(user.as_str().to_owned()),
    ))
}

impl Sanction {
    /// The moderation-log entry of imposing it (`sanction.freeze`).
    ///
    /// # Errors
    /// Never in practice (see [`NewModLogEntry::validate`]).
    pub fn imposed_entry(&self) -> Result<NewModLogEntry, ModerationError> {
        let imposed = &self.imposed;
        Ok(NewModLogEntry {
            action: format!("sanction.{}", imposed.kind.as_str()),
            actor: imposed.by.clone(),
            target: user_target(&imposed.user)?,
            reason: Some(imposed.reason.clone()),
            before: None,
            after: Some(imposed.kind.as_str().to_owned()),
            detail: serde_json::json!({
                "sanction": self.id,
                "cause": imposed.cause,
                "expires_at": imposed.expires_at,
            }),
            ip: None,
            bulk: None,
            at: imposed.at,
        })
    }

    /// The moderation-log entry of lifting it (`sanction.lift`), by `by` at `at`.
    ///
    /// # Errors
    /// Never in practice (see [`NewModLogEntry::validate`]).
    pub fn lifted_entry(
        &self,
        by: Option<&UserId>,
        at: DateTime<Utc>,
    ) -> Result<NewModLogEntry, ModerationError> {
        let imposed = &self.imposed;
        Ok(NewModLogEntry {
            action: "sanction.lift".to_owned(),
            actor: by.cloned(),
            target: user_target(&imposed.user)?,
            reason: None,
            before: Some(imposed.kind.as_str().to_owned()),
            after: None,
            detail: serde_json::json!({ "sanction": self.id, "cause": imposed.cause }),
            ip: None,
            bulk: None,
            at,
        })
    }
}

/// Where sanctions live. Every method is one store operation; imposing and
/// lifting append their moderation-log entry (`sanction.freeze`,
/// `sanction.lift`) in the same transaction.
#[async_trait]
pub trait SanctionStore: Send + Sync + std::fmt::Debug {
    /// Stores a new sanction.
    ///
    /// # Errors
    /// [`ModerationError::Store`]; nothing is written.
    async fn impose(&self, sanction: &NewSanction) -> Result<Sanction, ModerationError>;

    /// Lifts sanction `id`. Lifting a lifted sanction changes nothing and
    /// returns it as it is.
    ///
    /// # Errors
    /// [`ModerationError::UnknownSanction`], [`ModerationError::Store`].
    async fn lift(
        &self,
        id: i64,
        by: Option<&UserId>,
        at: DateTime<Utc>,
    ) -> Result<Sanction, ModerationError>;

    /// The member's sanctions in force at `now`, oldest first.
    ///
    /// # Errors
    /// [`ModerationError::Store`].
    async fn in_force(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Sanction>, ModerationError>;

    /// The sanctions in force at `now` that review item `cause` caused.
    ///
    /// # Errors
    /// [`ModerationError::Store`].
    async fn caused_by(
        &self,
        cause: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Sanction>, ModerationError>;

    /// Every sanction of the member, oldest first.
    ///
    /// # Errors
    /// [`ModerationError::Store`].
    async fn history(&self, user: &UserId) -> Result<Vec<Sanction>, ModerationError>;
}

/// The in-memory reference [`SanctionStore`]. Cloning shares the data.
/// Log entries go to its [`MemoryModerationLog`], appended while the
/// sanctions' lock is held so the two never disagree.
#[derive(Debug, Clone, Default)]
pub struct MemorySanctionStore {
    sanctions: Arc<Mutex<Vec<Sanction>>>,
    log: MemoryModerationLog,
}

impl MemorySanctionStore {
    /// An empty store with a moderation log of its own.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty store appending to `log` (shared with other memory stores).
    #[must_use]
    pub fn with_log(log: MemoryModerationLog) -> Self {
        Self {
            sanctions: Arc::default(),
            log,
        }
    }

    /// The moderation log it appends to.
    #[must_use]
    pub fn log(&self) -> &MemoryModerationLog {
        &self.log
    }

    fn select(&self, keep: impl Fn(&Sanction) -> bool) -> Vec<Sanction> {
        let all = self
            .sanctions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        all.iter().filter(|s| keep(s)).cloned().collect()
    }
}

#[async_trait]
impl SanctionStore for MemorySanctionStore {
    async fn impose(&self, sanction: &NewSanction) -> Result<Sanction, ModerationError> {
        let mut all = self
            .sanctions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let id = i64::try_from(all.len())
            .unwrap_or(i64::MAX)
            .saturating_add(1);
        let stored = Sanction {
            id,
            imposed: sanction.clone(),
            lifted_by: None,
            lifted_at: None,
        };
        let entry = stored.imposed_entry()?;
        entry.validate()?;
        self.log.append_now(entry);
        all.push(stored.clone());
        Ok(stored)
    }

    async fn lift(
        &self,
        id: i64,
        by: Option<&UserId>,
        at: DateTime<Utc>,
    ) -> Result<Sanction, ModerationError> {
        let mut all = self
            .sanctions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let sanction = all
            .iter_mut()
            .find(|s| s.id == id)
            .ok_or(ModerationError::UnknownSanction { id })?;
        if sanction.lifted_at.is_none() {
            let entry = sanction.lifted_entry(by, at)?;
            entry.validate()?;
            self.log.append_now(entry);
            sanction.lifted_at = Some(at);
            sanction.lifted_by = by.cloned();
        }
        Ok(sanction.clone())
    }

    async fn in_force(
        &self,
        user: &UserId,
        now: DateTime<Utc>,
    ) -> Result<Vec<Sanction>, ModerationError> {
        Ok(self.select(|s| &s.imposed.user == user && s.in_force(now)))
    }

    async fn caused_by(
        &self,
        cause: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<Sanction>, ModerationError> {
        Ok(self.select(|s| s.imposed.cause.as_deref() == Some(cause) && s.in_force(now)))
    }

    async fn history(&self, user: &UserId) -> Result<Vec<Sanction>, ModerationError> {
        Ok(self.select(|s| &s.imposed.user == user))
    }
}
