//! Building packets for generated captures: IPv4/IPv6, TCP sessions, UDP, IP fragments, GTP-U, and
//! every link layer the reader supports. Headers are written byte by byte with correct checksums,
//! so the result is what a real network would carry.

use crate::capture::linktype;
use std::net::IpAddr;

/// Internet checksum (RFC 1071) over several slices.
fn checksum(parts: &[&[u8]]) -> u16 {
    let mut sum: u32 = 0;
    let mut odd: Option<u8> = None;
    for part in parts {
        for &b in *part {
            match odd.take() {
                Some(hi) => sum += u32::from(u16::from_be_bytes([hi, b])),
                None => odd = Some(b),
            }
        }
    }
    if let Some(hi) = odd {
        sum += u32::from(u16::from_be_bytes([hi, 0]));
    }
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

fn pseudo_header(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> Vec<u8> {
    let mut p = Vec::with_capacity(40);
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            p.extend_from_slice(&s.octets());
            p.extend_from_slice(&d.octets());
            p.push(0);
            p.push(proto);
            p.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            p.extend_from_slice(&ip6(src));
            p.extend_from_slice(&ip6(dst));
            p.extend_from_slice(&(len as u32).to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, proto]);
        }
    }
    p
}

fn ip6(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V6(v) => v.octets(),
        IpAddr::V4(v) => v.to_ipv6_mapped().octets(),
    }
}

pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;

/// A UDP header and payload with its checksum.
pub fn udp(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let len = 8 + payload.len();
    let mut seg = Vec::with_capacity(len);
    seg.extend_from_slice(&sport.to_be_bytes());
    seg.extend_from_slice(&dport.to_be_bytes());
    seg.extend_from_slice(&(len.min(0xFFFF) as u16).to_be_bytes());
    seg.extend_from_slice(&[0, 0]);
    seg.extend_from_slice(payload);
    let mut c = checksum(&[&pseudo_header(src, dst, PROTO_UDP, len), &seg]);
    if c == 0 {
        c = 0xFFFF;
    }
    if let Some(slot) = seg.get_mut(6..8) {
        slot.copy_from_slice(&c.to_be_bytes());
    }
    seg
}

/// Fields of one TCP segment.
#[derive(Debug, Clone, Copy)]
pub struct TcpHeader {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
}

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const FIN: u8 = 0x01;
pub const RST: u8 = 0x04;
pub const PSH: u8 = 0x08;

/// A TCP header (20 octets, no options) and payload with its checksum.
pub fn tcp(src: IpAddr, dst: IpAddr, h: TcpHeader, payload: &[u8]) -> Vec<u8> {
    let mut seg = Vec::with_capacity(20 + payload.len());
    seg.extend_from_slice(&h.sport.to_be_bytes());
    seg.extend_from_slice(&h.dport.to_be_bytes());
    seg.extend_from_slice(&h.seq.to_be_bytes());
    seg.extend_from_slice(&h.ack.to_be_bytes());
    seg.push(5 << 4);
    seg.push(h.flags);
    seg.extend_from_slice(&h.window.to_be_bytes());
    seg.extend_from_slice(&[0, 0, 0, 0]);
    seg.extend_from_slice(payload);
    let c = checksum(&[&pseudo_header(src, dst, PROTO_TCP, seg.len()), &seg]);
    if let Some(slot) = seg.get_mut(16..18) {
        slot.copy_from_slice(&c.to_be_bytes());
    }
    seg
}

/// An IP packet (IPv4 when both addresses are v4, else IPv6) around a transport payload.
pub fn ip(src: IpAddr, dst: IpAddr, proto: u8, ident: u16, payload: &[u8]) -> Vec<u8> {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = 20 + payload.len();
            let mut h = vec![0x45, 0];
            h.extend_from_slice(&(total.min(0xFFFF) as u16).to_be_bytes());
            h.extend_from_slice(&ident.to_be_bytes());
            h.extend_from_slice(&[0x40, 0]); // don't fragment
            h.push(64);
            h.push(proto);
            h.extend_from_slice(&[0, 0]);
            h.extend_from_slice(&s.octets());
            h.extend_from_slice(&d.octets());
            let c = checksum(&[&h]);
            if let Some(slot) = h.get_mut(10..12) {
                slot.copy_from_slice(&c.to_be_bytes());
            }
            h.extend_from_slice(payload);
            h
        }
        _ => {
            let mut h = vec![0x60, 0, 0, 0];
            h.extend_from_slice(&(payload.len().min(0xFFFF) as u16).to_be_bytes());
            h.push(proto);
            h.push(64);
            h.extend_from_slice(&ip6(src));
            h.extend_from_slice(&ip6(dst));
            h.extend_from_slice(payload);
            h
        }
    }
}

