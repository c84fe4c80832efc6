//! Memory for HTTP bodies follows the messages in flight, not the capture: a persistent
//! connection (a WAP gateway's to its MMSC) hands out each exchange as soon as it is complete,
//! with its MMS bodies, instead of holding them all until the connection closes (one that never
//! closes within the capture would otherwise keep every message it carried); and the bodies
//! held by all connections together stay within a total.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use mmsleak::Timestamp;
use mmsleak::capture::Record;
use mmsleak::flow::{FlowConfig, FlowKey, FlowTable};
use mmsleak::packet::{Decoded, decode_record};
use mmsleak::proto::dispatch::{Dispatcher, ProtoConfig, ProtoOutput};
use mmsleak::synth::net::{Link, TcpSession, frame};
use std::net::{IpAddr, Ipv4Addr};

const MESSAGES: usize = 20;

/// Packets pushed through a flow table into a dispatcher, numbered from 1.
struct Pipeline {
    table: FlowTable,
    dispatcher: Dispatcher,
    diags: Vec<mmsleak::Diagnostic>,
    frame: u64,
}

impl Pipeline {
    fn new(config: &ProtoConfig) -> Self {
        Pipeline {
            table: FlowTable::new(FlowConfig::default()),
            dispatcher: Dispatcher::new(config),
            diags: Vec::new(),
            frame: 0,
        }
    }

    fn push(&mut self, packets: Vec<Vec<u8>>) {
        for p in packets {
            self.frame += 1;
            let data = frame(Link::Ethernet, &p);
            let record = Record {
                frame: self.frame,
                offset: 0,
                ts: Timestamp::new(1_700_000_000, self.frame as u32 * 1_000, 6),
                link_type: mmsleak::capture::linktype::ETHERNET,
                orig_len: data.len() as u32,
                data: data.into(),
            };
            if let Ok(Decoded::Packet(p)) = decode_record(&record) {
                let key = FlowKey::from_packet(&p);
                self.table
                    .push_keyed(&p, key, &mut self.dispatcher, &mut self.diags);
            }
        }
    }
}

#[test]
fn exchanges_leave_a_persistent_connection_as_they_complete() {
    // The second budget holds a few messages' bodies, not all of them: what is handed out no
    // longer counts against it.
    let small = ProtoConfig {
        max_http_body_total: 200,
        ..ProtoConfig::default()
    };
    for config in [ProtoConfig::default(), small] {
        let gateway = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 20));
        let mmsc = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 80));
        let mut s = TcpSession::new((gateway, 40_000), (mmsc, 80), 100, 900);
        let mut run = Pipeline::new(&config);
        run.push(s.handshake());
        let mut handed_out = 0usize;
        let mut body_bytes = 0usize;
        for i in 0..MESSAGES {
            run.push(common::mms_post_exchange(&mut s, i, ""));
            // The connection is still open: what it finished is handed out now.
            let out = run.dispatcher.take_output();
            let exchanges: Vec<_> = out.http.iter().flat_map(|f| &f.exchanges).collect();
            assert_eq!(exchanges.len(), 1, "after message {i}");
            assert_eq!(exchanges[0].mms_bodies().len(), 2, "after message {i}");
            assert!(
                out.http.iter().all(|f| out.flows.contains_key(&f.flow_id)),
                "an exchange handed out without its flow's details"
            );
            assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
            handed_out += exchanges.len();
            body_bytes += exchanges[0]
                .mms_bodies()
                .iter()
                .map(|b| b.body.len())
                .sum::<usize>();
        }
        assert_eq!(handed_out, MESSAGES);
        assert!(body_bytes > 200, "{body_bytes}");
        // Closing leaves nothing more to hand out.
        run.push(s.close());
        run.table.finish(&mut run.dispatcher, &mut run.diags);
        let rest = run.dispatcher.finish();
        assert_eq!(
            rest.http.iter().map(|f| f.exchanges.len()).sum::<usize>(),
            0
        );
        assert!(run.diags.is_empty(), "{:?}", run.diags);
        assert!(rest.diagnostics.is_empty(), "{:?}", rest.diagnostics);
    }
}

/// Ten connections each start a 50,000-byte MMS upload and send 30,000 bytes of it. The body
/// bytes kept, and a diagnostic when the total cut them.
fn partial_uploads(config: &ProtoConfig) -> (usize, Vec<String>) {
    let mut run = Pipeline::new(config);
    run.push(common::partial_mms_uploads(10, 50_000, 30_000));
    run.table.finish(&mut run.dispatcher, &mut run.diags);
    let out = run.dispatcher.finish();
    let kept = out
        .http
        .iter()
        .flat_map(|f| &f.exchanges)
        .filter_map(|ex| ex.request.as_ref())
        .map(|r| r.body.len())
        .sum();
    let notes = out.diagnostics.iter().map(|d| d.message.clone()).collect();
    (kept, notes)
}

#[test]
fn bodies_held_by_all_connections_stay_within_the_total() {
    let (kept, notes) = partial_uploads(&ProtoConfig::default());
    assert_eq!(kept, 300_000, "{notes:?}");
    let capped = ProtoConfig {
        max_http_body_total: 100_000,
        ..ProtoConfig::default()
    };
    let (kept, notes) = partial_uploads(&capped);
    assert_eq!(kept, 100_000);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("the total for all connections is reached")),
        "{notes:?}"
    );
}

/// Adds the lengths of the response bodies `out` hands out to `bodies`; no diagnostic.
fn response_bodies(out: ProtoOutput, bodies: &mut Vec<usize>) {
    assert!(out.diagnostics.is_empty(), "{:?}", out.diagnostics);
    bodies.extend(
        out.http
            .iter()
            .flat_map(|f| &f.exchanges)
            .filter_map(|ex| ex.response.as_ref())
            .map(|r| r.body.len()),
    );
}

/// Connections one after the other, each answered with an MMS body that ends when the server
/// closes its side: the bodies leave the total when their exchanges are handed out at that
/// half-close, so a total of two bodies never cuts any of ten.
#[test]
fn bodies_leave_the_total_when_a_half_close_ends_them() {
    let config = ProtoConfig {
        max_http_body_total: 1_000,
        ..ProtoConfig::default()
    };
    let mmsc = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 80));
    let mut run = Pipeline::new(&config);
    let mut bodies = Vec::new();
    for c in 0..10u8 {
        let phone = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 30 + c));
        let mut s = TcpSession::new((phone, 42_000), (mmsc, 80), 11, 11_000);
        run.push(s.handshake());
        run.push(s.send(
            true,
            b"GET /m/1 HTTP/1.1\r\nHost: mmsc.example.com\r\nConnection: close\r\n\r\n",
        ));
        let mut answer =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.wap.mms-message\r\n\r\n".to_vec();
        answer.extend(std::iter::repeat_n(0x8c, 500));
        run.push(s.send(false, &answer));
        run.push(s.close());
        response_bodies(run.dispatcher.take_output(), &mut bodies);
    }
    run.table.finish(&mut run.dispatcher, &mut run.diags);
    response_bodies(run.dispatcher.finish(), &mut bodies);
    assert_eq!(bodies, vec![500; 10]);
}
