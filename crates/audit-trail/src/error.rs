//! The one error type of moderation-audit-trail.

use moderation_core::{BoxError, ModerationError};

/// Everything that can go wrong in the audit trail and the stores behind it.
///
/// Every message says what to do about it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// Input the moderation-core types refuse: a malformed action verb, an
    /// invalid object or user id. Nothing was written.
    #[error(transparent)]
    Invalid(ModerationError),
    /// A CIDR range was asked of a trail that stores keyed hashes.
    #[error(
        "cannot search the network {network} in keyed-hash privacy mode: hashes only match whole addresses; search one address, or store full or truncated IPs"
    )]
    NetworkInKeyedMode {
        /// The network asked for.
        network: ipnet::IpNet,
    },
    /// The HMAC key for keyed-hash privacy mode is too short to keep
    /// addresses secret.
    #[error(
        "the IP hashing key is {len} bytes; use at least {min} random bytes (keep it secret and stable: changing it breaks lookups of older records)"
    )]
    WeakKey {
        /// Its length.
        len: usize,
        /// The least accepted.
        min: usize,
    },
    /// A stored IP key is not one this library writes.
    #[error(
        "stored IP key `{key}` is unreadable; the row was written by something other than this library or edited by hand"
    )]
    CorruptIpKey {
        /// The key as stored.
        key: String,
    },
    /// The store failed; what was asked was not done (a purge or erasure
    /// stops after the last complete batch and can simply be run again).
    #[error("the audit store failed: {source}; check the database and retry")]
    Store {
        /// The cause.
        #[source]
        source: BoxError,
    },
}

impl AuditError {
    /// Wraps a store failure.
    pub fn store(source: impl Into<BoxError>) -> Self {
        Self::Store {
            source: source.into(),
        }
    }
}

impl From<ModerationError> for AuditError {
    /// A failing store stays a store failure; anything else is invalid input.
    fn from(error: ModerationError) -> Self {
        match error {
            ModerationError::Store { source } => Self::Store { source },
            other => Self::Invalid(other),
        }
    }
}
