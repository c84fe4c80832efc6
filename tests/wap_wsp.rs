#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! WSP PDUs and sessions: connectionless pairing, pushes, connection-oriented sessions over WTP,
//! WTLS recognition, and parser properties.

use mmsleak::flow::Direction;
use mmsleak::proto::wsp::encoding::ContentType;
use mmsleak::proto::wsp::headers::{WspHeader, encode_headers};
use mmsleak::proto::wsp::pdu::{
    Capability, WspContent, WspPdu, WspPduBody, encode_capabilities, parse_capabilities,
    parse_connection_oriented, parse_connectionless,
};
use mmsleak::proto::wsp::session::{WapLimits, WapPortRole, WapSessions, WspMode, classify_ports};
use mmsleak::proto::wtls::parser::{WtlsContentType, encode_record};
use mmsleak::proto::wtp::parser::{SegmentPlan, Tid, encode_ack, encode_segmented};
use mmsleak::proto::wtp::{InvokeHeader, TransactionClass, WtpMessageKind};
use mmsleak::time::Timestamp;
use proptest::prelude::*;

const C2S: Direction = Direction::ToServer;
const S2C: Direction = Direction::ToClient;

fn ts(secs: i64) -> Timestamp {
    Timestamp::new(1_700_000_000 + secs, 0, 6)
}

fn cl_get(tid: u8, uri: &str, headers: &[u8]) -> Vec<u8> {
    WspPdu {
        tid: Some(tid),
        body: WspPduBody::Get {
            pdu_type: 0x40,
            uri: uri.as_bytes(),
            headers,
        },
    }
    .to_bytes()
    .unwrap()
}

fn reply(tid: Option<u8>, status: u8, media: &str, headers: &[u8], data: &[u8]) -> Vec<u8> {
    WspPdu {
        tid,
        body: WspPduBody::Reply {
            status,
            content: WspContent {
                content_type: ContentType::new(media),
                headers,
                data,
            },
        },
    }
    .to_bytes()
    .unwrap()
}

#[test]
fn connectionless_get_reply_with_headers() {
    let req_headers = encode_headers(&[
        WspHeader::text("Accept", "application/vnd.wap.wmlc"),
        WspHeader::text("User-Agent", "Example-Phone/1.0"),
    ])
    .unwrap();
    let get = cl_get(0x21, "http://wap.example.com/", &req_headers);
    // Annotated: TID 0x21, Get 0x40, UriLen 0x17, the URI, then the header block.
    assert_eq!(&get[..3], &[0x21, 0x40, 0x17]);
    let rep = reply(Some(0x21), 0x20, "text/vnd.wap.wml", &[], b"<wml></wml>");
    let role = classify_ports(9200, 49152).unwrap();
    assert_eq!(role, WapPortRole::ConnectionlessWsp { push: false });

    let mut s = WapSessions::new(WapLimits::default());
    let mut d = Vec::new();
    s.on_datagram(1, C2S, role, &get, 10, ts(0), &mut d);
    s.on_datagram(1, S2C, role, &rep, 11, ts(1), &mut d);
    let out = s.finish(&mut d);
    assert!(d.is_empty(), "{d:?}");
    assert_eq!(out.exchanges.len(), 1);
    let ex = &out.exchanges[0];
    assert_eq!(ex.mode, WspMode::Connectionless);
    assert_eq!(ex.mode.transport(), "wsp");
    assert_eq!(ex.tid, 0x21);
    assert!(ex.complete);
    let req = ex.request.as_ref().unwrap();
    assert_eq!(req.method, "GET");
    assert_eq!(req.uri, "http://wap.example.com/");
    assert_eq!(req.frames, vec![10]);
    assert!(
        req.headers
            .iter()
            .any(|(n, v)| n == "User-Agent" && v == "Example-Phone/1.0")
    );
    let resp = ex.response.as_ref().unwrap();
    assert_eq!(resp.status, Some(200));
    assert_eq!(
        resp.content_type.as_ref().unwrap().media,
        "text/vnd.wap.wml"
    );
    assert_eq!(resp.body, b"<wml></wml>");
    assert!(!ex.carries_mms());
    assert_eq!((ex.first_frame, ex.last_frame), (10, 11));
}

