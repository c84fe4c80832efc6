//! Stage 5 — transfer: PDUs → transfers and messages.
//!
//! A transfer is one exchange over one carrier: an HTTP request and its response, a WSP method and
//! its reply, a push, or an encrypted connection to an MMSC. A message is the set of PDUs of one
//! MMS correlated across transfers and transports (see [`correlate`]).

pub mod build;
pub mod correlate;
pub mod entry;

use crate::report::model;
use crate::time::Timestamp;

/// The bytes of one decoded MMS part, kept beside the report for the audit and for extraction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartContent {
    /// Index of the PDU in the transfer's `pdus`.
    pub pdu: usize,
    /// The part's `index` in that PDU.
    pub part: usize,
    pub content_type: String,
    pub charset: Option<String>,
    pub data: Vec<u8>,
}

/// A transfer as the report shows it, plus what later stages need and the report does not carry.
#[derive(Debug, Clone, PartialEq)]
pub struct TransferRecord {
    pub transfer: model::Transfer,
    /// Capture time of the first and last frame.
    pub start: Timestamp,
    pub end: Timestamp,
    /// Position of the input in the command line (for ordering).
    pub input_index: usize,
    pub parts: Vec<PartContent>,
    /// Decoded text of the PDUs' text and SMIL parts, with the part they came from.
    pub texts: Vec<(usize, usize, String)>,
    /// Every PDU decoded field by field (for `inspect`), when the transfer stage was asked to keep
    /// them.
    pub details: Vec<Vec<(String, String)>>,
    /// Every PDU's bytes as they crossed the wire, when the transfer stage was asked to keep
    /// them (`--extract-pdus`).
    pub pdu_bytes: Vec<Vec<u8>>,
}

impl TransferRecord {
    /// The sort key that makes output deterministic: input, then first frame.
    pub fn order_key(&self) -> impl Ord + '_ {
        let t = &self.transfer;
        (
            self.input_index,
            t.first_frame,
            t.last_frame,
            t.transport,
            (t.client.ip, t.client.port, t.server.ip, t.server.port),
            t.request.as_ref().map(|r| (&r.method, &r.uri)),
            t.pdus.first().map(|p| p.frame),
        )
    }
}
