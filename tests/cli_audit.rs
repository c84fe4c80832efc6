//! The leak audit end to end: captures built here (HTTP to an MMSC, a WAP Push notification, a
//! retrieval by the notified handset and by a stranger) run through the real binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use mmsleak::capture::ByteOrder;
use mmsleak::proto::mms::{
    Address, MessageType, MmsBody, MmsField, MmsPart, MmsPdu, MmsValue, encode,
};
use mmsleak::proto::wsp::encoding::{ContentType, EncodedString, Version};
use mmsleak::proto::wsp::headers::{WspHeader, encode_headers};
use mmsleak::proto::wsp::pdu::{WspContent, WspPdu, WspPduBody};
use mmsleak::synth::media::{PhotoMeta, jpeg, vcard};
use mmsleak::synth::net::{Link, TcpSession};
use serde_json::Value;

const PHONE: &str = "192.0.2.10";
const STRANGER: &str = "192.0.2.66";
const MMSC: &str = "198.51.100.5";
const PPG: &str = "198.51.100.7";
const LOCATION: &str = "http://mmsc.example.com/m/1001";

fn text(s: &str) -> MmsValue {
    MmsValue::Text {
        text: EncodedString::plain(s),
    }
}

fn addr(s: &str) -> MmsValue {
    MmsValue::Address {
        address: Address::from_text(s),
    }
}

fn version() -> MmsValue {
    MmsValue::Version {
        version: Version::Short {
            major: 1,
            minor: Some(2),
        },
    }
}

fn with_body(mut pdu: MmsPdu, parts: Vec<MmsPart>) -> MmsPdu {
    let ct = ContentType::new("application/vnd.wap.multipart.mixed");
    pdu = pdu.with(
        MmsField::ContentType,
        MmsValue::ContentType {
            content_type: ct.clone(),
        },
    );
    pdu.body = Some(MmsBody {
        content_type: ct,
        multipart: true,
        parts,
    });
    pdu
}

fn photo() -> MmsPart {
    let meta = PhotoMeta {
        latitude: 40.6892,
        longitude: -74.0445,
        altitude: 10.0,
        make: "ExampleCam".into(),
        model: "Lab 1".into(),
        taken: "2024:05:01 12:00:00".into(),
    };
    MmsPart::new(
        ContentType::new("image/jpeg").with_param("name", "photo.jpg"),
        vec![WspHeader::text("Content-Location", "photo.jpg")],
        jpeg(Some(&meta), 90),
    )
}

fn send_req() -> Vec<u8> {
    let pdu = MmsPdu::new(MessageType::SEND_REQ)
        .with(MmsField::TransactionId, text("tx-send-1"))
        .with(MmsField::MmsVersion, version())
        .with(MmsField::From, MmsValue::From { address: None })
        .with(MmsField::To, addr("+15550123/TYPE=PLMN"))
        .with(MmsField::Subject, text("Holiday"));
    let card = MmsPart::new(
        ContentType::new("text/x-vCard").with_param("name", "jane.vcf"),
        vec![],
        vcard("Jane Doe", "+1-555-0134", "jane@example.com"),
    );
    let note = MmsPart::new(
        ContentType::new("text/plain").with_param("charset", "utf-8"),
        vec![],
        b"Call me on +1 555 0142 or bob@example.org".to_vec(),
    );
    encode(&with_body(pdu, vec![photo(), card, note])).unwrap()
}

fn send_conf() -> Vec<u8> {
    encode(
        &MmsPdu::new(MessageType::SEND_CONF)
            .with(MmsField::TransactionId, text("tx-send-1"))
            .with(MmsField::MmsVersion, version())
            .with(MmsField::ResponseStatus, MmsValue::Token { octet: 0x80 })
            .with(MmsField::MessageId, text("msg-42")),
    )
    .unwrap()
}

fn notification() -> Vec<u8> {
    encode(
        &MmsPdu::new(MessageType::NOTIFICATION_IND)
            .with(MmsField::TransactionId, text("tx-note-1"))
            .with(MmsField::MmsVersion, version())
            .with(
                MmsField::From,
                MmsValue::From {
                    address: Some(Address::from_text("+15550111/TYPE=PLMN")),
                },
            )
            .with(MmsField::MessageClass, MmsValue::Token { octet: 0x80 })
            .with(MmsField::MessageSize, MmsValue::Integer { value: 2048 })
            .with(MmsField::ContentLocation, text(LOCATION)),
    )
    .unwrap()
}

