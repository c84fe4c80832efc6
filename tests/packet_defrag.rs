#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! IPv4 and IPv6 reassembly: order, overlaps, duplicates, timeouts, limits, tunnels.

mod packet_support;

use mmsleak::capture::{Record, linktype};
use mmsleak::diag::{Diagnostic, Layer};
use mmsleak::packet::{
    Decoded, DefragLimits, Defragmenter, Fragment, Packet, PacketDecoder, Transport, decode_record,
};
use mmsleak::time::Timestamp;
use packet_support::*;

/// Fails, showing the diagnostic, unless its message contains `text`.
fn assert_says(d: &Diagnostic, text: &str) {
    assert!(d.message.contains(text), "{}", d.message);
}

/// A UDP datagram of `len` payload bytes (distinct values) to cut into fragments.
fn udp_datagram(len: usize) -> (Vec<u8>, Vec<u8>) {
    let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
    (udp_raw(5000, 9200, &payload), payload)
}

/// IPv4 fragments of `datagram` at the given byte ranges, one record each (frames from 1).
fn ipv4_fragments(
    datagram: &[u8],
    ident: u16,
    cuts: &[(usize, usize)],
    total: usize,
) -> Vec<Record> {
    cuts.iter()
        .enumerate()
        .map(|(i, &(start, end))| {
            let ip = ipv4_raw(
                CLIENT4,
                SERVER4,
                17,
                ident,
                start as u16,
                end < total,
                &datagram[start..end],
            );
            record_at(linktype::ETHERNET, ethernet(0x0800, &ip), i as u64 + 1, 0)
        })
        .collect()
}

fn fragment_of(rec: &Record) -> Fragment<'_> {
    match decode_record(rec).unwrap() {
        Decoded::Fragment(f) => f,
        other => panic!("expected a fragment, got {other:?}"),
    }
}

/// Pushes the records in the given order; returns the packets that came out.
fn run(
    defrag: &mut Defragmenter,
    records: &[&Record],
    diags: &mut Vec<Diagnostic>,
) -> Vec<Packet<'static>> {
    records
        .iter()
        .filter_map(|rec| defrag.push(fragment_of(rec), diags))
        .collect()
}

fn udp_payload(p: &Packet<'_>) -> Vec<u8> {
    match &p.transport {
        Transport::Udp(d) => d.payload.to_vec(),
        other => panic!("expected UDP, got {other:?}"),
    }
}

#[test]
fn ipv4_in_order_and_reversed() {
    let (datagram, payload) = udp_datagram(3000);
    let total = datagram.len();
    let records = ipv4_fragments(
        &datagram,
        0x1111,
        &[(0, 1480), (1480, 2960), (2960, total)],
        total,
    );

    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
        let mut defrag = Defragmenter::default();
        let mut diags = Vec::new();
        let ordered: Vec<&Record> = order.iter().map(|&i| &records[i]).collect();
        let out = run(&mut defrag, &ordered, &mut diags);
        assert_eq!(out.len(), 1, "order {order:?}");
        let p = &out[0];
        assert_eq!(udp_payload(p), payload);
        assert_eq!(p.frame, records[order[2]].frame);
        let mut others = p.fragment_frames.clone();
        others.sort();
        let mut expected: Vec<u64> = order[..2].iter().map(|&i| records[i].frame).collect();
        expected.sort();
        assert_eq!(others, expected);
        assert!(!p.truncated);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(defrag.held_bytes(), 0);
        assert_eq!(defrag.in_progress(), 0);
        assert_eq!(defrag.stats().reassembled, 1);
    }
}

#[test]
fn overlapping_fragments_keep_the_first_bytes_and_duplicates_change_nothing() {
    let (datagram, payload) = udp_datagram(2000);
    let total = datagram.len();
    let good = ipv4_fragments(&datagram, 0x2222, &[(0, 1000), (800, total)], total);
    // A forged fragment overlapping bytes 800..1000 with different content, arriving second.
    let mut forged = datagram.clone();
    for b in &mut forged[800..1000] {
        *b = 0xEE;
    }
    let forged = ipv4_fragments(&forged, 0x2222, &[(800, 1000)], total);
    let mut defrag = Defragmenter::default();
    let mut diags = Vec::new();
    let out = run(
        &mut defrag,
        &[&good[0], &forged[0], &good[0], &good[1]],
        &mut diags,
    );
    assert_eq!(out.len(), 1);
    assert_eq!(udp_payload(&out[0]), payload);
    assert!(diags.is_empty());
}

