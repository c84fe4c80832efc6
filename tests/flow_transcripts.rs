//! One transcript per TCP/UDP situation the flow stage must handle, checked event by event.
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
    CloseReason, Direction, FlowConfig, FlowEvent, FlowSink, FlowTable, RecordedEvent, RoleBasis,
    StreamPiece, Verdict,
};
use std::time::Duration;

const ISN_C: u32 = 1000;
const ISN_S: u32 = 5000;

/// SYN, SYN+ACK, ACK; returns the next client and server sequence numbers.
fn handshake(cv: &mut Conversation) -> (u32, u32) {
    cv.c(ISN_C, 0, SYN, b"");
    cv.s(ISN_S, ISN_C + 1, SYN | ACK, b"");
    cv.c(ISN_C + 1, ISN_S + 1, ACK, b"");
    (ISN_C + 1, ISN_S + 1)
}

/// `(frame, bytes)` of every Data event of a direction.
fn data_frames(cv: &Conversation, dir: Direction) -> Vec<(u64, Vec<u8>)> {
    cv.rec
        .events
        .iter()
        .filter_map(|ev| match ev {
            RecordedEvent::Data {
                dir: d,
                frame,
                bytes,
                ..
            } if *d == dir => Some((*frame, bytes.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn handshake_data_and_orderly_close() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    let f_req = cv.c(c, s, ACK | PSH, b"GET / HTTP/1.1\r\n\r\n");
    let f_resp = cv.s(s, c + 18, ACK | PSH, b"HTTP/1.1 200 OK\r\n\r\n");
    cv.c(c + 18, s + 19, FIN | ACK, b"");
    cv.s(s + 19, c + 19, FIN | ACK, b"");
    cv.c(c + 19, s + 20, ACK, b"");

    let id = cv.only_flow();
    let info = cv.rec.opened()[0].clone();
    assert_eq!(info.role_basis, RoleBasis::Syn);
    assert_eq!(info.client, "192.0.2.10:49152".parse().unwrap());
    assert_eq!(info.server, "198.51.100.20:80".parse().unwrap());
    assert_eq!(info.first_frame, 1);
    assert_eq!(
        data_frames(&cv, Direction::ToServer),
        vec![(f_req, b"GET / HTTP/1.1\r\n\r\n".to_vec())]
    );
    assert_eq!(
        data_frames(&cv, Direction::ToClient),
        vec![(f_resp, b"HTTP/1.1 200 OK\r\n\r\n".to_vec())]
    );
    assert_eq!(
        cv.rec.closes(id),
        vec![
            (Some(Direction::ToServer), CloseReason::Fin),
            (Some(Direction::ToClient), CloseReason::Fin),
            (None, CloseReason::Fin),
        ]
    );
    // The final ACK after the close is absorbed, not a new flow.
    assert_eq!(cv.table.stats().packets_after_close, 1);
    cv.finish();
    assert_eq!(cv.rec.closes(id).len(), 3);
    assert!(cv.diags.is_empty(), "{:?}", cv.diags);
}

#[test]
fn out_of_order_segments_are_released_in_order_with_their_frames() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    let f3 = cv.c(c + 10, s, ACK, b"klmnopqrst");
    let f2 = cv.c(c + 5, s, ACK, b"fghij");
    assert!(data_frames(&cv, Direction::ToServer).is_empty());
    let f1 = cv.c(c, s, ACK, b"abcde");
    assert_eq!(
        data_frames(&cv, Direction::ToServer),
        vec![
            (f1, b"abcde".to_vec()),
            (f2, b"fghij".to_vec()),
            (f3, b"klmnopqrst".to_vec())
        ]
    );
    assert_eq!(cv.table.buffered_bytes(), 0);
}

#[test]
fn retransmission_is_delivered_once() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    let f1 = cv.c(c, s, ACK, b"hello ");
    cv.c(c, s, ACK, b"hello ");
    let f3 = cv.c(c + 6, s, ACK, b"world");
    cv.c(c + 6, s, ACK, b"world");
    assert_eq!(
        data_frames(&cv, Direction::ToServer),
        vec![(f1, b"hello ".to_vec()), (f3, b"world".to_vec())]
    );
    assert_eq!(cv.table.stats().duplicate_bytes, 11);
}

#[test]
fn partial_retransmission_delivers_only_new_bytes() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    cv.c(c, s, ACK, b"abcdef");
    let f2 = cv.c(c + 3, s, ACK, b"defghi");
    assert_eq!(
        cv.rec.stream(cv.only_flow(), Direction::ToServer),
        b"abcdefghi"
    );
    assert_eq!(
        data_frames(&cv, Direction::ToServer)[1],
        (f2, b"ghi".to_vec())
    );
}

#[test]
fn overlap_with_different_bytes_keeps_first_copy_and_warns() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    // Offsets 10..20 arrive first and are held.
    let f_first = cv.c(c + 10, s, ACK, b"KLMNOPQRST");
    // Offsets 5..15 overlap 10..15 with different bytes.
    let f_second = cv.c(c + 5, s, ACK, b"fghijXXXXX");
    let f_start = cv.c(c, s, ACK, b"abcde");
    let id = cv.only_flow();
    assert_eq!(
        cv.rec.stream(id, Direction::ToServer),
        b"abcdefghijKLMNOPQRST"
    );
    assert_eq!(
        data_frames(&cv, Direction::ToServer),
        vec![
            (f_start, b"abcde".to_vec()),
            (f_second, b"fghij".to_vec()),
            (f_first, b"KLMNOPQRST".to_vec())
        ]
    );
    assert_eq!(cv.diags.len(), 1);
    assert_eq!(cv.diags[0].layer, Layer::Tcp);
    assert_eq!(cv.diags[0].frame, Some(f_second));
    assert!(
        cv.diags[0].message.contains("first copy"),
        "{}",
        cv.diags[0]
    );
    assert_eq!(cv.table.stats().overlap_conflicts, 1);
}

