#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! HTTP/1.x transcripts: client and server byte streams fed to `HttpConnection` in chunks, each
//! chunk a frame, with gaps and closes, and the exchanges that come out.

use mmsleak::diag::{Diagnostic, Layer};
use mmsleak::flow::Direction::{self, ToClient, ToServer};
use mmsleak::proto::http::{HttpConnection, HttpExchange, HttpLimits, HttpVersion, StreamKind};
use mmsleak::time::Timestamp;
use std::io::Write;

/// Feeds a connection frame by frame.
struct Feed {
    conn: HttpConnection,
    diags: Vec<Diagnostic>,
    frame: u64,
    out: Vec<HttpExchange>,
}

impl Feed {
    fn new() -> Self {
        Self::with_limits(HttpLimits::default())
    }

    fn with_limits(limits: HttpLimits) -> Self {
        Feed {
            conn: HttpConnection::new(limits),
            diags: Vec::new(),
            frame: 0,
            out: Vec::new(),
        }
    }

    fn ts(&self) -> Timestamp {
        Timestamp::new(1_700_000_000 + self.frame as i64, 0, 6)
    }

    /// One frame carrying `bytes`; returns its number.
    fn send(&mut self, dir: Direction, bytes: &[u8]) -> u64 {
        self.frame += 1;
        let ts = self.ts();
        self.conn
            .on_data(dir, bytes, self.frame, ts, &mut self.diags);
        self.out.extend(self.conn.take_exchanges());
        self.frame
    }

    /// `bytes` split into frames of `size` bytes.
    fn send_chunks(&mut self, dir: Direction, bytes: &[u8], size: usize) -> Vec<u64> {
        bytes.chunks(size).map(|c| self.send(dir, c)).collect()
    }

    fn gap(&mut self, dir: Direction, len: u64) {
        self.frame += 1;
        let ts = self.ts();
        self.conn.on_gap(dir, len, self.frame, ts, &mut self.diags);
    }

    fn close(&mut self, dir: Option<Direction>) {
        self.frame += 1;
        let ts = self.ts();
        self.conn.on_close(dir, self.frame, ts, &mut self.diags);
        self.out.extend(self.conn.take_exchanges());
    }

    fn finish(mut self) -> (Vec<HttpExchange>, Vec<Diagnostic>) {
        let rest = self.conn.finish(&mut self.diags);
        self.out.extend(rest);
        (self.out, self.diags)
    }

    fn has_diag(&self, layer: Layer, needle: &str) -> bool {
        self.diags
            .iter()
            .any(|d| d.layer == layer && d.message.contains(needle))
    }
}

fn has_diag(diags: &[Diagnostic], layer: Layer, needle: &str) -> bool {
    diags
        .iter()
        .any(|d| d.layer == layer && d.message.contains(needle))
}

/// An m-send-req PDU start: X-Mms-Message-Type m-send-req, Transaction-Id "T1", version 1.2.
const MMS_PDU: &[u8] = b"\x8c\x80\x98T1\x00\x8d\x92";

#[test]
fn keep_alive_two_exchanges() {
    let mut f = Feed::new();
    let req1 = b"GET /mms/abc HTTP/1.1\r\nHost: mmsc.example.com\r\n\r\n";
    let mut req2 = b"POST /mms HTTP/1.1\r\nHost: mmsc.example.com:8002\r\nContent-Type: application/vnd.wap.mms-message\r\nContent-Length: 8\r\n\r\n".to_vec();
    req2.extend_from_slice(MMS_PDU);
    let resp1 = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";
    let resp2 = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

    let f1 = f.send(ToServer, req1);
    assert_eq!(f.conn.kind(), StreamKind::Http);
    let f2 = f.send(ToClient, &resp1[..20]);
    let f3 = f.send(ToClient, &resp1[20..]);
    assert_eq!(f.out.len(), 1, "first exchange released when complete");
    let f4 = f.send(ToServer, &req2[..30]);
    let f5 = f.send(ToServer, &req2[30..]);
    let f6 = f.send(ToClient, resp2);
    let (ex, diags) = f.finish();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(ex.len(), 2);

    let r = ex[0].request.as_ref().unwrap();
    assert_eq!(r.method, "GET");
    assert_eq!(r.uri, "/mms/abc");
    assert_eq!(r.url, "http://mmsc.example.com/mms/abc");
    assert_eq!(r.version, HttpVersion::Http11);
    assert_eq!(r.frames, vec![f1]);
    assert!(r.complete);
    let s = ex[0].response.as_ref().unwrap();
    assert_eq!(s.status, 200);
    assert_eq!(s.reason, "OK");
    assert_eq!(s.body, b"hello");
    assert_eq!(s.frames, vec![f2, f3]);
    assert_eq!((s.first_frame, s.last_frame), (f2, f3));
    assert_eq!(s.content_type.as_deref(), Some("text/plain"));
    assert!(ex[0].is_complete());
    assert!(ex[0].mms_bodies().is_empty());

    let r = ex[1].request.as_ref().unwrap();
    assert_eq!(r.url, "http://mmsc.example.com:8002/mms");
    assert_eq!(r.body, MMS_PDU);
    assert_eq!(r.frames, vec![f4, f5]);
    assert_eq!(r.header("content-length"), Some("8"));
    let mms = ex[1].mms_bodies();
    assert_eq!(mms.len(), 1);
    assert_eq!(mms[0].direction, ToServer);
    assert_eq!(mms[0].frame, f5);
    assert_eq!(ex[1].response.as_ref().unwrap().frames, vec![f6]);
    assert_eq!(ex[1].first_frame(), Some(f4));
    assert_eq!(ex[1].last_frame(), Some(f6));
}

