//! Stage 7 — report: findings → table, JSON, JSON Lines, CSV, HTML.
