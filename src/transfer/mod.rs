//! Stage 5 — transfer: PDUs → transfers and messages.
