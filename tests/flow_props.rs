//! Property tests of TCP reassembly and the flow table.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod flow_support;

use flow_support::*;
use mmsleak::flow::tcp::{Chunk, SegmentView, StreamContext, TcpReassembler};
use mmsleak::flow::{Direction, FlowConfig, FlowTable, RecordedEvent, StreamPiece};
use mmsleak::time::Timestamp;
use proptest::prelude::*;

/// A tiny deterministic generator for the decisions derived from a proptest seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// A segment to feed: stream offset range, FIN flag.
#[derive(Debug, Clone, Copy)]
struct Seg {
    start: usize,
    end: usize,
    fin: bool,
}

/// Cuts `0..len` into consecutive segments of 1..=max bytes.
fn partition(len: usize, max: usize, rng: &mut Rng) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < len {
        let n = 1 + rng.below(max);
        let end = (at + n).min(len);
        out.push(Seg {
            start: at,
            end,
            fin: false,
        });
        at = end;
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Out {
    Data { bytes: Vec<u8>, frame: u64 },
    Gap(u64),
}

/// Feeds a SYN then the segments (frame = position + 1), then flushes.
fn run(data: &[u8], isn: u32, segs: &[Seg], cx: &mut StreamContext) -> (Vec<Out>, TcpReassembler) {
    let mut r = TcpReassembler::new();
    let mut out = Vec::new();
    let ts = Timestamp::default();
    let mut emit = |c: Chunk<'_>| match c {
        Chunk::Data { bytes, frame, .. } => out.push(Out::Data {
            bytes: bytes.to_vec(),
            frame,
        }),
        Chunk::Gap { len, .. } => out.push(Out::Gap(len)),
    };
    r.segment(
        &SegmentView {
            seq: isn,
            syn: true,
            fin: false,
            payload: &[],
            frame: 0,
            ts,
        },
        cx,
        &mut emit,
    );
    for (i, s) in segs.iter().enumerate() {
        let view = SegmentView {
            seq: isn.wrapping_add(1).wrapping_add(s.start as u32),
            syn: false,
            fin: s.fin,
            payload: &data[s.start..s.end],
            frame: i as u64 + 1,
            ts,
        };
        r.segment(&view, cx, &mut emit);
        assert!(r.buffered() <= cx.max_per_direction);
        assert!(cx.buffered_total <= cx.max_total);
    }
    r.flush(u64::MAX, ts, cx, &mut emit);
    (out, r)
}

/// Checks that every Data event's bytes are what `segs[frame - 1]` carried at that offset.
fn check_provenance(out: &[Out], data: &[u8], segs: &[Seg]) {
    let mut offset = 0usize;
    for o in out {
        match o {
            Out::Data { bytes, frame } => {
                let seg = segs[*frame as usize - 1];
                assert!(
                    seg.start <= offset && offset + bytes.len() <= seg.end,
                    "bytes at {offset}..{} attributed to frame {frame} carrying {}..{}",
                    offset + bytes.len(),
                    seg.start,
                    seg.end
                );
                assert_eq!(&data[offset..offset + bytes.len()], &bytes[..]);
                offset += bytes.len();
            }
            Out::Gap(len) => offset += *len as usize,
        }
    }
}

