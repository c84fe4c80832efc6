//! Stage 7 — report: findings → table, JSON, JSON Lines, CSV.

pub mod csv;
pub mod jsonl;
pub mod model;
pub mod sanitize;
pub mod table;
