//! TCP reassembly of one direction of a connection.
//!
//! Sequence numbers are 32-bit and wrap (RFC 9293 §3.4); each is mapped to a 64-bit stream
//! offset by taking the candidate nearest to the next offset expected, so a stream may be longer
//! than 4 GiB. Offset 0 is the byte after the SYN, or the first byte of the first segment seen
//! when the capture starts mid-stream.
//!
//! Policies:
//! - **First copy wins.** Bytes already delivered or buffered are never replaced by a later
//!   segment covering the same offsets. When a later copy differs from a buffered one, a
//!   [`StreamNote::OverlapConflict`] is raised (a sign of evasion or corruption). Bytes already
//!   delivered are not kept, so a differing retransmission of them is dropped unseen.
//! - **Out-of-order** segments are held (bounded per direction and in total) and released in
//!   order; each released piece keeps the frame it arrived in, so every [`Chunk::Data`] comes
//!   from one frame.
//! - **Gaps** are declared only when the missing bytes can no longer arrive: the peer
//!   acknowledged past them (the capture missed a segment the receiver got), a buffer cap was
//!   reached, or the stream is flushed (RST, idle timeout, eviction, end of capture). A FIN alone
//!   does not make a hole final: the missing segment may still be retransmitted, and the ACK of
//!   the FIN then settles it.
//! - **Keep-alives** (a 0/1-byte segment at the sequence number just below what the peer
//!   acknowledged) and **zero-window probes** (a byte the receiver will see again) never
//!   duplicate a byte: the first is recognised and dropped, the second is ordinary data whose
//!   retransmission is a duplicate.

use crate::time::Timestamp;
use std::collections::BTreeMap;

/// Bookkeeping bytes charged for each held segment on top of its payload.
pub const PIECE_OVERHEAD: usize = 64;

/// What a reassembler delivers, in stream order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// Bytes that arrived in the one frame `frame`.
    Data {
        bytes: &'a [u8],
        frame: u64,
        ts: Timestamp,
    },
    /// Bytes that will never be seen; `frame` is where that became certain.
    Gap { len: u64, frame: u64, ts: Timestamp },
}

/// Something the reassembler noticed that deserves a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamNote {
    /// A later copy of buffered bytes differed from the first one (which was kept).
    OverlapConflict { offset: u64, len: u64, frame: u64 },
    /// A buffer cap was reached: the hole before the held data became a gap of `gap` bytes.
    BufferCap {
        gap: u64,
        frame: u64,
        /// The table-wide cap (rather than the per-direction one) was the limit.
        total: bool,
    },
    /// A SYN with a new initial sequence number arrived after data had flowed; it was ignored.
    SynConflict { frame: u64 },
}

/// Counters shared by the reassemblers of a table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReassemblyCounters {
    pub bytes_delivered: u64,
    pub gaps: u64,
    pub gap_bytes: u64,
    pub duplicate_bytes: u64,
    pub overlap_conflicts: u64,
    pub keepalives: u64,
    pub buffer_cap_hits: u64,
}

/// The buffer budget, counters and notes shared by the reassemblers of a table.
#[derive(Debug, Clone, Default)]
pub struct StreamContext {
    pub max_per_direction: usize,
    pub max_total: usize,
    /// Bytes held by all reassemblers using this context (payload plus [`PIECE_OVERHEAD`]).
    pub buffered_total: usize,
    pub max_buffered_total: usize,
    pub counters: ReassemblyCounters,
    /// Filled by the reassemblers; the owner drains it into diagnostics.
    pub notes: Vec<StreamNote>,
}

impl StreamContext {
    pub fn new(max_per_direction: usize, max_total: usize) -> Self {
        StreamContext {
            max_per_direction,
            max_total,
            ..Self::default()
        }
    }
}

/// One TCP segment as seen by the reassembler of its direction.
#[derive(Debug, Clone, Copy)]
pub struct SegmentView<'a> {
    pub seq: u32,
    pub syn: bool,
    pub fin: bool,
    pub payload: &'a [u8],
    pub frame: u64,
    pub ts: Timestamp,
}

#[derive(Debug, Clone)]
struct Piece {
    data: Vec<u8>,
    frame: u64,
    ts: Timestamp,
}