#[test]
fn missing_fragment_times_out_with_a_diagnostic() {
    let (datagram, _) = udp_datagram(3000);
    let total = datagram.len();
    let records = ipv4_fragments(&datagram, 0x3333, &[(0, 1480), (2960, total)], total);
    let mut decoder = PacketDecoder::default();
    let mut diags = Vec::new();
    for rec in &records {
        assert!(decoder.decode(rec, &mut diags).is_none());
    }
    assert!(diags.is_empty());
    // 31 s later, any record moves capture time on and expires the datagram.
    let later = record_at(linktype::ETHERNET, ethernet(0x0806, &[0; 28]), 3, 31);
    assert!(decoder.decode(&later, &mut diags).is_none());
    assert_eq!(diags.len(), 1);
    let d = &diags[0];
    assert_eq!(d.layer, Layer::Ip);
    assert_eq!(d.frame, Some(1));
    assert_says(d, "ident 0x3333 timed out after 30 s");
    assert!(d.message.contains("frames 1, 2"), "{}", d.message);
    assert_eq!(decoder.defragmenter().held_bytes(), 0);
    let c = decoder.counters();
    assert_eq!((c.frames, c.fragments, c.non_ip, c.packets), (3, 2, 1, 0));
}

/// Expiry is asked for at every packet: two datagrams started 20 s apart each time out exactly
/// 30 s after their own first fragment (to the nanosecond), however often it is asked.
#[test]
fn timeouts_are_exact_however_often_expiry_is_asked_for() {
    let (datagram, _) = udp_datagram(3000);
    let total = datagram.len();
    let at = |ident: u16, secs: i64| {
        let mut r = ipv4_fragments(&datagram, ident, &[(0, 1480)], total).remove(0);
        r.ts = Timestamp::new(1_700_000_000 + secs, 0, 6);
        r
    };
    let time = |secs: i64, nanos: u32| Timestamp::new(1_700_000_000 + secs, nanos, 9);
    let mut defrag = Defragmenter::default();
    let mut diags = Vec::new();
    let (a, b) = (at(0x1111, 0), at(0x2222, 20));
    assert!(defrag.push(fragment_of(&a), &mut diags).is_none());
    for secs in 1..20 {
        defrag.expire(time(secs, 0), &mut diags);
    }
    assert!(defrag.push(fragment_of(&b), &mut diags).is_none());
    defrag.expire(time(30, 0), &mut diags);
    assert!(diags.is_empty(), "{diags:?}");
    defrag.expire(time(30, 1), &mut diags);
    assert_eq!(diags.len(), 1);
    assert_says(&diags[0], "ident 0x1111");
    for secs in 31..50 {
        defrag.expire(time(secs, 0), &mut diags);
    }
    defrag.expire(time(50, 0), &mut diags);
    assert_eq!(diags.len(), 1);
    defrag.expire(time(50, 1), &mut diags);
    assert_eq!(diags.len(), 2);
    assert_says(&diags[1], "ident 0x2222");
    assert_eq!(defrag.in_progress(), 0);
}

/// What expiry learnt about the oldest datagram is forgotten once that datagram completes: a
/// datagram queued behind it (stamped earlier, as in merged captures) times out at the next
/// packet, not at the completed one's deadline.
#[test]
fn a_completed_datagram_does_not_delay_the_expiry_of_the_next() {
    let (datagram, _) = udp_datagram(3000);
    let total = datagram.len();
    let stamped = |mut r: Record, secs: i64| {
        r.ts = Timestamp::new(1_700_000_000 + secs, 0, 6);
        r
    };
    let mut a = ipv4_fragments(&datagram, 0x5151, &[(0, 1480), (1480, total)], total);
    let a_last = stamped(a.remove(1), 26);
    let a_first = stamped(a.remove(0), 0);
    let b = stamped(
        ipv4_fragments(&datagram, 0x5252, &[(0, 1480)], total).remove(0),
        -10,
    );
    let time = |secs: i64| Timestamp::new(1_700_000_000 + secs, 0, 9);
    let mut defrag = Defragmenter::default();
    let mut diags = Vec::new();
    assert!(defrag.push(fragment_of(&a_first), &mut diags).is_none());
    assert!(defrag.push(fragment_of(&b), &mut diags).is_none());
    // The first datagram (deadline 30 s) is the oldest in line; the second waits behind it.
    defrag.expire(time(25), &mut diags);
    assert!(diags.is_empty(), "{diags:?}");
    assert!(defrag.push(fragment_of(&a_last), &mut diags).is_some());
    defrag.expire(time(26), &mut diags);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_says(&diags[0], "ident 0x5252");
    assert_eq!(defrag.in_progress(), 0);
}

#[test]
fn finish_reports_what_is_left() {
    let (datagram, _) = udp_datagram(3000);
    let total = datagram.len();
    let records = ipv4_fragments(&datagram, 0x4444, &[(1480, 2960)], total);
    let mut defrag = Defragmenter::default();
    let mut diags = Vec::new();
    assert!(run(&mut defrag, &[&records[0]], &mut diags).is_empty());
    defrag.finish(&mut diags);
    assert_eq!(diags.len(), 1);
    assert!(
        diags[0]
            .message
            .contains("incomplete at end of input: 1480 of ? bytes in 1 fragments"),
        "{}",
        diags[0].message
    );
    assert_eq!(defrag.in_progress(), 0);
}

