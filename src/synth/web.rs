//! HTTP and TLS carriers: MMS over HTTP/1.1 to an MMSC (keep-alive, chunked bodies, header
//! enrichment, credentials), TLS sessions to an MMSC, and TCP anomalies.

use super::answer::PduFacts;
use super::lab::Lab;
use super::msg::{self, Person};
use super::net::{PROTO_TCP, TcpSession};
use super::scenarios::{Cast, notification, retrieve_conf};
use super::tlsgen::{self, TlsVersion};
use super::wap::{self, MmsCargo, WspReplySpec, record_pdu, transfer};
use crate::proto::mms::{MessageType, MmsField};
use crate::proto::wsp::headers::WspHeader;
use crate::report::model::{RequestReport, ResponseReport};
use std::io;
use std::net::SocketAddr;

fn sock(ip: std::net::IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

/// Opens a TCP connection (with its handshake unless `syn` is false: the capture started later).
pub fn open(
    lab: &mut Lab,
    client: SocketAddr,
    server: SocketAddr,
    syn: bool,
) -> io::Result<TcpSession> {
    lab.note_flow(PROTO_TCP, client, server);
    let cisn = lab.rng.next_u64() as u32;
    let sisn = lab.rng.next_u64() as u32;
    let mut s = TcpSession::new(
        (client.ip(), client.port()),
        (server.ip(), server.port()),
        cisn,
        sisn,
    );
    s.mss = 1400;
    if syn {
        for p in s.handshake() {
            lab.emit(&p)?;
            lab.wait_us(500, 20_000);
        }
    } else {
        s.client_seq = s.client_seq.wrapping_add(1);
        s.server_seq = s.server_seq.wrapping_add(1);
    }
    Ok(s)
}

/// Sends `data` in MSS-sized segments, each acknowledged; returns the data segments' frames.
pub fn send(
    lab: &mut Lab,
    s: &mut TcpSession,
    to_server: bool,
    data: &[u8],
) -> io::Result<Vec<u64>> {
    let mut frames = Vec::new();
    for chunk in data.chunks(s.mss.max(1)) {
        let p = s.send_segment(to_server, chunk);
        frames.push(lab.emit(&p)?);
        lab.wait_us(100, 5_000);
        let a = s.ack(!to_server);
        lab.emit(&a)?;
        lab.wait_us(100, 2_000);
    }
    Ok(frames)
}

/// FIN, FIN-ACK, ACK.
/// FIN, FIN-ACK, ACK. Returns the frame in which the connection closed: the second FIN (the
/// final ACK carries nothing and comes after the close, as the scanner counts it).
pub fn close(lab: &mut Lab, s: &mut TcpSession) -> io::Result<u64> {
    let mut closed = 0;
    for (i, p) in s.close().into_iter().enumerate() {
        let f = lab.emit(&p)?;
        if i == 1 {
            closed = f;
        }
        lab.wait_us(200, 5_000);
    }
    Ok(closed)
}

/// An HTTP request as written on the wire.
#[derive(Debug, Clone)]
pub struct HttpRequestSpec {
    pub method: &'static str,
    /// The request-target (origin form).
    pub target: String,
    /// Header fields in wire order (Host included; Content-Type and Content-Length are added
    /// last for a body).
    pub headers: Vec<(String, String)>,
    pub body: Option<MmsCargo>,
    /// This request fetches the content location of the message with this label.
    pub retrieval: Option<String>,
}

/// An HTTP response as written on the wire.
#[derive(Debug, Clone)]
pub struct HttpResponseSpec {
    pub status: u16,
    pub reason: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Option<MmsCargo>,
    /// Chunk size for a chunked body; `None` sends Content-Length.
    pub chunked: Option<usize>,
}

fn h(name: &str, value: &str) -> (String, String) {
    (name.to_owned(), value.to_owned())
}

impl HttpRequestSpec {
    fn wire_headers(&self) -> Vec<(String, String)> {
        let mut hs = self.headers.clone();
        if let Some(b) = &self.body {
            hs.push(h("Content-Type", wap::MMS_CT));
            hs.push(h("Content-Length", &b.bytes.len().to_string()));
        }
        hs
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = format!("{} {} HTTP/1.1\r\n", self.method, self.target).into_bytes();
        for (n, v) in self.wire_headers() {
            out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        if let Some(b) = &self.body {
            out.extend_from_slice(&b.bytes);
        }
        out
    }

    /// The full URL: `http://` + Host + target.
    fn url(&self) -> String {
        let host = self
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("host"))
            .map_or("", |(_, v)| v.as_str());
        format!("http://{host}{}", self.target)
    }
}

impl HttpResponseSpec {
    fn wire_headers(&self) -> Vec<(String, String)> {
        let mut hs = self.headers.clone();
        if let Some(b) = &self.body {
            hs.push(h("Content-Type", wap::MMS_CT));
            match self.chunked {
                Some(_) => hs.push(h("Transfer-Encoding", "chunked")),
                None => hs.push(h("Content-Length", &b.bytes.len().to_string())),
            }
        } else {
            hs.push(h("Content-Length", "0"));
        }
        hs
    }

    fn bytes(&self) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, self.reason).into_bytes();
        for (n, v) in self.wire_headers() {
            out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
        }
        out.extend_from_slice(b"\r\n");
        if let Some(b) = &self.body {
            match self.chunked {
                Some(size) => {
                    for chunk in b.bytes.chunks(size.max(1)) {
                        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                        out.extend_from_slice(chunk);
                        out.extend_from_slice(b"\r\n");
                    }
                    out.extend_from_slice(b"0\r\n\r\n");
                }
                None => out.extend_from_slice(&b.bytes),
            }
        }
        out
    }
}

