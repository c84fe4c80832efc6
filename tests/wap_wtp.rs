#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! WTP segmentation and reassembly transcripts, and properties of the WTP parser and SAR.

use mmsleak::diag::Layer;
use mmsleak::flow::Direction;
use mmsleak::proto::wsp::session::{WapLimits, WapPortRole, WapSessions, WspMode};
use mmsleak::proto::wtp::parser::{
    SegmentPlan, Tid, TransactionClass, WtpBody, WtpPdu, WtpSegment, encode_ack,
    encode_concatenated, encode_segmented, parse_datagram, parse_pdu, split_datagram,
};
use mmsleak::proto::wtp::{
    InvokeHeader, SarLimits, TransactionEnd, WtpMessageKind, WtpReassembler, WtpTransaction,
};
use mmsleak::time::Timestamp;
use proptest::prelude::*;

const FLOW: u64 = 42;
const C2S: Direction = Direction::ToServer;
const S2C: Direction = Direction::ToClient;

fn ts(secs: i64) -> Timestamp {
    Timestamp::new(1_700_000_000 + secs, 0, 6)
}

fn class2() -> InvokeHeader {
    InvokeHeader {
        version: 0,
        tid_new: false,
        user_ack: true,
        class: TransactionClass::Class2,
    }
}

/// A WSP Post of an m-send-req-sized MMS body (connection-oriented: no TID octet).
fn wsp_post_mms(body: &[u8]) -> Vec<u8> {
    // 0x60 Post; UriLen 0x16; HeadersLen 0x01; URI; content type 0xBE (MMS message).
    let uri = b"http://mmsc.example.com";
    let mut pdu = vec![0x60, uri.len() as u8, 0x01];
    pdu.extend_from_slice(uri);
    pdu.push(0xBE);
    pdu.extend_from_slice(body);
    pdu
}

fn mms_body(len: usize) -> Vec<u8> {
    // m-send-req (0x8C 0x80), then filler that differs per position.
    let mut body = vec![0x8C, 0x80, 0x98];
    body.extend((0..len.saturating_sub(3)).map(|i| (i * 7 % 251) as u8));
    body
}

fn set_rid(mut pkt: Vec<u8>) -> Vec<u8> {
    pkt[0] |= 0x01;
    pkt
}

fn feed(r: &mut WtpReassembler, dir: Direction, pkt: &[u8], frame: u64) -> Vec<String> {
    let mut d = Vec::new();
    r.on_datagram(FLOW, dir, pkt, frame, ts(frame as i64), &mut d);
    d.into_iter().map(|x| x.message).collect()
}

#[test]
fn segmented_invoke_two_groups_with_retransmission_and_reordering() {
    let body = mms_body(3000);
    let wsp = wsp_post_mms(&body);
    // Six packets of 520 octets in two groups of three: PSN 2 ends group 1 (GTR), PSN 5 the
    // message (TTR).
    let pkts = encode_segmented(
        WtpMessageKind::Invoke,
        0x1234,
        class2(),
        &wsp,
        SegmentPlan {
            segment_size: 520,
            group_size: 3,
        },
    );
    assert_eq!(pkts.len(), 6);
    let seg = |p: &[u8]| {
        let pdu = parse_pdu(p).unwrap();
        let (_, s) = pdu.segment().unwrap();
        (s.psn, s.gtr, s.ttr)
    };
    assert_eq!(seg(&pkts[2]), (2, true, false));
    assert_eq!(seg(&pkts[5]), (5, false, true));

    let mut r = WtpReassembler::new(SarLimits::default());
    let mut notes = Vec::new();
    notes.extend(feed(&mut r, C2S, &pkts[0], 1));
    notes.extend(feed(&mut r, C2S, &pkts[2], 2)); // out of order
    notes.extend(feed(&mut r, C2S, &pkts[1], 3));
    // Responder acknowledges group 1 (PSN TPI 2): not the end of anything.
    notes.extend(feed(
        &mut r,
        S2C,
        &encode_ack(Tid::responder(0x1234), false, Some(2)),
        4,
    ));
    notes.extend(feed(&mut r, C2S, &set_rid(pkts[1].clone()), 5)); // retransmission, RID set
    notes.extend(feed(&mut r, C2S, &pkts[3], 6));
    notes.extend(feed(&mut r, C2S, &pkts[5], 7));
    notes.extend(feed(&mut r, C2S, &pkts[4], 8));
    notes.extend(feed(&mut r, C2S, &pkts[4], 9)); // same PSN again, no RID
    assert!(notes.is_empty(), "{notes:?}");
    assert!(r.take_completed().is_empty());

    let reply = [0x04, 0x20, 0x01, 0xBE, 0x8C, 0x81];
    let res = encode_segmented(
        WtpMessageKind::Result,
        0x1234,
        class2(),
        &reply,
        SegmentPlan {
            segment_size: 1400,
            group_size: 8,
        },
    );
    feed(&mut r, S2C, &res[0], 10);
    feed(
        &mut r,
        C2S,
        &encode_ack(Tid::initiator(0x1234), false, None),
        11,
    );
    let done = r.take_completed();
    assert_eq!(done.len(), 1);
    let tx = &done[0];
    assert_eq!(tx.end, TransactionEnd::Completed);
    assert_eq!(tx.class, Some(TransactionClass::Class2));
    assert_eq!(tx.initiator, C2S);
    let invoke = tx.invoke.as_ref().unwrap();
    assert_eq!(
        invoke.data, wsp,
        "reassembled bytes differ from the original"
    );
    assert!(invoke.complete);
    assert!(invoke.missing_psn.is_empty());
    assert_eq!(invoke.frames, vec![1, 2, 3, 6, 7, 8]);
    assert_eq!(invoke.first_frame, 1);
    assert_eq!(invoke.last_frame, 8);
    let result = tx.result.as_ref().unwrap();
    assert_eq!(result.data, reply);
    assert_eq!(result.direction, S2C);
}

