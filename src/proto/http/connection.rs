//! The per-flow HTTP/1.x state machine: one [`HttpConnection`] per TCP connection.
//!
//! Each direction is a [`HalfStream`]: a small buffer of not-yet-parsed bytes (with the frame each
//! byte came from) and a state: sniffing for the first message, reading a head, reading a body
//! (Content-Length, chunked, until close), resynchronising after a gap, holding bytes while a
//! CONNECT is pending, or feeding a tunnel. Requests wait in a queue of [`Slot`]s; a response
//! answers the oldest request without one (RFC 9112 §9.3.2, pipelining). Exchanges leave the
//! queue in request order once both sides are finished.

use super::decode::{self, CapHit, DecodeLimits};
use super::parser::{
    self, BodyFraming, ContentCoding, RawHeader, ScanOptions, StartLineKind, StartScan,
};
use super::{HttpExchange, HttpLimits, HttpRequest, HttpResponse, HttpVersion, StreamKind};
use crate::diag::{Diagnostic, Layer};
use crate::flow::Direction;
use crate::proto::tls::{TlsConnection, TlsInfo, TlsLimits, looks_like_tls};
use crate::time::Timestamp;
use std::collections::{HashSet, VecDeque};

/// Header fields in wire order, and the raw bytes of the values that were not UTF-8 (by index).
type OwnedHeaders = (Vec<(String, String)>, Vec<(usize, Vec<u8>)>);

/// Which end of the conversation a direction carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// Sends requests.
    Client,
    /// Sends responses.
    Server,
}

