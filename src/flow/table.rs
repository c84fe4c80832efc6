//! The flow table: finds the flow of each packet, decides client and server, runs TCP
//! reassembly and UDP delivery, expires idle flows by capture time and enforces the caps.
//!
//! Flows live in a slab and sit on one of three least-recently-seen lists (open TCP, open UDP,
//! closed TCP lingering to absorb late packets), so idle expiry and eviction only ever look at
//! list tails. Flows are ordered on those lists by packet arrival, which follows capture time in
//! any ordinary capture; a flow's `last_seen` never moves backwards.

use super::Direction;
use super::config::{FlowConfig, FlowStats};
use super::event::{
    CloseReason, FlowEvent, FlowId, FlowInfo, FlowSink, RoleBasis, TunnelInfo, Verdict,
};
use super::key::{Endpoint, FlowKey, IpProtocol};
use super::roles::destination_is_server;
use super::tcp::{Chunk, SegmentView, StreamContext, StreamNote, TcpReassembler};
use crate::diag::{Diagnostic, Layer};
use crate::packet::{Packet, TcpSegment, Transport, UdpDatagram};
use crate::time::Timestamp;
use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

const LIST_TCP: usize = 0;
const LIST_UDP: usize = 1;
const LIST_CLOSED: usize = 2;

/// Both directions' worth of something.
#[derive(Debug, Clone, Default)]
struct PerDirection<T> {
    to_server: T,
    to_client: T,
}

impl<T> PerDirection<T> {
    fn get(&self, dir: Direction) -> &T {
        match dir {
            Direction::ToServer => &self.to_server,
            Direction::ToClient => &self.to_client,
        }
    }

    fn get_mut(&mut self, dir: Direction) -> &mut T {
        match dir {
            Direction::ToServer => &mut self.to_server,
            Direction::ToClient => &mut self.to_client,
        }
    }
}

const BOTH: [Direction; 2] = [Direction::ToServer, Direction::ToClient];

#[derive(Debug, Default)]
struct TcpConn {
    streams: PerDirection<TcpReassembler>,
    /// A half-close `Close` was sent for the direction.
    finished: PerDirection<bool>,
    /// A FIN was seen (used for ignored flows, whose streams are not tracked).
    fin_seen: PerDirection<bool>,
}

#[derive(Debug)]
enum FlowState {
    Tcp(Box<TcpConn>),
    Udp,
    /// A TCP flow that ended; kept for `closed_linger` to absorb late packets.
    Closed,
}

#[derive(Debug)]
struct Flow {
    info: FlowInfo,
    /// The keys the flow answers to: its first packet's, and the reverse direction's when a
    /// GTP-U bearer uses a different TEID that way.
    keys: [Option<FlowKey>; 2],
    /// Outer source of the first packet (GTP-U), to recognise the reverse direction.
    first_outer_src: Option<IpAddr>,
    /// Both outer directions have been seen (the flow no longer waits for a TEID pairing).
    tunnel_paired: bool,
    client: Endpoint,
    last_seen: Timestamp,
    ignored: bool,
    state: FlowState,
}

impl Flow {
    fn direction_of(&self, src: IpAddr, src_port: u16) -> Direction {
        if Endpoint::new(src, src_port) == self.client {
            Direction::ToServer
        } else {
            Direction::ToClient
        }
    }

    fn describe(&self) -> String {
        format!(
            "{} flow {} -> {}",
            self.info.protocol.as_str(),
            self.info.client,
            self.info.server
        )
    }
}

#[derive(Debug, Default)]
struct Slot {
    flow: Option<Flow>,
    prev: Option<usize>,
    next: Option<usize>,
    list: usize,
}

/// A doubly linked list through the slab: `head` is the most recently seen.
#[derive(Debug, Clone, Copy, Default)]
struct Lru {
    head: Option<usize>,
    tail: Option<usize>,
}

#[derive(Debug, Clone, Copy)]
enum DiagKind {
    Eviction,
    BufferCap,
    OverlapConflict,
    SynConflict,
}

impl DiagKind {
    const ALL: [DiagKind; 4] = [
        DiagKind::Eviction,
        DiagKind::BufferCap,
        DiagKind::OverlapConflict,
        DiagKind::SynConflict,
    ];

    fn layer(self) -> Layer {
        match self {
            DiagKind::Eviction | DiagKind::BufferCap => Layer::Limit,
            DiagKind::OverlapConflict | DiagKind::SynConflict => Layer::Tcp,
        }
    }

    fn plural(self) -> &'static str {
        match self {
            DiagKind::Eviction => "flow evictions",
            DiagKind::BufferCap => "reassembly buffer cap hits",
            DiagKind::OverlapConflict => "conflicting TCP overlaps",
            DiagKind::SynConflict => "conflicting SYNs",
        }
    }
}

