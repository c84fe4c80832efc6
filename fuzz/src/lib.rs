//! Entry functions of the fuzz targets, one per parser or state machine.
//!
//! Each `fuzz_targets/<name>.rs` calls the function of the same name; `tests/fuzz_corpus.rs` in
//! the main crate includes this file too and replays every corpus and regression input through
//! the same functions, so what the fuzzer found stays fixed.
//!
//! The functions take arbitrary bytes and must never panic. Where a target needs structure (a
//! sequence of segments, datagrams or stream events), it reads it from the bytes with the small
//! [`Input`] cursor below; running out of bytes simply ends the sequence. The caps passed to the
//! state machines are small on purpose, so that the paths taken when a cap is reached are
//! exercised by short inputs.

use mmsleak::audit::detect::{credentials, entropy, exif, identifiers, vcard};
use mmsleak::capture::{CaptureReader, ReaderOptions, Record, RecordData, linktype};
use mmsleak::diag::Diagnostic;
use mmsleak::flow::tcp::{Chunk, SegmentView, StreamContext};
use mmsleak::flow::{Direction, EventRecorder, FlowConfig, FlowKey, FlowTable, TcpReassembler};
use mmsleak::packet::{
    DefragLimits, PacketDecoder, TcpFlags, TcpSegment, Transport, VlanTags, decode_record,
};
use mmsleak::proto::http::{HttpConnection, HttpLimits};
use mmsleak::proto::mms::{self, DecodeContext};
use mmsleak::proto::tls::{TlsConnection, TlsLimits, parser as tls_parser};
use mmsleak::proto::wsp::multipart::{MultipartLimits, decode_multipart};
use mmsleak::proto::wsp::pdu::{
    CapabilitySummary, parse_capabilities, parse_connection_oriented, parse_connectionless,
};
use mmsleak::proto::wsp::session::{WapLimits, WapPortRole, WapSessions};
use mmsleak::proto::wsp::{encoding, headers};
use mmsleak::proto::wtp::{SarLimits, WtpReassembler, parse_datagram};
use mmsleak::scan::{ScanConfig, scan_source, scan_source_to};
use mmsleak::time::Timestamp;
use std::borrow::Cow;
use std::io::{Cursor, Read};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// The entry function of a target.
pub type Entry = fn(&[u8]);

/// The targets, by name, for the corpus replay test.
pub const TARGETS: &[(&str, Entry)] = &[
    ("capture_reader", capture_reader),
    ("packet_decode", packet_decode),
    ("tcp_reassembly", tcp_reassembly),
    ("wtp_reassembly", wtp_reassembly),
    ("wsp_pdu", wsp_pdu),
    ("wsp_headers", wsp_headers),
    ("mms_pdu", mms_pdu),
    ("multipart", multipart),
    ("http_stream", http_stream),
    ("tls_hello", tls_hello),
    ("exif", exif),
    ("vcard", vcard),
    ("whole_pipeline", whole_pipeline),
];

/// Reads structure from fuzz bytes; every read past the end yields zeros / empty slices.
pub struct Input<'a> {
    rest: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { rest: data }
    }

    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((b, rest)) => {
                self.rest = rest;
                *b
            }
            None => 0,
        }
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// Up to `n` bytes (fewer at the end of input).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self
            .rest
            .split_at_checked(n)
            .unwrap_or((self.rest, &[][..]));
        self.rest = rest;
        head
    }

    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }
}

fn ts(secs: i64) -> Timestamp {
    Timestamp::new(1_600_000_000_i64.saturating_add(secs), 0, 6)
}

/// A reader that hands out at most `chunk` bytes per call, as pipes and sockets may.
struct ShortReads {
    inner: Cursor<Vec<u8>>,
    chunk: usize,
}

impl Read for ShortReads {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.chunk);
        match buf.get_mut(..n) {
            Some(head) => self.inner.read(head),
            None => Ok(0),
        }
    }
}

type ReadOutcome = (Vec<Record>, Vec<u32>, u64);