#[test]
fn pipelined_requests_pair_in_order() {
    let mut f = Feed::new();
    f.send(
        ToServer,
        b"GET /a HTTP/1.1\r\nHost: h.example.com\r\n\r\nHEAD /b HTTP/1.1\r\nHost: h.example.com\r\n\r\nGET /c HTTP/1.1\r\nHost: h.example.com\r\n\r\n",
    );
    f.send(
        ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nAHTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nC",
    );
    let (ex, diags) = f.finish();
    assert!(diags.is_empty(), "{diags:?}");
    let got: Vec<(String, u16, Vec<u8>)> = ex
        .iter()
        .map(|x| {
            let r = x.request.as_ref().unwrap();
            let s = x.response.as_ref().unwrap();
            (r.uri.clone(), s.status, s.body.clone())
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("/a".to_string(), 200, b"A".to_vec()),
            ("/b".to_string(), 200, Vec::new()),
            ("/c".to_string(), 404, b"C".to_vec()),
        ]
    );
    assert!(ex.iter().all(HttpExchange::is_complete));
}

#[test]
fn chunked_with_extensions_and_trailers_byte_by_byte() {
    let mut f = Feed::new();
    f.send(
        ToServer,
        b"GET /m HTTP/1.1\r\nHost: mmsc.example.com\r\n\r\n",
    );
    let resp = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Checksum\r\n\r\n\
5;ext=\"a b\"\r\nhello\r\n6\r\n world\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n";
    let frames = f.send_chunks(ToClient, resp, 1);
    f.send(
        ToServer,
        b"GET /n HTTP/1.1\r\nHost: mmsc.example.com\r\n\r\n",
    );
    f.send(ToClient, b"HTTP/1.1 204 No Content\r\n\r\n");
    let (ex, diags) = f.finish();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(ex.len(), 2);
    let s = ex[0].response.as_ref().unwrap();
    assert_eq!(s.body, b"hello world");
    assert_eq!(
        s.trailers,
        vec![
            ("X-Checksum".to_string(), "abc".to_string()),
            ("X-Other".to_string(), "1".to_string())
        ]
    );
    assert_eq!(s.frames, frames, "every byte's frame, in order");
    assert_eq!(s.encoded_len, 11);
    assert!(s.body_len_on_wire > 11);
    assert!(s.complete);
    assert_eq!(ex[1].response.as_ref().unwrap().status, 204);
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_and_deflate_bodies() {
    let text = b"<smil>an MMS presentation, repeated repeated repeated</smil>";
    let gz = gzip(text);
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(text).unwrap();
    let z = z.finish().unwrap();
    let mut raw = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    raw.write_all(text).unwrap();
    let raw = raw.finish().unwrap();

    let mut f = Feed::new();
    for (coding, body) in [("gzip", &gz), ("deflate", &z), ("deflate", &raw)] {
        f.send(
            ToServer,
            b"GET /s HTTP/1.1\r\nHost: h.example.com\r\nAccept-Encoding: gzip, deflate\r\n\r\n",
        );
        let mut resp = format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: {coding}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        resp.extend_from_slice(body);
        f.send_chunks(ToClient, &resp, 7);
    }
    // gzip request body, chunked
    let gz_req = gzip(MMS_PDU);
    let mut req = b"POST /mms HTTP/1.1\r\nHost: h.example.com\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    req.extend_from_slice(format!("{:x}\r\n", gz_req.len()).as_bytes());
    req.extend_from_slice(&gz_req);
    req.extend_from_slice(b"\r\n0\r\n\r\n");
    f.send_chunks(ToServer, &req, 10);
    f.send(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");

    let (ex, diags) = f.finish();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(ex.len(), 4);
    for (x, body) in ex.iter().take(3).zip([&gz, &z, &raw]) {
        let s = x.response.as_ref().unwrap();
        assert_eq!(s.body, text);
        assert_eq!(s.encoded_len, body.len() as u64);
        assert!(!s.body_truncated);
    }
    let r = ex[3].request.as_ref().unwrap();
    assert_eq!(r.body, MMS_PDU);
    assert_eq!(r.content_encoding.as_deref(), Some("gzip"));
    // No Content-Type, but the body starts like an MMS PDU.
    assert_eq!(ex[3].mms_bodies().len(), 1);
}

#[test]
fn hundred_continue_is_noted_not_paired() {
    let mut f = Feed::new();
    f.send(
        ToServer,
        b"POST /mms HTTP/1.1\r\nHost: h.example.com\r\nExpect: 100-continue\r\nContent-Length: 8\r\nContent-Type: application/vnd.wap.mms-message\r\n\r\n",
    );
    let interim = f.send(ToClient, b"HTTP/1.1 100 Continue\r\n\r\n");
    f.send(ToServer, MMS_PDU);
    let fin = f.send(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let (ex, diags) = f.finish();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(ex.len(), 1);
    let s = ex[0].response.as_ref().unwrap();
    assert_eq!(s.status, 200);
    assert_eq!(s.interim, vec![(100, interim)]);
    assert_eq!(s.frames, vec![fin]);
    assert_eq!(ex[0].request.as_ref().unwrap().body, MMS_PDU);
}

#[test]
fn head_204_304_have_no_body() {
    let mut f = Feed::new();
    f.send(ToServer, b"HEAD /x HTTP/1.1\r\nHost: h.example.com\r\n\r\nGET /y HTTP/1.1\r\nHost: h.example.com\r\n\r\nGET /z HTTP/1.1\r\nHost: h.example.com\r\nIf-None-Match: \"e\"\r\n\r\nGET /w HTTP/1.1\r\nHost: h.example.com\r\n\r\n");
    f.send(
        ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Length: 123456\r\nContent-Type: application/vnd.wap.mms-message\r\n\r\n\
HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n\
HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n\
HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nend",
    );
    let (ex, diags) = f.finish();
    assert!(diags.is_empty(), "{diags:?}");
    let statuses: Vec<(u16, usize)> = ex
        .iter()
        .map(|x| {
            let s = x.response.as_ref().unwrap();
            (s.status, s.body.len())
        })
        .collect();
    assert_eq!(statuses, vec![(200, 0), (204, 0), (304, 0), (200, 3)]);
    // An MMS content type with an empty body is not an MMS PDU.
    assert!(ex[0].mms_bodies().is_empty());
}

#[test]
fn close_delimited_body_ends_at_close() {
    let mut f = Feed::new();
    f.send(ToServer, b"GET /m HTTP/1.0\r\nHost: h.example.com\r\n\r\n");
    f.send(
        ToClient,
        b"HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n",
    );
    f.send(ToClient, MMS_PDU);
    f.send(ToClient, b"more");
    assert!(f.out.is_empty(), "not finished before the close");
    f.close(Some(ToClient));
    assert_eq!(f.out.len(), 1);
    let (ex, diags) = f.finish();
    assert!(diags.is_empty(), "{diags:?}");
    let s = ex[0].response.as_ref().unwrap();
    assert!(s.complete);
    assert_eq!(s.version, HttpVersion::Http10);
    let mut want = MMS_PDU.to_vec();
    want.extend_from_slice(b"more");
    assert_eq!(s.body, want);
    assert_eq!(ex[0].mms_bodies()[0].direction, ToClient);
}

#[test]
fn close_delimited_without_close_is_incomplete_at_finish() {
    let mut f = Feed::new();
    f.send(ToServer, b"GET / HTTP/1.1\r\nHost: h.example.com\r\n\r\n");
    f.send(ToClient, b"HTTP/1.1 200 OK\r\n\r\npartial");
    let (ex, diags) = f.finish();
    assert!(!ex[0].response.as_ref().unwrap().complete);
    assert!(has_diag(&diags, Layer::Http, "capture ended"));
}

#[test]
fn gap_mid_body_then_next_request() {
    let mut f = Feed::new();
    f.send(
        ToServer,
        b"POST /mms HTTP/1.1\r\nHost: h.example.com\r\nContent-Length: 100\r\n\r\n",
    );
    f.send(ToServer, &[0x8c, 0x80, 1, 2, 3, 4, 5, 6, 7, 8]);
    f.gap(ToServer, 50);
    f.send(ToServer, &[0u8; 40]);
    f.send(
        ToServer,
        b"GET /next HTTP/1.1\r\nHost: h.example.com\r\n\r\n",
    );
    f.send(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
    assert!(f.has_diag(Layer::Http, "gap of 50 bytes"));
    let (ex, _) = f.finish();
    assert_eq!(ex.len(), 2);
    let r = ex[0].request.as_ref().unwrap();
    assert!(!r.complete);
    assert!(r.body_truncated);
    assert_eq!(
        r.body,
        [0x8c, 0x80, 1, 2, 3, 4, 5, 6, 7, 8],
        "kept up to the gap"
    );
    assert_eq!(r.body_len_on_wire, 100);
    let r = ex[1].request.as_ref().unwrap();
    assert_eq!(r.uri, "/next");
    assert!(r.complete);
    assert_eq!(ex[1].response.as_ref().unwrap().body, b"x");
}

#[test]
fn gap_in_chunked_body_resyncs_at_next_message() {
    let mut f = Feed::new();
    f.send(ToServer, b"GET /a HTTP/1.1\r\nHost: h.example.com\r\n\r\nGET /b HTTP/1.1\r\nHost: h.example.com\r\n\r\n");
    f.send(
        ToClient,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n",
    );
    // The gap swallows the rest of this chunk header and some data.
    f.gap(ToClient, 30);
    f.send(
        ToClient,
        b"zzzz\r\n3\r\nxyz\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    let (ex, diags) = f.finish();
    assert_eq!(ex.len(), 2);
    let s = ex[0].response.as_ref().unwrap();
    assert!(!s.complete);
    assert_eq!(s.body, b"abcd");
    let s = ex[1].response.as_ref().unwrap();
    assert!(s.complete);
    assert_eq!(s.body, b"ok");
    assert!(has_diag(&diags, Layer::Http, "resumed"));
}

#[test]
fn garbage_before_first_request_is_skipped() {
    let mut f = Feed::new();
    f.send(ToServer, b"\x00\x01\x02\xffjunk junk\r\n");
    assert_eq!(f.conn.kind(), StreamKind::Unknown);
    f.send(
        ToServer,
        b"more junk GET /x HTTP/1.1\r\nHost: h.example.com\r\n\r\n",
    );
    assert_eq!(f.conn.kind(), StreamKind::Http);
    f.send(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let (ex, diags) = f.finish();
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].request.as_ref().unwrap().uri, "/x");
    assert!(
        has_diag(&diags, Layer::Http, "skipped 25 bytes"),
        "{diags:?}"
    );
}

#[test]
fn non_http_stream_is_other() {
    let limits = HttpLimits {
        max_sniff_bytes: 1024,
        ..HttpLimits::default()
    };
    let mut f = Feed::with_limits(limits);
    f.send(ToServer, b"SSH-2.0-OpenSSH_9.6\r\n");
    assert_eq!(f.conn.kind(), StreamKind::Unknown);
    for _ in 0..20 {
        f.send(ToServer, &[0x5a; 100]);
    }
    assert_eq!(f.conn.kind(), StreamKind::Other);
    assert!(!f.conn.wants_data());
    let (ex, diags) = f.finish();
    assert!(ex.is_empty());
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn responses_first_seen_to_server_swap_roles() {
    let mut f = Feed::new();
    // The flow layer took the server for the client.
    f.send(ToServer, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
    assert!(f.conn.roles_swapped());
    f.send(
        ToClient,
        b"GET /again HTTP/1.1\r\nHost: h.example.com\r\n\r\n",
    );
    f.send(ToServer, b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye");
    let (ex, _) = f.finish();
    assert_eq!(ex.len(), 2);
    assert!(
        ex[0].request.is_none(),
        "answer to a request before the capture"
    );
    assert_eq!(ex[0].response.as_ref().unwrap().body, b"hi");
    assert_eq!(ex[1].request.as_ref().unwrap().uri, "/again");
    assert_eq!(ex[1].response.as_ref().unwrap().body, b"bye");
}

#[test]
fn absolute_form_and_raw_header_values() {
    let mut f = Feed::new();
    f.send(
        ToServer,
        b"GET http://mmsc.example.com/mms?id=1 HTTP/1.1\r\nHost: proxy.example.net\r\nX-Name: caf\xe9\r\n\r\n",
    );
    let (ex, _) = f.finish();
    let r = ex[0].request.as_ref().unwrap();
    assert_eq!(r.url, "http://mmsc.example.com/mms?id=1");
    assert_eq!(
        r.headers[1],
        ("X-Name".to_string(), "caf\u{fffd}".to_string())
    );
    assert_eq!(r.raw_header_values, vec![(1, b"caf\xe9".to_vec())]);
    assert!(ex[0].response.is_none());
}

#[test]
fn too_many_headers_is_a_limit_diagnostic() {
    let limits = HttpLimits {
        max_headers: 4,
        ..HttpLimits::default()
    };
    let mut f = Feed::with_limits(limits);
    let mut req = b"GET /a HTTP/1.1\r\n".to_vec();
    for i in 0..10 {
        req.extend_from_slice(format!("X-{i}: v\r\n").as_bytes());
    }
    req.extend_from_slice(b"\r\nGET /b HTTP/1.1\r\nHost: h.example.com\r\n\r\n");
    f.send(ToServer, &req);
    let (ex, diags) = f.finish();
    assert!(has_diag(&diags, Layer::Limit, "more than 4 header fields"));
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].request.as_ref().unwrap().uri, "/b");
}

#[test]
fn oversized_head_is_a_limit_diagnostic() {
    let limits = HttpLimits {
        max_head_bytes: 1024,
        ..HttpLimits::default()
    };
    let mut f = Feed::with_limits(limits);
    f.send(ToServer, b"GET /a HTTP/1.1\r\nHost: h.example.com\r\n");
    for _ in 0..20 {
        f.send(
            ToServer,
            b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n",
        );
    }
    assert!(f.conn.buffered_bytes() <= 2 * 1024);
    f.send(
        ToServer,
        b"\r\nGET /b HTTP/1.1\r\nHost: h.example.com\r\n\r\n",
    );
    let (ex, diags) = f.finish();
    assert!(has_diag(&diags, Layer::Limit, "head longer than 1024"));
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].request.as_ref().unwrap().uri, "/b");
}

#[test]
fn four_gigabyte_claim_does_not_allocate() {
    let mut f = Feed::new();
    f.send(
        ToServer,
        b"POST /mms HTTP/1.1\r\nHost: h.example.com\r\nContent-Length: 4294967296\r\n\r\n",
    );
    f.send(ToServer, &[0x41; 1000]);
    assert!(f.conn.buffered_bytes() < 4096);
    let (ex, diags) = f.finish();
    let r = ex[0].request.as_ref().unwrap();
    assert!(!r.complete);
    assert_eq!(r.body.len(), 1000);
    assert!(r.body.capacity() < 64 * 1024);
    assert!(has_diag(
        &diags,
        Layer::Http,
        "capture ended inside a request body"
    ));
}

#[test]
fn body_cap_keeps_prefix_and_counts_the_rest() {
    let limits = HttpLimits {
        max_body_bytes: 1000,
        ..HttpLimits::default()
    };
    let mut f = Feed::with_limits(limits);
    f.send(ToServer, b"GET / HTTP/1.1\r\nHost: h.example.com\r\n\r\n");
    f.send(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n");
    f.send_chunks(ToClient, &[7u8; 5000], 1400);
    let (ex, diags) = f.finish();
    let s = ex[0].response.as_ref().unwrap();
    assert_eq!(s.body.len(), 1000);
    assert!(s.body_truncated);
    assert_eq!(s.encoded_len, 5000);
    assert_eq!(s.frames.len(), 5, "head frame and four body frames");
    assert!(has_diag(&diags, Layer::Limit, "body cap"));
}

/// A gzip stream of 2^30 zero bytes, built from one deflate block repeated (a full flush resets
/// the compressor, so every mebibyte compresses to the same bytes): ~1 MB, never 1 GB in memory.
fn gzip_bomb() -> Vec<u8> {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    const MIB: usize = 1 << 20;
    let zeros = vec![0u8; MIB];
    let mut c = Compress::new(Compression::best(), false);
    let mut block = Vec::with_capacity(64 * 1024);
    let mut input: &[u8] = &zeros;
    loop {
        let before = c.total_in();
        c.compress_vec(input, &mut block, FlushCompress::Full)
            .unwrap();
        input = &input[(c.total_in() - before) as usize..];
        if input.is_empty() && block.len() < block.capacity() {
            break;
        }
        block.reserve(64 * 1024);
    }
    let mut tail = Vec::with_capacity(64);
    c.compress_vec(&[], &mut tail, FlushCompress::Finish)
        .unwrap();

    let mut crc = Crc::new();
    for _ in 0..1024 {
        crc.update(&zeros);
    }
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff];
    for _ in 0..1024 {
        out.extend_from_slice(&block);
    }
    out.extend_from_slice(&tail);
    out.extend_from_slice(&crc.sum().to_le_bytes());
    out.extend_from_slice(&crc.amount().to_le_bytes());
    out
}

#[test]
fn decompression_bomb_is_cut_at_the_cap() {
    let bomb = gzip_bomb();
    assert!(bomb.len() < 2 << 20);
    let limits = HttpLimits::default();
    let mut f = Feed::with_limits(limits);
    f.send(
        ToServer,
        b"GET /m HTTP/1.1\r\nHost: mmsc.example.com\r\n\r\n",
    );
    f.send(
        ToClient,
        format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            bomb.len()
        )
        .as_bytes(),
    );
    f.send_chunks(ToClient, &bomb, 64 * 1024);
    assert!(f.conn.buffered_bytes() <= limits.max_connection_body_bytes);
    let (ex, diags) = f.finish();
    let s = ex[0].response.as_ref().unwrap();
    assert!(s.body.len() <= limits.max_decoded_bytes);
    assert!(s.body.iter().all(|&b| b == 0));
    assert!(s.body_truncated);
    assert!(
        s.complete,
        "every byte was on the wire; only decoding was cut"
    );
    assert_eq!(s.encoded_len, bomb.len() as u64);
    assert!(has_diag(&diags, Layer::Limit, "compression bomb"));

    // With the ratio check off, the size cap cuts it.
    let limits = HttpLimits {
        max_decode_ratio: u64::MAX,
        max_decoded_bytes: 8 << 20,
        ..HttpLimits::default()
    };
    let mut f = Feed::with_limits(limits);
    f.send(
        ToServer,
        b"GET /m HTTP/1.1\r\nHost: mmsc.example.com\r\n\r\n",
    );
    f.send(
        ToClient,
        format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            bomb.len()
        )
        .as_bytes(),
    );
    f.send_chunks(ToClient, &bomb, 64 * 1024);
    let (ex, diags) = f.finish();
    let s = ex[0].response.as_ref().unwrap();
    assert_eq!(s.body.len(), 8 << 20);
    assert!(has_diag(&diags, Layer::Limit, "decoded size cap"));
}

#[test]
fn corrupt_gzip_keeps_raw_body() {
    let mut f = Feed::new();
    f.send(ToServer, b"GET / HTTP/1.1\r\nHost: h.example.com\r\n\r\n");
    f.send(
        ToClient,
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope",
    );
    let (ex, diags) = f.finish();
    assert_eq!(ex[0].response.as_ref().unwrap().body, b"nope");
    assert!(has_diag(&diags, Layer::Http, "not valid gzip"));
}

/// A minimal TLS 1.3 ClientHello record for `host`.
fn client_hello_record(host: &str) -> Vec<u8> {
    let mut ext = Vec::new();
    let h = host.as_bytes();
    ext.extend_from_slice(&[0, 0]);
    ext.extend_from_slice(&((h.len() + 5) as u16).to_be_bytes());
    ext.extend_from_slice(&((h.len() + 3) as u16).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&(h.len() as u16).to_be_bytes());
    ext.extend_from_slice(h);
    ext.extend_from_slice(&[0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04]);
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x42; 32]);
    body.push(0);
    body.extend_from_slice(&[0x00, 0x02, 0x13, 0x01, 0x01, 0x00]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

#[test]
fn connect_then_tls_in_the_tunnel() {
    let mut f = Feed::new();
    f.send(
        ToServer,
        b"CONNECT mmsc.example.com:443 HTTP/1.1\r\nHost: mmsc.example.com:443\r\nProxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n",
    );
    // The client starts TLS before the proxy answers: held, not parsed as HTTP.
    let hello = client_hello_record("mmsc.example.com");
    let hello_frame = f.send(ToServer, &hello[..10]);
    let hello_end = f.send(ToServer, &hello[10..]);
    f.send(ToClient, b"HTTP/1.1 200 Connection established\r\n\r\n");
    assert_eq!(f.conn.kind(), StreamKind::Tunnel);
    let sh = f.send(ToClient, &server_hello_record(0x0304));
    let (ex, diags) = f.finish_keep();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(ex.len(), 1);
    let r = ex[0].request.as_ref().unwrap();
    assert_eq!(r.method, "CONNECT");
    assert_eq!(r.url, "mmsc.example.com:443");
    assert_eq!(ex[0].response.as_ref().unwrap().status, 200);
    let tls = f.conn.tls().unwrap();
    assert_eq!(tls.sni.as_deref(), Some("mmsc.example.com"));
    assert_eq!(tls.first_frame, Some(hello_frame));
    assert_eq!(tls.client_hello_frame, Some(hello_end));
    assert_eq!(tls.server_hello_frame, Some(sh));
    assert_eq!(tls.negotiated_version_name().as_deref(), Some("TLS 1.3"));
    assert!(!f.conn.wants_data(), "both hellos read");
}

/// A minimal ServerHello record selecting `version` through supported_versions.
fn server_hello_record(version: u16) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x24; 32]);
    body.push(0);
    body.extend_from_slice(&[0x13, 0x01, 0x00]);
    body.extend_from_slice(&[0x00, 0x06, 0x00, 0x2b, 0x00, 0x02]);
    body.extend_from_slice(&version.to_be_bytes());
    let mut hs = vec![2];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x03];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

