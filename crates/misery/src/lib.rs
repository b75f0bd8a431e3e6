//! # moderation-misery
//!
//! Ban lists by user id, exact IP and CIDR network, and what to do with the
//! people on them, for any tower / hyper / axum stack:
//!
//! - [`BanList`]: an immutable [`BanSnapshot`] behind an atomic swap. Every
//!   request can consult it: readers never lock or await, and a lookup,
//!   banned or not, is a bounded number of memory reads with no allocation. [`BanRefresher`] keeps it in step
//!   with a [`BanStore`] ([`MemoryBanStore`] is the reference store).
//! - [`MiseryLayer`] / [`Misery`]: slowban and errorban. A miserable request
//!   waits (asynchronously) between S and 2S, then gets one [`Punishment`]
//!   drawn with the configured [`Percentages`]; everyone else passes through
//!   untouched, without boxing.
//! - [`ClientIpLayer`] (or [`ClientIpResolver`] directly) puts the resolved
//!   [`ClientIp`] in the request extensions, where the layer reads it.
//! - [`Visibility`]: hellban, the author sees their posts, others do not,
//!   staff see them marked.
//! - [`HardBans`]: username / e-mail [`BanPattern`]s and networks, checked at
//!   sign-up or always, newest matching ban first.
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
//!
//! // The layer: a client on 83.0.0.0/8 waits 6-12 s and often gets an error;
//! // everybody else reaches the service at once.
//! use moderation_misery::{ClientIp, MiseryLayer};
//! use tower::{Layer, ServiceExt, service_fn};
//! let service = MiseryLayer::builder(bans)
//!     .exempt_path("/health")
//!     .build()?
//!     .layer(service_fn(|_request: http::Request<String>| async {
//!         Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hello")))
//!     }));
//! let mut request = http::Request::new(String::new());
//! request.extensions_mut().insert(ClientIp::new("198.51.100.1".parse()?));
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
//! let response = runtime.block_on(service.oneshot(request))?;
//! assert_eq!(response.body(), "hello");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod ban_list;
mod client_ip_layer;
mod config;
mod entry;
mod error;
mod future;
mod hard_ban;
mod hellban;
mod index;
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
pub use client_ip_layer::{ClientIpLayer, PeerAddr, ResolveClientIp};
pub use config::{DEFAULT_DELAY, DEFAULT_MAX_DELAYED, FAKE_ERROR_PAGE, MiseryBuilder};
pub use entry::{BanEntry, BanKind, BanTarget};
pub use error::MiseryError;
pub use future::ResponseFuture;
pub use hard_ban::{Applicant, HardBan, HardBanRule, HardBans, Stage};
pub use hellban::Visibility;
pub use layer::MiseryLayer;
pub use logout::LogoutHook;
pub use memory_store::MemoryBanStore;
/// The client address extension and resolver this layer reads, re-exported
/// so applications need not name `moderation-core`'s `http` feature.
pub use moderation_core::http::{ClientIp, ClientIpResolver};
pub use network::parse_network;
pub use pattern::BanPattern;
pub use punishment::{Percentages, Punishment};
pub use refresh::BanRefresher;
pub use service::Misery;
pub use snapshot::BanSnapshot;
pub use store::{BanStore, NewBan};