#[test]
fn ipv6_fragments() {
    let (datagram, payload) = udp_datagram(2500);
    let cuts = [(0usize, 1232usize), (1232, datagram.len())];
    let records: Vec<Record> = cuts
        .iter()
        .enumerate()
        .map(|(i, &(start, end))| {
            let mut body =
                ipv6_fragment_header(17, start as u16, end < datagram.len(), 0xCAFE_F00D);
            body.extend_from_slice(&datagram[start..end]);
            // A destination options header before the fragment header is unfragmentable.
            let mut ext = vec![44, 0, 1, 4, 0, 0, 0, 0];
            ext.extend_from_slice(&body);
            record_at(linktype::RAW, ipv6_raw(60, &ext), i as u64 + 10, 0)
        })
        .collect();
    let mut defrag = Defragmenter::default();
    let mut diags = Vec::new();
    let out = run(&mut defrag, &[&records[1], &records[0]], &mut diags);
    assert_eq!(out.len(), 1);
    assert_eq!(udp_payload(&out[0]), payload);
    assert_eq!(out[0].frame, 10);
    assert_eq!(out[0].fragment_frames, vec![11]);
    assert!(diags.is_empty());
}

#[test]
fn outer_fragments_of_a_gtp_datagram_are_reassembled_then_decapsulated() {
    let inner = ipv4_tcp(CLIENT4, SERVER4, 40000, 80, 5, &[b'm'; 2000]);
    let gtp = gtp_u(0x30, 0xABCD, &[], &inner);
    let outer_udp = udp_raw(2152, 2152, &gtp);
    let total = outer_udp.len();
    let records: Vec<Record> = [(0usize, 1480usize), (1480, total)]
        .iter()
        .enumerate()
        .map(|(i, &(s, e))| {
            let ip = ipv4_raw(
                SGSN4,
                GGSN4,
                17,
                0x5555,
                s as u16,
                e < total,
                &outer_udp[s..e],
            );
            record_at(linktype::ETHERNET, ethernet(0x0800, &ip), i as u64 + 1, 0)
        })
        .collect();
    let mut decoder = PacketDecoder::default();
    let mut diags = Vec::new();
    assert!(decoder.decode(&records[0], &mut diags).is_none());
    let p = decoder.decode(&records[1], &mut diags).unwrap();
    assert_eq!(p.tunnel.unwrap().teid, 0xABCD);
    assert_eq!(p.src, std::net::IpAddr::from(CLIENT4));
    assert_eq!(p.transport.payload(), &[b'm'; 2000][..]);
    assert_eq!((p.frame, p.fragment_frames.clone()), (2, vec![1]));
    assert!(diags.is_empty());
    assert_eq!(decoder.counters().reassembled, 1);
}

#[test]
fn inner_fragments_reassemble_per_tunnel() {
    let (datagram, payload) = udp_datagram(1600);
    let total = datagram.len();
    let first = ipv4_raw(CLIENT4, SERVER4, 17, 0x6666, 0, true, &datagram[..800]);
    let second = ipv4_raw(
        CLIENT4,
        SERVER4,
        17,
        0x6666,
        800,
        false,
        &datagram[800..total],
    );
    let a1 = record_at(linktype::ETHERNET, gtp_frame(1, &first), 1, 0);
    let b2 = record_at(linktype::ETHERNET, gtp_frame(2, &second), 2, 0);
    let a2 = record_at(linktype::ETHERNET, gtp_frame(1, &second), 3, 0);
    let mut defrag = Defragmenter::default();
    let mut diags = Vec::new();
    let out = run(&mut defrag, &[&a1, &b2, &a2], &mut diags);
    // The fragment in tunnel 2 does not complete tunnel 1's datagram.
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].tunnel.unwrap().teid, 1);
    assert_eq!(udp_payload(&out[0]), payload);
    assert_eq!((out[0].frame, out[0].fragment_frames.clone()), (3, vec![1]));
    assert_eq!(defrag.in_progress(), 1);
}

#[test]
fn snaplen_cut_fragment_completes_truncated() {
    let (datagram, payload) = udp_datagram(3000);
    let total = datagram.len();
    let mut records = ipv4_fragments(&datagram, 0x7777, &[(0, 1480), (1480, total)], total);
    // The first fragment lost its last 480 bytes to the snaplen.
    let orig = records[0].data.len();
    records[0].data.truncate(orig - 480);
    records[0].orig_len = orig as u32;
    let mut defrag = Defragmenter::default();
    let mut diags = Vec::new();
    let out = run(&mut defrag, &[&records[0], &records[1]], &mut diags);
    assert_eq!(out.len(), 1);
    assert!(out[0].truncated);
    assert_eq!(udp_payload(&out[0]), payload[..1000 - 8]);
}