/// Bytes of the buffer that came from one frame.
#[derive(Debug, Clone, Copy)]
struct Span {
    frame: u64,
    ts: Timestamp,
    len: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkPhase {
    SizeLine,
    Data { remaining: u64 },
    DataEnd,
    Trailers,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BodyState {
    Length { remaining: u64 },
    Chunked(ChunkPhase),
    UntilClose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HalfState {
    /// Looking for the first message (or a TLS record) in this direction.
    Sniff {
        scanned: u64,
    },
    /// Expecting a message head.
    Head,
    Body(BodyState),
    /// After a gap or a damaged message: looking for the next start line.
    Resync {
        scanned: u64,
        line_start: bool,
    },
    /// Client bytes after a CONNECT request, held until the response says tunnel or not.
    HoldForConnect,
    /// Bytes go to the TLS tracker.
    Tunnel,
    /// Nothing more to parse in this direction.
    Ignored,
}

#[derive(Debug)]
enum StartInfo {
    Request {
        method: String,
        uri: String,
        url: String,
    },
    Response {
        status: u16,
        reason: String,
    },
}

/// A message being read.
#[derive(Debug)]
struct MessageBuilder {
    start: StartInfo,
    version: HttpVersion,
    headers: Vec<(String, String)>,
    raw_header_values: Vec<(usize, Vec<u8>)>,
    trailers: Vec<(String, String)>,
    slot_id: u64,
    frames: Vec<u64>,
    frames_capped: bool,
    first_frame: Option<u64>,
    last_frame: u64,
    start_ts: Timestamp,
    end_ts: Timestamp,
    body: Vec<u8>,
    body_len_on_wire: u64,
    encoded_len: u64,
    /// Body bytes are still being kept (false after a gap or a cap).
    keep_body: bool,
    truncated: bool,
    /// Bytes of this message were lost.
    gap: bool,
}

impl MessageBuilder {
    fn new(start: StartInfo, version: HttpVersion, headers: OwnedHeaders, slot_id: u64) -> Self {
        MessageBuilder {
            start,
            version,
            headers: headers.0,
            raw_header_values: headers.1,
            trailers: Vec::new(),
            slot_id,
            frames: Vec::new(),
            frames_capped: false,
            first_frame: None,
            last_frame: 0,
            start_ts: Timestamp::default(),
            end_ts: Timestamp::default(),
            body: Vec::new(),
            body_len_on_wire: 0,
            encoded_len: 0,
            keep_body: true,
            truncated: false,
            gap: false,
        }
    }

    /// Record that bytes of `frame` belong to this message. Returns true when the frame list
    /// just reached its cap.
    fn note_frame(&mut self, frame: u64, ts: Timestamp, max_frames: usize) -> bool {
        if self.first_frame.is_none() {
            self.first_frame = Some(frame);
            self.start_ts = ts;
        }
        self.last_frame = frame;
        self.end_ts = ts;
        if self.frames.last() == Some(&frame) {
            return false;
        }
        if self.frames.len() < max_frames {
            self.frames.push(frame);
            false
        } else if !self.frames_capped {
            self.frames_capped = true;
            true
        } else {
            false
        }
    }

    fn mark_gap(&mut self) {
        self.gap = true;
        if self.keep_body {
            self.keep_body = false;
            self.truncated = true;
        }
    }
}

/// One direction of the connection.
#[derive(Debug)]
struct HalfStream {
    /// Unparsed bytes are `buf[pos..]`.
    buf: Vec<u8>,
    pos: usize,
    /// Frames of `buf[pos..]`, in order; lengths add up to its length.
    spans: VecDeque<Span>,
    state: HalfState,
    msg: Option<MessageBuilder>,
    /// Where to resume searching for the end of a head.
    head_scan_from: usize,
    /// Any byte seen.
    seen: bool,
    /// No byte consumed yet and no gap: the buffer starts at the stream's first byte.
    at_stream_start: bool,
    /// Sniffing ended without finding HTTP.
    gave_up: bool,
    /// Bytes lost while holding for a CONNECT answer, reported to TLS when the tunnel opens.
    held_gap: Option<u64>,
}

impl HalfStream {
    fn new() -> Self {
        HalfStream {
            buf: Vec::new(),
            pos: 0,
            spans: VecDeque::new(),
            state: HalfState::Sniff { scanned: 0 },
            msg: None,
            head_scan_from: 0,
            seen: false,
            at_stream_start: true,
            gave_up: false,
            held_gap: None,
        }
    }

    fn avail(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
    }

    /// Mark `n` bytes as used. Their frames are added to the current message, if any. Returns
    /// the frame (and time) of the last byte consumed, and whether the frame list hit its cap.
    fn consume(&mut self, n: usize, max_frames: usize) -> (Option<(u64, Timestamp)>, bool) {
        let n = n.min(self.avail().len());
        self.pos = self.pos.saturating_add(n);
        self.at_stream_start = self.at_stream_start && n == 0;
        self.head_scan_from = 0;
        let mut left = n;
        let mut last = None;
        let mut capped = false;
        while left > 0 {
            let Some(span) = self.spans.front_mut() else {
                break;
            };
            let take = left.min(span.len);
            if take > 0 {
                last = Some((span.frame, span.ts));
                if let Some(msg) = self.msg.as_mut() {
                    capped |= msg.note_frame(span.frame, span.ts, max_frames);
                }
            }
            span.len = span.len.saturating_sub(take);
            left = left.saturating_sub(take);
            if span.len == 0 {
                self.spans.pop_front();
            }
        }
        (last, capped)
    }

    /// Drop every unparsed byte.
    fn discard(&mut self) {
        self.pos = self.buf.len();
        self.spans.clear();
        self.head_scan_from = 0;
        self.at_stream_start = false;
        self.compact();
    }

    /// Release consumed bytes from the front of the buffer.
    fn compact(&mut self) {
        if self.pos == 0 {
            return;
        }
        if self.pos >= self.buf.len() {
            self.buf.clear();
            if self.buf.capacity() > 256 * 1024 {
                self.buf = Vec::new();
            }
        } else {
            self.buf.drain(..self.pos);
        }
        self.pos = 0;
    }
}

/// A request waiting for its response, or an exchange being completed.
#[derive(Debug)]
struct Slot {
    id: u64,
    /// The request method; `None` for a response whose request was not seen.
    method: Option<String>,
    request: Option<HttpRequest>,
    request_done: bool,
    response: Option<HttpResponse>,
    response_started: bool,
    response_done: bool,
    interim: Vec<(u16, u64)>,
}

/// HTTP/1.x over one TCP connection: classifies the stream, parses both directions, pairs
/// requests with responses, and hands back finished exchanges in request order.
#[derive(Debug)]
pub struct HttpConnection {
    limits: HttpLimits,
    to_server: HalfStream,
    to_client: HalfStream,
    /// `Some(true)` when requests travel `ToClient` (the flow layer guessed the client wrong).
    swapped: Option<bool>,
    slots: VecDeque<Slot>,
    next_slot_id: u64,
    done: Vec<HttpExchange>,
    /// Body bytes held (messages being read, waiting in slots, or finished but not taken).
    retained: usize,
    /// Body bytes this connection may still take on beyond what it holds, as the caller's
    /// total for all its connections allows (see [`set_shared_room`](Self::set_shared_room)).
    shared_room: usize,
    tls: Option<TlsConnection>,
    /// The whole connection is TLS from its first byte.
    tls_mode: bool,
    /// CONNECT 2xx or 101 switched the connection away from HTTP.
    tunnel: bool,
    /// A direction that must be processed again (a refused CONNECT releases held bytes).
    wake: Option<Direction>,
}

impl HttpConnection {
    pub fn new(limits: HttpLimits) -> Self {
        HttpConnection {
            limits,
            to_server: HalfStream::new(),
            to_client: HalfStream::new(),
            swapped: None,
            slots: VecDeque::new(),
            next_slot_id: 0,
            done: Vec::new(),
            retained: 0,
            shared_room: usize::MAX,
            tls: None,
            tls_mode: false,
            tunnel: false,
            wake: None,
        }
    }

    /// What the connection carries, as far as seen.
    pub fn kind(&self) -> StreamKind {
        if self.tunnel {
            return StreamKind::Tunnel;
        }
        if self.tls_mode {
            return StreamKind::Tls;
        }
        if self.swapped.is_some() {
            return StreamKind::Http;
        }
        let a = &self.to_server;
        let b = &self.to_client;
        if !a.seen && !b.seen {
            StreamKind::Unknown
        } else if (a.gave_up || !a.seen) && (b.gave_up || !b.seen) {
            StreamKind::Other
        } else {
            StreamKind::Unknown
        }
    }

    /// Whether feeding more bytes can still teach anything: false for non-HTTP, non-TLS flows
    /// and for TLS (or tunnels) once the hellos are read.
    pub fn wants_data(&self) -> bool {
        match self.kind() {
            StreamKind::Other => false,
            StreamKind::Tls | StreamKind::Tunnel => self.tls.as_ref().is_some_and(|t| !t.is_done()),
            StreamKind::Http | StreamKind::Unknown => true,
        }
    }

    /// Whether requests were found travelling `ToClient` (so the flow's client and server are
    /// the other way round).
    pub fn roles_swapped(&self) -> bool {
        self.swapped == Some(true)
    }

    /// The TLS hellos seen: for a TLS connection, or inside a CONNECT tunnel.
    pub fn tls(&self) -> Option<&TlsInfo> {
        self.tls
            .as_ref()
            .filter(|t| t.is_tls())
            .map(TlsConnection::info)
    }

    /// Body bytes held now: of messages being read, of requests waiting for their response,
    /// and of exchanges finished but not yet taken.
    pub fn body_bytes_held(&self) -> usize {
        self.retained
    }

    /// How many more body bytes the connection may keep, whatever its own caps allow: the
    /// room left in a total its caller keeps for many connections. Past it a body is cut as at
    /// the per-message cap (and a diagnostic says so). Unlimited until set.
    pub fn set_shared_room(&mut self, room: usize) {
        self.shared_room = room;
    }

    /// Bytes currently held: unparsed buffers, bodies not yet taken, TLS hello buffers.
    pub fn buffered_bytes(&self) -> usize {
        self.to_server
            .avail()
            .len()
            .saturating_add(self.to_client.avail().len())
            .saturating_add(self.retained)
            .saturating_add(self.tls.as_ref().map_or(0, TlsConnection::buffered_bytes))
    }

    /// Exchanges finished so far, in request order.
    pub fn take_exchanges(&mut self) -> Vec<HttpExchange> {
        let taken = std::mem::take(&mut self.done);
        let bytes: usize = taken.iter().map(exchange_body_bytes).sum();
        self.retained = self.retained.saturating_sub(bytes);
        taken
    }

    /// End of input: messages still open are closed as incomplete, and every exchange left is
    /// returned (requests never answered come with `response: None`).
    pub fn finish(&mut self, diags: &mut Vec<Diagnostic>) -> Vec<HttpExchange> {
        for dir in [Direction::ToServer, Direction::ToClient] {
            let half = self.half(dir);
            let state = half.state;
            let pending_head = half.avail().iter().any(|b| !b.is_ascii_whitespace());
            match state {
                HalfState::Body(_) => {
                    diags.push(Diagnostic::new(
                        Layer::Http,
                        format!(
                            "capture ended inside a {} body: message incomplete",
                            self.msg_kind(dir)
                        ),
                    ));
                    self.finish_message(dir, false, diags);
                }
                HalfState::Head if pending_head => diags.push(Diagnostic::new(
                    Layer::Http,
                    format!(
                        "capture ended inside a {} head: message not decoded",
                        self.msg_kind(dir)
                    ),
                )),
                _ => {}
            }
            let half = self.half_mut(dir);
            half.state = HalfState::Ignored;
            half.discard();
        }
        while let Some(slot) = self.slots.pop_front() {
            self.done.push(slot_into_exchange(slot));
        }
        self.take_exchanges()
    }

    /// Bytes of one direction, in stream order, all from `frame`.
    pub fn on_data(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        frame: u64,
        ts: Timestamp,
        diags: &mut Vec<Diagnostic>,
    ) {
        if bytes.is_empty() {
            return;
        }
        if self.tls_mode {
            if let Some(tls) = self.tls.as_mut() {
                tls.on_data(dir, bytes, frame, ts, diags);
            }
            return;
        }
        let half = self.half_mut(dir);
        half.seen = true;
        match half.state {
            HalfState::Ignored => return,
            HalfState::Tunnel if half.avail().is_empty() => {
                if let Some(tls) = self.tls.as_mut() {
                    tls.on_data(dir, bytes, frame, ts, diags);
                }
                return;
            }
            _ => {}
        }
        let bytes = self.skip_unkept_body(dir, bytes, frame, ts, diags);
        if bytes.is_empty() {
            return;
        }
        let half = self.half_mut(dir);
        half.buf.extend_from_slice(bytes);
        half.spans.push_back(Span {
            frame,
            ts,
            len: bytes.len(),
        });
        self.process(dir, diags);
        if let Some(other) = self.wake.take() {
            self.process(other, diags);
        }
    }

    /// The fast path for traffic that is not MMS: body bytes of a message whose body is not kept
    /// (its head showed a content type that cannot be MMS) are counted and their frame noted,
    /// but not copied. Only bytes strictly inside a stretch of known length are skipped (the
    /// last byte goes the ordinary way, which ends the message), and only when nothing is
    /// buffered before them. Returns the bytes left for the ordinary path.
    fn skip_unkept_body<'b>(
        &mut self,
        dir: Direction,
        bytes: &'b [u8],
        frame: u64,
        ts: Timestamp,
        diags: &mut Vec<Diagnostic>,
    ) -> &'b [u8] {
        let max_frames = self.limits.max_frames_per_message;
        let half = self.half_mut(dir);
        if !half.avail().is_empty() || half.msg.as_ref().is_none_or(|m| m.keep_body) {
            return bytes;
        }
        let HalfState::Body(body) = half.state else {
            return bytes;
        };
        let len = bytes.len() as u64;
        let (skip, next) = match body {
            BodyState::Length { remaining } if remaining > 1 => {
                let skip = len.min(remaining - 1);
                (
                    skip,
                    BodyState::Length {
                        remaining: remaining - skip,
                    },
                )
            }
            BodyState::Chunked(ChunkPhase::Data { remaining }) if remaining > 1 => {
                let skip = len.min(remaining - 1);
                (
                    skip,
                    BodyState::Chunked(ChunkPhase::Data {
                        remaining: remaining - skip,
                    }),
                )
            }
            BodyState::UntilClose => (len, BodyState::UntilClose),
            _ => return bytes,
        };
        let Ok(skip_len) = usize::try_from(skip) else {
            return bytes;
        };
        let Some((_, rest)) = bytes.split_at_checked(skip_len) else {
            return bytes;
        };
        if skip_len == 0 {
            return bytes;
        }
        half.state = HalfState::Body(next);
        half.at_stream_start = false;
        half.head_scan_from = 0;
        let mut capped = false;
        if let Some(msg) = half.msg.as_mut() {
            msg.body_len_on_wire = msg.body_len_on_wire.saturating_add(skip);
            msg.encoded_len = msg.encoded_len.saturating_add(skip);
            capped = msg.note_frame(frame, ts, max_frames);
        }
        if capped {
            diags.push(
                Diagnostic::new(
                    Layer::Limit,
                    format!(
                        "http: message spans more than {max_frames} frames: later frames not listed"
                    ),
                )
                .at_frame(frame),
            );
        }
        rest
    }

    /// `len` bytes of one direction were not captured.
    pub fn on_gap(
        &mut self,
        dir: Direction,
        len: u64,
        frame: u64,
        _ts: Timestamp,
        diags: &mut Vec<Diagnostic>,
    ) {
        if self.tls_mode {
            if let Some(tls) = self.tls.as_mut() {
                tls.on_gap(dir, len, frame, diags);
            }
            return;
        }
        let kind = self.msg_kind(dir);
        let half = self.half_mut(dir);
        half.seen = true;
        match half.state {
            HalfState::Ignored => {}
            HalfState::Tunnel => {
                if let Some(tls) = self.tls.as_mut() {
                    tls.on_gap(dir, len, frame, diags);
                }
            }
            HalfState::HoldForConnect => {
                half.discard();
                half.held_gap = Some(half.held_gap.unwrap_or(0).saturating_add(len));
            }
            HalfState::Sniff { .. } => half.discard(),
            HalfState::Resync { scanned, .. } => {
                half.discard();
                half.state = HalfState::Resync {
                    scanned,
                    line_start: true,
                };
            }
            HalfState::Head => {
                if half.avail().iter().any(|b| !b.is_ascii_whitespace()) {
                    diags.push(
                        Diagnostic::new(
                            Layer::Http,
                            format!("gap of {len} bytes inside a {kind} head: message not decoded"),
                        )
                        .at_frame(frame),
                    );
                }
                half.discard();
                half.state = HalfState::Resync {
                    scanned: 0,
                    line_start: true,
                };
            }
            HalfState::Body(body) => self.gap_in_body(dir, body, len, frame, diags),
        }
    }

    /// The connection closed in one direction (`Some`) or both (`None`: reset or eviction).
    pub fn on_close(
        &mut self,
        dir: Option<Direction>,
        frame: u64,
        _ts: Timestamp,
        diags: &mut Vec<Diagnostic>,
    ) {
        if self.tls_mode {
            return;
        }
        let dirs: &[Direction] = match dir {
            Some(Direction::ToServer) => &[Direction::ToServer],
            Some(Direction::ToClient) => &[Direction::ToClient],
            None => &[Direction::ToServer, Direction::ToClient],
        };
        for &dir in dirs {
            let kind = self.msg_kind(dir);
            let half = self.half(dir);
            let pending_head = half.avail().iter().any(|b| !b.is_ascii_whitespace());
            match half.state {
                HalfState::Body(BodyState::UntilClose) => {
                    let complete = half.msg.as_ref().is_some_and(|m| !m.gap);
                    self.finish_message(dir, complete, diags);
                }
                HalfState::Body(_) => {
                    diags.push(
                        Diagnostic::new(
                            Layer::Http,
                            format!("connection closed inside a {kind} body: message incomplete"),
                        )
                        .at_frame(frame),
                    );
                    self.finish_message(dir, false, diags);
                }
                HalfState::Head if pending_head => diags.push(
                    Diagnostic::new(
                        Layer::Http,
                        format!("connection closed inside a {kind} head: message not decoded"),
                    )
                    .at_frame(frame),
                ),
                _ => {}
            }
            let half = self.half_mut(dir);
            if half.state != HalfState::Tunnel {
                half.state = HalfState::Ignored;
                half.discard();
            }
        }
    }

    // ----------------------------------------------------------------------------------------
    // Plumbing

    fn half(&self, dir: Direction) -> &HalfStream {
        match dir {
            Direction::ToServer => &self.to_server,
            Direction::ToClient => &self.to_client,
        }
    }

    fn half_mut(&mut self, dir: Direction) -> &mut HalfStream {
        match dir {
            Direction::ToServer => &mut self.to_server,
            Direction::ToClient => &mut self.to_client,
        }
    }

    fn role(&self, dir: Direction) -> Option<Role> {
        self.swapped.map(|swapped| {
            if (dir == Direction::ToServer) != swapped {
                Role::Client
            } else {
                Role::Server
            }
        })
    }

    fn dir_of(&self, role: Role) -> Direction {
        let client_dir = if self.swapped == Some(true) {
            Direction::ToClient
        } else {
            Direction::ToServer
        };
        match role {
            Role::Client => client_dir,
            Role::Server => client_dir.reverse(),
        }
    }

    /// "request" or "response", for messages.
    fn msg_kind(&self, dir: Direction) -> &'static str {
        match self.role(dir) {
            Some(Role::Server) => "response",
            Some(Role::Client) => "request",
            None => "message",
        }
    }

