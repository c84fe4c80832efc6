#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `decode_record` on frames of every supported link layer, with VLANs, IPv6 extension headers,
//! GTP-U tunnels, snaplen cuts and damaged headers.

mod packet_support;

use etherparse::{LinuxSllPacketType, PacketBuilder, VlanId};
use mmsleak::capture::{Record, linktype};
use mmsleak::diag::Layer;
use mmsleak::packet::{
    Decoded, Fragment, NonIpProtocol, Packet, PacketError, Transport, Tunnel, VlanTags,
    decode_record,
};
use packet_support::*;
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn packet(decoded: Result<Decoded<'_>, PacketError>) -> Packet<'_> {
    match decoded {
        Ok(Decoded::Packet(p)) => p,
        other => panic!("expected a packet, got {other:?}"),
    }
}

fn fragment(decoded: Result<Decoded<'_>, PacketError>) -> Fragment<'_> {
    match decoded {
        Ok(Decoded::Fragment(f)) => f,
        other => panic!("expected a fragment, got {other:?}"),
    }
}

fn error(decoded: Result<Decoded<'_>, PacketError>) -> PacketError {
    match decoded {
        Err(e) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn pkt(rec: Record) -> Packet<'static> {
    packet(decode_record(&rec)).into_owned()
}

fn frag(rec: Record) -> Fragment<'static> {
    fragment(decode_record(&rec)).into_owned()
}

fn err_of(rec: Record) -> PacketError {
    error(decode_record(&rec))
}

fn udp_payload<'p>(p: &'p Packet<'_>) -> &'p [u8] {
    match &p.transport {
        Transport::Udp(d) => &d.payload,
        other => panic!("expected UDP, got {other:?}"),
    }
}

fn v4(a: [u8; 4]) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(a))
}

fn v6(a: [u8; 16]) -> IpAddr {
    IpAddr::V6(Ipv6Addr::from(a))
}

#[test]
fn ethernet_ipv4_tcp_borrows_the_payload() {
    let rec = ethernet_record(&ipv4_tcp(
        CLIENT4,
        SERVER4,
        40000,
        80,
        12345,
        b"GET / HTTP/1.1\r\n",
    ));
    let p = packet(decode_record(&rec));
    assert_eq!(p.frame, 1);
    assert_eq!(p.src, v4(CLIENT4));
    assert_eq!(p.dst, v4(SERVER4));
    assert_eq!(p.vlan, VlanTags::default());
    assert_eq!(p.tunnel, None);
    assert!(!p.truncated);
    assert!(p.fragment_frames.is_empty());
    let Transport::Tcp(seg) = &p.transport else {
        panic!()
    };
    assert_eq!(
        (seg.src_port, seg.dst_port, seg.seq, seg.ack),
        (40000, 80, 12345, 7)
    );
    assert!(seg.flags.ack() && !seg.flags.syn());
    assert_eq!(seg.window, 4096);
    assert!(matches!(seg.payload, Cow::Borrowed(b"GET / HTTP/1.1\r\n")));
}

#[test]
fn single_vlan_and_qinq() {
    let builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .single_vlan(VlanId::try_new(100).unwrap())
        .ipv4(CLIENT4, SERVER4, 64)
        .udp(1000, 9200);
    let mut frame = Vec::new();
    builder.write(&mut frame, b"wsp").unwrap();
    let rec = record(linktype::ETHERNET, frame);
    let p = packet(decode_record(&rec));
    assert_eq!(
        p.vlan,
        VlanTags {
            outer: Some(100),
            inner: None
        }
    );
    assert_eq!(udp_payload(&p), b"wsp");

    let builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .double_vlan(VlanId::try_new(10).unwrap(), VlanId::try_new(4000).unwrap())
        .ipv6(CLIENT6, SERVER6, 64)
        .udp(1000, 9201);
    let mut frame = Vec::new();
    builder.write(&mut frame, b"wtp").unwrap();
    let rec = record(linktype::ETHERNET, frame);
    let p = packet(decode_record(&rec));
    assert_eq!(
        p.vlan,
        VlanTags {
            outer: Some(10),
            inner: Some(4000)
        }
    );
    assert_eq!(p.src, v6(CLIENT6));
    assert_eq!(udp_payload(&p), b"wtp");
}

