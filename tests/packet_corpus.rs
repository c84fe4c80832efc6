#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Decodes every classic pcap file in the reference corpus (outside the repository) and prints
//! what became of its frames. Run with:
//! `cargo test --test packet_corpus -- --ignored --nocapture`

use mmsleak::capture::{Record, RecordData};
use mmsleak::packet::{PacketDecoder, Transport};
use mmsleak::time::Timestamp;
use std::path::Path;

const CORPUS: &str = "/work/shared/corpus/pcap";

/// A minimal classic-pcap reader (both byte orders, micro/nanosecond magic).
fn read_pcap(bytes: &[u8]) -> Vec<Record> {
    let magic = &bytes[..4];
    let (le, digits) = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] => (true, 6),
        [0xa1, 0xb2, 0xc3, 0xd4] => (false, 6),
        [0x4d, 0x3c, 0xb2, 0xa1] => (true, 9),
        [0xa1, 0xb2, 0x3c, 0x4d] => (false, 9),
        _ => panic!("not a classic pcap"),
    };
    let u32_at = |b: &[u8], i: usize| {
        let a = [b[i], b[i + 1], b[i + 2], b[i + 3]];
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let link_type = u32_at(bytes, 20);
    let mut records = Vec::new();
    let mut pos = 24;
    let mut frame = 0;
    while pos + 16 <= bytes.len() {
        let secs = u32_at(bytes, pos);
        let frac = u32_at(bytes, pos + 4);
        let incl = u32_at(bytes, pos + 8) as usize;
        let orig = u32_at(bytes, pos + 12);
        let end = (pos + 16 + incl).min(bytes.len());
        frame += 1;
        let nanos = if digits == 6 { frac * 1000 } else { frac };
        records.push(Record {
            frame,
            offset: pos as u64,
            ts: Timestamp::new(i64::from(secs), nanos, digits),
            link_type,
            orig_len: orig,
            data: RecordData::owned(bytes[pos + 16..end].to_vec()),
        });
        pos = end;
    }
    records
}

#[test]
#[ignore = "reads the reference corpus outside the repository"]
fn corpus_decodes() {
    let mut files: Vec<_> = std::fs::read_dir(CORPUS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap" || e == "cap"))
        .collect();
    files.sort();
    for path in files {
        let bytes = std::fs::read(&path).unwrap();
        let records = read_pcap(&bytes);
        let mut decoder = PacketDecoder::default();
        let mut diags = Vec::new();
        let (mut tcp, mut udp, mut other, mut tunnelled, mut truncated) = (0, 0, 0, 0, 0);
        for rec in &records {
            if let Some(packet) = decoder.decode(rec, &mut diags) {
                match packet.transport {
                    Transport::Tcp(_) => tcp += 1,
                    Transport::Udp(_) => udp += 1,
                    Transport::Other { .. } => other += 1,
                }
                tunnelled += usize::from(packet.tunnel.is_some());
                truncated += usize::from(packet.truncated);
            }
        }
        decoder.finish(&mut diags);
        let c = decoder.counters();
        println!(
            "{}: link {} frames {} packets {} (tcp {tcp} udp {udp} other {other}; in GTP-U {tunnelled}; truncated {truncated}) fragments {} reassembled {} non-ip {} errors {} diagnostics {}",
            Path::new(&path).file_name().unwrap().to_string_lossy(),
            records.first().map_or(0, |r| r.link_type),
            c.frames,
            c.packets,
            c.fragments,
            c.reassembled,
            c.non_ip,
            c.errors,
            diags.len()
        );
        for d in diags.iter().take(5) {
            println!("    {d}");
        }
    }
}