/// Reassembles one direction of a TCP connection.
#[derive(Debug, Clone, Default)]
pub struct TcpReassembler {
    /// Sequence number of stream offset 0, once known.
    origin: Option<u32>,
    /// The initial sequence number, when the SYN was seen.
    isn: Option<u32>,
    /// Offset of the next byte to deliver.
    next: u64,
    /// Held bytes beyond `next`, keyed by offset, never overlapping, never empty.
    pending: BTreeMap<u64, Piece>,
    /// Bytes held (payload plus overhead).
    buffered: usize,
    /// Offset of the FIN (the byte count of the stream), once seen.
    fin: Option<u64>,
    /// The last acknowledgment number the peer sent.
    peer_ack: Option<u32>,
}

impl TcpReassembler {
    pub fn new() -> Self {
        Self::default()
    }

    /// True once offset 0 has been fixed (by a SYN or the first segment).
    pub fn is_synchronized(&self) -> bool {
        self.origin.is_some()
    }

    /// Offset of the next byte to be delivered (bytes delivered plus gap bytes so far).
    pub fn next_offset(&self) -> u64 {
        self.next
    }

    /// Bytes held for reassembly (payload plus per-segment overhead).
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// Offset of the FIN, once seen.
    pub fn fin_offset(&self) -> Option<u64> {
        self.fin
    }

    /// True when a FIN was seen and every byte before it was delivered or declared a gap.
    pub fn is_finished(&self) -> bool {
        self.fin.is_some_and(|f| self.next >= f)
    }

    /// The signed stream offset of `seq`: the candidate nearest to `next`.
    fn offset_of(&self, seq: u32) -> Option<i128> {
        let origin = self.origin?;
        // Truncation is the point: sequence space is modulo 2^32.
        let next_seq = origin.wrapping_add(self.next as u32);
        let delta = seq.wrapping_sub(next_seq) as i32;
        Some(i128::from(self.next) + i128::from(delta))
    }

    /// Handles one segment of this direction.
    pub fn segment<F: FnMut(Chunk<'_>)>(
        &mut self,
        seg: &SegmentView<'_>,
        cx: &mut StreamContext,
        out: &mut F,
    ) {
        let mut data_seq = seg.seq;
        if seg.syn {
            data_seq = seg.seq.wrapping_add(1);
            match self.isn {
                Some(isn) if isn == seg.seq => {} // retransmitted SYN
                _ if self.next == 0 && self.pending.is_empty() && self.fin.is_none() => {
                    // First SYN, or a new ISN before any byte flowed (a retried connect, or a
                    // SYN captured after a stray segment): offset 0 follows this SYN.
                    self.isn = Some(seg.seq);
                    self.origin = Some(data_seq);
                }
                _ => {
                    cx.notes.push(StreamNote::SynConflict { frame: seg.frame });
                    return;
                }
            }
        }
        if seg.payload.is_empty() && !seg.fin {
            return;
        }
        if !seg.syn
            && !seg.fin
            && seg.payload.len() <= 1
            && self.peer_ack == Some(seg.seq.wrapping_add(1))
        {
            // Keep-alive: one byte (or none) below what the peer already acknowledged.
            cx.counters.keepalives = cx.counters.keepalives.saturating_add(1);
            return;
        }
        if self.origin.is_none() {
            // Mid-stream start: the first segment seen defines offset 0.
            self.origin = Some(data_seq);
        }
        let Some(start) = self.offset_of(data_seq) else {
            return;
        };
        let len = i128::try_from(seg.payload.len()).unwrap_or(i128::MAX);
        let end = start.saturating_add(len);
        if seg.fin && self.fin.is_none() {
            self.fin = u64::try_from(end).ok();
        }
        let next = i128::from(self.next);
        if end <= next {
            let dup = u64::try_from(len).unwrap_or(0);
            cx.counters.duplicate_bytes = cx.counters.duplicate_bytes.saturating_add(dup);
            return;
        }
        let skip = usize::try_from(next.saturating_sub(start).max(0)).unwrap_or(usize::MAX);
        cx.counters.duplicate_bytes = cx
            .counters
            .duplicate_bytes
            .saturating_add(u64::try_from(skip).unwrap_or(0));
        let (Some(data), Ok(start)) = (seg.payload.get(skip..), u64::try_from(start.max(next)))
        else {
            return;
        };
        self.insert(start, data, seg.frame, seg.ts, cx, out);
    }

