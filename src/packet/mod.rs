//! Stage 2 — packet: record → packet.
//!
//! Link layers (Ethernet, 802.1Q/QinQ, SLL, SLL2, raw IP, null/loopback), IPv4/IPv6 with extension
//! headers and defragmentation, GTP-U decapsulation, TCP and UDP.

use crate::time::Timestamp;
use std::borrow::Cow;
use std::net::IpAddr;

/// 802.1Q tags, outermost first (QinQ carries two).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct VlanTags {
    pub outer: Option<u16>,
    pub inner: Option<u16>,
}

/// The GTP-U tunnel a packet was carried in (3GPP TS 29.281).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tunnel {
    pub teid: u32,
    pub outer_src: IpAddr,
    pub outer_dst: IpAddr,
}

/// TCP flag bits as they appear in the header's flags octet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;

    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpSegment<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: TcpFlags,
    pub window: u16,
    pub payload: Cow<'a, [u8]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpDatagram<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: Cow<'a, [u8]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport<'a> {
    Tcp(TcpSegment<'a>),
    Udp(UdpDatagram<'a>),
    /// Any other IP protocol: counted, not analysed.
    Other {
        protocol: u8,
    },
}

/// A decoded packet: the innermost IP header and its transport, with what carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<'a> {
    /// The frame in which the packet became complete (the last fragment's, after defragmentation).
    pub frame: u64,
    pub ts: Timestamp,
    pub vlan: VlanTags,
    pub tunnel: Option<Tunnel>,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub transport: Transport<'a>,
    /// Bytes of this packet were not captured (snaplen) or the headers claim more than is there.
    pub truncated: bool,
    /// Frames of the other IP fragments this packet was reassembled from (empty when unfragmented).
    pub fragment_frames: Vec<u64>,
}