/// Records an HTTP exchange whose request bytes arrived in `req_frames` and response bytes in
/// `resp_frames` (frames that contributed bytes).
pub fn record_http(
    lab: &mut Lab,
    client: SocketAddr,
    server: SocketAddr,
    req: &HttpRequestSpec,
    req_frames: &[u64],
    resp: &HttpResponseSpec,
    resp_frames: &[u64],
) -> io::Result<Option<usize>> {
    for c in req.body.iter().chain(resp.body.iter()) {
        if let Some(&t) = c.bytes.get(1) {
            let name = crate::proto::mms::MessageType(t).name();
            *lab.pdu_counts.entry(name).or_insert(0) += 1;
        }
    }
    if !lab.keyed {
        return Ok(None);
    }
    let mut all = req_frames.to_vec();
    all.extend_from_slice(resp_frames);
    let (mut t, start) = transfer(lab, "http", PROTO_TCP, client, server, &all);
    let mut rf = req_frames.to_vec();
    rf.sort_unstable();
    rf.dedup();
    let mut sf = resp_frames.to_vec();
    sf.sort_unstable();
    sf.dedup();
    let url = req.url();
    t.request = Some(RequestReport {
        method: req.method.to_owned(),
        uri: url.clone(),
        headers: req.wire_headers(),
        frames: rf.clone(),
    });
    t.response = Some(ResponseReport {
        status: Some(resp.status),
        headers: resp.wire_headers(),
        frames: sf.clone(),
    });
    let handle = lab.key.add_transfer(t, start);
    if let Some(c) = &req.body {
        record_pdu(lab, handle, c, rf.last().copied().unwrap_or(0), "to-server")?;
    }
    if let Some(label) = &req.retrieval {
        let answered = resp
            .body
            .as_ref()
            .is_some_and(|c| c.bytes.get(1) == Some(&0x84));
        lab.key.add_retrieval(
            handle,
            rf.first().copied().unwrap_or(0),
            &url,
            answered,
            label,
        );
    }
    if let Some(c) = &resp.body {
        record_pdu(lab, handle, c, sf.last().copied().unwrap_or(0), "to-client")?;
    }
    Ok(Some(handle))
}

/// One request and its response on an open connection.
pub fn exchange(
    lab: &mut Lab,
    s: &mut TcpSession,
    req: &HttpRequestSpec,
    resp: &HttpResponseSpec,
) -> io::Result<Option<usize>> {
    let q = send(lab, s, true, &req.bytes())?;
    lab.wait_ms(20, 300);
    let r = send(lab, s, false, &resp.bytes())?;
    let client = sock(s.client.0, s.client.1);
    let server = sock(s.server.0, s.server.1);
    record_http(lab, client, server, req, &q, resp, &r)
}

fn imsi(cast: &mut Cast) -> String {
    // Test network MCC 001, MNC 01.
    format!("00101{}", cast.rng().token(10, b"0123456789"))
}