fn read_capture(data: &[u8], options: ReaderOptions, chunk: Option<usize>) -> Option<ReadOutcome> {
    let inner = Cursor::new(data.to_vec());
    let source: Box<dyn Read + Send> = match chunk {
        Some(chunk) => Box::new(ShortReads { inner, chunk }),
        None => Box::new(inner),
    };
    let mut reader = CaptureReader::from_read_with("fuzz", source, options).ok()?;
    let mut diags = Vec::new();
    let mut records = Vec::new();
    if chunk.is_some() {
        loop {
            let batch = reader.read_batch(3, 4096, &mut diags);
            if batch.is_empty() {
                break;
            }
            records.extend(batch);
        }
    } else {
        while let Some(r) = reader.next_record(&mut diags) {
            records.push(r);
        }
    }
    let _ = (reader.format().as_str(), reader.offset(), reader.name());
    let _ = reader.suppressed_diagnostics();
    Some((records, reader.link_types(), reader.frames()))
}

/// The bytes as a pcap or pcapng file (gzip-compressed or not). Read once in one piece and once
/// through short reads in batches: both must give the same records.
pub fn capture_reader(data: &[u8]) {
    let options = ReaderOptions {
        buffer_size: 4096,
        max_record_len: 1 << 20,
        max_diagnostics: 64,
        max_resync_scan: 1 << 20,
        max_interfaces: 64,
    };
    let whole = read_capture(data, options, None);
    let chunk = 1 + data.len() % 61;
    let short = read_capture(data, options, Some(chunk));
    assert_eq!(
        whole, short,
        "records differ when the input arrives in {chunk}-byte reads"
    );
}

/// Byte 0 picks a link type from `linktype::DECODED`, byte 1 holds flags (bit 0: frames were cut
/// by a snaplen), the rest is a sequence of frames, each prefixed by its length (u16 BE). Each
/// frame is decoded on its own and through a [`PacketDecoder`] (IP defragmentation).
pub fn packet_decode(data: &[u8]) {
    let mut input = Input::new(data);
    let selector = usize::from(input.u8());
    let link_type = linktype::DECODED
        .get(selector % linktype::DECODED.len().max(1))
        .copied()
        .unwrap_or(linktype::ETHERNET);
    let flags = input.u8();
    let limits = DefragLimits {
        max_datagrams: 4,
        max_datagram_bytes: 65_535,
        max_total_bytes: 16 * 1024,
        max_fragments_per_datagram: 16,
        timeout_secs: 30,
    };
    let mut decoder = PacketDecoder::new(limits);
    let mut diags = Vec::new();
    let mut frame = 0u64;
    let mut offset = 24u64;
    while !input.is_empty() {
        let len = usize::from(input.u16());
        let bytes = input.bytes(len);
        frame += 1;
        let cut = if flags & 1 != 0 { 64 } else { 0 };
        let record = Record {
            frame,
            offset,
            ts: ts(i64::try_from(frame).unwrap_or(0) * i64::from(flags >> 4)),
            link_type,
            orig_len: u32::try_from(bytes.len())
                .unwrap_or(u32::MAX)
                .saturating_add(cut),
            data: RecordData::owned(bytes.to_vec()),
        };
        offset += 16 + bytes.len() as u64;
        if let Ok(decoded) = decode_record(&record) {
            let _ = decoded.frame();
        }
        if let Some(packet) = decoder.decode(&record, &mut diags) {
            let _ = FlowKey::from_packet(&packet).map(|k| k.shard_hash());
            let _ = packet.transport.payload().len();
            let _ = packet.into_owned();
        }
    }
    decoder.finish(&mut diags);
    let _ = (decoder.counters(), decoder.defrag_stats());
    for d in &diags {
        let _ = d.to_string();
    }
}

/// Checks what one direction's reassembler delivered: contiguous, and adding up to its offset.
#[derive(Default)]
struct StreamCheck {
    delivered: u64,
}

