//! Why a frame could not be decoded: the header that failed, where it starts in the frame, and
//! which length or field was wrong.

use crate::capture::Record;
use crate::diag::{Diagnostic, Layer};
use std::fmt;

/// The header a decoding step was reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proto {
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

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Ethernet => "ethernet",
            Proto::Vlan => "vlan",
            Proto::Mpls => "mpls",
            Proto::Pppoe => "pppoe",
            Proto::Sll => "sll",
            Proto::Sll2 => "sll2",
            Proto::Null => "null",
            Proto::Loop => "loop",
            Proto::Ip => "ip",
            Proto::Ipv4 => "ipv4",
            Proto::Ipv6 => "ipv6",
            Proto::Ipv6Ext => "ipv6 extension header",
            Proto::Ah => "ip authentication header",
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Gtp => "gtp-u",
        }
    }

    /// The pipeline layer a failure in this header is reported under.
    pub fn layer(self) -> Layer {
        match self {
            Proto::Ethernet
            | Proto::Vlan
            | Proto::Mpls
            | Proto::Pppoe
            | Proto::Sll
            | Proto::Sll2
            | Proto::Null
            | Proto::Loop => Layer::Link,
            Proto::Ip | Proto::Ipv4 | Proto::Ipv6 | Proto::Ipv6Ext | Proto::Ah => Layer::Ip,
            Proto::Tcp => Layer::Tcp,
            Proto::Udp => Layer::Udp,
            Proto::Gtp => Layer::Gtp,
        }
    }
}

impl fmt::Display for Proto {
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
    #[error("{proto} at byte {at}: {needed} bytes needed, {present} present")]
    Short {
        proto: Proto,
        at: usize,
        needed: usize,
        present: usize,
    },
    /// The header's own length field asks for more bytes than the frame holds.
    #[error("{proto} at byte {at}: header length {header_len} but only {present} bytes")]
    HeaderCut {
        proto: Proto,
        at: usize,
        header_len: usize,
        present: usize,
    },
    /// A field holds a value the decoder cannot follow.
    #[error("{proto} at byte {at}: {field} {value} {problem}")]
    Invalid {
        proto: Proto,
        at: usize,
        field: &'static str,
        value: u64,
        problem: &'static str,
    },
    /// A chain of headers is longer than the decoder follows.
    #[error("{proto} at byte {at}: more than {max} {what}")]
    TooMany {
        proto: Proto,
        at: usize,
        what: &'static str,
        max: usize,
    },
}

impl PacketError {
    /// The header that failed, when the error belongs to one.
    pub fn proto(&self) -> Option<Proto> {
        match self {
            PacketError::UnsupportedLinkType(_) => None,
            PacketError::Short { proto, .. }
            | PacketError::HeaderCut { proto, .. }
            | PacketError::Invalid { proto, .. }
            | PacketError::TooMany { proto, .. } => Some(*proto),
        }
    }

    /// The pipeline layer this error is reported under.
    pub fn layer(&self) -> Layer {
        self.proto().map_or(Layer::Link, Proto::layer)
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
