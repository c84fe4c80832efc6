//! Replays every input of the fuzz corpora (`fuzz/corpus/<target>/`) and of the crash
//! regressions (`fuzz/regressions/<target>/`) through the entry functions the fuzz targets use
//! (`fuzz/src/lib.rs`, included here), so the parsers stay panic-free on them in ordinary
//! `cargo test` runs.
//!
//! `cargo test --test fuzz_corpus -- --ignored write_seed_corpus` regenerates the seed inputs
//! (`seed-*` files) from the project's own encoders and capture writers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod entries;

use entries::TARGETS;
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

#[test]
fn corpus_and_regressions_replay_without_panics() {
    let mut replayed = 0usize;
    for (name, entry) in TARGETS {
        for kind in ["corpus", "regressions"] {
            for file in files_in(&fuzz_dir().join(kind).join(name)) {
                let data = std::fs::read(&file).unwrap();
                let result = std::panic::catch_unwind(|| entry(&data));
                assert!(result.is_ok(), "{name}: {} panicked", file.display());
                replayed += 1;
            }
        }
    }
    assert!(
        replayed > 0,
        "no corpus found under {}",
        fuzz_dir().display()
    );
}

#[test]
fn every_target_has_a_corpus() {
    for (name, _) in TARGETS {
        let files = files_in(&fuzz_dir().join("corpus").join(name));
        assert!(!files.is_empty(), "fuzz/corpus/{name} is empty");
    }
}

#[test]
fn every_target_has_a_fuzz_binary() {
    for (name, _) in TARGETS {
        let path = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        assert!(path.is_file(), "{} missing", path.display());
    }
}

#[test]
fn short_and_empty_inputs_are_harmless() {
    for (_, entry) in TARGETS {
        entry(&[]);
        for b in 0..=255u8 {
            entry(&[b]);
            entry(&[b, b, b]);
        }
    }
}

/// Seed inputs built with the project's own encoders.
mod seeds {
    use mmsleak::capture::{ByteOrder, PcapWriter, PcapngWriter, TsResolution};
    use mmsleak::proto::mms::{
        self, Address, MessageType, MmsBody, MmsField, MmsPart, MmsPdu, MmsValue, TimeSpec,
    };
    use mmsleak::proto::wsp::encoding::{ContentType, EncodedString, Version};
    use mmsleak::proto::wsp::headers::{WspHeader, encode_headers};
    use mmsleak::proto::wsp::multipart::{EntryToEncode, encode_multipart};
    use mmsleak::proto::wsp::pdu::{WspContent, WspPdu, WspPduBody};
    use mmsleak::proto::wtp::parser::{SegmentPlan, encode_ack, encode_segmented};
    use mmsleak::proto::wtp::{InvokeHeader, TransactionClass, WtpMessageKind};
    use mmsleak::synth::media::{self, PhotoMeta};
    use mmsleak::synth::net::{self, Link, TcpSession};
    use mmsleak::time::Timestamp;
    use std::net::IpAddr;

    pub fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn plain(s: &str) -> MmsValue {
        MmsValue::Text {
            text: EncodedString::plain(s),
        }
    }

    fn addr(s: &str) -> MmsValue {
        MmsValue::Address {
            address: Address::from_text(s),
        }
    }

    fn from(s: &str) -> MmsValue {
        MmsValue::From {
            address: Some(Address::from_text(s)),
        }
    }

    pub fn photo() -> PhotoMeta {
        PhotoMeta {
            latitude: 48.8584,
            longitude: -2.2945,
            altitude: 35.0,
            make: "ExampleCam".to_owned(),
            model: "X1".to_owned(),
            taken: "2024:05:01 12:34:56".to_owned(),
        }
    }