impl StreamCheck {
    fn chunk(&mut self, chunk: Chunk<'_>) {
        let len = match chunk {
            Chunk::Data { bytes, .. } => {
                assert!(!bytes.is_empty(), "empty Data chunk");
                bytes.len() as u64
            }
            Chunk::Gap { len, .. } => {
                assert!(len > 0, "empty Gap chunk");
                len
            }
        };
        self.delivered += len;
    }
}

/// A sequence of TCP segments of two connections between the same hosts. Each segment is
/// 7 bytes and a payload: flags (bit 0 direction, bits 1–4 SYN FIN RST ACK, bit 5 the second
/// connection), payload length, sequence number delta (i16 BE, from the next byte the sender
/// would send), acknowledgment delta (i16 BE), seconds elapsed; then the payload. The segments
/// go both to a [`FlowTable`] (small caps, so eviction and buffer caps happen) and, for the
/// first connection, to a [`TcpReassembler`] per direction whose output is checked.
pub fn tcp_reassembly(data: &[u8]) {
    let mut input = Input::new(data);
    let config = FlowConfig {
        max_flows: 1,
        tcp_idle_timeout: Duration::from_secs(200),
        udp_idle_timeout: Duration::from_secs(60),
        closed_linger: Duration::from_secs(20),
        max_buffer_per_direction: 2048,
        max_buffer_total: 3072,
        max_diagnostics_per_kind: 4,
    };
    let mut table = FlowTable::new(config);
    let mut sink = EventRecorder::new();
    let mut diags: Vec<Diagnostic> = Vec::new();
    let client = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10));
    let server = IpAddr::V4(Ipv4Addr::new(198, 51, 100, 20));
    // Next sequence number of each side of each connection: [conn][dir].
    let mut next_seq = [[1_000u32, 5_000_000u32], [77_000u32, 9_000u32]];
    let mut reassemblers = [TcpReassembler::new(), TcpReassembler::new()];
    let mut checks = [StreamCheck::default(), StreamCheck::default()];
    let mut cx = StreamContext::new(1024, 1536);
    let mut now = 0i64;
    let mut frame = 0u64;
    while !input.is_empty() {
        let flags = input.u8();
        let len = usize::from(input.u8());
        let seq_delta = input.u16() as i16;
        let ack_delta = input.u16() as i16;
        now += i64::from(input.u8());
        let payload = input.bytes(len);
        frame += 1;
        let to_server = flags & 1 == 0;
        let conn = usize::from(flags >> 5 & 1);
        let (dir_i, peer_i) = if to_server { (0, 1) } else { (1, 0) };
        let Some(side) = next_seq.get(conn).copied() else {
            continue;
        };
        let own = side.get(dir_i).copied().unwrap_or(0);
        let peer = side.get(peer_i).copied().unwrap_or(0);
        let seq = own.wrapping_add_signed(i32::from(seq_delta));
        let ack = peer.wrapping_add_signed(i32::from(ack_delta));
        let (syn, fin, rst, has_ack) = (
            flags & 2 != 0,
            flags & 4 != 0,
            flags & 8 != 0,
            flags & 16 != 0,
        );
        let mut tcp_flags = 0u8;
        if fin {
            tcp_flags |= 0x01;
        }
        if syn {
            tcp_flags |= 0x02;
        }
        if rst {
            tcp_flags |= 0x04;
        }
        if has_ack {
            tcp_flags |= 0x10;
        }
        let advance = u32::try_from(payload.len())
            .unwrap_or(0)
            .wrapping_add(u32::from(syn) + u32::from(fin));
        if let Some(slot) = next_seq.get_mut(conn).and_then(|s| s.get_mut(dir_i)) {
            *slot = seq.wrapping_add(advance);
        }
        let client_port = if conn == 0 { 49_152 } else { 49_153 };
        let (src, dst, sport, dport) = if to_server {
            (client, server, client_port, 80)
        } else {
            (server, client, 80, client_port)
        };
        let packet = mmsleak::packet::Packet {
            frame,
            ts: ts(now),
            vlan: VlanTags::default(),
            tunnel: None,
            src,
            dst,
            transport: Transport::Tcp(TcpSegment {
                src_port: sport,
                dst_port: dport,
                seq,
                ack,
                flags: TcpFlags(tcp_flags),
                window: 1024,
                payload: Cow::Borrowed(payload),
            }),
            truncated: false,
            fragment_frames: Vec::new(),
        };
        table.push(&packet, &mut sink, &mut diags);

        if conn == 0 && !rst {
            let view = SegmentView {
                seq,
                syn,
                fin,
                payload,
                frame,
                ts: ts(now),
            };
            if let (Some(r), Some(check)) = (reassemblers.get_mut(dir_i), checks.get_mut(dir_i)) {
                r.segment(&view, &mut cx, &mut |c| check.chunk(c));
                assert_eq!(
                    check.delivered,
                    r.next_offset(),
                    "delivered bytes != offset"
                );
            }
            if has_ack
                && let (Some(r), Some(check)) =
                    (reassemblers.get_mut(peer_i), checks.get_mut(peer_i))
            {
                r.peer_ack(ack, frame, ts(now), &mut cx, &mut |c| check.chunk(c));
                assert_eq!(
                    check.delivered,
                    r.next_offset(),
                    "delivered bytes != offset"
                );
            }
        }
        assert!(
            cx.buffered_total <= cx.max_total.saturating_add(64 + 255),
            "reassembly buffer above its cap: {}",
            cx.buffered_total
        );
    }
    for (r, check) in reassemblers.iter_mut().zip(checks.iter_mut()) {
        r.flush(frame, ts(now), &mut cx, &mut |c| check.chunk(c));
        assert_eq!(
            check.delivered,
            r.next_offset(),
            "delivered bytes != offset"
        );
        r.discard(&mut cx);
    }
    table.finish(&mut sink, &mut diags);
    assert!(table.is_empty(), "flows left after finish");
    let _ = table.stats();
}