#[test]
fn retransmission_with_different_bytes_is_reported() {
    let data = mms_body(100);
    let pkts = encode_segmented(
        WtpMessageKind::Invoke,
        5,
        class2(),
        &data,
        SegmentPlan {
            segment_size: 40,
            group_size: 4,
        },
    );
    let mut r = WtpReassembler::new(SarLimits::default());
    feed(&mut r, C2S, &pkts[0], 1);
    feed(&mut r, C2S, &pkts[1], 2);
    let mut altered = set_rid(pkts[1].clone());
    *altered.last_mut().unwrap() ^= 0xFF;
    let notes = feed(&mut r, C2S, &altered, 3);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("differs"));
    feed(&mut r, C2S, &pkts[2], 4);
    let done = r.finish();
    // The first copy is kept.
    assert_eq!(done[0].invoke.as_ref().unwrap().data, data);
    assert_eq!(done[0].end, TransactionEnd::EndOfInput);
}

#[test]
fn missing_segment_is_reported_and_the_rest_delivered() {
    let wsp = wsp_post_mms(&mms_body(2000));
    let pkts = encode_segmented(
        WtpMessageKind::Invoke,
        77,
        class2(),
        &wsp,
        SegmentPlan {
            segment_size: 500,
            group_size: 2,
        },
    );
    assert_eq!(pkts.len(), 5);
    let mut r = WtpReassembler::new(SarLimits::default());
    for (i, p) in pkts.iter().enumerate() {
        if i != 3 {
            feed(&mut r, C2S, p, i as u64 + 1);
        }
    }
    // The responder gives up: provider abort (NORESPONSE is typical after SAR failure).
    feed(&mut r, S2C, &[0x20, 0x80, 77, 0x08], 9);
    let done = r.take_completed();
    assert_eq!(done.len(), 1);
    let m = done[0].invoke.as_ref().unwrap();
    assert!(!m.complete);
    assert_eq!(m.missing_psn, vec![3]);
    let mut expected = wsp[..1500].to_vec();
    expected.extend_from_slice(&wsp[2000..]);
    assert_eq!(m.data, expected);
    assert_eq!(done[0].end, TransactionEnd::Aborted);
    assert_eq!(m.aborted.unwrap().name(), Some("NORESPONSE"));

    // The same through the WAP sessions: the exchange is delivered and marked incomplete.
    let mut s = WapSessions::new(WapLimits::default());
    let mut d = Vec::new();
    let role = WapPortRole::Wtp { push: false };
    for (i, p) in pkts.iter().enumerate() {
        if i != 3 {
            s.on_datagram(FLOW, C2S, role, p, i as u64 + 1, ts(0), &mut d);
        }
    }
    let out = s.finish(&mut d);
    assert_eq!(out.exchanges.len(), 1);
    let ex = &out.exchanges[0];
    assert_eq!(ex.mode, WspMode::ConnectionOriented);
    assert!(!ex.complete);
    let req = ex.request.as_ref().unwrap();
    assert!(!req.complete);
    assert_eq!(req.method, "POST");
    assert!(ex.request_is_mms());
}