fn isn_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![any::<u32>(), (u32::MAX - 4000)..=u32::MAX]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn shuffled_duplicated_overlapping_segments_reassemble_exactly(
        data in proptest::collection::vec(any::<u8>(), 0..3000),
        isn in isn_strategy(),
        seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed | 1);
        let mut segs = partition(data.len(), 300, &mut rng);
        let base = segs.len();
        // Duplicates.
        for _ in 0..rng.below(base + 1) {
            let s = segs[rng.below(base)];
            segs.push(s);
        }
        // Overlapping segments with identical bytes.
        if !data.is_empty() {
            for _ in 0..rng.below(base + 1) {
                let a = rng.below(data.len());
                let b = (a + 1 + rng.below(400)).min(data.len());
                segs.push(Seg { start: a, end: b, fin: false });
            }
        }
        rng.shuffle(&mut segs);
        let mut cx = StreamContext::new(1 << 20, 1 << 22);
        let (out, r) = run(&data, isn, &segs, &mut cx);
        prop_assert!(out.iter().all(|o| matches!(o, Out::Data { .. })), "unexpected gap: {out:?}");
        let joined: Vec<u8> = out.iter().flat_map(|o| match o {
            Out::Data { bytes, .. } => bytes.clone(),
            Out::Gap(_) => Vec::new(),
        }).collect();
        prop_assert_eq!(&joined, &data);
        check_provenance(&out, &data, &segs);
        prop_assert_eq!(r.buffered(), 0);
        prop_assert_eq!(cx.buffered_total, 0);
        prop_assert!(cx.notes.is_empty());
    }

    #[test]
    fn one_dropped_segment_yields_prefix_gap_rest(
        data in proptest::collection::vec(any::<u8>(), 1..3000),
        isn in isn_strategy(),
        seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed | 1);
        let parts = partition(data.len(), 300, &mut rng);
        let dropped = rng.below(parts.len());
        let mut segs: Vec<Seg> = parts
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != dropped)
            .map(|(_, s)| *s)
            .collect();
        for _ in 0..rng.below(segs.len() + 1) {
            if let Some(&s) = segs.get(rng.below(segs.len())) {
                segs.push(s);
            }
        }
        // The FIN tells where the stream ends, so a dropped last segment is a gap too.
        segs.push(Seg { start: data.len(), end: data.len(), fin: true });
        rng.shuffle(&mut segs);
        let mut cx = StreamContext::new(1 << 20, 1 << 22);
        let (out, r) = run(&data, isn, &segs, &mut cx);
        check_provenance(&out, &data, &segs);
        let d = parts[dropped];
        let mut pieces: Vec<StreamPiece> = Vec::new();
        for o in &out {
            match o {
                Out::Data { bytes, .. } => match pieces.last_mut() {
                    Some(StreamPiece::Bytes(b)) => b.extend_from_slice(bytes),
                    _ => pieces.push(StreamPiece::Bytes(bytes.clone())),
                },
                Out::Gap(len) => pieces.push(StreamPiece::Gap(*len)),
            }
        }
        let mut expected = Vec::new();
        if d.start > 0 {
            expected.push(StreamPiece::Bytes(data[..d.start].to_vec()));
        }
        expected.push(StreamPiece::Gap((d.end - d.start) as u64));
        if d.end < data.len() {
            expected.push(StreamPiece::Bytes(data[d.end..].to_vec()));
        }
        prop_assert_eq!(pieces, expected);
        prop_assert!(r.is_finished());
        prop_assert_eq!(cx.buffered_total, 0);
    }

    #[test]
    fn streams_crossing_the_sequence_wrap_reassemble(
        data in proptest::collection::vec(any::<u8>(), 1..2000),
        below_wrap in 0u32..2000,
        seed in any::<u64>(),
    ) {
        let isn = u32::MAX - below_wrap;
        let mut rng = Rng(seed | 1);
        let mut segs = partition(data.len(), 200, &mut rng);
        rng.shuffle(&mut segs);
        let mut cx = StreamContext::new(1 << 20, 1 << 22);
        let (out, _) = run(&data, isn, &segs, &mut cx);
        check_provenance(&out, &data, &segs);
        let joined: Vec<u8> = out.iter().flat_map(|o| match o {
            Out::Data { bytes, .. } => bytes.clone(),
            Out::Gap(_) => Vec::new(),
        }).collect();
        prop_assert_eq!(joined, data);
    }

    #[test]
    fn arbitrary_segments_never_panic_and_respect_caps(
        ops in proptest::collection::vec(
            (any::<bool>(), any::<u32>(), 0u32..5000, any::<u8>(), 0usize..400, any::<u32>(), any::<bool>()),
            0..200,
        ),
        per_dir in 0usize..4000,
        total in 0usize..6000,
    ) {
        let mut r = TcpReassembler::new();
        let mut cx = StreamContext::new(per_dir, total);
        let mut delivered = 0u64;
        let mut emit = |c: Chunk<'_>| {
            if let Chunk::Data { bytes, .. } = c {
                assert!(!bytes.is_empty());
                delivered += bytes.len() as u64;
            }
        };
        let payload = vec![0xA5u8; 400];
        for (frame, (random_seq, seq, near, flags, len, ack, is_ack)) in ops.into_iter().enumerate() {
            let seq = if random_seq { seq } else { 1_000u32.wrapping_add(near) };
            let ts = Timestamp::default();
            if is_ack {
                r.peer_ack(ack, frame as u64, ts, &mut cx, &mut emit);
            } else {
                let view = SegmentView {
                    seq,
                    syn: flags & 2 != 0,
                    fin: flags & 1 != 0,
                    payload: &payload[..len],
                    frame: frame as u64,
                    ts,
                };
                r.segment(&view, &mut cx, &mut emit);
            }
            prop_assert!(r.buffered() <= per_dir);
            prop_assert!(cx.buffered_total <= total);
            prop_assert_eq!(r.buffered(), cx.buffered_total);
        }
        r.flush(0, Timestamp::default(), &mut cx, &mut emit);
        prop_assert_eq!(r.buffered(), 0);
        prop_assert_eq!(cx.counters.bytes_delivered, delivered);
    }

    #[test]
    fn table_never_panics_and_respects_caps(
        pkts in proptest::collection::vec(
            (0u8..4, 0u8..4, any::<u32>(), any::<u32>(), any::<u8>(), 0usize..300, 0i64..400, any::<bool>()),
            0..150,
        ),
        max_flows in 1usize..4,
    ) {
        let config = FlowConfig {
            max_flows,
            max_buffer_per_direction: 1500,
            max_buffer_total: 2500,
            max_diagnostics_per_kind: 3,
            ..FlowConfig::default()
        };
        let mut table = FlowTable::new(config);
        let mut rec = mmsleak::flow::EventRecorder::new();
        let mut diags = Vec::new();
        let payload = vec![0x5Au8; 300];
        for (frame, (a, b, seq, ack, flags, len, secs, udp)) in pkts.into_iter().enumerate() {
            let src = (v4(192, 0, 2, a), 1000 + u16::from(a));
            let dst = (v4(192, 0, 2, b), 80 + u16::from(b));
            let pkt = if udp {
                udp_packet(frame as u64 + 1, secs, src, dst, &payload[..len])
            } else {
                tcp_packet(frame as u64 + 1, secs, src, dst, seq % 4096, ack % 4096, flags, 1000, &payload[..len])
            };
            table.push(&pkt, &mut rec, &mut diags);
            prop_assert!(table.len() <= max_flows);
            prop_assert!(table.buffered_bytes() <= 2500);
        }
        table.finish(&mut rec, &mut diags);
        prop_assert_eq!(table.len(), 0);
        prop_assert_eq!(table.buffered_bytes(), 0);
        // Every opened flow is closed exactly once (dir: None), and nothing follows its close.
        let mut open = std::collections::HashSet::new();
        for ev in &rec.events {
            match ev {
                RecordedEvent::Open(info) => prop_assert!(open.insert(info.id)),
                RecordedEvent::Close { flow, dir: None, .. } => prop_assert!(open.remove(flow)),
                RecordedEvent::Data { flow, .. }
                | RecordedEvent::Gap { flow, .. }
                | RecordedEvent::Datagram { flow, .. }
                | RecordedEvent::Close { flow, .. } => prop_assert!(open.contains(flow)),
            }
        }
        prop_assert!(open.is_empty());
        // Diagnostics are capped per kind (plus one summary each).
        prop_assert!(diags.len() <= 4 * 4);
    }

    #[test]
    fn table_reassembles_shuffled_segments_of_a_handshaken_flow(
        data in proptest::collection::vec(any::<u8>(), 0..2000),
        isn in isn_strategy(),
        seed in any::<u64>(),
    ) {
        let mut rng = Rng(seed | 1);
        let mut segs = partition(data.len(), 300, &mut rng);
        let n = segs.len();
        for _ in 0..rng.below(n + 1) {
            let s = segs[rng.below(n)];
            segs.push(s);
        }
        rng.shuffle(&mut segs);
        let mut cv = Conversation::default_config();
        cv.c(isn, 0, SYN, b"");
        cv.s(7, isn.wrapping_add(1), SYN | ACK, b"");
        for s in &segs {
            cv.c(isn.wrapping_add(1).wrapping_add(s.start as u32), 8, ACK, &data[s.start..s.end]);
        }
        cv.finish();
        let id = cv.only_flow();
        prop_assert_eq!(cv.rec.stream(id, Direction::ToServer), data);
        prop_assert_eq!(cv.table.stats().gaps, 0);
    }
}
