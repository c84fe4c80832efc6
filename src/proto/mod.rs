//! Stage 4 — proto: streams → PDUs.
//!
//! One folder per protocol: a pure parser (bytes → typed structs borrowing the input) and, apart
//! from it, the state machine that needs history (reassembly, sessions, pairing).

pub mod dispatch;
pub mod http;
pub mod mms;
pub mod tls;
pub mod wsp;
pub mod wtls;
pub mod wtp;
