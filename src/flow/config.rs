//! Settings and counters of the flow stage.

use std::time::Duration;

/// Caps and timeouts of a [`super::FlowTable`]. Every field is settable; [`Default`] gives values
/// suited to captures of a busy link on an ordinary machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowConfig {
    /// Flows held at once; the flow idle longest (by capture time) is evicted to make room.
    pub max_flows: usize,
    /// A TCP flow with no packet for this long (capture time) is closed.
    pub tcp_idle_timeout: Duration,
    /// A UDP flow with no packet for this long (capture time) is closed.
    pub udp_idle_timeout: Duration,
    /// A closed TCP flow is remembered this long so late retransmissions and ACKs are absorbed
    /// instead of opening a new mid-stream flow.
    pub closed_linger: Duration,
    /// Out-of-order bytes held per direction. Each held segment also counts
    /// [`super::tcp::PIECE_OVERHEAD`] bytes of bookkeeping, so tiny segments cannot exhaust memory.
    pub max_buffer_per_direction: usize,
    /// Out-of-order bytes held by all flows together (counted like `max_buffer_per_direction`).
    pub max_buffer_total: usize,
    /// Diagnostics of one kind (eviction, buffer cap, overlap conflict, ...) listed
    /// individually; the rest are counted and summarised in one diagnostic at the end.
    pub max_diagnostics_per_kind: usize,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: 100_000,
            tcp_idle_timeout: Duration::from_secs(600),
            udp_idle_timeout: Duration::from_secs(120),
            closed_linger: Duration::from_secs(30),
            max_buffer_per_direction: 1 << 20,
            max_buffer_total: 256 << 20,
            max_diagnostics_per_kind: 100,
        }
    }
}

/// Counters of a [`super::FlowTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlowStats {
    /// Packets pushed.
    pub packets: u64,
    /// Packets that were neither TCP nor UDP.
    pub packets_other_protocol: u64,
    /// TCP packets without payload or SYN that matched no flow (stray ACK, FIN or RST).
    pub packets_without_flow: u64,
    /// Packets that arrived for a flow already closed (late retransmissions, final ACKs).
    pub packets_after_close: u64,
    /// Flows created.
    pub flows_seen: u64,
    pub tcp_flows: u64,
    pub udp_flows: u64,
    /// Flows the sink asked to ignore.
    pub flows_ignored: u64,
    pub flows_closed_fin: u64,
    pub flows_closed_rst: u64,
    pub flows_expired: u64,
    /// Open flows evicted because the table was full.
    pub flows_evicted: u64,
    /// Flows still open at the end of the input.
    pub flows_ended: u64,
    /// Flows held now (open or lingering after close).
    pub flows_held: usize,
    /// The most flows held at once.
    pub max_flows_held: usize,
    /// TCP payload bytes delivered in `Data` events.
    pub bytes_delivered: u64,
    /// UDP datagrams delivered and their payload bytes.
    pub datagrams_delivered: u64,
    pub datagram_bytes_delivered: u64,
    /// Payload bytes skipped because the flow was ignored.
    pub bytes_ignored: u64,
    /// Gap events and the bytes they cover.
    pub gaps: u64,
    pub gap_bytes: u64,
    /// TCP bytes received more than once (retransmissions, overlaps) and dropped.
    pub duplicate_bytes: u64,
    /// Overlapping TCP bytes that differed from the copy already held (the first copy was kept).
    pub overlap_conflicts: u64,
    /// TCP keep-alive probes ignored.
    pub keepalives: u64,
    /// Times a buffer cap forced a gap.
    pub buffer_cap_hits: u64,
    /// Bytes held for reassembly now and at most (including per-segment bookkeeping).
    pub buffered_bytes: usize,
    pub max_buffered_bytes: usize,
}