#[test]
fn reply_without_request_and_other_flows_do_not_pair() {
    let mut s = WapSessions::new(WapLimits::default());
    let mut d = Vec::new();
    let role = WapPortRole::ConnectionlessWsp { push: false };
    s.on_datagram(1, C2S, role, &cl_get(5, "/x", &[]), 1, ts(0), &mut d);
    // Same TID on another flow: not a reply to flow 1's Get.
    s.on_datagram(
        2,
        S2C,
        role,
        &reply(Some(5), 0x20, "text/plain", &[], b"y"),
        2,
        ts(0),
        &mut d,
    );
    let out = s.finish(&mut d);
    assert_eq!(out.exchanges.len(), 2);
    assert!(out.exchanges.iter().all(|e| !e.complete));
    assert!(out.exchanges[1].request.is_none());
}

#[test]
fn connectionless_push_with_mms_application_id() {
    let headers = encode_headers(&[WspHeader::application_id(4)]).unwrap();
    // X-Wap-Application-Id is well-known field 0x2F (0xAF), value short-integer 4 (0x84).
    assert_eq!(headers, [0xAF, 0x84]);
    let notification = [0x8C, 0x82, 0x98, b'T', b'1', 0x00, 0x8D, 0x92];
    let push = WspPdu {
        tid: Some(0x01),
        body: WspPduBody::Push {
            confirmed: false,
            content: WspContent {
                content_type: ContentType::new("application/vnd.wap.mms-message"),
                headers: &headers,
                data: &notification,
            },
        },
    }
    .to_bytes()
    .unwrap();
    // TID 0x01; Push 0x06; HeadersLen 0x03; content type 0xBE; 0xAF 0x84; the MMS PDU.
    assert_eq!(&push[..6], &[0x01, 0x06, 0x03, 0xBE, 0xAF, 0x84]);
    let role = classify_ports(2948, 9200).unwrap();
    assert_eq!(role, WapPortRole::ConnectionlessWsp { push: true });
    let mut s = WapSessions::new(WapLimits::default());
    let mut d = Vec::new();
    s.on_datagram(3, S2C, role, &push, 1, ts(0), &mut d);
    let out = s.finish(&mut d);
    assert!(d.is_empty(), "{d:?}");
    let ex = &out.exchanges[0];
    assert!(ex.push && ex.complete && !ex.confirmed_push);
    assert!(ex.request.is_none());
    let content = ex.response.as_ref().unwrap();
    assert_eq!(content.status, None);
    assert_eq!(content.application_id(), Some("x-wap-application:mms.ua"));
    assert_eq!(content.body, notification);
    assert!(ex.response_is_mms());

    // The application id alone marks MMS even under an unexpected content type.
    let push2 = WspPdu {
        tid: Some(0x02),
        body: WspPduBody::Push {
            confirmed: false,
            content: WspContent {
                content_type: ContentType::new("application/octet-stream"),
                headers: &headers,
                data: &notification,
            },
        },
    }
    .to_bytes()
    .unwrap();
    s.on_datagram(3, S2C, role, &push2, 2, ts(0), &mut d);
    assert!(s.finish(&mut d).exchanges[0].carries_mms());
}

fn class(c: TransactionClass) -> InvokeHeader {
    InvokeHeader {
        version: 0,
        tid_new: false,
        user_ack: false,
        class: c,
    }
}

fn one_packet(kind: WtpMessageKind, tid: u16, c: TransactionClass, data: &[u8]) -> Vec<u8> {
    encode_segmented(
        kind,
        tid,
        class(c),
        data,
        SegmentPlan {
            segment_size: 1400,
            group_size: 8,
        },
    )
    .remove(0)
}

