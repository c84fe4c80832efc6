//! WTP.
