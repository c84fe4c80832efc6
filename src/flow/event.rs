//! What the flow stage tells the protocol layer: flows opening and closing, stream bytes in
//! order (each [`FlowEvent::Data`] from exactly one frame), explicit gaps, and datagrams.
//! Protocol parsers see these events, never packets.

use super::Direction;
use super::key::{FlowKey, IpProtocol};
use crate::packet::VlanTags;
use crate::time::Timestamp;
use std::net::{IpAddr, SocketAddr};

/// A flow's number, unique within one [`super::FlowTable`] and given in order of creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowId(pub u64);

/// The GTP-U tunnel a flow was seen in, oriented by the flow's roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunnelInfo {
    /// The TEID of the flow's first packet.
    pub teid: u32,
    /// The outer address on the client's side of the tunnel.
    pub outer_client: IpAddr,
    /// The outer address on the server's side of the tunnel.
    pub outer_server: IpAddr,
}

/// How the client and server roles of a flow were decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RoleBasis {
    /// The first packet was a SYN without ACK: its sender is the client.
    Syn,
    /// The first packet was a SYN+ACK: its sender is the server.
    SynAck,
    /// Mid-stream or UDP: one side uses a well-known service port (or a port below 1024 against
    /// an ephemeral one) and is taken as the server.
    Port,
    /// Nothing better: the sender of the first packet seen is taken as the client.
    FirstSender,
}

/// A flow as known when it opens; the roles never change afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowInfo {
    pub id: FlowId,
    /// The key of the flow's first packet.
    pub key: FlowKey,
    pub protocol: IpProtocol,
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub vlan: VlanTags,
    pub tunnel: Option<TunnelInfo>,
    pub first_frame: u64,
    pub first_ts: Timestamp,
    pub role_basis: RoleBasis,
}

impl FlowInfo {
    /// True when the flow was seen from its TCP handshake (bytes start at the beginning).
    pub fn handshake_seen(&self) -> bool {
        matches!(self.role_basis, RoleBasis::Syn | RoleBasis::SynAck)
    }
}

/// Why a flow (or one direction of it) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// A FIN was reached after all bytes before it were delivered (or declared gaps).
    Fin,
    /// A RST was seen.
    Rst,
    /// No packet for the configured idle time (capture time).
    IdleTimeout,
    /// The flow table was full and this flow had been idle longest. Always incomplete.
    Evicted,
    /// The input ended with the flow still open.
    EndOfCapture,
}

impl CloseReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::Fin => "fin",
            CloseReason::Rst => "rst",
            CloseReason::IdleTimeout => "idle-timeout",
            CloseReason::Evicted => "evicted",
            CloseReason::EndOfCapture => "end-of-capture",
        }
    }
}

/// One event of a flow, borrowing from the packet or the reassembly buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowEvent<'a> {
    /// A new flow. Always the flow's first event.
    Open { flow: FlowId, info: &'a FlowInfo },
    /// TCP bytes, in stream order, all from the one frame `frame`.
    Data {
        flow: FlowId,
        dir: Direction,
        bytes: &'a [u8],
        frame: u64,
        ts: Timestamp,
    },
    /// `len` stream bytes that were not captured and can no longer arrive; the next `Data` of
    /// this direction continues after them. `frame` is where the loss became certain.
    Gap {
        flow: FlowId,
        dir: Direction,
        len: u64,
        frame: u64,
        ts: Timestamp,
    },
    /// One UDP datagram's payload.
    Datagram {
        flow: FlowId,
        dir: Direction,
        bytes: &'a [u8],
        frame: u64,
        ts: Timestamp,
        /// The capture cut the datagram short (snaplen) or its headers claimed more.
        truncated: bool,
        /// The other frames of an IP-fragmented datagram (empty when it was not fragmented).
        fragment_frames: &'a [u64],
    },
    /// With `dir: Some(d)`: direction `d` ended (TCP half-close; the other may go on).
    /// With `dir: None`: the flow ended; it is the flow's last event.
    Close {
        flow: FlowId,
        dir: Option<Direction>,
        reason: CloseReason,
        frame: u64,
        ts: Timestamp,
    },
}

impl FlowEvent<'_> {
    pub fn flow(&self) -> FlowId {
        match self {
            FlowEvent::Open { flow, .. }
            | FlowEvent::Data { flow, .. }
            | FlowEvent::Gap { flow, .. }
            | FlowEvent::Datagram { flow, .. }
            | FlowEvent::Close { flow, .. } => *flow,
        }
    }
}

/// A sink's answer to an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Verdict {
    /// Keep sending this flow's events.
    #[default]
    Continue,
    /// Stop sending this flow's `Data`, `Gap` and `Datagram` events (its bytes are then skipped
    /// without being copied or buffered); its `Close` still follows.
    Ignore,
}