#[test]
fn overlap_with_identical_bytes_is_silent() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    cv.c(c + 10, s, ACK, b"klmnopqrst");
    cv.c(c + 5, s, ACK, b"fghijklmno");
    cv.c(c, s, ACK, b"abcde");
    assert_eq!(
        cv.rec.stream(cv.only_flow(), Direction::ToServer),
        b"abcdefghijklmnopqrst"
    );
    assert!(cv.diags.is_empty());
}

#[test]
fn gap_when_the_peer_acknowledges_a_segment_the_capture_missed() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    cv.c(c, s, ACK, b"0123456789");
    // c+10..c+20 was sent but not captured.
    let f3 = cv.c(c + 20, s, ACK, b"ABCDEFGHIJ");
    let id = cv.only_flow();
    assert_eq!(cv.rec.stream(id, Direction::ToServer), b"0123456789");
    let f_ack = cv.s(s, c + 30, ACK, b"");
    assert_eq!(
        cv.rec.pieces(id, Direction::ToServer),
        vec![
            StreamPiece::Bytes(b"0123456789".to_vec()),
            StreamPiece::Gap(10),
            StreamPiece::Bytes(b"ABCDEFGHIJ".to_vec()),
        ]
    );
    let gap_frame = cv.rec.events.iter().find_map(|ev| match ev {
        RecordedEvent::Gap { frame, .. } => Some(*frame),
        _ => None,
    });
    assert_eq!(gap_frame, Some(f_ack));
    assert_eq!(data_frames(&cv, Direction::ToServer)[1].0, f3);
    // A late retransmission of the missed bytes is not delivered after the gap.
    cv.c(c + 10, s, ACK, b"klmnopqrst");
    assert_eq!(
        cv.rec.stream(id, Direction::ToServer),
        b"0123456789ABCDEFGHIJ"
    );
    assert_eq!(cv.table.stats().gap_bytes, 10);
}

#[test]
fn gap_when_the_last_segment_was_missed_but_acknowledged() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    cv.c(c, s, ACK, b"01234");
    cv.s(s, c + 12, ACK, b"");
    assert_eq!(
        cv.rec.pieces(cv.only_flow(), Direction::ToServer),
        vec![StreamPiece::Bytes(b"01234".to_vec()), StreamPiece::Gap(7)]
    );
}

#[test]
fn gap_at_reset() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    cv.c(c, s, ACK, b"abc");
    cv.c(c + 8, s, ACK, b"ijk");
    cv.s(s, c + 3, RST | ACK, b"");
    let id = cv.only_flow();
    assert_eq!(
        cv.rec.pieces(id, Direction::ToServer),
        vec![
            StreamPiece::Bytes(b"abc".to_vec()),
            StreamPiece::Gap(5),
            StreamPiece::Bytes(b"ijk".to_vec()),
        ]
    );
    assert_eq!(cv.rec.closes(id), vec![(None, CloseReason::Rst)]);
    assert_eq!(cv.table.buffered_bytes(), 0);
}

