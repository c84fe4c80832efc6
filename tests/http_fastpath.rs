//! Bodies declared not to be MMS are skipped, not kept, when the pipeline asks for it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mmsleak::Timestamp;
use mmsleak::flow::Direction;
use mmsleak::proto::http::{HttpConnection, HttpLimits};

fn run(limits: HttpLimits, response: &[u8]) -> Vec<mmsleak::proto::http::HttpExchange> {
    let mut c = HttpConnection::new(limits);
    let mut diags = Vec::new();
    let ts = Timestamp::new(1_700_000_000, 0, 6);
    c.on_data(
        Direction::ToServer,
        b"GET /x HTTP/1.1\r\nHost: h.example.com\r\n\r\n",
        1,
        ts,
        &mut diags,
    );
    c.on_data(Direction::ToClient, response, 2, ts, &mut diags);
    let mut out = c.take_exchanges();
    out.extend(c.finish(&mut diags));
    out
}

#[test]
fn non_mms_bodies_are_counted_not_kept() {
    let html =
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 11\r\n\r\n<p>hello</p>";
    let skip = HttpLimits {
        keep_non_mms_bodies: false,
        ..HttpLimits::default()
    };
    let ex = run(skip, html);
    let resp = ex[0].response.as_ref().unwrap();
    assert!(resp.body.is_empty());
    assert_eq!(resp.body_len_on_wire, 11);
    assert!(resp.complete);
    // The default keeps every body.
    let ex = run(HttpLimits::default(), html);
    assert_eq!(
        ex[0].response.as_ref().unwrap().body,
        b"<p>hello</p>"[..11].to_vec()
    );

    // MMS, and generic types that may hide MMS, are always kept.
    for ct in [
        "application/vnd.wap.mms-message",
        "application/octet-stream",
    ] {
        let mut r = format!("HTTP/1.1 200 OK\r\nContent-Type: {ct}\r\nContent-Length: 4\r\n\r\n")
            .into_bytes();
        r.extend_from_slice(&[0x8C, 0x84, b'A', b'B']);
        let ex = run(skip, &r);
        assert_eq!(
            ex[0].response.as_ref().unwrap().body,
            vec![0x8C, 0x84, b'A', b'B'],
            "{ct}"
        );
    }
}

/// Body bytes that are not kept are not even buffered: segment after segment of a large
/// non-MMS body, the connection holds (almost) nothing, and the exchanges that come out — length
/// on the wire, frames, completeness, the next exchange on the connection — are those of the
/// path that keeps bodies.
#[test]
fn unkept_bodies_are_skipped_without_buffering() {
    let ts = Timestamp::new(1_700_000_000, 0, 6);
    let run = |keep: bool, head_extra: &str, body: &[u8]| {
        let limits = HttpLimits {
            keep_non_mms_bodies: keep,
            ..HttpLimits::default()
        };
        let mut c = HttpConnection::new(limits);
        let mut diags = Vec::new();
        for (i, req) in ["/a", "/b"].iter().enumerate() {
            c.on_data(
                Direction::ToServer,
                format!("GET {req} HTTP/1.1\r\nHost: h.example.com\r\n\r\n").as_bytes(),
                1 + i as u64,
                ts,
                &mut diags,
            );
        }
        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n{head_extra}\r\n");
        c.on_data(Direction::ToClient, head.as_bytes(), 10, ts, &mut diags);
        let mut most_held = 0;
        for (i, piece) in body.chunks(1000).enumerate() {
            c.on_data(Direction::ToClient, piece, 11 + i as u64, ts, &mut diags);
            most_held = most_held.max(c.buffered_bytes());
        }
        let next = b"HTTP/1.1 204 No Content\r\n\r\n";
        c.on_data(Direction::ToClient, next, 100, ts, &mut diags);
        let mut ex = c.take_exchanges();
        ex.extend(c.finish(&mut diags));
        let summary: Vec<_> = ex
            .iter()
            .map(|e| {
                let r = e.response.as_ref().unwrap();
                (r.status, r.complete, r.body_len_on_wire, r.frames.clone())
            })
            .collect();
        (summary, most_held, diags.len())
    };
    let mut chunked = b"7530\r\n".to_vec();
    chunked.extend(vec![b'y'; 30_000]);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    for (framing, head_extra, body) in [
        ("length", "Content-Length: 30000\r\n", vec![b'x'; 30_000]),
        ("chunked", "Transfer-Encoding: chunked\r\n", chunked),
    ] {
        let (kept, kept_held, kept_diags) = run(true, head_extra, &body);
        let (skipped, skipped_held, skipped_diags) = run(false, head_extra, &body);
        assert_eq!(skipped, kept, "{framing}");
        assert_eq!(skipped.len(), 2, "{framing}");
        assert!(skipped[0].1, "{framing}: complete");
        let last = 10 + body.len().div_ceil(1000) as u64;
        assert_eq!(skipped[0].3, (10..=last).collect::<Vec<u64>>(), "{framing}");
        assert_eq!(skipped_diags, kept_diags, "{framing}");
        assert!(kept_held >= 29_000, "{framing}: the kept body is held");
        assert!(skipped_held < 1000, "{framing}: held {skipped_held} bytes");
    }
}
