//! The JSON report is byte-identical whatever the number of threads.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mmsleak::capture::ByteOrder;
use mmsleak::synth::net::{Link, TcpSession};
use std::path::{Path, PathBuf};

fn json_with_threads(paths: &[PathBuf], threads: &str) -> Vec<u8> {
    let mut args: Vec<String> = vec![
        "scan".into(),
        "--format".into(),
        "json".into(),
        "--threads".into(),
        threads.into(),
    ];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = mmsleak(&refs);
    assert!(
        matches!(out.status.code(), Some(0 | 2)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Many interleaved flows so that every shard gets work.
fn busy_capture(path: &Path) {
    let mut packets = Vec::new();
    let mut sessions: Vec<TcpSession> = (0..64)
        .map(|i| {
            TcpSession::new(
                (ip(&format!("192.0.2.{}", 1 + i)), 40000 + i as u16),
                (ip("198.51.100.80"), 8080),
                i as u32 * 1000,
                7,
            )
        })
        .collect();
    for s in &mut sessions {
        packets.extend(s.handshake());
    }
    for round in 0..4 {
        for (i, s) in sessions.iter_mut().enumerate() {
            let body = format!("round {round} client {i}");
            let req = format!(
                "POST /x HTTP/1.1\r\nHost: mms.example.com\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
            packets.extend(s.send(true, req.as_bytes()));
            packets.extend(s.send(false, b"HTTP/1.1 204 No Content\r\n\r\n"));
        }
    }
    for i in 0..50u16 {
        packets.push(udp_packet(
            "192.0.2.200",
            "198.51.100.9",
            3000 + i,
            9200,
            &[0x01, 0x40, 0x00],
        ));
    }
    write_pcap(path, Link::Ethernet, &packets, false, ByteOrder::Little);
}

#[test]
fn json_is_identical_for_one_and_four_threads() {
    let dir = tempfile::tempdir().unwrap();
    let busy = dir.path().join("busy.pcap");
    busy_capture(&busy);
    let mut inputs = vec![busy];
    // Every sample capture too.
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    if let Ok(entries) = std::fs::read_dir(&samples) {
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| mmsleak::capture::is_capture_name(p))
            .collect();
        files.sort();
        for f in files {
            let one = json_with_threads(std::slice::from_ref(&f), "1");
            let four = json_with_threads(std::slice::from_ref(&f), "4");
            assert!(
                one == four,
                "{} differs between 1 and 4 threads",
                f.display()
            );
            inputs.push(f);
        }
    }
    let one = json_with_threads(&inputs, "1");
    let four = json_with_threads(&inputs, "4");
    let two = json_with_threads(&inputs, "2");
    assert!(!one.is_empty());
    assert!(
        one == four,
        "all inputs together differ between 1 and 4 threads"
    );
    assert!(one == two);
}