    pub fn parts() -> Vec<MmsPart> {
        vec![
            MmsPart::new(
                ContentType::new("application/smil"),
                vec![WspHeader::text("Content-ID", "<smil>")],
                media::smil("photo.jpg", "note.txt"),
            ),
            MmsPart::new(
                ContentType::new("text/plain").with_param("charset", "utf-8"),
                vec![WspHeader::text("Content-Location", "note.txt")],
                b"call me on +1 555 0100 or mail a@example.com".to_vec(),
            ),
            MmsPart::new(
                ContentType::new("text/x-vcard"),
                vec![WspHeader::text("Content-Location", "card.vcf")],
                media::vcard("Alice Example", "+15550101", "alice@example.com"),
            ),
            MmsPart::new(
                ContentType::new("image/jpeg"),
                vec![WspHeader::text("Content-Location", "photo.jpg")],
                media::jpeg(Some(&photo()), 0x80),
            ),
        ]
    }

    fn with_body(mut p: MmsPdu) -> MmsPdu {
        let ct = ContentType::new("application/vnd.wap.multipart.related")
            .with_param("start", "<smil>")
            .with_param("type", "application/smil");
        p = p.with(
            MmsField::ContentType,
            MmsValue::ContentType {
                content_type: ct.clone(),
            },
        );
        p.body = Some(MmsBody {
            content_type: ct,
            multipart: true,
            parts: parts(),
        });
        p
    }

    fn base(t: MessageType, tid: &str) -> MmsPdu {
        MmsPdu::new(t)
            .with(MmsField::TransactionId, plain(tid))
            .with(
                MmsField::MmsVersion,
                MmsValue::Version {
                    version: Version::Short {
                        major: 1,
                        minor: Some(2),
                    },
                },
            )
    }

    pub fn send_req() -> Vec<u8> {
        let p = base(MessageType::SEND_REQ, "T-0001")
            .with(MmsField::From, MmsValue::From { address: None })
            .with(MmsField::To, addr("+15550101/TYPE=PLMN"))
            .with(MmsField::Cc, addr("cc@example.com"))
            .with(MmsField::Bcc, addr("bcc@example.com"))
            .with(
                MmsField::Subject,
                MmsValue::Text {
                    text: EncodedString::with_charset(106, "Grüße"),
                },
            );
        mms::encode(&with_body(p)).unwrap()
    }

    pub fn notification_ind() -> Vec<u8> {
        let p = base(MessageType::NOTIFICATION_IND, "T-0002")
            .with(MmsField::From, from("+15550102/TYPE=PLMN"))
            .with(MmsField::MessageSize, MmsValue::Integer { value: 12345 })
            .with(
                MmsField::Expiry,
                MmsValue::Time {
                    time: TimeSpec {
                        relative: true,
                        secs: 86_400,
                        resolved: None,
                    },
                },
            )
            .with(
                MmsField::ContentLocation,
                plain("http://mmsc.example.com/m/7"),
            );
        mms::encode(&p).unwrap()
    }

    pub fn retrieve_conf() -> Vec<u8> {
        let p = base(MessageType::RETRIEVE_CONF, "T-0003")
            .with(MmsField::MessageId, plain("msg-1@mmsc.example.com"))
            .with(MmsField::From, from("+15550103/TYPE=PLMN"))
            .with(MmsField::To, addr("+15550104/TYPE=PLMN"))
            .with(
                MmsField::Date,
                MmsValue::Date {
                    secs: 1_700_000_000,
                },
            );
        mms::encode(&with_body(p)).unwrap()
    }

    pub fn send_conf() -> Vec<u8> {
        let p = base(MessageType::SEND_CONF, "T-0001")
            .with(MmsField::ResponseStatus, MmsValue::Token { octet: 0x80 })
            .with(MmsField::MessageId, plain("msg-1@mmsc.example.com"));
        mms::encode(&p).unwrap()
    }

    pub fn multipart() -> Vec<u8> {
        let parts = parts();
        let entries: Vec<EntryToEncode<'_>> = parts
            .iter()
            .map(|p| EntryToEncode {
                content_type: &p.content_type,
                headers: &p.headers,
                data: &p.data,
            })
            .collect();
        encode_multipart(&entries).unwrap()
    }

