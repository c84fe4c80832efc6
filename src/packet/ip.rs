//! IPv4 (RFC 791) and IPv6 (RFC 8200) with extension headers, the IP Authentication Header
//! (RFC 4302), and the step into TCP, UDP and GTP-U tunnels.
//!
//! Lax about lengths the way a snaplen-cut capture needs: when a length field claims more than
//! the frame holds, what is there is decoded and the packet is marked truncated; when it claims
//! less (Ethernet padding, trailers), the extra bytes are ignored.

use super::bytes::{be16, be32, need, rest, u8_at};
use super::error::{Header, PacketError};
use super::gtp;
use super::link::IpExpect;
use super::transport::{decode_tcp, decode_udp};
use super::{Decoded, Fragment, Packet, Transport, Tunnel, VlanTags};
use crate::time::Timestamp;
use etherparse::{Ipv4HeaderSlice, Ipv6HeaderSlice};
use std::borrow::Cow;
use std::net::IpAddr;

/// GTP-U tunnels decapsulated inside one another before the rest is left as plain UDP.
pub const MAX_TUNNEL_DEPTH: u8 = 2;
/// IPv6 extension headers (and authentication headers) followed before decoding gives up.
pub const MAX_EXTENSION_HEADERS: usize = 16;

const IPV4_MIN_HEADER: usize = 20;
const IPV6_HEADER: usize = 40;
const IPV6_FRAGMENT_HEADER: usize = 8;

/// IP protocol numbers (IANA "Assigned Internet Protocol Numbers").
mod ip_proto {
    pub const HOP_BY_HOP: u8 = 0;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const ROUTING: u8 = 43;
    pub const FRAGMENT: u8 = 44;
    pub const AUTH: u8 = 51;
    pub const DESTINATION_OPTIONS: u8 = 60;
    pub const HIP: u8 = 139;
    pub const SHIM6: u8 = 140;
}

/// IPv6 extension headers with the generic layout of RFC 8200 §4.1 (next header, length in
/// 8-octet units not counting the first 8).
const GENERIC_IPV6_EXTENSIONS: &[u8] = &[
    ip_proto::HOP_BY_HOP,
    ip_proto::ROUTING,
    ip_proto::DESTINATION_OPTIONS,
    ip_proto::HIP,
    ip_proto::SHIM6,
];

/// Everything about how a packet arrived that the IP layer passes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Carrier {
    pub frame: u64,
    pub record_offset: u64,
    pub ts: Timestamp,
    pub vlan: VlanTags,
    pub tunnel: Option<Tunnel>,
    pub tunnel_depth: u8,
    pub truncated: bool,
}

/// Bytes following an IP header: `claimed` is how many the header announced (more than
/// `data.len()` when the capture cut them).
#[derive(Debug, Clone, Copy)]
struct Span<'a> {
    data: &'a [u8],
    at: usize,
    claimed: usize,
}

/// Where an upper-layer chain starts: straight after an IP header, or in a reassembled datagram
/// (where a second fragment header makes no sense).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chain {
    Fresh,
    Reassembled,
}

/// Decodes the IP packet in `data` (at byte `at` of the frame).
pub(crate) fn decode_ip(
    c: Carrier,
    data: &[u8],
    at: usize,
    expect: IpExpect,
) -> Result<Decoded<'_>, PacketError> {
    need(data, 1, Header::Ip, at)?;
    let version = u8_at(data, 0) >> 4;
    match (version, expect) {
        (4, IpExpect::Any | IpExpect::V4) => decode_ipv4(c, data, at),
        (6, IpExpect::Any | IpExpect::V6) => decode_ipv6(c, data, at),
        (_, IpExpect::V4) => Err(invalid(Header::Ipv4, at, "version", version, "is not 4")),
        (_, IpExpect::V6) => Err(invalid(Header::Ipv6, at, "version", version, "is not 6")),
        (_, IpExpect::Any) => Err(invalid(
            Header::Ip,
            at,
            "version",
            version,
            "is neither 4 nor 6",
        )),
    }
}

/// Decodes the payload of a reassembled datagram whose fragments carried `protocol`.
pub(crate) fn decode_reassembled(
    c: Carrier,
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    payload: &[u8],
    claimed: usize,
) -> Result<Decoded<'_>, PacketError> {
    let span = Span {
        data: payload,
        at: 0,
        claimed,
    };
    upper(c, src, dst, protocol, span, Chain::Reassembled)
}

