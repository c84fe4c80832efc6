//! Per-flow TLS state: follows the record layer in each direction until the hello of that
//! direction has been read, then stops looking. A hello may span several records and segments;
//! it is buffered up to a cap.

use super::parser::{
    self, CONTENT_TYPE_HANDSHAKE, HANDSHAKE_CLIENT_HELLO, HANDSHAKE_HEADER_LEN,
    HANDSHAKE_SERVER_HELLO, RECORD_HEADER_LEN,
};
use crate::diag::{Diagnostic, Layer};
use crate::flow::Direction;
use crate::time::Timestamp;

/// Caps for one TLS flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TlsLimits {
    /// Largest hello message (handshake body) buffered across records and segments.
    pub max_hello_bytes: usize,
}

impl Default for TlsLimits {
    fn default() -> Self {
        TlsLimits {
            max_hello_bytes: 16 * 1024,
        }
    }
}

/// What the hellos of a TLS session revealed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsInfo {
    /// server_name host_name of the ClientHello (lossy if not UTF-8).
    pub sni: Option<String>,
    /// ALPN protocols the client offered.
    pub alpn: Vec<String>,
    /// ALPN protocol the server selected.
    pub alpn_selected: Option<String>,
    /// Versions offered in the ClientHello's supported_versions (GREASE removed), in its order.
    pub client_versions: Vec<u16>,
    pub client_legacy_version: Option<u16>,
    pub server_legacy_version: Option<u16>,
    /// ServerHello supported_versions if present, else its legacy version (RFC 8446 §4.2.1).
    pub negotiated_version: Option<u16>,
    pub cipher_suite: Option<u16>,
    /// The server answered with a HelloRetryRequest first.
    pub hello_retry_request: bool,
    /// Frame of the first TLS byte seen, and its time.
    pub first_frame: Option<u64>,
    pub first_ts: Option<Timestamp>,
    /// Frames in which the ClientHello and ServerHello were completed.
    pub client_hello_frame: Option<u64>,
    pub server_hello_frame: Option<u64>,
}

impl TlsInfo {
    /// "TLS 1.2", "TLS 1.3", ... for the negotiated version.
    pub fn negotiated_version_name(&self) -> Option<String> {
        self.negotiated_version.map(parser::version_label)
    }

    /// The highest version the client offered: from supported_versions if present, else its
    /// legacy version.
    pub fn client_max_version(&self) -> Option<u16> {
        self.client_versions
            .iter()
            .copied()
            .max()
            .or(self.client_legacy_version)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading a record header (the first one also decides whether this is TLS at all).
    RecordHeader,
    /// Inside a record body.
    RecordBody { content_type: u8, remaining: usize },
    /// Hello read, or gave up: nothing more to learn in this direction.
    Done,
}

#[derive(Debug, Clone)]
struct TlsHalf {
    phase: Phase,
    header: [u8; RECORD_HEADER_LEN],
    header_len: usize,
    /// Handshake bytes collected across records until a hello is complete.
    handshake: Vec<u8>,
    /// Whether this direction's first bytes looked like TLS.
    is_tls: bool,
    /// Whether the first record header has been checked.
    started: bool,
    /// Frame and time of this direction's first byte.
    first_byte: Option<(u64, Timestamp)>,
}

impl TlsHalf {
    fn new() -> Self {
        TlsHalf {
            phase: Phase::RecordHeader,
            header: [0; RECORD_HEADER_LEN],
            header_len: 0,
            handshake: Vec::new(),
            is_tls: false,
            started: false,
            first_byte: None,
        }
    }

    fn finish(&mut self) {
        self.phase = Phase::Done;
        self.handshake = Vec::new();
    }
}

/// Per-flow TLS hello tracker.
#[derive(Debug, Clone)]
pub struct TlsConnection {
    limits: TlsLimits,
    to_server: TlsHalf,
    to_client: TlsHalf,
    info: TlsInfo,
}

impl TlsConnection {
    pub fn new(limits: TlsLimits) -> Self {
        TlsConnection {
            limits,
            to_server: TlsHalf::new(),
            to_client: TlsHalf::new(),
            info: TlsInfo::default(),
        }
    }

    /// What was learnt so far.
    pub fn info(&self) -> &TlsInfo {
        &self.info
    }

    /// Consume the tracker, keeping what was learnt.
    pub fn into_info(self) -> TlsInfo {
        self.info
    }

