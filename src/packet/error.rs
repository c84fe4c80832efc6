//! Why a frame could not be decoded: the header that failed, where it starts in the frame, and
//! which length or field was wrong.

use crate::capture::Record;
use crate::diag::{Diagnostic, Layer};
use std::fmt;

/// The header a decoding step was reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Header {
    Ethernet,
    Vlan,
    Mpls,
    Pppoe,
    Sll,
    Sll2,
    Null,
    Loop,
    /// The first octet of an IP packet (its version nibble).
    Ip,
    Ipv4,
    Ipv6,
    /// An IPv6 extension header (hop-by-hop, routing, destination options, fragment).
    Ipv6Ext,
    /// IP Authentication Header (RFC 4302), in IPv4 or IPv6.
    Ah,
    Tcp,
    Udp,
    Gtp,
}

impl Header {
    pub fn as_str(self) -> &'static str {
        match self {
            Header::Ethernet => "ethernet",
            Header::Vlan => "vlan",
            Header::Mpls => "mpls",
            Header::Pppoe => "pppoe",
            Header::Sll => "sll",
            Header::Sll2 => "sll2",
            Header::Null => "null",
            Header::Loop => "loop",
            Header::Ip => "ip",
            Header::Ipv4 => "ipv4",
            Header::Ipv6 => "ipv6",
            Header::Ipv6Ext => "ipv6 extension header",
            Header::Ah => "ip authentication header",
            Header::Tcp => "tcp",
            Header::Udp => "udp",
            Header::Gtp => "gtp-u",
        }
    }

    /// The pipeline layer a failure in this header is reported under.
    pub fn layer(self) -> Layer {
        match self {
            Header::Ethernet
            | Header::Vlan
            | Header::Mpls
            | Header::Pppoe
            | Header::Sll
            | Header::Sll2
            | Header::Null
            | Header::Loop => Layer::Link,
            Header::Ip | Header::Ipv4 | Header::Ipv6 | Header::Ipv6Ext | Header::Ah => Layer::Ip,
            Header::Tcp => Layer::Tcp,
            Header::Udp => Layer::Udp,
            Header::Gtp => Layer::Gtp,
        }
    }
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A frame that could not be decoded. `at` is the byte offset of the failing header in the frame
/// (in the reassembled payload when the error comes from decoding a reassembled datagram).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    #[error("link type {0} is not supported")]
    UnsupportedLinkType(u32),
    /// Fewer bytes than the fixed part of a header.
    #[error("{header} at byte {at}: {needed} bytes needed, {present} present")]
    Short {
        header: Header,
        at: usize,
        needed: usize,
        present: usize,
    },
    /// The header's own length field asks for more bytes than the frame holds.
    #[error("{header} at byte {at}: header length {header_len} but only {present} bytes")]
    HeaderCut {
        header: Header,
        at: usize,
        header_len: usize,
        present: usize,
    },
    /// A field holds a value the decoder cannot follow.
    #[error("{header} at byte {at}: {field} {value} {problem}")]
    Invalid {
        header: Header,
        at: usize,
        field: &'static str,
        value: u64,
        problem: &'static str,
    },
    /// A chain of headers is longer than the decoder follows.
    #[error("{header} at byte {at}: more than {max} {what}")]
    TooMany {
        header: Header,
        at: usize,
        what: &'static str,
        max: usize,
    },
}

impl PacketError {
    /// The header that failed, when the error belongs to one.
    pub fn header(&self) -> Option<Header> {
        match self {
            PacketError::UnsupportedLinkType(_) => None,
            PacketError::Short { header, .. }
            | PacketError::HeaderCut { header, .. }
            | PacketError::Invalid { header, .. }
            | PacketError::TooMany { header, .. } => Some(*header),
        }
    }

    /// The pipeline layer this error is reported under.
    pub fn layer(&self) -> Layer {
        self.header().map_or(Layer::Link, Header::layer)
    }

    /// A diagnostic for frame `frame` whose record starts at byte `offset` of the input.
    pub fn to_diagnostic(&self, frame: u64, offset: u64) -> Diagnostic {
        Diagnostic::new(self.layer(), self.to_string())
            .at_frame(frame)
            .at_offset(offset)
    }

    /// A diagnostic located at the record the error came from.
    pub fn diagnostic_for(&self, rec: &Record) -> Diagnostic {
        self.to_diagnostic(rec.frame, rec.offset)
    }
}