    /// Records an acknowledgment number sent by the peer. Bytes below it that were never seen
    /// were received by the peer but missed by the capture: they become a gap now.
    pub fn peer_ack<F: FnMut(Chunk<'_>)>(
        &mut self,
        ack: u32,
        frame: u64,
        ts: Timestamp,
        cx: &mut StreamContext,
        out: &mut F,
    ) {
        self.peer_ack = Some(ack);
        let Some(acked) = self.offset_of(ack) else {
            return;
        };
        let Ok(mut target) = u64::try_from(acked) else {
            return;
        };
        if let Some(fin) = self.fin {
            // The FIN takes a sequence number but no byte.
            target = target.min(fin);
        }
        if target > self.next {
            self.advance_to(target, frame, ts, cx, out);
        }
    }

    /// Gives up on every hole: delivers all held bytes with gaps between them (and up to the
    /// FIN when its offset is known). Used when the stream ends.
    pub fn flush<F: FnMut(Chunk<'_>)>(
        &mut self,
        frame: u64,
        ts: Timestamp,
        cx: &mut StreamContext,
        out: &mut F,
    ) {
        let held_end = self
            .pending
            .iter()
            .next_back()
            .map_or(0, |(start, piece)| end_of(*start, &piece.data));
        let target = held_end.max(self.fin.unwrap_or(0));
        if target > self.next {
            self.advance_to(target, frame, ts, cx, out);
        }
    }

    /// Drops every held byte without delivering it (the flow is no longer wanted).
    pub fn discard(&mut self, cx: &mut StreamContext) {
        cx.buffered_total = cx.buffered_total.saturating_sub(self.buffered);
        self.buffered = 0;
        self.pending.clear();
    }

    /// Places bytes at `start..` (all at or beyond `next`) into the holes of the stream.
    fn insert<F: FnMut(Chunk<'_>)>(
        &mut self,
        start: u64,
        data: &[u8],
        frame: u64,
        ts: Timestamp,
        cx: &mut StreamContext,
        out: &mut F,
    ) {
        let end = end_of(start, data);
        if !self.pending.is_empty() {
            self.compare_overlaps(start, data, frame, cx);
        }
        let mut cur = start;
        while cur < end {
            if cur < self.next {
                // Covered by held bytes released meanwhile: first copy wins.
                let upto = self.next.min(end);
                cx.counters.duplicate_bytes =
                    cx.counters.duplicate_bytes.saturating_add(upto - cur);
                cur = upto;
                continue;
            }
            let covered_to = self
                .pending
                .range(..=cur)
                .next_back()
                .map(|(s, p)| end_of(*s, &p.data))
                .filter(|e| *e > cur);
            if let Some(covered_to) = covered_to {
                let upto = covered_to.min(end);
                cx.counters.duplicate_bytes =
                    cx.counters.duplicate_bytes.saturating_add(upto - cur);
                cur = upto;
                continue;
            }
            let hole_end = self
                .pending
                .range(cur..)
                .next()
                .map_or(end, |(s, _)| (*s).min(end));
            let from = usize::try_from(cur - start).unwrap_or(usize::MAX);
            let to = usize::try_from(hole_end - start).unwrap_or(usize::MAX);
            if let Some(bytes) = data.get(from..to) {
                self.place(cur, bytes, frame, ts, cx, out);
            }
            cur = hole_end.max(cur.saturating_add(1));
        }
    }

    /// Raises a note for every held range that `data` (at `start`) covers with other bytes.
    fn compare_overlaps(&self, start: u64, data: &[u8], frame: u64, cx: &mut StreamContext) {
        let end = end_of(start, data);
        let from = self
            .pending
            .range(..=start)
            .next_back()
            .map_or(start, |(s, _)| *s);
        for (&p_start, piece) in self.pending.range(from..end) {
            let p_end = end_of(p_start, &piece.data);
            let lo = p_start.max(start);
            let hi = p_end.min(end);
            if lo >= hi {
                continue;
            }
            let held = slice(&piece.data, lo - p_start, hi - p_start);
            let new = slice(data, lo - start, hi - start);
            if held != new {
                cx.counters.overlap_conflicts = cx.counters.overlap_conflicts.saturating_add(1);
                cx.notes.push(StreamNote::OverlapConflict {
                    offset: lo,
                    len: hi - lo,
                    frame,
                });
            }
        }
    }

