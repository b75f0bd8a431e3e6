//! # moderation-misery
//!
//! Ban lists by user id, exact IP and CIDR network, and what to do with the
//! people on them:
//!
//! - [`BanList`]: an immutable [`BanSnapshot`] behind an atomic swap. Every
//!   request can consult it: readers never lock, and the not-banned path
//!   allocates nothing and never awaits. [`BanRefresher`] keeps it in step
//!   with a [`BanStore`].
//!
//! ```
//! use std::sync::Arc;
//! use chrono::Utc;
//! use moderation_core::{SystemClock, UserId};
//! use moderation_misery::{BanEntry, BanKind, BanList, BanTarget, parse_network};
//!
//! let bans = BanList::new(Arc::new(SystemClock));
//! bans.replace([BanEntry {
//!     id: 1,
//!     target: BanTarget::Network(parse_network("83.0.0.0/8")?),
//!     kind: BanKind::Misery,
//!     reason: "flooding the forum".to_owned(),
//!     created_by: UserId::from(1_i64),
//!     created_at: Utc::now(),
//!     expires_at: None,
//! }]);
//! assert!(bans.is_banned(Some("83.1.2.3".parse()?), None, BanKind::Misery));
//! assert!(!bans.is_banned(Some("183.1.2.3".parse()?), None, BanKind::Misery));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ban_list;
mod config;
mod entry;
mod error;
mod future;
mod hard_ban;
mod hellban;
mod layer;
mod logout;
mod memory_store;
mod network;
mod pattern;
mod punishment;
mod refresh;
mod service;
mod shared;
mod snapshot;
mod store;

pub use ban_list::BanList;
pub use config::{DEFAULT_DELAY, DEFAULT_MAX_DELAYED, FAKE_ERROR_PAGE, MiseryBuilder};
pub use entry::{BanEntry, BanKind, BanTarget};
pub use error::MiseryError;
pub use future::ResponseFuture;
pub use hard_ban::{Applicant, HardBan, HardBanRule, HardBans, Stage};
pub use hellban::Visibility;
pub use layer::MiseryLayer;
pub use logout::LogoutHook;
pub use memory_store::MemoryBanStore;
pub use network::parse_network;
pub use pattern::BanPattern;
pub use punishment::{Percentages, Punishment};
pub use refresh::BanRefresher;
pub use service::Misery;
pub use snapshot::BanSnapshot;
pub use store::{BanStore, NewBan};
