#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Property tests: `HttpConnection`, `TlsConnection` and the TLS parsers never panic on
//! arbitrary chunk sequences, and what a connection holds stays under its caps.

use mmsleak::flow::Direction;
use mmsleak::proto::http::{HttpConnection, HttpLimits};
use mmsleak::proto::tls::parser::{
    parse_client_hello, parse_handshake_header, parse_record_header, parse_server_hello,
};
use mmsleak::proto::tls::{TlsConnection, TlsLimits};
use mmsleak::time::Timestamp;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Event {
    Data(bool, Vec<u8>),
    Gap(bool, u64),
    Close(Option<bool>),
}

fn dir(to_server: bool) -> Direction {
    if to_server {
        Direction::ToServer
    } else {
        Direction::ToClient
    }
}

/// Fragments that make real HTTP and TLS likely, mixed with noise.
const PIECES: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: h.example.com\r\n\r\n",
    b"POST /mms HTTP/1.1\r\nContent-Length: 5\r\n\r\n",
    b"HEAD /x HTTP/1.0\r\n\r\n",
    b"CONNECT mmsc.example.com:443 HTTP/1.1\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nContent-Encoding: gzip\r\n\r\n",
    b"HTTP/1.1 204 No Content\r\n\r\n",
    b"Content-Length: 99999999999\r\n",
    b"Transfer-Encoding: chunked\r\n",
    b"Content-Encoding: deflate\r\n",
    b"\r\n",
    b"5\r\nhello\r\n",
    b"ffffffffffff;x=y\r\n",
    b"0\r\nX-T: 1\r\n\r\n",
    b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff",
    b"\x16\x03\x01\x00\x30\x01\x00\x00\x2c\x03\x03",
    b"\x8c\x80\x98T\x00",
];

fn chunk() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        proptest::sample::select(PIECES).prop_map(<[u8]>::to_vec),
        (
            proptest::sample::select(PIECES),
            any::<prop::sample::Index>()
        )
            .prop_map(|(p, i)| {
                // A piece cut short.
                p[..i.index(p.len() + 1)].to_vec()
            }),
    ]
}

fn event() -> impl Strategy<Value = Event> {
    prop_oneof![
        8 => (any::<bool>(), chunk()).prop_map(|(d, c)| Event::Data(d, c)),
        1 => (any::<bool>(), 0u64..100_000).prop_map(|(d, n)| Event::Gap(d, n)),
        1 => proptest::option::of(any::<bool>()).prop_map(Event::Close),
    ]
}

fn small_limits() -> HttpLimits {
    HttpLimits {
        max_head_bytes: 512,
        max_headers: 8,
        max_body_bytes: 1024,
        max_decoded_bytes: 2048,
        max_decode_ratio: 50,
        max_connection_body_bytes: 4096,
        max_pending_requests: 4,
        max_frames_per_message: 16,
        max_sniff_bytes: 256,
        max_resync_bytes: 2048,
        max_tls_hello_bytes: 512,
        keep_non_mms_bodies: true,
    }
}

/// What a connection may hold with `small_limits`: per direction an unparsed buffer bounded by
/// the longest partial start line or head, the body budget, and two TLS hello buffers.
const BOUND: usize = 2 * (8 * 1024 + 64 + 512) + 4096 + 2 * 2 * (512 + 4);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn http_connection_never_panics(events in proptest::collection::vec(event(), 0..40)) {
        let mut conn = HttpConnection::new(small_limits());
        let mut diags = Vec::new();
        let mut exchanges = 0usize;
        for (i, e) in events.iter().enumerate() {
            let frame = i as u64 + 1;
            let ts = Timestamp::new(1_700_000_000, 0, 6);
            match e {
                Event::Data(d, bytes) => conn.on_data(dir(*d), bytes, frame, ts, &mut diags),
                Event::Gap(d, n) => conn.on_gap(dir(*d), *n, frame, ts, &mut diags),
                Event::Close(d) => conn.on_close(d.map(dir), frame, ts, &mut diags),
            }
            prop_assert!(conn.buffered_bytes() <= BOUND, "holds {}", conn.buffered_bytes());
            if i % 3 == 0 {
                exchanges += conn.take_exchanges().len();
            }
            let _ = conn.kind();
            let _ = conn.wants_data();
        }
        let rest = conn.finish(&mut diags);
        exchanges += rest.len();
        for x in &rest {
            for m in x.mms_bodies() {
                prop_assert!(!m.body.is_empty());
            }
            if let Some(r) = &x.request {
                prop_assert!(r.body.len() <= 2048);
                prop_assert!(r.frames.len() <= 16);
            }
            if let Some(r) = &x.response {
                prop_assert!(r.body.len() <= 2048);
            }
        }
        prop_assert!(exchanges <= events.len() * 8);
    }

    #[test]
    fn http_connection_never_panics_on_one_stream_cut_anywhere(
        pieces in proptest::collection::vec(proptest::sample::select(PIECES), 1..20),
        cuts in proptest::collection::vec(1usize..50, 1..40),
    ) {
        // A plausible byte stream, cut at arbitrary points, alternating directions by piece kind.
        let mut conn = HttpConnection::new(small_limits());
        let mut diags = Vec::new();
        let mut frame = 0u64;
        for piece in pieces {
            let d = if piece.starts_with(b"HTTP/") { Direction::ToClient } else { Direction::ToServer };
            let mut rest = piece;
            let mut k = 0;
            while !rest.is_empty() {
                let n = cuts[k % cuts.len()].min(rest.len());
                frame += 1;
                conn.on_data(d, &rest[..n], frame, Timestamp::default(), &mut diags);
                rest = &rest[n..];
                k += 1;
            }
            prop_assert!(conn.buffered_bytes() <= BOUND);
        }
        let _ = conn.finish(&mut diags);
    }

    #[test]
    fn tls_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = parse_record_header(&bytes);
        let _ = parse_handshake_header(&bytes);
        let _ = parse_client_hello(&bytes);
        let _ = parse_server_hello(&bytes);
    }

    #[test]
    fn tls_connection_never_panics(
        chunks in proptest::collection::vec(
            (any::<bool>(), prop_oneof![
                proptest::collection::vec(any::<u8>(), 0..300),
                Just(vec![0x16, 0x03, 0x01]),
                Just(vec![0x00, 0x40, 0x01, 0x00, 0x00, 0x3c, 0x03, 0x03]),
            ]),
            0..30,
        )
    ) {
        let mut tls = TlsConnection::new(TlsLimits { max_hello_bytes: 256 });
        let mut diags = Vec::new();
        for (i, (d, c)) in chunks.iter().enumerate() {
            tls.on_data(dir(*d), c, i as u64, Timestamp::default(), &mut diags);
            prop_assert!(tls.buffered_bytes() <= 2 * 2 * (256 + 4 + 300));
        }
        let _ = tls.info();
    }
}