/// Splits an IP packet built by [`ip`] into fragments whose payloads hold at most `max_payload`
/// octets (rounded down to a multiple of 8). IPv6 fragments carry a Fragment extension header.
pub fn fragment(packet: &[u8], max_payload: usize, ident: u32) -> Vec<Vec<u8>> {
    let step = (max_payload / 8).max(1) * 8;
    let version = packet.first().map_or(4, |b| b >> 4);
    let (header_len, proto) = if version == 4 {
        (20, packet.get(9).copied().unwrap_or(0))
    } else {
        (40, packet.get(6).copied().unwrap_or(0))
    };
    let Some((header, payload)) = packet.split_at_checked(header_len) else {
        return vec![packet.to_vec()];
    };
    let chunks: Vec<&[u8]> = payload.chunks(step).collect();
    let count = chunks.len();
    let mut out = Vec::with_capacity(count);
    for (i, chunk) in chunks.into_iter().enumerate() {
        let offset = i * step;
        let more = i + 1 < count;
        if version == 4 {
            let mut h = header.to_vec();
            let total = 20 + chunk.len();
            let flags_off = ((offset / 8) as u16) | if more { 0x2000 } else { 0 };
            if let Some(s) = h.get_mut(2..4) {
                s.copy_from_slice(&(total as u16).to_be_bytes());
            }
            if let Some(s) = h.get_mut(4..6) {
                s.copy_from_slice(&(ident as u16).to_be_bytes());
            }
            if let Some(s) = h.get_mut(6..8) {
                s.copy_from_slice(&flags_off.to_be_bytes());
            }
            if let Some(s) = h.get_mut(10..12) {
                s.copy_from_slice(&[0, 0]);
            }
            let c = checksum(&[&h]);
            if let Some(s) = h.get_mut(10..12) {
                s.copy_from_slice(&c.to_be_bytes());
            }
            h.extend_from_slice(chunk);
            out.push(h);
        } else {
            let mut h = header.to_vec();
            if let Some(s) = h.get_mut(4..6) {
                s.copy_from_slice(&((8 + chunk.len()) as u16).to_be_bytes());
            }
            if let Some(s) = h.get_mut(6) {
                *s = 44; // Fragment header follows.
            }
            h.push(proto);
            h.push(0);
            let off_flags = ((offset / 8) as u16) << 3 | u16::from(more);
            h.extend_from_slice(&off_flags.to_be_bytes());
            h.extend_from_slice(&ident.to_be_bytes());
            h.extend_from_slice(chunk);
            out.push(h);
        }
    }
    out
}

/// A GTP-U G-PDU (3GPP TS 29.281) carrying `inner` (an IP packet) in tunnel `teid`, with the
/// optional sequence number field when `seq` is given.
pub fn gtp_u(teid: u32, seq: Option<u16>, inner: &[u8]) -> Vec<u8> {
    let mut g = Vec::with_capacity(12 + inner.len());
    let flags = 0x30 | if seq.is_some() { 0x02 } else { 0 };
    g.push(flags);
    g.push(0xFF);
    let extra = if seq.is_some() { 4 } else { 0 };
    g.extend_from_slice(&((inner.len() + extra).min(0xFFFF) as u16).to_be_bytes());
    g.extend_from_slice(&teid.to_be_bytes());
    if let Some(s) = seq {
        g.extend_from_slice(&s.to_be_bytes());
        g.push(0); // N-PDU number
        g.push(0); // no extension header
    }
    g.extend_from_slice(inner);
    g
}

/// The link layer a generated capture uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    Ethernet,
    /// Ethernet with one 802.1Q tag.
    Vlan(u16),
    /// Ethernet with an 802.1ad outer and an 802.1Q inner tag.
    QinQ(u16, u16),
    /// Linux cooked capture v1.
    Sll,
    /// Linux cooked capture v2.
    Sll2,
    /// LINKTYPE_RAW (101).
    Raw,
    /// LINKTYPE_IPV4 / LINKTYPE_IPV6 (228 / 229), by the packet's version.
    RawVersioned,
    /// BSD loopback, family in little-endian host order.
    Null,
    /// OpenBSD loopback, family in network order.
    Loop,
}

