//! The JSON report, contract version `mmsleak.report/1` (DESIGN.md section 4).
//!
//! Field names are the contract: add fields freely, never rename or drop one without bumping
//! [`SCHEMA`]. These types are plain data: every stage before `report` fills them, every output
//! format reads them.

use crate::diag::Diagnostic;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;

pub const SCHEMA: &str = "mmsleak.report/1";

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub schema: &'static str,
    pub tool: Tool,
    pub inputs: Vec<InputReport>,
    pub summary: Summary,
    pub transfers: Vec<Transfer>,
    pub messages: Vec<Message>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Default for Tool {
    fn default() -> Self {
        Tool {
            name: "mmsleak",
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InputReport {
    pub path: String,
    /// `pcap` or `pcapng`; null when the input could not be read at all.
    pub format: Option<&'static str>,
    /// Link types by name (`ethernet`, `linux-sll`, ...; `linktype-N` when unnamed).
    pub link_types: Vec<String>,
    pub packets: u64,
    pub bytes: u64,
    pub first_time: Option<String>,
    pub last_time: Option<String>,
    /// Seconds from the first to the last record.
    pub duration_secs: Option<f64>,
    pub diagnostics: Vec<DiagnosticReport>,
    /// Diagnostics counted but not listed once the per-input cap was reached.
    pub diagnostics_suppressed: u64,
    /// Frames the packet layer could not decode to IP (ARP, unknown link types, ...).
    pub non_ip_frames: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DiagnosticReport {
    pub frame: Option<u64>,
    pub offset: Option<u64>,
    pub layer: &'static str,
    pub message: String,
}

impl From<&Diagnostic> for DiagnosticReport {
    fn from(d: &Diagnostic) -> Self {
        DiagnosticReport {
            frame: d.frame,
            offset: d.offset,
            layer: d.layer.as_str(),
            message: d.message.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    pub packets: u64,
    pub flows: u64,
    pub transfers: u64,
    pub cleartext_transfers: u64,
    pub encrypted_transfers: u64,
    pub messages: u64,
    pub findings: SeverityCounts,
}

#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct SeverityCounts {
    pub critical: u64,
    pub high: u64,
    pub medium: u64,
    pub low: u64,
    pub info: u64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: u16,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TunnelReport {
    pub kind: &'static str,
    pub teid: u32,
    pub outer_client: IpAddr,
    pub outer_server: IpAddr,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Transfer {
    pub id: String,
    pub input: String,
    pub transport: &'static str,
    pub client: Endpoint,
    pub server: Endpoint,
    pub tunnel: Option<TunnelReport>,
    pub first_frame: u64,
    pub last_frame: u64,
    pub start: String,
    pub end: String,
    pub encrypted: bool,
    pub complete: bool,
    pub sni: Option<String>,
    pub tls_version: Option<String>,
    /// TLS: the frames of the ClientHello and ServerHello, which show the name and the
    /// negotiated version (empty for other transports, or when they were not seen).
    pub handshake_frames: Vec<u64>,
    pub request: Option<RequestReport>,
    pub response: Option<ResponseReport>,
    pub pdus: Vec<PduReport>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RequestReport {
    pub method: String,
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub frames: Vec<u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ResponseReport {
    /// HTTP status; null for a push (no status travels with it).
    pub status: Option<u16>,
    pub headers: Vec<(String, String)>,
    pub frames: Vec<u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PduReport {
    pub frame: u64,
    pub direction: &'static str,
    pub message_type: String,
    pub transaction_id: Option<String>,
    pub mms_version: Option<String>,
    pub message_id: Option<String>,
    pub from: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub bcc: Vec<String>,
    pub subject: Option<String>,
    pub content_location: Option<String>,
    pub date: Option<String>,
    pub expiry: Option<String>,
    pub message_size: Option<u64>,
    pub content_type: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub parts: Vec<PartReport>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct PartReport {
    pub index: usize,
    pub content_type: String,
    pub name: Option<String>,
    pub content_id: Option<String>,
    pub content_location: Option<String>,
    pub charset: Option<String>,
    pub size: u64,
    pub sha256: String,
    pub extracted_to: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Message {
    pub id: String,
    pub message_id: Option<String>,
    pub transaction_ids: Vec<String>,
    pub content_location: Option<String>,
    pub transfers: Vec<String>,
    pub timeline: Vec<TimelineEntry>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct TimelineEntry {
    pub frame: u64,
    pub transfer: String,
    pub message_type: String,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|sev| sev.as_str().eq_ignore_ascii_case(s))
    }
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    Interception,
    Storage,
    Forwarding,
    Exposure,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Interception => "interception",
            Category::Storage => "storage",
            Category::Forwarding => "forwarding",
            Category::Exposure => "exposure",
        }
    }
}

/// A finding. Its evidence is a JSON object; a streamed report serialises findings straight from
/// the audit's typed evidence (`E`), with the same bytes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding<E = serde_json::Map<String, serde_json::Value>> {
    pub id: String,
    pub rule: &'static str,
    pub category: Category,
    pub severity: Severity,
    pub transfer: Option<String>,
    pub message: Option<String>,
    pub frames: Vec<u64>,
    pub title: String,
    pub evidence: E,
    pub remediation: &'static str,
}

impl SeverityCounts {
    pub fn add(&mut self, sev: Severity) {
        match sev {
            Severity::Info => self.info += 1,
            Severity::Low => self.low += 1,
            Severity::Medium => self.medium += 1,
            Severity::High => self.high += 1,
            Severity::Critical => self.critical += 1,
        }
    }

    /// Findings at or above `sev`.
    pub fn at_least(&self, sev: Severity) -> u64 {
        Severity::ALL
            .into_iter()
            .filter(|s| *s >= sev)
            .map(|s| match s {
                Severity::Info => self.info,
                Severity::Low => self.low,
                Severity::Medium => self.medium,
                Severity::High => self.high,
                Severity::Critical => self.critical,
            })
            .sum()
    }
}
