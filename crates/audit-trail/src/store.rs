//! The `AuditStore` port: where audit records live.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use moderation_core::{Page, PageRequest, UserId};
use serde::{Deserialize, Serialize};

use crate::error::AuditError;
use crate::query::AuditQuery;
use crate::record::{AuditRecord, NewAuditRecord};

/// Another account seen from the addresses of the one looked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SockPuppet {
    /// The other account.
    pub user: UserId,
    /// How many address groups (an IPv4 address, an IPv6 /64) both used.
    pub shared_addresses: u64,
    /// How many of the other account's records came from those groups: the
    /// tie-breaker between accounts sharing as many addresses.
    pub overlap: u64,
}

/// Persistence for audit records.
///
/// Contract, which the conformance suite in `moderation-storage` checks for
/// every implementation:
/// - [`insert`](Self::insert) validates every record first and writes all of
///   them in one transaction, or none; ids increase in input order;
/// - [`records`](Self::records) pages newest first on `(at, id)`, whatever
///   `page.order` says, and finds a record by IP exactly when its stored key
///   lies in the query's [`IpRange`](crate::IpRange);
/// - [`delete_older`](Self::delete_older) removes the oldest records at or
///   before the cut-off, at most `limit`, in one transaction, so a purge in
///   batches never holds the store for long;
/// - nothing here grows with the records outside the filter: stores index
///   `(actor, at)`, `(ip, at)`, `(target, at)`, `(ip_group, at)` and `(at)`.
#[async_trait]
pub trait AuditStore: Send + Sync + std::fmt::Debug {
    /// Stores `records` in one transaction; returns them with their ids, in
    /// input order.
    async fn insert(&self, records: Vec<NewAuditRecord>) -> Result<Vec<AuditRecord>, AuditError>;

    /// One page of records matching `query`, newest first.
    async fn records(
        &self,
        query: &AuditQuery,
        page: PageRequest,
    ) -> Result<Page<AuditRecord>, AuditError>;

    /// Other accounts with records in `[since, until)` from the address
    /// groups `user` used in that window, most shared groups first, then
    /// most overlap, then by user id; at most `limit`.
    async fn sock_puppets(
        &self,
        user: &UserId,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<SockPuppet>, AuditError>;

    /// How many records lie at or before `cutoff`.
    async fn count_older(&self, cutoff: DateTime<Utc>) -> Result<u64, AuditError>;

    /// Deletes the oldest records at or before `cutoff`, at most `limit`,
    /// in one transaction; returns how many. Fewer than `limit` means none
    /// is left.
    async fn delete_older(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<u64, AuditError>;

    /// Deletes every record of `actor` (GDPR erasure); returns how many.
    async fn delete_actor(&self, actor: &UserId) -> Result<u64, AuditError>;
}
