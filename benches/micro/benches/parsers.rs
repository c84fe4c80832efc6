//! Micro-benchmarks of the hot parsers, on inputs built in code with mmsleak's own generator
//! helpers (documentation addresses, example.com names, +1-555-01xx numbers).
//!
//! `cd benches/micro && cargo bench` (criterion options after `--`, e.g. `cargo bench --
//! mms_decode`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mmsleak::capture::{Record, RecordData, linktype};
use mmsleak::flow::{Direction, FlowConfig, FlowEvent, FlowSink, FlowTable, Verdict};
use mmsleak::packet::{Decoded, Packet, decode_record};
use mmsleak::proto::http::HttpConnection;
use mmsleak::proto::http::HttpLimits;
use mmsleak::proto::mms::{self, DecodeContext, MessageType, MmsField};
use mmsleak::proto::tls::parser::{
    HANDSHAKE_HEADER_LEN, RECORD_HEADER_LEN, parse_client_hello, parse_handshake_header,
    parse_record_header,
};
use mmsleak::proto::wsp::encoding::ContentType;
use mmsleak::proto::wsp::headers::{WspHeader, decode_headers, encode_headers};
use mmsleak::synth::Rng;
use mmsleak::synth::media::{self, PhotoMeta};
use mmsleak::synth::msg::{self, People};
use mmsleak::synth::net::{self, Link, TcpSession};
use mmsleak::synth::tlsgen::{self, TlsVersion};
use mmsleak::time::Timestamp;
use std::hint::black_box;
use std::net::IpAddr;
use std::time::Duration;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ts(n: u64) -> Timestamp {
    Timestamp::new(
        1_700_000_000 + (n / 1000) as i64,
        (n % 1000) as u32 * 1_000_000,
        6,
    )
}

fn record(frame: u64, data: Vec<u8>) -> Record {
    Record {
        frame,
        offset: 0,
        ts: ts(frame),
        link_type: linktype::ETHERNET,
        orig_len: data.len() as u32,
        data: RecordData::owned(data),
    }
}

/// An HTTP request head as a handset sends it, cut to one full-size segment.
fn http_segment_payload() -> Vec<u8> {
    let mut p = b"POST /mms HTTP/1.1\r\nHost: mmsc.example.com\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: 4000\r\n\r\n".to_vec();
    p.resize(1400, 0x5A);
    p
}

/// An m-retrieve-conf (or, with `send`, an m-send-req) with a SMIL, a JPEG with EXIF GPS, a
/// text and a vCard, encoded.
fn multipart_message(send: bool) -> Vec<u8> {
    let mut rng = Rng::new(7);
    let mut people = People::default();
    let sender = people.person(&mut rng);
    let recipient = people.person(&mut rng);
    let pdu = if send {
        msg::pdu(MessageType::SEND_REQ, Some("T0123456789")).with(MmsField::From, msg::from(None))
    } else {
        msg::pdu(MessageType::RETRIEVE_CONF, Some("T0123456789"))
            .with(
                MmsField::MessageId,
                msg::text("0123456789ABCDEFGHIJ@mmsc.example.net"),
            )
            .with(MmsField::Date, msg::date(1_700_000_000))
            .with(MmsField::From, msg::from(Some(&sender.plmn())))
    }
    .with(MmsField::To, msg::addr(&recipient.plmn()))
    .with(MmsField::Subject, msg::utf8("Photos from the trip"));
    let parts = [
        msg::smil_part("photo.jpg"),
        msg::photo(&mut rng, true, "photo.jpg"),
        msg::text_part(&msg::chatty_text(&mut rng, &sender), true),
        msg::vcard_part(&sender),
    ];
    msg::encode(&msg::with_body(pdu, &parts)).unwrap()
}

