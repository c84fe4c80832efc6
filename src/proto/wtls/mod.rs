//! WTLS (WAP-261) on UDP 9202/9203 (and secure push 2950/2951): recognised, never decrypted.
//!
//! [`parser`] splits a datagram into records and reads a Hello's protocol version when it is in
//! clear; [`WtlsSummary`] counts what one flow carried.

pub mod parser;

pub use parser::{
    WtlsContentType, WtlsError, WtlsHandshake, WtlsHandshakeType, WtlsRecord, parse_datagram,
};

use crate::diag::{Diagnostic, Layer};

/// What one WTLS flow showed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WtlsSummary {
    /// Protocol version from a ClientHello/ServerHello (the ServerHello's wins: it is the one
    /// agreed), when a Hello was seen.
    pub version: Option<u8>,
    pub records: u64,
    pub handshake_seen: bool,
    /// Records sent under a cipher spec (their content is not readable).
    pub encrypted_records: u64,
    pub application_data_records: u64,
    pub alerts: u64,
    /// Datagrams that were not WTLS records.
    pub bad_datagrams: u64,
    pub frames: Vec<u64>,
}

/// Cap on frames listed in a summary.
pub const MAX_SUMMARY_FRAMES: usize = 4096;

impl WtlsSummary {
    /// Adds one datagram of the flow; a datagram that is not WTLS becomes a diagnostic.
    pub fn on_datagram(&mut self, bytes: &[u8], frame: u64, diags: &mut Vec<Diagnostic>) {
        match parse_datagram(bytes) {
            Ok(records) => {
                for record in &records {
                    self.records = self.records.saturating_add(1);
                    if record.encrypted {
                        self.encrypted_records = self.encrypted_records.saturating_add(1);
                    }
                    match record.content_type {
                        WtlsContentType::Handshake => self.handshake_seen = true,
                        WtlsContentType::Alert => self.alerts = self.alerts.saturating_add(1),
                        WtlsContentType::ApplicationData => {
                            self.application_data_records =
                                self.application_data_records.saturating_add(1);
                        }
                        WtlsContentType::ChangeCipherSpec => {}
                    }
                    if let Some(hs) = record.handshake() {
                        match hs.msg_type {
                            WtlsHandshakeType::ServerHello => {
                                self.version = hs.hello_version.or(self.version);
                            }
                            WtlsHandshakeType::ClientHello if self.version.is_none() => {
                                self.version = hs.hello_version;
                            }
                            _ => {}
                        }
                    }
                }
                if self.frames.len() < MAX_SUMMARY_FRAMES {
                    self.frames.push(frame);
                }
            }
            Err(e) => {
                self.bad_datagrams = self.bad_datagrams.saturating_add(1);
                diags.push(Diagnostic::new(Layer::Wtls, e.to_string()).at_frame(frame));
            }
        }
    }
}