    fn consume(
        &mut self,
        dir: Direction,
        n: usize,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<(u64, Timestamp)> {
        let max_frames = self.limits.max_frames_per_message;
        let (last, capped) = self.half_mut(dir).consume(n, max_frames);
        if capped {
            let mut d = Diagnostic::new(
                Layer::Limit,
                format!(
                    "http: message spans more than {max_frames} frames: later frames not listed"
                ),
            );
            if let Some((frame, _)) = last {
                d = d.at_frame(frame);
            }
            diags.push(d);
        }
        last
    }

    /// Frame of the next unparsed byte, for diagnostics.
    fn current_frame(&self, dir: Direction) -> Option<u64> {
        self.half(dir).spans.front().map(|s| s.frame)
    }

    fn diag_here(&self, dir: Direction, layer: Layer, message: String) -> Diagnostic {
        let d = Diagnostic::new(layer, message);
        match self.current_frame(dir) {
            Some(f) => d.at_frame(f),
            None => d,
        }
    }

    fn process(&mut self, dir: Direction, diags: &mut Vec<Diagnostic>) {
        // Every step that reports progress consumes bytes or moves to a state that will; the
        // budget is a second guarantee that this loop ends.
        let mut budget = self
            .half(dir)
            .avail()
            .len()
            .saturating_mul(2)
            .saturating_add(64);
        while budget > 0 && self.step(dir, diags) {
            budget = budget.saturating_sub(1);
        }
        self.half_mut(dir).compact();
    }

    /// One parsing step; false when nothing more can be done until more bytes arrive.
    fn step(&mut self, dir: Direction, diags: &mut Vec<Diagnostic>) -> bool {
        let state = self.half(dir).state;
        match state {
            HalfState::Ignored => {
                self.half_mut(dir).discard();
                false
            }
            HalfState::Tunnel => {
                self.flush_tunnel(dir, diags);
                false
            }
            HalfState::HoldForConnect => {
                let held = self.half(dir).avail().len();
                if held > self.limits.max_head_bytes {
                    diags.push(self.diag_here(
                        dir,
                        Layer::Limit,
                        format!(
                            "http: more than {} bytes sent before the CONNECT answer: dropped",
                            self.limits.max_head_bytes
                        ),
                    ));
                    let half = self.half_mut(dir);
                    half.discard();
                    half.held_gap = Some(half.held_gap.unwrap_or(0).saturating_add(held as u64));
                }
                false
            }
            HalfState::Sniff { scanned } => self.step_sniff(dir, scanned, diags),
            HalfState::Resync {
                scanned,
                line_start,
            } => self.step_resync(dir, scanned, line_start, diags),
            HalfState::Head => self.step_head(dir, diags),
            HalfState::Body(body) => self.step_body(dir, body, diags),
        }
    }

    // ----------------------------------------------------------------------------------------
    // Finding messages

    fn step_sniff(&mut self, dir: Direction, scanned: u64, diags: &mut Vec<Diagnostic>) -> bool {
        let half = self.half(dir);
        let avail = half.avail();
        if avail.is_empty() {
            return false;
        }
        if self.swapped.is_none() && half.at_stream_start {
            // A TLS record header needs three bytes to be recognised.
            if matches!(avail, [0x16] | [0x16, 0x03]) {
                return false;
            }
            if looks_like_tls(avail) {
                self.start_tls(diags);
                return false;
            }
        }
        let want = self.role(dir).map(|r| match r {
            Role::Client => StartLineKind::Request,
            Role::Server => StartLineKind::Status,
        });
        let scan = parser::scan_for_start(
            avail,
            ScanOptions {
                want,
                anywhere: true,
                line_start_at_0: true,
            },
        );
        let len = avail.len();
        match scan {
            StartScan::Found { offset, kind } => {
                if self.swapped.is_none() {
                    let requests_here = kind == StartLineKind::Request;
                    self.swapped = Some((dir == Direction::ToServer) != requests_here);
                }
                let skipped = scanned.saturating_add(offset as u64);
                if skipped > 0 {
                    diags.push(self.diag_here(
                        dir,
                        Layer::Http,
                        format!(
                            "skipped {skipped} bytes that are not HTTP before the first {}",
                            self.msg_kind(dir)
                        ),
                    ));
                }
                self.consume(dir, offset, diags);
                self.half_mut(dir).state = HalfState::Head;
                true
            }
            StartScan::NeedMore { offset } => {
                let scanned = scanned.saturating_add(offset as u64);
                self.consume(dir, offset, diags);
                self.sniff_or_give_up(dir, scanned, len.saturating_sub(offset), diags);
                false
            }
            StartScan::NotFound => {
                let scanned = scanned.saturating_add(len as u64);
                self.consume(dir, len, diags);
                self.sniff_or_give_up(dir, scanned, 0, diags);
                false
            }
        }
    }

    fn sniff_or_give_up(
        &mut self,
        dir: Direction,
        scanned: u64,
        pending: usize,
        diags: &mut Vec<Diagnostic>,
    ) {
        let limit = self.limits.max_sniff_bytes as u64;
        let over = scanned > limit
            || scanned.saturating_add(pending as u64)
                > limit.saturating_add(parser::MAX_START_LINE as u64);
        let http = self.swapped.is_some();
        let kind = self.msg_kind(dir);
        let half = self.half_mut(dir);
        if over {
            half.discard();
            half.state = HalfState::Ignored;
            half.gave_up = true;
            if http {
                diags.push(Diagnostic::new(
                    Layer::Http,
                    format!(
                        "no HTTP {kind} found in the first {scanned} bytes of the {} direction: \
                         not parsed",
                        dir.as_str()
                    ),
                ));
            }
        } else {
            half.state = HalfState::Sniff { scanned };
        }
    }

    fn step_resync(
        &mut self,
        dir: Direction,
        scanned: u64,
        line_start: bool,
        diags: &mut Vec<Diagnostic>,
    ) -> bool {
        let avail = self.half(dir).avail();
        if avail.is_empty() {
            return false;
        }
        let want = self.role(dir).map(|r| match r {
            Role::Client => StartLineKind::Request,
            Role::Server => StartLineKind::Status,
        });
        let len = avail.len();
        let ends_with_lf = avail.last() == Some(&b'\n');
        let scan = parser::scan_for_start(
            avail,
            ScanOptions {
                want,
                anywhere: false,
                line_start_at_0: line_start,
            },
        );
        let (skip, next_line_start, found) = match scan {
            StartScan::Found { offset, .. } => (offset, true, true),
            StartScan::NeedMore { offset } => (offset, offset > 0 || line_start, false),
            StartScan::NotFound => (len, ends_with_lf, false),
        };
        let scanned = scanned.saturating_add(skip as u64);
        self.consume(dir, skip, diags);
        if found {
            if scanned > 0 {
                diags.push(self.diag_here(
                    dir,
                    Layer::Http,
                    format!(
                        "resumed at the next {} after skipping {scanned} bytes",
                        self.msg_kind(dir)
                    ),
                ));
            }
            self.half_mut(dir).state = HalfState::Head;
            return true;
        }
        if scanned > self.limits.max_resync_bytes {
            diags.push(self.diag_here(
                dir,
                Layer::Http,
                format!(
                    "no HTTP {} start within {scanned} bytes after a gap or damaged message: \
                     rest of the {} direction not parsed",
                    self.msg_kind(dir),
                    dir.as_str()
                ),
            ));
            let half = self.half_mut(dir);
            half.discard();
            half.state = HalfState::Ignored;
        } else {
            self.half_mut(dir).state = HalfState::Resync {
                scanned,
                line_start: next_line_start,
            };
        }
        false
    }

    fn resync(&mut self, dir: Direction, line_start: bool) {
        self.half_mut(dir).state = HalfState::Resync {
            scanned: 0,
            line_start,
        };
    }

    // ----------------------------------------------------------------------------------------
    // Heads

    fn step_head(&mut self, dir: Direction, diags: &mut Vec<Diagnostic>) -> bool {
        let Some(role) = self.role(dir) else {
            // Heads are only read once roles are known.
            self.half_mut(dir).state = HalfState::Sniff { scanned: 0 };
            return true;
        };
        let half = self.half(dir);
        let avail = half.avail();
        if avail.is_empty() {
            return false;
        }
        // Empty lines between messages are ignored (RFC 9112 §2.2).
        let blank = avail
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if blank > 0 {
            self.consume(dir, blank, diags);
            return true;
        }
        let plausible = match role {
            Role::Client => parser::could_start_request(avail),
            Role::Server => parser::could_start_response(avail),
        };
        if !plausible {
            // Not a message start (bytes after a lost segment, or a body longer than its
            // framing said): look for the next start line instead of waiting for a head end.
            diags.push(self.diag_here(
                dir,
                Layer::Http,
                format!(
                    "bytes where a {} should start are not one: skipping to the next",
                    self.msg_kind(dir)
                ),
            ));
            self.resync(dir, false);
            return true;
        }
        let max_head = self.limits.max_head_bytes;
        let Some(end) = parser::find_head_end(avail, half.head_scan_from) else {
            if avail.len() > max_head {
                diags.push(self.diag_here(
                    dir,
                    Layer::Limit,
                    format!(
                        "http: {} head longer than {max_head} bytes: skipped",
                        self.msg_kind(dir)
                    ),
                ));
                let len = avail.len();
                let ends_with_lf = avail.last() == Some(&b'\n');
                self.consume(dir, len, diags);
                self.resync(dir, ends_with_lf);
                return true;
            }
            let from = avail.len().saturating_sub(2);
            self.half_mut(dir).head_scan_from = from;
            return false;
        };
        if end > max_head {
            diags.push(self.diag_here(
                dir,
                Layer::Limit,
                format!(
                    "http: {} head of {end} bytes exceeds {max_head}: skipped",
                    self.msg_kind(dir)
                ),
            ));
            self.consume(dir, end, diags);
            self.resync(dir, true);
            return true;
        }
        match role {
            Role::Client => self.read_request_head(dir, end, diags),
            Role::Server => self.read_response_head(dir, end, diags),
        }
        true
    }

    /// A head failed to parse: report, skip its first line (so the same start line is not found
    /// again), and look for the next message.
    fn head_error(
        &mut self,
        dir: Direction,
        end: usize,
        err: parser::HttpParseError,
        diags: &mut Vec<Diagnostic>,
    ) {
        let layer = match err {
            parser::HttpParseError::TooManyHeaders { .. } => Layer::Limit,
            _ => Layer::Http,
        };
        diags.push(self.diag_here(
            dir,
            layer,
            format!("{err} ({}): skipped", self.msg_kind(dir)),
        ));
        let skip = if layer == Layer::Limit {
            end
        } else {
            let avail = self.half(dir).avail();
            avail
                .iter()
                .position(|&b| b == b'\n')
                .map_or(end, |p| p.saturating_add(1))
        };
        self.consume(dir, skip, diags);
        self.resync(dir, true);
    }

    fn read_request_head(&mut self, dir: Direction, end: usize, diags: &mut Vec<Diagnostic>) {
        let max_headers = self.limits.max_headers;
        let avail = self.half(dir).avail();
        let parsed = parser::parse_request_head(avail.get(..end).unwrap_or(&[]), max_headers);
        let head = match parsed {
            Ok(h) => (
                h.method.to_string(),
                h.target.to_string(),
                h.minor_version,
                owned_headers(&h.headers),
            ),
            Err(e) => return self.head_error(dir, end, e, diags),
        };
        let (method, uri, minor, headers) = head;
        let url = parser::full_url(&uri, parser::header_value(&headers.0, "host"));
        let is_connect = method.eq_ignore_ascii_case("CONNECT");
        let slot_id = self.push_slot(method.clone(), diags);
        let framing = parser::body_framing(&headers.0, true);
        let mut builder = MessageBuilder::new(
            StartInfo::Request { method, uri, url },
            HttpVersion::from_minor(minor),
            headers,
            slot_id,
        );
        builder.keep_body = self.wants_body(&builder.headers);
        self.half_mut(dir).msg = Some(builder);
        self.consume(dir, end, diags);
        if is_connect {
            // A CONNECT request has no content (RFC 9110 §9.3.6); what follows waits for the
            // answer: a tunnel after 2xx, more requests otherwise.
            self.finish_message(dir, true, diags);
            self.half_mut(dir).state = HalfState::HoldForConnect;
            return;
        }
        self.report_framing(dir, &framing, diags);
        self.start_body(dir, framing.framing, diags);
    }

    fn read_response_head(&mut self, dir: Direction, end: usize, diags: &mut Vec<Diagnostic>) {
        let max_headers = self.limits.max_headers;
        let avail = self.half(dir).avail();
        let parsed = parser::parse_response_head(avail.get(..end).unwrap_or(&[]), max_headers);
        let (status, reason, minor, headers) = match parsed {
            Ok(h) => (
                h.status,
                String::from_utf8_lossy(h.reason).into_owned(),
                h.minor_version,
                owned_headers(&h.headers),
            ),
            Err(e) => return self.head_error(dir, end, e, diags),
        };
        let slot_idx = self
            .slots
            .iter()
            .position(|s| !s.response_started && s.method.is_some());

        if (100..200).contains(&status) && status != 101 {
            // Interim response (RFC 9110 §15.2): noted on the final response, no body.
            let last = self.consume(dir, end, diags);
            if let (Some(i), Some((frame, _))) = (slot_idx, last) {
                if let Some(slot) = self.slots.get_mut(i) {
                    slot.interim.push((status, frame));
                }
            }
            return;
        }

        let slot_idx = match slot_idx {
            Some(i) => i,
            None => self.push_orphan_slot(diags),
        };
        let Some(slot) = self.slots.get_mut(slot_idx) else {
            return;
        };
        slot.response_started = true;
        let slot_id = slot.id;
        let method = slot.method.clone().unwrap_or_default();
        let is_head = method.eq_ignore_ascii_case("HEAD");
        let is_connect = method.eq_ignore_ascii_case("CONNECT");
        let success = (200..300).contains(&status);
        let framing = parser::body_framing(&headers.0, false);
        let mut builder = MessageBuilder::new(
            StartInfo::Response { status, reason },
            HttpVersion::from_minor(minor),
            headers,
            slot_id,
        );
        builder.keep_body = self.wants_body(&builder.headers);
        self.half_mut(dir).msg = Some(builder);
        self.consume(dir, end, diags);

        if status == 101 || (is_connect && success) {
            // Switching Protocols or an established tunnel: no body, no more HTTP
            // (RFC 9110 §15.2.2, §9.3.6).
            self.finish_message(dir, true, diags);
            self.start_tunnel(diags);
            return;
        }
        if is_connect {
            // Refused CONNECT: the held client bytes are HTTP again.
            let client = self.dir_of(Role::Client);
            if self.half(client).state == HalfState::HoldForConnect {
                self.half_mut(client).state = HalfState::Head;
                self.wake = Some(client);
            }
        }
        // RFC 9112 §6.3 rule 1: no content after HEAD, 1xx, 204, 304.
        if is_head || status == 204 || status == 304 {
            self.finish_message(dir, true, diags);
            self.half_mut(dir).state = HalfState::Head;
            return;
        }
        self.report_framing(dir, &framing, diags);
        self.start_body(dir, framing.framing, diags);
    }

    fn report_framing(
        &self,
        dir: Direction,
        framing: &parser::FramingDecision,
        diags: &mut Vec<Diagnostic>,
    ) {
        let kind = self.msg_kind(dir);
        if framing.both_length_and_encoding {
            diags.push(self.diag_here(
                dir,
                Layer::Http,
                format!(
                    "{kind} has both Transfer-Encoding and Content-Length: Content-Length ignored"
                ),
            ));
        }
        if framing.invalid_length {
            diags.push(self.diag_here(
                dir,
                Layer::Http,
                format!("{kind} has an invalid or conflicting Content-Length"),
            ));
        }
        if framing.non_chunked_transfer_encoding {
            diags.push(self.diag_here(
                dir,
                Layer::Http,
                format!("{kind} Transfer-Encoding does not end in chunked"),
            ));
        }
    }

    /// Whether a message with these headers needs its body kept: always when configured so,
    /// else only for MMS and generic or missing content types.
    fn wants_body(&self, headers: &[(String, String)]) -> bool {
        if self.limits.keep_non_mms_bodies {
            return true;
        }
        let ct = parser::header_value(headers, "content-type");
        ct.is_some_and(parser::is_mms_content_type) || parser::is_generic_content_type(ct)
    }

    fn start_body(&mut self, dir: Direction, framing: BodyFraming, diags: &mut Vec<Diagnostic>) {
        let state = match framing {
            BodyFraming::None => {
                self.finish_message(dir, true, diags);
                HalfState::Head
            }
            BodyFraming::Length(n) => HalfState::Body(BodyState::Length { remaining: n }),
            BodyFraming::Chunked => HalfState::Body(BodyState::Chunked(ChunkPhase::SizeLine)),
            BodyFraming::UntilClose => HalfState::Body(BodyState::UntilClose),
        };
        self.half_mut(dir).state = state;
    }

    // ----------------------------------------------------------------------------------------
    // Bodies

    fn step_body(&mut self, dir: Direction, body: BodyState, diags: &mut Vec<Diagnostic>) -> bool {
        let avail_len = self.half(dir).avail().len();
        match body {
            BodyState::Length { remaining } => {
                let n = usize::try_from(remaining)
                    .unwrap_or(usize::MAX)
                    .min(avail_len);
                if n > 0 {
                    self.take_body_bytes(dir, n, diags);
                }
                let remaining = remaining.saturating_sub(n as u64);
                if remaining == 0 {
                    let complete = self.half(dir).msg.as_ref().is_some_and(|m| !m.gap);
                    self.finish_message(dir, complete, diags);
                    self.half_mut(dir).state = HalfState::Head;
                    return true;
                }
                self.half_mut(dir).state = HalfState::Body(BodyState::Length { remaining });
                false
            }
            BodyState::UntilClose => {
                if avail_len == 0 {
                    return false;
                }
                self.take_body_bytes(dir, avail_len, diags);
                false
            }
            BodyState::Chunked(phase) => self.step_chunked(dir, phase, diags),
        }
    }

    fn step_chunked(
        &mut self,
        dir: Direction,
        phase: ChunkPhase,
        diags: &mut Vec<Diagnostic>,
    ) -> bool {
        let avail = self.half(dir).avail();
        if avail.is_empty() {
            return false;
        }
        match phase {
            ChunkPhase::SizeLine => match parser::parse_chunk_size_line(avail) {
                Ok(None) => false,
                Ok(Some((size, len))) => {
                    self.take_framing_bytes(dir, len, diags);
                    let next = if size == 0 {
                        ChunkPhase::Trailers
                    } else {
                        ChunkPhase::Data { remaining: size }
                    };
                    self.half_mut(dir).state = HalfState::Body(BodyState::Chunked(next));
                    true
                }
                Err(e) => {
                    self.chunk_error(dir, e, diags);
                    true
                }
            },
            ChunkPhase::Data { remaining } => {
                let n = usize::try_from(remaining)
                    .unwrap_or(usize::MAX)
                    .min(avail.len());
                self.take_body_bytes(dir, n, diags);
                let remaining = remaining.saturating_sub(n as u64);
                let next = if remaining == 0 {
                    ChunkPhase::DataEnd
                } else {
                    ChunkPhase::Data { remaining }
                };
                self.half_mut(dir).state = HalfState::Body(BodyState::Chunked(next));
                true
            }
            ChunkPhase::DataEnd => match parser::parse_chunk_data_end(avail) {
                Ok(None) => false,
                Ok(Some(len)) => {
                    self.take_framing_bytes(dir, len, diags);
                    self.half_mut(dir).state =
                        HalfState::Body(BodyState::Chunked(ChunkPhase::SizeLine));
                    true
                }
                Err(e) => {
                    self.chunk_error(dir, e, diags);
                    true
                }
            },
            ChunkPhase::Trailers => {
                // The trailer section ends at an empty line; parse only once it is all here.
                let from = self.half(dir).head_scan_from;
                let complete_section = matches!(avail, [b'\n', ..] | [b'\r', b'\n', ..])
                    || parser::find_head_end(avail, from).is_some();
                if !complete_section {
                    if avail.len() > self.limits.max_head_bytes {
                        diags.push(self.diag_here(
                            dir,
                            Layer::Limit,
                            format!(
                                "http: trailer section longer than {} bytes: message incomplete",
                                self.limits.max_head_bytes
                            ),
                        ));
                        self.abort_body(dir, diags);
                        return true;
                    }
                    let from = avail.len().saturating_sub(2);
                    self.half_mut(dir).head_scan_from = from;
                    return false;
                }
                match parser::parse_trailers(avail, self.limits.max_headers) {
                    Ok(None) => false,
                    Ok(Some((headers, len))) => {
                        let (trailers, _) = owned_headers(&headers);
                        if let Some(msg) = self.half_mut(dir).msg.as_mut() {
                            msg.trailers = trailers;
                        }
                        self.take_framing_bytes(dir, len, diags);
                        let complete = self.half(dir).msg.as_ref().is_some_and(|m| !m.gap);
                        self.finish_message(dir, complete, diags);
                        self.half_mut(dir).state = HalfState::Head;
                        true
                    }
                    Err(e) => {
                        self.chunk_error(dir, e, diags);
                        true
                    }
                }
            }
        }
    }

    fn chunk_error(
        &mut self,
        dir: Direction,
        e: parser::HttpParseError,
        diags: &mut Vec<Diagnostic>,
    ) {
        diags.push(self.diag_here(
            dir,
            Layer::Http,
            format!("{e} ({} body): message incomplete", self.msg_kind(dir)),
        ));
        self.abort_body(dir, diags);
    }

    /// The body framing broke: end the message as incomplete and look for the next one.
    fn abort_body(&mut self, dir: Direction, diags: &mut Vec<Diagnostic>) {
        self.finish_message(dir, false, diags);
        // Skip at least one byte so the resync scan moves forward.
        self.consume(dir, 1, diags);
        self.resync(dir, false);
    }

    /// Consume `n` body bytes: counted on the wire and as content, kept within the caps.
    fn take_body_bytes(&mut self, dir: Direction, n: usize, diags: &mut Vec<Diagnostic>) {
        let max_body = self.limits.max_body_bytes;
        let budget = self
            .limits
            .max_connection_body_bytes
            .saturating_sub(self.retained)
            .min(self.shared_room);
        let frame = self.current_frame(dir);
        let kind = self.msg_kind(dir);
        let half = self.half_mut(dir);
        let mut kept = 0usize;
        let mut cap_hit = None;
        if let Some(msg) = half.msg.as_mut() {
            msg.body_len_on_wire = msg.body_len_on_wire.saturating_add(n as u64);
            msg.encoded_len = msg.encoded_len.saturating_add(n as u64);
            if msg.keep_body {
                let room = max_body.saturating_sub(msg.body.len()).min(budget);
                kept = room.min(n);
                if let Some(bytes) = half.buf.get(half.pos..half.pos.saturating_add(kept)) {
                    msg.body.extend_from_slice(bytes);
                }
                if kept < n {
                    msg.keep_body = false;
                    msg.truncated = true;
                    cap_hit = Some(msg.body.len());
                }
            }
        }
        self.retained = self.retained.saturating_add(kept);
        self.shared_room = self.shared_room.saturating_sub(kept);
        if let Some(len) = cap_hit {
            let shared = if self.shared_room == 0 {
                ", and the total for all connections is reached"
            } else {
                ""
            };
            let mut d = Diagnostic::new(
                Layer::Limit,
                format!(
                    "http: {kind} body exceeds the body cap ({max_body} bytes per message, \
                     {} per connection{shared}): kept the first {len} bytes",
                    self.limits.max_connection_body_bytes
                ),
            );
            if let Some(f) = frame {
                d = d.at_frame(f);
            }
            diags.push(d);
        }
        self.consume(dir, n, diags);
    }

    /// Consume chunk framing bytes (size lines, CRLFs, trailers): on the wire, not content.
    fn take_framing_bytes(&mut self, dir: Direction, n: usize, diags: &mut Vec<Diagnostic>) {
        if let Some(msg) = self.half_mut(dir).msg.as_mut() {
            msg.body_len_on_wire = msg.body_len_on_wire.saturating_add(n as u64);
        }
        self.consume(dir, n, diags);
    }

    fn gap_in_body(
        &mut self,
        dir: Direction,
        body: BodyState,
        len: u64,
        frame: u64,
        diags: &mut Vec<Diagnostic>,
    ) {
        let kind = self.msg_kind(dir);
        // Within a stretch of known length the framing survives the gap: skip the missing bytes
        // and go on counting. Otherwise the message ends here.
        let known = match body {
            BodyState::Length { remaining } if len <= remaining => {
                Some(HalfState::Body(BodyState::Length {
                    remaining: remaining.saturating_sub(len),
                }))
            }
            BodyState::Chunked(ChunkPhase::Data { remaining }) if len <= remaining => {
                let remaining = remaining.saturating_sub(len);
                Some(HalfState::Body(BodyState::Chunked(if remaining == 0 {
                    ChunkPhase::DataEnd
                } else {
                    ChunkPhase::Data { remaining }
                })))
            }
            BodyState::UntilClose => Some(HalfState::Body(BodyState::UntilClose)),
            _ => None,
        };
        let half = self.half_mut(dir);
        half.discard();
        if let Some(msg) = half.msg.as_mut() {
            msg.mark_gap();
            msg.body_len_on_wire = msg.body_len_on_wire.saturating_add(len);
        }
        match known {
            Some(state) => {
                diags.push(
                    Diagnostic::new(
                        Layer::Http,
                        format!(
                            "gap of {len} bytes inside a {kind} body: body kept up to the gap, \
                             message incomplete"
                        ),
                    )
                    .at_frame(frame),
                );
                half.state = state;
                if state == HalfState::Body(BodyState::Length { remaining: 0 }) {
                    self.finish_message(dir, false, diags);
                    self.half_mut(dir).state = HalfState::Head;
                }
            }
            None => {
                diags.push(
                    Diagnostic::new(
                        Layer::Http,
                        format!(
                            "gap of {len} bytes inside a {kind} body: message incomplete, \
                             looking for the next {kind}"
                        ),
                    )
                    .at_frame(frame),
                );
                self.finish_message(dir, false, diags);
                self.resync(dir, true);
            }
        }
    }

    // ----------------------------------------------------------------------------------------
    // Finishing messages and pairing

    fn push_slot(&mut self, method: String, diags: &mut Vec<Diagnostic>) -> u64 {
        self.evict_if_full(diags);
        let id = self.next_slot_id;
        self.next_slot_id = self.next_slot_id.saturating_add(1);
        self.slots.push_back(Slot {
            id,
            method: Some(method),
            request: None,
            request_done: false,
            response: None,
            response_started: false,
            response_done: false,
            interim: Vec::new(),
        });
        id
    }

    /// A response with no request waiting for it (the request was before the capture, or lost).
    fn push_orphan_slot(&mut self, diags: &mut Vec<Diagnostic>) -> usize {
        self.evict_if_full(diags);
        let id = self.next_slot_id;
        self.next_slot_id = self.next_slot_id.saturating_add(1);
        self.slots.push_back(Slot {
            id,
            method: None,
            request: None,
            request_done: true,
            response: None,
            response_started: false,
            response_done: false,
            interim: Vec::new(),
        });
        self.slots.len().saturating_sub(1)
    }

    fn evict_if_full(&mut self, diags: &mut Vec<Diagnostic>) {
        if self.slots.len() < self.limits.max_pending_requests.max(1) {
            return;
        }
        if let Some(slot) = self.slots.pop_front() {
            diags.push(Diagnostic::new(
                Layer::Limit,
                format!(
                    "http: more than {} requests waiting for responses: the oldest is reported \
                     without one",
                    self.limits.max_pending_requests
                ),
            ));
            self.done.push(slot_into_exchange(slot));
        }
    }

    /// Close the message being read in `dir`: undo content codings, store it in its slot, and
    /// release finished exchanges.
    fn finish_message(&mut self, dir: Direction, complete: bool, diags: &mut Vec<Diagnostic>) {
        let Some(mut msg) = self.half_mut(dir).msg.take() else {
            return;
        };
        let raw_len = msg.body.len();
        let content_encoding = parser::header_value(&msg.headers, "content-encoding")
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty());
        if let Some(ce) = content_encoding.as_deref() {
            if !msg.body.is_empty() {
                let held_elsewhere = self.retained.saturating_sub(raw_len);
                let budget = self
                    .limits
                    .max_connection_body_bytes
                    .saturating_sub(held_elsewhere)
                    .min(self.shared_room.saturating_add(raw_len));
                let limits = DecodeLimits {
                    max_output: self.limits.max_decoded_bytes.min(budget),
                    max_ratio: self.limits.max_decode_ratio,
                };
                let kind = self.msg_kind(dir);
                self.decode_body(&mut msg, ce, limits, kind, diags);
            }
        }
        self.retained = self
            .retained
            .saturating_sub(raw_len)
            .saturating_add(msg.body.len());
        self.shared_room = self
            .shared_room
            .saturating_add(raw_len)
            .saturating_sub(msg.body.len());
        // Frames arrive in capture order, so this is usually a plain dedup; reassembled
        // out-of-order data keeps the order of first arrival.
        if msg.frames.is_sorted() {
            msg.frames.dedup();
        } else {
            let mut seen = HashSet::with_hasher(foldhash::fast::FixedState::default());
            msg.frames.retain(|f| seen.insert(*f));
        }
        let complete = complete && !msg.gap;
        let content_type =
            parser::header_value(&msg.headers, "content-type").map(|v| v.trim().to_string());
        let slot_id = msg.slot_id;
        let first_frame = msg.first_frame.unwrap_or(msg.last_frame);
        match msg.start {
            StartInfo::Request { method, uri, url } => {
                let request = HttpRequest {
                    method,
                    uri,
                    url,
                    version: msg.version,
                    headers: msg.headers,
                    raw_header_values: msg.raw_header_values,
                    trailers: msg.trailers,
                    content_type,
                    content_encoding,
                    body: msg.body,
                    body_len_on_wire: msg.body_len_on_wire,
                    encoded_len: msg.encoded_len,
                    body_truncated: msg.truncated,
                    frames: msg.frames,
                    first_frame,
                    last_frame: msg.last_frame,
                    start: msg.start_ts,
                    end: msg.end_ts,
                    complete,
                };
                match self.slots.iter_mut().find(|s| s.id == slot_id) {
                    Some(slot) => {
                        slot.request = Some(request);
                        slot.request_done = true;
                    }
                    None => self.done.push(HttpExchange {
                        request: Some(request),
                        response: None,
                    }),
                }
            }
            StartInfo::Response { status, reason } => {
                let mut response = HttpResponse {
                    status,
                    reason,
                    version: msg.version,
                    headers: msg.headers,
                    raw_header_values: msg.raw_header_values,
                    trailers: msg.trailers,
                    content_type,
                    content_encoding,
                    body: msg.body,
                    body_len_on_wire: msg.body_len_on_wire,
                    encoded_len: msg.encoded_len,
                    body_truncated: msg.truncated,
                    frames: msg.frames,
                    first_frame,
                    last_frame: msg.last_frame,
                    start: msg.start_ts,
                    end: msg.end_ts,
                    complete,
                    interim: Vec::new(),
                };
                match self.slots.iter_mut().find(|s| s.id == slot_id) {
                    Some(slot) => {
                        response.interim = std::mem::take(&mut slot.interim);
                        slot.response = Some(response);
                        slot.response_done = true;
                    }
                    None => self.done.push(HttpExchange {
                        request: None,
                        response: Some(response),
                    }),
                }
            }
        }
        self.release_finished();
    }

