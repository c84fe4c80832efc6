//! Generated hostile captures through the real binary: each must finish, stay within its caps
//! (peak resident memory is measured from /proc while it runs) and say what it cut.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mmsleak::capture::{ByteOrder, PcapWriter};
use mmsleak::proto::mms::{MessageType, MmsField, MmsPdu, MmsValue, encode};
use mmsleak::proto::wsp::encoding::{ContentType, encode_content_type, encode_uintvar};
use mmsleak::proto::wtp::parser::{
    InvokeHeader, SegmentPlan, TransactionClass, WtpMessageKind, encode_segmented,
};
use mmsleak::synth::net::{self, Link, TcpSession};
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::Command;

/// Runs `mmsleak scan --format json ARGS PATH` and returns the report and the process's peak
/// resident memory in KiB, as the binary reports it with `MMSLEAK_STATS`.
fn scan_measured(path: &Path, args: &[&str]) -> (Value, u64) {
    let out = Command::new(env!("CARGO_BIN_EXE_mmsleak"))
        .args(["scan", "--format", "json", "--quiet"])
        .args(args)
        .arg(path)
        .env("MMSLEAK_STATS", "1")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "mmsleak failed on {}",
        path.display()
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let peak: u64 = stderr
        .lines()
        .find_map(|l| l.split("peak_rss_kib=").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .expect("stats line");
    assert!(peak > 0, "peak RSS must be measured");
    eprintln!(
        "{}: peak RSS {peak} KiB",
        path.file_name().unwrap().to_string_lossy()
    );
    (serde_json::from_slice(&out.stdout).unwrap(), peak)
}

fn diagnostics(report: &Value) -> Vec<String> {
    report["inputs"][0]["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "[{}] {}",
                d["layer"].as_str().unwrap(),
                d["message"].as_str().unwrap()
            )
        })
        .collect()
}

fn any(diags: &[String], needle: &str) -> bool {
    diags.iter().any(|d| d.contains(needle))
}

const MIB: u64 = 1024;

#[test]
fn a_million_distinct_flows_stay_under_the_flow_cap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("million.pcap");
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut w = PcapWriter::new(file, 101, 65535, false).unwrap();
    let dst = ip("198.51.100.1");
    for i in 0..1_000_000u32 {
        let src = std::net::IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, (i % 250) as u8 + 1));
        let h = net::TcpHeader {
            sport: 1024 + (i / 250) as u16,
            dport: 80,
            seq: i,
            ack: 0,
            flags: net::SYN,
            window: 1024,
        };
        let p = net::ip(src, dst, net::PROTO_TCP, 1, &net::tcp(src, dst, h, &[]));
        w.write_packet(&ts(u64::from(i / 1000), 6), p.len() as u32, &p)
            .unwrap();
    }
    w.flush().unwrap();
    drop(w);
    let (report, peak) = scan_measured(&path, &["--max-flows", "10000"]);
    assert_eq!(report["inputs"][0]["packets"], 1_000_000);
    assert_eq!(report["summary"]["flows"], 1_000_000);
    let diags = diagnostics(&report);
    assert!(any(&diags, "evict"), "{diags:?}");
    // A million flow states would take several hundred MiB; the cap keeps it small.
    assert!(peak < 200 * MIB, "peak RSS {peak} KiB");
}

fn http_capture(path: &Path, request: &[u8], response: &[u8]) {
    let mut s = TcpSession::new((ip("192.0.2.10"), 40000), (ip("198.51.100.5"), 80), 1, 2);
    let mut packets = s.handshake();
    packets.extend(s.send(true, request));
    packets.extend(s.send(false, response));
    packets.extend(s.close());
    write_pcap(path, Link::Ethernet, &packets, false, ByteOrder::Little);
}

#[test]
fn a_4_gb_content_length_claim_allocates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("claim.pcap");
    let pdu = encode(&MmsPdu::new(MessageType::SEND_REQ).with(
        MmsField::TransactionId,
        MmsValue::Text {
            text: mmsleak::proto::wsp::encoding::EncodedString::plain("t"),
        },
    ))
    .unwrap();
    let mut req = b"POST /mms HTTP/1.1\r\nHost: mmsc.example.com\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: 4294967296\r\n\r\n".to_vec();
    req.extend_from_slice(&pdu);
    http_capture(&path, &req, b"");
    let (report, peak) = scan_measured(&path, &[]);
    let t = &report["transfers"][0];
    assert_eq!(t["complete"], false);
    assert!(peak < 64 * MIB, "peak RSS {peak} KiB");
}

