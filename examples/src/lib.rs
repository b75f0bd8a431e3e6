//! Runnable examples for moderation-kit. Run one with
//! `cargo run -p moderation-examples --example NAME`.