/// Lists the first `limit` diagnostics of each kind and counts the rest.
#[derive(Debug, Default)]
struct DiagGate {
    limit: usize,
    emitted: [usize; 4],
    suppressed: [u64; 4],
}

impl DiagGate {
    fn emit(
        &mut self,
        kind: DiagKind,
        diags: &mut Vec<Diagnostic>,
        make: impl FnOnce() -> Diagnostic,
    ) {
        let k = kind as usize;
        if let Some(emitted) = self.emitted.get_mut(k)
            && *emitted < self.limit
        {
            *emitted += 1;
            diags.push(make());
        } else if let Some(suppressed) = self.suppressed.get_mut(k) {
            *suppressed = suppressed.saturating_add(1);
        }
    }

    fn summarise(&mut self, diags: &mut Vec<Diagnostic>) {
        for kind in DiagKind::ALL {
            let Some(suppressed) = self.suppressed.get_mut(kind as usize) else {
                continue;
            };
            if *suppressed > 0 {
                diags.push(Diagnostic::new(
                    kind.layer(),
                    format!(
                        "{} further {} not listed individually",
                        suppressed,
                        kind.plural()
                    ),
                ));
                *suppressed = 0;
            }
        }
    }
}

/// Tracks flows and turns packets into [`FlowEvent`]s.
/// Hash maps keyed by what a capture controls. foldhash is several times faster than SipHash and
/// randomly seeded per process, so crafted keys cannot be aimed at one bucket (hash flooding);
/// nothing iterates these maps, so the seed never shows in the output.
type FlowMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

#[derive(Debug)]
pub struct FlowTable {
    config: FlowConfig,
    slots: Vec<Slot>,
    free: Vec<usize>,
    index: FlowMap<FlowKey, usize>,
    /// GTP-U flows waiting for their reverse TEID, by key without TEID.
    unpaired: FlowMap<FlowKey, usize>,
    by_id: FlowMap<FlowId, usize>,
    lists: [Lru; 3],
    /// No list's oldest flow times out before this (nanoseconds): until then a packet need not
    /// look at the lists' tails. A lower bound, lowered to "now" whenever a tail changes.
    expire_after: i128,
    next_id: u64,
    now: Option<Timestamp>,
    last_frame: u64,
    cx: StreamContext,
    stats: FlowStats,
    gate: DiagGate,
}

impl Default for FlowTable {
    fn default() -> Self {
        Self::new(FlowConfig::default())
    }
}

impl FlowTable {
    pub fn new(config: FlowConfig) -> Self {
        let cx = StreamContext::new(config.max_buffer_per_direction, config.max_buffer_total);
        let gate = DiagGate {
            limit: config.max_diagnostics_per_kind,
            ..DiagGate::default()
        };
        FlowTable {
            config,
            slots: Vec::new(),
            free: Vec::new(),
            index: FlowMap::default(),
            unpaired: FlowMap::default(),
            by_id: FlowMap::default(),
            lists: [Lru::default(); 3],
            expire_after: i128::MIN,
            next_id: 1,
            now: None,
            last_frame: 0,
            cx,
            stats: FlowStats::default(),
            gate,
        }
    }

    pub fn config(&self) -> &FlowConfig {
        &self.config
    }

    /// Flows held now (open, or closed and lingering).
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Bytes held for TCP reassembly by all flows (payload plus per-segment overhead).
    pub fn buffered_bytes(&self) -> usize {
        self.cx.buffered_total
    }

    /// The description of a flow still held.
    pub fn flow_info(&self, flow: FlowId) -> Option<&FlowInfo> {
        let i = *self.by_id.get(&flow)?;
        self.flow_at(i).map(|f| &f.info)
    }

    pub fn stats(&self) -> FlowStats {
        let c = &self.cx.counters;
        FlowStats {
            bytes_delivered: c.bytes_delivered,
            gaps: c.gaps,
            gap_bytes: c.gap_bytes,
            duplicate_bytes: c.duplicate_bytes,
            overlap_conflicts: c.overlap_conflicts,
            keepalives: c.keepalives,
            buffer_cap_hits: c.buffer_cap_hits,
            buffered_bytes: self.cx.buffered_total,
            max_buffered_bytes: self.cx.max_buffered_total,
            flows_held: self.by_id.len(),
            ..self.stats
        }
    }

    /// Stops delivering a flow's bytes: later `Data`, `Gap` and `Datagram` events of the flow
    /// are skipped without copying, its held bytes are dropped; its `Close` still comes.
    /// Returns false when the flow is not held.
    pub fn ignore(&mut self, flow: FlowId) -> bool {
        let Some(&i) = self.by_id.get(&flow) else {
            return false;
        };
        let FlowTable {
            slots, cx, stats, ..
        } = self;
        let Some(f) = slots.get_mut(i).and_then(|s| s.flow.as_mut()) else {
            return false;
        };
        mark_ignored(f, cx, stats);
        true
    }