    fn decode_body(
        &self,
        msg: &mut MessageBuilder,
        content_encoding: &str,
        limits: DecodeLimits,
        kind: &str,
        diags: &mut Vec<Diagnostic>,
    ) {
        let frame = msg.last_frame;
        let codings = match parser::parse_content_encoding(content_encoding) {
            Ok(c) => c,
            Err(unknown) => {
                diags.push(
                    Diagnostic::new(
                        Layer::Http,
                        format!(
                            "{kind} content coding '{unknown}' is not supported: body kept as \
                             transferred"
                        ),
                    )
                    .at_frame(frame),
                );
                return;
            }
        };
        // Codings are listed in the order applied (RFC 9110 §8.4); undo them last first.
        for coding in codings.iter().rev() {
            if *coding == ContentCoding::Identity {
                continue;
            }
            let out = decode::decode(&msg.body, *coding, limits);
            if let Some(cap) = out.capped {
                let why = match cap {
                    CapHit::Size { max } => format!("decoded size cap of {max} bytes"),
                    CapHit::Ratio { max, input } => {
                        format!("expansion ratio cap of {max}:1 (from {input} input bytes)")
                    }
                };
                diags.push(
                    Diagnostic::new(
                        Layer::Limit,
                        format!("http: {kind} body cut at the {why}: possible compression bomb"),
                    )
                    .at_frame(frame),
                );
                msg.truncated = true;
            }
            match out.error {
                Some(_) if out.data.is_empty() => {
                    diags.push(
                        Diagnostic::new(
                            Layer::Http,
                            format!(
                                "{kind} body is not valid {content_encoding} data: kept as \
                                 transferred"
                            ),
                        )
                        .at_frame(frame),
                    );
                    return;
                }
                Some(e) => {
                    // A stream cut by a gap or a cap ends early; say so only when the message
                    // itself looked whole.
                    if !msg.gap && !msg.truncated {
                        diags.push(
                            Diagnostic::new(Layer::Http, format!("{e} ({kind} body)"))
                                .at_frame(frame),
                        );
                    }
                    msg.truncated = true;
                }
                None => {}
            }
            msg.body = out.data;
            if out.capped.is_some() {
                return;
            }
        }
    }