fn invalid(
    header: Header,
    at: usize,
    field: &'static str,
    value: impl Into<u64>,
    problem: &'static str,
) -> PacketError {
    PacketError::Invalid {
        header,
        at,
        field,
        value: value.into(),
        problem,
    }
}

fn decode_ipv4(mut c: Carrier, data: &[u8], at: usize) -> Result<Decoded<'_>, PacketError> {
    need(data, IPV4_MIN_HEADER, Header::Ipv4, at)?;
    let ihl = u8_at(data, 0) & 0x0F;
    if ihl < 5 {
        return Err(invalid(
            Header::Ipv4,
            at,
            "header length field",
            ihl,
            "is below the minimum of 5 (20 bytes)",
        ));
    }
    let header_len = usize::from(ihl) * 4;
    if data.len() < header_len {
        return Err(PacketError::HeaderCut {
            header: Header::Ipv4,
            at,
            header_len,
            present: data.len(),
        });
    }
    let header = Ipv4HeaderSlice::from_slice(data).map_err(|_| PacketError::HeaderCut {
        header: Header::Ipv4,
        at,
        header_len,
        present: data.len(),
    })?;
    let total = usize::from(header.total_len());
    // Total length 0 is what segmentation offload leaves in captured super-packets: the capture's
    // length is all there is.
    let claimed_end = if total == 0 {
        data.len()
    } else if total < header_len {
        return Err(invalid(
            Header::Ipv4,
            at,
            "total length",
            header.total_len(),
            "is shorter than the header",
        ));
    } else {
        total
    };
    if claimed_end > data.len() {
        c.truncated = true;
    }
    let span = Span {
        data: data
            .get(header_len..claimed_end.min(data.len()))
            .unwrap_or_default(),
        at: at.saturating_add(header_len),
        claimed: claimed_end - header_len,
    };
    let src = IpAddr::V4(header.source_addr());
    let dst = IpAddr::V4(header.destination_addr());
    let protocol = header.protocol().0;
    let offset = u32::from(header.fragments_offset().value()) * 8;
    let more_fragments = header.more_fragments();
    if more_fragments || offset != 0 {
        let fields = FragmentFields {
            ident: u32::from(header.identification()),
            protocol,
            offset,
            more_fragments,
        };
        return Ok(Decoded::Fragment(fragment(&c, src, dst, fields, span)));
    }
    upper(c, src, dst, protocol, span, Chain::Fresh)
}

fn decode_ipv6(mut c: Carrier, data: &[u8], at: usize) -> Result<Decoded<'_>, PacketError> {
    need(data, IPV6_HEADER, Header::Ipv6, at)?;
    let header = Ipv6HeaderSlice::from_slice(data).map_err(|_| PacketError::Short {
        header: Header::Ipv6,
        at,
        needed: IPV6_HEADER,
        present: data.len(),
    })?;
    let payload_len = usize::from(header.payload_length());
    // Payload length 0: a jumbogram (RFC 2675) or an offloaded super-packet; take what was captured.
    let claimed_end = if payload_len == 0 {
        data.len()
    } else {
        IPV6_HEADER + payload_len
    };
    if claimed_end > data.len() {
        c.truncated = true;
    }
    let span = Span {
        data: data
            .get(IPV6_HEADER..claimed_end.min(data.len()))
            .unwrap_or_default(),
        at: at.saturating_add(IPV6_HEADER),
        claimed: claimed_end - IPV6_HEADER,
    };
    let src = IpAddr::V6(header.source_addr());
    let dst = IpAddr::V6(header.destination_addr());
    upper(c, src, dst, header.next_header().0, span, Chain::Fresh)
}

/// The fragmentation fields of an IPv4 header or IPv6 fragment header.
struct FragmentFields {
    ident: u32,
    protocol: u8,
    offset: u32,
    more_fragments: bool,
}

fn fragment<'a>(
    c: &Carrier,
    src: IpAddr,
    dst: IpAddr,
    fields: FragmentFields,
    span: Span<'a>,
) -> Fragment<'a> {
    let FragmentFields {
        ident,
        protocol,
        offset,
        more_fragments,
    } = fields;
    Fragment {
        frame: c.frame,
        record_offset: c.record_offset,
        ts: c.ts,
        vlan: c.vlan,
        tunnel: c.tunnel,
        tunnel_depth: c.tunnel_depth,
        src,
        dst,
        ident,
        protocol,
        offset,
        more_fragments,
        claimed_len: u32::try_from(span.claimed).unwrap_or(u32::MAX),
        truncated: c.truncated || span.data.len() < span.claimed,
        payload: Cow::Borrowed(span.data),
        earlier_frames: Vec::new(),
    }
}

