//! The real binary on capture files of every format and link type the reader supports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mmsleak::capture::{ByteOrder, TsResolution};
use mmsleak::synth::net::{self, Link};
use std::io::Write;

fn sample_packets() -> Vec<Vec<u8>> {
    let mut tcp = net::TcpSession::new(
        (ip("192.0.2.10"), 40000),
        (ip("198.51.100.20"), 80),
        1000,
        5000,
    );
    let mut pkts = tcp.handshake();
    pkts.extend(tcp.send(true, b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"));
    pkts.push(udp_packet(
        "192.0.2.10",
        "198.51.100.20",
        5353,
        53,
        b"\x00\x01query",
    ));
    pkts
}

fn input(report: &serde_json::Value) -> &serde_json::Value {
    &report["inputs"][0]
}

#[test]
fn every_link_type_in_classic_pcap() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (Link::Ethernet, "ethernet"),
        (Link::Vlan(42), "ethernet"),
        (Link::QinQ(100, 200), "ethernet"),
        (Link::Sll, "linux-sll"),
        (Link::Sll2, "linux-sll2"),
        (Link::Raw, "raw"),
        (Link::RawVersioned, "ipv4"),
        (Link::Null, "null"),
        (Link::Loop, "loop"),
    ];
    for (link, name) in cases {
        let path = dir.path().join(format!("{name}-{link:?}.pcap"));
        let packets = sample_packets();
        write_pcap(&path, link, &packets, false, ByteOrder::Little);
        let report = scan_json(&[&path]);
        let i = input(&report);
        assert_eq!(i["format"], "pcap", "{link:?}");
        assert_eq!(i["link_types"], serde_json::json!([name]), "{link:?}");
        assert_eq!(i["packets"], packets.len(), "{link:?}");
        assert_eq!(i["non_ip_frames"], 0, "{link:?}");
        assert_eq!(i["diagnostics"], serde_json::json!([]), "{link:?}");
        // Two flows: the TCP connection and the DNS datagram.
        assert_eq!(report["summary"]["flows"], 2, "{link:?}");
        assert_eq!(i["first_time"], "2023-11-14T22:13:20.000000Z");
    }
}

#[test]
fn ipv6_raw_link_type() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v6.pcap");
    let p = udp_packet("2001:db8::1", "2001:db8::2", 1000, 53, b"abc");
    write_pcap(&path, Link::RawVersioned, &[p], false, ByteOrder::Little);
    let report = scan_json(&[&path]);
    assert_eq!(input(&report)["link_types"], serde_json::json!(["ipv6"]));
    assert_eq!(report["summary"]["flows"], 1);
}

#[test]
fn nanosecond_big_endian_pcap_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ns-be.pcap");
    let packets = sample_packets();
    write_pcap(&path, Link::Ethernet, &packets, true, ByteOrder::Big);
    let report = scan_json(&[&path]);
    let i = input(&report);
    assert_eq!(i["packets"], packets.len());
    assert_eq!(
        i["last_time"],
        format!(
            "2023-11-14T22:13:20.{:09}Z",
            (packets.len() - 1) * 1_000_000
        )
    );

    let gz = dir.path().join("ns-be.pcap.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    enc.write_all(&std::fs::read(&path).unwrap()).unwrap();
    enc.finish().unwrap();
    let zipped = scan_json(&[&gz]);
    assert_eq!(input(&zipped)["packets"], i["packets"]);
    assert_eq!(input(&zipped)["bytes"], i["bytes"]);
}

#[test]
fn pcapng_with_several_interfaces_both_byte_orders() {
    let dir = tempfile::tempdir().unwrap();
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let path = dir.path().join(format!("multi-{order:?}.pcapng"));
        let groups = vec![
            (Link::Sll2, sample_packets()),
            (Link::Raw, sample_packets()),
            (
                Link::Null,
                vec![udp_packet("192.0.2.1", "192.0.2.2", 1, 2, b"x")],
            ),
        ];
        write_pcapng(&path, &groups, order, TsResolution::NANOS);
        let report = scan_json(&[&path]);
        let i = input(&report);
        assert_eq!(i["format"], "pcapng");
        assert_eq!(
            i["link_types"],
            serde_json::json!(["linux-sll2", "raw", "null"])
        );
        assert_eq!(i["packets"], 2 * sample_packets().len() + 1);
        assert_eq!(i["diagnostics"], serde_json::json!([]));
    }
}

