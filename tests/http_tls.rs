#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! TLS hello transcripts: records built by hand, fed to `TlsConnection` in chunks.

use mmsleak::diag::{Diagnostic, Layer};
use mmsleak::flow::Direction::{ToClient, ToServer};
use mmsleak::proto::tls::parser::{HELLO_RETRY_REQUEST_RANDOM, parse_client_hello};
use mmsleak::proto::tls::{TlsConnection, TlsLimits, is_mmsc_name, looks_like_tls};
use mmsleak::time::Timestamp;

fn ts(frame: u64) -> Timestamp {
    Timestamp::new(1_700_000_000 + frame as i64, 0, 6)
}

fn u16be(v: usize) -> [u8; 2] {
    (v as u16).to_be_bytes()
}

/// One extension: type, length, data.
fn ext(ext_type: u16, data: &[u8]) -> Vec<u8> {
    let mut e = ext_type.to_be_bytes().to_vec();
    e.extend_from_slice(&u16be(data.len()));
    e.extend_from_slice(data);
    e
}

fn sni_ext(host: &str) -> Vec<u8> {
    let h = host.as_bytes();
    let mut entry = vec![0u8];
    entry.extend_from_slice(&u16be(h.len()));
    entry.extend_from_slice(h);
    let mut list = u16be(entry.len()).to_vec();
    list.extend_from_slice(&entry);
    ext(0, &list)
}

fn alpn_ext(protocols: &[&str]) -> Vec<u8> {
    let mut names = Vec::new();
    for p in protocols {
        names.push(p.len() as u8);
        names.extend_from_slice(p.as_bytes());
    }
    let mut list = u16be(names.len()).to_vec();
    list.extend_from_slice(&names);
    ext(16, &list)
}

/// A handshake message: type, 24-bit length, body.
fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut hs = vec![msg_type];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(body);
    hs
}

/// Records of `content_type` carrying `payload`, at most `max` payload bytes each.
fn records(content_type: u8, version: u16, payload: &[u8], max: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for frag in payload.chunks(max) {
        out.push(content_type);
        out.extend_from_slice(&version.to_be_bytes());
        out.extend_from_slice(&u16be(frag.len()));
        out.extend_from_slice(frag);
    }
    out
}

/// A TLS 1.3-style ClientHello for mmsc.example.com with ALPN and supported_versions.
fn client_hello() -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x5a; 32]);
    body.push(32);
    body.extend_from_slice(&[0x77; 32]); // legacy session id
    body.extend_from_slice(&[0x00, 0x06, 0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f]);
    body.extend_from_slice(&[0x01, 0x00]);
    let mut exts = Vec::new();
    exts.extend(ext(0x0a0a, &[])); // GREASE extension
    exts.extend(sni_ext("mmsc.example.com"));
    exts.extend(alpn_ext(&["h2", "http/1.1"]));
    exts.extend(ext(43, &[0x06, 0x2a, 0x2a, 0x03, 0x04, 0x03, 0x03]));
    exts.extend(ext(21, &[0u8; 200])); // padding
    body.extend_from_slice(&u16be(exts.len()));
    body.extend_from_slice(&exts);
    handshake(1, &body)
}

fn server_hello(
    random: &[u8; 32],
    legacy: u16,
    selected: Option<u16>,
    alpn: Option<&str>,
) -> Vec<u8> {
    let mut body = legacy.to_be_bytes().to_vec();
    body.extend_from_slice(random);
    body.push(0);
    body.extend_from_slice(&[0x13, 0x01, 0x00]);
    let mut exts = Vec::new();
    if let Some(v) = selected {
        exts.extend(ext(43, &v.to_be_bytes()));
    }
    if let Some(p) = alpn {
        exts.extend(alpn_ext(&[p]));
    }
    if !exts.is_empty() {
        body.extend_from_slice(&u16be(exts.len()));
        body.extend_from_slice(&exts);
    }
    handshake(2, &body)
}