fn packet<'a>(c: &Carrier, src: IpAddr, dst: IpAddr, transport: Transport<'a>) -> Decoded<'a> {
    Decoded::Packet(Packet {
        frame: c.frame,
        ts: c.ts,
        vlan: c.vlan,
        tunnel: c.tunnel,
        src,
        dst,
        transport,
        truncated: c.truncated,
        fragment_frames: Vec::new(),
    })
}

/// Follows extension headers from `protocol` to the transport header.
fn upper<'a>(
    mut c: Carrier,
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    span: Span<'a>,
    chain: Chain,
) -> Result<Decoded<'a>, PacketError> {
    let v6 = src.is_ipv6();
    let mut next = protocol;
    let mut pos = 0usize;
    for _ in 0..=MAX_EXTENSION_HEADERS {
        let here = rest(span.data, pos);
        let here_at = span.at.saturating_add(pos);
        match next {
            ip_proto::TCP => {
                let segment = decode_tcp(here, here_at)?;
                return Ok(packet(&c, src, dst, Transport::Tcp(segment)));
            }
            ip_proto::UDP => return udp(c, src, dst, here, here_at),
            ip_proto::AUTH => {
                // RFC 4302 §2.2: payload length in 4-octet units, minus 2.
                need(here, 2, Header::Ah, here_at)?;
                let len = (usize::from(u8_at(here, 1)) + 2) * 4;
                if here.len() < len {
                    return Err(PacketError::HeaderCut {
                        header: Header::Ah,
                        at: here_at,
                        header_len: len,
                        present: here.len(),
                    });
                }
                next = u8_at(here, 0);
                pos = pos.saturating_add(len);
            }
            ip_proto::FRAGMENT if v6 => {
                // RFC 8200 §4.5: next header, reserved, offset (13 bits) + M flag, identification.
                need(here, IPV6_FRAGMENT_HEADER, Header::Ipv6Ext, here_at)?;
                if chain == Chain::Reassembled {
                    return Err(invalid(
                        Header::Ipv6Ext,
                        here_at,
                        "next header",
                        ip_proto::FRAGMENT,
                        "(fragment) appears again inside a reassembled datagram",
                    ));
                }
                let offset_and_flag = be16(here, 2);
                let offset = u32::from(offset_and_flag & 0xFFF8);
                let more_fragments = offset_and_flag & 0x0001 != 0;
                let fragment_protocol = u8_at(here, 0);
                pos = pos.saturating_add(IPV6_FRAGMENT_HEADER);
                if offset == 0 && !more_fragments {
                    // An atomic fragment (RFC 6946): nothing to reassemble.
                    next = fragment_protocol;
                    continue;
                }
                let payload = Span {
                    data: rest(span.data, pos),
                    at: span.at.saturating_add(pos),
                    claimed: span.claimed.saturating_sub(pos),
                };
                let fields = FragmentFields {
                    ident: be32(here, 4),
                    protocol: fragment_protocol,
                    offset,
                    more_fragments,
                };
                return Ok(Decoded::Fragment(fragment(&c, src, dst, fields, payload)));
            }
            generic if v6 && GENERIC_IPV6_EXTENSIONS.contains(&generic) => {
                need(here, 2, Header::Ipv6Ext, here_at)?;
                let len = (usize::from(u8_at(here, 1)) + 1) * 8;
                if here.len() < len {
                    return Err(PacketError::HeaderCut {
                        header: Header::Ipv6Ext,
                        at: here_at,
                        header_len: len,
                        present: here.len(),
                    });
                }
                next = u8_at(here, 0);
                pos = pos.saturating_add(len);
            }
            other => {
                if span.data.len() < span.claimed {
                    c.truncated = true;
                }
                return Ok(packet(&c, src, dst, Transport::Other { protocol: other }));
            }
        }
    }
    Err(PacketError::TooMany {
        header: if v6 { Header::Ipv6Ext } else { Header::Ah },
        at: span.at.saturating_add(pos),
        what: "extension headers",
        max: MAX_EXTENSION_HEADERS,
    })
}