    /// Move finished exchanges from the front of the queue to the output.
    fn release_finished(&mut self) {
        while self
            .slots
            .front()
            .is_some_and(|s| s.request_done && s.response_done)
        {
            if let Some(slot) = self.slots.pop_front() {
                self.done.push(slot_into_exchange(slot));
            }
        }
    }

    // ----------------------------------------------------------------------------------------
    // TLS and tunnels

    /// The connection is TLS from its first byte: hand over everything buffered.
    fn start_tls(&mut self, diags: &mut Vec<Diagnostic>) {
        self.tls_mode = true;
        let mut tls = TlsConnection::new(TlsLimits {
            max_hello_bytes: self.limits.max_tls_hello_bytes,
        });
        for dir in [Direction::ToServer, Direction::ToClient] {
            let half = match dir {
                Direction::ToServer => &mut self.to_server,
                Direction::ToClient => &mut self.to_client,
            };
            forward_to_tls(half, &mut tls, dir, diags);
            half.state = HalfState::Ignored;
        }
        self.tls = Some(tls);
    }

    /// CONNECT succeeded or protocols switched: both directions become a tunnel.
    fn start_tunnel(&mut self, diags: &mut Vec<Diagnostic>) {
        self.tunnel = true;
        for dir in [Direction::ToServer, Direction::ToClient] {
            if self.half(dir).msg.is_some() {
                // A message still open in the other direction ends here.
                self.finish_message(dir, false, diags);
            }
        }
        let limits = TlsLimits {
            max_hello_bytes: self.limits.max_tls_hello_bytes,
        };
        let tls = self.tls.get_or_insert_with(|| TlsConnection::new(limits));
        for dir in [Direction::ToServer, Direction::ToClient] {
            let half = match dir {
                Direction::ToServer => &mut self.to_server,
                Direction::ToClient => &mut self.to_client,
            };
            if half.state == HalfState::Ignored {
                continue;
            }
            half.state = HalfState::Tunnel;
            if let Some(len) = half.held_gap.take() {
                tls.on_gap(dir, len, 0, diags);
            }
            forward_to_tls(half, tls, dir, diags);
        }
    }

