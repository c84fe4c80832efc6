//! The flow table's caps: flow count, per-direction and total buffers, bounded diagnostics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod flow_support;

use flow_support::*;
use mmsleak::diag::Layer;
use mmsleak::flow::{
    CloseReason, Direction, FlowConfig, FlowEvent, FlowSink, FlowTable, StreamPiece, Verdict,
};
use mmsleak::packet::{Packet, TcpFlags, TcpSegment, Transport, VlanTags};
use mmsleak::time::Timestamp;
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

#[derive(Default)]
struct Counter {
    opens: u64,
    closes_evicted: u64,
    closes_other: u64,
    other: u64,
}

impl FlowSink for Counter {
    fn event(&mut self, ev: FlowEvent<'_>) -> Verdict {
        match ev {
            FlowEvent::Open { .. } => self.opens += 1,
            FlowEvent::Close {
                reason: CloseReason::Evicted,
                dir: None,
                ..
            } => self.closes_evicted += 1,
            FlowEvent::Close { .. } => self.closes_other += 1,
            _ => self.other += 1,
        }
        Verdict::Continue
    }
}

#[test]
fn a_million_syn_flows_stay_within_max_flows() {
    const FLOWS: u64 = 1_000_000;
    const CAP: usize = 10_000;
    let config = FlowConfig {
        max_flows: CAP,
        ..FlowConfig::default()
    };
    let mut table = FlowTable::new(config);
    let mut sink = Counter::default();
    let mut diags = Vec::new();
    let server = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 80));
    let mut pkt = Packet {
        frame: 0,
        ts: Timestamp::new(1_700_000_000, 0, 6),
        vlan: VlanTags::default(),
        tunnel: None,
        src: server,
        dst: server,
        transport: Transport::Other { protocol: 0 },
        truncated: false,
        fragment_frames: Vec::new(),
    };
    for i in 0..FLOWS {
        pkt.frame = i + 1;
        pkt.ts = Timestamp::new(1_700_000_000 + (i / 100_000) as i64, 0, 6);
        pkt.src = IpAddr::V4(Ipv4Addr::new(192, 0, 2, (i % 256) as u8));
        pkt.transport = Transport::Tcp(TcpSegment {
            src_port: 1024 + (i / 256) as u16,
            dst_port: 80,
            seq: i as u32,
            ack: 0,
            flags: TcpFlags(TcpFlags::SYN),
            window: 1024,
            payload: Cow::Borrowed(&[]),
        });
        table.push(&pkt, &mut sink, &mut diags);
        assert!(table.len() <= CAP);
    }
    let stats = table.stats();
    assert_eq!(stats.flows_seen, FLOWS);
    assert_eq!(stats.flows_evicted, FLOWS - CAP as u64);
    assert_eq!(stats.max_flows_held, CAP);
    assert_eq!(table.len(), CAP);
    assert_eq!(table.buffered_bytes(), 0);
    assert_eq!(sink.opens, FLOWS);
    assert_eq!(sink.closes_evicted, FLOWS - CAP as u64);
    // Evictions are listed up to the per-kind limit, not one per eviction.
    let limit = FlowConfig::default().max_diagnostics_per_kind;
    assert_eq!(diags.len(), limit);
    assert!(diags.iter().all(|d| d.layer == Layer::Limit));

    table.finish(&mut sink, &mut diags);
    assert_eq!(table.len(), 0);
    assert_eq!(sink.closes_other, CAP as u64);
    assert_eq!(diags.len(), limit + 1);
    let summary = diags.last().unwrap();
    assert_eq!(summary.layer, Layer::Limit);
    assert!(
        summary.message.starts_with(&format!(
            "{} further flow evictions",
            FLOWS - CAP as u64 - limit as u64
        )),
        "{summary}"
    );
}

#[test]
fn per_direction_cap_turns_the_oldest_hole_into_a_gap() {
    let config = FlowConfig {
        max_buffer_per_direction: 1000,
        ..FlowConfig::default()
    };
    let mut cv = Conversation::new(config);
    cv.c(0, 0, SYN, b"");
    cv.s(0, 1, SYN | ACK, b"");
    cv.c(1, 1, ACK, b"head");
    // Offsets 4..10 never arrive; 10.. arrives in 100-byte segments and must be held.
    let chunk = [b'x'; 100];
    for k in 0..20u32 {
        cv.c(11 + k * 100, 1, ACK, &chunk);
        assert!(cv.table.buffered_bytes() <= 1000);
    }
    let id = cv.only_flow();
    let pieces = cv.rec.pieces(id, Direction::ToServer);
    assert_eq!(pieces[0], StreamPiece::Bytes(b"head".to_vec()));
    assert_eq!(pieces[1], StreamPiece::Gap(6));
    assert!(matches!(&pieces[2], StreamPiece::Bytes(b) if b.len() >= 600));
    let limit_diags: Vec<_> = cv
        .diags
        .iter()
        .filter(|d| d.layer == Layer::Limit)
        .collect();
    assert_eq!(limit_diags.len(), 1, "{:?}", cv.diags);
    assert!(limit_diags[0].message.contains("per-direction"));
    assert_eq!(cv.table.stats().buffer_cap_hits, 1);
    cv.finish();
    assert_eq!(cv.rec.stream(id, Direction::ToServer).len(), 4 + 2000);
    assert_eq!(cv.table.stats().gap_bytes, 6);
}