/// A sequence of UDP datagrams of WAP flows: flags (bit 0 direction, bit 1 second flow, bits
/// 2–3 the port role: WTP, connectionless WSP, WTLS; bit 4 the flow ends after this datagram),
/// seconds elapsed, length (u16 BE), then the datagram. WTP datagrams go to a
/// [`WtpReassembler`]; all go to [`WapSessions`] (WSP sessions above WTP, connectionless WSP,
/// WTLS) with small caps.
pub fn wtp_reassembly(data: &[u8]) {
    let mut input = Input::new(data);
    let sar = SarLimits {
        max_segments_per_message: 16,
        max_transactions: 4,
        max_message_bytes: 8192,
        idle_timeout_secs: 60,
    };
    let wap = WapLimits {
        sar,
        max_pending_requests: 4,
        max_wtls_flows: 2,
        max_sessions: 2,
        max_body_bytes: 8192,
    };
    let mut wtp = WtpReassembler::new(sar);
    let mut sessions = WapSessions::new(wap);
    let mut diags = Vec::new();
    let mut now = 0i64;
    let mut frame = 0u64;
    while !input.is_empty() {
        let flags = input.u8();
        now += i64::from(input.u8());
        let len = usize::from(input.u16());
        let datagram = input.bytes(len);
        frame += 1;
        let dir = if flags & 1 == 0 {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let flow = u64::from(flags >> 1 & 1);
        let push = flags & 0x20 != 0;
        let role = match flags >> 2 & 3 {
            1 => WapPortRole::ConnectionlessWsp { push },
            2 => WapPortRole::Wtls { push },
            _ => WapPortRole::Wtp { push },
        };
        if matches!(role, WapPortRole::Wtp { .. }) {
            if let Ok(pdus) = parse_datagram(datagram) {
                for pdu in &pdus {
                    let mut out = Vec::new();
                    pdu.encode(&mut out);
                    let _ = (pdu.pdu_type(), pdu.segment(), pdu.psn_tpi());
                }
            }
            wtp.on_datagram(flow, dir, datagram, frame, ts(now), &mut diags);
            let _ = wtp.take_completed();
        }
        sessions.on_datagram(flow, dir, role, datagram, frame, ts(now), &mut diags);
        let _ = sessions.session(flow);
        if flags & 0x10 != 0 {
            wtp.end_flow(flow, ts(now));
            sessions.end_flow(flow, ts(now), &mut diags);
        }
        let _ = sessions.take_output();
        assert!(
            wtp.in_progress() <= sar.max_transactions,
            "WTP transactions above cap"
        );
    }
    let _ = wtp.finish();
    let out = sessions.finish(&mut diags);
    for ex in &out.exchanges {
        let _ = ex.carries_mms();
    }
}

/// The bytes as a WSP PDU, connectionless (with TID) and connection-oriented; decoded PDUs are
/// encoded again, and the bytes are also read as a capability list.
pub fn wsp_pdu(data: &[u8]) {
    for parsed in [parse_connectionless(data), parse_connection_oriented(data)] {
        match parsed {
            Ok(pdu) => {
                let _ = format!("{pdu:?}");
                let _ = pdu.body.pdu_type();
                let _ = pdu.to_bytes();
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    if let Ok(caps) = parse_capabilities(data) {
        let _ = CapabilitySummary::from_capabilities(&caps);
    }
}

/// The bytes as a WSP header block (and as single WSP values); decoded headers are encoded
/// again.
pub fn wsp_headers(data: &[u8]) {
    let decoded = headers::decode_headers(data);
    let _ = decoded.pairs();
    let _ = headers::encode_headers(&decoded.headers);
    let _ = headers::value_extent(data);
    if let Ok((_, ct)) = encoding::content_type_value(data) {
        let mut out = Vec::new();
        let _ = encoding::encode_content_type(&ct, &mut out);
    }
    let _ = encoding::content_type_value_lenient(data);
    let _ = encoding::encoded_string_value(data);
    let _ = encoding::parameter(data);
    let _ = encoding::version_value(data);
    let _ = encoding::date_value(data);
    let _ = encoding::q_value(data);
    let _ = encoding::integer_value(data);
    let _ = encoding::uintvar(data);
}

/// The bytes as an MMS PDU; a decoded PDU is described (as reports do) and encoded again.
pub fn mms_pdu(data: &[u8]) {
    let _ = mms::looks_like_mms(data);
    let ctx = DecodeContext {
        capture_time: Some(ts(0)),
        limits: MultipartLimits {
            max_depth: 4,
            max_parts: 64,
        },
    };
    if let Ok(pdu) = mms::decode(data, &ctx) {
        let _ = pdu.describe();
        let _ = pdu.other_headers();
        let _ = (pdu.from(), pdu.to(), pdu.cc(), pdu.bcc(), pdu.subject());
        let _ = (
            pdu.date(),
            pdu.expiry(),
            pdu.content_type(),
            pdu.message_size(),
        );
        for part in pdu.parts() {
            let _ = part.text();
        }
        let _ = mms::encode(&pdu);
    }
}

/// The bytes as a WSP multipart body.
pub fn multipart(data: &[u8]) {
    for limits in [
        MultipartLimits {
            max_depth: 3,
            max_parts: 32,
        },
        MultipartLimits::default(),
    ] {
        let parts = decode_multipart(data, &limits);
        let _ = parts.leaves();
    }
}

/// A sequence of stream events of one TCP connection: an op byte (bits 0–1: data, gap, close;
/// bit 2 direction; bit 3: data length is u16 rather than u8, close of both directions), then
/// for data its length and bytes, for a gap its length (u16 BE). The first byte also picks the
/// body policy (bit 7) and a small total shared with other connections (bit 6, its size bits 4–5).
pub fn http_stream(data: &[u8]) {
    let limits = HttpLimits {
        max_head_bytes: 2048,
        max_headers: 16,
        max_body_bytes: 16 * 1024,
        max_decoded_bytes: 32 * 1024,
        max_decode_ratio: 50,
        max_connection_body_bytes: 24 * 1024,
        max_pending_requests: 4,
        max_frames_per_message: 16,
        max_sniff_bytes: 1024,
        max_resync_bytes: 4096,
        max_tls_hello_bytes: 2048,
        // Both body policies are exercised: the first input byte decides.
        keep_non_mms_bodies: data.first().is_some_and(|b| b & 0x80 == 0),
    };
    let connection_cap = limits.max_connection_body_bytes;
    let mut conn = HttpConnection::new(limits);
    // Bit 6 of the first byte: the connection shares a total with others, as a dispatcher's
    // connections do, and what the others leave of it is small (bits 4–5 pick how small).
    let shared_total = data
        .first()
        .filter(|&&b| b & 0x40 != 0)
        .map(|&b| [0usize, 256, 4096, 20 * 1024][usize::from((b >> 4) & 3)]);
    let mut diags = Vec::new();
    let mut input = Input::new(data);
    let mut frame = 0u64;
    while !input.is_empty() {
        let held_before = conn.body_bytes_held();
        let room = shared_total.map(|total| total.saturating_sub(held_before));
        if let Some(room) = room {
            conn.set_shared_room(room);
        }
        let op = input.u8();
        frame += 1;
        let dir = if op & 4 == 0 {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let wide = op & 8 != 0;
        let now = ts(i64::try_from(frame).unwrap_or(0));
        match op & 3 {
            0 | 3 => {
                let len = if wide {
                    usize::from(input.u16())
                } else {
                    usize::from(input.u8())
                };
                let bytes = input.bytes(len);
                conn.on_data(dir, bytes, frame, now, &mut diags);
            }
            1 => {
                let len = u64::from(input.u16()).max(1);
                conn.on_gap(dir, len, frame, now, &mut diags);
            }
            _ => {
                let which = if wide { None } else { Some(dir) };
                conn.on_close(which, frame, now, &mut diags);
            }
        }
        let _ = (conn.kind(), conn.wants_data(), conn.roles_swapped());
        let held = conn.body_bytes_held();
        assert!(
            held <= connection_cap,
            "HTTP connection keeps {held} body bytes, over its own cap"
        );
        if let Some(room) = room {
            assert!(
                held <= held_before.saturating_add(room),
                "HTTP connection grew its bodies from {held_before} to {held} bytes with room for {room}"
            );
        }
        for ex in conn.take_exchanges() {
            let _ = (ex.mms_bodies(), ex.first_frame(), ex.last_frame());
        }
        assert!(
            conn.buffered_bytes() <= 256 * 1024,
            "HTTP connection holds {} bytes",
            conn.buffered_bytes()
        );
    }
    for ex in conn.finish(&mut diags) {
        let _ = (ex.mms_bodies(), ex.is_complete());
    }
    let _ = conn.tls();
}

/// Byte 0 says how the rest is fed to a [`TlsConnection`]: bits 0–5 the segment size − 1, bit 6
/// the same bytes also as the server's direction, bit 7 a gap after the first segment. The rest
/// also goes through every TLS parser directly.
pub fn tls_hello(data: &[u8]) {
    let mut input = Input::new(data);
    let ctrl = input.u8();
    let stream = input.rest();
    let size = usize::from(ctrl & 0x3f) + 1;
    let mut conn = TlsConnection::new(TlsLimits {
        max_hello_bytes: 2048,
    });
    let mut diags = Vec::new();
    let dirs: &[Direction] = if ctrl & 0x40 != 0 {
        &[Direction::ToServer, Direction::ToClient]
    } else {
        &[Direction::ToServer]
    };
    for &dir in dirs {
        for (i, chunk) in stream.chunks(size).enumerate() {
            let frame = i as u64 + 1;
            conn.on_data(dir, chunk, frame, ts(0), &mut diags);
            if i == 0 && ctrl & 0x80 != 0 {
                conn.on_gap(dir, 10, frame, &mut diags);
            }
        }
    }
    let _ = (conn.is_tls(), conn.is_done(), conn.buffered_bytes());
    let info = conn.into_info();
    let _ = (info.negotiated_version_name(), info.client_max_version());

    let _ = tls_parser::looks_like_tls(stream);
    let _ = tls_parser::parse_record_header(stream);
    let _ = tls_parser::parse_handshake_header(stream);
    // A hello body starts after the 5-byte record header and the 4-byte handshake header.
    for body in [stream, stream.get(9..).unwrap_or(&[])] {
        if let Ok(hello) = tls_parser::parse_client_hello(body) {
            let _ = format!("{hello:?}");
        }
        if let Ok(hello) = tls_parser::parse_server_hello(body) {
            let _ = (hello.is_hello_retry_request(), hello.negotiated_version());
        }
    }
    let _ = tls_parser::parse_server_name(stream);
    let _ = tls_parser::parse_alpn(stream);
    let _ = tls_parser::parse_supported_versions_offer(stream);
}

/// The bytes as an image whose EXIF is read.
pub fn exif(data: &[u8]) {
    if let Some(facts) = exif::read_exif(data) {
        let _ = (facts.has_gps(), facts.is_empty());
    }
}

/// The bytes as a vCard / vCalendar part, and as text given to every identifier and credential
/// finder (whole, and line by line as header values and URLs).
pub fn vcard(data: &[u8]) {
    let _ = vcard::is_card("text/x-vcard", data);
    let _ = vcard::parse_card(data);
    let text = String::from_utf8_lossy(data);
    let _ = identifiers::find_emails(&text);
    let _ = identifiers::find_phone_numbers(&text);
    let mut tokens: Vec<&str> = Vec::new();
    for line in text.lines().take(64) {
        let _ = identifiers::subscriber_header(line);
        let _ = identifiers::classify_identifier(line);
        let _ = identifiers::luhn_valid(line);
        let _ = identifiers::normalize_address(line);
        let _ = identifiers::normalize_phone(line);
        let _ = credentials::parse_authorization(line).map(|c| c.scheme().to_owned());
        let _ = credentials::url_userinfo(line);
        let _ = credentials::url_tokens(line);
        let _ = credentials::cookies(line);
        if let Some(token) = entropy::location_token(line) {
            let _ = entropy::token_entropy_bits(token);
            let _ = entropy::trailing_number(token);
            tokens.push(token);
        }
    }
    let _ = entropy::sequential(&tokens, 5);
}

/// The bytes as a capture file through the whole pipeline: records, packets, flows, protocols,
/// transfers, audit; the report is written as JSON, JSON Lines, CSV and a table.
pub fn whole_pipeline(data: &[u8]) {
    let Ok(reader) = CaptureReader::from_read("fuzz", Box::new(Cursor::new(data.to_vec()))) else {
        return;
    };
    let config = ScanConfig {
        threads: Some(1),
        ..ScanConfig::default()
    };
    let Ok(outcome) = scan_source("fuzz", reader, &config) else {
        return;
    };
    // The streamed report is the report built in memory, byte for byte.
    if let Ok(again) = CaptureReader::from_read("fuzz", Box::new(Cursor::new(data.to_vec()))) {
        let mut streamed = Vec::new();
        let format = mmsleak::report::stream::StreamFormat::Jsonl;
        if scan_source_to("fuzz", again, &config, format, &mut streamed).is_ok() {
            let mut lines = Vec::new();
            let _ = mmsleak::report::jsonl::write(&mut lines, &outcome.report);
            assert!(streamed == lines, "streamed report differs");
        }
    }
    let json = serde_json::to_string(&outcome.report);
    assert!(json.is_ok(), "report does not serialise: {json:?}");
    let mut out = Vec::new();
    let _ = mmsleak::report::jsonl::write(&mut out, &outcome.report);
    out.clear();
    let _ = mmsleak::report::csv::write(&mut out, &outcome.report);
    let _ = mmsleak::report::table::render(&outcome.report, 100);
}
