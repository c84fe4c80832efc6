//! Stage 7 — report: findings → table, JSON, JSON Lines, CSV, HTML.

pub mod model;
pub mod sanitize;
pub mod table;