    /// Feeds one packet.
    pub fn push<S: FlowSink + ?Sized>(
        &mut self,
        pkt: &Packet<'_>,
        sink: &mut S,
        diags: &mut Vec<Diagnostic>,
    ) {
        self.push_keyed(pkt, FlowKey::from_packet(pkt), sink, diags);
    }

    /// [`FlowTable::push`] with the packet's key already computed (`FlowKey::from_packet`), as
    /// the pipeline does when it picks the packet's shard.
    pub fn push_keyed<S: FlowSink + ?Sized>(
        &mut self,
        pkt: &Packet<'_>,
        key: Option<FlowKey>,
        sink: &mut S,
        diags: &mut Vec<Diagnostic>,
    ) {
        self.stats.packets = self.stats.packets.saturating_add(1);
        self.last_frame = pkt.frame;
        let now = match self.now {
            Some(now) if now >= pkt.ts => now,
            _ => pkt.ts,
        };
        self.now = Some(now);
        if now.as_nanos() > self.expire_after {
            self.expire(now, pkt.frame, sink);
        }

        let Some(key) = key else {
            self.stats.packets_other_protocol = self.stats.packets_other_protocol.saturating_add(1);
            return;
        };
        let mut found = self.lookup(&key, pkt);
        if let Some(i) = found
            && self
                .flow_at(i)
                .is_some_and(|f| matches!(f.state, FlowState::Closed))
            && opens_connection(pkt)
        {
            // A new connection on the endpoints of one that ended.
            self.remove(i);
            found = None;
        }
        let i = match found {
            Some(i) => i,
            None => {
                if !creates_flow(pkt) {
                    self.stats.packets_without_flow =
                        self.stats.packets_without_flow.saturating_add(1);
                    return;
                }
                self.create(key, pkt, sink, diags)
            }
        };
        self.process(i, pkt, sink, diags);
        self.stats.max_flows_held = self.stats.max_flows_held.max(self.by_id.len());
    }

    /// Ends the input: every held byte is delivered (holes become gaps) and every open flow is
    /// closed with [`CloseReason::EndOfCapture`], in order of creation. Suppressed diagnostics
    /// are summarised.
    pub fn finish<S: FlowSink + ?Sized>(&mut self, sink: &mut S, diags: &mut Vec<Diagnostic>) {
        let mut held: Vec<(FlowId, usize)> = self.by_id.iter().map(|(id, i)| (*id, *i)).collect();
        held.sort_unstable();
        let frame = self.last_frame;
        let ts = self.now.unwrap_or_default();
        for (_, i) in held {
            let open = self
                .flow_at(i)
                .is_some_and(|f| !matches!(f.state, FlowState::Closed));
            if open {
                self.stats.flows_ended = self.stats.flows_ended.saturating_add(1);
                self.end_flow(i, CloseReason::EndOfCapture, frame, ts, sink);
            } else {
                self.remove(i);
            }
        }
        self.gate.summarise(diags);
    }

    fn flow_at(&self, i: usize) -> Option<&Flow> {
        self.slots.get(i).and_then(|s| s.flow.as_ref())
    }

    fn flow_at_mut(&mut self, i: usize) -> Option<&mut Flow> {
        self.slots.get_mut(i).and_then(|s| s.flow.as_mut())
    }

    fn lookup(&mut self, key: &FlowKey, pkt: &Packet<'_>) -> Option<usize> {
        if let Some(&i) = self.index.get(key) {
            return Some(i);
        }
        // The reverse direction of a GTP-U bearer carries another TEID: pair it with a flow
        // whose first packet went the opposite way through the same tunnel endpoints.
        let tunnel = pkt.tunnel.as_ref()?;
        let base = key.without_teid();
        let i = *self.unpaired.get(&base)?;
        let flow = self.flow_at_mut(i)?;
        if flow.first_outer_src != Some(tunnel.outer_dst) || tunnel.outer_src == tunnel.outer_dst {
            return None;
        }
        flow.keys[1] = Some(*key);
        flow.tunnel_paired = true;
        self.unpaired.remove(&base);
        self.index.insert(*key, i);
        Some(i)
    }

