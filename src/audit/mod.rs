//! Stage 6 — audit: transfers and messages → findings.

pub mod detect;
pub mod rules;

pub use rules::{RULES, Rule};