#[test]
fn total_cap_is_shared_by_all_flows() {
    let config = FlowConfig {
        max_buffer_per_direction: 10_000,
        max_buffer_total: 1_000,
        ..FlowConfig::default()
    };
    let mut table = FlowTable::new(config);
    let mut rec = mmsleak::flow::EventRecorder::new();
    let mut diags = Vec::new();
    let server = (v4(198, 51, 100, 1), 80);
    let payload = [7u8; 200];
    let mut frame = 0;
    for client_port in [40_000u16, 40_001, 40_002] {
        let client = (v4(192, 0, 2, 1), client_port);
        for (seq, flags, data) in [
            (0u32, SYN, &b""[..]),
            (1 + 50, ACK, &payload[..]),
            (1 + 250, ACK, &payload[..]),
        ] {
            frame += 1;
            let pkt = tcp_packet(frame, 1, client, server, seq, 0, flags, 1000, data);
            table.push(&pkt, &mut rec, &mut diags);
            assert!(table.buffered_bytes() <= 1_000);
        }
    }
    assert!(table.stats().buffer_cap_hits >= 1);
    assert!(
        diags
            .iter()
            .any(|d| d.layer == Layer::Limit && d.message.contains("total"))
    );
    assert!(table.stats().max_buffered_bytes <= 1_000);
}

#[test]
fn eviction_flushes_held_bytes_and_reports_the_loss() {
    let config = FlowConfig {
        max_flows: 1,
        ..FlowConfig::default()
    };
    let mut cv = Conversation::new(config);
    cv.c(0, 0, SYN, b"");
    cv.c(1, 0, ACK, b"ab");
    cv.c(6, 0, ACK, b"fg");
    let first = cv.only_flow();
    // A second flow pushes the first one out.
    let f = cv.push(tcp_packet(
        0,
        cv.secs,
        (v4(192, 0, 2, 99), 41_000),
        (v4(198, 51, 100, 20), 80),
        0,
        0,
        SYN,
        1000,
        b"",
    ));
    assert_eq!(
        cv.rec.pieces(first, Direction::ToServer),
        vec![
            StreamPiece::Bytes(b"ab".to_vec()),
            StreamPiece::Gap(3),
            StreamPiece::Bytes(b"fg".to_vec()),
        ]
    );
    assert_eq!(cv.rec.closes(first), vec![(None, CloseReason::Evicted)]);
    assert_eq!(cv.diags.len(), 1);
    assert_eq!(cv.diags[0].layer, Layer::Limit);
    assert_eq!(cv.diags[0].frame, Some(f));
    assert_eq!(cv.table.buffered_bytes(), 0);
}

#[test]
fn closed_flows_are_dropped_before_open_ones_are_evicted() {
    let config = FlowConfig {
        max_flows: 2,
        ..FlowConfig::default()
    };
    let mut cv = Conversation::new(config);
    // Flow A: open, idle since the start.
    cv.c(0, 0, SYN, b"");
    // Flow B: closed by RST, lingering.
    let b = (v4(192, 0, 2, 77), 42_000);
    let server = (v4(198, 51, 100, 20), 80);
    cv.push(tcp_packet(0, cv.secs, b, server, 0, 0, SYN, 1000, b""));
    cv.push(tcp_packet(0, cv.secs, b, server, 1, 0, RST, 1000, b""));
    // Flow C needs room: B (closed) goes, A stays.
    cv.push(tcp_packet(
        0,
        cv.secs,
        (v4(192, 0, 2, 78), 42_001),
        server,
        0,
        0,
        SYN,
        1000,
        b"",
    ));
    assert_eq!(cv.table.stats().flows_evicted, 0);
    assert!(cv.diags.is_empty());
    assert_eq!(cv.table.len(), 2);
}

#[test]
fn tcp_flows_expire_after_their_idle_timeout() {
    let mut cv = Conversation::default_config();
    cv.c(0, 0, SYN, b"");
    cv.c(1, 0, ACK, b"abc");
    cv.secs += 601;
    cv.push(udp_packet(
        0,
        cv.secs,
        (v4(192, 0, 2, 1), 1),
        (v4(192, 0, 2, 2), 2),
        b"",
    ));
    let id = cv.rec.opened()[0].id;
    assert_eq!(cv.rec.closes(id), vec![(None, CloseReason::IdleTimeout)]);
    assert_eq!(cv.table.len(), 1);
}