#[test]
fn gap_at_end_of_capture_and_up_to_the_fin() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    cv.c(c, s, ACK, b"abc");
    cv.c(c + 5, s, ACK, b"fg");
    // FIN after a further hole: offsets 7..9 missing, FIN at offset 9.
    cv.c(c + 9, s, FIN | ACK, b"");
    let id = cv.only_flow();
    assert_eq!(cv.rec.stream(id, Direction::ToServer), b"abc");
    assert!(
        cv.rec.closes(id).is_empty(),
        "a FIN alone does not settle a hole"
    );
    cv.finish();
    assert_eq!(
        cv.rec.pieces(id, Direction::ToServer),
        vec![
            StreamPiece::Bytes(b"abc".to_vec()),
            StreamPiece::Gap(2),
            StreamPiece::Bytes(b"fg".to_vec()),
            StreamPiece::Gap(2),
        ]
    );
    assert_eq!(cv.rec.closes(id), vec![(None, CloseReason::EndOfCapture)]);
    assert_eq!(cv.table.len(), 0);
}

#[test]
fn hole_before_fin_settled_by_the_ack_of_the_fin() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    cv.c(c, s, ACK, b"abc");
    cv.c(c + 6, s, FIN | ACK, b"ghi");
    cv.s(s, c + 10, ACK, b"");
    let id = cv.only_flow();
    assert_eq!(
        cv.rec.pieces(id, Direction::ToServer),
        vec![
            StreamPiece::Bytes(b"abc".to_vec()),
            StreamPiece::Gap(3),
            StreamPiece::Bytes(b"ghi".to_vec()),
        ]
    );
    assert_eq!(
        cv.rec.closes(id),
        vec![(Some(Direction::ToServer), CloseReason::Fin)]
    );
}

#[test]
fn keepalive_adds_no_byte() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    cv.c(c, s, ACK, b"abcd");
    cv.s(s, c + 4, ACK, b"");
    // Keep-alive: sequence number one below the next, one garbage byte; and the 0-byte form.
    cv.c(c + 3, s, ACK, b"\x00");
    cv.c(c + 3, s, ACK, b"");
    cv.s(s, c + 4, ACK, b"");
    cv.c(c + 4, s, ACK, b"efgh");
    assert_eq!(
        cv.rec.stream(cv.only_flow(), Direction::ToServer),
        b"abcdefgh"
    );
    assert!(cv.table.stats().keepalives >= 1);
}

#[test]
fn keepalive_as_first_segment_of_a_mid_stream_capture_is_ignored() {
    let mut cv = Conversation::default_config();
    // The capture starts mid-connection: the server's segment acknowledges up to 7001.
    // (A bare ACK of an unknown connection opens no flow, so the hint comes with data.)
    cv.s(3000, 7001, ACK, b"HTTP/1.1 100 Continue\r\n\r\n");
    cv.c(7000, 3025, ACK, b"\x00");
    cv.c(7001, 3025, ACK, b"POST /mms HTTP/1.1\r\n");
    assert_eq!(
        cv.rec.stream(cv.only_flow(), Direction::ToServer),
        b"POST /mms HTTP/1.1\r\n"
    );
    assert_eq!(cv.table.stats().keepalives, 1);
}

#[test]
fn zero_window_probe_byte_is_not_duplicated() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    cv.c(c, s, ACK, b"abcd");
    // The server's window closes.
    cv.send(false, s, c + 4, ACK, 0, b"");
    // Zero-window probe: the next byte alone.
    cv.c(c + 4, s, ACK, b"e");
    cv.send(false, s, c + 4, ACK, 0, b"");
    // The window opens; the sender sends the byte again with what follows.
    cv.send(false, s, c + 4, ACK, 65535, b"");
    cv.c(c + 4, s, ACK, b"efgh");
    assert_eq!(
        cv.rec.stream(cv.only_flow(), Direction::ToServer),
        b"abcdefgh"
    );
}

#[test]
fn syn_retransmissions_and_a_new_isn_before_data() {
    let mut cv = Conversation::default_config();
    cv.c(ISN_C, 0, SYN, b"");
    cv.c(ISN_C, 0, SYN, b"");
    // The client gives up on that ISN and retries with another one.
    cv.c(9000, 0, SYN, b"");
    cv.s(ISN_S, 9001, SYN | ACK, b"");
    cv.s(ISN_S, 9001, SYN | ACK, b"");
    cv.c(9001, ISN_S + 1, ACK, b"");
    cv.c(9001, ISN_S + 1, ACK, b"data");
    cv.s(ISN_S + 1, 9005, ACK, b"reply");
    let id = cv.only_flow();
    assert_eq!(cv.rec.stream(id, Direction::ToServer), b"data");
    assert_eq!(cv.rec.stream(id, Direction::ToClient), b"reply");
    assert!(cv.diags.is_empty());
}

