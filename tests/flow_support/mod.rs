//! Builds packets for the flow tests and runs them through a table.
#![allow(dead_code)]

use mmsleak::diag::Diagnostic;
use mmsleak::flow::{EventRecorder, FlowConfig, FlowId, FlowTable};
use mmsleak::packet::{Packet, TcpFlags, TcpSegment, Transport, Tunnel, UdpDatagram, VlanTags};
use mmsleak::time::Timestamp;
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};

pub const SYN: u8 = TcpFlags::SYN;
pub const ACK: u8 = TcpFlags::ACK;
pub const FIN: u8 = TcpFlags::FIN;
pub const RST: u8 = TcpFlags::RST;
pub const PSH: u8 = TcpFlags::PSH;

pub fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

#[allow(clippy::too_many_arguments)]
pub fn tcp_packet(
    frame: u64,
    secs: i64,
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    seq: u32,
    ack: u32,
    flags: u8,
    window: u16,
    payload: &[u8],
) -> Packet<'static> {
    Packet {
        frame,
        ts: Timestamp::new(secs, 0, 6),
        vlan: VlanTags::default(),
        tunnel: None,
        src: src.0,
        dst: dst.0,
        transport: Transport::Tcp(TcpSegment {
            src_port: src.1,
            dst_port: dst.1,
            seq,
            ack,
            flags: TcpFlags(flags),
            window,
            payload: Cow::Owned(payload.to_vec()),
        }),
        truncated: false,
        fragment_frames: Vec::new(),
    }
}

pub fn udp_packet(
    frame: u64,
    secs: i64,
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    payload: &[u8],
) -> Packet<'static> {
    Packet {
        frame,
        ts: Timestamp::new(secs, 0, 6),
        vlan: VlanTags::default(),
        tunnel: None,
        src: src.0,
        dst: dst.0,
        transport: Transport::Udp(UdpDatagram {
            src_port: src.1,
            dst_port: dst.1,
            payload: Cow::Owned(payload.to_vec()),
        }),
        truncated: false,
        fragment_frames: Vec::new(),
    }
}

pub fn gtp(
    mut pkt: Packet<'static>,
    teid: u32,
    outer_src: IpAddr,
    outer_dst: IpAddr,
) -> Packet<'static> {
    pkt.tunnel = Some(Tunnel {
        teid,
        outer_src,
        outer_dst,
    });
    pkt
}

/// A TCP conversation between a client and a server, frame numbers counting from 1.
pub struct Conversation {
    pub client: (IpAddr, u16),
    pub server: (IpAddr, u16),
    pub frame: u64,
    pub secs: i64,
    pub table: FlowTable,
    pub rec: EventRecorder,
    pub diags: Vec<Diagnostic>,
}

impl Conversation {
    pub fn new(config: FlowConfig) -> Self {
        Conversation {
            client: (v4(192, 0, 2, 10), 49152),
            server: (v4(198, 51, 100, 20), 80),
            frame: 0,
            secs: 1_700_000_000,
            table: FlowTable::new(config),
            rec: EventRecorder::new(),
            diags: Vec::new(),
        }
    }

    pub fn default_config() -> Self {
        Self::new(FlowConfig::default())
    }

    /// Sends a segment from the client; returns its frame number.
    pub fn c(&mut self, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> u64 {
        self.send(true, seq, ack, flags, 65535, payload)
    }

    /// Sends a segment from the server; returns its frame number.
    pub fn s(&mut self, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> u64 {
        self.send(false, seq, ack, flags, 65535, payload)
    }

    pub fn send(
        &mut self,
        from_client: bool,
        seq: u32,
        ack: u32,
        flags: u8,
        window: u16,
        payload: &[u8],
    ) -> u64 {
        self.frame += 1;
        let (src, dst) = if from_client {
            (self.client, self.server)
        } else {
            (self.server, self.client)
        };
        let pkt = tcp_packet(
            self.frame, self.secs, src, dst, seq, ack, flags, window, payload,
        );
        self.table.push(&pkt, &mut self.rec, &mut self.diags);
        self.frame
    }

    pub fn push(&mut self, mut pkt: Packet<'static>) -> u64 {
        self.frame += 1;
        pkt.frame = self.frame;
        self.table.push(&pkt, &mut self.rec, &mut self.diags);
        self.frame
    }

    pub fn finish(&mut self) {
        self.table.finish(&mut self.rec, &mut self.diags);
    }

    pub fn only_flow(&self) -> FlowId {
        let opened = self.rec.opened();
        assert_eq!(opened.len(), 1, "expected exactly one flow: {opened:?}");
        opened[0].id
    }
}
