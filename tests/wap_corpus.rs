#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Checks against real captures of the shared reference corpus (not part of the repository).
//! Run with `cargo test --test wap_corpus -- --ignored --nocapture`.

use mmsleak::flow::Direction;
use mmsleak::proto::wsp::session::{WapLimits, WapSessions, classify_ports};
use mmsleak::time::Timestamp;
use std::path::Path;

const CORPUS: &str = "/work/shared/corpus/pcap";

/// (frame, ts, src port, dst port, UDP payload) of every UDP datagram in a capture.
fn udp_payloads(path: &Path) -> Vec<(u64, Timestamp, u16, u16, Vec<u8>)> {
    let mut reader = mmsleak::capture::CaptureReader::open(path).unwrap();
    let mut diags = Vec::new();
    let mut out = Vec::new();
    while let Some(rec) = reader.next_record(&mut diags) {
        if let Ok(mmsleak::packet::Decoded::Packet(p)) = mmsleak::packet::decode_record(&rec)
            && let mmsleak::packet::Transport::Udp(udp) = &p.transport
        {
            out.push((
                rec.frame,
                rec.ts,
                udp.src_port,
                udp.dst_port,
                udp.payload.to_vec(),
            ));
        }
    }
    out
}

fn decode(
    name: &str,
) -> (
    mmsleak::proto::wsp::session::WapOutput,
    Vec<mmsleak::Diagnostic>,
) {
    let path = Path::new(CORPUS).join(name);
    let mut sessions = WapSessions::new(WapLimits::default());
    let mut diags = Vec::new();
    let mut client: Option<u16> = None;
    for (frame, ts, src, dst, payload) in udp_payloads(&path) {
        let role = classify_ports(dst, src).expect("a WAP port");
        // The side that sent first is the client (as the flow layer will decide).
        let client_port = *client.get_or_insert(src);
        let dir = if src == client_port {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        sessions.on_datagram(1, dir, role, &payload, frame, ts, &mut diags);
    }
    (sessions.finish(&mut diags), diags)
}

#[test]
#[ignore = "reads the shared reference corpus"]
fn wap_google_connectionless_get_reply() {
    let (out, diags) = decode("wap_google.pcap");
    assert!(diags.is_empty(), "{diags:?}");
    for ex in &out.exchanges {
        let req = ex.request.as_ref().unwrap();
        let resp = ex.response.as_ref().unwrap();
        println!(
            "TID {} frames {:?}->{:?}: {} {} {:?} -> {:?} {:?} {} bytes {:?}",
            ex.tid,
            req.frames,
            resp.frames,
            req.method,
            req.uri,
            req.headers,
            resp.status,
            resp.content_type.as_ref().map(ToString::to_string),
            resp.body.len(),
            resp.headers
        );
        assert!(ex.complete);
        assert!(!ex.carries_mms());
    }
    assert_eq!(out.exchanges.len(), 2);
}

#[test]
#[ignore = "reads the shared reference corpus"]
fn wbxml_provisioning_push_is_not_mms() {
    let (out, diags) = decode("WAP_WBXML_Provisioning_Push.pcap");
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(out.exchanges.len(), 1);
    let ex = &out.exchanges[0];
    let content = ex.response.as_ref().unwrap();
    println!(
        "push TID {} frames {:?}: {:?} headers {:?} body {} bytes",
        ex.tid,
        content.frames,
        content.content_type.as_ref().map(ToString::to_string),
        content.headers,
        content.body.len()
    );
    assert!(ex.push);
    assert!(!ex.carries_mms());
}