#[test]
fn a_gzip_bomb_is_cut_at_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.pcap");
    // 256 MiB of zeros, compressed to about 256 KiB.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        gz.write_all(&zeros).unwrap();
    }
    let body = gz.finish().unwrap();
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    resp.extend_from_slice(&body);
    http_capture(
        &path,
        b"GET /m/1 HTTP/1.1\r\nHost: mmsc.example.com\r\n\r\n",
        &resp,
    );
    let (report, peak) = scan_measured(&path, &["--max-decompressed", "8388608"]);
    let diags = diagnostics(&report);
    assert!(
        diags
            .iter()
            .any(|d| d.starts_with("[limit]") || d.contains("decompress")),
        "{diags:?}"
    );
    assert!(peak < 128 * MIB, "peak RSS {peak} KiB");
}

/// An MMS retrieve-conf whose body is `body` (already encoded multipart).
fn retrieve_with_body(content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut pdu = encode(&MmsPdu::new(MessageType::RETRIEVE_CONF)).unwrap();
    pdu.push(0x84); // Content-Type
    encode_content_type(&ContentType::new(content_type), &mut pdu).unwrap();
    pdu.extend_from_slice(body);
    pdu
}

fn mms_response(pdu: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: {}\r\n\r\n",
        pdu.len()
    )
    .into_bytes();
    r.extend_from_slice(pdu);
    r
}

#[test]
fn multipart_nested_1000_deep_and_100000_parts() {
    let dir = tempfile::tempdir().unwrap();
    // 1000 levels: each entry is a multipart holding the next.
    let mut inner = Vec::new();
    encode_uintvar(0, &mut inner);
    for _ in 0..1000 {
        let mut ct = Vec::new();
        encode_content_type(
            &ContentType::new("application/vnd.wap.multipart.mixed"),
            &mut ct,
        )
        .unwrap();
        let mut entry = Vec::new();
        encode_uintvar(1, &mut entry);
        encode_uintvar(ct.len() as u32, &mut entry);
        encode_uintvar(inner.len() as u32, &mut entry);
        entry.extend_from_slice(&ct);
        entry.extend_from_slice(&inner);
        inner = entry;
    }
    let deep = retrieve_with_body("application/vnd.wap.multipart.mixed", &inner);
    let path = dir.path().join("deep.pcap");
    http_capture(
        &path,
        b"GET /m/1 HTTP/1.1\r\nHost: mmsc.example.com\r\n\r\n",
        &mms_response(&deep),
    );
    let (report, peak) = scan_measured(&path, &[]);
    assert_eq!(
        report["transfers"][0]["pdus"][0]["message_type"],
        "m-retrieve-conf"
    );
    let diags = diagnostics(&report);
    assert!(any(&diags, "nesting deeper"), "{diags:?}");
    assert!(peak < 64 * MIB, "peak RSS {peak} KiB");

    // 100,000 tiny text parts.
    let mut many = Vec::new();
    encode_uintvar(100_000, &mut many);
    let mut ct = Vec::new();
    encode_content_type(&ContentType::new("text/plain"), &mut ct).unwrap();
    for _ in 0..100_000 {
        encode_uintvar(ct.len() as u32, &mut many);
        encode_uintvar(1, &mut many);
        many.extend_from_slice(&ct);
        many.push(b'x');
    }
    let wide = retrieve_with_body("application/vnd.wap.multipart.mixed", &many);
    let path = dir.path().join("wide.pcap");
    http_capture(
        &path,
        b"GET /m/2 HTTP/1.1\r\nHost: mmsc.example.com\r\n\r\n",
        &mms_response(&wide),
    );
    let (report, peak) = scan_measured(&path, &["--max-multipart-parts", "1000"]);
    let parts = report["transfers"][0]["pdus"][0]["parts"]
        .as_array()
        .unwrap()
        .len();
    assert!(parts <= 1000, "{parts} parts kept");
    let diags = diagnostics(&report);
    assert!(any(&diags, "part"), "{diags:?}");
    assert!(peak < 128 * MIB, "peak RSS {peak} KiB");
}

#[test]
fn a_wtp_message_of_255_segments_half_missing() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..255 * 100).map(|i| (i % 251) as u8).collect();
    let header = InvokeHeader {
        version: 0,
        tid_new: false,
        user_ack: false,
        class: TransactionClass::Class2,
    };
    let segments = encode_segmented(
        WtpMessageKind::Invoke,
        7,
        header,
        &data,
        SegmentPlan {
            segment_size: 100,
            group_size: 255,
        },
    );
    assert_eq!(segments.len(), 255);
    let packets: Vec<Vec<u8>> = segments
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, s)| udp_packet("192.0.2.10", "198.51.100.9", 49152, 9201, s))
        .collect();
    let path = dir.path().join("wtp.pcap");
    write_pcap(&path, Link::Ethernet, &packets, false, ByteOrder::Little);
    let (report, peak) = scan_measured(&path, &[]);
    assert_eq!(report["inputs"][0]["packets"], 128);
    let diags = diagnostics(&report);
    assert!(
        diags
            .iter()
            .any(|d| d.starts_with("[wtp]") || d.starts_with("[limit]") || d.starts_with("[wsp]")),
        "{diags:?}"
    );
    assert!(peak < 64 * MIB, "peak RSS {peak} KiB");
}