// `finish_keep` lets the test look at the connection after finishing.
impl Feed {
    fn finish_keep(&mut self) -> (Vec<HttpExchange>, Vec<Diagnostic>) {
        let rest = self.conn.finish(&mut self.diags);
        let mut out = std::mem::take(&mut self.out);
        out.extend(rest);
        (out, std::mem::take(&mut self.diags))
    }
}

#[test]
fn connect_tunnel_records_tls_hello() {
    let mut f = Feed::new();
    f.send(
        ToServer,
        b"CONNECT mmsc.example.com:443 HTTP/1.1\r\nHost: mmsc.example.com:443\r\n\r\n",
    );
    f.send(ToClient, b"HTTP/1.1 200 OK\r\n\r\n");
    let hello = client_hello_record("mmsc.example.com");
    f.send(ToServer, &hello[..7]);
    let end = f.send(ToServer, &hello[7..]);
    let info = f.conn.tls().expect("tls seen in tunnel").clone();
    assert_eq!(info.sni.as_deref(), Some("mmsc.example.com"));
    assert_eq!(info.client_versions, vec![0x0304]);
    assert_eq!(info.client_hello_frame, Some(end));
    assert_eq!(f.conn.kind(), StreamKind::Tunnel);
    assert!(f.conn.wants_data(), "server hello not seen yet");
    let (ex, _) = f.finish();
    assert_eq!(ex.len(), 1);
}