fn send_req(
    lab: &mut Lab,
    cast: &mut Cast,
    to: &Person,
    body_text: &str,
    personal: bool,
    label: &str,
    tid: &str,
) -> io::Result<MmsCargo> {
    let parts = vec![
        msg::png(&mut lab.rng, "pic.png"),
        msg::text_part(body_text, personal),
    ];
    let p = msg::pdu(MessageType::SEND_REQ, Some(tid))
        .with(MmsField::From, msg::from(None))
        .with(MmsField::To, msg::addr(&to.plmn()))
        .with(MmsField::Subject, msg::utf8("Hello"));
    let p = msg::with_body(p, &parts);
    let _ = cast;
    Ok(MmsCargo::new(
        msg::encode(&p)?,
        msg::facts(&parts, false),
        label,
    ))
}

fn send_conf(cast: &mut Cast, tid: &str, label: &str) -> io::Result<MmsCargo> {
    let p = msg::pdu(MessageType::SEND_CONF, Some(tid))
        .with(MmsField::ResponseStatus, msg::token(0x80))
        .with(MmsField::MessageId, msg::text(&msg::message_id(cast.rng())));
    Ok(MmsCargo::new(msg::encode(&p)?, PduFacts::default(), label))
}

/// The `http-mmsc` sample: [`http_mmsc_exchanges`], then the MMSC's address over TLS 1.1 under a
/// name that does not say MMSC, reported because that address served MMS in cleartext (known
/// only once the input is read).
pub fn http_mmsc(lab: &mut Lab, cast: &mut Cast) -> io::Result<()> {
    let (handset, mmsc) = http_mmsc_exchanges(lab, cast)?;
    lab.wait_ms(200, 2000);
    let c = sock(handset, cast.port());
    tls_session(
        lab,
        c,
        sock(mmsc, 443),
        "edge.example.net",
        TlsVersion::Tls11,
        2,
        true,
    )?;
    Ok(())
}