#[test]
fn rst_closes_and_late_packets_do_not_reopen() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    cv.c(c, s, ACK, b"abc");
    cv.s(s, c + 3, RST, b"");
    cv.c(c + 3, s, ACK, b"def");
    let id = cv.only_flow();
    assert_eq!(cv.rec.stream(id, Direction::ToServer), b"abc");
    assert_eq!(cv.rec.closes(id), vec![(None, CloseReason::Rst)]);
    assert_eq!(cv.table.stats().packets_after_close, 1);
    assert_eq!(cv.table.stats().flows_closed_rst, 1);
}

#[test]
fn new_syn_after_close_opens_a_new_flow() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    cv.c(c, s, RST, b"");
    cv.c(20_000, 0, SYN, b"");
    assert_eq!(cv.rec.opened().len(), 2);
}

#[test]
fn half_close_lets_the_other_direction_continue() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    cv.c(c, s, ACK | FIN, b"request");
    let id = cv.only_flow();
    assert_eq!(
        cv.rec.closes(id),
        vec![(Some(Direction::ToServer), CloseReason::Fin)]
    );
    cv.s(s, c + 8, ACK, b"first ");
    cv.s(s + 6, c + 8, ACK, b"second");
    assert_eq!(cv.rec.stream(id, Direction::ToClient), b"first second");
    cv.s(s + 12, c + 8, ACK | FIN, b"");
    assert_eq!(
        cv.rec.closes(id),
        vec![
            (Some(Direction::ToServer), CloseReason::Fin),
            (Some(Direction::ToClient), CloseReason::Fin),
            (None, CloseReason::Fin),
        ]
    );
    // Events after the half-close of ToServer are all ToClient data.
    let after: Vec<_> = cv
        .rec
        .events
        .iter()
        .skip_while(|ev| !matches!(ev, RecordedEvent::Close { .. }))
        .filter(|ev| {
            matches!(
                ev,
                RecordedEvent::Data {
                    dir: Direction::ToServer,
                    ..
                }
            )
        })
        .collect();
    assert!(after.is_empty());
}

#[test]
fn mid_stream_start_guesses_roles_by_port() {
    let mut cv = Conversation::default_config();
    // First packet seen: the server's response (port 80 → server).
    let f1 = cv.s(77_000, 33_000, ACK, b"HTTP/1.1 200 OK\r\n");
    cv.c(33_000, 77_017, ACK, b"GET /next HTTP/1.1\r\n");
    cv.s(77_017, 33_020, ACK, b"\r\n");
    let info = cv.rec.opened()[0].clone();
    assert_eq!(info.role_basis, RoleBasis::Port);
    assert!(!info.handshake_seen());
    assert_eq!(info.server, "198.51.100.20:80".parse().unwrap());
    assert_eq!(info.first_frame, f1);
    assert_eq!(
        cv.rec.stream(info.id, Direction::ToClient),
        b"HTTP/1.1 200 OK\r\n\r\n"
    );
    assert_eq!(
        cv.rec.stream(info.id, Direction::ToServer),
        b"GET /next HTTP/1.1\r\n"
    );
}

#[test]
fn mid_stream_start_without_port_hint_takes_first_sender_as_client() {
    let mut cv = Conversation::default_config();
    cv.client.1 = 40_000;
    cv.server.1 = 50_000;
    cv.s(1, 1, ACK, b"x");
    let info = cv.rec.opened()[0].clone();
    assert_eq!(info.role_basis, RoleBasis::FirstSender);
    assert_eq!(info.client, "198.51.100.20:50000".parse().unwrap());
}

#[test]
fn syn_ack_first_makes_its_sender_the_server() {
    let mut cv = Conversation::default_config();
    cv.server.1 = 40_000; // no port hint
    cv.s(ISN_S, ISN_C + 1, SYN | ACK, b"");
    cv.c(ISN_C + 1, ISN_S + 1, ACK, b"hi");
    let info = cv.rec.opened()[0].clone();
    assert_eq!(info.role_basis, RoleBasis::SynAck);
    assert_eq!(info.server, "198.51.100.20:40000".parse().unwrap());
    assert_eq!(cv.rec.stream(info.id, Direction::ToServer), b"hi");
}

