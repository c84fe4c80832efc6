//! Stage 3 — flow: packets → streams.
//!
//! A symmetric flow key, a flow table with idle timeout by capture time and hard caps, TCP
//! reassembly per direction and UDP datagram streams, delivered to the protocol layer as events.
//!
//! ```text
//! Packet ──► FlowTable::push ──► FlowKey (key.rs) ──► flow (table.rs)
//!                                   TCP: TcpReassembler per direction (tcp.rs)
//!                                   UDP: one Datagram event per datagram
//!                               ──► FlowSink::event(FlowEvent) (event.rs)
//! ```
//!
//! Every `Data` event carries bytes of exactly one frame, so each byte keeps the frame number
//! it arrived in. Lost bytes are explicit `Gap` events; caps and evictions are diagnostics.

pub mod config;
pub mod event;
pub mod key;
pub mod roles;
pub mod table;
pub mod tcp;

pub use config::{FlowConfig, FlowStats};
pub use event::{
    CloseReason, EventRecorder, FlowEvent, FlowId, FlowInfo, FlowSink, RecordedEvent, RoleBasis,
    StreamPiece, TunnelInfo, Verdict,
};
pub use key::{Endpoint, FlowKey, IpProtocol, TunnelKey};
pub use table::FlowTable;
pub use tcp::TcpReassembler;

/// Which way bytes travel within a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Direction {
    /// From the client (the side that opened the connection, or sent the first request).
    ToServer,
    /// From the server back to the client.
    ToClient,
}

impl Direction {
    pub fn reverse(self) -> Self {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::ToServer => "to-server",
            Direction::ToClient => "to-client",
        }
    }
}
