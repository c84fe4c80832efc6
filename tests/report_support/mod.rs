//! Shared fixtures for the report tests: realistic `Report` values built in code, with the part
//! bytes beside them. Documentation addresses, example.com names and +1-555-01xx numbers only.
#![allow(
    dead_code,
    clippy::too_many_arguments,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod schema;

use mmsleak::report::model::*;
use mmsleak::synth::media;
use mmsleak::time::Timestamp;
use mmsleak::transfer::{PartContent, TransferRecord};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::net::IpAddr;

pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

pub fn ep(s: &str, port: u16) -> Endpoint {
    Endpoint { ip: ip(s), port }
}

pub fn sha(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn hdrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect()
}

pub fn part(index: usize, content_type: &str, name: Option<&str>, data: &[u8]) -> PartReport {
    PartReport {
        index,
        content_type: content_type.into(),
        name: name.map(str::to_owned),
        content_id: name.map(|n| format!("<{n}>")),
        content_location: name.map(str::to_owned),
        charset: content_type
            .starts_with("text/")
            .then(|| "utf-8".to_owned()),
        size: data.len() as u64,
        sha256: sha(data),
        extracted_to: None,
    }
}

pub fn pdu(frame: u64, direction: &'static str, message_type: &str) -> PduReport {
    PduReport {
        frame,
        direction,
        message_type: message_type.into(),
        transaction_id: None,
        mms_version: Some("1.2".into()),
        message_id: None,
        from: None,
        to: vec![],
        cc: vec![],
        bcc: vec![],
        subject: None,
        content_location: None,
        date: None,
        expiry: None,
        message_size: None,
        content_type: None,
        headers: BTreeMap::new(),
        parts: vec![],
    }
}

#[allow(clippy::too_many_arguments)]
pub fn transfer(
    id: &str,
    transport: &'static str,
    client: Endpoint,
    server: Endpoint,
    first: u64,
    last: u64,
) -> Transfer {
    let encrypted = matches!(transport, "tls" | "wtls");
    Transfer {
        id: id.into(),
        input: "captures/lab.pcapng".into(),
        transport,
        client,
        server,
        tunnel: None,
        first_frame: first,
        last_frame: last,
        start: format!("2024-05-01T10:00:{:02}.000000Z", first % 60),
        end: format!("2024-05-01T10:00:{:02}.500000Z", last % 60),
        encrypted,
        complete: true,
        sni: None,
        tls_version: None,
        handshake_frames: Vec::new(),
        request: None,
        response: None,
        pdus: vec![],
    }
}

pub fn finding(
    id: &str,
    rule: &'static str,
    severity: Severity,
    transfer: Option<&str>,
    message: Option<&str>,
    frames: Vec<u64>,
    title: &str,
    evidence: serde_json::Value,
) -> Finding {
    let r = mmsleak::audit::rules::rule(rule).unwrap();
    Finding {
        id: id.into(),
        rule: r.id,
        category: r.category,
        severity,
        transfer: transfer.map(str::to_owned),
        message: message.map(str::to_owned),
        frames,
        title: title.into(),
        evidence: evidence.as_object().cloned().unwrap_or_default(),
        remediation: r.remediation,
    }
}

pub fn record(transfer: Transfer, parts: Vec<PartContent>) -> TransferRecord {
    TransferRecord {
        transfer,
        start: Timestamp::new(1_714_557_600, 0, 6),
        end: Timestamp::new(1_714_557_601, 0, 6),
        input_index: 0,
        parts,
        texts: vec![],
        details: vec![],
        pdu_bytes: vec![],
    }
}

/// Media of the sample message.
pub struct Media {
    pub text: Vec<u8>,
    pub jpeg: Vec<u8>,
    pub png: Vec<u8>,
    pub vcard: Vec<u8>,
    pub smil: Vec<u8>,
}