    /// Whether either direction started like TLS.
    pub fn is_tls(&self) -> bool {
        self.to_server.is_tls || self.to_client.is_tls
    }

    /// Whether both directions are finished (hello read, or not TLS, or gave up): feeding more
    /// bytes changes nothing.
    pub fn is_done(&self) -> bool {
        self.to_server.phase == Phase::Done && self.to_client.phase == Phase::Done
    }

    /// Bytes currently buffered (for memory accounting).
    pub fn buffered_bytes(&self) -> usize {
        self.to_server
            .handshake
            .capacity()
            .saturating_add(self.to_client.handshake.capacity())
    }

    fn half_mut(&mut self, dir: Direction) -> &mut TlsHalf {
        match dir {
            Direction::ToServer => &mut self.to_server,
            Direction::ToClient => &mut self.to_client,
        }
    }

    /// Bytes lost in one direction: the hello of that direction, if not read yet, is given up.
    pub fn on_gap(&mut self, dir: Direction, len: u64, frame: u64, diags: &mut Vec<Diagnostic>) {
        let half = self.half_mut(dir);
        if half.phase == Phase::Done {
            return;
        }
        if half.started && half.is_tls {
            diags.push(
                Diagnostic::new(
                    Layer::Tls,
                    format!(
                        "gap of {len} bytes before the {} hello was read: hello not decoded",
                        side_name(dir)
                    ),
                )
                .at_frame(frame),
            );
        }
        half.finish();
    }

    /// Bytes of one direction, in stream order.
    pub fn on_data(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        frame: u64,
        ts: Timestamp,
        diags: &mut Vec<Diagnostic>,
    ) {
        let mut rest = bytes;
        // Each pass consumes at least one byte or ends the direction, so this terminates.
        let max_hello = self.limits.max_hello_bytes;
        while !rest.is_empty() {
            let half = self.half_mut(dir);
            if half.first_byte.is_none() {
                half.first_byte = Some((frame, ts));
            }
            match half.phase {
                Phase::Done => return,
                Phase::RecordHeader => {
                    let need = RECORD_HEADER_LEN.saturating_sub(half.header_len);
                    let n = need.min(rest.len());
                    let (head, tail) = rest.split_at(n);
                    if let Some(dst) = half.header.get_mut(half.header_len..half.header_len + n) {
                        dst.copy_from_slice(head);
                    }
                    half.header_len = half.header_len.saturating_add(n);
                    rest = tail;
                    let first_record = !half.started;
                    if first_record && half.header_len >= 3 {
                        if !parser::looks_like_tls(&half.header) {
                            half.finish();
                            return;
                        }
                        half.started = true;
                        half.is_tls = true;
                        let (first_frame, first_ts) = half.first_byte.unwrap_or((frame, ts));
                        // The earlier of the two directions' first bytes.
                        if self.info.first_frame.is_none_or(|f| first_frame < f) {
                            self.info.first_frame = Some(first_frame);
                            self.info.first_ts = Some(first_ts);
                        }
                    }
                    let half = self.half_mut(dir);
                    if half.header_len < RECORD_HEADER_LEN {
                        continue;
                    }
                    half.header_len = 0;
                    match parser::parse_record_header(&half.header) {
                        Ok(h) => {
                            half.phase = Phase::RecordBody {
                                content_type: h.content_type,
                                remaining: usize::from(h.length),
                            };
                        }
                        Err(e) => {
                            diags.push(
                                Diagnostic::new(
                                    Layer::Tls,
                                    format!("{e} (before the {} hello)", side_name(dir)),
                                )
                                .at_frame(frame),
                            );
                            half.finish();
                            return;
                        }
                    }
                }
                Phase::RecordBody {
                    content_type,
                    remaining,
                } => {
                    let n = remaining.min(rest.len());
                    let (body, tail) = rest.split_at(n);
                    rest = tail;
                    let remaining = remaining.saturating_sub(n);
                    half.phase = if remaining == 0 {
                        Phase::RecordHeader
                    } else {
                        Phase::RecordBody {
                            content_type,
                            remaining,
                        }
                    };
                    if content_type != CONTENT_TYPE_HANDSHAKE {
                        // Anything but handshake before the hello (alert, application data):
                        // the hello will not come in clear any more.
                        half.finish();
                        return;
                    }
                    let cap = max_hello.saturating_add(HANDSHAKE_HEADER_LEN);
                    if half.handshake.len().saturating_add(body.len()) > cap {
                        diags.push(
                            Diagnostic::new(
                                Layer::Limit,
                                format!(
                                    "tls: {} handshake data exceeds {} bytes before its hello \
                                     completed: hello not decoded",
                                    side_name(dir),
                                    max_hello
                                ),
                            )
                            .at_frame(frame),
                        );
                        half.finish();
                        return;
                    }
                    half.handshake.extend_from_slice(body);
                    self.drain_handshake(dir, frame, diags);
                }
            }
        }
    }