#[test]
fn client_hello_sni_alpn_versions() {
    let msg = client_hello();
    let hello = parse_client_hello(&msg[4..]).unwrap();
    assert_eq!(hello.cipher_suites.len(), 3);
    assert_eq!(hello.extensions.len(), 5);

    let mut tls = TlsConnection::new(TlsLimits::default());
    let mut diags = Vec::new();
    tls.on_data(
        ToServer,
        &records(22, 0x0301, &msg, 16384),
        3,
        ts(3),
        &mut diags,
    );
    assert!(diags.is_empty(), "{diags:?}");
    let info = tls.info();
    assert_eq!(info.sni.as_deref(), Some("mmsc.example.com"));
    assert_eq!(info.alpn, vec!["h2".to_string(), "http/1.1".to_string()]);
    assert_eq!(info.client_versions, vec![0x0304, 0x0303], "GREASE dropped");
    assert_eq!(info.client_legacy_version, Some(0x0303));
    assert_eq!(info.client_max_version(), Some(0x0304));
    assert_eq!(info.first_frame, Some(3));
    assert_eq!(info.client_hello_frame, Some(3));
    assert!(tls.is_tls());
    assert!(!tls.is_done(), "server hello still to come");
}

#[test]
fn server_hello_tls12_and_tls13() {
    // TLS 1.2: no supported_versions, the legacy version is the negotiated one.
    let mut tls = TlsConnection::new(TlsLimits::default());
    let mut diags = Vec::new();
    tls.on_data(
        ToServer,
        &records(22, 0x0301, &client_hello(), 16384),
        1,
        ts(1),
        &mut diags,
    );
    let sh = server_hello(&[1; 32], 0x0303, None, Some("http/1.1"));
    // ServerHello followed by more handshake messages in the same record (Certificate...).
    let mut flight = sh.clone();
    flight.extend(handshake(11, &[0u8; 50]));
    tls.on_data(
        ToClient,
        &records(22, 0x0303, &flight, 16384),
        2,
        ts(2),
        &mut diags,
    );
    assert!(diags.is_empty(), "{diags:?}");
    let info = tls.info();
    assert_eq!(info.negotiated_version, Some(0x0303));
    assert_eq!(info.negotiated_version_name().as_deref(), Some("TLS 1.2"));
    assert_eq!(info.alpn_selected.as_deref(), Some("http/1.1"));
    assert_eq!(info.server_hello_frame, Some(2));
    assert_eq!(info.cipher_suite, Some(0x1301));
    assert!(tls.is_done());

    // TLS 1.3: legacy 1.2, supported_versions says 1.3.
    let mut tls = TlsConnection::new(TlsLimits::default());
    let sh = server_hello(&[1; 32], 0x0303, Some(0x0304), None);
    tls.on_data(
        ToClient,
        &records(22, 0x0303, &sh, 16384),
        9,
        ts(9),
        &mut diags,
    );
    assert_eq!(
        tls.info().negotiated_version_name().as_deref(),
        Some("TLS 1.3")
    );
    assert_eq!(tls.info().server_legacy_version, Some(0x0303));

    // SSL 3.0.
    let mut tls = TlsConnection::new(TlsLimits::default());
    let sh = server_hello(&[1; 32], 0x0300, None, None);
    tls.on_data(
        ToClient,
        &records(22, 0x0300, &sh, 16384),
        9,
        ts(9),
        &mut diags,
    );
    assert_eq!(
        tls.info().negotiated_version_name().as_deref(),
        Some("SSL 3.0")
    );
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn hello_split_over_records_and_segments() {
    let msg = client_hello();
    // Three records of at most 100 handshake bytes ...
    let wire = records(22, 0x0301, &msg, 100);
    assert!(wire.len() > 200);
    // ... cut into segments that split record headers too.
    let mut tls = TlsConnection::new(TlsLimits::default());
    let mut diags = Vec::new();
    let cuts = [2usize, 3, 104, 106, 250];
    let mut start = 0;
    for (i, &cut) in cuts.iter().chain([wire.len()].iter()).enumerate() {
        tls.on_data(
            ToServer,
            &wire[start..cut],
            10 + i as u64,
            ts(10 + i as u64),
            &mut diags,
        );
        start = cut;
    }
    assert!(diags.is_empty(), "{diags:?}");
    let info = tls.info();
    assert_eq!(info.sni.as_deref(), Some("mmsc.example.com"));
    assert_eq!(info.first_frame, Some(10));
    assert_eq!(
        info.client_hello_frame,
        Some(15),
        "the frame of the last byte"
    );

    // Two chunks, one record.
    let mut tls = TlsConnection::new(TlsLimits::default());
    let wire = records(22, 0x0301, &msg, 16384);
    tls.on_data(ToServer, &wire[..40], 1, ts(1), &mut diags);
    assert!(tls.info().sni.is_none());
    tls.on_data(ToServer, &wire[40..], 2, ts(2), &mut diags);
    assert_eq!(tls.info().sni.as_deref(), Some("mmsc.example.com"));
    assert_eq!(tls.info().client_hello_frame, Some(2));
}

#[test]
fn hello_retry_request_then_server_hello() {
    let mut tls = TlsConnection::new(TlsLimits::default());
    let mut diags = Vec::new();
    let hrr = server_hello(&HELLO_RETRY_REQUEST_RANDOM, 0x0303, Some(0x0304), None);
    tls.on_data(
        ToClient,
        &records(22, 0x0303, &hrr, 16384),
        4,
        ts(4),
        &mut diags,
    );
    assert!(tls.info().hello_retry_request);
    assert_eq!(tls.info().server_hello_frame, None);
    // The client's second hello would come here; then the real ServerHello, after a
    // middlebox-compatibility change_cipher_spec record in the client direction only.
    let sh = server_hello(&[9; 32], 0x0303, Some(0x0304), None);
    tls.on_data(
        ToClient,
        &records(22, 0x0303, &sh, 16384),
        6,
        ts(6),
        &mut diags,
    );
    assert_eq!(tls.info().server_hello_frame, Some(6));
    assert_eq!(tls.info().negotiated_version, Some(0x0304));
    assert!(diags.is_empty(), "{diags:?}");
}

#[test]
fn garbage_is_not_tls() {
    assert!(!looks_like_tls(b"GET / HTTP/1.1"));
    let mut tls = TlsConnection::new(TlsLimits::default());
    let mut diags = Vec::new();
    tls.on_data(ToServer, b"\x16\x03\x09garbage", 1, ts(1), &mut diags);
    tls.on_data(ToClient, b"SSH-2.0-x\r\n", 2, ts(2), &mut diags);
    assert!(!tls.is_tls());
    assert!(tls.is_done());
    assert!(diags.is_empty());
    assert_eq!(tls.info().first_frame, None);

    // A TLS start followed by a broken record header.
    let mut tls = TlsConnection::new(TlsLimits::default());
    tls.on_data(
        ToServer,
        &[0x16, 0x03, 0x01, 0xff, 0xff, 0, 0],
        1,
        ts(1),
        &mut diags,
    );
    assert!(tls.is_tls());
    assert!(diags.iter().any(|d| d.layer == Layer::Tls));

    // A malformed ClientHello body inside a good record.
    let mut diags = Vec::new();
    let mut tls = TlsConnection::new(TlsLimits::default());
    let bad = handshake(1, &[0x03, 0x03, 1, 2, 3]);
    tls.on_data(
        ToServer,
        &records(22, 0x0301, &bad, 16384),
        1,
        ts(1),
        &mut diags,
    );
    assert!(tls.info().sni.is_none());
    assert!(
        diags
            .iter()
            .any(|d: &Diagnostic| d.message.contains("client_hello random"))
    );
}

#[test]
fn hello_over_the_cap_is_a_limit_diagnostic() {
    let mut tls = TlsConnection::new(TlsLimits {
        max_hello_bytes: 100,
    });
    let mut diags = Vec::new();
    tls.on_data(
        ToServer,
        &records(22, 0x0301, &client_hello(), 50),
        1,
        ts(1),
        &mut diags,
    );
    assert!(diags.iter().any(|d| d.layer == Layer::Limit));
    assert!(tls.info().sni.is_none());
    assert!(tls.buffered_bytes() <= 256);
}

#[test]
fn gap_before_hello_gives_up_with_diagnostic() {
    let mut tls = TlsConnection::new(TlsLimits::default());
    let mut diags = Vec::new();
    let wire = records(22, 0x0301, &client_hello(), 16384);
    tls.on_data(ToServer, &wire[..30], 1, ts(1), &mut diags);
    tls.on_gap(ToServer, 20, 2, &mut diags);
    tls.on_data(ToServer, &wire[50..], 3, ts(3), &mut diags);
    assert!(tls.info().sni.is_none());
    assert!(
        diags
            .iter()
            .any(|d| d.layer == Layer::Tls && d.message.contains("gap"))
    );
}

#[test]
fn mmsc_names() {
    let extra = vec!["operator.example".to_string()];
    assert!(is_mmsc_name("mms.example.com", &[]));
    assert!(is_mmsc_name("mmsc.example.net", &[]));
    assert!(is_mmsc_name("mms-gw.example.org", &[]));
    assert!(!is_mmsc_name("www.example.com", &[]));
    assert!(is_mmsc_name("store.operator.example", &extra));
}
