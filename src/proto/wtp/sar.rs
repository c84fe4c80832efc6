//! WTP transactions and segmentation/reassembly (WAP-224 clause 7.14 and Annex B).
//!
//! A transaction is keyed by (flow, initiator side, 15-bit TID). The initiator's message starts
//! with an Invoke (PSN 0) and continues with Segmented Invoke PDUs (PSN 1..); the responder's
//! message likewise with Result and Segmented Result. GTR closes a packet group, TTR the message.
//! Retransmissions (RID set, or a PSN seen again) are dropped; segments are kept by PSN so order of
//! arrival does not matter. A transaction is handed out when it ends: acknowledged, aborted, idle
//! past the timeout (capture time), its flow ended, or the input ended. What was present is always
//! delivered, with the missing PSNs listed.

use super::parser::{
    AbortReason, TransactionClass, WtpBody, WtpMessageKind, WtpPdu, WtpSegment, parse_pdu_at,
    split_datagram,
};
use crate::diag::{Diagnostic, Layer};
use crate::flow::Direction;
use crate::time::Timestamp;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// Resource caps of the reassembler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SarLimits {
    /// Packets kept per message (a PSN is one octet, so 256 is the protocol's own limit).
    pub max_segments_per_message: usize,
    /// Transactions in progress at once (over all flows this reassembler handles).
    pub max_transactions: usize,
    /// User-data octets kept per message.
    pub max_message_bytes: usize,
    /// A transaction idle this long (capture time) is handed out as it is.
    pub idle_timeout_secs: i64,
}

impl Default for SarLimits {
    fn default() -> Self {
        SarLimits {
            max_segments_per_message: 256,
            max_transactions: 1024,
            max_message_bytes: 4 * 1024 * 1024,
            idle_timeout_secs: 120,
        }
    }
}

/// Why a transaction was handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionEnd {
    /// Acknowledged as the class requires, or a complete class 0 invoke.
    Completed,
    Aborted,
    /// No packet for longer than the idle timeout.
    TimedOut,
    /// The flow was closed or evicted by the caller.
    FlowEnded,
    /// End of input.
    EndOfInput,
    /// Pushed out to stay within `max_transactions`.
    Evicted,
    /// The same TID started a new transaction (TID reuse or wrap).
    Replaced,
}

/// One reassembled message: the Invoke or the Result of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WtpMessage {
    pub tid: u16,
    pub kind: WtpMessageKind,
    /// The direction the message travelled in the flow.
    pub direction: Direction,
    /// The user data of the packets present, in PSN order.
    pub data: Vec<u8>,
    /// Frames that carried the message's packets, ascending.
    pub frames: Vec<u64>,
    pub first_frame: u64,
    /// The frame in which the message's last byte arrived.
    pub last_frame: u64,
    pub first_time: Timestamp,
    pub last_time: Timestamp,
    /// True when TTR was seen and every packet 0..=TTR's PSN is present (and no cap cut it).
    pub complete: bool,
    /// PSNs below the last known one that never arrived.
    pub missing_psn: Vec<u8>,
    /// Set when the transaction was aborted.
    pub aborted: Option<AbortReason>,
}

/// A transaction: the initiator's Invoke message and the responder's Result message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WtpTransaction {
    pub flow_id: u64,
    /// The direction in which the initiator's packets travel.
    pub initiator: Direction,
    pub tid: u16,
    /// From the Invoke's TCL; `None` when the Invoke (PSN 0) was not seen.
    pub class: Option<TransactionClass>,
    pub invoke: Option<WtpMessage>,
    pub result: Option<WtpMessage>,
    pub aborted: Option<AbortReason>,
    pub end: TransactionEnd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct TxKey {
    flow_id: u64,
    initiator: Direction,
    tid: u16,
}

#[derive(Debug)]
struct Packet {
    data: Vec<u8>,
    frame: u64,
}

#[derive(Debug)]
struct MessageAsm {
    kind: WtpMessageKind,
    direction: Direction,
    packets: BTreeMap<u8, Packet>,
    ttr_psn: Option<u8>,
    bytes: usize,
    cut_by_cap: bool,
    first_frame: u64,
    last_frame: u64,
    first_time: Timestamp,
    last_time: Timestamp,
}

