//! Criterion benches and workload programs for moderation-kit; see
//! `docs/benchmarks.md` for how to run them and the figures measured.

pub mod audit_population;
pub mod comments;