pub fn media() -> Media {
    let meta = media::PhotoMeta {
        latitude: 48.858370,
        longitude: 2.294481,
        altitude: 35.0,
        make: "ExampleCam".into(),
        model: "EC-1".into(),
        taken: "2024:05:01 09:58:00".into(),
    };
    Media {
        text: b"Meet me at 6, call +1-555-0142 or mail bob.smith@example.org".to_vec(),
        jpeg: media::jpeg(Some(&meta), 128),
        png: media::png(64, 48, 90),
        vcard: media::vcard("Jane Doe", "+1-555-0134", "jane@example.com"),
        smil: media::smil("photo.jpg", "note.txt"),
    }
}

/// A report with one transfer of each transport, a correlated message, findings of many rules,
/// diagnostics and an unreadable input; and the transfer records holding the parts' bytes.
pub fn full_report() -> (Report, Vec<TransferRecord>) {
    let m = media();

    // T1: HTTP m-send-req from the phone, with header enrichment and credentials.
    let mut t1 = transfer(
        "T1",
        "http",
        ep("192.0.2.10", 49152),
        ep("198.51.100.5", 80),
        4,
        12,
    );
    t1.request = Some(RequestReport {
        method: "POST".into(),
        uri: "http://mmsc.example.com/mms?sid=AbCdEf123456&x=1".into(),
        headers: hdrs(&[
            ("Host", "mmsc.example.com"),
            ("Content-Type", "application/vnd.wap.mms-message"),
            ("X-MSISDN", "+15550101"),
            ("X-IMSI", "001010123456789"),
            ("X-IMEI", "490154203237518"),
            ("Authorization", "Basic YWxpY2U6czNjcmV0"),
            ("Cookie", "JSESSIONID=Zq8RkT2mWx; theme=dark"),
        ]),
        frames: vec![4, 6, 8],
    });
    t1.response = Some(ResponseReport {
        status: Some(200),
        headers: hdrs(&[
            ("Content-Type", "application/vnd.wap.mms-message"),
            ("Set-Cookie", "SESSION=QwErTy987654; Path=/; HttpOnly"),
        ]),
        frames: vec![10, 12],
    });
    let mut send = pdu(8, "to-server", "m-send-req");
    send.transaction_id = Some("TX-0001".into());
    send.from = None; // Insert-address token.
    send.to = vec!["+1-555-0102/TYPE=PLMN".into(), "carol@example.com".into()];
    send.cc = vec!["+15550103/TYPE=PLMN".into()];
    send.subject = Some("Dinner with Jane Doe at +1 555 0142".into());
    send.date = Some("2024-05-01T10:00:04Z".into());
    send.content_type = Some("application/vnd.wap.multipart.related".into());
    send.headers
        .insert("X-Mms-Message-Class".into(), "personal".into());
    send.headers
        .insert("X-Mms-Delivery-Report".into(), "yes".into());
    send.parts = vec![
        part(0, "application/smil", Some("pres.smil"), &m.smil),
        part(1, "text/plain", Some("note.txt"), &m.text),
        part(2, "image/jpeg", Some("photo.jpg"), &m.jpeg),
        part(3, "text/x-vcard", Some("jane.vcf"), &m.vcard),
        part(4, "image/png", None, &m.png),
    ];
    t1.pdus = vec![send, pdu(12, "to-client", "m-send-conf")];
    t1.pdus[1].transaction_id = Some("TX-0001".into());
    t1.pdus[1].message_id = Some("msg-20240501-0001".into());
    t1.pdus[1]
        .headers
        .insert("X-Mms-Response-Status".into(), "ok".into());
    let r1 = record(
        t1.clone(),
        vec![
            PartContent {
                pdu: 0,
                part: 0,
                content_type: "application/smil".into(),
                charset: None,
                data: m.smil.clone(),
            },
            PartContent {
                pdu: 0,
                part: 1,
                content_type: "text/plain".into(),
                charset: Some("utf-8".into()),
                data: m.text.clone(),
            },
            PartContent {
                pdu: 0,
                part: 2,
                content_type: "image/jpeg".into(),
                charset: None,
                data: m.jpeg.clone(),
            },
            PartContent {
                pdu: 0,
                part: 3,
                content_type: "text/x-vcard".into(),
                charset: None,
                data: m.vcard.clone(),
            },
            PartContent {
                pdu: 0,
                part: 4,
                content_type: "image/png".into(),
                charset: None,
                data: m.png.clone(),
            },
        ],
    );

    // T2: connectionless WSP push inside a GTP-U tunnel.
    let mut t2 = transfer(
        "T2",
        "wsp",
        ep("192.0.2.20", 2948),
        ep("198.51.100.9", 9200),
        20,
        20,
    );
    t2.tunnel = Some(TunnelReport {
        kind: "gtp-u",
        teid: 0x1234_5678,
        outer_client: ip("203.0.113.1"),
        outer_server: ip("203.0.113.2"),
    });
    let mut notif = pdu(20, "to-client", "m-notification-ind");
    notif.transaction_id = Some("TX-0002".into());
    notif.from = Some("+15550101/TYPE=PLMN".into());
    notif.subject = Some("Photos".into());
    notif.content_location = Some("http://mmsc.example.com/get/7".into());
    notif.expiry = Some("2024-05-08T10:00:20Z".into());
    notif.message_size = Some(4096);
    notif
        .headers
        .insert("X-Mms-Message-Class".into(), "personal".into());
    t2.pdus = vec![notif];

    // T3: WTP/WSP-CO retrieval that still carries Bcc and a forwarding chain.
    let mut t3 = transfer(
        "T3",
        "wtp",
        ep("192.0.2.20", 49200),
        ep("198.51.100.9", 9201),
        30,
        41,
    );
    t3.complete = false;
    let mut conf = pdu(41, "to-client", "m-retrieve-conf");
    conf.transaction_id = Some("TX-0002".into());
    conf.message_id = Some("msg-20240501-0001".into());
    conf.from = Some("+15550101/TYPE=PLMN".into());
    conf.to = vec!["+15550102/TYPE=PLMN".into()];
    conf.bcc = vec!["dave@example.net".into()];
    conf.date = Some("2024-05-01T10:00:04Z".into());
    conf.content_type = Some("application/vnd.wap.multipart.related".into());
    conf.headers.insert(
        "X-Mms-Previously-Sent-By".into(),
        "+1-555-0104/TYPE=PLMN".into(),
    );
    conf.headers.insert(
        "X-Mms-Previously-Sent-Date".into(),
        "2024-04-30T08:00:00Z".into(),
    );
    conf.parts = vec![part(0, "text/plain", Some("note.txt"), &m.text)];
    t3.pdus = vec![conf];
    let r3 = record(
        t3.clone(),
        vec![PartContent {
            pdu: 0,
            part: 0,
            content_type: "text/plain".into(),
            charset: None,
            data: m.text.clone(),
        }],
    );

    // T4: TLS to the MMSC (content not visible), T5: WTLS.
    let mut t4 = transfer(
        "T4",
        "tls",
        ep("2001:db8::10", 50000),
        ep("2001:db8::443", 443),
        50,
        70,
    );
    t4.sni = Some("mmsc.example.com".into());
    t4.tls_version = Some("TLS 1.1".into());
    let t5 = transfer(
        "T5",
        "wtls",
        ep("192.0.2.30", 49300),
        ep("198.51.100.9", 9203),
        80,
        84,
    );

    let messages = vec![Message {
        id: "M1".into(),
        message_id: Some("msg-20240501-0001".into()),
        transaction_ids: vec!["TX-0001".into(), "TX-0002".into()],
        content_location: Some("http://mmsc.example.com/get/7".into()),
        transfers: vec!["T1".into(), "T2".into(), "T3".into()],
        timeline: vec![
            TimelineEntry {
                frame: 8,
                transfer: "T1".into(),
                message_type: "m-send-req".into(),
            },
            TimelineEntry {
                frame: 12,
                transfer: "T1".into(),
                message_type: "m-send-conf".into(),
            },
            TimelineEntry {
                frame: 20,
                transfer: "T2".into(),
                message_type: "m-notification-ind".into(),
            },
            TimelineEntry {
                frame: 41,
                transfer: "T3".into(),
                message_type: "m-retrieve-conf".into(),
            },
        ],
    }];

    let findings = vec![
        finding(
            "F1",
            "cleartext-mms",
            Severity::High,
            Some("T1"),
            None,
            vec![8, 12],
            "m-send-req, m-send-conf readable in cleartext over http (192.0.2.10:49152 → 198.51.100.5:80)",
            json!({"transport": "http", "message_types": ["m-send-req", "m-send-conf"],
                   "client": {"ip": "192.0.2.10", "port": 49152}, "server": {"ip": "198.51.100.5", "port": 80},
                   "carries_content": true}),
        ),
        finding(
            "F2",
            "subscriber-id-header",
            Severity::High,
            Some("T1"),
            None,
            vec![4],
            "subscriber identifier in 3 header(s): X-IMEI, X-IMSI, X-MSISDN",
            json!({"headers": [
                {"side": "request", "header": "X-MSISDN", "value": "+15550101", "kind": "msisdn"},
                {"side": "request", "header": "X-IMSI", "value": "001010123456789", "kind": "imsi"},
                {"side": "request", "header": "X-IMEI", "value": "490154203237518", "kind": "imei"}]}),
        ),
        finding(
            "F3",
            "credentials",
            Severity::Critical,
            Some("T1"),
            None,
            vec![4],
            "credentials readable in cleartext (basic)",
            json!({"credentials": [{"side": "request", "header": "authorization", "scheme": "basic",
                                    "user": "alice", "password": "s3cret"}]}),
        ),
        finding(
            "F4",
            "session-token",
            Severity::Medium,
            Some("T1"),
            None,
            vec![4, 10],
            "3 session token(s) sent in clear",
            json!({"tokens": [
                {"side": "request", "where": "cookie", "name": "JSESSIONID", "value": "Zq8RkT2mWx"},
                {"side": "response", "where": "set-cookie", "name": "SESSION", "value": "QwErTy987654"},
                {"side": "request", "where": "url", "name": "sid", "value": "AbCdEf123456"}]}),
        ),
        finding(
            "F5",
            "personal-data",
            Severity::Medium,
            Some("T1"),
            None,
            vec![8],
            "3 phone number(s) and 2 e-mail address(es) readable in addresses, subject, text",
            json!({"phone_numbers": ["+15550102", "+15550103", "+15550142"],
                   "emails": ["carol@example.com", "bob.smith@example.org"],
                   "found_in": ["addresses", "subject", "text"]}),
        ),
        finding(
            "F6",
            "location-metadata",
            Severity::High,
            Some("T1"),
            None,
            vec![8],
            "photo photo.jpg reveals where it was taken: 48.858370, 2.294481",
            json!({"part": 2, "name": "photo.jpg", "latitude": 48.85837, "longitude": 2.294481,
                   "altitude": 35.0, "make": "ExampleCam", "model": "EC-1", "taken": "2024:05:01 09:58:00"}),
        ),
        finding(
            "F7",
            "contact-card",
            Severity::Medium,
            Some("T1"),
            None,
            vec![8],
            "vcard part jane.vcf with 1 name(s), 1 phone number(s), 1 e-mail(s)",
            json!({"part": 3, "kind": "vcard", "names": ["Jane Doe"], "phone_numbers": ["+1-555-0134"],
                   "emails": ["jane@example.com"], "addresses": [], "events": []}),
        ),
        finding(
            "F8",
            "bcc-disclosed",
            Severity::High,
            Some("T3"),
            None,
            vec![41],
            "m-retrieve-conf delivered to the recipient still lists 1 Bcc address(es)",
            json!({"message_type": "m-retrieve-conf", "bcc": ["dave@example.net"]}),
        ),
        finding(
            "F9",
            "forwarded-message",
            Severity::Low,
            Some("T3"),
            None,
            vec![41],
            "forwarding chain exposed by Previously-Sent headers",
            json!({"message_type": "m-retrieve-conf", "previously_sent_by": "+1-555-0104/TYPE=PLMN",
                   "previously_sent_date": "2024-04-30T08:00:00Z", "to": ["+15550102/TYPE=PLMN"],
                   "content_location": null}),
        ),
        finding(
            "F10",
            "weak-encryption",
            Severity::Medium,
            Some("T4"),
            None,
            vec![50],
            "MMSC traffic protected only by TLS 1.1 ([2001:db8::10]:50000 → [2001:db8::443]:443)",
            json!({"transport": "tls", "version": "TLS 1.1", "sni": "mmsc.example.com"}),
        ),
        finding(
            "F11",
            "guessable-content-url",
            Severity::Medium,
            Some("T2"),
            Some("M1"),
            vec![20],
            "content location token '7' has only about 3 bits of entropy",
            json!({"content_location": "http://mmsc.example.com/get/7", "token": "7", "length": 1,
                   "entropy_bits": 3.3, "minimum_bits": 64.0}),
        ),
        finding(
            "F12",
            "mailbox-storage",
            Severity::Info,
            Some("T3"),
            None,
            vec![41],
            "m-retrieve-conf: message kept in the network-side MMBox",
            json!({"message_type": "m-retrieve-conf", "store": true}),
        ),
    ];
    let mut counts = SeverityCounts::default();
    for f in &findings {
        counts.add(f.severity);
    }

    let inputs = vec![
        InputReport {
            path: "captures/lab.pcapng".into(),
            format: Some("pcapng"),
            link_types: vec!["ethernet".into(), "linux-sll".into()],
            packets: 84,
            bytes: 65_536,
            first_time: Some("2024-05-01T10:00:00.000000Z".into()),
            last_time: Some("2024-05-01T10:01:24.000000Z".into()),
            duration_secs: Some(84.0),
            diagnostics: vec![
                DiagnosticReport {
                    frame: Some(33),
                    offset: Some(4096),
                    layer: "tcp",
                    message: "gap of 512 bytes in the client stream".into(),
                },
                DiagnosticReport {
                    frame: None,
                    offset: None,
                    layer: "limit",
                    message: "flow table full (max 100000 flows)".into(),
                },
            ],
            diagnostics_suppressed: 3,
            non_ip_frames: 2,
        },
        InputReport {
            path: "captures/missing.pcap".into(),
            format: None,
            link_types: vec![],
            packets: 0,
            bytes: 0,
            first_time: None,
            last_time: None,
            duration_secs: None,
            diagnostics: vec![DiagnosticReport {
                frame: None,
                offset: None,
                layer: "capture",
                message: "not a pcap or pcapng file".into(),
            }],
            diagnostics_suppressed: 0,
            non_ip_frames: 0,
        },
    ];

    let transfers = vec![t1, t2.clone(), t3, t4.clone(), t5.clone()];
    let report = Report {
        schema: SCHEMA,
        tool: Tool::default(),
        inputs,
        summary: Summary {
            packets: 84,
            flows: 5,
            transfers: transfers.len() as u64,
            cleartext_transfers: 3,
            encrypted_transfers: 2,
            messages: 1,
            findings: counts,
        },
        transfers,
        messages,
        findings,
    };
    let records = vec![
        r1,
        record(t2, vec![]),
        r3,
        record(t4, vec![]),
        record(t5, vec![]),
    ];
    (report, records)
}

/// An empty report: one readable input with nothing in it.
pub fn empty_report() -> Report {
    Report {
        schema: SCHEMA,
        tool: Tool::default(),
        inputs: vec![InputReport {
            path: "-".into(),
            format: Some("pcap"),
            link_types: vec!["raw".into()],
            packets: 0,
            bytes: 24,
            first_time: None,
            last_time: None,
            duration_secs: None,
            diagnostics: vec![],
            diagnostics_suppressed: 0,
            non_ip_frames: 0,
        }],
        summary: Summary::default(),
        transfers: vec![],
        messages: vec![],
        findings: vec![],
    }
}
