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