fn retrieve_conf() -> Vec<u8> {
    let pdu = MmsPdu::new(MessageType::RETRIEVE_CONF)
        .with(MmsField::TransactionId, text("tx-ret-1"))
        .with(MmsField::MmsVersion, version())
        .with(MmsField::MessageId, text("msg-77"))
        .with(
            MmsField::From,
            MmsValue::From {
                address: Some(Address::from_text("+15550111/TYPE=PLMN")),
            },
        )
        .with(MmsField::To, addr("+15550123/TYPE=PLMN"))
        .with(MmsField::Bcc, addr("secret@example.net"));
    encode(&with_body(pdu, vec![photo()])).unwrap()
}

fn http_request(method: &str, path: &str, extra: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "{method} {path} HTTP/1.1\r\nHost: mmsc.example.com\r\n{extra}Content-Type: application/vnd.wap.mms-message\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn http_response(body: &[u8]) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend_from_slice(body);
    r
}

fn push(pdu: &[u8]) -> Vec<u8> {
    let headers = encode_headers(&[WspHeader::application_id(4)]).unwrap();
    WspPdu {
        tid: Some(1),
        body: WspPduBody::Push {
            confirmed: false,
            content: WspContent {
                content_type: ContentType::new("application/vnd.wap.mms-message"),
                headers: &headers,
                data: pdu,
            },
        },
    }
    .to_bytes()
    .unwrap()
}

/// Frames: an HTTP send, a push notification, a GET by the phone, a GET by a stranger.
fn leaky_capture() -> Vec<Vec<u8>> {
    let mut packets = Vec::new();
    let mut s = TcpSession::new((ip(PHONE), 40001), (ip(MMSC), 80), 100, 9000);
    packets.extend(s.handshake());
    packets.extend(s.send(
        true,
        &http_request(
            "POST",
            "/mms",
            "X-MSISDN: +15550199\r\nAuthorization: Basic YWxpY2U6czNjcmV0\r\n",
            &send_req(),
        ),
    ));
    packets.extend(s.send(false, &http_response(&send_conf())));
    packets.extend(s.close());

    packets.push(udp_packet(PPG, PHONE, 49999, 2948, &push(&notification())));

    for (client, port) in [(PHONE, 40002), (STRANGER, 40003)] {
        let mut g = TcpSession::new((ip(client), port), (ip(MMSC), 80), 300, 7000);
        packets.extend(g.handshake());
        packets.extend(g.send(
            true,
            b"GET /m/1001 HTTP/1.1\r\nHost: mmsc.example.com\r\n\r\n",
        ));
        packets.extend(g.send(false, &http_response(&retrieve_conf())));
        packets.extend(g.close());
    }
    packets
}

fn findings<'a>(report: &'a Value, rule: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == rule)
        .collect()
}

