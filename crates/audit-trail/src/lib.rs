//! # moderation-audit-trail
//!
//! Who did what, from which IP, on which object: audit records, sock-puppet
//! lookups, IP retention, GDPR export and erasure, on top of the moderation
//! log that moderation-core's actions write.
//!
//! - [`AuditTrail`] is the entry point. [`AuditTrail::record`] stores an
//!   [`AuditRecord`] (nothing for anonymous visitors unless configured);
//!   [`AuditTrail::records`] reads them by user, IP or network, target and
//!   time, newest first in keyset pages; [`AuditTrail::sock_puppets`] ranks
//!   the accounts seen from the same addresses.
//! - The client IP comes from [`ClientIpResolver`] (shared with
//!   moderation-misery): the TCP peer, or forwarding headers only from
//!   trusted proxies, read right to left.
//! - [`PrivacyMode`] decides what is stored of an address: all of it, its
//!   /24 or /48, or a keyed hash that still matches equal addresses.
//! - [`AuditTrail::purge`] applies `ip_store_time`; [`AuditTrail::export_user`]
//!   and [`AuditTrail::erase_user`] serve GDPR requests.
//! - [`AuditStore`] is the port; [`MemoryAuditStore`] the reference store;
//!   `moderation-storage` has SQLite and PostgreSQL.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use chrono::Duration;
//! use moderation_audit_trail::{AuditTrail, MemoryAuditStore};
//! use moderation_core::{Kind, MemoryModerationLog, ObjectRef, UserId};
//!
//! let trail = AuditTrail::builder(
//!     Arc::new(MemoryAuditStore::new()),
//!     Arc::new(MemoryModerationLog::new()),
//! )
//! .build();
//! let thread = ObjectRef::new(Kind::new("forum.thread")?, 1_i64);
//! let (alice, mallory) = (UserId::from(1_i64), UserId::from(2_i64));
//! for user in [&alice, &mallory] {
//!     let ip = Some("2001:db8:1:2::7".parse()?);
//!     trail.record(Some(user), ip, thread.clone(), "post.create", serde_json::Value::Null).await?;
//! }
//! let suspects = trail.sock_puppets(&alice, Duration::days(30), 10).await?;
//! assert_eq!(suspects[0].user, mallory);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod error;
mod gdpr;
mod ip_key;
mod log_ips;
mod memory;
mod privacy;
mod query;
mod record;
mod retention;
mod store;
mod trail;

pub use error::AuditError;
pub use gdpr::{ErasureReport, UserExport};
pub use ip_key::{IpRange, RecordedIp};
pub use memory::MemoryAuditStore;
pub use moderation_core::http::{ClientIp, ClientIpResolver};
pub use privacy::{IpHasher, MIN_KEY_LEN, PrivacyMode, TRUNCATED_V4_PREFIX, TRUNCATED_V6_PREFIX};
pub use query::AuditQuery;
pub use record::{AuditRecord, NewAuditRecord};
pub use retention::{DEFAULT_PURGE_BATCH, IpHolder, PurgeReport, purge};
pub use store::{AuditStore, SockPuppet};
pub use trail::{AuditEvent, AuditTrail, AuditTrailBuilder, MAX_SOCK_PUPPETS};