#[test]
fn connection_oriented_session_get_reply_and_push() {
    let caps = encode_capabilities(&[
        Capability::ClientSduSize(3000),
        Capability::ProtocolOptions(0xC0),
        Capability::MethodMor(1),
        Capability::PushMor(1),
    ]);
    let connect = WspPdu {
        tid: None,
        body: WspPduBody::Connect {
            version: 0x10,
            capabilities: &caps,
            headers: &[],
        },
    }
    .to_bytes()
    .unwrap();
    let connect_reply = WspPdu {
        tid: None,
        body: WspPduBody::ConnectReply {
            session_id: 0x2345,
            capabilities: &[],
            headers: &[],
        },
    }
    .to_bytes()
    .unwrap();
    let get = WspPdu {
        tid: None,
        body: WspPduBody::Get {
            pdu_type: 0x40,
            uri: b"http://mmsc.example.com/m/abc",
            headers: &[],
        },
    }
    .to_bytes()
    .unwrap();
    let retrieve_conf = [0x8C, 0x84, 0x98, b'T', 0x00, 0x8D, 0x92];
    let rep = reply(
        None,
        0x20,
        "application/vnd.wap.mms-message",
        &[],
        &retrieve_conf,
    );

    let role = classify_ports(9201, 49200).unwrap();
    assert_eq!(role, WapPortRole::Wtp { push: false });
    let mut s = WapSessions::new(WapLimits::default());
    let mut d = Vec::new();
    let c2 = TransactionClass::Class2;
    let mut frame = 0;
    let mut send = |s: &mut WapSessions, dir, bytes: &[u8], d: &mut Vec<_>| {
        frame += 1;
        s.on_datagram(7, dir, role, bytes, frame, ts(frame as i64), d);
    };
    send(
        &mut s,
        C2S,
        &one_packet(WtpMessageKind::Invoke, 1, c2, &connect),
        &mut d,
    );
    send(
        &mut s,
        S2C,
        &one_packet(WtpMessageKind::Result, 1, c2, &connect_reply),
        &mut d,
    );
    send(
        &mut s,
        C2S,
        &encode_ack(Tid::initiator(1), false, None),
        &mut d,
    );
    assert_eq!(s.session(7).unwrap().session_id, Some(0x2345));
    assert_eq!(
        s.session(7).unwrap().client_capabilities.client_sdu_size,
        Some(3000)
    );
    send(
        &mut s,
        C2S,
        &one_packet(WtpMessageKind::Invoke, 2, c2, &get),
        &mut d,
    );
    send(
        &mut s,
        S2C,
        &one_packet(WtpMessageKind::Result, 2, c2, &rep),
        &mut d,
    );
    send(
        &mut s,
        C2S,
        &encode_ack(Tid::initiator(2), false, None),
        &mut d,
    );
    let out = s.take_output();
    assert_eq!(out.exchanges.len(), 1);
    let ex = &out.exchanges[0];
    assert_eq!(ex.mode.transport(), "wtp");
    assert_eq!(ex.session_id, Some(0x2345));
    assert_eq!(ex.tid, 2);
    assert!(ex.complete);
    assert_eq!(
        ex.request.as_ref().unwrap().uri,
        "http://mmsc.example.com/m/abc"
    );
    assert_eq!(ex.response.as_ref().unwrap().body, retrieve_conf);
    assert!(ex.response_is_mms());
    assert_eq!((ex.first_frame, ex.last_frame), (4, 5));

    // Connection-oriented confirmed push from the server: an Invoke of class 1 in the other
    // direction, acknowledged by the client.
    let headers = encode_headers(&[WspHeader::application_id(4)]).unwrap();
    let push = WspPdu {
        tid: None,
        body: WspPduBody::Push {
            confirmed: true,
            content: WspContent {
                content_type: ContentType::new("application/vnd.wap.mms-message"),
                headers: &headers,
                data: &[0x8C, 0x82],
            },
        },
    }
    .to_bytes()
    .unwrap();
    send(
        &mut s,
        S2C,
        &one_packet(WtpMessageKind::Invoke, 9, TransactionClass::Class1, &push),
        &mut d,
    );
    send(
        &mut s,
        C2S,
        &encode_ack(Tid::responder(9), false, None),
        &mut d,
    );
    let out = s.finish(&mut d);
    assert!(d.is_empty(), "{d:?}");
    let ex = &out.exchanges[0];
    assert!(ex.push && ex.confirmed_push && ex.complete);
    assert_eq!(ex.response.as_ref().unwrap().direction, S2C);
    assert!(ex.carries_mms());
}