/// The receiver of flow events (the protocol layer).
pub trait FlowSink {
    fn event(&mut self, ev: FlowEvent<'_>) -> Verdict;
}

/// An owned copy of a [`FlowEvent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordedEvent {
    Open(FlowInfo),
    Data {
        flow: FlowId,
        dir: Direction,
        bytes: Vec<u8>,
        frame: u64,
        ts: Timestamp,
    },
    Gap {
        flow: FlowId,
        dir: Direction,
        len: u64,
        frame: u64,
        ts: Timestamp,
    },
    Datagram {
        flow: FlowId,
        dir: Direction,
        bytes: Vec<u8>,
        frame: u64,
        ts: Timestamp,
        truncated: bool,
    },
    Close {
        flow: FlowId,
        dir: Option<Direction>,
        reason: CloseReason,
        frame: u64,
        ts: Timestamp,
    },
}

impl From<FlowEvent<'_>> for RecordedEvent {
    fn from(ev: FlowEvent<'_>) -> Self {
        match ev {
            FlowEvent::Open { info, .. } => RecordedEvent::Open(info.clone()),
            FlowEvent::Data {
                flow,
                dir,
                bytes,
                frame,
                ts,
            } => RecordedEvent::Data {
                flow,
                dir,
                bytes: bytes.to_vec(),
                frame,
                ts,
            },
            FlowEvent::Gap {
                flow,
                dir,
                len,
                frame,
                ts,
            } => RecordedEvent::Gap {
                flow,
                dir,
                len,
                frame,
                ts,
            },
            FlowEvent::Datagram {
                flow,
                dir,
                bytes,
                frame,
                ts,
                truncated,
                ..
            } => RecordedEvent::Datagram {
                flow,
                dir,
                bytes: bytes.to_vec(),
                frame,
                ts,
                truncated,
            },
            FlowEvent::Close {
                flow,
                dir,
                reason,
                frame,
                ts,
            } => RecordedEvent::Close {
                flow,
                dir,
                reason,
                frame,
                ts,
            },
        }
    }
}

/// A sink that keeps a copy of every event (for tests, `inspect`, and small captures).
#[derive(Debug, Clone, Default)]
pub struct EventRecorder {
    pub events: Vec<RecordedEvent>,
}

/// A piece of one direction's stream as recorded: bytes, or a gap of a length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamPiece {
    Bytes(Vec<u8>),
    Gap(u64),
}

impl EventRecorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The bytes delivered for one direction of a flow, gaps left out.
    pub fn stream(&self, flow: FlowId, dir: Direction) -> Vec<u8> {
        let mut out = Vec::new();
        for ev in &self.events {
            if let RecordedEvent::Data {
                flow: f,
                dir: d,
                bytes,
                ..
            } = ev
                && *f == flow
                && *d == dir
            {
                out.extend_from_slice(bytes);
            }
        }
        out
    }

    /// One direction of a flow as runs of bytes and gaps (adjacent data merged).
    pub fn pieces(&self, flow: FlowId, dir: Direction) -> Vec<StreamPiece> {
        let mut out: Vec<StreamPiece> = Vec::new();
        for ev in &self.events {
            match ev {
                RecordedEvent::Data {
                    flow: f,
                    dir: d,
                    bytes,
                    ..
                } if *f == flow && *d == dir => {
                    if let Some(StreamPiece::Bytes(last)) = out.last_mut() {
                        last.extend_from_slice(bytes);
                    } else {
                        out.push(StreamPiece::Bytes(bytes.clone()));
                    }
                }
                RecordedEvent::Gap {
                    flow: f,
                    dir: d,
                    len,
                    ..
                } if *f == flow && *d == dir => {
                    if let Some(StreamPiece::Gap(last)) = out.last_mut() {
                        *last = last.saturating_add(*len);
                    } else {
                        out.push(StreamPiece::Gap(*len));
                    }
                }
                _ => {}
            }
        }
        out
    }

    /// The flows opened, in order.
    pub fn opened(&self) -> Vec<&FlowInfo> {
        self.events
            .iter()
            .filter_map(|ev| match ev {
                RecordedEvent::Open(info) => Some(info),
                _ => None,
            })
            .collect()
    }

    /// The close events of a flow as `(dir, reason)`, in order.
    pub fn closes(&self, flow: FlowId) -> Vec<(Option<Direction>, CloseReason)> {
        self.events
            .iter()
            .filter_map(|ev| match ev {
                RecordedEvent::Close {
                    flow: f,
                    dir,
                    reason,
                    ..
                } if *f == flow => Some((*dir, *reason)),
                _ => None,
            })
            .collect()
    }
}

impl FlowSink for EventRecorder {
    fn event(&mut self, ev: FlowEvent<'_>) -> Verdict {
        self.events.push(ev.into());
        Verdict::Continue
    }
}