    fn flush_tunnel(&mut self, dir: Direction, diags: &mut Vec<Diagnostic>) {
        let limits = TlsLimits {
            max_hello_bytes: self.limits.max_tls_hello_bytes,
        };
        let tls = self.tls.get_or_insert_with(|| TlsConnection::new(limits));
        let half = match dir {
            Direction::ToServer => &mut self.to_server,
            Direction::ToClient => &mut self.to_client,
        };
        forward_to_tls(half, tls, dir, diags);
    }
}

/// Hand a direction's unparsed bytes to the TLS tracker, frame by frame.
fn forward_to_tls(
    half: &mut HalfStream,
    tls: &mut TlsConnection,
    dir: Direction,
    diags: &mut Vec<Diagnostic>,
) {
    let mut offset = half.pos;
    for span in &half.spans {
        let end = offset.saturating_add(span.len);
        if let Some(bytes) = half.buf.get(offset..end) {
            tls.on_data(dir, bytes, span.frame, span.ts, diags);
        }
        offset = end;
    }
    half.pos = half.buf.len();
    half.spans.clear();
    half.compact();
}

/// Header fields as owned strings (lossy for values that are not UTF-8, raw bytes kept aside).
fn owned_headers(headers: &[RawHeader<'_>]) -> OwnedHeaders {
    let mut out = Vec::with_capacity(headers.len());
    let mut raw = Vec::new();
    for (i, h) in headers.iter().enumerate() {
        let value = match std::str::from_utf8(h.value) {
            Ok(v) => v.to_string(),
            Err(_) => {
                raw.push((i, h.value.to_vec()));
                String::from_utf8_lossy(h.value).into_owned()
            }
        };
        out.push((h.name.to_string(), value));
    }
    (out, raw)
}

fn slot_into_exchange(slot: Slot) -> HttpExchange {
    HttpExchange {
        request: slot.request,
        response: slot.response,
    }
}

fn exchange_body_bytes(x: &HttpExchange) -> usize {
    x.request
        .as_ref()
        .map_or(0, |r| r.body.len())
        .saturating_add(x.response.as_ref().map_or(0, |r| r.body.len()))
}
