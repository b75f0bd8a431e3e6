//! The crate's error type.

use moderation_core::BoxError;

/// Everything that can go wrong when configuring misery or managing bans.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MiseryError {
    /// A CIDR was given with bits set after the prefix.
    #[error(
        "`{given}` has host bits set after the /{prefix_len} prefix; write the network address `{network}` instead"
    )]
    HostBitsSet {
        /// The text as given.
        given: String,
        /// The prefix length.
        prefix_len: u8,
        /// The network the entry probably meant.
        network: ipnet::IpNet,
    },
    /// Text that is neither an IP address nor a CIDR network.
    #[error(
        "`{given}` is not an IP address or CIDR network; write `203.0.113.7`, `2001:db8::1` or `203.0.113.0/24`"
    )]
    InvalidAddress {
        /// The text as given.
        given: String,
    },
    /// The punishment percentages add up to more than 100.
    #[error(
        "punishment percentages add up to {total} %, more than 100 %; lower some so the total is at most 100"
    )]
    PercentagesOverHundred {
        /// The configured total.
        total: u16,
    },
    /// The delay configuration cannot be used.
    #[error("misery delay of {seconds} s is too long; use a base delay of at most one hour")]
    DelayTooLong {
        /// The configured base delay in seconds.
        seconds: u64,
    },
    /// A hard-ban pattern that would match too much or nothing.
    #[error(
        "hard-ban pattern `{pattern}` is too vague: {why}; include literal characters, e.g. `spammer*` or `*@spam.example`"
    )]
    VaguePattern {
        /// The pattern as given.
        pattern: String,
        /// Why it was refused.
        why: &'static str,
    },
    /// A user id that the core identifiers refuse.
    #[error("invalid user id for a ban: {0}")]
    InvalidUserId(#[from] moderation_core::ModerationError),
    /// No ban with this id exists in the store.
    #[error("no ban with id {id}; list the bans to find the right id")]
    UnknownBan {
        /// The id asked for.
        id: u64,
    },
    /// The ban store failed (I/O, database); the previous snapshot stays in force.
    #[error(
        "ban store failed: {0}; the previous ban list stays in force, check the store and retry"
    )]
    Store(#[source] BoxError),
}
