//! Stage 7 — report: findings → table, JSON, JSON Lines, CSV, HTML; extraction; redaction.

pub mod csv;
pub mod extract;
pub mod html;
pub mod jsonl;
pub mod model;
pub mod redact;
pub mod sanitize;
pub mod stream;
pub mod table;
