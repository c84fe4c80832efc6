//! Stage 1 — capture: files → records.
//!
//! Streams pcap and pcapng (both byte orders, every timestamp resolution), gzip-compressed files,
//! folders and standard input, with a bounded buffer. Damage becomes a [`Diagnostic`] and the
//! reader resynchronises on the next plausible record.

use crate::time::Timestamp;

/// Link-layer header types (LINKTYPE_* values of the pcap and pcapng formats).
pub mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    /// DLT_RAW as most systems number it.
    pub const RAW_12: u32 = 12;
    /// DLT_RAW as OpenBSD numbers it.
    pub const RAW_14: u32 = 14;
    pub const LOOP: u32 = 108;
    pub const RAW: u32 = 101;
    pub const LINUX_SLL: u32 = 113;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const LINUX_SLL2: u32 = 276;
}

/// The container format of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureFormat {
    Pcap,
    Pcapng,
}

impl CaptureFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            CaptureFormat::Pcap => "pcap",
            CaptureFormat::Pcapng => "pcapng",
        }
    }
}

/// One captured frame, as read from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Frame number, counting from 1 in each input file (damaged records still take a number).
    pub frame: u64,
    /// Byte offset of the record (its header) in the decompressed input.
    pub offset: u64,
    pub ts: Timestamp,
    /// LINKTYPE_* of the interface the frame was captured on.
    pub link_type: u32,
    /// Length of the frame on the wire; `data.len()` is smaller when the snaplen cut it.
    pub orig_len: u32,
    pub data: Vec<u8>,
}

impl Record {
    /// True when the capture kept fewer bytes than were on the wire.
    pub fn is_truncated(&self) -> bool {
        (self.data.len() as u64) < u64::from(self.orig_len)
    }
}
