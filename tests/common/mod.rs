//! Helpers shared by the integration tests: build capture files and run the real binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code
)]

use mmsleak::capture::{ByteOrder, PcapWriter, PcapngWriter, TsResolution};
use mmsleak::synth::net::{self, Link};
use mmsleak::time::Timestamp;
use std::net::IpAddr;
use std::path::Path;
use std::process::{Command, Output};

pub const BASE_SECS: i64 = 1_700_000_000;

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// A UDP datagram as an IP packet.
pub fn udp_packet(src: &str, dst: &str, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let (s, d) = (ip(src), ip(dst));
    net::ip(
        s,
        d,
        net::PROTO_UDP,
        1,
        &net::udp(s, d, sport, dport, payload),
    )
}

/// Timestamp `i` milliseconds after the base, with `digits` fractional digits.
pub fn ts(i: u64, digits: u8) -> Timestamp {
    Timestamp::new(
        BASE_SECS + (i / 1000) as i64,
        (i % 1000) as u32 * 1_000_000,
        digits,
    )
}

/// Writes a classic pcap of IP packets wrapped in `link`.
pub fn write_pcap(path: &Path, link: Link, packets: &[Vec<u8>], nanos: bool, order: ByteOrder) {
    let v6 = packets.first().is_some_and(|p| p[0] >> 4 == 6);
    let file = std::fs::File::create(path).unwrap();
    let mut w = PcapWriter::with_byte_order(file, link.linktype(v6), 65535, nanos, order).unwrap();
    for (i, p) in packets.iter().enumerate() {
        let f = net::frame(link, p);
        w.write_packet(&ts(i as u64, if nanos { 9 } else { 6 }), f.len() as u32, &f)
            .unwrap();
    }
    w.flush().unwrap();
}

/// Runs the binary with `args`.
pub fn mmsleak(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mmsleak"))
        .args(args)
        .output()
        .expect("run mmsleak")
}

/// Runs `scan --format json` on the paths and parses the report.
pub fn scan_json(paths: &[&Path]) -> serde_json::Value {
    let mut args = vec!["scan", "--format", "json"];
    let strs: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    args.extend(strs.iter().map(String::as_str));
    let out = mmsleak(&args);
    assert!(
        out.status.code() == Some(0),
        "exit {:?}: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json report")
}

/// Writes a pcapng with one interface per (link, packets) group, in one section.
pub fn write_pcapng(
    path: &Path,
    groups: &[(Link, Vec<Vec<u8>>)],
    order: ByteOrder,
    tsresol: TsResolution,
) {
    let file = std::fs::File::create(path).unwrap();
    let mut w = PcapngWriter::with_byte_order(file, order).unwrap();
    let mut ids = Vec::new();
    for (link, packets) in groups {
        let v6 = packets.first().is_some_and(|p| p[0] >> 4 == 6);
        ids.push(
            w.add_interface(link.linktype(v6) as u16, 65535, tsresol)
                .unwrap(),
        );
    }
    let mut n = 0u64;
    for ((link, packets), id) in groups.iter().zip(ids) {
        for p in packets {
            let f = net::frame(*link, p);
            w.write_packet(id, &ts(n, 9), f.len() as u32, &f).unwrap();
            n += 1;
        }
    }
    w.flush().unwrap();
}

/// The UDP payload of the WAP Push (port 2948) in `captures/wap-push-notification.pcap`: an
/// m-notification-ind.
pub fn sample_push() -> Vec<u8> {
    use mmsleak::capture::CaptureReader;
    use mmsleak::packet::{Decoded, Transport, decode_record};
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures/wap-push-notification.pcap");
    let mut reader = CaptureReader::open(&path).unwrap();
    let mut diags = Vec::new();
    while let Some(record) = reader.next_record(&mut diags) {
        if let Ok(Decoded::Packet(p)) = decode_record(&record)
            && let Transport::Udp(u) = &p.transport
            && u.dst_port == 2948
        {
            return u.payload.to_vec();
        }
    }
    panic!("the sample has no push to port 2948");
}

/// One m-send-req over HTTP (with a text part of `text` when it is not empty) and its 200
/// m-send-conf, as packets of the connection `s`, each segment acknowledged.
pub fn mms_post_exchange(s: &mut net::TcpSession, i: usize, text: &str) -> Vec<Vec<u8>> {
    use mmsleak::proto::mms::MessageType;
    use mmsleak::synth::msg;
    let tid = format!("T{i:04}");
    let mut req = msg::pdu(MessageType::SEND_REQ, Some(&tid));
    if !text.is_empty() {
        req = msg::with_body(req, &[msg::text_part(text, false)]);
    }
    let req = msg::encode(&req).unwrap();
    let conf = msg::encode(&msg::pdu(MessageType::SEND_CONF, Some(&tid))).unwrap();
    let mut packets = Vec::new();
    for (to_server, head, body) in [
        (
            true,
            "POST /mms HTTP/1.1\r\nHost: mmsc.example.com\r\n",
            req,
        ),
        (false, "HTTP/1.1 200 OK\r\n", conf),
    ] {
        let mut bytes = format!(
            "{head}Content-Type: application/vnd.wap.mms-message\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        bytes.extend_from_slice(&body);
        packets.extend(s.send(to_server, &bytes));
    }
    packets
}

/// `phones` connections (from 198.51.100.10 on) each opening an MMS upload to 203.0.113.80 of
/// `declared` bytes and sending only `sent` of them.
pub fn partial_mms_uploads(phones: u8, declared: usize, sent: usize) -> Vec<Vec<u8>> {
    let mut packets = Vec::new();
    for c in 0..phones {
        let phone = ip(&format!("198.51.100.{}", 10u8.saturating_add(c)));
        let mut s = net::TcpSession::new((phone, 41_000), (ip("203.0.113.80"), 80), 7, 7_000);
        packets.extend(s.handshake());
        let mut upload = format!(
            "POST /mms HTTP/1.1\r\nHost: mmsc.example.com\r\nContent-Type: \
             application/vnd.wap.mms-message\r\nContent-Length: {declared}\r\n\r\n"
        )
        .into_bytes();
        upload.extend(std::iter::repeat_n(0x8c, sent));
        packets.extend(s.send(true, &upload));
    }
    packets
}