fn bench_packet(c: &mut Criterion) {
    let mut g = c.benchmark_group("packet_decode_record");

    let tcp = net::tcp(
        ip("192.0.2.10"),
        ip("198.51.100.80"),
        net::TcpHeader {
            sport: 49152,
            dport: 80,
            seq: 1000,
            ack: 2000,
            flags: net::ACK | net::PSH,
            window: 65535,
        },
        &http_segment_payload(),
    );
    let eth_tcp = record(
        1,
        net::frame(
            Link::Ethernet,
            &net::ip(
                ip("192.0.2.10"),
                ip("198.51.100.80"),
                net::PROTO_TCP,
                1,
                &tcp,
            ),
        ),
    );
    assert!(matches!(decode_record(&eth_tcp), Ok(Decoded::Packet(_))));
    g.throughput(Throughput::Bytes(eth_tcp.data.len() as u64));
    g.bench_function("ethernet_ipv4_tcp", |b| {
        b.iter(|| match decode_record(black_box(&eth_tcp)) {
            Ok(Decoded::Packet(p)) => p.transport.payload().len(),
            _ => 0,
        })
    });

    // GTP-U (UDP 2152) between two gateways, carrying a handset's WSP Get (UDP 9200).
    let wsp_get = b"\x01\x40\x2Ahttp://mmsc.example.com/mms?id=0123456789";
    let inner_udp = net::udp(ip("192.0.2.33"), ip("203.0.113.9"), 49200, 9200, wsp_get);
    let inner = net::ip(
        ip("192.0.2.33"),
        ip("203.0.113.9"),
        net::PROTO_UDP,
        7,
        &inner_udp,
    );
    let gtp = net::gtp_u(0x1234_5678, Some(1), &inner);
    let outer_udp = net::udp(ip("198.51.100.1"), ip("198.51.100.2"), 2152, 2152, &gtp);
    let gtp_frame = record(
        2,
        net::frame(
            Link::Ethernet,
            &net::ip(
                ip("198.51.100.1"),
                ip("198.51.100.2"),
                net::PROTO_UDP,
                9,
                &outer_udp,
            ),
        ),
    );
    match decode_record(&gtp_frame) {
        Ok(Decoded::Packet(p)) => assert!(p.tunnel.is_some(), "GTP-U not decapsulated"),
        other => panic!("GTP-U frame decoded to {other:?}"),
    }
    g.throughput(Throughput::Bytes(gtp_frame.data.len() as u64));
    g.bench_function("ethernet_ipv4_udp_gtpu_ipv4_udp", |b| {
        b.iter(|| match decode_record(black_box(&gtp_frame)) {
            Ok(Decoded::Packet(p)) => p.transport.payload().len(),
            _ => 0,
        })
    });
    g.finish();
}

/// Counts delivered stream bytes, so the work cannot be optimised away.
#[derive(Default)]
struct CountingSink {
    bytes: u64,
}

impl FlowSink for CountingSink {
    fn event(&mut self, ev: FlowEvent<'_>) -> Verdict {
        if let FlowEvent::Data { bytes, .. } = ev {
            self.bytes += bytes.len() as u64;
        }
        Verdict::Continue
    }
}