#[test]
fn leaky_mms_traffic_raises_every_expected_rule() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leaky.pcap");
    write_pcap(
        &path,
        Link::Ethernet,
        &leaky_capture(),
        false,
        ByteOrder::Little,
    );
    let report = scan_json(&[&path]);
    let transfers = report["transfers"].as_array().unwrap();
    let kinds: Vec<(&str, Vec<&str>)> = transfers
        .iter()
        .map(|t| {
            (
                t["transport"].as_str().unwrap(),
                t["pdus"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p["message_type"].as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("http", vec!["m-send-req", "m-send-conf"]),
            ("wsp", vec!["m-notification-ind"]),
            ("http", vec!["m-retrieve-conf"]),
            ("http", vec!["m-retrieve-conf"]),
        ],
        "{report:#}"
    );
    // The push is reported with the handset as the client.
    assert_eq!(transfers[1]["client"]["ip"], PHONE);
    assert_eq!(
        transfers[0]["request"]["uri"],
        "http://mmsc.example.com/mms"
    );

    // One message ties the notification to both retrievals, in time order.
    let messages = report["messages"].as_array().unwrap();
    let m = messages
        .iter()
        .find(|m| m["content_location"] == LOCATION)
        .unwrap();
    assert_eq!(m["transfers"], serde_json::json!(["T2", "T3", "T4"]));
    let types: Vec<&str> = m["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message_type"].as_str().unwrap())
        .collect();
    assert_eq!(types[0], "m-notification-ind");

    for rule in [
        "cleartext-mms",
        "subscriber-id-header",
        "credentials",
        "personal-data",
        "location-metadata",
        "contact-card",
        "unauthenticated-retrieval",
        "shared-retrieval",
        "guessable-content-url",
        "bcc-disclosed",
    ] {
        assert!(
            !findings(&report, rule).is_empty(),
            "{rule} did not fire: {:#}",
            report["findings"]
        );
    }
    let cred = &findings(&report, "credentials")[0];
    assert_eq!(cred["severity"], "critical");
    assert_eq!(cred["evidence"]["credentials"][0]["user"], "alice");
    assert_ne!(
        cred["evidence"]["credentials"][0]["password"], "s3cret",
        "masked by default"
    );
    let gps = &findings(&report, "location-metadata")[0];
    assert!((gps["evidence"]["latitude"].as_f64().unwrap() - 40.6892).abs() < 1e-4);
    let shared = &findings(&report, "shared-retrieval")[0];
    assert_eq!(shared["message"], m["id"]);
    let sub = &findings(&report, "subscriber-id-header")[0];
    assert_eq!(sub["evidence"]["headers"][0]["value"], "+15550199");
    // Rules with nothing to fire on stay silent.
    for rule in [
        "weak-encryption",
        "mailbox-storage",
        "forwarded-message",
        "broad-distribution",
        "session-token",
    ] {
        assert!(findings(&report, rule).is_empty(), "{rule} fired");
    }
    // Frames cited exist in the capture.
    let packets = report["inputs"][0]["packets"].as_u64().unwrap();
    for f in report["findings"].as_array().unwrap() {
        for fr in f["frames"].as_array().unwrap() {
            assert!((1..=packets).contains(&fr.as_u64().unwrap()));
        }
    }

    // --show-secrets reveals the password; --fail-on maps to exit code 1.
    let out = mmsleak(&[
        "scan",
        "--format",
        "json",
        "--show-secrets",
        path.to_str().unwrap(),
    ]);
    let shown: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        findings(&shown, "credentials")[0]["evidence"]["credentials"][0]["password"],
        "s3cret"
    );
    assert_eq!(
        mmsleak(&["scan", "--fail-on", "critical", path.to_str().unwrap()])
            .status
            .code(),
        Some(1)
    );
}

#[test]
fn authenticated_single_retrieval_is_quiet() {
    // The notified handset fetches with a cookie: no unauthenticated or shared retrieval.
    let mut packets = vec![udp_packet(PPG, PHONE, 49999, 2948, &push(&notification()))];
    let mut g = TcpSession::new((ip(PHONE), 40002), (ip(MMSC), 80), 300, 7000);
    packets.extend(g.handshake());
    packets.extend(g.send(
        true,
        b"GET /m/1001 HTTP/1.1\r\nHost: mmsc.example.com\r\nCookie: sid=abcdef123456\r\n\r\n",
    ));
    packets.extend(g.send(false, &http_response(&retrieve_conf())));
    packets.extend(g.close());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quiet.pcap");
    write_pcap(&path, Link::Ethernet, &packets, false, ByteOrder::Little);
    let report = scan_json(&[&path]);
    assert!(findings(&report, "unauthenticated-retrieval").is_empty());
    assert!(findings(&report, "shared-retrieval").is_empty());
    assert_eq!(findings(&report, "session-token").len(), 1);
}

#[test]
fn encrypted_mmsc_traffic_raises_no_exposure() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = TcpSession::new((ip(PHONE), 40010), (ip(MMSC), 443), 1, 2);
    let mut packets = s.handshake();
    packets.extend(s.send(true, &client_hello("mms.example.com")));
    packets.extend(s.send(false, &[0x17, 0x03, 0x03, 0x00, 0x05, 1, 2, 3, 4, 5]));
    packets.extend(s.close());
    let path = dir.path().join("tls.pcap");
    write_pcap(&path, Link::Ethernet, &packets, false, ByteOrder::Little);
    let report = scan_json(&[&path]);
    let t = &report["transfers"][0];
    assert_eq!(t["transport"], "tls");
    assert_eq!(t["encrypted"], true);
    assert_eq!(t["sni"], "mms.example.com");
    assert_eq!(report["summary"]["encrypted_transfers"], 1);
    for f in report["findings"].as_array().unwrap() {
        assert_ne!(f["category"], "exposure", "{f:#}");
    }
}