#[test]
fn limits_evict_with_diagnostics_and_bound_memory() {
    let limits = DefragLimits {
        max_datagrams: 2,
        max_datagram_bytes: 4000,
        max_total_bytes: 4000,
        max_fragments_per_datagram: 3,
        timeout_secs: 30,
    };
    let (datagram, _) = udp_datagram(3000);
    let total = datagram.len();
    let mut defrag = Defragmenter::new(limits);
    let mut diags = Vec::new();

    // Three datagrams in progress with room for two: the oldest goes.
    for ident in 1..=3u16 {
        let recs = ipv4_fragments(&datagram, ident, &[(0, 1480)], total);
        run(&mut defrag, &[&recs[0]], &mut diags);
    }
    assert_eq!(defrag.in_progress(), 2);
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].layer, Layer::Limit);
    assert_says(&diags[0], "ident 0x1:");
    assert!(defrag.held_bytes() <= 4000);

    // Growing datagram 2 past the byte budget evicts datagram 3.
    diags.clear();
    let recs = ipv4_fragments(&datagram, 2, &[(1480, 2960)], total);
    run(&mut defrag, &[&recs[0]], &mut diags);
    assert_eq!(diags.len(), 1, "{diags:?}");
    assert_says(&diags[0], "ident 0x3:");
    assert!(defrag.held_bytes() <= 4000);

    // A fragment reaching past the datagram size limit drops its datagram.
    diags.clear();
    let big = ipv4_raw(CLIENT4, SERVER4, 17, 9, 4000, true, &[0; 16]);
    let rec = record_at(linktype::ETHERNET, ethernet(0x0800, &big), 9, 0);
    run(&mut defrag, &[&rec], &mut diags);
    assert_eq!(diags.len(), 1);
    assert!(
        diags[0]
            .message
            .contains("beyond the 4000-byte datagram limit"),
        "{}",
        diags[0].message
    );

    // Too many fragments for one datagram.
    diags.clear();
    let mut defrag = Defragmenter::new(limits);
    let recs = ipv4_fragments(&datagram, 5, &[(0, 8), (8, 16), (16, 24), (24, 32)], total);
    run(&mut defrag, &recs.iter().collect::<Vec<_>>(), &mut diags);
    assert_eq!(diags.len(), 1);
    assert_says(&diags[0], "more than 3 fragments");
    assert_eq!(defrag.in_progress(), 0);
    assert_eq!(defrag.held_bytes(), 0);
}

#[test]
fn packet_decoder_counts() {
    let mut decoder = PacketDecoder::default();
    let mut diags = Vec::new();
    let records = [
        ethernet_record(&ipv4_udp(CLIENT4, SERVER4, 1, 2, b"a")),
        record(linktype::ETHERNET, ethernet(0x0806, &[0; 28])),
        record(linktype::ETHERNET, vec![0; 3]),
        record(999, vec![0; 3]),
    ];
    let delivered = records
        .iter()
        .filter(|r| decoder.decode(r, &mut diags).is_some())
        .count();
    assert_eq!(delivered, 1);
    let c = decoder.counters();
    assert_eq!((c.frames, c.packets, c.non_ip, c.errors), (4, 1, 1, 2));
    assert_eq!(diags.len(), 2);
}

#[test]
fn a_capture_that_saw_every_frame_twice_yields_one_packet_and_no_noise() {
    let (datagram, payload) = udp_datagram(3000);
    let total = datagram.len();
    let records = ipv4_fragments(
        &datagram,
        0x8888,
        &[(0, 1480), (1480, 2960), (2960, total)],
        total,
    );
    let doubled: Vec<&Record> = records.iter().flat_map(|r| [r, r]).collect();
    let mut defrag = Defragmenter::default();
    let mut diags = Vec::new();
    let out = run(&mut defrag, &doubled, &mut diags);
    assert_eq!(out.len(), 1);
    assert_eq!(udp_payload(&out[0]), payload);
    assert_eq!(defrag.stats().late_duplicates, 1);

    // The same identification reused later for different content is a new datagram.
    let (other, other_payload) = udp_datagram(2000);
    let again = ipv4_fragments(
        &other,
        0x8888,
        &[(0, 1480), (1480, other.len())],
        other.len(),
    );
    let out = run(&mut defrag, &[&again[0], &again[1]], &mut diags);
    assert_eq!(out.len(), 1);
    assert_eq!(udp_payload(&out[0]), other_payload);
    defrag.finish(&mut diags);
    assert!(diags.is_empty(), "{diags:?}");
}
