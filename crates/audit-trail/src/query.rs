//! Which audit records to read (SPEC E3).

use chrono::{DateTime, Utc};
use moderation_core::{ObjectRef, UserId};
use serde::{Deserialize, Serialize};

use crate::ip_key::IpRange;
use crate::record::AuditRecord;

/// A filter on audit records; empty fields do not filter. Results come
/// newest first in keyset pages.
///
/// Build `ip` with [`AuditTrail::ip_range`](crate::AuditTrail::ip_range) or
/// [`AuditTrail::exact_ip`](crate::AuditTrail::exact_ip), which apply the
/// trail's privacy mode.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// Only what this user did.
    pub actor: Option<UserId>,
    /// Only records from these addresses.
    pub ip: Option<IpRange>,
    /// Only what was done to this object.
    pub target: Option<ObjectRef>,
    /// Only records at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only records strictly before this time.
    pub until: Option<DateTime<Utc>>,
}

impl AuditQuery {
    /// Records of one user.
    #[must_use]
    pub fn by_actor(actor: UserId) -> Self {
        Self {
            actor: Some(actor),
            ..Self::default()
        }
    }

    /// Records on one object.
    #[must_use]
    pub fn by_target(target: ObjectRef) -> Self {
        Self {
            target: Some(target),
            ..Self::default()
        }
    }

    /// Records from one address or network.
    #[must_use]
    pub fn by_ip(range: IpRange) -> Self {
        Self {
            ip: Some(range),
            ..Self::default()
        }
    }

    /// Only records in `[since, until)`.
    #[must_use]
    pub fn between(mut self, since: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        self.since = Some(since);
        self.until = Some(until);
        self
    }

    /// True when `record` passes the filter: the reference semantics every
    /// store's query must match.
    #[must_use]
    pub fn matches(&self, record: &AuditRecord) -> bool {
        self.actor
            .as_ref()
            .is_none_or(|a| record.actor.as_ref() == Some(a))
            && self
                .ip
                .as_ref()
                .is_none_or(|range| record.ip.as_ref().is_some_and(|ip| range.contains(ip)))
            && self.target.as_ref().is_none_or(|t| record.target == *t)
            && self.since.is_none_or(|since| record.at >= since)
            && self.until.is_none_or(|until| record.at < until)
    }
}