#[test]
fn overlapping_tcp_segments_with_different_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = TcpSession::new(
        (ip("192.0.2.10"), 40000),
        (ip("198.51.100.5"), 80),
        1000,
        2000,
    );
    let mut packets = s.handshake();
    let start = s.client_seq;
    // The second segment arrives first, then an overlapping copy with other bytes, then the
    // first: the first copy of every byte wins and the conflict is reported.
    let a = b"GET /m/1 HTTP/1.1\r\n".to_vec();
    let b = b"Host: mmsc.example.com\r\n\r\n".to_vec();
    packets.push(s.raw_segment(true, start.wrapping_add(a.len() as u32), &b));
    packets.push(s.raw_segment(
        true,
        start.wrapping_add(a.len() as u32),
        b"Host: evil.example.net\r\n\r\n",
    ));
    packets.push(s.raw_segment(true, start, &a));
    let path = dir.path().join("overlap.pcap");
    write_pcap(&path, Link::Ethernet, &packets, false, ByteOrder::Little);
    let (report, _) = scan_measured(&path, &[]);
    let diags = diagnostics(&report);
    assert!(
        diags
            .iter()
            .any(|d| d.starts_with("[tcp]") && d.contains("overlap")),
        "{diags:?}"
    );
}

#[test]
fn pcapng_blocks_with_lying_lengths() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.pcapng");
    let packets: Vec<Vec<u8>> = (0..20u16)
        .map(|i| udp_packet("192.0.2.1", "192.0.2.2", 1000 + i, 53, &[i as u8; 40]))
        .collect();
    write_pcapng(
        &good,
        &[(Link::Ethernet, packets)],
        ByteOrder::Little,
        mmsleak::capture::TsResolution::MICROS,
    );
    let mut bytes = std::fs::read(&good).unwrap();
    // Find the 5th and 12th Enhanced Packet Blocks and make their lengths lie.
    let mut off = 0usize;
    let mut epb = 0;
    while off + 8 <= bytes.len() {
        let kind = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap());
        let len = u32::from_le_bytes(bytes[off + 4..off + 8].try_into().unwrap()) as usize;
        if kind == 6 {
            epb += 1;
            if epb == 5 {
                bytes[off + 4..off + 8].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
            } else if epb == 12 {
                bytes[off + 4..off + 8].copy_from_slice(&13u32.to_le_bytes());
            }
        }
        off += len;
    }
    let path = dir.path().join("lying.pcapng");
    std::fs::write(&path, &bytes).unwrap();
    let (report, peak) = scan_measured(&path, &[]);
    let read = report["inputs"][0]["packets"].as_u64().unwrap();
    assert!((17..=20).contains(&read), "{read} records read");
    let diags = diagnostics(&report);
    assert!(
        diags.iter().filter(|d| d.starts_with("[capture]")).count() >= 2,
        "{diags:?}"
    );
    assert!(peak < 64 * MIB, "peak RSS {peak} KiB");
}

/// A ClientHello carrying `host` as SNI.
fn client_hello(host: &str) -> Vec<u8> {
    let name = host.as_bytes();
    let mut sni = vec![0x00, 0x00];
    let list_len = name.len() + 3;
    sni.extend_from_slice(&((list_len + 2) as u16).to_be_bytes());
    sni.extend_from_slice(&(list_len as u16).to_be_bytes());
    sni.push(0);
    sni.extend_from_slice(&(name.len() as u16).to_be_bytes());
    sni.extend_from_slice(name);
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x11; 32]);
    body.push(0);
    body.extend_from_slice(&[0x00, 0x02, 0x13, 0x01, 0x01, 0x00]);
    body.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    body.extend_from_slice(&sni);
    let mut hs = vec![0x01];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// `n` one-packet TCP connections from many clients to port `dport` of one server, the client
/// sending `payload(i)`, 100 connections per second of capture time.
fn connection_flood(path: &Path, n: u32, dport: u16, payload: impl Fn(u32) -> Vec<u8>) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w = PcapWriter::new(file, 101, 65535, false).unwrap();
    let dst = ip("203.0.113.80");
    for i in 0..n {
        let src = std::net::IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, (i % 250) as u8 + 1));
        let h = net::TcpHeader {
            sport: 1024 + (i / 250) as u16,
            dport,
            seq: i,
            ack: 1,
            flags: net::ACK | net::PSH,
            window: 1024,
        };
        let p = net::ip(
            src,
            dst,
            net::PROTO_TCP,
            1,
            &net::tcp(src, dst, h, &payload(i)),
        );
        w.write_packet(&ts(u64::from(i / 100), 6), p.len() as u32, &p)
            .unwrap();
    }
    w.flush().unwrap();
}