    fn create<S: FlowSink + ?Sized>(
        &mut self,
        key: FlowKey,
        pkt: &Packet<'_>,
        sink: &mut S,
        diags: &mut Vec<Diagnostic>,
    ) -> usize {
        let cap = self.config.max_flows.max(1);
        while self.by_id.len() >= cap {
            if !self.evict_one(pkt.frame, pkt.ts, sink, diags) {
                break;
            }
        }

        let (protocol, src_port, dst_port, flags) = match &pkt.transport {
            Transport::Tcp(seg) => (IpProtocol::Tcp, seg.src_port, seg.dst_port, Some(seg.flags)),
            Transport::Udp(d) => (IpProtocol::Udp, d.src_port, d.dst_port, None),
            Transport::Other { .. } => (IpProtocol::Udp, 0, 0, None),
        };
        let (src_is_client, role_basis) = match flags {
            Some(f) if f.syn() && !f.ack() => (true, RoleBasis::Syn),
            Some(f) if f.syn() => (false, RoleBasis::SynAck),
            _ => match destination_is_server(src_port, dst_port) {
                Some(dst_is_server) => (dst_is_server, RoleBasis::Port),
                None => (true, RoleBasis::FirstSender),
            },
        };
        let src = Endpoint::new(pkt.src, src_port);
        let dst = Endpoint::new(pkt.dst, dst_port);
        let (client, server) = if src_is_client {
            (src, dst)
        } else {
            (dst, src)
        };
        let tunnel = pkt.tunnel.map(|t| {
            let (outer_client, outer_server) = if src_is_client {
                (t.outer_src, t.outer_dst)
            } else {
                (t.outer_dst, t.outer_src)
            };
            TunnelInfo {
                teid: t.teid,
                outer_client,
                outer_server,
            }
        });
        let id = FlowId(self.next_id);
        self.next_id = self.next_id.saturating_add(1);
        let info = FlowInfo {
            id,
            key,
            protocol,
            client: client.socket_addr(),
            server: server.socket_addr(),
            vlan: pkt.vlan,
            tunnel,
            first_frame: pkt.frame,
            first_ts: pkt.ts,
            role_basis,
        };
        let (state, list) = match protocol {
            IpProtocol::Tcp => (FlowState::Tcp(Box::default()), LIST_TCP),
            IpProtocol::Udp => (FlowState::Udp, LIST_UDP),
        };
        let mut flow = Flow {
            info,
            keys: [Some(key), None],
            first_outer_src: pkt.tunnel.map(|t| t.outer_src),
            tunnel_paired: false,
            client,
            last_seen: pkt.ts,
            ignored: false,
            state,
        };
        self.stats.flows_seen = self.stats.flows_seen.saturating_add(1);
        match protocol {
            IpProtocol::Tcp => self.stats.tcp_flows = self.stats.tcp_flows.saturating_add(1),
            IpProtocol::Udp => self.stats.udp_flows = self.stats.udp_flows.saturating_add(1),
        }
        if sink.event(FlowEvent::Open {
            flow: id,
            info: &flow.info,
        }) == Verdict::Ignore
        {
            mark_ignored(&mut flow, &mut self.cx, &mut self.stats);
        }

        let i = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot::default());
                self.slots.len().saturating_sub(1)
            }
        };
        if let Some(slot) = self.slots.get_mut(i) {
            slot.flow = Some(flow);
        }
        self.index.insert(key, i);
        if key.tunnel.is_some() {
            self.unpaired.insert(key.without_teid(), i);
        }
        self.by_id.insert(id, i);
        self.push_front(i, list);
        i
    }

    fn process<S: FlowSink + ?Sized>(
        &mut self,
        i: usize,
        pkt: &Packet<'_>,
        sink: &mut S,
        diags: &mut Vec<Diagnostic>,
    ) {
        let FlowTable {
            slots,
            cx,
            stats,
            unpaired,
            ..
        } = self;
        let Some(flow) = slots.get_mut(i).and_then(|s| s.flow.as_mut()) else {
            return;
        };
        if matches!(flow.state, FlowState::Closed) {
            stats.packets_after_close = stats.packets_after_close.saturating_add(1);
            return;
        }
        flow.last_seen = flow.last_seen.max(pkt.ts);
        if !flow.tunnel_paired
            && let Some(t) = &pkt.tunnel
            && flow.first_outer_src != Some(t.outer_src)
        {
            // Both outer directions use this key (one TEID both ways): stop waiting for a pair.
            flow.tunnel_paired = true;
            if let Some(key) = flow.keys[0]
                && unpaired.get(&key.without_teid()) == Some(&i)
            {
                unpaired.remove(&key.without_teid());
            }
        }
        let closed = match &pkt.transport {
            Transport::Tcp(seg) => tcp_packet(flow, seg, pkt, cx, stats, sink),
            Transport::Udp(dgram) => {
                udp_datagram(flow, dgram, pkt, cx, stats, sink);
                None
            }
            Transport::Other { .. } => None,
        };
        if !cx.notes.is_empty() {
            let what = flow.describe();
            for note in cx.notes.drain(..) {
                note_diagnostic(&mut self.gate, diags, &what, note);
            }
        }
        match closed {
            Some(reason) => {
                match reason {
                    CloseReason::Rst => {
                        self.stats.flows_closed_rst = self.stats.flows_closed_rst.saturating_add(1);
                    }
                    _ => {
                        self.stats.flows_closed_fin = self.stats.flows_closed_fin.saturating_add(1);
                    }
                }
                if let Some(flow) = self.slots.get_mut(i).and_then(|s| s.flow.as_mut()) {
                    if let FlowState::Tcp(conn) = &mut flow.state {
                        for dir in BOTH {
                            conn.streams.get_mut(dir).discard(&mut self.cx);
                        }
                    }
                    flow.state = FlowState::Closed;
                    // Linger counts from the close.
                    flow.last_seen = self.now.unwrap_or(pkt.ts).max(flow.last_seen);
                }
                self.unlink(i);
                self.push_front(i, LIST_CLOSED);
            }
            None => self.touch(i),
        }
    }

    /// Closes flows idle longer than their timeout, oldest first.
    fn expire<S: FlowSink + ?Sized>(&mut self, now: Timestamp, frame: u64, sink: &mut S) {
        let mut after = i128::MAX;
        for (list, timeout) in [
            (LIST_TCP, self.config.tcp_idle_timeout),
            (LIST_UDP, self.config.udp_idle_timeout),
            (LIST_CLOSED, self.config.closed_linger),
        ] {
            let limit = duration_nanos(timeout);
            while let Some(tail) = self.lists.get(list).and_then(|l| l.tail) {
                let Some(flow) = self.flow_at(tail) else {
                    // Unreachable: listed slots hold flows. Unlink to guarantee progress.
                    self.unlink(tail);
                    continue;
                };
                if now.as_nanos().saturating_sub(flow.last_seen.as_nanos()) <= limit {
                    after = after.min(flow.last_seen.as_nanos().saturating_add(limit));
                    break;
                }
                if list == LIST_CLOSED {
                    self.remove(tail);
                } else {
                    self.stats.flows_expired = self.stats.flows_expired.saturating_add(1);
                    self.end_flow(tail, CloseReason::IdleTimeout, frame, now, sink);
                }
            }
        }
        // The tails as the loop left them: any change after this lowers the bound again.
        self.expire_after = after;
    }

    /// Makes room for one flow: drops the longest-lingering closed flow, else evicts the open
    /// flow idle longest. Returns false when the table is empty.
    fn evict_one<S: FlowSink + ?Sized>(
        &mut self,
        frame: u64,
        ts: Timestamp,
        sink: &mut S,
        diags: &mut Vec<Diagnostic>,
    ) -> bool {
        if let Some(tail) = self.lists.get(LIST_CLOSED).and_then(|l| l.tail) {
            self.remove(tail);
            return true;
        }
        let tail_seen = |table: &Self, list: usize| {
            let tail = table.lists.get(list).and_then(|l| l.tail)?;
            Some((table.flow_at(tail).map(|f| f.last_seen), tail))
        };
        let victim = match (tail_seen(self, LIST_TCP), tail_seen(self, LIST_UDP)) {
            (Some(tcp), Some(udp)) => Some(if udp.0 < tcp.0 { udp.1 } else { tcp.1 }),
            (Some(one), None) | (None, Some(one)) => Some(one.1),
            (None, None) => None,
        };
        let Some(victim) = victim else {
            return false;
        };
        self.stats.flows_evicted = self.stats.flows_evicted.saturating_add(1);
        if let Some(flow) = self.flow_at(victim) {
            let max_flows = self.config.max_flows;
            let what = flow.describe();
            let since = flow.last_seen;
            self.gate.emit(DiagKind::Eviction, diags, || {
                Diagnostic::new(
                    Layer::Limit,
                    format!(
                        "flow table full (max_flows = {max_flows}): evicted {what}, idle since \
                         {since}; its streams are incomplete"
                    ),
                )
                .at_frame(frame)
            });
        }
        self.end_flow(victim, CloseReason::Evicted, frame, ts, sink);
        true
    }

    /// Flushes a flow's streams, sends its final `Close` and forgets it.
    fn end_flow<S: FlowSink + ?Sized>(
        &mut self,
        i: usize,
        reason: CloseReason,
        frame: u64,
        ts: Timestamp,
        sink: &mut S,
    ) {
        let FlowTable {
            slots, cx, stats, ..
        } = self;
        if let Some(flow) = slots.get_mut(i).and_then(|s| s.flow.as_mut()) {
            let id = flow.info.id;
            let was_ignored = flow.ignored;
            if let FlowState::Tcp(conn) = &mut flow.state {
                for dir in BOTH {
                    let stream = conn.streams.get_mut(dir);
                    if !flow.ignored {
                        let mut out = chunk_emitter(id, dir, &mut flow.ignored, sink);
                        stream.flush(frame, ts, cx, &mut out);
                    }
                    stream.discard(cx);
                }
            }
            if !matches!(flow.state, FlowState::Closed) {
                sink.event(FlowEvent::Close {
                    flow: id,
                    dir: None,
                    reason,
                    frame,
                    ts,
                });
            }
            if flow.ignored && !was_ignored {
                stats.flows_ignored = stats.flows_ignored.saturating_add(1);
            }
        }
        self.remove(i);
    }

    fn remove(&mut self, i: usize) {
        self.unlink(i);
        let Some(flow) = self.slots.get_mut(i).and_then(|s| s.flow.take()) else {
            return;
        };
        if let FlowState::Tcp(mut conn) = flow.state {
            for dir in BOTH {
                conn.streams.get_mut(dir).discard(&mut self.cx);
            }
        }
        for key in flow.keys.into_iter().flatten() {
            self.index.remove(&key);
            let base = key.without_teid();
            if self.unpaired.get(&base) == Some(&i) {
                self.unpaired.remove(&base);
            }
        }
        self.by_id.remove(&flow.info.id);
        self.free.push(i);
    }

    fn unlink(&mut self, i: usize) {
        let Some(slot) = self.slots.get(i) else {
            return;
        };
        let (prev, next, list) = (slot.prev, slot.next, slot.list);
        let Some(lru) = self.lists.get(list).copied() else {
            return;
        };
        let listed = prev.is_some() || next.is_some() || lru.head == Some(i);
        if !listed {
            return;
        }
        if next.is_none() {
            // The tail leaves: the next oldest may time out sooner.
            self.expire_after = i128::MIN;
        }
        match prev {
            Some(p) => {
                if let Some(s) = self.slots.get_mut(p) {
                    s.next = next;
                }
            }
            None => {
                if let Some(l) = self.lists.get_mut(list) {
                    l.head = next;
                }
            }
        }
        match next {
            Some(n) => {
                if let Some(s) = self.slots.get_mut(n) {
                    s.prev = prev;
                }
            }
            None => {
                if let Some(l) = self.lists.get_mut(list) {
                    l.tail = prev;
                }
            }
        }
        if let Some(slot) = self.slots.get_mut(i) {
            slot.prev = None;
            slot.next = None;
        }
    }

    fn push_front(&mut self, i: usize, list: usize) {
        let Some(lru) = self.lists.get(list).copied() else {
            return;
        };
        if let Some(slot) = self.slots.get_mut(i) {
            slot.prev = None;
            slot.next = lru.head;
            slot.list = list;
        }
        if let Some(h) = lru.head
            && let Some(s) = self.slots.get_mut(h)
        {
            s.prev = Some(i);
        }
        if let Some(l) = self.lists.get_mut(list) {
            l.head = Some(i);
            if l.tail.is_none() {
                l.tail = Some(i);
                self.expire_after = i128::MIN;
            }
        }
    }

    /// Marks a flow as just seen.
    fn touch(&mut self, i: usize) {
        let Some(slot) = self.slots.get(i) else {
            return;
        };
        let list = slot.list;
        if self.lists.get(list).and_then(|l| l.head) == Some(i) {
            return;
        }
        self.unlink(i);
        self.push_front(i, list);
    }
}