impl Link {
    /// The LINKTYPE_ a capture of this link has (for [`Link::RawVersioned`], of an IPv4 packet).
    pub fn linktype(self, ipv6: bool) -> u32 {
        match self {
            Link::Ethernet | Link::Vlan(_) | Link::QinQ(..) => linktype::ETHERNET,
            Link::Sll => linktype::LINUX_SLL,
            Link::Sll2 => linktype::LINUX_SLL2,
            Link::Raw => linktype::RAW,
            Link::RawVersioned if ipv6 => linktype::IPV6,
            Link::RawVersioned => linktype::IPV4,
            Link::Null => linktype::NULL,
            Link::Loop => linktype::LOOP,
        }
    }
}

const MAC_A: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x53, 0x01];
const MAC_B: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x53, 0x02];

/// Wraps an IP packet in the link layer.
pub fn frame(link: Link, packet: &[u8]) -> Vec<u8> {
    let v6 = packet.first().is_some_and(|b| b >> 4 == 6);
    let ethertype: [u8; 2] = if v6 { [0x86, 0xDD] } else { [0x08, 0x00] };
    let mut f = Vec::with_capacity(packet.len() + 24);
    match link {
        Link::Ethernet | Link::Vlan(_) | Link::QinQ(..) => {
            f.extend_from_slice(&MAC_B);
            f.extend_from_slice(&MAC_A);
            match link {
                Link::Vlan(id) => {
                    f.extend_from_slice(&[0x81, 0x00]);
                    f.extend_from_slice(&(id & 0x0FFF).to_be_bytes());
                }
                Link::QinQ(outer, inner) => {
                    f.extend_from_slice(&[0x88, 0xA8]);
                    f.extend_from_slice(&(outer & 0x0FFF).to_be_bytes());
                    f.extend_from_slice(&[0x81, 0x00]);
                    f.extend_from_slice(&(inner & 0x0FFF).to_be_bytes());
                }
                _ => {}
            }
            f.extend_from_slice(&ethertype);
        }
        Link::Sll => {
            f.extend_from_slice(&[0, 0]); // packet type: to us
            f.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
            f.extend_from_slice(&6u16.to_be_bytes());
            f.extend_from_slice(&MAC_A);
            f.extend_from_slice(&[0, 0]);
            f.extend_from_slice(&ethertype);
        }
        Link::Sll2 => {
            f.extend_from_slice(&ethertype);
            f.extend_from_slice(&[0, 0]); // reserved
            f.extend_from_slice(&2u32.to_be_bytes()); // interface index
            f.extend_from_slice(&1u16.to_be_bytes()); // ARPHRD_ETHER
            f.push(0); // packet type
            f.push(6);
            f.extend_from_slice(&MAC_A);
            f.extend_from_slice(&[0, 0]);
        }
        Link::Raw | Link::RawVersioned => {}
        Link::Null => {
            let family: u32 = if v6 { 30 } else { 2 };
            f.extend_from_slice(&family.to_le_bytes());
        }
        Link::Loop => {
            let family: u32 = if v6 { 24 } else { 2 };
            f.extend_from_slice(&family.to_be_bytes());
        }
    }
    f.extend_from_slice(packet);
    f
}

/// One packet of a generated capture, before the link layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SynthPacket {
    /// Microseconds since the epoch.
    pub ts_micros: i64,
    /// A complete IP packet.
    pub ip: Vec<u8>,
}

/// A TCP connection that writes its packets with correct sequence and acknowledgement numbers.
#[derive(Debug, Clone)]
pub struct TcpSession {
    pub client: (IpAddr, u16),
    pub server: (IpAddr, u16),
    /// Next sequence number of each side.
    pub client_seq: u32,
    pub server_seq: u32,
    pub mss: usize,
    ident: u16,
}

impl TcpSession {
    pub fn new(
        client: (IpAddr, u16),
        server: (IpAddr, u16),
        client_isn: u32,
        server_isn: u32,
    ) -> Self {
        TcpSession {
            client,
            server,
            client_seq: client_isn,
            server_seq: server_isn,
            mss: 1400,
            ident: (client_isn & 0xFFFF) as u16,
        }
    }