#[test]
fn refused_connect_releases_held_requests() {
    let mut f = Feed::new();
    f.send(ToServer, b"CONNECT mmsc.example.com:443 HTTP/1.1\r\nHost: mmsc.example.com:443\r\n\r\nGET http://mmsc.example.com/x HTTP/1.1\r\nHost: mmsc.example.com\r\n\r\n");
    f.send(
        ToClient,
        b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 4\r\n\r\ndeny",
    );
    f.send(ToClient, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let (ex, diags) = f.finish();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(ex.len(), 2);
    assert_eq!(ex[0].response.as_ref().unwrap().status, 407);
    assert_eq!(
        ex[1].request.as_ref().unwrap().uri,
        "http://mmsc.example.com/x"
    );
    assert_eq!(ex[1].response.as_ref().unwrap().body, b"ok");
}

#[test]
fn direct_tls_is_classified() {
    let mut f = Feed::new();
    let hello = client_hello_record("mms.example.com");
    f.send(ToServer, &hello[..2]);
    assert_eq!(f.conn.kind(), StreamKind::Unknown);
    f.send(ToServer, &hello[2..]);
    assert_eq!(f.conn.kind(), StreamKind::Tls);
    assert_eq!(
        f.conn.tls().unwrap().sni.as_deref(),
        Some("mms.example.com")
    );
    let (ex, _) = f.finish();
    assert!(ex.is_empty());
}

#[test]
fn request_without_response_is_flushed_at_finish() {
    let mut f = Feed::new();
    f.send(
        ToServer,
        b"GET /lonely HTTP/1.1\r\nHost: h.example.com\r\n\r\n",
    );
    assert!(f.out.is_empty());
    let (ex, _) = f.finish();
    assert_eq!(ex.len(), 1);
    assert!(ex[0].response.is_none());
    assert!(ex[0].request.as_ref().unwrap().complete);
}

#[test]
fn truncated_head_at_close_is_reported() {
    let mut f = Feed::new();
    f.send(ToServer, b"GET /x HTTP/1.1\r\nHost: h.exam");
    f.close(None);
    let (ex, diags) = f.finish();
    assert!(ex.is_empty());
    assert!(has_diag(
        &diags,
        Layer::Http,
        "closed inside a request head"
    ));
}

#[test]
fn switching_protocols_is_a_tunnel() {
    let mut f = Feed::new();
    f.send(
        ToServer,
        b"GET /chat HTTP/1.1\r\nHost: h.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    );
    f.send(
        ToClient,
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello",
    );
    assert_eq!(f.conn.kind(), StreamKind::Tunnel);
    f.send(ToServer, b"\x81\x85\x00\x00\x00\x00hello");
    assert!(f.conn.tls().is_none());
    let (ex, diags) = f.finish();
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].response.as_ref().unwrap().status, 101);
}