    /// Handle every complete handshake message buffered in `dir`.
    fn drain_handshake(&mut self, dir: Direction, frame: u64, diags: &mut Vec<Diagnostic>) {
        loop {
            let max_hello = self.limits.max_hello_bytes;
            let half = self.half_mut(dir);
            if half.phase == Phase::Done {
                return;
            }
            let Ok(header) = parser::parse_handshake_header(&half.handshake) else {
                return; // fewer than 4 bytes so far
            };
            let body_len = usize::try_from(header.length).unwrap_or(usize::MAX);
            if body_len > max_hello {
                diags.push(
                    Diagnostic::new(
                        Layer::Limit,
                        format!(
                            "tls: handshake message of type {} is {body_len} bytes, over the \
                             {max_hello}-byte cap: not decoded",
                            header.msg_type
                        ),
                    )
                    .at_frame(frame),
                );
                half.finish();
                return;
            }
            let total = HANDSHAKE_HEADER_LEN.saturating_add(body_len);
            if half.handshake.len() < total {
                return;
            }
            let message: Vec<u8> = half.handshake.drain(..total).collect();
            let body = message.get(HANDSHAKE_HEADER_LEN..).unwrap_or(&[]);
            match header.msg_type {
                HANDSHAKE_CLIENT_HELLO => {
                    self.on_client_hello(body, frame, dir, diags);
                    self.half_mut(dir).finish();
                    return;
                }
                HANDSHAKE_SERVER_HELLO => {
                    let retry = self.on_server_hello(body, frame, dir, diags);
                    if !retry {
                        self.half_mut(dir).finish();
                        return;
                    }
                }
                // Other handshake messages before a hello (HelloRequest, ...) are skipped.
                _ => {}
            }
        }
    }

    fn on_client_hello(
        &mut self,
        body: &[u8],
        frame: u64,
        dir: Direction,
        diags: &mut Vec<Diagnostic>,
    ) {
        match parser::parse_client_hello(body) {
            Ok(hello) => {
                let info = &mut self.info;
                info.client_hello_frame = Some(frame);
                info.client_legacy_version = Some(hello.legacy_version);
                info.sni = hello
                    .server_name
                    .map(|n| String::from_utf8_lossy(n).into_owned());
                info.alpn = hello
                    .alpn
                    .iter()
                    .map(|p| String::from_utf8_lossy(p).into_owned())
                    .collect();
                info.client_versions = hello
                    .supported_versions
                    .iter()
                    .copied()
                    .filter(|v| !parser::is_grease(*v))
                    .collect();
            }
            Err(e) => diags.push(
                Diagnostic::new(Layer::Tls, format!("{e} ({} direction)", side_name(dir)))
                    .at_frame(frame),
            ),
        }
    }

    /// Returns true for a HelloRetryRequest (the real ServerHello is still to come).
    fn on_server_hello(
        &mut self,
        body: &[u8],
        frame: u64,
        dir: Direction,
        diags: &mut Vec<Diagnostic>,
    ) -> bool {
        match parser::parse_server_hello(body) {
            Ok(hello) => {
                let info = &mut self.info;
                info.server_legacy_version = Some(hello.legacy_version);
                info.negotiated_version = Some(hello.negotiated_version());
                info.cipher_suite = Some(hello.cipher_suite);
                if let Some(p) = hello.alpn {
                    info.alpn_selected = Some(String::from_utf8_lossy(p).into_owned());
                }
                if hello.is_hello_retry_request() {
                    info.hello_retry_request = true;
                    return true;
                }
                info.server_hello_frame = Some(frame);
                false
            }
            Err(e) => {
                diags.push(
                    Diagnostic::new(Layer::Tls, format!("{e} ({} direction)", side_name(dir)))
                        .at_frame(frame),
                );
                false
            }
        }
    }
}

fn side_name(dir: Direction) -> &'static str {
    match dir {
        Direction::ToServer => "client",
        Direction::ToClient => "server",
    }
}
