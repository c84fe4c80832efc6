//! A persistent HTTP connection (a WAP gateway's to its MMSC) hands out each exchange as soon as
//! it is complete, with its MMS bodies, instead of holding them all until the connection
//! closes: one that never closes within the capture would otherwise keep every message it
//! carried in memory.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mmsleak::Timestamp;
use mmsleak::capture::Record;
use mmsleak::flow::{FlowConfig, FlowKey, FlowTable};
use mmsleak::packet::{Decoded, decode_record};
use mmsleak::proto::dispatch::{Dispatcher, ProtoConfig};
use mmsleak::proto::mms::MessageType;
use mmsleak::synth::msg;
use mmsleak::synth::net::{Link, TcpSession, frame};
use std::net::{IpAddr, Ipv4Addr};

const MESSAGES: usize = 20;

fn exchange_packets(s: &mut TcpSession, i: usize) -> Vec<Vec<u8>> {
    let tid = format!("T{i:04}");
    let req = msg::encode(&msg::pdu(MessageType::SEND_REQ, Some(&tid))).unwrap();
    let conf = msg::encode(&msg::pdu(MessageType::SEND_CONF, Some(&tid))).unwrap();
    let mut head = format!(
        "POST /mms HTTP/1.1\r\nHost: mmsc.example.com\r\nContent-Type: \
         application/vnd.wap.mms-message\r\nContent-Length: {}\r\n\r\n",
        req.len()
    )
    .into_bytes();
    head.extend_from_slice(&req);
    let mut packets = s.send(true, &head);
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.wap.mms-message\r\n\
         Content-Length: {}\r\n\r\n",
        conf.len()
    )
    .into_bytes();
    answer.extend_from_slice(&conf);
    packets.extend(s.send(false, &answer));
    packets
}

#[test]
fn exchanges_leave_a_persistent_connection_as_they_complete() {
    let gateway = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 20));
    let mmsc = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 80));
    let mut s = TcpSession::new((gateway, 40_000), (mmsc, 80), 100, 900);
    let mut table = FlowTable::new(FlowConfig::default());
    let mut dispatcher = Dispatcher::new(&ProtoConfig::default());
    let mut diags = Vec::new();
    let mut frame_no = 0u64;
    let mut push = |packets: Vec<Vec<u8>>,
                    table: &mut FlowTable,
                    dispatcher: &mut Dispatcher,
                    diags: &mut Vec<_>| {
        for p in packets {
            frame_no += 1;
            let data = frame(Link::Ethernet, &p);
            let record = Record {
                frame: frame_no,
                offset: 0,
                ts: Timestamp::new(1_700_000_000, frame_no as u32 * 1_000, 6),
                link_type: mmsleak::capture::linktype::ETHERNET,
                orig_len: data.len() as u32,
                data: data.into(),
            };
            if let Ok(Decoded::Packet(p)) = decode_record(&record) {
                let key = FlowKey::from_packet(&p);
                table.push_keyed(&p, key, dispatcher, diags);
            }
        }
    };
    push(s.handshake(), &mut table, &mut dispatcher, &mut diags);
    let mut handed_out = 0usize;
    for i in 0..MESSAGES {
        push(
            exchange_packets(&mut s, i),
            &mut table,
            &mut dispatcher,
            &mut diags,
        );
        // The connection is still open: what it finished is handed out now.
        let out = dispatcher.take_output();
        let exchanges: Vec<_> = out.http.iter().flat_map(|f| &f.exchanges).collect();
        assert_eq!(exchanges.len(), 1, "after message {i}");
        assert_eq!(exchanges[0].mms_bodies().len(), 2, "after message {i}");
        assert!(
            out.http.iter().all(|f| out.flows.contains_key(&f.flow_id)),
            "an exchange handed out without its flow's details"
        );
        handed_out += exchanges.len();
    }
    assert_eq!(handed_out, MESSAGES);
    // Closing leaves nothing more to hand out.
    push(s.close(), &mut table, &mut dispatcher, &mut diags);
    table.finish(&mut dispatcher, &mut diags);
    let rest = dispatcher.finish();
    assert_eq!(
        rest.http.iter().map(|f| f.exchanges.len()).sum::<usize>(),
        0
    );
    assert!(diags.is_empty(), "{diags:?}");
}