#[test]
fn gap_inside_a_head_is_reported_and_skipped() {
    let mut f = Feed::new();
    f.send(ToServer, b"GET /a HTTP/1.1\r\nHost: h.exa");
    f.gap(ToServer, 40);
    f.send(
        ToServer,
        b"ample.com\r\n\r\nGET /b HTTP/1.1\r\nHost: h.example.com\r\n\r\n",
    );
    let (ex, diags) = f.finish();
    assert!(has_diag(&diags, Layer::Http, "inside a request head"));
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].request.as_ref().unwrap().uri, "/b");
}

#[test]
fn gap_covering_the_rest_of_a_body_keeps_framing() {
    let mut f = Feed::new();
    f.send(
        ToServer,
        b"POST /a HTTP/1.1\r\nHost: h.example.com\r\nContent-Length: 10\r\n\r\n12345",
    );
    f.gap(ToServer, 5);
    f.send(ToServer, b"GET /b HTTP/1.1\r\nHost: h.example.com\r\n\r\n");
    let (ex, _) = f.finish();
    assert_eq!(ex.len(), 2);
    let a = ex[0].request.as_ref().unwrap();
    assert!(!a.complete);
    assert_eq!(a.body, b"12345");
    assert!(ex[1].request.as_ref().unwrap().complete);
}