#[test]
fn ttr_on_the_only_packet() {
    let mut r = WtpReassembler::new(SarLimits::default());
    // 0x0E = Invoke | GTR | TTR ("SAR not supported": the only packet); TID 1; class 2.
    feed(&mut r, C2S, &[0x0E, 0x00, 0x01, 0x12, 0x40, 0x01, b'/'], 1);
    // 0x16 = Result | GTR | TTR; TID 0x8001.
    feed(&mut r, S2C, &[0x16, 0x80, 0x01, 0x04, 0x20, 0x01, 0x88], 2);
    feed(&mut r, C2S, &[0x18, 0x00, 0x01], 3);
    let done = r.take_completed();
    assert_eq!(done.len(), 1);
    assert!(done[0].invoke.as_ref().unwrap().complete);
    assert!(done[0].result.as_ref().unwrap().complete);
    assert_eq!(done[0].result.as_ref().unwrap().frames, vec![2]);
}

#[test]
fn tid_wrap_and_reuse() {
    let mut r = WtpReassembler::new(SarLimits::default());
    let mut frame = 0;
    let mut run = |r: &mut WtpReassembler, tid: u16, payload: &[u8]| {
        let inv = encode_segmented(
            WtpMessageKind::Invoke,
            tid,
            class2(),
            payload,
            SegmentPlan {
                segment_size: 100,
                group_size: 1,
            },
        );
        let res = encode_segmented(
            WtpMessageKind::Result,
            tid,
            class2(),
            b"ok",
            SegmentPlan {
                segment_size: 100,
                group_size: 1,
            },
        );
        frame += 1;
        feed(r, C2S, &inv[0], frame);
        frame += 1;
        feed(r, S2C, &res[0], frame);
        frame += 1;
        feed(r, C2S, &encode_ack(Tid::initiator(tid), false, None), frame);
    };
    run(&mut r, 0x7FFE, b"a");
    run(&mut r, 0x7FFF, b"b");
    run(&mut r, 0x0000, b"c"); // wrapped
    run(&mut r, 0x7FFE, b"d"); // reused after wrap, new content
    let done: Vec<WtpTransaction> = r.take_completed();
    let tids: Vec<u16> = done.iter().map(|t| t.tid).collect();
    assert_eq!(tids, vec![0x7FFE, 0x7FFF, 0x0000, 0x7FFE]);
    assert_eq!(done[3].invoke.as_ref().unwrap().data, b"d");
    assert!(done.iter().all(|t| t.end == TransactionEnd::Completed));
    // Encoding masks the TID to 15 bits.
    let ack = encode_ack(Tid::initiator(0xFFFF), false, None);
    let pdu = parse_pdu(&ack).unwrap();
    assert_eq!(pdu.tid, Tid::initiator(0x7FFF));
}

#[test]
fn tid_reuse_while_in_progress_replaces() {
    let mut r = WtpReassembler::new(SarLimits::default());
    feed(&mut r, C2S, &[0x0A, 0x00, 0x09, 0x02, 0x40, 0x01, b'a'], 1);
    feed(&mut r, C2S, &[0x0A, 0x00, 0x09, 0x02, 0x40, 0x01, b'b'], 2);
    let done = r.take_completed();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].end, TransactionEnd::Replaced);
    assert_eq!(
        r.finish()[0].invoke.as_ref().unwrap().data,
        [0x40, 0x01, b'b']
    );
}