#[test]
fn legacy_qinq_tpid_0x9100() {
    let mut tagged = vec![0x00, 0x05, 0x81, 0x00, 0x00, 0x06, 0x08, 0x00];
    tagged.extend_from_slice(&ipv4_udp(CLIENT4, SERVER4, 1, 2, b"x"));
    let rec = record(linktype::ETHERNET, ethernet(0x9100, &tagged));
    let p = packet(decode_record(&rec));
    assert_eq!(
        p.vlan,
        VlanTags {
            outer: Some(5),
            inner: Some(6)
        }
    );
}

#[test]
fn linux_sll_from_etherparse_and_raw_ip_interfaces() {
    let builder =
        PacketBuilder::linux_sll(LinuxSllPacketType::OUTGOING, 6, [2, 0, 0, 0, 0, 1, 0, 0])
            .ipv4(CLIENT4, SERVER4, 64)
            .tcp(40000, 80, 1, 100);
    let mut frame = Vec::new();
    builder.write(&mut frame, b"hello").unwrap();
    let rec = record(linktype::LINUX_SLL, frame);
    assert_eq!(packet(decode_record(&rec)).transport.payload(), b"hello");

    // An Android rmnet interface: ARPHRD_RAWIP (519), no link address, protocol IPv6.
    let mut frame = vec![0, 4, 0x02, 0x07, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xDD];
    frame.extend_from_slice(&ipv6_tcp(40000, 443, b"tls"));
    let rec = record(linktype::LINUX_SLL, frame);
    let p = packet(decode_record(&rec));
    assert_eq!(p.dst, v6(SERVER6));
    assert_eq!(p.transport.payload(), b"tls");
}

#[test]
fn linux_sll2() {
    let mut frame = vec![
        0x08, 0x00, // protocol IPv4
        0, 0, // reserved
        0, 0, 0, 3, // interface index
        0x00, 0x01, // ARPHRD_ETHER
        4,    // outgoing
        6,    // address length
        2, 0, 0, 0, 0, 1, 0, 0, // address
    ];
    frame.extend_from_slice(&ipv4_udp(CLIENT4, SERVER4, 5000, 9200, b"sll2"));
    let rec = record(linktype::LINUX_SLL2, frame);
    assert_eq!(udp_payload(&packet(decode_record(&rec))), b"sll2");

    let rec = record(linktype::LINUX_SLL2, vec![0x08, 0, 0, 0, 0, 0, 0]);
    let err = error(decode_record(&rec));
    assert_eq!(
        err.to_string(),
        "sll2 at byte 0: 20 bytes needed, 7 present"
    );
    assert_eq!(err.layer(), Layer::Link);
}

#[test]
fn raw_ip_link_types_pick_the_version_from_the_first_nibble() {
    for lt in [linktype::RAW, linktype::RAW_12, linktype::RAW_14] {
        let p = pkt(record(lt, ipv4_udp(CLIENT4, SERVER4, 1, 2, b"four")));
        assert_eq!(p.src, v4(CLIENT4));
        let p = pkt(record(lt, ipv6_tcp(1, 2, b"six")));
        assert_eq!(p.src, v6(CLIENT6));
    }
    let err = err_of(record(linktype::RAW, vec![0x50; 40]));
    assert_eq!(
        err.to_string(),
        "ip at byte 0: version 5 is neither 4 nor 6"
    );
}

#[test]
fn ipv4_and_ipv6_link_types_insist_on_their_version() {
    let p = pkt(record(
        linktype::IPV4,
        ipv4_udp(CLIENT4, SERVER4, 1, 2, b"a"),
    ));
    assert_eq!(p.dst, v4(SERVER4));
    let p = pkt(record(linktype::IPV6, ipv6_tcp(1, 2, b"b")));
    assert_eq!(p.dst, v6(SERVER6));
    let err = err_of(record(linktype::IPV4, ipv6_tcp(1, 2, b"b")));
    assert_eq!(err.to_string(), "ipv4 at byte 0: version 6 is not 4");
}