/// POSTs on a keep-alive connection (enrichment headers, Basic credentials, a cookie) and a
/// chunked retrieval on port 8002 with a token in the query; the first handset's address and the
/// MMSC's.
pub fn http_mmsc_exchanges(
    lab: &mut Lab,
    cast: &mut Cast,
) -> io::Result<(std::net::IpAddr, std::net::IpAddr)> {
    let a_person = cast.person();
    let b_person = cast.person();
    let friend = cast.person();
    let mmsc = cast.server_ip();
    let a = sock(cast.handset_ip(), cast.port());
    let b = sock(cast.handset_ip(), cast.port());
    let host = cast.host.clone();
    let ua = cast.user_agent();

    let mut s = open(lab, a, sock(mmsc, 80), true)?;
    let tid1 = msg::transaction_id(cast.rng());
    let text = msg::chatty_text(&mut lab.rng, &a_person);
    let req1 = HttpRequestSpec {
        method: "POST",
        target: "/mms".into(),
        headers: vec![
            h("Host", &host),
            h("User-Agent", &ua),
            h("Authorization", &{
                use base64::Engine as _;
                let user = a_person.phone.trim_start_matches('+').to_owned();
                let pass = cast.rng().token(10, b"abcdefghijkmnpqrstuvwxyz23456789");
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
                )
            }),
            h("X-MSISDN", &a_person.phone),
            h("X-IMSI", &imsi(cast)),
        ],
        body: Some(send_req(lab, cast, &friend, &text, true, "m1", &tid1)?),
        retrieval: None,
    };
    let resp1 = HttpResponseSpec {
        status: 200,
        reason: "OK",
        headers: vec![h("Server", "ExampleMMSC/1.0")],
        body: Some(send_conf(cast, &tid1, "m1")?),
        chunked: None,
    };
    exchange(lab, &mut s, &req1, &resp1)?;
    lab.wait_ms(500, 3000);
    let tid2 = msg::transaction_id(cast.rng());
    let req2 = HttpRequestSpec {
        method: "POST",
        target: "/mms".into(),
        headers: vec![
            h("Host", &host),
            h("User-Agent", &ua),
            h(
                "Cookie",
                &format!("JSESSIONID={}", cast.rng().token(24, b"0123456789ABCDEF")),
            ),
            h("X-MSISDN", &a_person.phone),
        ],
        body: Some(send_req(
            lab,
            cast,
            &b_person,
            "See you later!",
            false,
            "m2",
            &tid2,
        )?),
        retrieval: None,
    };
    let resp2 = HttpResponseSpec {
        status: 200,
        reason: "OK",
        headers: vec![h("Server", "ExampleMMSC/1.0")],
        body: Some(send_conf(cast, &tid2, "m2")?),
        chunked: None,
    };
    exchange(lab, &mut s, &req2, &resp2)?;
    lab.wait_ms(100, 800);
    close(lab, &mut s)?;
    lab.wait_ms(1000, 5000);

    // Another handset fetches a message from the retrieval server on port 8002.
    let mut s = open(lab, b, sock(mmsc, 8002), true)?;
    let tid3 = msg::transaction_id(cast.rng());
    let mid = msg::message_id(cast.rng());
    let id = cast.rng().strong_token(32);
    let token = cast.rng().token(16, b"0123456789abcdef");
    let parts = vec![
        msg::photo(&mut lab.rng, false, "photo.jpg"),
        msg::text_part(&msg::chatty_text(&mut lab.rng, &a_person), true),
    ];
    let conf = msg::pdu(MessageType::RETRIEVE_CONF, Some(&tid3))
        .with(MmsField::MessageId, msg::text(&mid))
        .with(MmsField::From, msg::from(Some(&a_person.plmn())))
        .with(MmsField::To, msg::addr(&b_person.plmn()))
        .with(MmsField::Date, msg::date(lab.ts().secs.max(0) as u64 - 300))
        .with(MmsField::Subject, msg::utf8("Hello"));
    let conf = msg::with_body(conf, &parts);
    let req3 = HttpRequestSpec {
        method: "GET",
        target: format!("/mms/get?id={id}&token={token}"),
        headers: vec![
            h("Host", &format!("{host}:8002")),
            h("User-Agent", &cast.user_agent()),
            h("Accept", "application/vnd.wap.mms-message"),
            h("X-MSISDN", &b_person.phone),
        ],
        body: None,
        retrieval: None,
    };
    let resp3 = HttpResponseSpec {
        status: 200,
        reason: "OK",
        headers: vec![h("Server", "ExampleMMSC/1.0")],
        body: Some(MmsCargo::new(
            msg::encode(&conf)?,
            msg::facts(&parts, false),
            "m3",
        )),
        chunked: Some(700),
    };
    exchange(lab, &mut s, &req3, &resp3)?;
    close(lab, &mut s)?;
    Ok((a.ip(), mmsc))
}

/// WAP Push notifications with short sequential tokens, HTTP retrievals, and a second fetch of
/// the first message by a client that was not notified.
pub fn push_then_http(lab: &mut Lab, cast: &mut Cast) -> io::Result<()> {
    let mmsc = cast.server_ip();
    let ppg = sock(cast.server_ip(), cast.port());
    let host = cast.host.clone();
    let counter = lab.rng.range(1000, 90_000);
    for (i, label) in ["m1", "m2"].into_iter().enumerate() {
        let sender = cast.person();
        let recipient = cast.person();
        let handset = cast.handset_ip();
        let path = format!("/m/{}", counter + i as u64);
        let location = format!("http://{host}{path}");
        let tid_n = msg::transaction_id(cast.rng());
        let tid_r = msg::transaction_id(cast.rng());
        let mid = msg::message_id(cast.rng());
        let conf = retrieve_conf(lab, &tid_r, &mid, &sender, &recipient, label)?;
        let note = notification(
            cast,
            &tid_n,
            &sender,
            &location,
            conf.bytes.len() as u64,
            label,
        )?;
        let wtid = lab.rng.below(256) as u8;
        wap::push(
            lab,
            ppg,
            sock(handset, 2948),
            wtid,
            &WspReplySpec::mms(200, vec![WspHeader::application_id(4)], note),
        )?;
        lab.wait_ms(500, 3000);
        let mut fetchers = vec![handset];
        if i == 0 {
            fetchers.push(cast.other_ip());
        }
        for (j, ip) in fetchers.into_iter().enumerate() {
            let mut s = open(lab, sock(ip, cast.port()), sock(mmsc, 80), true)?;
            let req = HttpRequestSpec {
                method: "GET",
                target: path.clone(),
                headers: vec![
                    h("Host", &host),
                    h("User-Agent", &cast.user_agent()),
                    h("Accept", "*/*"),
                ],
                body: None,
                retrieval: Some(label.into()),
            };
            let resp = HttpResponseSpec {
                status: 200,
                reason: "OK",
                headers: vec![h("Server", "ExampleMMSC/1.0")],
                body: Some(conf.clone()),
                chunked: None,
            };
            exchange(lab, &mut s, &req, &resp)?;
            close(lab, &mut s)?;
            lab.wait_ms(
                if j == 0 { 5_000 } else { 500 },
                if j == 0 { 60_000 } else { 3_000 },
            );
        }
    }
    lab.key.sequential_tokens = true;
    Ok(())
}

