//! # moderation-diff
//!
//! Field-by-field differences between two versions of a record, rendered as
//! escaped HTML, JSON and plain text. This crate is being built; its API is not
//! available yet.
