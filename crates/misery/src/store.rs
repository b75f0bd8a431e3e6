//! The `BanStore` port: where ban lists persist.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use moderation_core::UserId;

use crate::MiseryError;
use crate::entry::{BanEntry, BanKind, BanTarget};

/// A ban to create; the store assigns the id and the creation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBan {
    /// Who or what is banned.
    pub target: BanTarget,
    /// How the target is treated.
    pub kind: BanKind,
    /// Why, for staff.
    pub reason: String,
    /// The staff member creating the ban.
    pub created_by: UserId,
    /// When the ban stops applying; `None` for never.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Persistence for bans. [`BanRefresher`](crate::BanRefresher) reloads a
/// [`BanList`](crate::BanList) from it.
///
/// Semantics every implementation keeps (the in-memory
/// [`MemoryBanStore`](crate::MemoryBanStore) is the reference):
/// ids are unique and never reused; `created_at` comes from the store's
/// clock, truncated to microseconds; [`list`](Self::list) returns every
/// ban, expired ones included (matching ignores them, and operators want to
/// see them); removing an unknown id is [`MiseryError::UnknownBan`].
#[async_trait]
pub trait BanStore: Send + Sync + std::fmt::Debug {
    /// Stores a new ban and returns it with its id and creation time.
    async fn add(&self, ban: NewBan) -> Result<BanEntry, MiseryError>;

    /// Removes a ban and returns it.
    async fn remove(&self, id: u64) -> Result<BanEntry, MiseryError>;

    /// Every ban, oldest first.
    async fn list(&self) -> Result<Vec<BanEntry>, MiseryError>;
}