    /// Delivers bytes at `off` when they are next, else holds them (making room by declaring
    /// the oldest hole a gap when a cap is reached).
    fn place<F: FnMut(Chunk<'_>)>(
        &mut self,
        off: u64,
        bytes: &[u8],
        frame: u64,
        ts: Timestamp,
        cx: &mut StreamContext,
        out: &mut F,
    ) {
        if bytes.is_empty() {
            return;
        }
        let charge = bytes.len().saturating_add(PIECE_OVERHEAD);
        let mut forced: Option<(u64, bool)> = None;
        while off > self.next {
            let per_direction_ok = self.buffered.saturating_add(charge) <= cx.max_per_direction;
            let total_ok = cx.buffered_total.saturating_add(charge) <= cx.max_total;
            if per_direction_ok && total_ok {
                break;
            }
            // Give up the oldest hole: it becomes a gap, and held bytes after it are released.
            let target = self.pending.keys().next().map_or(off, |k| (*k).min(off));
            let before = self.next;
            self.gap_to(target, frame, ts, cx, out);
            self.drain(cx, out);
            let (gap, _) = forced.get_or_insert((0, !total_ok));
            *gap = gap.saturating_add(target.saturating_sub(before));
        }
        if let Some((gap, total)) = forced {
            cx.counters.buffer_cap_hits = cx.counters.buffer_cap_hits.saturating_add(1);
            cx.notes.push(StreamNote::BufferCap { gap, frame, total });
        }
        if off <= self.next {
            let skip = usize::try_from(self.next - off).unwrap_or(usize::MAX);
            if let Some(rest) = bytes.get(skip..)
                && !rest.is_empty()
            {
                self.deliver(rest, frame, ts, cx, out);
                self.drain(cx, out);
            }
            return;
        }
        self.pending.insert(
            off,
            Piece {
                data: bytes.to_vec(),
                frame,
                ts,
            },
        );
        self.buffered = self.buffered.saturating_add(charge);
        cx.buffered_total = cx.buffered_total.saturating_add(charge);
        cx.max_buffered_total = cx.max_buffered_total.max(cx.buffered_total);
    }

    fn deliver<F: FnMut(Chunk<'_>)>(
        &mut self,
        bytes: &[u8],
        frame: u64,
        ts: Timestamp,
        cx: &mut StreamContext,
        out: &mut F,
    ) {
        let len = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
        out(Chunk::Data { bytes, frame, ts });
        self.next = self.next.saturating_add(len);
        cx.counters.bytes_delivered = cx.counters.bytes_delivered.saturating_add(len);
    }

    fn gap_to<F: FnMut(Chunk<'_>)>(
        &mut self,
        target: u64,
        frame: u64,
        ts: Timestamp,
        cx: &mut StreamContext,
        out: &mut F,
    ) {
        if target <= self.next {
            return;
        }
        let len = target - self.next;
        out(Chunk::Gap { len, frame, ts });
        self.next = target;
        cx.counters.gaps = cx.counters.gaps.saturating_add(1);
        cx.counters.gap_bytes = cx.counters.gap_bytes.saturating_add(len);
    }

    /// Releases held pieces that have become next in order.
    fn drain<F: FnMut(Chunk<'_>)>(&mut self, cx: &mut StreamContext, out: &mut F) {
        while let Some(entry) = self.pending.first_entry() {
            let start = *entry.key();
            if start > self.next {
                break;
            }
            let piece = entry.remove();
            let charge = piece.data.len().saturating_add(PIECE_OVERHEAD);
            self.buffered = self.buffered.saturating_sub(charge);
            cx.buffered_total = cx.buffered_total.saturating_sub(charge);
            let skip = usize::try_from(self.next - start).unwrap_or(usize::MAX);
            if let Some(rest) = piece.data.get(skip..)
                && !rest.is_empty()
            {
                self.deliver(rest, piece.frame, piece.ts, cx, out);
            }
        }
    }

    /// Moves `next` to `target`: held bytes are delivered, holes become gaps.
    fn advance_to<F: FnMut(Chunk<'_>)>(
        &mut self,
        target: u64,
        frame: u64,
        ts: Timestamp,
        cx: &mut StreamContext,
        out: &mut F,
    ) {
        loop {
            self.drain(cx, out);
            if self.next >= target {
                break;
            }
            let to = self
                .pending
                .keys()
                .next()
                .map_or(target, |k| (*k).min(target));
            self.gap_to(to, frame, ts, cx, out);
        }
    }
}

fn end_of(start: u64, data: &[u8]) -> u64 {
    start.saturating_add(u64::try_from(data.len()).unwrap_or(u64::MAX))
}

fn slice(data: &[u8], from: u64, to: u64) -> &[u8] {
    let from = usize::try_from(from).unwrap_or(usize::MAX);
    let to = usize::try_from(to).unwrap_or(usize::MAX);
    data.get(from..to).unwrap_or(&[])
}