#[test]
fn sequence_numbers_wrap_around_2_pow_32() {
    let mut cv = Conversation::default_config();
    let isn = u32::MAX - 4;
    cv.c(isn, 0, SYN, b"");
    cv.s(ISN_S, isn.wrapping_add(1), SYN | ACK, b"");
    let c = isn.wrapping_add(1); // 2^32 - 4
    // Out of order across the wrap: the second segment starts at sequence number 4.
    cv.c(c.wrapping_add(8), ISN_S + 1, ACK, b"89AB");
    cv.c(c, ISN_S + 1, ACK, b"01234567");
    cv.c(c.wrapping_add(12), ISN_S + 1, ACK, b"CDEF");
    // Retransmission from before the wrap.
    cv.c(c, ISN_S + 1, ACK, b"01234567");
    let id = cv.only_flow();
    assert_eq!(cv.rec.stream(id, Direction::ToServer), b"0123456789ABCDEF");
    // Acknowledging across the wrap settles nothing spurious.
    cv.s(ISN_S + 1, c.wrapping_add(16), ACK, b"");
    assert_eq!(cv.table.stats().gaps, 0);
}

#[test]
fn udp_datagrams_keep_frames_and_expire_when_idle() {
    let config = FlowConfig {
        udp_idle_timeout: Duration::from_secs(120),
        ..FlowConfig::default()
    };
    let mut cv = Conversation::new(config);
    let phone = (v4(192, 0, 2, 33), 50_123);
    let gateway = (v4(203, 0, 113, 9), 9201);
    let f1 = cv.push(udp_packet(0, 1000, phone, gateway, b"\x01\x02"));
    let f2 = cv.push(udp_packet(0, 1001, gateway, phone, b"\x03"));
    // 121 s later an unrelated packet advances capture time past the timeout.
    cv.push(udp_packet(
        0,
        1122,
        (v4(192, 0, 2, 1), 5000),
        (v4(192, 0, 2, 2), 5001),
        b"",
    ));
    let info = cv.rec.opened()[0].clone();
    assert_eq!(info.server, "203.0.113.9:9201".parse().unwrap());
    let datagrams: Vec<_> = cv
        .rec
        .events
        .iter()
        .filter_map(|ev| match ev {
            RecordedEvent::Datagram {
                flow,
                dir,
                frame,
                bytes,
                ..
            } if *flow == info.id => Some((*dir, *frame, bytes.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        datagrams,
        vec![
            (Direction::ToServer, f1, vec![1, 2]),
            (Direction::ToClient, f2, vec![3])
        ]
    );
    assert_eq!(
        cv.rec.closes(info.id),
        vec![(None, CloseReason::IdleTimeout)]
    );
    assert_eq!(cv.table.stats().flows_expired, 1);
}

#[test]
fn gtp_bearer_with_two_teids_is_one_flow_and_subscribers_stay_apart() {
    let mut cv = Conversation::default_config();
    let enb = v4(198, 51, 100, 1);
    let sgw = v4(198, 51, 100, 2);
    let ue = (v4(192, 0, 2, 50), 40_000);
    let mmsc = (v4(203, 0, 113, 80), 80);
    let up = |pkt, teid| gtp(pkt, teid, enb, sgw);
    let down = |pkt, teid| gtp(pkt, teid, sgw, enb);
    cv.push(up(tcp_packet(0, 1, ue, mmsc, 100, 0, SYN, 1000, b""), 0x11));
    cv.push(down(
        tcp_packet(0, 1, mmsc, ue, 900, 101, SYN | ACK, 1000, b""),
        0x22,
    ));
    cv.push(up(
        tcp_packet(0, 1, ue, mmsc, 101, 901, ACK, 1000, b"req"),
        0x11,
    ));
    cv.push(down(
        tcp_packet(0, 1, mmsc, ue, 901, 104, ACK, 1000, b"resp"),
        0x22,
    ));
    // Another subscriber reusing the same inner addresses in another bearer (other TEIDs).
    cv.push(up(
        tcp_packet(0, 1, ue, mmsc, 5000, 0, SYN, 1000, b""),
        0x33,
    ));
    cv.push(down(
        tcp_packet(0, 1, mmsc, ue, 7000, 5001, SYN | ACK, 1000, b""),
        0x44,
    ));
    cv.push(up(
        tcp_packet(0, 1, ue, mmsc, 5001, 7001, ACK, 1000, b"other"),
        0x33,
    ));

    let opened: Vec<_> = cv.rec.opened().into_iter().cloned().collect();
    assert_eq!(opened.len(), 2);
    let (a, b) = (opened[0].id, opened[1].id);
    assert_eq!(cv.rec.stream(a, Direction::ToServer), b"req");
    assert_eq!(cv.rec.stream(a, Direction::ToClient), b"resp");
    assert_eq!(cv.rec.stream(b, Direction::ToServer), b"other");
    let tunnel = opened[0].tunnel.unwrap();
    assert_eq!(
        (tunnel.teid, tunnel.outer_client, tunnel.outer_server),
        (0x11, enb, sgw)
    );
    assert_eq!(
        cv.table.stats().flows_seen,
        2,
        "both directions of each bearer share one flow"
    );
}

#[test]
fn vlan_tags_separate_flows() {
    let mut cv = Conversation::default_config();
    let a = (v4(192, 0, 2, 1), 40_000);
    let b = (v4(192, 0, 2, 2), 80);
    let mut p1 = tcp_packet(0, 1, a, b, 1, 0, SYN, 1000, b"");
    p1.vlan.outer = Some(100);
    let mut p2 = tcp_packet(0, 1, a, b, 1, 0, SYN, 1000, b"");
    p2.vlan.outer = Some(200);
    cv.push(p1);
    cv.push(p2);
    assert_eq!(cv.rec.opened().len(), 2);
}

/// A sink that refuses every flow at Open and counts what still reaches it.
#[derive(Default)]
struct Refuser {
    opens: usize,
    payload_events: usize,
    closes: usize,
}

impl FlowSink for Refuser {
    fn event(&mut self, ev: FlowEvent<'_>) -> Verdict {
        match ev {
            FlowEvent::Open { .. } => self.opens += 1,
            FlowEvent::Close { .. } => self.closes += 1,
            _ => self.payload_events += 1,
        }
        Verdict::Ignore
    }
}

#[test]
fn ignored_flows_skip_bytes_but_still_close() {
    let mut table = FlowTable::new(FlowConfig::default());
    let mut sink = Refuser::default();
    let mut diags = Vec::new();
    let c = (v4(192, 0, 2, 10), 40_000);
    let s = (v4(198, 51, 100, 5), 22);
    let pkts = [
        tcp_packet(1, 1, c, s, 10, 0, SYN, 1000, b""),
        tcp_packet(2, 1, s, c, 50, 11, SYN | ACK, 1000, b""),
        tcp_packet(3, 1, c, s, 21, 51, ACK, 1000, b"late"),
        tcp_packet(4, 1, c, s, 11, 51, ACK, 1000, b"0123456789"),
        tcp_packet(5, 1, c, s, 25, 51, FIN | ACK, 1000, b""),
        tcp_packet(6, 1, s, c, 51, 26, FIN | ACK, 1000, b"bye"),
    ];
    for p in &pkts {
        table.push(p, &mut sink, &mut diags);
    }
    assert_eq!(sink.opens, 1);
    assert_eq!(sink.payload_events, 0);
    assert_eq!(sink.closes, 3);
    let stats = table.stats();
    assert_eq!(stats.flows_ignored, 1);
    assert_eq!(stats.bytes_ignored, 17);
    assert_eq!(stats.bytes_delivered, 0);
    assert_eq!(table.buffered_bytes(), 0);
}

#[test]
fn ignore_by_id_between_packets() {
    let mut cv = Conversation::default_config();
    let (c, s) = handshake(&mut cv);
    cv.c(c, s, ACK, b"abc");
    cv.c(c + 10, s, ACK, b"held");
    let id = cv.only_flow();
    assert!(cv.table.buffered_bytes() > 0);
    assert!(cv.table.ignore(id));
    assert_eq!(cv.table.buffered_bytes(), 0);
    cv.c(c + 3, s, ACK, b"defghij");
    assert_eq!(cv.rec.stream(id, Direction::ToServer), b"abc");
    cv.finish();
    assert_eq!(cv.rec.closes(id), vec![(None, CloseReason::EndOfCapture)]);
}

#[test]
fn stray_control_packets_open_no_flow() {
    let mut cv = Conversation::default_config();
    cv.c(1, 1, ACK, b"");
    cv.c(1, 1, FIN | ACK, b"");
    cv.c(1, 1, RST, b"");
    assert!(cv.rec.opened().is_empty());
    assert_eq!(cv.table.stats().packets_without_flow, 3);
}