/// One TLS connection: handshake, hellos, opaque records, close. Returns the transfer.
pub fn tls_session(
    lab: &mut Lab,
    client: SocketAddr,
    server: SocketAddr,
    sni: &str,
    version: TlsVersion,
    records: usize,
    mmsc: bool,
) -> io::Result<Option<usize>> {
    let mut s = open(lab, client, server, true)?;
    let first = lab.frame_count().saturating_sub(2);
    let max = if version == TlsVersion::Tls11 {
        TlsVersion::Tls11
    } else {
        TlsVersion::Tls13
    };
    let ch = tlsgen::client_hello(&mut lab.rng, sni, max, &["http/1.1"]);
    let ch_frame = send(lab, &mut s, true, &ch)?.first().copied();
    lab.wait_ms(10, 80);
    let mut sh = tlsgen::server_hello(&mut lab.rng, version, Some("http/1.1"));
    sh.extend(tlsgen::after_hello(&mut lab.rng, version));
    let sh_frame = send(lab, &mut s, false, &sh)?.first().copied();
    for i in 0..records {
        lab.wait_ms(5, 200);
        let len = lab.rng.range(80, 3000) as usize;
        let rec = tlsgen::app_data(&mut lab.rng, version, len);
        send(lab, &mut s, i % 2 == 0, &rec)?;
    }
    lab.wait_ms(50, 500);
    let last = close(lab, &mut s)?;
    if !lab.keyed || !mmsc {
        return Ok(None);
    }
    let (mut t, start) = transfer(lab, "tls", PROTO_TCP, client, server, &[first, last]);
    t.sni = Some(sni.to_owned());
    t.tls_version = Some(version.label().to_owned());
    t.handshake_frames = [ch_frame, sh_frame].into_iter().flatten().collect();
    Ok(Some(lab.key.add_transfer(t, start)))
}

/// TLS 1.3, 1.2 and 1.1 sessions to the MMSC, and one to a web site (not reported).
pub fn tls_mmsc(lab: &mut Lab, cast: &mut Cast) -> io::Result<()> {
    let mmsc = sock(cast.server_ip(), 443);
    let web = sock(cast.other_ip(), 443);
    let sni = "mms.example.com";
    for version in [TlsVersion::Tls13, TlsVersion::Tls12, TlsVersion::Tls11] {
        let c = sock(cast.handset_ip(), cast.port());
        let n = lab.rng.range(2, 6) as usize;
        tls_session(lab, c, mmsc, sni, version, n, true)?;
        lab.wait_ms(200, 2000);
    }
    let c = sock(cast.handset_ip(), cast.port());
    tls_session(lab, c, web, "www.example.org", TlsVersion::Tls13, 3, false)?;
    Ok(())
}