#[test]
fn null_in_both_byte_orders_and_loop_in_network_order() {
    let ip4 = ipv4_udp(CLIENT4, SERVER4, 1, 2, b"n");
    let ip6 = ipv6_tcp(1, 2, b"n6");
    let with = |family: [u8; 4], ip: &[u8]| {
        let mut f = family.to_vec();
        f.extend_from_slice(ip);
        f
    };
    for family in [[2, 0, 0, 0], [0, 0, 0, 2]] {
        let p = pkt(record(linktype::NULL, with(family, &ip4)));
        assert_eq!(p.src, v4(CLIENT4));
    }
    for af in [24u32, 28, 30] {
        for family in [af.to_le_bytes(), af.to_be_bytes()] {
            let p = pkt(record(linktype::NULL, with(family, &ip6)));
            assert_eq!(p.src, v6(CLIENT6));
        }
    }
    let p = pkt(record(linktype::LOOP, with([0, 0, 0, 2], &ip4)));
    assert_eq!(p.src, v4(CLIENT4));
    let p = pkt(record(linktype::LOOP, with([0, 0, 0, 30], &ip6)));
    assert_eq!(p.src, v6(CLIENT6));
    // Loop is always network order: a little-endian 2 is family 0x02000000, not IP.
    assert!(matches!(
        decode_record(&record(linktype::LOOP, with([2, 0, 0, 0], &ip4))),
        Ok(Decoded::NonIp {
            protocol: NonIpProtocol::AddressFamily(0x0200_0000),
            ..
        })
    ));
}

#[test]
fn unknown_link_type_is_a_diagnostic() {
    let rec = record(147, vec![1, 2, 3]);
    let err = error(decode_record(&rec));
    assert_eq!(err, PacketError::UnsupportedLinkType(147));
    let d = err.diagnostic_for(&rec);
    assert_eq!(
        (d.frame, d.offset, d.layer),
        (Some(1), Some(rec.offset), Layer::Link)
    );
    assert_eq!(d.message, "link type 147 is not supported");
}

#[test]
fn arp_and_llc_are_not_ip() {
    let rec = record(linktype::ETHERNET, ethernet(0x0806, &[0; 28]));
    assert_eq!(
        decode_record(&rec).unwrap(),
        Decoded::NonIp {
            frame: 1,
            protocol: NonIpProtocol::EtherType(0x0806)
        }
    );
    let rec = record(linktype::ETHERNET, ethernet(38, &[0x42, 0x42, 0x03]));
    assert!(matches!(
        decode_record(&rec),
        Ok(Decoded::NonIp {
            protocol: NonIpProtocol::Ieee8023,
            ..
        })
    ));
}