fn mark_ignored(flow: &mut Flow, cx: &mut StreamContext, stats: &mut FlowStats) {
    if flow.ignored {
        return;
    }
    flow.ignored = true;
    stats.flows_ignored = stats.flows_ignored.saturating_add(1);
    if let FlowState::Tcp(conn) = &mut flow.state {
        for dir in BOTH {
            conn.streams.get_mut(dir).discard(cx);
        }
    }
}

/// Turns reassembler output into flow events; stops at the sink's first `Ignore`.
fn chunk_emitter<'s, S: FlowSink + ?Sized>(
    flow: FlowId,
    dir: Direction,
    ignored: &'s mut bool,
    sink: &'s mut S,
) -> impl FnMut(Chunk<'_>) + 's {
    move |chunk| {
        if *ignored {
            return;
        }
        let ev = match chunk {
            Chunk::Data { bytes, frame, ts } => FlowEvent::Data {
                flow,
                dir,
                bytes,
                frame,
                ts,
            },
            Chunk::Gap { len, frame, ts } => FlowEvent::Gap {
                flow,
                dir,
                len,
                frame,
                ts,
            },
        };
        if sink.event(ev) == Verdict::Ignore {
            *ignored = true;
        }
    }
}

/// Runs one TCP segment through its flow. Returns the reason when the flow ended.
fn tcp_packet<S: FlowSink + ?Sized>(
    flow: &mut Flow,
    seg: &TcpSegment<'_>,
    pkt: &Packet<'_>,
    cx: &mut StreamContext,
    stats: &mut FlowStats,
    sink: &mut S,
) -> Option<CloseReason> {
    let dir = flow.direction_of(pkt.src, seg.src_port);
    let id = flow.info.id;
    let (frame, ts) = (pkt.frame, pkt.ts);
    let was_ignored = flow.ignored;
    let FlowState::Tcp(conn) = &mut flow.state else {
        return None;
    };
    if flow.ignored {
        stats.bytes_ignored = stats
            .bytes_ignored
            .saturating_add(u64::try_from(seg.payload.len()).unwrap_or(0));
    }
    if seg.flags.rst() {
        if !flow.ignored {
            for d in BOTH {
                let mut out = chunk_emitter(id, d, &mut flow.ignored, sink);
                conn.streams.get_mut(d).flush(frame, ts, cx, &mut out);
            }
        }
        sink.event(FlowEvent::Close {
            flow: id,
            dir: None,
            reason: CloseReason::Rst,
            frame,
            ts,
        });
        return Some(CloseReason::Rst);
    }
    if !flow.ignored {
        if seg.flags.ack() {
            let mut out = chunk_emitter(id, dir.reverse(), &mut flow.ignored, sink);
            conn.streams
                .get_mut(dir.reverse())
                .peer_ack(seg.ack, frame, ts, cx, &mut out);
        }
        let view = SegmentView {
            seq: seg.seq,
            syn: seg.flags.syn(),
            fin: seg.flags.fin(),
            payload: &seg.payload,
            frame,
            ts,
        };
        let mut out = chunk_emitter(id, dir, &mut flow.ignored, sink);
        conn.streams.get_mut(dir).segment(&view, cx, &mut out);
    }
    if seg.flags.fin() {
        *conn.fin_seen.get_mut(dir) = true;
    }
    if flow.ignored && !was_ignored {
        stats.flows_ignored = stats.flows_ignored.saturating_add(1);
        for d in BOTH {
            conn.streams.get_mut(d).discard(cx);
        }
    }
    for d in BOTH {
        let done = if flow.ignored {
            *conn.fin_seen.get(d)
        } else {
            conn.streams.get(d).is_finished()
        };
        if done && !*conn.finished.get(d) {
            *conn.finished.get_mut(d) = true;
            sink.event(FlowEvent::Close {
                flow: id,
                dir: Some(d),
                reason: CloseReason::Fin,
                frame,
                ts,
            });
        }
    }
    if conn.finished.to_server && conn.finished.to_client {
        sink.event(FlowEvent::Close {
            flow: id,
            dir: None,
            reason: CloseReason::Fin,
            frame,
            ts,
        });
        return Some(CloseReason::Fin);
    }
    None
}

fn udp_datagram<S: FlowSink + ?Sized>(
    flow: &mut Flow,
    dgram: &UdpDatagram<'_>,
    pkt: &Packet<'_>,
    cx: &mut StreamContext,
    stats: &mut FlowStats,
    sink: &mut S,
) {
    let len = u64::try_from(dgram.payload.len()).unwrap_or(0);
    if flow.ignored {
        stats.bytes_ignored = stats.bytes_ignored.saturating_add(len);
        return;
    }
    let dir = flow.direction_of(pkt.src, dgram.src_port);
    stats.datagrams_delivered = stats.datagrams_delivered.saturating_add(1);
    stats.datagram_bytes_delivered = stats.datagram_bytes_delivered.saturating_add(len);
    let verdict = sink.event(FlowEvent::Datagram {
        flow: flow.info.id,
        dir,
        bytes: &dgram.payload,
        frame: pkt.frame,
        ts: pkt.ts,
        truncated: pkt.truncated,
        fragment_frames: &pkt.fragment_frames,
    });
    if verdict == Verdict::Ignore {
        mark_ignored(flow, cx, stats);
    }
}

fn note_diagnostic(gate: &mut DiagGate, diags: &mut Vec<Diagnostic>, what: &str, note: StreamNote) {
    match note {
        StreamNote::OverlapConflict { offset, len, frame } => {
            gate.emit(DiagKind::OverlapConflict, diags, || {
                Diagnostic::new(
                    Layer::Tcp,
                    format!(
                        "{what}: {len} overlapping bytes at stream offset {offset} differ from \
                         the copy already held (possible evasion); the first copy was kept"
                    ),
                )
                .at_frame(frame)
            });
        }
        StreamNote::BufferCap { gap, frame, total } => {
            gate.emit(DiagKind::BufferCap, diags, || {
                let which = if total {
                    "total reassembly buffer"
                } else {
                    "per-direction reassembly buffer"
                };
                Diagnostic::new(
                    Layer::Limit,
                    format!(
                        "{what}: {which} cap reached; {gap} missing bytes declared a gap, \
                         the stream is incomplete"
                    ),
                )
                .at_frame(frame)
            });
        }
        StreamNote::SynConflict { frame } => {
            gate.emit(DiagKind::SynConflict, diags, || {
                Diagnostic::new(
                    Layer::Tcp,
                    format!("{what}: SYN with a new initial sequence number after data; ignored"),
                )
                .at_frame(frame)
            });
        }
    }
}

/// A TCP SYN without ACK: the start of a new connection.
fn opens_connection(pkt: &Packet<'_>) -> bool {
    matches!(&pkt.transport, Transport::Tcp(seg) if seg.flags.syn() && !seg.flags.ack())
}

/// Packets that may start a flow: UDP, TCP SYN, or TCP carrying payload (mid-stream start).
/// Stray ACKs, FINs and RSTs of unknown connections start nothing.
fn creates_flow(pkt: &Packet<'_>) -> bool {
    match &pkt.transport {
        Transport::Udp(_) => true,
        Transport::Tcp(seg) => (seg.flags.syn() || !seg.payload.is_empty()) && !seg.flags.rst(),
        Transport::Other { .. } => false,
    }
}

fn duration_nanos(d: Duration) -> i128 {
    i128::try_from(d.as_nanos()).unwrap_or(i128::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flow::Verdict;
    use crate::packet::{TcpFlags, VlanTags};
    use proptest::prelude::*;
    use std::borrow::Cow;
    use std::net::Ipv4Addr;

    /// Every event, written out.
    #[derive(Default)]
    struct Log(Vec<String>);

    impl FlowSink for Log {
        fn event(&mut self, ev: FlowEvent<'_>) -> Verdict {
            self.0.push(format!("{ev:?}"));
            Verdict::Continue
        }
    }

    /// One packet of a small world of hosts and ports, at `secs` (which may go backwards).
    fn packet(frame: u64, secs: i64, pick: (u8, u8, u8, bool)) -> Packet<'static> {
        let (host, port, flags, udp) = pick;
        let client = IpAddr::V4(Ipv4Addr::new(192, 0, 2, host % 4));
        let server = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 1));
        let (src, dst, src_port, dst_port) = if flags & 0x40 == 0 {
            (client, server, 40_000 + u16::from(port % 3), 80)
        } else {
            (server, client, 80, 40_000 + u16::from(port % 3))
        };
        let transport = if udp {
            Transport::Udp(UdpDatagram {
                src_port,
                dst_port: dst_port + 1,
                payload: Cow::Borrowed(b"datagram"),
            })
        } else {
            Transport::Tcp(TcpSegment {
                src_port,
                dst_port,
                seq: u32::from(port) * 1000,
                ack: 1,
                // SYN, ACK, FIN, RST in any mix.
                flags: TcpFlags(
                    flags & (TcpFlags::SYN | TcpFlags::ACK | TcpFlags::FIN | TcpFlags::RST),
                ),
                window: 1024,
                payload: Cow::Borrowed(b"abc"),
            })
        };
        Packet {
            frame,
            ts: Timestamp::new(1_700_000_000 + secs, 0, 6),
            vlan: VlanTags::default(),
            tunnel: None,
            src,
            dst,
            transport,
            truncated: false,
            fragment_frames: Vec::new(),
        }
    }

    proptest! {
        /// Skipping the timeout check while no list's oldest flow can have timed out changes
        /// nothing: the same events, in the same order, as checking on every packet, whatever
        /// the order of the timestamps.
        #[test]
        fn timeouts_checked_only_when_due_expire_as_when_checked_always(
            steps in proptest::collection::vec(
                (-3i64..12, any::<u8>(), any::<u8>(), any::<u8>(), any::<bool>()),
                1..120,
            )
        ) {
            let config = FlowConfig {
                tcp_idle_timeout: Duration::from_secs(10),
                udp_idle_timeout: Duration::from_secs(5),
                closed_linger: Duration::from_secs(2),
                ..FlowConfig::default()
            };
            let (mut lazy, mut always) = (FlowTable::new(config.clone()), FlowTable::new(config));
            let (mut lazy_log, mut always_log) = (Log::default(), Log::default());
            let mut diags = Vec::new();
            let mut secs = 0i64;
            for (frame, (step, host, port, flags, udp)) in steps.into_iter().enumerate() {
                secs += step;
                let pkt = packet(frame as u64 + 1, secs, (host, port, flags, udp));
                let key = FlowKey::from_packet(&pkt);
                lazy.push_keyed(&pkt, key, &mut lazy_log, &mut diags);
                always.expire_after = i128::MIN;
                always.push_keyed(&pkt, key, &mut always_log, &mut diags);
            }
            prop_assert_eq!(&lazy_log.0, &always_log.0);
            prop_assert_eq!(lazy.stats(), always.stats());
            lazy.finish(&mut lazy_log, &mut diags);
            always.finish(&mut always_log, &mut diags);
            prop_assert_eq!(lazy_log.0, always_log.0);
        }
    }
}