/// A minimal TLS 1.2 ClientHello with SNI.
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
    body.extend_from_slice(&[0x00, 0x02, 0x13, 0x01]);
    body.extend_from_slice(&[0x01, 0x00]);
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

#[test]
fn carved_capture_keeps_only_the_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let mut packets = leaky_capture();
    // Unrelated traffic: DNS and a web page.
    packets.insert(
        3,
        udp_packet(PHONE, "203.0.113.53", 5353, 53, b"\x12\x34query"),
    );
    let mut web = TcpSession::new((ip(PHONE), 40100), (ip("203.0.113.80"), 80), 5, 6);
    packets.extend(web.handshake());
    packets.extend(web.send(true, b"GET / HTTP/1.1\r\nHost: www.example.org\r\n\r\n"));
    packets.extend(web.send(false, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"));
    let path = dir.path().join("mixed.pcap");
    write_pcap(&path, Link::Ethernet, &packets, false, ByteOrder::Little);
    let carved = dir.path().join("evidence.pcap");
    let out = mmsleak(&[
        "scan",
        "--format",
        "json",
        "--carve",
        carved.to_str().unwrap(),
        path.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let original: Value = serde_json::from_slice(&out.stdout).unwrap();
    let again = scan_json(&[&carved]);
    assert_eq!(
        again["inputs"][0]["packets"],
        leaky_capture().len(),
        "only the MMS flows"
    );
    let shape = |r: &Value| -> Vec<(String, String, Vec<String>)> {
        r["transfers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["transport"].to_string(),
                    format!("{} {}", t["client"], t["server"]),
                    t["pdus"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| format!("{} {}", p["message_type"], p["parts"]))
                        .collect(),
                )
            })
            .collect()
    };
    assert_eq!(shape(&original), shape(&again));
    let rules = |r: &Value| -> Vec<(String, String, String)> {
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["rule"].to_string(),
                    f["severity"].to_string(),
                    f["transfer"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(rules(&original), rules(&again));
    assert_eq!(
        again["inputs"][0]["link_types"],
        serde_json::json!(["ethernet"])
    );
}

#[test]
fn redaction_extraction_and_html_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leaky.pcap");
    write_pcap(
        &path,
        Link::Ethernet,
        &leaky_capture(),
        false,
        ByteOrder::Little,
    );
    let p = path.to_str().unwrap();

    // --redact: no phone number, e-mail, subscriber id or password of the capture survives, in
    // any output format.
    let secrets = [
        "15550199",
        "5550199",
        "15550123",
        "5550123",
        "15550111",
        "555-0134",
        "5550134",
        "5550142",
        "jane@example.com",
        "bob@example.org",
        "secret@example.net",
        "alice",
        "s3cret",
        "Jane Doe",
        "YWxpY2U6czNjcmV0",
        "40.6892",
        "-74.0445",
    ];
    for format in ["json", "jsonl", "csv", "table", "html"] {
        let out = mmsleak(&["scan", "--format", format, "--redact", "--width", "200", p]);
        assert_eq!(out.status.code(), Some(0), "{format}");
        let text = String::from_utf8_lossy(&out.stdout);
        for s in secrets {
            assert!(!text.contains(s), "{format} output still contains {s}");
        }
    }
    // The same key gives the same pseudonyms.
    let a = mmsleak(&[
        "scan",
        "--format",
        "json",
        "--redact",
        "--redact-key",
        "lab-1",
        p,
    ]);
    let b = mmsleak(&[
        "scan",
        "--format",
        "json",
        "--redact",
        "--redact-key",
        "lab-1",
        p,
    ]);
    assert_eq!(a.stdout, b.stdout);

    // --extract: every part lands in the folder, named by the report.
    let out_dir = dir.path().join("parts");
    let out = mmsleak(&[
        "scan",
        "--format",
        "json",
        "--extract",
        out_dir.to_str().unwrap(),
        "--extract-pdus",
        p,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut parts = 0;
    for t in report["transfers"].as_array().unwrap() {
        for pdu in t["pdus"].as_array().unwrap() {
            for part in pdu["parts"].as_array().unwrap() {
                let name = part["extracted_to"].as_str().unwrap();
                let data = std::fs::read(out_dir.join(name)).unwrap();
                assert_eq!(data.len() as u64, part["size"].as_u64().unwrap());
                parts += 1;
            }
        }
    }
    assert_eq!(parts, 5);
    let pdus = std::fs::read_dir(&out_dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "mms")
        })
        .count();
    assert_eq!(pdus, 5);

    // --format html --output: one self-contained page.
    let html = dir.path().join("report.html");
    let out = mmsleak(&[
        "scan",
        "--format",
        "html",
        "--output",
        html.to_str().unwrap(),
        p,
    ]);
    assert_eq!(out.status.code(), Some(0));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") || page.starts_with("<!doctype html>"));
    assert!(page.contains("unauthenticated-retrieval"));
    assert!(
        !page.contains("data:image"),
        "no media without --html-media"
    );
    let out = mmsleak(&[
        "scan",
        "--format",
        "html",
        "--html-media",
        "--output",
        html.to_str().unwrap(),
        p,
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .contains("data:image/jpeg")
    );
}

#[test]
fn failed_retrieval_of_a_notified_location_is_still_a_transfer() {
    let mut packets = vec![udp_packet(PPG, PHONE, 49999, 2948, &push(&notification()))];
    let mut g = TcpSession::new((ip(PHONE), 40002), (ip(MMSC), 80), 300, 7000);
    packets.extend(g.handshake());
    packets.extend(g.send(
        true,
        b"GET /m/1001 HTTP/1.1\r\nHost: mmsc.example.com\r\n\r\n",
    ));
    packets.extend(g.send(
        false,
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    ));
    packets.extend(g.close());
    // A GET of another URL on the same server is not a retrieval.
    let mut o = TcpSession::new((ip(PHONE), 40003), (ip(MMSC), 80), 900, 9900);
    packets.extend(o.handshake());
    packets.extend(o.send(
        true,
        b"GET /other HTTP/1.1\r\nHost: mmsc.example.com\r\n\r\n",
    ));
    packets.extend(o.send(
        false,
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    ));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("failed.pcap");
    write_pcap(&path, Link::Ethernet, &packets, false, ByteOrder::Little);
    let report = scan_json(&[&path]);
    let transfers = report["transfers"].as_array().unwrap();
    assert_eq!(transfers.len(), 2, "{report:#}");
    assert_eq!(transfers[1]["request"]["uri"], LOCATION);
    assert_eq!(transfers[1]["response"]["status"], 404);
    assert_eq!(transfers[1]["pdus"], serde_json::json!([]));
    let m = &report["messages"][0];
    assert_eq!(m["transfers"], serde_json::json!(["T1", "T2"]));
    assert_eq!(
        m["timeline"][1]["message_type"],
        "retrieval-request (no message)"
    );
    // Nothing was retrieved: no unauthenticated retrieval.
    assert!(findings(&report, "unauthenticated-retrieval").is_empty());
}

#[test]
fn capture_text_cannot_drive_the_terminal() {
    // A part name carrying an ANSI escape and a bidi override ends up in a finding title.
    let meta = PhotoMeta {
        latitude: 1.5,
        longitude: 2.5,
        altitude: 0.0,
        make: "Cam".into(),
        model: "M".into(),
        taken: "2024:01:01 00:00:00".into(),
    };
    let evil = MmsPart::new(
        ContentType::new("image/jpeg")
            .with_param("name", "\u{1b}[2J\u{1b}[31mpwned\u{202e}gpj.exe"),
        vec![],
        jpeg(Some(&meta), 1),
    );
    let pdu = MmsPdu::new(MessageType::SEND_REQ)
        .with(MmsField::TransactionId, text("t-evil"))
        .with(MmsField::MmsVersion, version())
        .with(
            MmsField::Subject,
            text("=HYPERLINK(\"http://example.com\")"),
        );
    let body = encode(&with_body(pdu, vec![evil])).unwrap();
    let mut s = TcpSession::new((ip(PHONE), 40001), (ip(MMSC), 80), 100, 9000);
    let mut packets = s.handshake();
    packets.extend(s.send(true, &http_request("POST", "/mms", "", &body)));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("evil.pcap");
    write_pcap(&path, Link::Ethernet, &packets, false, ByteOrder::Little);
    for format in ["table", "csv", "html"] {
        let out = mmsleak(&[
            "scan",
            "--format",
            format,
            "--width",
            "300",
            path.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(!text.contains('\u{1b}'), "{format}: raw ESC in the output");
        assert!(
            !text.contains('\u{202e}'),
            "{format}: raw bidi override in the output"
        );
        if format == "table" {
            assert!(text.contains("\\x1b[2J"), "escape shown visibly: {text}");
        }
    }
}