#[test]
fn gtp_u_tunnel_and_ip_fragments() {
    let dir = tempfile::tempdir().unwrap();
    let inner = udp_packet("203.0.113.5", "198.51.100.9", 49152, 7000, &[0x42; 200]);
    let (o1, o2) = (ip("192.0.2.100"), ip("192.0.2.200"));
    let gtp = net::gtp_u(0x1234, Some(7), &inner);
    let outer = net::ip(
        o1,
        o2,
        net::PROTO_UDP,
        9,
        &net::udp(o1, o2, 2152, 2152, &gtp),
    );
    let big4 = udp_packet("192.0.2.10", "198.51.100.20", 5000, 7001, &[7u8; 3000]);
    let big6 = udp_packet("2001:db8::10", "2001:db8::20", 5000, 7001, &[9u8; 3000]);
    let mut packets = vec![outer];
    packets.extend(net::fragment(&big4, 1200, 77));
    let path4 = dir.path().join("gtp-frag4.pcap");
    write_pcap(&path4, Link::Ethernet, &packets, false, ByteOrder::Little);
    let report = scan_json(&[&path4]);
    let i = input(&report);
    assert_eq!(i["packets"], 1 + 3);
    assert_eq!(i["diagnostics"], serde_json::json!([]));
    // The tunnelled datagram and the reassembled one are two flows.
    assert_eq!(report["summary"]["flows"], 2);

    let path6 = dir.path().join("frag6.pcap");
    write_pcap(
        &path6,
        Link::Ethernet,
        &net::fragment(&big6, 1200, 78),
        false,
        ByteOrder::Little,
    );
    let report = scan_json(&[&path6]);
    assert_eq!(input(&report)["packets"], 3);
    assert_eq!(report["summary"]["flows"], 1);
    assert_eq!(input(&report)["diagnostics"], serde_json::json!([]));

    // A missing fragment is a diagnostic, not silence.
    let mut partial = net::fragment(&big4, 1200, 79);
    partial.remove(1);
    let path = dir.path().join("frag-missing.pcap");
    write_pcap(&path, Link::Ethernet, &partial, false, ByteOrder::Little);
    let report = scan_json(&[&path]);
    let diags = input(&report)["diagnostics"].as_array().unwrap();
    assert!(diags.iter().any(|d| d["layer"] == "ip"), "{diags:?}");
    assert_eq!(report["summary"]["flows"], 0);
}

#[test]
fn truncated_file_and_absurd_record_length() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("good.pcap");
    let packets = sample_packets();
    write_pcap(&path, Link::Ethernet, &packets, false, ByteOrder::Little);
    let bytes = std::fs::read(&path).unwrap();

    // Cut in the middle of the last record.
    let cut = dir.path().join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() - 10]).unwrap();
    let report = scan_json(&[&cut]);
    let i = input(&report);
    // The cut record is still analysed with the bytes that are there.
    assert_eq!(i["packets"], packets.len());
    assert_eq!(
        i["bytes"],
        input(&scan_json(&[&path]))["bytes"].as_u64().unwrap() - 10
    );
    let d = &i["diagnostics"][0];
    assert_eq!(d["layer"], "capture");
    assert_eq!(d["frame"], packets.len());
    assert!(d["offset"].as_u64().unwrap() > 24);

    // A record header claiming 0xFFFFFF00 bytes after the second record: the records after it
    // are still read.
    let first_two: usize = {
        let mut off = 24;
        for _ in 0..2 {
            let caplen = u32::from_le_bytes(bytes[off + 8..off + 12].try_into().unwrap()) as usize;
            off += 16 + caplen;
        }
        off
    };
    let mut evil = bytes[..first_two].to_vec();
    evil.extend_from_slice(&(super_ts()).to_le_bytes());
    evil.extend_from_slice(&0u32.to_le_bytes());
    evil.extend_from_slice(&0xFFFF_FF00u32.to_le_bytes());
    evil.extend_from_slice(&0xFFFF_FF00u32.to_le_bytes());
    evil.extend_from_slice(&[0xAA; 40]);
    evil.extend_from_slice(&bytes[first_two..]);
    let absurd = dir.path().join("absurd.pcap");
    std::fs::write(&absurd, &evil).unwrap();
    let report = scan_json(&[&absurd]);
    let i = input(&report);
    assert_eq!(
        i["packets"],
        packets.len(),
        "every real record is still read"
    );
    let diags = i["diagnostics"].as_array().unwrap();
    assert!(!diags.is_empty());
    assert_eq!(diags[0]["frame"], 3);
    assert_eq!(diags[0]["offset"], first_two as u64);
}

