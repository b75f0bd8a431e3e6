//! # moderation-audit-trail
//!
//! Who did what, from which IP, on which object: audit records, sock-puppet
//! lookups, IP retention and purge, GDPR export and erasure, and the moderation
//! log. This crate is being built; its API is not available yet.
