//! Stage 3 — flow: packets → streams.
//!
//! A symmetric flow key, a flow table with idle timeout by capture time and hard caps, TCP
//! reassembly per direction and UDP datagram streams, delivered to the protocol layer as events.

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