fn super_ts() -> u32 {
    BASE_SECS as u32
}

#[test]
fn folders_stdin_and_bad_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("nested");
    std::fs::create_dir(&sub).unwrap();
    write_pcap(
        &dir.path().join("b.pcap"),
        Link::Ethernet,
        &sample_packets(),
        false,
        ByteOrder::Little,
    );
    write_pcap(
        &sub.join("a.cap"),
        Link::Sll,
        &sample_packets(),
        false,
        ByteOrder::Little,
    );
    std::fs::write(dir.path().join("notes.txt"), "not a capture").unwrap();
    let report = scan_json(&[dir.path()]);
    let paths: Vec<String> = report["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(paths.len(), 2, "{paths:?}");
    assert!(
        paths[0].ends_with("b.pcap") && paths[1].ends_with("a.cap"),
        "{paths:?}"
    );
    assert_eq!(report["summary"]["packets"], 2 * sample_packets().len());

    // stdin
    let data = std::fs::read(dir.path().join("b.pcap")).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mmsleak"))
        .args(["scan", "--format", "json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&data).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["inputs"][0]["path"], "-");
    assert_eq!(report["inputs"][0]["packets"], sample_packets().len());

    // Unreadable input and bad usage exit with 2.
    let garbage = dir.path().join("garbage.pcap");
    std::fs::write(&garbage, b"this is not a capture file at all").unwrap();
    let out = mmsleak(&["scan", garbage.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a pcap"));
    let out = mmsleak(&["scan", dir.path().join("missing.pcap").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let out = mmsleak(&["scan", "--no-such-flag", "x"]);
    assert_eq!(out.status.code(), Some(2));
    let out = mmsleak(&["scan"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn table_output_reports_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.pcap");
    write_pcap(
        &path,
        Link::Ethernet,
        &sample_packets(),
        false,
        ByteOrder::Little,
    );
    let out = mmsleak(&["scan", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("pcap"), "{text}");
    assert!(text.contains("ethernet"), "{text}");
    assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
}

#[cfg(feature = "libpcap")]
#[test]
fn bpf_filter_selects_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.pcap");
    let packets = sample_packets();
    write_pcap(&path, Link::Ethernet, &packets, false, ByteOrder::Little);
    let out = mmsleak(&[
        "scan",
        "--format",
        "json",
        "--filter",
        "udp port 53",
        path.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["inputs"][0]["packets"], 1);
    assert_eq!(report["summary"]["flows"], 1);
    let out = mmsleak(&[
        "scan",
        "--filter",
        "this is not bpf",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[cfg(not(feature = "libpcap"))]
#[test]
fn filter_without_libpcap_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.pcap");
    write_pcap(
        &path,
        Link::Ethernet,
        &sample_packets(),
        false,
        ByteOrder::Little,
    );
    let out = mmsleak(&["scan", "--filter", "udp", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("libpcap"));
}