fn bench_flow(c: &mut Criterion) {
    // 32 HTTP connections, interleaved segment by segment: handshake, a 4 KB request, a 16 KB
    // response (MSS 1400, each segment acknowledged), close.
    const FLOWS: usize = 32;
    let mut per_flow: Vec<Vec<Vec<u8>>> = (0..FLOWS)
        .map(|i| {
            let mut s = TcpSession::new(
                (ip(&format!("192.0.2.{}", 10 + i)), 40000 + i as u16),
                (ip("198.51.100.80"), 80),
                i as u32 * 7919,
                1_000_000 + i as u32,
            );
            let mut pkts = s.handshake();
            pkts.extend(s.send(true, &vec![b'q'; 4000]));
            pkts.extend(s.send(false, &vec![b'r'; 16000]));
            pkts.extend(s.close());
            pkts
        })
        .collect();
    let mut frames = Vec::new();
    let mut n = 0u64;
    while per_flow.iter().any(|p| !p.is_empty()) {
        for p in &mut per_flow {
            if !p.is_empty() {
                n += 1;
                frames.push(record(n, net::frame(Link::Ethernet, &p.remove(0))));
            }
        }
    }
    let packets: Vec<Packet<'static>> = frames
        .iter()
        .map(|r| match decode_record(r).unwrap() {
            Decoded::Packet(p) => p.into_owned(),
            other => panic!("{other:?}"),
        })
        .collect();
    let stream_bytes = FLOWS as u64 * 20_000;
    let mut check = CountingSink::default();
    let mut table = FlowTable::new(FlowConfig::default());
    let mut diags = Vec::new();
    for p in &packets {
        table.push(p, &mut check, &mut diags);
    }
    table.finish(&mut check, &mut diags);
    assert_eq!(check.bytes, stream_bytes);

    let mut g = c.benchmark_group("flow_table_push");
    g.throughput(Throughput::Elements(packets.len() as u64));
    g.bench_function(format!("{}_segments_{FLOWS}_flows", packets.len()), |b| {
        b.iter(|| {
            let mut sink = CountingSink::default();
            let mut table = FlowTable::new(FlowConfig::default());
            let mut diags = Vec::new();
            for p in &packets {
                table.push(black_box(p), &mut sink, &mut diags);
            }
            table.finish(&mut sink, &mut diags);
            sink.bytes
        })
    });
    g.finish();
}

fn bench_mms(c: &mut Criterion) {
    let pdu = multipart_message(false);
    let ctx = DecodeContext::default();
    let decoded = mms::decode(&pdu, &ctx).unwrap();
    assert_eq!(decoded.parts().len(), 4);
    let mut g = c.benchmark_group("mms_decode");
    g.throughput(Throughput::Bytes(pdu.len() as u64));
    g.bench_function("m_retrieve_conf_multipart_4_parts", |b| {
        b.iter(|| mms::decode(black_box(&pdu), &ctx).map(|p| p.parts().len()))
    });
    g.finish();
}

fn bench_wsp_headers(c: &mut Criterion) {
    // The headers of a WSP Post carrying an MMS PDU and of a push: well-known fields in their
    // compact encodings, texts, a date, credentials and an application header.
    let headers = vec![
        WspHeader::content_type(
            ContentType::new("application/vnd.wap.multipart.related")
                .with_param("start", "<smil>")
                .with_param("type", "application/smil"),
        ),
        WspHeader::text("Accept", "application/vnd.wap.mms-message"),
        WspHeader::text("Accept-Language", "en"),
        WspHeader::text("User-Agent", "SampleTel S55 Profile/MIDP-2.0 MMS/1.2"),
        WspHeader::text("X-Wap-Profile", "http://uaprof.example.com/s55.xml"),
        WspHeader::authorization_basic("15550106", "ds8py76jaq"),
        WspHeader::date("Date", 1_700_000_000),
        WspHeader::integer("Content-Length", 48_213),
        WspHeader::text(
            "Content-Location",
            "http://mmsc.example.com/mms?id=0123456789",
        ),
        WspHeader::application_id(4),
        WspHeader::text("X-Operator-Trace", "abc123"),
    ];
    let block = encode_headers(&headers).unwrap();
    let decoded = decode_headers(&block);
    assert!(decoded.complete && decoded.issues.is_empty(), "{decoded:?}");
    assert_eq!(decoded.headers.len(), headers.len());
    let mut g = c.benchmark_group("wsp_decode_headers");
    g.throughput(Throughput::Bytes(block.len() as u64));
    g.bench_function(format!("{}_headers", headers.len()), |b| {
        b.iter(|| decode_headers(black_box(&block)).headers.len())
    });
    g.finish();
}

