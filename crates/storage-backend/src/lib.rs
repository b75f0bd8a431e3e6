//! # moderation-storage
//!
//! SQLite (the embedded default) and PostgreSQL implementations of the store
//! ports of moderation-kit. This crate is being built; its API is not
//! available yet.
