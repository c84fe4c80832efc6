//! Reassembly throughput on many interleaved flows. Run on demand:
//! `cargo test --release --test flow_throughput -- --ignored --nocapture`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mmsleak::flow::{FlowConfig, FlowEvent, FlowSink, FlowTable, Verdict};
use mmsleak::packet::{Packet, TcpFlags, TcpSegment, Transport, VlanTags};
use mmsleak::time::Timestamp;
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

/// Touches every delivered byte so the work cannot be optimised away.
#[derive(Default)]
struct Checksum {
    bytes: u64,
    sum: u64,
}

impl FlowSink for Checksum {
    fn event(&mut self, ev: FlowEvent<'_>) -> Verdict {
        if let FlowEvent::Data { bytes, .. } = ev {
            self.bytes += bytes.len() as u64;
            self.sum = self
                .sum
                .wrapping_add(bytes.iter().map(|b| u64::from(*b)).sum::<u64>());
        }
        Verdict::Continue
    }
}

#[test]
#[ignore = "throughput measurement; run in release"]
fn reassembly_throughput_on_interleaved_flows() {
    const FLOWS: u32 = 2_000;
    const SEGMENTS: u32 = 200;
    const MSS: usize = 1_400;
    let payload: Vec<u8> = (0..MSS).map(|i| (i % 251) as u8).collect();
    let server = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 80));
    let ts = Timestamp::new(1_700_000_000, 0, 6);
    let mut packets = Vec::new();
    let mk = |frame: u64,
              f: u32,
              seq: u32,
              ack: u32,
              flags: u8,
              from_client: bool,
              data: &'static [u8]| {
        let client = IpAddr::V4(Ipv4Addr::new(192, 0, 2, (f % 250) as u8));
        let cport = 10_000 + (f / 250) as u16;
        let (src, dst, sp, dp) = if from_client {
            (client, server, cport, 80)
        } else {
            (server, client, 80, cport)
        };
        Packet {
            frame,
            ts,
            vlan: VlanTags::default(),
            tunnel: None,
            src,
            dst,
            transport: Transport::Tcp(TcpSegment {
                src_port: sp,
                dst_port: dp,
                seq,
                ack,
                flags: TcpFlags(flags),
                window: 65535,
                payload: Cow::Borrowed(data),
            }),
            truncated: false,
            fragment_frames: Vec::new(),
        }
    };
    let payload: &'static [u8] = Box::leak(payload.into_boxed_slice());
    let mut frame = 0u64;
    for f in 0..FLOWS {
        frame += 1;
        packets.push(mk(frame, f, 0, 0, TcpFlags::SYN, true, &[]));
        frame += 1;
        packets.push(mk(
            frame,
            f,
            0,
            1,
            TcpFlags::SYN | TcpFlags::ACK,
            false,
            &[],
        ));
    }
    // Server-to-client data, flows interleaved round-robin; every 8th pair of segments swapped
    // (out of order), every 16th segment sent twice (retransmission), client ACKs every 4th.
    for k in 0..SEGMENTS {
        for f in 0..FLOWS {
            let order = if k % 8 == 0 && k + 1 < SEGMENTS {
                k + 1
            } else if k % 8 == 1 {
                k - 1
            } else {
                k
            };
            let seq = 1 + order * MSS as u32;
            frame += 1;
            packets.push(mk(frame, f, seq, 1, TcpFlags::ACK, false, payload));
            if k % 16 == 5 {
                frame += 1;
                packets.push(mk(frame, f, seq, 1, TcpFlags::ACK, false, payload));
            }
            if k % 4 == 3 {
                frame += 1;
                packets.push(mk(frame, f, 1, seq + MSS as u32, TcpFlags::ACK, true, &[]));
            }
        }
    }
    let wire_bytes = u64::from(FLOWS) * u64::from(SEGMENTS) * MSS as u64;

    let mut table = FlowTable::new(FlowConfig::default());
    let mut sink = Checksum::default();
    let mut diags = Vec::new();
    let start = Instant::now();
    for p in &packets {
        table.push(p, &mut sink, &mut diags);
    }
    table.finish(&mut sink, &mut diags);
    let secs = start.elapsed().as_secs_f64();
    assert_eq!(sink.bytes, wire_bytes);
    assert_eq!(table.stats().gaps, 0);
    println!(
        "{} packets, {} flows, {:.1} MB of stream data in {:.3} s: {:.0} MB/s, {:.2} Mpackets/s (checksum {})",
        packets.len(),
        FLOWS,
        wire_bytes as f64 / 1e6,
        secs,
        wire_bytes as f64 / 1e6 / secs,
        packets.len() as f64 / 1e6 / secs,
        sink.sum
    );
}