#[test]
fn tls_connections_to_unknown_servers_wait_in_the_spill() {
    // 80,000 TLS connections to web servers, each of which might turn out to reach an MMSC.
    // Streaming (JSON), they wait in the spill, not in memory, and none is lost; a report held
    // in memory (here because of --redact) keeps them only up to a cap, and says so.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tls-flood.pcap");
    connection_flood(&path, 80_000, 443, |i| {
        client_hello(&format!("www-{i}.example.org"))
    });
    // The flow cap bounds the live connections.
    let (report, peak) = scan_measured(&path, &["--max-flows", "20000"]);
    assert_eq!(report["summary"]["transfers"], 0, "no MMSC among them");
    let diags = diagnostics(&report);
    assert!(!any(&diags, "not named like an MMSC"), "{diags:?}");
    assert!(peak < 144 * MIB, "peak RSS {peak} KiB");
    let (report, peak) = scan_measured(&path, &["--max-flows", "20000", "--redact"]);
    assert_eq!(report["summary"]["transfers"], 0, "no MMSC among them");
    let diags = diagnostics(&report);
    assert!(any(&diags, "not named like an MMSC"), "{diags:?}");
    assert!(peak < 144 * MIB, "peak RSS {peak} KiB");
}

#[test]
fn requests_that_might_be_retrievals_wait_in_the_spill() {
    // GETs answered by nothing may be failed retrievals: each waits until the end of the run
    // decides whether it asked for a content location. Streaming, they wait in the spill, so
    // four times as many cost no more memory than the larger file itself (the reader keeps a
    // pool of up to 48 MiB of its chunks, which a small file fills with all of itself).
    let dir = tempfile::tempdir().unwrap();
    let mut runs = Vec::new();
    for n in [20_000u32, 80_000] {
        let path = dir.path().join(format!("get-flood-{n}.pcap"));
        connection_flood(&path, n, 80, |i| {
            format!("GET /m/{i} HTTP/1.1\r\nHost: www.example.org\r\n\r\n").into_bytes()
        });
        let (report, peak) = scan_measured(&path, &["--max-flows", "2000"]);
        assert_eq!(
            report["summary"]["transfers"], 0,
            "no content location announced"
        );
        let size_kib = std::fs::metadata(&path).unwrap().len() / 1024;
        runs.push((peak, size_kib));
    }
    let [(small_peak, small_size), (large_peak, large_size)] = runs[..] else {
        unreachable!()
    };
    // Held in memory, the 60,000 more requests would take about 10 MiB more.
    assert!(
        large_peak < small_peak + (large_size - small_size) + 4 * MIB,
        "peak RSS {small_peak} KiB for 20,000 requests ({small_size} KiB), \
         {large_peak} KiB for 80,000 ({large_size} KiB)"
    );
}

/// Thousands of copies of one WAP Push make one message: it is cut at `--max-message-pdus`
/// with a diagnostic, every transfer is still reported, and the streamed and in-memory reports
/// agree. (A 38 MB capture of 200,000 such pushes peaked at 300 MB before the cap, 134–169 MB
/// with the default cap.)
#[test]
fn a_message_of_thousands_of_pushes_is_cut_at_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("push-flood.pcap");
    let push = sample_push();
    let packets: Vec<Vec<u8>> = (0..3000)
        .map(|_| udp_packet("198.51.100.7", "203.0.113.9", 9200, 2948, &push))
        .collect();
    write_pcap(&path, Link::Ethernet, &packets, false, ByteOrder::Little);

    let cut = "message M1 has 3000 PDUs and requests; only the first 500 are tied into it";
    let (streamed, _) = scan_measured(&path, &["--max-message-pdus", "500"]);
    assert_eq!(streamed["summary"]["transfers"], 3000);
    let messages = streamed["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["timeline"].as_array().unwrap().len(), 500);
    assert_eq!(messages[0]["transfers"].as_array().unwrap().len(), 500);
    assert!(
        any(&diagnostics(&streamed), cut),
        "{:?}",
        diagnostics(&streamed)
    );

    // The report held in memory (extraction needs it) says the same.
    let parts = dir.path().join("parts");
    let parts = parts.to_str().unwrap();
    let (held, _) = scan_measured(&path, &["--max-message-pdus", "500", "--extract", parts]);
    assert_eq!(held["messages"], streamed["messages"]);
    assert_eq!(diagnostics(&held), diagnostics(&streamed));

    // Under the default cap the message is whole.
    let (whole, _) = scan_measured(&path, &[]);
    assert_eq!(
        whole["messages"][0]["timeline"].as_array().unwrap().len(),
        3000
    );
    assert!(!any(&diagnostics(&whole), "only the first"));
}