#[test]
fn ipv6_extension_headers_are_skipped() {
    let udp = udp_raw(5000, 9200, b"ext");
    let mut chain = Vec::new();
    chain.extend_from_slice(&[43, 0, 1, 0, 0, 0, 0, 0]); // hop-by-hop (8 bytes, PadN) → routing
    chain.extend_from_slice(&[60, 0, 0, 0, 0, 0, 0, 0]); // routing (type 0, segments left 0) → dest opts
    chain.extend_from_slice(&[51, 1, 1, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // dest opts (16 bytes) → AH
    chain.extend_from_slice(&[17, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9]); // AH: len (1+2)*4 = 12 → UDP
    chain.extend_from_slice(&udp);
    let rec = record(linktype::RAW, ipv6_raw(0, &chain));
    let p = packet(decode_record(&rec));
    assert_eq!(udp_payload(&p), b"ext");
    assert!(!p.truncated);

    // An atomic fragment (offset 0, M clear) is a whole packet (RFC 6946).
    let mut atomic = ipv6_fragment_header(17, 0, false, 77);
    atomic.extend_from_slice(&udp);
    let p = pkt(record(linktype::RAW, ipv6_raw(44, &atomic)));
    assert_eq!(udp_payload(&p), b"ext");

    // A hop-by-hop header longer than the packet.
    let rec = record(linktype::RAW, ipv6_raw(0, &[17, 4, 0, 0, 0, 0, 0, 0]));
    let err = error(decode_record(&rec));
    assert_eq!(
        err.to_string(),
        "ipv6 extension header at byte 40: header length 40 but only 8 bytes"
    );
}

#[test]
fn ipv4_authentication_header() {
    let mut ah = vec![6, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1];
    ah.extend_from_slice(&[0; 12]); // ICV: length (4+2)*4 = 24
    let tcp = ipv4_tcp(CLIENT4, SERVER4, 1, 2, 3, b"ah");
    ah.extend_from_slice(&tcp[20..]);
    let rec = record(
        linktype::RAW,
        ipv4_raw(CLIENT4, SERVER4, 51, 1, 0, false, &ah),
    );
    assert_eq!(packet(decode_record(&rec)).transport.payload(), b"ah");
}

#[test]
fn ipv4_and_ipv6_fragments() {
    let rec = ethernet_record(&ipv4_raw(
        CLIENT4, SERVER4, 17, 0xBEEF, 1480, true, &[7; 64],
    ));
    let f = fragment(decode_record(&rec));
    assert_eq!(
        (f.ident, f.protocol, f.offset, f.more_fragments),
        (0xBEEF, 17, 1480, true)
    );
    assert_eq!((f.src, f.dst), (v4(CLIENT4), v4(SERVER4)));
    assert_eq!(f.payload.len(), 64);
    assert_eq!(f.claimed_len, 64);
    assert!(!f.truncated);

    let mut body = ipv6_fragment_header(6, 2048, false, 0xDEAD_BEEF);
    body.extend_from_slice(&[1; 100]);
    let mut hop = vec![44, 0, 1, 4, 0, 0, 0, 0];
    hop.extend_from_slice(&body);
    let f = frag(record(linktype::RAW, ipv6_raw(0, &hop)));
    assert_eq!(
        (f.ident, f.protocol, f.offset, f.more_fragments),
        (0xDEAD_BEEF, 6, 2048, false)
    );
    assert_eq!(f.payload.as_ref(), &[1; 100][..]);
}

#[test]
fn gtp_u_plain_with_sequence_and_with_extension_headers() {
    let inner = ipv4_tcp(CLIENT4, SERVER4, 40000, 80, 99, b"GET /mms");
    let expected_tunnel = Tunnel {
        teid: 0x0102_0304,
        outer_src: v4(SGSN4),
        outer_dst: v4(GGSN4),
    };

    let rec = record(linktype::ETHERNET, gtp_frame(0x0102_0304, &inner));
    let p = packet(decode_record(&rec));
    assert_eq!(p.tunnel, Some(expected_tunnel));
    assert_eq!((p.src, p.dst), (v4(CLIENT4), v4(SERVER4)));
    assert_eq!(p.transport.payload(), b"GET /mms");

    // S flag: sequence number, N-PDU number and next-extension octets present.
    let gtp = gtp_u(0x32, 0x0102_0304, &[0, 9, 0, 0], &inner);
    let rec = ethernet_record(&ipv4_udp(SGSN4, GGSN4, 2152, 2152, &gtp));
    assert_eq!(packet(decode_record(&rec)).tunnel, Some(expected_tunnel));

    // E flag with two chained extension headers (UDP port, PDU session container).
    let optional = [
        0, 0, 0, 0x40, // sequence, N-PDU, next type 0x40 (UDP port)
        1, 0x08, 0x68, 0x85, // one unit, port 2152, next type 0x85
        2, 0x10, 0x01, 0, 0, 0, 0, 0x00, // two units, next type 0
    ];
    let gtp = gtp_u(0x34, 0x0102_0304, &optional, &inner);
    let rec = ethernet_record(&ipv4_udp(SGSN4, GGSN4, 40123, 2152, &gtp));
    let p = packet(decode_record(&rec));
    assert_eq!(p.tunnel, Some(expected_tunnel));
    assert_eq!(p.transport.payload(), b"GET /mms");
}

#[test]
fn gtp_u_over_ipv6_carrying_ipv6() {
    let inner = ipv6_tcp(40000, 80, b"six in six");
    let gtp = gtp_u(0x30, 7, &[], &inner);
    let mut outer = udp_raw(2152, 2152, &gtp);
    outer.truncate(8 + gtp.len());
    let rec = record(linktype::RAW, ipv6_raw(17, &outer));
    let p = packet(decode_record(&rec));
    assert_eq!(p.tunnel.unwrap().teid, 7);
    assert_eq!(p.tunnel.unwrap().outer_src, v6(CLIENT6));
    assert_eq!(p.transport.payload(), b"six in six");
}

#[test]
fn gtp_inside_gtp_is_followed_one_level() {
    let innermost = ipv4_udp(CLIENT4, SERVER4, 1, 9200, b"deep");
    let middle = ipv4_udp(SGSN4, GGSN4, 2152, 2152, &gtp_u(0x30, 2, &[], &innermost));
    let rec = record(linktype::ETHERNET, gtp_frame(1, &middle));
    let p = packet(decode_record(&rec));
    assert_eq!(p.tunnel.unwrap().teid, 2);
    assert_eq!(udp_payload(&p), b"deep");

    // A third level stays UDP.
    let third = ipv4_udp(SGSN4, GGSN4, 2152, 2152, &gtp_u(0x30, 3, &[], &middle));
    let rec = record(linktype::ETHERNET, gtp_frame(1, &third));
    let p = packet(decode_record(&rec));
    assert_eq!(p.tunnel.unwrap().teid, 3);
    let Transport::Udp(d) = &p.transport else {
        panic!()
    };
    assert_eq!(d.dst_port, 2152);
}

#[test]
fn gtp_u_on_another_port_only_when_unmistakable() {
    let inner = ipv4_tcp(CLIENT4, SERVER4, 40000, 80, 1, b"elsewhere");
    let gtp = gtp_u(0x30, 42, &[], &inner);
    let rec = ethernet_record(&ipv4_udp(SGSN4, GGSN4, 2153, 40000, &gtp));
    assert_eq!(packet(decode_record(&rec)).tunnel.unwrap().teid, 42);

    // Same header, but the length field does not match the datagram: left as UDP.
    let mut off = gtp.clone();
    off.push(0);
    let rec = ethernet_record(&ipv4_udp(SGSN4, GGSN4, 2153, 40000, &off));
    let p = packet(decode_record(&rec));
    assert_eq!(p.tunnel, None);
    assert_eq!(udp_payload(&p), &off[..]);

    // A G-PDU whose content is not a consistent IP header: left as UDP.
    let junk = gtp_u(0x30, 42, &[], &[0x45; 30]);
    let rec = ethernet_record(&ipv4_udp(SGSN4, GGSN4, 5000, 6000, &junk));
    assert_eq!(packet(decode_record(&rec)).tunnel, None);
}

#[test]
fn gtp_signalling_on_2152_stays_udp_and_broken_g_pdus_are_errors() {
    let echo = [0x32, 0x01, 0x00, 0x04, 0, 0, 0, 0, 0x00, 0x01, 0, 0];
    let rec = ethernet_record(&ipv4_udp(SGSN4, GGSN4, 2152, 2152, &echo));
    let p = packet(decode_record(&rec));
    assert_eq!(p.tunnel, None);
    assert_eq!(udp_payload(&p), &echo[..]);

    // E flag set but the 4 optional octets are missing.
    let rec = ethernet_record(&ipv4_udp(
        SGSN4,
        GGSN4,
        2152,
        2152,
        &[0x34, 0xFF, 0, 0, 0, 0, 0, 1],
    ));
    let err = error(decode_record(&rec));
    assert_eq!(err.layer(), Layer::Gtp);
    assert_eq!(
        err.to_string(),
        "gtp-u at byte 42: 12 bytes needed, 8 present"
    );

    // A G-PDU that carries something other than IP.
    let rec = ethernet_record(&ipv4_udp(
        SGSN4,
        GGSN4,
        2152,
        2152,
        &gtp_u(0x30, 1, &[], &[0x11; 20]),
    ));
    let err = error(decode_record(&rec));
    assert_eq!(
        err.to_string(),
        "gtp-u at byte 50: user packet IP version 1 is neither 4 nor 6"
    );
}

#[test]
fn fragments_inside_a_tunnel_carry_the_tunnel() {
    let inner = ipv4_raw(CLIENT4, SERVER4, 6, 0x0A0B, 0, true, &[5; 48]);
    let f = frag(record(linktype::ETHERNET, gtp_frame(9, &inner)));
    assert_eq!(f.tunnel.map(|t| t.teid), Some(9));
    assert_eq!(f.tunnel_depth, 1);
    assert_eq!(f.src, v4(CLIENT4));
}

#[test]
fn snaplen_cut_frames_decode_what_is_there() {
    let full = ethernet(
        0x0800,
        &ipv4_tcp(CLIENT4, SERVER4, 40000, 80, 1, &[b'x'; 1000]),
    );
    let mut rec = record(linktype::ETHERNET, full[..200].to_vec());
    rec.orig_len = full.len() as u32;
    let p = packet(decode_record(&rec));
    assert!(p.truncated);
    assert_eq!(p.transport.payload().len(), 200 - 14 - 40);

    // IP says more than the frame holds even though the record claims nothing was cut.
    let rec = record(linktype::ETHERNET, full[..300].to_vec());
    let p = packet(decode_record(&rec));
    assert!(p.truncated);
    assert_eq!(p.transport.payload().len(), 300 - 14 - 40);

    // A cut UDP datagram.
    let full = ethernet(0x0800, &ipv4_udp(CLIENT4, SERVER4, 1, 9200, &[1; 500]));
    let p = pkt(record(linktype::ETHERNET, full[..100].to_vec()));
    assert!(p.truncated);
    assert_eq!(udp_payload(&p).len(), 100 - 14 - 28);
}

#[test]
fn ethernet_padding_is_not_payload() {
    let mut frame = ethernet(0x0800, &ipv4_udp(CLIENT4, SERVER4, 1, 2, b"hi"));
    frame.extend_from_slice(&[0; 16]);
    let p = pkt(record(linktype::ETHERNET, frame));
    assert_eq!(udp_payload(&p), b"hi");
    assert!(!p.truncated);
}

#[test]
fn short_and_damaged_headers_name_layer_offset_and_lengths() {
    let cases: Vec<(Vec<u8>, u32, &str, Layer)> = vec![
        (
            vec![0; 10],
            linktype::ETHERNET,
            "ethernet at byte 0: 14 bytes needed, 10 present",
            Layer::Link,
        ),
        (
            ethernet(0x8100, &[0, 1]),
            linktype::ETHERNET,
            "vlan at byte 14: 4 bytes needed, 2 present",
            Layer::Link,
        ),
        (
            vec![0; 9],
            linktype::LINUX_SLL,
            "sll at byte 0: 16 bytes needed, 9 present",
            Layer::Link,
        ),
        (
            vec![2, 0],
            linktype::NULL,
            "null at byte 0: 4 bytes needed, 2 present",
            Layer::Link,
        ),
        (
            ethernet(0x0800, &[0x45; 12]),
            linktype::ETHERNET,
            "ipv4 at byte 14: 20 bytes needed, 12 present",
            Layer::Ip,
        ),
        (
            ethernet(0x0800, &ipv4_raw(CLIENT4, SERVER4, 6, 0, 0, false, &[]))
                .into_iter()
                .enumerate()
                .map(|(i, b)| if i == 14 { 0x46 } else { b })
                .collect(),
            linktype::ETHERNET,
            "ipv4 at byte 14: header length 24 but only 20 bytes",
            Layer::Ip,
        ),
        (
            ethernet(0x0800, &[0x43; 20]),
            linktype::ETHERNET,
            "ipv4 at byte 14: header length field 3 is below the minimum of 5 (20 bytes)",
            Layer::Ip,
        ),
        (
            ethernet(0x86DD, &[0x60; 39]),
            linktype::ETHERNET,
            "ipv6 at byte 14: 40 bytes needed, 39 present",
            Layer::Ip,
        ),
        (
            ipv4_raw(CLIENT4, SERVER4, 6, 0, 0, false, &[0; 12]),
            linktype::RAW,
            "tcp at byte 20: 20 bytes needed, 12 present",
            Layer::Tcp,
        ),
        (
            ipv4_raw(CLIENT4, SERVER4, 6, 0, 0, false, &[0; 20]),
            linktype::RAW,
            "tcp at byte 20: data offset 0 is below the minimum of 5 (20 bytes)",
            Layer::Tcp,
        ),
        (
            ipv4_raw(CLIENT4, SERVER4, 17, 0, 0, false, &[0; 5]),
            linktype::RAW,
            "udp at byte 20: 8 bytes needed, 5 present",
            Layer::Udp,
        ),
        (
            ipv4_raw(CLIENT4, SERVER4, 17, 0, 0, false, &[0, 1, 0, 2, 0, 4, 0, 0]),
            linktype::RAW,
            "udp at byte 20: length 4 is below the header length of 8",
            Layer::Udp,
        ),
    ];
    for (data, lt, message, layer) in cases {
        let rec = record(lt, data);
        let err = error(decode_record(&rec));
        assert_eq!(err.to_string(), message);
        assert_eq!(err.layer(), layer, "{message}");
        let d = err.diagnostic_for(&rec);
        assert_eq!(d.frame, Some(rec.frame));
        assert_eq!(d.offset, Some(rec.offset));
    }
}

#[test]
fn other_ip_protocols_are_counted_not_analysed() {
    let rec = record(
        linktype::RAW,
        ipv4_raw(CLIENT4, SERVER4, 1, 0, 0, false, &[8, 0, 0, 0]),
    );
    assert_eq!(
        packet(decode_record(&rec)).transport,
        Transport::Other { protocol: 1 }
    );
    let rec = record(linktype::RAW, ipv6_raw(59, &[]));
    assert_eq!(
        packet(decode_record(&rec)).transport,
        Transport::Other { protocol: 59 }
    );
}
