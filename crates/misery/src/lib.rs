//! # moderation-misery
//!
//! Ban lists by user id, IP and CIDR, hellban visibility, and a tower layer
//! that makes life slow and flaky for banned clients. This crate is being
//! built; its API is not available yet.