#[test]
fn wtls_flows_are_summarised() {
    let mut dgram = Vec::new();
    // ClientHello in clear: type 1, length 0x0011, client_version 1, random 16 octets.
    let mut hello = vec![0x01, 0x00, 0x11, 0x01];
    hello.extend_from_slice(&[0x11; 16]);
    encode_record(
        WtlsContentType::Handshake,
        false,
        Some(0),
        true,
        &hello,
        &mut dgram,
    );
    let mut data = Vec::new();
    encode_record(
        WtlsContentType::ApplicationData,
        true,
        Some(1),
        false,
        &[0xEE; 40],
        &mut data,
    );
    let role = classify_ports(9203, 49300).unwrap();
    let mut s = WapSessions::new(WapLimits::default());
    let mut d = Vec::new();
    s.on_datagram(9, C2S, role, &dgram, 1, ts(0), &mut d);
    s.on_datagram(9, C2S, role, &data, 2, ts(1), &mut d);
    s.on_datagram(9, C2S, role, &[0x0F, 0x00], 3, ts(1), &mut d);
    let out = s.finish(&mut d);
    assert_eq!(d.len(), 1, "the non-WTLS datagram is reported");
    let flow = &out.wtls_flows[0];
    assert_eq!(flow.summary.version, Some(1));
    assert!(flow.summary.handshake_seen);
    assert_eq!(flow.summary.records, 2);
    assert_eq!(flow.summary.encrypted_records, 1);
    assert_eq!(flow.summary.bad_datagrams, 1);
    assert_eq!((flow.first_frame, flow.last_frame), (1, 3));
}

// ---------------------------------------------------------------------------------------------
// Properties

fn media() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("application/vnd.wap.mms-message"),
        Just("text/plain"),
        Just("application/vnd.wap.wmlc"),
        Just("image/jpeg"),
        Just("application/x-example"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn wsp_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..160)) {
        let _ = parse_connectionless(&bytes);
        let _ = parse_connection_oriented(&bytes);
        let _ = parse_capabilities(&bytes);
        let _ = mmsleak::proto::wtls::parse_datagram(&bytes);
    }

    #[test]
    fn sessions_never_panic(
        datagrams in proptest::collection::vec(
            (0u8..6, any::<bool>(), proptest::collection::vec(any::<u8>(), 0..64)),
            0..40,
        )
    ) {
        let mut s = WapSessions::new(WapLimits::default());
        let mut d = Vec::new();
        for (i, (role, to_server, bytes)) in datagrams.iter().enumerate() {
            let role = match role {
                0 => WapPortRole::ConnectionlessWsp { push: false },
                1 => WapPortRole::ConnectionlessWsp { push: true },
                2 | 3 => WapPortRole::Wtp { push: false },
                4 => WapPortRole::Wtp { push: true },
                _ => WapPortRole::Wtls { push: false },
            };
            let dir = if *to_server { C2S } else { S2C };
            s.on_datagram((i % 3) as u64, dir, role, bytes, i as u64 + 1, ts(i as i64), &mut d);
        }
        let _ = s.finish(&mut d);
    }

    #[test]
    fn wsp_round_trip(
        kind in 0u8..6,
        tid in proptest::option::of(any::<u8>()),
        uri in "[a-z:/.]{0,40}",
        media in media(),
        data in proptest::collection::vec(any::<u8>(), 0..100),
        session in any::<u32>(),
        status in prop_oneof![Just(0x20u8), Just(0x44), Just(0x60)],
    ) {
        let headers = encode_headers(&[WspHeader::text("X-Example", "v")]).unwrap();
        let content = WspContent {
            content_type: ContentType::new(media),
            headers: &headers,
            data: &data,
        };
        let body = match kind {
            0 => WspPduBody::Get { pdu_type: 0x40, uri: uri.as_bytes(), headers: &headers },
            1 => WspPduBody::Post { pdu_type: 0x60, uri: uri.as_bytes(), content },
            2 => WspPduBody::Reply { status, content },
            3 => WspPduBody::Push { confirmed: tid.is_none(), content },
            4 => WspPduBody::ConnectReply { session_id: session, capabilities: &data, headers: &headers },
            _ => WspPduBody::Disconnect { session_id: session },
        };
        let pdu = WspPdu { tid, body };
        let bytes = pdu.to_bytes().unwrap();
        let parsed = match tid {
            Some(_) => parse_connectionless(&bytes),
            None => parse_connection_oriented(&bytes),
        }
        .unwrap();
        prop_assert_eq!(parsed, pdu);
    }
}
