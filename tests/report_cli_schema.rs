//! What the real binary writes matches docs/report.schema.json: JSON and JSON Lines of a capture
//! with an HTTP m-send-req/m-send-conf and a WSP push of an m-notification-ind.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
mod report_support;

use common::*;
use mmsleak::capture::ByteOrder;
use mmsleak::synth::net::{self, Link};
use report_support::schema::{assert_valid_jsonl, assert_valid_report};

fn cstr(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

/// m-send-req (OMA-TS-MMS-ENC 6.1.1) with one text part.
fn send_req() -> Vec<u8> {
    let mut p = vec![0x8C, 0x80]; // X-Mms-Message-Type: m-send-req
    p.push(0x98); // X-Mms-Transaction-Id
    cstr(&mut p, "TX-1");
    p.extend_from_slice(&[0x8D, 0x92]); // X-Mms-MMS-Version: 1.2
    p.extend_from_slice(&[0x89, 0x01, 0x81]); // From: Insert-address-token
    p.push(0x97); // To
    cstr(&mut p, "+15550102/TYPE=PLMN");
    p.push(0x96); // Subject
    cstr(&mut p, "Dinner at +1 555 0142");
    p.extend_from_slice(&[0x84, 0xA3]); // Content-Type: application/vnd.wap.multipart.mixed
    let text = b"call me on +1 555 0103";
    p.push(0x01); // one part
    p.push(0x01); // headers length
    p.push(text.len() as u8); // data length
    p.push(0x83); // text/plain
    p.extend_from_slice(text);
    p
}

/// m-send-conf with Response-Status Ok.
fn send_conf() -> Vec<u8> {
    let mut p = vec![0x8C, 0x81, 0x98];
    cstr(&mut p, "TX-1");
    p.extend_from_slice(&[0x8D, 0x92, 0x92, 0x80, 0x8B]);
    cstr(&mut p, "msg-1");
    p
}

/// A connectionless WSP push (WAP-230 8.2.4.1) of an m-notification-ind.
fn push() -> Vec<u8> {
    let mut n = vec![0x8C, 0x82, 0x98];
    cstr(&mut n, "TX-2");
    n.extend_from_slice(&[0x8D, 0x92]);
    let from = "+15550101/TYPE=PLMN";
    n.extend_from_slice(&[0x89, (from.len() + 2) as u8, 0x80]);
    cstr(&mut n, from);
    n.extend_from_slice(&[0x8A, 0x80]); // class personal
    n.extend_from_slice(&[0x8E, 0x02, 0x10, 0x00]); // size 4096
    n.extend_from_slice(&[0x88, 0x05, 0x81, 0x03, 0x01, 0x51, 0x80]); // expiry +86400 s
    n.push(0x83);
    cstr(&mut n, "http://mmsc.example.com/get/7");
    let mut w = vec![0x01, 0x06, 0x03, 0xBE, 0xAF, 0x84]; // TID, Push, headers: CT mms, App-Id mms.ua
    w.extend_from_slice(&n);
    w
}

fn capture(dir: &std::path::Path) -> std::path::PathBuf {
    let body = send_req();
    let request = [
        format!(
            "POST /mms HTTP/1.1\r\nHost: mmsc.example.com\r\nContent-Type: application/vnd.wap.mms-message\r\n\
             X-MSISDN: +15550101\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes(),
        body,
    ]
    .concat();
    let conf = send_conf();
    let response = [
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: {}\r\n\r\n",
            conf.len()
        )
        .into_bytes(),
        conf,
    ]
    .concat();
    let mut tcp = net::TcpSession::new(
        (ip("192.0.2.10"), 40000),
        (ip("198.51.100.5"), 80),
        1000,
        5000,
    );
    let mut pkts = tcp.handshake();
    pkts.extend(tcp.send(true, &request));
    pkts.extend(tcp.send(false, &response));
    pkts.extend(tcp.close());
    pkts.push(udp_packet(
        "198.51.100.9",
        "192.0.2.20",
        9200,
        2948,
        &push(),
    ));
    let path = dir.join("mms.pcap");
    write_pcap(&path, Link::Ethernet, &pkts, false, ByteOrder::Little);
    path
}

#[test]
fn scan_json_and_jsonl_match_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = capture(dir.path());
    let report = scan_json(&[&path]);
    assert_valid_report(&report);
    if std::env::var_os("MMSLEAK_DUMP").is_some() {
        println!("{}", serde_json::to_string_pretty(&report).unwrap());
    }
    eprintln!(
        "transfers: {}, findings: {}",
        report["transfers"].as_array().map_or(0, Vec::len),
        report["findings"].as_array().map_or(0, Vec::len)
    );

    let out = mmsleak(&["scan", "--format", "jsonl", path.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_valid_jsonl(&String::from_utf8(out.stdout).unwrap());
}

/// Every sample capture's report, in JSON and JSON Lines, is valid against the schema.
#[test]
fn every_sample_capture_matches_the_schema() {
    let samples = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut n = 0;
    for entry in std::fs::read_dir(&samples).unwrap() {
        let path = entry.unwrap().path();
        if !mmsleak::capture::is_capture_name(&path) {
            continue;
        }
        for format in ["json", "jsonl"] {
            let out = mmsleak(&[
                "scan",
                "--quiet",
                "--format",
                format,
                path.to_str().unwrap(),
            ]);
            assert_eq!(out.status.code(), Some(0));
            let text = String::from_utf8(out.stdout).unwrap();
            if format == "json" {
                assert_valid_report(&serde_json::from_str(&text).unwrap());
            } else {
                assert_valid_jsonl(&text);
            }
        }
        n += 1;
    }
    assert!(n >= 12, "{n} sample captures");
}