impl MessageAsm {
    fn new(kind: WtpMessageKind, direction: Direction, frame: u64, ts: Timestamp) -> Self {
        MessageAsm {
            kind,
            direction,
            packets: BTreeMap::new(),
            ttr_psn: None,
            bytes: 0,
            cut_by_cap: false,
            first_frame: frame,
            last_frame: frame,
            first_time: ts,
            last_time: ts,
        }
    }

    /// All packets 0..=TTR present.
    fn is_whole(&self) -> bool {
        match self.ttr_psn {
            Some(last) => (0..=last).all(|p| self.packets.contains_key(&p)),
            None => false,
        }
    }

    fn missing(&self) -> Vec<u8> {
        let last = self
            .ttr_psn
            .or_else(|| self.packets.keys().next_back().copied());
        match last {
            Some(last) => (0..=last)
                .filter(|p| !self.packets.contains_key(p))
                .collect(),
            None => Vec::new(),
        }
    }

    fn build(self, tid: u16, aborted: Option<AbortReason>) -> WtpMessage {
        let complete = self.is_whole() && !self.cut_by_cap;
        let missing_psn = self.missing();
        let mut frames: Vec<u64> = self.packets.values().map(|p| p.frame).collect();
        frames.sort_unstable();
        frames.dedup();
        let mut data = Vec::with_capacity(self.bytes);
        for packet in self.packets.values() {
            data.extend_from_slice(&packet.data);
        }
        WtpMessage {
            tid,
            kind: self.kind,
            direction: self.direction,
            data,
            first_frame: frames.first().copied().unwrap_or(self.first_frame),
            last_frame: self.last_frame,
            frames,
            first_time: self.first_time,
            last_time: self.last_time,
            complete,
            missing_psn,
            aborted,
        }
    }
}

#[derive(Debug)]
struct TxState {
    class: Option<TransactionClass>,
    invoke: Option<MessageAsm>,
    result: Option<MessageAsm>,
    aborted: Option<AbortReason>,
    last_activity: Timestamp,
}

/// What remains of an ended transaction, to recognise late retransmissions of it.
#[derive(Debug, Clone, Copy)]
struct Tombstone {
    first_packet_hash: Option<u64>,
    ended: Timestamp,
}

