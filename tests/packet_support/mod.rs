//! Frame builders shared by the packet tests. Documentation addresses only.
#![allow(dead_code)]

use etherparse::PacketBuilder;
use mmsleak::capture::{Record, RecordData, linktype};
use mmsleak::time::Timestamp;

pub const CLIENT4: [u8; 4] = [192, 0, 2, 10];
pub const SERVER4: [u8; 4] = [198, 51, 100, 20];
pub const SGSN4: [u8; 4] = [203, 0, 113, 1];
pub const GGSN4: [u8; 4] = [203, 0, 113, 2];
pub const CLIENT6: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10,
];
pub const SERVER6: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x20,
];
pub const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
pub const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 2];

pub fn record(link_type: u32, data: Vec<u8>) -> Record {
    record_at(link_type, data, 1, 0)
}

pub fn record_at(link_type: u32, data: Vec<u8>, frame: u64, secs: i64) -> Record {
    Record {
        frame,
        offset: 24 + frame * 100,
        ts: Timestamp::new(1_700_000_000 + secs, 0, 6),
        link_type,
        orig_len: data.len() as u32,
        data: RecordData::owned(data),
    }
}

pub fn ethernet(ether_type: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&MAC_B);
    f.extend_from_slice(&MAC_A);
    f.extend_from_slice(&ether_type.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// IPv4 + UDP built by etherparse.
pub fn ipv4_udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let builder = PacketBuilder::ipv4(src, dst, 64).udp(sport, dport);
    let mut out = Vec::new();
    builder.write(&mut out, payload).unwrap();
    out
}

/// IPv4 + TCP built by etherparse.
pub fn ipv4_tcp(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    payload: &[u8],
) -> Vec<u8> {
    let builder = PacketBuilder::ipv4(src, dst, 64)
        .tcp(sport, dport, seq, 4096)
        .psh()
        .ack(7);
    let mut out = Vec::new();
    builder.write(&mut out, payload).unwrap();
    out
}

/// IPv6 + TCP built by etherparse.
pub fn ipv6_tcp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let builder = PacketBuilder::ipv6(CLIENT6, SERVER6, 64).tcp(sport, dport, 1000, 4096);
    let mut out = Vec::new();
    builder.write(&mut out, payload).unwrap();
    out
}

/// A UDP header and payload (checksum 0: not checked by the decoder).
pub fn udp_raw(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

/// An IPv4 header (no options) in front of `payload`, with fragment fields.
pub fn ipv4_raw(
    src: [u8; 4],
    dst: [u8; 4],
    protocol: u8,
    ident: u16,
    offset_bytes: u16,
    more_fragments: bool,
    payload: &[u8],
) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    h.extend_from_slice(&ident.to_be_bytes());
    let flags = (offset_bytes / 8) | if more_fragments { 0x2000 } else { 0 };
    h.extend_from_slice(&flags.to_be_bytes());
    h.extend_from_slice(&[64, protocol, 0, 0]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(payload);
    h
}

/// An IPv6 header in front of `payload` (extension headers included in `payload`).
pub fn ipv6_raw(next_header: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    h.push(next_header);
    h.push(64);
    h.extend_from_slice(&CLIENT6);
    h.extend_from_slice(&SERVER6);
    h.extend_from_slice(payload);
    h
}

/// An IPv6 fragment header.
pub fn ipv6_fragment_header(next_header: u8, offset_bytes: u16, more: bool, ident: u32) -> Vec<u8> {
    let mut h = vec![next_header, 0];
    h.extend_from_slice(&((offset_bytes & 0xFFF8) | u16::from(more)).to_be_bytes());
    h.extend_from_slice(&ident.to_be_bytes());
    h
}

/// A GTPv1-U G-PDU: flags octet `flags` (0x30 = v1, PT, no optional fields), optional fields and
/// extension headers in `optional`, then `inner`.
pub fn gtp_u(flags: u8, teid: u32, optional: &[u8], inner: &[u8]) -> Vec<u8> {
    let mut g = vec![flags, 0xFF];
    g.extend_from_slice(&((optional.len() + inner.len()) as u16).to_be_bytes());
    g.extend_from_slice(&teid.to_be_bytes());
    g.extend_from_slice(optional);
    g.extend_from_slice(inner);
    g
}

/// Ethernet + IPv4 (SGSN → GGSN) + UDP 2152 + GTP-U around `inner`.
pub fn gtp_frame(teid: u32, inner: &[u8]) -> Vec<u8> {
    let gtp = gtp_u(0x30, teid, &[], inner);
    ethernet(0x0800, &ipv4_udp(SGSN4, GGSN4, 2152, 2152, &gtp))
}

pub fn ethernet_record(ip: &[u8]) -> Record {
    record(linktype::ETHERNET, ethernet(0x0800, ip))
}