    pub fn wsp_header_block() -> Vec<u8> {
        encode_headers(&[
            WspHeader::content_type(
                ContentType::new("application/vnd.wap.mms-message").with_param("charset", "utf-8"),
            ),
            WspHeader::application_id(4),
            WspHeader::authorization_basic("alice", "secret"),
            WspHeader::text("X-Wap-Network-Client-MSISDN", "15550101"),
            WspHeader::text("User-Agent", "ExamplePhone/1.0"),
            WspHeader::integer("Content-Length", 4242),
            WspHeader::date("Date", 1_700_000_000),
        ])
        .unwrap()
    }

    pub fn wsp_get(tid: Option<u8>, uri: &str, headers: &[u8]) -> Vec<u8> {
        WspPdu {
            tid,
            body: WspPduBody::Get {
                pdu_type: 0x40,
                uri: uri.as_bytes(),
                headers,
            },
        }
        .to_bytes()
        .unwrap()
    }

    pub fn wsp_post(tid: Option<u8>, uri: &str, body: &[u8]) -> Vec<u8> {
        WspPdu {
            tid,
            body: WspPduBody::Post {
                pdu_type: 0x60,
                uri: uri.as_bytes(),
                content: WspContent {
                    content_type: ContentType::new("application/vnd.wap.mms-message"),
                    headers: &[],
                    data: body,
                },
            },
        }
        .to_bytes()
        .unwrap()
    }

