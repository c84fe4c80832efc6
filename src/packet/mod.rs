//! Stage 2 — packet: record → packet.
//!
//! Link layers (Ethernet, 802.1Q/QinQ, SLL, SLL2, raw IP, null/loopback), IPv4/IPv6 with extension
//! headers and defragmentation, GTP-U decapsulation, TCP and UDP.
//!
//! [`decode_record`] is pure and runs on many threads at once: a record becomes a [`Packet`]
//! borrowing the record's bytes, a [`Fragment`], or a non-IP frame. Fragments go, in frame order,
//! to a [`Defragmenter`] (the only state here), which decodes each completed datagram the same way
//! (GTP-U inside included). [`PacketDecoder`] combines the two for sequential use.
//!
//! Files: `link` (link layers), `ip` (IPv4/IPv6, extension headers, tunnels), `gtp` (GTP-U
//! header), `transport` (TCP/UDP), `defrag` (reassembly), `decoder`, `error`.

mod bytes;
pub mod decoder;
pub mod defrag;
pub mod error;
pub mod gtp;
pub mod ip;
pub mod link;
mod transport;

pub use decoder::{Absorbed, DecodeCounters, PacketDecoder};
pub use defrag::{DefragLimits, DefragStats, Defragmenter};
pub use error::{Header, PacketError};

use crate::capture::Record;
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

impl Transport<'_> {
    /// The transport payload (empty for protocols other than TCP and UDP).
    pub fn payload(&self) -> &[u8] {
        match self {
            Transport::Tcp(segment) => &segment.payload,
            Transport::Udp(datagram) => &datagram.payload,
            Transport::Other { .. } => &[],
        }
    }

    /// The same transport owning its payload.
    pub fn into_owned(self) -> Transport<'static> {
        match self {
            Transport::Tcp(s) => Transport::Tcp(TcpSegment {
                payload: Cow::Owned(s.payload.into_owned()),
                src_port: s.src_port,
                dst_port: s.dst_port,
                seq: s.seq,
                ack: s.ack,
                flags: s.flags,
                window: s.window,
            }),
            Transport::Udp(d) => Transport::Udp(UdpDatagram {
                payload: Cow::Owned(d.payload.into_owned()),
                src_port: d.src_port,
                dst_port: d.dst_port,
            }),
            Transport::Other { protocol } => Transport::Other { protocol },
        }
    }
}

impl Packet<'_> {
    /// The same packet owning its payload, free of the record it was decoded from.
    pub fn into_owned(self) -> Packet<'static> {
        Packet {
            frame: self.frame,
            ts: self.ts,
            vlan: self.vlan,
            tunnel: self.tunnel,
            src: self.src,
            dst: self.dst,
            transport: self.transport.into_owned(),
            truncated: self.truncated,
            fragment_frames: self.fragment_frames,
        }
    }
}

/// One IP fragment (IPv4 with MF set or a non-zero offset, or an IPv6 Fragment header), with
/// everything the [`Defragmenter`] needs to put its datagram back together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment<'a> {
    pub frame: u64,
    /// Byte offset of the record in the input, for diagnostics.
    pub record_offset: u64,
    pub ts: Timestamp,
    pub vlan: VlanTags,
    /// The GTP-U tunnel the fragment travelled in (fragments of the user packet inside a tunnel).
    pub tunnel: Option<Tunnel>,
    /// How many GTP-U tunnels enclose the fragment (0 outside any tunnel).
    pub tunnel_depth: u8,
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IPv4 identification (16 bits) or IPv6 fragment identification (32 bits).
    pub ident: u32,
    /// The protocol of the reassembled payload (IPv4 protocol, IPv6 fragment header next header).
    pub protocol: u8,
    /// Offset of this fragment's payload in the datagram, in bytes.
    pub offset: u32,
    pub more_fragments: bool,
    /// Payload bytes the IP header announced for this fragment (more than `payload.len()` when
    /// the capture cut the frame).
    pub claimed_len: u32,
    pub payload: Cow<'a, [u8]>,
    /// Bytes of this fragment or its frame were not captured.
    pub truncated: bool,
    /// Frames that already went into this fragment (when it came out of an outer reassembly).
    pub earlier_frames: Vec<u64>,
}

impl Fragment<'_> {
    /// The same fragment owning its payload.
    pub fn into_owned(self) -> Fragment<'static> {
        Fragment {
            payload: Cow::Owned(self.payload.into_owned()),
            frame: self.frame,
            record_offset: self.record_offset,
            ts: self.ts,
            vlan: self.vlan,
            tunnel: self.tunnel,
            tunnel_depth: self.tunnel_depth,
            src: self.src,
            dst: self.dst,
            ident: self.ident,
            protocol: self.protocol,
            offset: self.offset,
            more_fragments: self.more_fragments,
            claimed_len: self.claimed_len,
            truncated: self.truncated,
            earlier_frames: self.earlier_frames,
        }
    }
}

/// What a frame carried when it was not IP: counted, not analysed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NonIpProtocol {
    /// An EtherType other than IP, VLAN, MPLS or PPPoE (ARP 0x0806, LLDP 0x88CC, ...).
    EtherType(u16),
    /// An IEEE 802.3 frame with a length instead of an EtherType (LLC/SNAP, STP, ...).
    Ieee8023,
    /// A null/loopback address family other than IPv4 and IPv6.
    AddressFamily(u32),
    /// A Linux cooked capture of a netlink socket.
    Netlink,
    /// An MPLS payload that is not IP (a pseudowire).
    Mpls,
    /// A PPP protocol other than IPv4 and IPv6 inside PPPoE (LCP, IPCP, ...).
    Ppp(u16),
}

/// What one record decodes to on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decoded<'a> {
    /// A complete packet, its payload borrowed from the record.
    Packet(Packet<'a>),
    /// An IP fragment, to be given to a [`Defragmenter`].
    Fragment(Fragment<'a>),
    /// A frame that is not IP.
    NonIp { frame: u64, protocol: NonIpProtocol },
}

impl Decoded<'_> {
    /// The frame the result belongs to (for a fragment, the frame that carried it).
    pub fn frame(&self) -> u64 {
        match self {
            Decoded::Packet(p) => p.frame,
            Decoded::Fragment(f) => f.frame,
            Decoded::NonIp { frame, .. } => *frame,
        }
    }
}

/// Decodes one record down to its (innermost) IP packet and transport. Pure: callable from many
/// threads at once; fragments are returned for the caller's [`Defragmenter`].
pub fn decode_record(rec: &Record) -> Result<Decoded<'_>, PacketError> {
    match link::decode_link(rec.link_type, &rec.data)? {
        link::LinkPayload::NonIp(protocol) => Ok(Decoded::NonIp {
            frame: rec.frame,
            protocol,
        }),
        link::LinkPayload::Ip {
            data,
            at,
            vlan,
            expect,
        } => {
            let carrier = ip::Carrier {
                frame: rec.frame,
                record_offset: rec.offset,
                ts: rec.ts,
                vlan,
                tunnel: None,
                tunnel_depth: 0,
                truncated: rec.is_truncated(),
            };
            ip::decode_ip(carrier, data, at, expect)
        }
    }
}
