//! The in-memory moderation log as an [`IpHolder`], so retention clears the
//! IPs of old log entries in memory as the SQL stores do in their tables.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use moderation_core::{MemoryModerationLog, UserId};

use crate::error::AuditError;
use crate::retention::IpHolder;

#[async_trait]
impl IpHolder for MemoryModerationLog {
    fn name(&self) -> &str {
        "moderation_log"
    }

    async fn count_ips_older(&self, cutoff: DateTime<Utc>) -> Result<u64, AuditError> {
        Ok(MemoryModerationLog::count_ips_older(self, cutoff))
    }

    async fn clear_ips_older(&self, cutoff: DateTime<Utc>, limit: u32) -> Result<u64, AuditError> {
        Ok(MemoryModerationLog::clear_ips_older(
            self,
            cutoff,
            usize::try_from(limit).unwrap_or(usize::MAX),
        ))
    }

    async fn clear_user_ips(&self, _user: &UserId) -> Result<u64, AuditError> {
        // Erasure anonymises the user's entries through `ModerationLog`,
        // which clears their IPs with the actor: nothing is left here.
        Ok(0)
    }
}