    pub fn wsp_reply(tid: Option<u8>, media: &str, headers: &[u8], data: &[u8]) -> Vec<u8> {
        WspPdu {
            tid,
            body: WspPduBody::Reply {
                status: 0x20,
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

    pub fn wsp_push(tid: Option<u8>, headers: &[u8], data: &[u8]) -> Vec<u8> {
        WspPdu {
            tid,
            body: WspPduBody::Push {
                confirmed: false,
                content: WspContent {
                    content_type: ContentType::new("application/vnd.wap.mms-message"),
                    headers,
                    data,
                },
            },
        }
        .to_bytes()
        .unwrap()
    }

    pub fn push_headers() -> Vec<u8> {
        encode_headers(&[WspHeader::application_id(4)]).unwrap()
    }

    /// The WTP packets of a class 2 Invoke carrying `wsp` (segmented when long), the Result
    /// carrying `reply`, and the Acks.
    pub fn wtp_exchange(
        tid: u16,
        wsp: &[u8],
        reply: &[u8],
        segment: usize,
    ) -> Vec<(bool, Vec<u8>)> {
        let header = InvokeHeader {
            version: 0,
            tid_new: false,
            user_ack: false,
            class: TransactionClass::Class2,
        };
        let plan = SegmentPlan {
            segment_size: segment,
            group_size: 2,
        };
        let mut out = Vec::new();
        for p in encode_segmented(WtpMessageKind::Invoke, tid, header, wsp, plan) {
            out.push((true, p));
        }
        for p in encode_segmented(WtpMessageKind::Result, tid, header, reply, plan) {
            out.push((false, p));
        }
        out.push((true, encode_ack(net_tid(tid), false, None)));
        out
    }

    fn net_tid(tid: u16) -> mmsleak::proto::wtp::Tid {
        mmsleak::proto::wtp::Tid::initiator(tid)
    }

    pub fn client_hello(host: &str) -> Vec<u8> {
        let mut ext = Vec::new();
        let h = host.as_bytes();
        ext.extend_from_slice(&[0, 0]);
        ext.extend_from_slice(&((h.len() + 5) as u16).to_be_bytes());
        ext.extend_from_slice(&((h.len() + 3) as u16).to_be_bytes());
        ext.push(0);
        ext.extend_from_slice(&(h.len() as u16).to_be_bytes());
        ext.extend_from_slice(h);
        // supported_versions: TLS 1.3, 1.2
        ext.extend_from_slice(&[0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03]);
        // ALPN: http/1.1
        ext.extend_from_slice(&[0x00, 0x10, 0x00, 0x0b, 0x00, 0x09, 0x08]);
        ext.extend_from_slice(b"http/1.1");
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&[0x42; 32]);
        body.push(0);
        body.extend_from_slice(&[0x00, 0x04, 0x13, 0x01, 0xc0, 0x2f, 0x01, 0x00]);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        handshake_record(1, &body)
    }

    pub fn server_hello() -> Vec<u8> {
        let mut ext = Vec::new();
        ext.extend_from_slice(&[0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
        let mut body = vec![0x03, 0x03];
        body.extend_from_slice(&[0x24; 32]);
        body.push(0);
        body.extend_from_slice(&[0x13, 0x01, 0x00]);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        handshake_record(2, &body)
    }

    fn handshake_record(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut hs = vec![kind];
        hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        hs.extend_from_slice(body);
        let mut rec = vec![0x16, 0x03, 0x01];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        rec
    }

    pub fn http_post(body: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "POST /mms HTTP/1.1\r\nHost: mmsc.example.com\r\nContent-Type: application/vnd.wap.mms-message\r\nX-MSISDN: 15550101\r\nAuthorization: Basic YWxpY2U6c2VjcmV0\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        r.extend_from_slice(body);
        r
    }

    pub fn http_response(body: &[u8], chunked: bool) -> Vec<u8> {
        let mut r = Vec::new();
        if chunked {
            r.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.wap.mms-message\r\nTransfer-Encoding: chunked\r\n\r\n");
            for c in body.chunks(100) {
                r.extend_from_slice(format!("{:x};ext=1\r\n", c.len()).as_bytes());
                r.extend_from_slice(c);
                r.extend_from_slice(b"\r\n");
            }
            r.extend_from_slice(b"0\r\nX-Trailer: t\r\n\r\n");
        } else {
            r.extend_from_slice(
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                )
                .as_bytes(),
            );
            r.extend_from_slice(body);
        }
        r
    }

    pub fn http_get(url: &str) -> Vec<u8> {
        format!(
            "GET {url} HTTP/1.1\r\nHost: mmsc.example.com\r\nCookie: session=abcdef0123456789\r\n\r\n"
        )
        .into_bytes()
    }

    /// IP packets of an HTTP exchange over TCP (handshake, request, response, close).
    pub fn tcp_exchange(request: &[u8], response: &[u8], port: u16) -> Vec<Vec<u8>> {
        let mut s = TcpSession::new(
            (ip("192.0.2.10"), 49_200),
            (ip("198.51.100.20"), port),
            1000,
            900_000,
        );
        s.mss = 536;
        let mut out = s.handshake();
        out.extend(s.send(true, request));
        out.extend(s.send(false, response));
        out.extend(s.close());
        out
    }

    pub fn ts(i: usize, digits: u8) -> Timestamp {
        Timestamp::new(
            1_700_000_000 + i as i64,
            (i as u32 % 1000) * 1_000_000,
            digits,
        )
    }

    pub fn pcap(link: Link, packets: &[Vec<u8>], nanos: bool, order: ByteOrder) -> Vec<u8> {
        let v6 = packets.first().is_some_and(|p| p[0] >> 4 == 6);
        let mut w = PcapWriter::with_byte_order(Vec::new(), link.linktype(v6), 65535, nanos, order)
            .unwrap();
        for (i, p) in packets.iter().enumerate() {
            let f = net::frame(link, p);
            w.write_packet(&ts(i, if nanos { 9 } else { 6 }), f.len() as u32, &f)
                .unwrap();
        }
        w.into_inner().unwrap()
    }

    pub fn pcapng(
        groups: &[(Link, Vec<Vec<u8>>)],
        order: ByteOrder,
        tsresol: TsResolution,
    ) -> Vec<u8> {
        let mut w = PcapngWriter::with_byte_order(Vec::new(), order).unwrap();
        let mut ids = Vec::new();
        for (link, packets) in groups {
            let v6 = packets.first().is_some_and(|p| p[0] >> 4 == 6);
            ids.push(
                w.add_interface(link.linktype(v6) as u16, 65535, tsresol)
                    .unwrap(),
            );
        }
        let mut n = 0;
        for ((link, packets), id) in groups.iter().zip(ids) {
            for p in packets {
                let f = net::frame(*link, p);
                w.write_packet(id, &ts(n, 6), f.len() as u32, &f).unwrap();
                n += 1;
            }
        }
        w.into_inner().unwrap()
    }

    pub fn gzip(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }
}

/// Writes `fuzz/corpus/<target>/seed-*` from the project's encoders. Run by hand after the
/// formats change; the fuzzers then grow the corpus from these.
#[test]
#[ignore = "writes files into fuzz/corpus; run by hand"]
fn write_seed_corpus() {
    use mmsleak::capture::{ByteOrder, TsResolution, linktype};
    use mmsleak::synth::media;
    use mmsleak::synth::net::{self, Link};
    use seeds::*;

    let mut all: Vec<(&str, String, Vec<u8>)> = Vec::new();
    let mut add = |target: &'static str, name: &str, data: Vec<u8>| {
        all.push((target, name.to_owned(), data));
    };

    // MMS PDUs and their parts.
    let mms = [
        ("send-req", send_req()),
        ("notification-ind", notification_ind()),
        ("retrieve-conf", retrieve_conf()),
        ("send-conf", send_conf()),
    ];
    for (name, pdu) in &mms {
        add("mms_pdu", name, pdu.clone());
    }
    add("multipart", "related", multipart());
    let headers = wsp_header_block();
    add("wsp_headers", "mms-request", headers.clone());
    add("wsp_headers", "push", push_headers());

    // WSP PDUs, connectionless (TID first) and connection-oriented.
    let notification = notification_ind();
    let retrieve = retrieve_conf();
    let cl_get = wsp_get(Some(1), "http://mmsc.example.com/m/7", &headers);
    let cl_reply = wsp_reply(Some(1), "application/vnd.wap.mms-message", &[], &retrieve);
    let cl_push = wsp_push(Some(2), &push_headers(), &notification);
    let co_post = wsp_post(None, "http://mmsc.example.com/", &send_req());
    let co_reply = wsp_reply(None, "application/vnd.wap.mms-message", &[], &send_conf());
    add("wsp_pdu", "cl-get", cl_get.clone());
    add("wsp_pdu", "cl-reply", cl_reply.clone());
    add("wsp_pdu", "cl-push", cl_push.clone());
    add("wsp_pdu", "co-post", co_post.clone());
    add("wsp_pdu", "co-reply", co_reply.clone());

    // WAP datagram sequences: flags, seconds, u16 length, datagram.
    let datagram = |flags: u8, secs: u8, d: &[u8]| {
        let mut v = vec![flags, secs];
        v.extend_from_slice(&(d.len() as u16).to_be_bytes());
        v.extend_from_slice(d);
        v
    };
    let mut wtp_seq = Vec::new();
    for (to_server, p) in wtp_exchange(7, &co_post, &co_reply, 300) {
        wtp_seq.extend(datagram(u8::from(!to_server), 1, &p));
    }
    add("wtp_reassembly", "co-post-segmented", wtp_seq.clone());
    let mut wtp_one = Vec::new();
    for (to_server, p) in wtp_exchange(
        9,
        &wsp_get(None, "http://mmsc.example.com/m/7", &[]),
        &co_reply,
        1400,
    ) {
        wtp_one.extend(datagram(u8::from(!to_server) | 0x10, 0, &p));
    }
    add("wtp_reassembly", "co-get", wtp_one);
    let mut cl_seq = datagram(0x04, 0, &cl_get);
    cl_seq.extend(datagram(0x05, 1, &cl_reply));
    cl_seq.extend(datagram(0x25, 2, &cl_push));
    add("wtp_reassembly", "connectionless", cl_seq);

    // TCP segment sequences: flags, len, seq delta, ack delta, seconds, payload.
    let seg = |flags: u8, seq: i16, ack: i16, payload: &[u8]| {
        let mut v = vec![flags, payload.len() as u8];
        v.extend_from_slice(&seq.to_be_bytes());
        v.extend_from_slice(&ack.to_be_bytes());
        v.push(0);
        v.extend_from_slice(payload);
        v
    };
    let req = http_get("/m/7");
    let mut tcp = Vec::new();
    tcp.extend(seg(0x02, 0, 0, &[])); // SYN
    tcp.extend(seg(0x13, 0, 0, &[])); // SYN-ACK
    tcp.extend(seg(0x10, 0, 0, &[])); // ACK
    tcp.extend(seg(0x10, 20, 0, &req[20..40])); // out of order
    tcp.extend(seg(0x10, -40, 0, &req[..20])); // fills the hole
    tcp.extend(seg(0x10, 0, 0, &req[40..])); // rest
    tcp.extend(seg(
        0x11,
        0,
        0,
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
    ));
    tcp.extend(seg(0x10, -5, 0, b"again")); // overlap
    tcp.extend(seg(0x15, 0, 0, &[])); // FIN
    tcp.extend(seg(0x14, 0, 0, &[])); // FIN
    add("tcp_reassembly", "handshake-reorder-fin", tcp);
    let mut tcp2 = Vec::new();
    tcp2.extend(seg(0x10, 0, 0, b"mid-stream data"));
    tcp2.extend(seg(0x31, 100, 0, b"second connection"));
    tcp2.extend(seg(0x10, 500, 0, b"after a hole"));
    tcp2.extend(seg(0x11, 0, 300, b"reply acking past a gap"));
    tcp2.extend(seg(0x08, 0, 0, &[])); // RST
    add("tcp_reassembly", "gaps-two-connections", tcp2);

    // HTTP stream events: op, len, bytes.
    let post = http_post(&send_req());
    let response = http_response(&send_conf(), false);
    let data_event = |to_client: bool, bytes: &[u8]| {
        let mut v = Vec::new();
        for c in bytes.chunks(2000) {
            v.push(if to_client { 0x0c } else { 0x08 });
            v.extend_from_slice(&(c.len() as u16).to_be_bytes());
            v.extend_from_slice(c);
        }
        v
    };
    let mut http = data_event(false, &post);
    http.extend(data_event(true, &response));
    http.extend(data_event(
        false,
        &http_get("http://mmsc.example.com/m/7?token=abc123"),
    ));
    http.extend(data_event(true, &http_response(&retrieve, true)));
    http.push(0x0a); // close both
    add("http_stream", "post-get-chunked", http);
    let mut gap = data_event(false, &post[..200]);
    gap.extend([0x01, 0x01, 0x00]); // gap of 256 bytes to the server
    gap.extend(data_event(false, &http_get("/m/8")));
    gap.extend(data_event(
        true,
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 204 No Content\r\n\r\n",
    ));
    add("http_stream", "gap-resync", gap);
    let mut connect = data_event(
        false,
        b"CONNECT mmsc.example.com:443 HTTP/1.1\r\nHost: mmsc.example.com\r\n\r\n",
    );
    connect.extend(data_event(
        true,
        b"HTTP/1.1 200 Connection established\r\n\r\n",
    ));
    connect.extend(data_event(false, &client_hello("mmsc.example.com")));
    connect.extend(data_event(true, &server_hello()));
    add("http_stream", "connect-tls", connect);
    let mut gz = data_event(
        false,
        b"GET /m/9 HTTP/1.1\r\nHost: mmsc.example.com\r\n\r\n",
    );
    let body = gzip(&retrieve);
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    resp.extend_from_slice(&body);
    gz.extend(data_event(true, &resp));
    add("http_stream", "gzip", gz);

    // TLS: control byte, then the stream.
    let mut tls = vec![0x3f];
    tls.extend(client_hello("mmsc.example.com"));
    add("tls_hello", "client-hello", tls);
    let mut tls2 = vec![0x47];
    tls2.extend(server_hello());
    add("tls_hello", "server-hello-small-segments", tls2);

    // Detectors.
    add("exif", "jpeg-gps", media::jpeg(Some(&photo()), 0x40));
    add("exif", "tiff", media::exif_tiff(&photo()));
    add("exif", "png", media::png(2, 2, 0x10));
    add(
        "vcard",
        "vcard",
        media::vcard("Alice Example", "+15550101", "alice@example.com"),
    );
    add(
        "vcard",
        "vcalendar-and-headers",
        b"BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:Lunch\r\nLOCATION:1 Main St\r\n folded\r\nEND:VEVENT\r\nEND:VCALENDAR\r\nBasic YWxpY2U6c2VjcmV0\r\nDigest username=\"bob\", realm=\"example.com\"\r\nhttp://alice:pw@mmsc.example.com/m/00001?token=Zx81kq&sid=7\r\nsession=abc; id=42\r\n+1 (555) 010-0199 alice@example.com 310150123456789 490154203237518\r\n".to_vec(),
    );

    // Frames: link type selector, flags, then u16-length-prefixed frames.
    let udp = net::udp(ip("192.0.2.10"), ip("198.51.100.20"), 49_300, 9200, &cl_get);
    let udp_ip = net::ip(ip("192.0.2.10"), ip("198.51.100.20"), 17, 5, &udp);
    let udp6 = net::udp(ip("2001:db8::1"), ip("2001:db8::2"), 49_300, 2948, &cl_push);
    let udp6_ip = net::ip(ip("2001:db8::1"), ip("2001:db8::2"), 17, 6, &udp6);
    let gtp_inner = net::gtp_u(0x1234, Some(1), &udp_ip);
    let gtp_udp = net::udp(ip("203.0.113.1"), ip("203.0.113.2"), 2152, 2152, &gtp_inner);
    let gtp_ip = net::ip(ip("203.0.113.1"), ip("203.0.113.2"), 17, 7, &gtp_udp);
    let frags = net::fragment(&udp_ip, 64, 77);
    let links = [
        Link::Null,
        Link::Ethernet,
        Link::Raw,
        Link::Raw,
        Link::Loop,
        Link::Raw,
        Link::Sll,
        Link::RawVersioned,
        Link::RawVersioned,
        Link::Sll2,
    ];
    assert_eq!(links.len(), linktype::DECODED.len());
    for (i, link) in links.iter().enumerate() {
        let mut frames = vec![i as u8, 0];
        let packets: Vec<&Vec<u8>> = if linktype::DECODED[i] == linktype::IPV6 {
            vec![&udp6_ip]
        } else if linktype::DECODED[i] == linktype::IPV4 {
            frags.iter().chain([&gtp_ip]).collect()
        } else {
            [&udp_ip, &udp6_ip, &gtp_ip]
                .into_iter()
                .chain(frags.iter())
                .collect()
        };
        for p in packets {
            let f = net::frame(*link, p);
            frames.extend_from_slice(&(f.len() as u16).to_be_bytes());
            frames.extend_from_slice(&f);
        }
        add(
            "packet_decode",
            &format!("link-{}", linktype::DECODED[i]),
            frames,
        );
    }
    let mut vlan = vec![1u8, 1];
    for link in [Link::Vlan(100), Link::QinQ(10, 20)] {
        let f = net::frame(link, &udp_ip);
        vlan.extend_from_slice(&(f.len() as u16).to_be_bytes());
        vlan.extend_from_slice(&f);
    }
    add("packet_decode", "vlan-qinq-cut", vlan);

    // Captures.
    let http_packets = tcp_exchange(&post, &response, 8080);
    let wap_packets: Vec<Vec<u8>> = [(true, cl_get.clone()), (false, cl_reply.clone())]
        .iter()
        .map(|(to_server, d)| {
            let (s, dd, sp, dp) = if *to_server {
                ("192.0.2.10", "198.51.100.20", 49_300, 9200)
            } else {
                ("198.51.100.20", "192.0.2.10", 9200, 49_300)
            };
            net::ip(ip(s), ip(dd), 17, 9, &net::udp(ip(s), ip(dd), sp, dp, d))
        })
        .collect();
    let mut wtp_packets = Vec::new();
    for (to_server, p) in wtp_exchange(5, &co_post, &co_reply, 500) {
        let (s, d, sp, dp) = if to_server {
            ("192.0.2.11", "198.51.100.21", 49_301, 9201)
        } else {
            ("198.51.100.21", "192.0.2.11", 9201, 49_301)
        };
        wtp_packets.push(net::ip(
            ip(s),
            ip(d),
            17,
            10,
            &net::udp(ip(s), ip(d), sp, dp, &p),
        ));
    }
    let push_packet = {
        let u = net::udp(
            ip("198.51.100.22"),
            ip("192.0.2.12"),
            49_302,
            2948,
            &cl_push,
        );
        net::ip(ip("198.51.100.22"), ip("192.0.2.12"), 17, 11, &u)
    };
    let gtp_packets: Vec<Vec<u8>> =
        tcp_exchange(&http_get("/m/7"), &http_response(&retrieve, true), 80)
            .iter()
            .map(|p| {
                let g = net::gtp_u(0xbeef, None, p);
                net::ip(
                    ip("203.0.113.1"),
                    ip("203.0.113.2"),
                    17,
                    12,
                    &net::udp(ip("203.0.113.1"), ip("203.0.113.2"), 2152, 2152, &g),
                )
            })
            .collect();
    let tls_packets = tcp_exchange(&client_hello("mms.example.com"), &server_hello(), 443);

    let http_pcap = pcap(Link::Ethernet, &http_packets, false, ByteOrder::Little);
    add(
        "capture_reader",
        "pcap-ethernet",
        pcap(Link::Ethernet, &wap_packets, false, ByteOrder::Little),
    );
    add(
        "capture_reader",
        "pcap-sll-nanos-be",
        pcap(Link::Sll, &wap_packets, true, ByteOrder::Big),
    );
    add(
        "capture_reader",
        "pcapng-two-interfaces",
        pcapng(
            &[
                (Link::Raw, wap_packets.clone()),
                (Link::Sll2, vec![push_packet.clone()]),
            ],
            ByteOrder::Big,
            TsResolution::NANOS,
        ),
    );
    add(
        "capture_reader",
        "pcap-gzip",
        gzip(&pcap(Link::Null, &wap_packets, false, ByteOrder::Little)),
    );
    let mut damaged = pcap(Link::Ethernet, &wap_packets, false, ByteOrder::Little);
    damaged[24 + 8] = 0xff; // caplen of the first record
    add("capture_reader", "pcap-damaged-record", damaged);

    add("whole_pipeline", "http-mms", http_pcap);
    let mut wap_all = wap_packets.clone();
    wap_all.push(push_packet.clone());
    wap_all.extend(wtp_packets.iter().cloned());
    add(
        "whole_pipeline",
        "wsp-wtp-push",
        pcap(Link::Ethernet, &wap_all, false, ByteOrder::Little),
    );
    add(
        "whole_pipeline",
        "gtp-http-chunked",
        pcap(Link::Raw, &gtp_packets, false, ByteOrder::Little),
    );
    add(
        "whole_pipeline",
        "pcapng-tls-and-fragments",
        pcapng(
            &[
                (Link::Ethernet, tls_packets),
                (Link::Sll, net::fragment(&wap_packets[1], 256, 99)),
            ],
            ByteOrder::Little,
            TsResolution::MICROS,
        ),
    );

    // Sample captures of the project (small ones), when present.
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("captures");
    for file in files_in(&samples) {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let data = std::fs::read(&file).unwrap();
        let capture = [".pcap", ".pcapng", ".pcap.gz"]
            .iter()
            .any(|ext| name.ends_with(ext));
        if capture && data.len() <= 16 * 1024 {
            if name.starts_with("formats") {
                add("capture_reader", &format!("sample-{name}"), data.clone());
            }
            add("whole_pipeline", &format!("sample-{name}"), data);
        }
    }

    for (target, name, data) in all {
        let dir = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("seed-{name}")), &data).unwrap();
    }
}
