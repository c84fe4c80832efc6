//! Diagnostics: what went wrong with a record, a packet or a PDU, and where.
//!
//! A damaged input never stops the run: each problem becomes a [`Diagnostic`] naming the layer,
//! the frame (records count from 1 per input file, as Wireshark numbers them) and, where it is
//! known, the byte offset in the input file.

use serde::Serialize;
use std::fmt;

/// The pipeline layer that noticed a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    /// File formats: pcap, pcapng, gzip, folders.
    Capture,
    /// Link layers: Ethernet, VLAN, SLL, SLL2, null/loopback.
    Link,
    /// IPv4 / IPv6, extension headers and defragmentation.
    Ip,
    /// GTP-U tunnels.
    Gtp,
    Tcp,
    Udp,
    /// Flow table and stream reassembly.
    Flow,
    Wtp,
    Wsp,
    Wtls,
    Mms,
    Http,
    Tls,
    Transfer,
    Audit,
    /// A configured resource cap was reached.
    Limit,
}

impl Layer {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Capture => "capture",
            Layer::Link => "link",
            Layer::Ip => "ip",
            Layer::Gtp => "gtp",
            Layer::Tcp => "tcp",
            Layer::Udp => "udp",
            Layer::Flow => "flow",
            Layer::Wtp => "wtp",
            Layer::Wsp => "wsp",
            Layer::Wtls => "wtls",
            Layer::Mms => "mms",
            Layer::Http => "http",
            Layer::Tls => "tls",
            Layer::Transfer => "transfer",
            Layer::Audit => "audit",
            Layer::Limit => "limit",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem found in an input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Frame number (from 1) the problem belongs to, when it belongs to one.
    pub frame: Option<u64>,
    /// Byte offset in the (decompressed) input file, when known.
    pub offset: Option<u64>,
    pub layer: Layer,
    pub message: String,
}

impl Diagnostic {
    pub fn new(layer: Layer, message: impl Into<String>) -> Self {
        Diagnostic {
            frame: None,
            offset: None,
            layer,
            message: message.into(),
        }
    }

    pub fn at_frame(mut self, frame: u64) -> Self {
        self.frame = Some(frame);
        self
    }

    pub fn at_offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}]", self.layer)?;
        if let Some(frame) = self.frame {
            write!(f, " frame {frame}")?;
        }
        if let Some(offset) = self.offset {
            write!(f, " offset {offset}")?;
        }
        write!(f, ": {}", self.message)
    }
}