/// HTTP MMS over TCP with out-of-order, retransmitted and overlapping segments, then a request
/// on a connection whose start the capture missed.
pub fn tcp_anomalies(lab: &mut Lab, cast: &mut Cast) -> io::Result<()> {
    let mmsc = cast.server_ip();
    let host = cast.host.clone();
    let friend = cast.person();
    let me = cast.person();
    let client = sock(cast.handset_ip(), cast.port());
    let server = sock(mmsc, 80);
    let mut s = open(lab, client, server, true)?;
    s.mss = 536;
    let tid = msg::transaction_id(cast.rng());
    let text = msg::chatty_text(&mut lab.rng, &me);
    let noise: Vec<u8> = (0..2500).map(|_| lab.rng.below(256) as u8).collect();
    let parts = vec![
        msg::Part {
            part: crate::proto::mms::MmsPart::new(
                crate::proto::wsp::encoding::ContentType::new("image/png")
                    .with_param("name", "noise.png"),
                vec![WspHeader::text("Content-Location", "noise.png")],
                super::media::png_pixels(50, 50, &noise),
            ),
            personal: false,
            exif: None,
            card: false,
        },
        msg::text_part(&text, true),
    ];
    let p = msg::pdu(MessageType::SEND_REQ, Some(&tid))
        .with(MmsField::From, msg::from(None))
        .with(MmsField::To, msg::addr(&friend.plmn()))
        .with(MmsField::Subject, msg::utf8("Noise"));
    let p = msg::with_body(p, &parts);
    let req = HttpRequestSpec {
        method: "POST",
        target: "/mms".into(),
        headers: vec![h("Host", &host), h("User-Agent", &cast.user_agent())],
        body: Some(MmsCargo::new(
            msg::encode(&p)?,
            msg::facts(&parts, false),
            "m1",
        )),
        retrieval: None,
    };
    let bytes = req.bytes();
    // Segments of 536 octets: 0 and 1 in order, 3 before 2, 1 again (retransmission), then a
    // segment overlapping the end of 3 with new bytes, then the rest in order.
    let mss = 536usize;
    let isn = s.client_seq;
    let seg = |k: usize| (k * mss, ((k + 1) * mss).min(bytes.len()));
    let nseg = bytes.len().div_ceil(mss);
    let mut frames = Vec::new();
    let put = |lab: &mut Lab, s: &mut TcpSession, from: usize, to: usize| -> io::Result<u64> {
        let chunk = bytes.get(from..to).unwrap_or(&[]);
        let p = s.raw_segment(true, isn.wrapping_add(from as u32), chunk);
        let f = lab.emit(&p)?;
        lab.wait_us(100, 3000);
        Ok(f)
    };
    let (a0, b0) = seg(0);
    frames.push(put(lab, &mut s, a0, b0)?);
    let (a1, b1) = seg(1);
    frames.push(put(lab, &mut s, a1, b1)?);
    let (a3, b3) = seg(3);
    frames.push(put(lab, &mut s, a3, b3)?);
    let (a2, b2) = seg(2);
    frames.push(put(lab, &mut s, a2, b2)?);
    put(lab, &mut s, a1, b1)?; // retransmission: nothing new
    // Overlap: the last 100 octets of segment 3 again, and 200 new ones.
    let over_end = (b3 + 200).min(bytes.len());
    frames.push(put(lab, &mut s, b3 - 100, over_end)?);
    let mut from = over_end;
    while from < bytes.len() {
        let to = (from + mss).min(bytes.len());
        frames.push(put(lab, &mut s, from, to)?);
        from = to;
    }
    let _ = nseg;
    s.client_seq = isn.wrapping_add(bytes.len() as u32);
    let a = s.ack(false);
    lab.emit(&a)?;
    lab.wait_ms(20, 200);
    let resp = HttpResponseSpec {
        status: 200,
        reason: "OK",
        headers: vec![h("Server", "ExampleMMSC/1.0")],
        body: Some(send_conf(cast, &tid, "m1")?),
        chunked: None,
    };
    let r = send(lab, &mut s, false, &resp.bytes())?;
    record_http(lab, client, server, &req, &frames, &resp, &r)?;
    close(lab, &mut s)?;
    lab.wait_ms(1000, 4000);

    // A connection already open when the capture started: no handshake, a request straight away.
    let client2 = sock(cast.handset_ip(), cast.port());
    let mut s2 = open(lab, client2, server, false)?;
    let tid2 = msg::transaction_id(cast.rng());
    let req2 = HttpRequestSpec {
        method: "POST",
        target: "/mms".into(),
        headers: vec![h("Host", &host), h("User-Agent", &cast.user_agent())],
        body: Some(send_req(lab, cast, &me, "On my way.", false, "m2", &tid2)?),
        retrieval: None,
    };
    let resp2 = HttpResponseSpec {
        status: 200,
        reason: "OK",
        headers: vec![h("Server", "ExampleMMSC/1.0")],
        body: Some(send_conf(cast, &tid2, "m2")?),
        chunked: None,
    };
    exchange(lab, &mut s2, &req2, &resp2)?;
    close(lab, &mut s2)?;
    Ok(())
}
