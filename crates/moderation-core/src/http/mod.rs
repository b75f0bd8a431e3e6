//! Client IP resolution shared by the audit trail and misery (SPEC E2).
//!
//! The address a request came from is the TCP peer, unless that peer is a
//! proxy the operator trusts; only then are `Forwarded` / `X-Forwarded-For`
//! read, right to left, skipping trusted hops, so a client cannot forge its
//! address by prepending entries.
//!
//! ```
//! use http::Request;
//! use moderation_core::http::{ClientIp, ClientIpResolver};
//!
//! let resolver = ClientIpResolver::with_trusted_proxies(["10.0.0.0/8".parse()?]);
//! let mut request = Request::builder()
//!     .header("x-forwarded-for", "198.51.100.1, 203.0.113.7")
//!     .body(())?;
//! let ip = resolver.insert_client_ip(&mut request, "10.0.0.2".parse()?);
//! assert_eq!(ip.to_string(), "203.0.113.7");
//! assert_eq!(request.extensions().get::<ClientIp>(), Some(&ip));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod client_ip;
mod forwarded;
mod resolver;

pub use client_ip::ClientIp;
pub use resolver::ClientIpResolver;