#[test]
fn gzip_body_cut_by_a_gap_keeps_what_decoded() {
    let text: Vec<u8> = (0..100_000u32)
        .flat_map(|i| format!("line {i} of an MMS text part\n").into_bytes())
        .take(200_000)
        .collect();
    let gz = gzip(&text);
    let mut f = Feed::new();
    f.send(ToServer, b"GET /m HTTP/1.1\r\nHost: h.example.com\r\n\r\n");
    f.send(
        ToClient,
        format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            gz.len()
        )
        .as_bytes(),
    );
    let half = gz.len() / 2;
    f.send(ToClient, &gz[..half]);
    f.gap(ToClient, 100);
    f.send(ToClient, &gz[half + 100..]);
    let (ex, _) = f.finish();
    let s = ex[0].response.as_ref().unwrap();
    assert!(!s.complete);
    assert!(s.body_truncated);
    assert!(!s.body.is_empty());
    assert!(s.body.len() < text.len());
    assert_eq!(&text[..s.body.len()], &s.body[..]);
    assert_eq!(s.body_len_on_wire, gz.len() as u64);
}

#[test]
fn too_many_pending_requests_release_the_oldest() {
    let limits = HttpLimits {
        max_pending_requests: 2,
        ..HttpLimits::default()
    };
    let mut f = Feed::with_limits(limits);
    for p in ["/1", "/2", "/3"] {
        f.send(
            ToServer,
            format!("GET {p} HTTP/1.1\r\nHost: h.example.com\r\n\r\n").as_bytes(),
        );
    }
    assert_eq!(f.out.len(), 1, "the oldest is given up unanswered");
    assert!(f.out[0].response.is_none());
    assert!(f.has_diag(Layer::Limit, "waiting for responses"));
    let (ex, _) = f.finish();
    assert_eq!(ex.len(), 3);
}

#[test]
fn frame_list_is_capped() {
    let limits = HttpLimits {
        max_frames_per_message: 4,
        ..HttpLimits::default()
    };
    let mut f = Feed::with_limits(limits);
    f.send(
        ToServer,
        b"POST /a HTTP/1.1\r\nHost: h.example.com\r\nContent-Length: 10\r\n\r\n",
    );
    let frames = f.send_chunks(ToServer, b"0123456789", 1);
    let (ex, diags) = f.finish();
    let r = ex[0].request.as_ref().unwrap();
    assert_eq!(r.frames.len(), 4);
    assert_eq!(r.last_frame, *frames.last().unwrap());
    assert!(r.complete);
    assert!(has_diag(&diags, Layer::Limit, "more than 4 frames"));
}

#[test]
fn smuggling_signs_are_diagnosed() {
    let mut f = Feed::new();
    f.send(
        ToServer,
        b"POST /a HTTP/1.1\r\nHost: h.example.com\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    );
    let (ex, diags) = f.finish();
    assert_eq!(ex[0].request.as_ref().unwrap().body, b"abc");
    assert!(has_diag(
        &diags,
        Layer::Http,
        "both Transfer-Encoding and Content-Length"
    ));
}