#[test]
fn concatenated_ack_and_result() {
    // One datagram: Ack of transaction 3 (group ack) and the Result of transaction 4.
    let ack = encode_ack(Tid::initiator(3), false, None);
    let result = WtpPdu {
        tid: Tid::responder(4),
        rid: false,
        tpis: Vec::new(),
        body: WtpBody::Result(WtpSegment {
            psn: 0,
            gtr: false,
            ttr: true,
            payload: &[0x04, 0x20, 0x01, 0x88, b'x'],
        }),
    }
    .to_bytes();
    let big = vec![0xAB; 200];
    let seg = WtpPdu {
        tid: Tid::responder(5),
        rid: false,
        tpis: Vec::new(),
        body: WtpBody::SegmentedResult(WtpSegment {
            psn: 1,
            gtr: false,
            ttr: true,
            payload: &big,
        }),
    }
    .to_bytes();
    let dgram = encode_concatenated(&[ack.clone(), result.clone(), seg.clone()]);
    // 0x00; 0x03 + Ack; a one-octet length + Result; a two-octet length (MSB set) + the
    // 204-octet Segmented Result.
    assert_eq!(dgram[0], 0x00);
    assert_eq!(dgram[1], 3);
    assert_eq!(dgram[2 + 3], result.len() as u8);
    let long_at = 2 + 3 + 1 + result.len();
    assert_eq!(dgram[long_at] & 0x80, 0x80);
    let parts = split_datagram(&dgram).unwrap();
    assert_eq!(parts.len(), 3);
    let pdus = parse_datagram(&dgram).unwrap();
    assert_eq!(pdus[2].segment().unwrap().1.payload.len(), 200);

    let mut r = WtpReassembler::new(SarLimits::default());
    feed(&mut r, C2S, &[0x0A, 0x00, 0x04, 0x02, 0x40, 0x01, b'/'], 1);
    feed(&mut r, S2C, &dgram, 2);
    feed(&mut r, C2S, &ack_for(4), 3);
    let done = r.take_completed();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].tid, 4);
    assert_eq!(done[0].result.as_ref().unwrap().data[4], b'x');
}

fn ack_for(tid: u16) -> Vec<u8> {
    encode_ack(Tid::initiator(tid), false, None)
}

#[test]
fn caps_are_diagnostics() {
    let limits = SarLimits {
        max_segments_per_message: 3,
        max_message_bytes: 1000,
        ..SarLimits::default()
    };
    let mut r = WtpReassembler::new(limits);
    let pkts = encode_segmented(
        WtpMessageKind::Invoke,
        1,
        class2(),
        &[7u8; 500],
        SegmentPlan {
            segment_size: 100,
            group_size: 10,
        },
    );
    let mut d = Vec::new();
    for (i, p) in pkts.iter().enumerate() {
        r.on_datagram(FLOW, C2S, p, i as u64 + 1, ts(0), &mut d);
    }
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].layer, Layer::Limit);
    let done = r.finish();
    let m = done[0].invoke.as_ref().unwrap();
    assert_eq!(m.data.len(), 300);
    assert!(!m.complete);
}

// ---------------------------------------------------------------------------------------------
// Properties

fn arb_tpi_kind() -> impl Strategy<Value = u8> {
    0u8..8
}

type PduParts = (
    u8,
    u16,
    bool,
    bool,
    bool,
    bool,
    u8,
    u8,
    Vec<u8>,
    Vec<(u8, Vec<u8>)>,
);

