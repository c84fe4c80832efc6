//! mmsleak audits saved network captures for MMS traffic that crossed the wire unencrypted or
//! leaked personal data.
//!
//! Data flows one way through seven stages, one module each:
//!
//! ```text
//! capture   files → records      pcap / pcapng, .gz, folders, stdin
//! packet    record → packet      link layers, IPv4/IPv6 + defragmentation, GTP-U, TCP/UDP
//! flow      packets → streams    flow table, TCP reassembly, UDP datagram streams
//! proto     streams → PDUs       wtp, wsp, mms, http, tls
//! transfer  PDUs → transfers     one exchange over one carrier; messages across transfers
//! audit     → findings           the detection catalog
//! report    → outputs            table, json, jsonl, csv, html
//! ```

// Unsafe code is refused everywhere but in two places a benchmark justified: the binary's
// allocator set-up, and the library's one cache hint (`hint::prefetch`).
#![deny(unsafe_code)]

pub mod audit;
pub mod capture;
pub mod carve;
pub mod cli;
pub mod diag;
pub mod flow;
mod hint;
pub mod inspect;
pub mod packet;
pub mod proto;
pub mod report;
pub mod scan;
pub mod spill;
pub mod synth;
pub mod time;
pub mod transfer;

pub use diag::{Diagnostic, Layer};
pub use time::Timestamp;
