//! Stage 6 — audit: transfers and messages → findings.
