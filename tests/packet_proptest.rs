#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Properties: the decoder never panics on any bytes for any link type; built packets decode to
//! what was built; the defragmenter never panics, stays within its byte and datagram limits on
//! any fragment stream, and puts shuffled, duplicated fragments back together exactly.

mod packet_support;

use etherparse::PacketBuilder;
use mmsleak::capture::linktype;
use mmsleak::packet::{
    Decoded, DefragLimits, Defragmenter, Fragment, Transport, VlanTags, decode_record,
};
use mmsleak::time::Timestamp;
use packet_support::*;
use proptest::prelude::*;
use std::borrow::Cow;
use std::net::IpAddr;

const LINK_TYPES: &[u32] = &[
    linktype::NULL,
    linktype::ETHERNET,
    linktype::RAW_12,
    linktype::RAW_14,
    linktype::RAW,
    linktype::LOOP,
    linktype::LINUX_SLL,
    linktype::IPV4,
    linktype::IPV6,
    linktype::LINUX_SLL2,
    147,
];

/// A frame with every layer present (Ethernet, QinQ, IPv4, UDP 2152, GTP-U with an extension
/// header, IPv6, TCP) for mutation.
fn deep_frame() -> Vec<u8> {
    let inner = ipv6_tcp(40000, 80, b"GET /x HTTP/1.1\r\n\r\n");
    let gtp = gtp_u(0x34, 5, &[0, 0, 0, 0x85, 1, 0x10, 0x05, 0x00], &inner);
    let mut tagged = vec![0x00, 0x05, 0x81, 0x00, 0x00, 0x06, 0x08, 0x00];
    tagged.extend_from_slice(&ipv4_udp(SGSN4, GGSN4, 2152, 2152, &gtp));
    ethernet(0x88A8, &tagged)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn decode_never_panics(lt in prop::sample::select(LINK_TYPES), data in prop::collection::vec(any::<u8>(), 0..300)) {
        let rec = record(lt, data);
        let _ = decode_record(&rec);
    }

    #[test]
    fn decode_never_panics_on_mutated_deep_frames(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut frame = deep_frame();
        for (at, value) in edits {
            let i = at.index(frame.len());
            frame[i] = value;
        }
        let keep = cut.index(frame.len() + 1);
        frame.truncate(keep.max(frame.len() / 2));
        let rec = record(linktype::ETHERNET, frame);
        if let Ok(Decoded::Packet(p)) = decode_record(&rec) {
            prop_assert!(p.transport.payload().len() <= rec.data.len());
        }
    }

    #[test]
    fn built_packets_decode_to_what_was_built(
        sport in any::<u16>(),
        dport in any::<u16>().prop_filter("not GTP-U", |p| *p != 2152),
        payload in prop::collection::vec(any::<u8>(), 0..1400),
        six in any::<bool>(),
        tcp in any::<bool>(),
    ) {
        let sport = if sport == 2152 { 2153 } else { sport };
        let builder = if six {
            PacketBuilder::ethernet2(MAC_A, MAC_B).ipv6(CLIENT6, SERVER6, 64)
        } else {
            PacketBuilder::ethernet2(MAC_A, MAC_B).ipv4(CLIENT4, SERVER4, 64)
        };
        let mut frame = Vec::new();
        if tcp {
            builder.tcp(sport, dport, 1, 1000).write(&mut frame, &payload).unwrap();
        } else {
            builder.udp(sport, dport).write(&mut frame, &payload).unwrap();
        }
        let rec = record(linktype::ETHERNET, frame);
        let Ok(Decoded::Packet(p)) = decode_record(&rec) else { panic!("not decoded") };
        prop_assert!(!p.truncated);
        let (s, d) = match &p.transport {
            Transport::Tcp(t) => (t.src_port, t.dst_port),
            Transport::Udp(u) => (u.src_port, u.dst_port),
            Transport::Other { .. } => panic!("other"),
        };
        // Any UDP payload that happens to look like GTP-U would be decapsulated; random bytes
        // essentially never do, but only compare when no tunnel was found.
        if p.tunnel.is_none() {
            prop_assert_eq!((s, d), (sport, dport));
            prop_assert_eq!(p.transport.payload(), &payload[..]);
        }
    }

    #[test]
    fn defragmenter_stays_within_limits(
        stream in prop::collection::vec(
            (0u8..5, 0u16..600, 0usize..700, any::<bool>(), 0u8..4, any::<bool>(), any::<bool>()),
            0..120,
        ),
    ) {
        let limits = DefragLimits {
            max_datagrams: 3,
            max_datagram_bytes: 4000,
            max_total_bytes: 6000,
            max_fragments_per_datagram: 16,
            timeout_secs: 10,
        };
        let mut defrag = Defragmenter::new(limits);
        let mut diags = Vec::new();
        let mut secs = 0i64;
        for (i, (key, offset_units, len, more, advance, six, cut)) in stream.into_iter().enumerate() {
            secs += i64::from(advance);
            let (src, dst): (IpAddr, IpAddr) = if six {
                (CLIENT6.into(), SERVER6.into())
            } else {
                (CLIENT4.into(), SERVER4.into())
            };
            let payload = vec![key; len];
            let claimed = if cut { len + 100 } else { len };
            let frag = Fragment {
                frame: i as u64 + 1,
                record_offset: 0,
                ts: Timestamp::new(secs, 0, 6),
                vlan: VlanTags::default(),
                tunnel: None,
                tunnel_depth: 0,
                src,
                dst,
                ident: u32::from(key),
                protocol: if key % 2 == 0 { 17 } else { 99 },
                offset: u32::from(offset_units) * 8,
                more_fragments: more,
                claimed_len: claimed as u32,
                payload: Cow::Owned(payload),
                truncated: cut,
                earlier_frames: Vec::new(),
            };
            let _ = defrag.push(frag, &mut diags);
            prop_assert!(defrag.held_bytes() <= limits.max_total_bytes);
            prop_assert!(defrag.in_progress() <= limits.max_datagrams);
        }
        defrag.finish(&mut diags);
        prop_assert_eq!(defrag.held_bytes(), 0);
        prop_assert_eq!(defrag.in_progress(), 0);
    }

    #[test]
    fn shuffled_duplicated_fragments_reassemble_exactly(
        payload in prop::collection::vec(any::<u8>(), 1..3000),
        cuts in prop::collection::vec(1usize..400, 1..12),
        order in any::<u64>(),
        duplicate in any::<prop::sample::Index>(),
    ) {
        let datagram = udp_raw(5000, 9200, &payload);
        let total = datagram.len();
        let mut bounds = vec![0usize];
        for c in cuts {
            let next = bounds.last().unwrap() + c * 8;
            if next >= total { break; }
            bounds.push(next);
        }
        if bounds.len() == 1 {
            bounds.push(8); // at least two fragments (total is at least 9)
        }
        bounds.push(total);
        let mut frames: Vec<Vec<u8>> = bounds
            .windows(2)
            .map(|w| ipv4_raw(CLIENT4, SERVER4, 17, 0x4242, w[0] as u16, w[1] < total, &datagram[w[0]..w[1]]))
            .collect();
        let extra = frames[duplicate.index(frames.len())].clone();
        frames.push(extra);
        // A deterministic shuffle from `order`.
        let mut seed = order;
        for i in (1..frames.len()).rev() {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            frames.swap(i, (seed >> 33) as usize % (i + 1));
        }
        let mut defrag = Defragmenter::default();
        let mut diags = Vec::new();
        let mut out = Vec::new();
        for (i, ip) in frames.iter().enumerate() {
            let rec = record_at(linktype::RAW, ip.clone(), i as u64 + 1, 0);
            match decode_record(&rec).unwrap() {
                Decoded::Fragment(f) => out.extend(defrag.push(f, &mut diags)),
                Decoded::Packet(p) => out.push(p.into_owned()),
                Decoded::NonIp { .. } => panic!("non-ip"),
            }
        }
        prop_assert_eq!(out.len(), 1);
        prop_assert_eq!(out[0].transport.payload(), &payload[..]);
        prop_assert!(diags.is_empty());
        prop_assert_eq!(defrag.held_bytes(), 0);
    }
}
