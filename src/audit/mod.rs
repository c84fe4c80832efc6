//! Stage 6 — audit: transfers and messages → findings.

pub mod detect;
pub mod engine;
pub mod rules;

pub use rules::{RULES, Rule};