fn arb_pdu() -> impl Strategy<Value = PduParts> {
    (
        1u8..=7,
        any::<u16>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        0u8..3,
        any::<u8>(),
        proptest::collection::vec(any::<u8>(), 0..64),
        proptest::collection::vec(
            (arb_tpi_kind(), proptest::collection::vec(any::<u8>(), 0..8)),
            0..4,
        ),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn wtp_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..128)) {
        let _ = parse_pdu(&bytes);
        let _ = parse_datagram(&bytes);
        let mut with_marker = vec![0u8];
        with_marker.extend_from_slice(&bytes);
        let _ = parse_datagram(&with_marker);
    }

    #[test]
    fn wtp_encode_parse_round_trip(
        (code, tid, gtr, ttr, rid, flag, class, byte, payload, tpis) in arb_pdu()
    ) {
        use mmsleak::proto::wtp::parser::{AbortReason, AbortType, Tpi, TpiKind};
        let tid = Tid::from_wire(tid);
        let segment = WtpSegment { psn: 0, gtr, ttr, payload: &payload };
        let body = match code {
            1 => WtpBody::Invoke {
                header: InvokeHeader {
                    version: byte & 3,
                    tid_new: flag,
                    user_ack: !flag,
                    class: TransactionClass::from_bits(class).unwrap(),
                },
                segment,
            },
            2 => WtpBody::Result(segment),
            3 => WtpBody::Ack { tid_verify: flag },
            4 => WtpBody::Abort(AbortReason {
                abort_type: if flag { AbortType::User } else { AbortType::Provider },
                code: byte,
            }),
            5 => WtpBody::SegmentedInvoke(WtpSegment { psn: byte, ..segment }),
            6 => WtpBody::SegmentedResult(WtpSegment { psn: byte, ..segment }),
            _ => WtpBody::NegativeAck { missing: &payload[..payload.len().min(10)] },
        };
        // Long TPIs are chosen by length, so only data that fits the short form when short.
        let tpis: Vec<Tpi<'_>> = tpis
            .iter()
            .map(|(k, d)| Tpi { kind: TpiKind::from_code(*k), data: d })
            .collect();
        // Ack, Abort and Nack carry no user data: TPIs decide where they end.
        let pdu = WtpPdu { tid, rid: rid && code != 4, tpis, body };
        let bytes = pdu.to_bytes();
        let parsed = parse_pdu(&bytes).unwrap();
        prop_assert_eq!(parsed, pdu);
    }

    #[test]
    fn segmented_round_trip(
        data in proptest::collection::vec(any::<u8>(), 0..3000),
        size in 1usize..700,
        group in 1usize..6,
        order_seed in any::<u64>(),
    ) {
        let pkts = encode_segmented(
            WtpMessageKind::Result,
            9,
            class2(),
            &data,
            SegmentPlan { segment_size: size, group_size: group },
        );
        // Deliver in a shuffled order, each packet twice.
        let mut order: Vec<usize> = (0..pkts.len()).chain(0..pkts.len()).collect();
        let mut seed = order_seed;
        for i in (1..order.len()).rev() {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (seed >> 33) as usize % (i + 1));
        }
        let mut r = WtpReassembler::new(SarLimits::default());
        let mut d = Vec::new();
        for (f, i) in order.iter().enumerate() {
            r.on_datagram(1, S2C, &pkts[*i], f as u64 + 1, ts(0), &mut d);
        }
        let done = r.finish();
        prop_assert_eq!(done.len(), 1);
        let m = done[0].result.as_ref().unwrap();
        let kept = data.len().min(size.saturating_mul(256));
        prop_assert_eq!(&m.data[..], &data[..kept]);
        prop_assert!(m.complete);
    }

    #[test]
    fn sar_stays_within_caps(
        stream in proptest::collection::vec(
            (0u16..6, 1u8..=7, 0u8..40, any::<bool>(), any::<bool>(), any::<bool>(), 0usize..300, any::<bool>()),
            0..200,
        )
    ) {
        let limits = SarLimits {
            max_segments_per_message: 8,
            max_transactions: 3,
            max_message_bytes: 1000,
            idle_timeout_secs: 5,
        };
        let mut r = WtpReassembler::new(limits);
        let mut d = Vec::new();
        let payload = vec![0x55u8; 300];
        for (i, (tid, code, psn, gtr, ttr, flag, len, to_server)) in stream.into_iter().enumerate() {
            let segment = WtpSegment { psn, gtr, ttr, payload: &payload[..len] };
            let body = match code {
                1 => WtpBody::Invoke { header: class2(), segment },
                2 => WtpBody::Result(segment),
                3 => WtpBody::Ack { tid_verify: flag },
                4 => WtpBody::Abort(mmsleak::proto::wtp::AbortReason {
                    abort_type: mmsleak::proto::wtp::AbortType::Provider, code: 1 }),
                5 => WtpBody::SegmentedInvoke(segment),
                6 => WtpBody::SegmentedResult(segment),
                _ => WtpBody::NegativeAck { missing: &[1, 2] },
            };
            let pdu = WtpPdu { tid: Tid { value: tid, from_responder: flag }, rid: flag, tpis: vec![], body };
            let dir = if to_server { C2S } else { S2C };
            r.on_datagram(1, dir, &pdu.to_bytes(), i as u64 + 1, ts(i as i64 / 20), &mut d);
            prop_assert!(r.in_progress() <= 3);
            for tx in r.take_completed() {
                for m in [tx.invoke.as_ref(), tx.result.as_ref()].into_iter().flatten() {
                    prop_assert!(m.frames.len() <= 8);
                    prop_assert!(m.data.len() <= 1000);
                }
            }
        }
        for tx in r.finish() {
            for m in [tx.invoke.as_ref(), tx.result.as_ref()].into_iter().flatten() {
                prop_assert!(m.frames.len() <= 8);
                prop_assert!(m.data.len() <= 1000);
            }
        }
    }
}
