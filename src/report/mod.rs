//! Stage 7 — report: findings → table, JSON, JSON Lines, CSV, HTML.

pub mod csv;
pub mod html;
pub mod jsonl;
pub mod model;
pub mod sanitize;
pub mod table;