fn hash_bytes(bytes: &[u8]) -> u64 {
    // SipHash with fixed keys: deterministic across runs.
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// Reassembles WTP messages and hands out ended transactions.
#[derive(Debug, Default)]
pub struct WtpReassembler {
    limits: SarLimits,
    transactions: BTreeMap<TxKey, TxState>,
    finished: BTreeMap<TxKey, Tombstone>,
    done: Vec<WtpTransaction>,
    last_sweep: Option<Timestamp>,
}

impl WtpReassembler {
    pub fn new(limits: SarLimits) -> Self {
        WtpReassembler {
            limits,
            ..Default::default()
        }
    }

    pub fn limits(&self) -> &SarLimits {
        &self.limits
    }

    /// Transactions in progress.
    pub fn in_progress(&self) -> usize {
        self.transactions.len()
    }

    /// Takes the transactions that ended so far, in the order they ended.
    pub fn take_completed(&mut self) -> Vec<WtpTransaction> {
        std::mem::take(&mut self.done)
    }

    /// Feeds one UDP payload of a WTP flow: every PDU in it (concatenated or not) is processed.
    /// `dir` is the direction the datagram travelled.
    pub fn on_datagram(
        &mut self,
        flow_id: u64,
        dir: Direction,
        datagram: &[u8],
        frame: u64,
        ts: Timestamp,
        diags: &mut Vec<Diagnostic>,
    ) {
        self.sweep(ts);
        let parts = match split_datagram(datagram) {
            Ok(parts) => parts,
            Err(e) => {
                diags.push(Diagnostic::new(Layer::Wtp, e.to_string()).at_frame(frame));
                return;
            }
        };
        for (offset, bytes) in parts {
            match parse_pdu_at(bytes, offset) {
                Ok(pdu) => self.on_pdu(flow_id, dir, &pdu, frame, ts, diags),
                Err(e) => diags.push(Diagnostic::new(Layer::Wtp, e.to_string()).at_frame(frame)),
            }
        }
    }

    /// Processes one parsed PDU.
    pub fn on_pdu(
        &mut self,
        flow_id: u64,
        dir: Direction,
        pdu: &WtpPdu<'_>,
        frame: u64,
        ts: Timestamp,
        diags: &mut Vec<Diagnostic>,
    ) {
        // Invoke packets always come from the initiator and Result packets from the responder;
        // for the others the TID's direction bit tells (WAP-224 10.3.1).
        let initiator = match &pdu.body {
            WtpBody::Invoke { .. } | WtpBody::SegmentedInvoke(_) => dir,
            WtpBody::Result(_) | WtpBody::SegmentedResult(_) => dir.reverse(),
            _ if pdu.tid.from_responder => dir.reverse(),
            _ => dir,
        };
        let key = TxKey {
            flow_id,
            initiator,
            tid: pdu.tid.value,
        };
        match &pdu.body {
            WtpBody::Invoke { header, segment } => {
                self.on_invoke_start(key, header.class, pdu.rid, segment, dir, frame, ts, diags);
            }
            WtpBody::SegmentedInvoke(segment) => {
                self.on_segment(key, WtpMessageKind::Invoke, segment, dir, frame, ts, diags);
            }
            WtpBody::Result(segment) | WtpBody::SegmentedResult(segment) => {
                self.on_segment(key, WtpMessageKind::Result, segment, dir, frame, ts, diags);
            }
            WtpBody::Ack { .. } => self.on_ack(key, dir == initiator, pdu.psn_tpi().is_some(), ts),
            WtpBody::Abort(reason) => {
                if let Some(tx) = self.transactions.get_mut(&key) {
                    tx.aborted = Some(*reason);
                    tx.last_activity = ts;
                    self.end(key, TransactionEnd::Aborted, ts);
                }
            }
            // A Negative Ack only asks for packets again; the retransmissions carry the data.
            WtpBody::NegativeAck { .. } => {
                if let Some(tx) = self.transactions.get_mut(&key) {
                    tx.last_activity = ts;
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_invoke_start(
        &mut self,
        key: TxKey,
        class: TransactionClass,
        rid: bool,
        segment: &WtpSegment<'_>,
        dir: Direction,
        frame: u64,
        ts: Timestamp,
        diags: &mut Vec<Diagnostic>,
    ) {
        let first_hash = hash_bytes(segment.payload);
        if let Some(tx) = self.transactions.get(&key) {
            let existing = tx
                .invoke
                .as_ref()
                .and_then(|m| m.packets.get(&0))
                .map(|p| p.data.as_slice());
            if let Some(existing) = existing {
                if existing != segment.payload && !rid {
                    // A fresh Invoke with the same TID: the TID was reused (or wrapped).
                    self.end(key, TransactionEnd::Replaced, ts);
                }
            }
        } else if let Some(tomb) = self.finished.get(&key).copied() {
            if rid || tomb.first_packet_hash == Some(first_hash) {
                // A late retransmission of a transaction already handed out.
                if tomb.first_packet_hash != Some(first_hash) {
                    diags.push(
                        Diagnostic::new(
                            Layer::Wtp,
                            format!(
                                "TID {}: retransmitted Invoke differs from the original",
                                key.tid
                            ),
                        )
                        .at_frame(frame),
                    );
                }
                return;
            }
            self.finished.remove(&key);
        }
        if let Some(tx) = self.transactions.get_mut(&key) {
            tx.class = Some(class);
        } else if self.start(key, Some(class), frame, ts, diags).is_none() {
            return;
        }
        self.on_segment(key, WtpMessageKind::Invoke, segment, dir, frame, ts, diags);
    }

    /// Creates a transaction, evicting the least recently active one when at the cap.
    fn start(
        &mut self,
        key: TxKey,
        class: Option<TransactionClass>,
        frame: u64,
        ts: Timestamp,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<()> {
        if self.limits.max_transactions == 0 {
            diags.push(
                Diagnostic::new(Layer::Limit, "WTP transaction cap is 0: packet ignored")
                    .at_frame(frame),
            );
            return None;
        }
        if self.transactions.len() >= self.limits.max_transactions {
            let oldest = self
                .transactions
                .iter()
                .min_by_key(|(_, tx)| tx.last_activity)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                diags.push(
                    Diagnostic::new(
                        Layer::Limit,
                        format!(
                            "WTP: more than {} transactions in progress; TID {} handed out early",
                            self.limits.max_transactions, oldest.tid
                        ),
                    )
                    .at_frame(frame),
                );
                self.end(oldest, TransactionEnd::Evicted, ts);
            }
        }
        self.transactions.insert(
            key,
            TxState {
                class,
                invoke: None,
                result: None,
                aborted: None,
                last_activity: ts,
            },
        );
        Some(())
    }

    #[allow(clippy::too_many_arguments)]
    fn on_segment(
        &mut self,
        key: TxKey,
        kind: WtpMessageKind,
        segment: &WtpSegment<'_>,
        dir: Direction,
        frame: u64,
        ts: Timestamp,
        diags: &mut Vec<Diagnostic>,
    ) {
        if !self.transactions.contains_key(&key) {
            if self.finished.contains_key(&key) {
                // Late retransmission of a packet of a transaction already handed out.
                return;
            }
            if self.start(key, None, frame, ts, diags).is_none() {
                return;
            }
        }
        let limits = self.limits;
        let Some(tx) = self.transactions.get_mut(&key) else {
            return;
        };
        tx.last_activity = ts;
        let slot = match kind {
            WtpMessageKind::Invoke => &mut tx.invoke,
            WtpMessageKind::Result => &mut tx.result,
        };
        let msg = slot.get_or_insert_with(|| MessageAsm::new(kind, dir, frame, ts));
        let diag = |text: String| Diagnostic::new(Layer::Wtp, text).at_frame(frame);
        if let Some(existing) = msg.packets.get(&segment.psn) {
            if existing.data != segment.payload {
                diags.push(diag(format!(
                    "TID {} {} PSN {}: retransmission differs from the first copy (kept the first)",
                    key.tid,
                    kind.as_str(),
                    segment.psn
                )));
            }
            return;
        }
        if msg.packets.len() >= limits.max_segments_per_message {
            if !msg.cut_by_cap {
                diags.push(
                    Diagnostic::new(
                        Layer::Limit,
                        format!(
                            "WTP TID {} {}: more than {} packets; the rest is dropped",
                            key.tid,
                            kind.as_str(),
                            limits.max_segments_per_message
                        ),
                    )
                    .at_frame(frame),
                );
            }
            msg.cut_by_cap = true;
            return;
        }
        let new_bytes = msg.bytes.saturating_add(segment.payload.len());
        if new_bytes > limits.max_message_bytes {
            if !msg.cut_by_cap {
                diags.push(
                    Diagnostic::new(
                        Layer::Limit,
                        format!(
                            "WTP TID {} {}: message larger than {} bytes; the rest is dropped",
                            key.tid,
                            kind.as_str(),
                            limits.max_message_bytes
                        ),
                    )
                    .at_frame(frame),
                );
            }
            msg.cut_by_cap = true;
            return;
        }
        if segment.ttr {
            if let Some(prev) = msg.ttr_psn.filter(|p| *p != segment.psn) {
                diags.push(diag(format!(
                    "TID {} {}: TTR on PSN {} after TTR on PSN {}",
                    key.tid,
                    kind.as_str(),
                    segment.psn,
                    prev
                )));
            }
            msg.ttr_psn = Some(msg.ttr_psn.map_or(segment.psn, |p| p.max(segment.psn)));
        }
        msg.bytes = new_bytes;
        msg.packets.insert(
            segment.psn,
            Packet {
                data: segment.payload.to_vec(),
                frame,
            },
        );
        if frame >= msg.last_frame {
            msg.last_frame = frame;
            msg.last_time = ts;
        }
        if frame < msg.first_frame {
            msg.first_frame = frame;
            msg.first_time = ts;
        }
        // A class 0 transaction ends with its (whole) invoke: nothing else will come.
        let class0_done = kind == WtpMessageKind::Invoke
            && tx.class == Some(TransactionClass::Class0)
            && msg.is_whole();
        if class0_done {
            self.end(key, TransactionEnd::Completed, ts);
        }
    }

    /// An Ack without a PSN TPI ends a transaction: from the initiator it acknowledges the Result
    /// (class 2); from the responder it acknowledges the Invoke of class 1. An Ack with a PSN TPI
    /// only acknowledges a packet group; a responder's Ack in class 2 is a "hold on".
    fn on_ack(&mut self, key: TxKey, from_initiator: bool, group_ack: bool, ts: Timestamp) {
        let Some(tx) = self.transactions.get_mut(&key) else {
            return;
        };
        tx.last_activity = ts;
        if group_ack {
            return;
        }
        let ends = if from_initiator {
            tx.result.as_ref().is_some_and(|m| m.ttr_psn.is_some())
        } else {
            tx.class == Some(TransactionClass::Class1)
                && tx.invoke.as_ref().is_some_and(|m| m.ttr_psn.is_some())
        };
        if ends {
            self.end(key, TransactionEnd::Completed, ts);
        }
    }

    fn end(&mut self, key: TxKey, end: TransactionEnd, ts: Timestamp) {
        let Some(tx) = self.transactions.remove(&key) else {
            return;
        };
        let first_packet_hash = tx
            .invoke
            .as_ref()
            .and_then(|m| m.packets.get(&0))
            .map(|p| hash_bytes(&p.data));
        if self.finished.len() >= self.limits.max_transactions.max(1) {
            let oldest = self
                .finished
                .iter()
                .min_by_key(|(_, t)| t.ended)
                .map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                self.finished.remove(&oldest);
            }
        }
        if end != TransactionEnd::Replaced {
            self.finished.insert(
                key,
                Tombstone {
                    first_packet_hash,
                    ended: ts,
                },
            );
        }
        let aborted = tx.aborted;
        self.done.push(WtpTransaction {
            flow_id: key.flow_id,
            initiator: key.initiator,
            tid: key.tid,
            class: tx.class,
            invoke: tx.invoke.map(|m| m.build(key.tid, aborted)),
            result: tx.result.map(|m| m.build(key.tid, aborted)),
            aborted,
            end,
        });
    }

    /// Hands out transactions idle past the timeout and forgets old tombstones. Runs at most once
    /// per second of capture time.
    fn sweep(&mut self, now: Timestamp) {
        if let Some(last) = self.last_sweep {
            if now.secs_since(&last) < 1 {
                return;
            }
        }
        self.last_sweep = Some(now);
        let timeout = self.limits.idle_timeout_secs;
        let idle: Vec<TxKey> = self
            .transactions
            .iter()
            .filter(|(_, tx)| now.secs_since(&tx.last_activity) > timeout)
            .map(|(k, _)| *k)
            .collect();
        for key in idle {
            self.end(key, TransactionEnd::TimedOut, now);
        }
        self.finished
            .retain(|_, t| now.secs_since(&t.ended) <= timeout);
    }

    /// Hands out every transaction of one flow (the flow was closed or evicted).
    pub fn end_flow(&mut self, flow_id: u64, ts: Timestamp) {
        let keys: Vec<TxKey> = self
            .transactions
            .keys()
            .filter(|k| k.flow_id == flow_id)
            .copied()
            .collect();
        for key in keys {
            self.end(key, TransactionEnd::FlowEnded, ts);
        }
        self.finished.retain(|k, _| k.flow_id != flow_id);
    }

    /// End of input: hands out every transaction still in progress, ordered by first frame.
    pub fn finish(&mut self) -> Vec<WtpTransaction> {
        let mut rest: Vec<(u64, TxKey)> = self
            .transactions
            .iter()
            .map(|(k, tx)| {
                let first = [tx.invoke.as_ref(), tx.result.as_ref()]
                    .into_iter()
                    .flatten()
                    .map(|m| m.first_frame)
                    .min()
                    .unwrap_or(0);
                (first, *k)
            })
            .collect();
        rest.sort();
        for (_, key) in rest {
            let ts = self
                .transactions
                .get(&key)
                .map(|tx| tx.last_activity)
                .unwrap_or_default();
            self.end(key, TransactionEnd::EndOfInput, ts);
        }
        self.finished.clear();
        self.take_completed()
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser::{
        AbortType, InvokeHeader, SegmentPlan, Tid, encode_ack, encode_segmented,
    };
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::new(s, 0, 6)
    }

    fn hdr(class: TransactionClass) -> InvokeHeader {
        InvokeHeader {
            version: 0,
            tid_new: false,
            user_ack: false,
            class,
        }
    }

    #[test]
    fn single_packet_invoke_result_ack() {
        let mut r = WtpReassembler::new(SarLimits::default());
        let mut d = Vec::new();
        let inv = encode_segmented(
            WtpMessageKind::Invoke,
            3,
            hdr(TransactionClass::Class2),
            b"GET",
            SegmentPlan {
                segment_size: 100,
                group_size: 4,
            },
        );
        let res = encode_segmented(
            WtpMessageKind::Result,
            3,
            hdr(TransactionClass::Class2),
            b"REPLY",
            SegmentPlan {
                segment_size: 100,
                group_size: 4,
            },
        );
        r.on_datagram(1, Direction::ToServer, &inv[0], 1, ts(0), &mut d);
        r.on_datagram(1, Direction::ToClient, &res[0], 2, ts(0), &mut d);
        assert!(r.take_completed().is_empty());
        r.on_datagram(
            1,
            Direction::ToServer,
            &encode_ack(Tid::initiator(3), false, None),
            3,
            ts(0),
            &mut d,
        );
        let done = r.take_completed();
        assert_eq!(done.len(), 1);
        let tx = &done[0];
        assert_eq!(tx.end, TransactionEnd::Completed);
        assert_eq!(tx.invoke.as_ref().unwrap().data, b"GET");
        assert!(tx.invoke.as_ref().unwrap().complete);
        assert_eq!(tx.result.as_ref().unwrap().data, b"REPLY");
        assert_eq!(tx.result.as_ref().unwrap().frames, vec![2]);
        assert!(d.is_empty());
        // A late retransmission of the Result is absorbed.
        r.on_datagram(1, Direction::ToClient, &res[0], 4, ts(1), &mut d);
        assert!(r.finish().is_empty());
    }

    #[test]
    fn abort_marks_messages() {
        let mut r = WtpReassembler::new(SarLimits::default());
        let mut d = Vec::new();
        let inv = encode_segmented(
            WtpMessageKind::Invoke,
            9,
            hdr(TransactionClass::Class2),
            b"abc",
            SegmentPlan {
                segment_size: 100,
                group_size: 1,
            },
        );
        r.on_datagram(7, Direction::ToServer, &inv[0], 1, ts(0), &mut d);
        // Responder aborts: user abort, PEERREQ; TID with the responder bit.
        r.on_datagram(
            7,
            Direction::ToClient,
            &[0x21, 0x80, 0x09, 0xE8],
            2,
            ts(0),
            &mut d,
        );
        let done = r.take_completed();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].end, TransactionEnd::Aborted);
        let reason = done[0].invoke.as_ref().unwrap().aborted.unwrap();
        assert_eq!(reason.abort_type, AbortType::User);
        assert_eq!(reason.code, 0xE8);
    }

    #[test]
    fn class0_ends_on_whole_invoke_and_timeouts() {
        let mut r = WtpReassembler::new(SarLimits::default());
        let mut d = Vec::new();
        let inv = encode_segmented(
            WtpMessageKind::Invoke,
            1,
            hdr(TransactionClass::Class0),
            b"push",
            SegmentPlan {
                segment_size: 100,
                group_size: 1,
            },
        );
        r.on_datagram(1, Direction::ToClient, &inv[0], 1, ts(0), &mut d);
        assert_eq!(r.take_completed().len(), 1);
        // A class 2 invoke never answered times out by capture time.
        let inv = encode_segmented(
            WtpMessageKind::Invoke,
            2,
            hdr(TransactionClass::Class2),
            b"x",
            SegmentPlan {
                segment_size: 100,
                group_size: 1,
            },
        );
        r.on_datagram(1, Direction::ToServer, &inv[0], 2, ts(10), &mut d);
        r.on_datagram(
            1,
            Direction::ToServer,
            &[0x18, 0x00, 0x63],
            3,
            ts(500),
            &mut d,
        );
        let done = r.take_completed();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].end, TransactionEnd::TimedOut);
    }

    #[test]
    fn transaction_cap_evicts_with_diagnostic() {
        let mut r = WtpReassembler::new(SarLimits {
            max_transactions: 2,
            ..SarLimits::default()
        });
        let mut d = Vec::new();
        for tid in 0..5u16 {
            let inv = encode_segmented(
                WtpMessageKind::Invoke,
                tid,
                hdr(TransactionClass::Class2),
                b"x",
                SegmentPlan {
                    segment_size: 10,
                    group_size: 1,
                },
            );
            r.on_datagram(
                1,
                Direction::ToServer,
                &inv[0],
                u64::from(tid) + 1,
                ts(0),
                &mut d,
            );
            assert!(r.in_progress() <= 2);
        }
        assert_eq!(d.iter().filter(|x| x.layer == Layer::Limit).count(), 3);
        assert_eq!(r.take_completed().len(), 3);
        assert_eq!(r.finish().len(), 2);
    }
}