    fn packet(&mut self, to_server: bool, flags: u8, seq: u32, payload: &[u8]) -> Vec<u8> {
        let (src, dst, ack) = if to_server {
            (self.client, self.server, self.server_seq)
        } else {
            (self.server, self.client, self.client_seq)
        };
        let h = TcpHeader {
            sport: src.1,
            dport: dst.1,
            seq,
            ack: if flags & ACK != 0 { ack } else { 0 },
            flags,
            window: 65535,
        };
        self.ident = self.ident.wrapping_add(1);
        ip(
            src.0,
            dst.0,
            PROTO_TCP,
            self.ident,
            &tcp(src.0, dst.0, h, payload),
        )
    }

    /// SYN, SYN-ACK, ACK.
    pub fn handshake(&mut self) -> Vec<Vec<u8>> {
        let syn = self.packet(true, SYN, self.client_seq, &[]);
        self.client_seq = self.client_seq.wrapping_add(1);
        let syn_ack = self.packet(false, SYN | ACK, self.server_seq, &[]);
        self.server_seq = self.server_seq.wrapping_add(1);
        let ack = self.packet(true, ACK, self.client_seq, &[]);
        vec![syn, syn_ack, ack]
    }

    /// Data from one side, cut into MSS-sized segments, each acknowledged by the other side.
    pub fn send(&mut self, to_server: bool, data: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for chunk in data.chunks(self.mss.max(1)) {
            out.push(self.send_segment(to_server, chunk));
            out.push(self.packet(!to_server, ACK, self.seq_of(!to_server), &[]));
        }
        out
    }

    fn seq_of(&self, to_server: bool) -> u32 {
        if to_server {
            self.client_seq
        } else {
            self.server_seq
        }
    }

    /// One data segment, advancing the sender's sequence number.
    pub fn send_segment(&mut self, to_server: bool, chunk: &[u8]) -> Vec<u8> {
        let seq = self.seq_of(to_server);
        let p = self.packet(to_server, ACK | PSH, seq, chunk);
        let next = seq.wrapping_add(chunk.len() as u32);
        if to_server {
            self.client_seq = next;
        } else {
            self.server_seq = next;
        }
        p
    }

    /// A segment at an explicit sequence number, not advancing any state (retransmissions,
    /// overlaps).
    pub fn raw_segment(&mut self, to_server: bool, seq: u32, chunk: &[u8]) -> Vec<u8> {
        self.packet(to_server, ACK | PSH, seq, chunk)
    }

    /// A pure acknowledgement from one side of everything the other side sent.
    pub fn ack(&mut self, to_server: bool) -> Vec<u8> {
        let seq = self.seq_of(to_server);
        self.packet(to_server, ACK, seq, &[])
    }

    /// FIN from the client, FIN-ACK from the server, final ACK.
    pub fn close(&mut self) -> Vec<Vec<u8>> {
        let fin = self.packet(true, FIN | ACK, self.client_seq, &[]);
        self.client_seq = self.client_seq.wrapping_add(1);
        let fin2 = self.packet(false, FIN | ACK, self.server_seq, &[]);
        self.server_seq = self.server_seq.wrapping_add(1);
        let ack = self.packet(true, ACK, self.client_seq, &[]);
        vec![fin, fin2, ack]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_header_checksum_verifies() {
        let p = ip(
            "192.0.2.1".parse().unwrap(),
            "198.51.100.2".parse().unwrap(),
            PROTO_UDP,
            7,
            &[1, 2, 3],
        );
        assert_eq!(checksum(&[&p[..20]]), 0);
        assert_eq!(p.len(), 23);
    }

    #[test]
    fn udp_checksum_verifies() {
        let s: IpAddr = "2001:db8::1".parse().unwrap();
        let d: IpAddr = "2001:db8::2".parse().unwrap();
        let u = udp(s, d, 1234, 9200, b"hello");
        assert_eq!(checksum(&[&pseudo_header(s, d, PROTO_UDP, u.len()), &u]), 0);
    }

    #[test]
    fn fragments_cover_payload() {
        let payload = vec![0xAB; 3000];
        let p = ip(
            "192.0.2.1".parse().unwrap(),
            "192.0.2.2".parse().unwrap(),
            PROTO_UDP,
            9,
            &payload,
        );
        let frags = fragment(&p, 1000, 9);
        assert_eq!(frags.len(), 3);
        let total: usize = frags.iter().map(|f| f.len() - 20).sum();
        assert_eq!(total, 3000);
    }
}
