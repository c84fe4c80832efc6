//! HTTP bodies through the real binary: a persistent connection's messages leave the total for
//! bodies as they complete, and the total (`--max-http-body-total`) cuts bodies, with a
//! diagnostic, once many connections hold more than it allows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use mmsleak::capture::ByteOrder;
use mmsleak::synth::net::{Link, TcpSession};
use serde_json::Value;
use std::path::Path;

/// Runs `scan --format json` with `extra` options and parses the report.
fn scan(path: &Path, extra: &[&str]) -> Value {
    let path = path.display().to_string();
    let mut args = vec!["scan", "--quiet", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(&path);
    let out = common::mmsleak(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn diagnostics(report: &Value) -> Vec<String> {
    report["inputs"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap().to_owned())
        .collect()
}

const TOTAL_REACHED: &str = "the total for all connections is reached";

/// A WAP gateway's one connection to its MMSC carries 40 m-send-reqs of about 2,000 bytes:
/// 80,000 bytes of bodies, sixteen times a shard's share of the total set here. Handed out as
/// they complete, they never hold more than one at a time, so nothing is cut.
#[test]
fn a_persistent_connection_is_not_cut_by_the_total() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gateway.pcap");
    let mut s = TcpSession::new(
        (common::ip("192.0.2.20"), 40_000),
        (common::ip("203.0.113.80"), 80),
        100,
        900,
    );
    let mut packets = s.handshake();
    let text = "hello from the lab ".repeat(100);
    for i in 0..40 {
        packets.extend(common::mms_post_exchange(&mut s, i, &text));
    }
    common::write_pcap(&path, Link::Ethernet, &packets, false, ByteOrder::Little);

    // A shard's share: 80,000 / 16 = 5,000 bytes, one --max-body.
    let caps = ["--max-body", "5000", "--max-http-body-total", "80000"];
    let report = scan(&path, &caps);
    assert_eq!(report["summary"]["transfers"], 40);
    for t in report["transfers"].as_array().unwrap() {
        assert_eq!(t["complete"], true, "{t}");
        assert_eq!(t["pdus"].as_array().unwrap().len(), 2, "{t}");
    }
    let notes = diagnostics(&report);
    assert!(notes.iter().all(|n| !n.contains("body cap")), "{notes:?}");
    // Two threads give the same report.
    let mut two = caps.to_vec();
    two.extend(["--threads", "2"]);
    assert_eq!(scan(&path, &two), report);
}

/// 40 phones each start a 35,000-byte upload and send 30,000 bytes of it. 16 shards hold 40
/// connections, so some shard holds three: 90,000 bytes against its 40,000. Without the total,
/// every byte is kept.
#[test]
fn many_connections_are_cut_by_the_total() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("uploads.pcap");
    let packets = common::partial_mms_uploads(40, 35_000, 30_000);
    common::write_pcap(&path, Link::Ethernet, &packets, false, ByteOrder::Little);

    let uncapped = diagnostics(&scan(&path, &["--max-body", "40000"]));
    assert!(
        uncapped.iter().all(|n| !n.contains(TOTAL_REACHED)),
        "{uncapped:?}"
    );
    // A shard's share: 640,000 / 16 = 40,000 bytes.
    let capped = diagnostics(&scan(
        &path,
        &["--max-body", "40000", "--max-http-body-total", "640000"],
    ));
    assert!(
        capped.iter().any(|n| n.contains(TOTAL_REACHED)),
        "{capped:?}"
    );
}