/// A UDP datagram, or the packet inside it when it is a GTP-U G-PDU.
fn udp(
    mut c: Carrier,
    src: IpAddr,
    dst: IpAddr,
    data: &[u8],
    at: usize,
) -> Result<Decoded<'_>, PacketError> {
    let (datagram, cut) = decode_udp(data, at)?;
    c.truncated |= cut;
    if c.tunnel_depth < MAX_TUNNEL_DEPTH {
        let payload: &[u8] = match datagram.payload {
            Cow::Borrowed(p) => p,
            Cow::Owned(_) => &[],
        };
        let on_gtp_port =
            datagram.src_port == gtp::GTP_U_PORT || datagram.dst_port == gtp::GTP_U_PORT;
        if on_gtp_port || gtp::is_g_pdu(payload) {
            let gtp_at = at.saturating_add(8);
            match gtp::parse_g_pdu(payload, gtp_at) {
                Ok(Some(pdu))
                    if on_gtp_port
                        || (!c.truncated && gtp::is_unmistakable(&pdu, payload.len())) =>
                {
                    return decapsulate(c, src, dst, pdu, gtp_at);
                }
                Err(e) if on_gtp_port => return Err(e),
                _ => {}
            }
        }
    }
    Ok(packet(&c, src, dst, Transport::Udp(datagram)))
}

fn decapsulate<'a>(
    c: Carrier,
    src: IpAddr,
    dst: IpAddr,
    pdu: gtp::GtpPdu<'a>,
    gtp_at: usize,
) -> Result<Decoded<'a>, PacketError> {
    let inner_at = gtp_at.saturating_add(pdu.inner_offset);
    need(pdu.inner, 1, Header::Gtp, inner_at)?;
    let version = u8_at(pdu.inner, 0) >> 4;
    if version != 4 && version != 6 {
        return Err(invalid(
            Header::Gtp,
            inner_at,
            "user packet IP version",
            version,
            "is neither 4 nor 6",
        ));
    }
    let inner = Carrier {
        tunnel: Some(Tunnel {
            teid: pdu.teid,
            outer_src: src,
            outer_dst: dst,
        }),
        tunnel_depth: c.tunnel_depth.saturating_add(1),
        truncated: c.truncated || pdu.truncated,
        ..c
    };
    decode_ip(inner, pdu.inner, inner_at, IpExpect::Any)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn carrier() -> Carrier {
        Carrier {
            frame: 1,
            record_offset: 0,
            ts: Timestamp::default(),
            vlan: VlanTags::default(),
            tunnel: None,
            tunnel_depth: 0,
            truncated: false,
        }
    }

    #[test]
    fn ipv4_udp_annotated() {
        let bytes = [
            0x45, 0x00, 0x00, 0x1E, // v4, IHL 5; total length 30
            0x12, 0x34, 0x00, 0x00, // identification; no flags, offset 0
            0x40, 0x11, 0x00, 0x00, // TTL 64, UDP, checksum (not checked)
            0xC0, 0x00, 0x02, 0x01, // 192.0.2.1
            0xC6, 0x33, 0x64, 0x02, // 198.51.100.2
            0x23, 0xF0, 0x23, 0xF0, // UDP 9200 → 9200
            0x00, 0x0A, 0x00, 0x00, // length 10, checksum
            0xAB, 0xCD, // payload
            0x00, 0x00, // Ethernet padding beyond the total length
        ];
        let Decoded::Packet(p) = decode_ip(carrier(), &bytes, 14, IpExpect::Any).unwrap() else {
            panic!("not a packet")
        };
        assert_eq!(p.src, IpAddr::from([192, 0, 2, 1]));
        assert_eq!(p.transport.payload(), &[0xAB, 0xCD]);
        assert!(!p.truncated);
    }

    #[test]
    fn ipv6_fragment_header_annotated() {
        let bytes = [
            0x60, 0x00, 0x00, 0x00, // v6, traffic class, flow label
            0x00, 0x0C, 0x2C, 0x40, // payload length 12, next header Fragment (44), hop limit
            0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // 2001:db8::1
            0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, // 2001:db8::2
            0x11, 0x00, 0x05,
            0x01, // next UDP; offset 0x0501 >> 3 = 160 units (1280 bytes), M
            0x00, 0x00, 0x00, 0x2A, // identification 42
            0xDE, 0xAD, 0xBE, 0xEF, // fragment data
        ];
        let Decoded::Fragment(f) = decode_ip(carrier(), &bytes, 0, IpExpect::V6).unwrap() else {
            panic!("not a fragment")
        };
        assert_eq!(
            (f.offset, f.more_fragments, f.ident, f.protocol),
            (1280, true, 42, 17)
        );
        assert_eq!(f.payload.as_ref(), &[0xDE, 0xAD, 0xBE, 0xEF]);
    }
}