fn bench_http(c: &mut Criterion) {
    // Eight pipelined POSTs of an m-send-req, then their eight m-send-conf responses, each
    // direction delivered in 1400-byte pieces as TCP reassembly hands them over.
    const EXCHANGES: usize = 8;
    let body = multipart_message(true);
    let mut requests = Vec::new();
    let mut responses = Vec::new();
    for i in 0..EXCHANGES {
        requests.extend_from_slice(
            format!(
                "POST /mms HTTP/1.1\r\nHost: mmsc.example.com\r\nUser-Agent: SampleTel S55 Profile/MIDP-2.0 MMS/1.2\r\nX-MSISDN: +15550106\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        );
        requests.extend_from_slice(&body);
        let conf = msg::encode(
            &msg::pdu(MessageType::SEND_CONF, Some(&format!("T{i:010}")))
                .with(MmsField::ResponseStatus, msg::token(0x80)),
        )
        .unwrap();
        responses.extend_from_slice(
            format!(
                "HTTP/1.1 200 OK\r\nServer: ExampleMMSC/1.0\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: {}\r\n\r\n",
                conf.len()
            )
            .as_bytes(),
        );
        responses.extend_from_slice(&conf);
    }
    let run = |requests: &[u8], responses: &[u8]| {
        let mut conn = HttpConnection::new(HttpLimits::default());
        let mut diags = Vec::new();
        let mut frame = 0u64;
        for (dir, data) in [
            (Direction::ToServer, requests),
            (Direction::ToClient, responses),
        ] {
            for chunk in data.chunks(1400) {
                frame += 1;
                conn.on_data(dir, chunk, frame, ts(frame), &mut diags);
            }
        }
        conn.finish(&mut diags).len()
    };
    assert_eq!(run(&requests, &responses), EXCHANGES);
    let mut g = c.benchmark_group("http_connection");
    g.throughput(Throughput::Bytes((requests.len() + responses.len()) as u64));
    g.bench_function(format!("pipelined_{EXCHANGES}_exchanges"), |b| {
        b.iter(|| run(black_box(&requests), black_box(&responses)))
    });
    g.finish();
}

fn bench_tls(c: &mut Criterion) {
    let mut rng = Rng::new(3);
    let hello = tlsgen::client_hello(
        &mut rng,
        "mms.example.com",
        TlsVersion::Tls13,
        &["http/1.1"],
    );
    let parse = |rec: &[u8]| {
        let header = parse_record_header(rec).ok()?;
        let fragment = rec.get(RECORD_HEADER_LEN..)?;
        let hs = parse_handshake_header(fragment).ok()?;
        let body = fragment.get(HANDSHAKE_HEADER_LEN..)?;
        let ch = parse_client_hello(body).ok()?;
        Some((header.length, hs.length, ch.server_name.map(<[u8]>::len)))
    };
    assert_eq!(
        parse(&hello).and_then(|(_, _, sni)| sni),
        Some("mms.example.com".len())
    );
    let mut g = c.benchmark_group("tls_parser");
    g.throughput(Throughput::Bytes(hello.len() as u64));
    g.bench_function("client_hello_tls13_sni_alpn", |b| {
        b.iter(|| parse(black_box(&hello)))
    });
    g.finish();
}

fn bench_exif(c: &mut Criterion) {
    let meta = PhotoMeta {
        latitude: 48.858_37,
        longitude: 2.294_48,
        altitude: 35.0,
        make: "ExampleCam".into(),
        model: "X200".into(),
        taken: "2024:05:01 12:34:56".into(),
    };
    let jpeg = media::jpeg(Some(&meta), 128);
    let facts = mmsleak::audit::detect::exif::read_exif(&jpeg).unwrap();
    assert!(facts.has_gps());
    let mut g = c.benchmark_group("exif_read_exif");
    g.throughput(Throughput::Bytes(jpeg.len() as u64));
    g.bench_function("jpeg_with_gps", |b| {
        b.iter(|| mmsleak::audit::detect::exif::read_exif(black_box(&jpeg)).map(|f| f.has_gps()))
    });
    g.finish();
}

criterion_group! {
    name = parsers;
    // Short runs: these are regression indicators, not publication figures.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(2))
        .sample_size(50);
    targets = bench_packet, bench_flow, bench_mms, bench_wsp_headers, bench_http, bench_tls,
        bench_exif
}
criterion_main!(parsers);
