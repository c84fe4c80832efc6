//! WSP sessions: pairing replies with their requests, Connect capabilities, pushes.
//!
//! Connectionless WSP (UDP 9200, push 2948, WAP-230 8.2.1): a Reply answers the Get/Post of the
//! same flow carrying the same TID octet. Connection-oriented WSP rides on WTP (9201, push 2949):
//! the request travels in a transaction's Invoke and its Reply in the Result of the same
//! transaction; Connect/ConnectReply set up the session (capabilities, session id). A Push or
//! ConfirmedPush is a transfer of its own, towards the client.
//!
//! [`WapSessions`] is the entry point for the pipeline: it takes the UDP payloads of WAP flows
//! (classified by port with [`classify_ports`]) and hands out [`WspExchange`]s and, for WTLS
//! flows, [`WtlsFlow`] summaries.

use super::encoding::ContentType;
use super::headers::{self, WspHeader};
use super::pdu::{
    CapabilitySummary, WspContent, WspPdu, WspPduBody, http_status, method_name,
    parse_capabilities, parse_connection_oriented, parse_connectionless,
};
use crate::diag::{Diagnostic, Layer};
use crate::flow::Direction;
use crate::proto::wtls::WtlsSummary;
use crate::proto::wtp::{AbortReason, SarLimits, WtpMessage, WtpReassembler, WtpTransaction};
use crate::time::Timestamp;
use std::collections::BTreeMap;

/// What a WAP port carries (WAP-259 WDP, port assignments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WapPortRole {
    /// Connectionless WSP: 9200, push 2948.
    ConnectionlessWsp { push: bool },
    /// WTP with connection-oriented WSP: 9201, push 2949.
    Wtp { push: bool },
    /// WTLS: 9202 (connectionless), 9203 (connection-oriented), secure push 2950/2951.
    Wtls { push: bool },
}

/// Well-known WAP ports and their roles.
pub const WAP_PORTS: &[(u16, WapPortRole)] = &[
    (9200, WapPortRole::ConnectionlessWsp { push: false }),
    (2948, WapPortRole::ConnectionlessWsp { push: true }),
    (9201, WapPortRole::Wtp { push: false }),
    (2949, WapPortRole::Wtp { push: true }),
    (9202, WapPortRole::Wtls { push: false }),
    (9203, WapPortRole::Wtls { push: false }),
    (2950, WapPortRole::Wtls { push: true }),
    (2951, WapPortRole::Wtls { push: true }),
];

/// The role of one port.
pub fn classify_port(port: u16) -> Option<WapPortRole> {
    WAP_PORTS.iter().find(|(p, _)| *p == port).map(|(_, r)| *r)
}

/// The role of a UDP flow from its two ports (the server/destination port is tried first).
pub fn classify_ports(server_port: u16, client_port: u16) -> Option<WapPortRole> {
    classify_port(server_port).or_else(|| classify_port(client_port))
}

/// Which WSP carrier an exchange used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WspMode {
    /// Report transport `wsp`.
    Connectionless,
    /// Report transport `wtp`.
    ConnectionOriented,
}

impl WspMode {
    /// The report's `transport` value.
    pub fn transport(self) -> &'static str {
        match self {
            WspMode::Connectionless => "wsp",
            WspMode::ConnectionOriented => "wtp",
        }
    }
}

/// The request half of an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WspRequest {
    /// "GET", "POST", ... or `EXT-0xNN` for an extended method.
    pub method: String,
    pub pdu_type: u8,
    /// The URI as sent (lossy UTF-8).
    pub uri: String,
    /// Headers as (name, value) text, in order.
    pub headers: Vec<(String, String)>,
    /// The same headers with their typed values (credentials, application ids, ...).
    pub typed_headers: Vec<WspHeader>,
    /// The encoded header block, for callers that need the raw octets.
    pub raw_headers: Vec<u8>,
    /// Post/Put only.
    pub content_type: Option<ContentType>,
    pub body: Vec<u8>,
    pub direction: Direction,
    pub frames: Vec<u64>,
    /// The frame in which the request's last byte arrived.
    pub last_frame: u64,
    /// When its last byte arrived.
    pub time: Timestamp,
    /// When its first byte arrived.
    pub first_time: Timestamp,
    /// False when a WTP segment of the request is missing or a cap cut it.
    pub complete: bool,
}

/// The response half of an exchange, or the pushed content of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WspResponse {
    /// HTTP status number; `None` for a push, or a WSP status with no HTTP equivalent.
    pub status: Option<u16>,
    /// The WSP status octet of a Reply.
    pub wsp_status: Option<u8>,
    pub headers: Vec<(String, String)>,
    pub typed_headers: Vec<WspHeader>,
    pub raw_headers: Vec<u8>,
    pub content_type: Option<ContentType>,
    pub body: Vec<u8>,
    pub direction: Direction,
    pub frames: Vec<u64>,
    pub last_frame: u64,
    pub time: Timestamp,
    pub first_time: Timestamp,
    pub complete: bool,
}

/// One WSP transfer: a method and its reply, or a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WspExchange {
    pub flow_id: u64,
    pub mode: WspMode,
    /// Connectionless: the TID octet; connection-oriented: the WTP TID (15 bits).
    pub tid: u16,
    pub request: Option<WspRequest>,
    /// The Reply; for a push, the pushed content (`status` is `None`).
    pub response: Option<WspResponse>,
    pub push: bool,
    pub confirmed_push: bool,
    /// False when bytes were not seen: a missing WTP segment, a cap, an abort, or a method whose
    /// reply never came.
    pub complete: bool,
    /// The session (connection-oriented mode, when its ConnectReply was seen).
    pub session_id: Option<u32>,
    pub aborted: Option<AbortReason>,
    pub first_frame: u64,
    pub last_frame: u64,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// `application/vnd.wap.mms-message` (well-known content type 0x3E).
pub const MMS_CONTENT_TYPE: &str = "application/vnd.wap.mms-message";
/// The MMS user agent's push application id (WAP-235 / OMNA: `x-wap-application:mms.ua`, 4).
pub const MMS_APPLICATION_ID: &str = "x-wap-application:mms.ua";
pub const MMS_APPLICATION_ID_CODE: u64 = 4;

/// True for the MMS content type (parameters ignored).
pub fn is_mms_content_type(ct: &ContentType) -> bool {
    ct.media.trim().eq_ignore_ascii_case(MMS_CONTENT_TYPE)
}

/// True when an X-Wap-Application-Id value names the MMS user agent, by name or number.
pub fn is_mms_application_id(value: &str) -> bool {
    let v = value.trim();
    if v.eq_ignore_ascii_case(MMS_APPLICATION_ID) {
        return true;
    }
    let number = v
        .strip_prefix("0x")
        .or_else(|| v.strip_prefix("0X"))
        .map_or_else(
            || v.parse::<u64>().ok(),
            |h| u64::from_str_radix(h, 16).ok(),
        );
    number == Some(MMS_APPLICATION_ID_CODE)
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

impl WspResponse {
    /// The X-Wap-Application-Id header of a push.
    pub fn application_id(&self) -> Option<&str> {
        header(&self.headers, "X-Wap-Application-Id")
    }
}

impl WspExchange {
    /// True when the request body is an MMS PDU.
    pub fn request_is_mms(&self) -> bool {
        self.request
            .as_ref()
            .and_then(|r| r.content_type.as_ref())
            .is_some_and(is_mms_content_type)
    }

    /// True when the reply body (or pushed content) is an MMS PDU: its content type says so, or a
    /// push is addressed to the MMS user agent.
    pub fn response_is_mms(&self) -> bool {
        self.response.as_ref().is_some_and(|r| {
            r.content_type.as_ref().is_some_and(is_mms_content_type)
                || (self.push && r.application_id().is_some_and(is_mms_application_id))
        })
    }

    pub fn carries_mms(&self) -> bool {
        self.request_is_mms() || self.response_is_mms()
    }
}

/// A WTLS flow: what was recognised, never decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WtlsFlow {
    pub flow_id: u64,
    pub push: bool,
    pub summary: WtlsSummary,
    pub first_frame: u64,
    pub last_frame: u64,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// What the WAP stage handed out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WapOutput {
    pub exchanges: Vec<WspExchange>,
    pub wtls_flows: Vec<WtlsFlow>,
}

/// Caps of the WAP stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WapLimits {
    pub sar: SarLimits,
    /// Connectionless requests waiting for their reply.
    pub max_pending_requests: usize,
    /// WTLS flows tracked at once.
    pub max_wtls_flows: usize,
    /// Connection-oriented sessions remembered at once.
    pub max_sessions: usize,
    /// Body octets kept per connectionless request/reply.
    pub max_body_bytes: usize,
}

impl Default for WapLimits {
    fn default() -> Self {
        WapLimits {
            sar: SarLimits::default(),
            max_pending_requests: 1024,
            max_wtls_flows: 4096,
            max_sessions: 4096,
            max_body_bytes: 4 * 1024 * 1024,
        }
    }
}

/// Session state of one connection-oriented flow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WspSessionInfo {
    pub version: Option<u8>,
    pub session_id: Option<u32>,
    pub client_capabilities: CapabilitySummary,
    pub server_capabilities: CapabilitySummary,
    pub connect_headers: Vec<(String, String)>,
    pub disconnected: bool,
}

#[derive(Debug)]
struct PendingRequest {
    request: WspRequest,
    start: Timestamp,
    /// More retransmissions came than [`MAX_RETRANSMISSION_FRAMES`] (said once).
    frames_capped: bool,
}

/// Frames listed for one connectionless request and its retransmissions: real WTP retransmits a
/// few times, and a capture repeating one request endlessly must not grow the list with it.
const MAX_RETRANSMISSION_FRAMES: usize = 1024;

#[derive(Debug)]
struct WtlsState {
    push: bool,
    summary: WtlsSummary,
    first_frame: u64,
    last_frame: u64,
    start: Timestamp,
    end: Timestamp,
}

/// The WAP stage of one shard: connectionless pairing, WTP reassembly, sessions and WTLS.
#[derive(Debug, Default)]
pub struct WapSessions {
    limits: WapLimits,
    wtp: WtpReassembler,
    pending: BTreeMap<(u64, u8), PendingRequest>,
    sessions: BTreeMap<u64, WspSessionInfo>,
    wtls: BTreeMap<u64, WtlsState>,
    out: WapOutput,
    last_expiry: Option<Timestamp>,
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Decodes an encoded header block with the WSP header codec; problems become diagnostics and
/// what could be read is kept.
fn decode_headers(block: &[u8], frame: u64, diags: &mut Vec<Diagnostic>) -> Vec<WspHeader> {
    if block.is_empty() {
        return Vec::new();
    }
    let decoded = headers::decode_headers(block);
    for issue in &decoded.issues {
        diags.push(Diagnostic::new(Layer::Wsp, format!("headers: {issue}")).at_frame(frame));
    }
    decoded.headers
}

fn pairs(headers: &[WspHeader]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| (h.name.clone(), h.value.clone()))
        .collect()
}

fn method_string(pdu_type: u8) -> String {
    method_name(pdu_type).map_or_else(|| format!("EXT-{pdu_type:#04x}"), str::to_owned)
}

fn cap_body(body: &[u8], max: usize) -> (Vec<u8>, bool) {
    let kept = body.get(..body.len().min(max)).unwrap_or(&[]);
    (kept.to_vec(), kept.len() == body.len())
}

struct Arrival {
    direction: Direction,
    frames: Vec<u64>,
    last_frame: u64,
    time: Timestamp,
    first_time: Timestamp,
    complete: bool,
}

impl WapSessions {
    pub fn new(limits: WapLimits) -> Self {
        WapSessions {
            limits,
            wtp: WtpReassembler::new(limits.sar),
            ..Default::default()
        }
    }

    /// The session state of a connection-oriented flow.
    pub fn session(&self, flow_id: u64) -> Option<&WspSessionInfo> {
        self.sessions.get(&flow_id)
    }

    /// Feeds one UDP payload. `dir` is the direction it travelled in the flow; `role` comes from
    /// [`classify_ports`].
    #[allow(clippy::too_many_arguments)]
    pub fn on_datagram(
        &mut self,
        flow_id: u64,
        dir: Direction,
        role: WapPortRole,
        bytes: &[u8],
        frame: u64,
        ts: Timestamp,
        diags: &mut Vec<Diagnostic>,
    ) {
        match role {
            WapPortRole::ConnectionlessWsp { push } => {
                self.on_connectionless(flow_id, dir, push, bytes, frame, ts, diags);
            }
            WapPortRole::Wtp { .. } => {
                self.wtp.on_datagram(flow_id, dir, bytes, frame, ts, diags);
                for tx in self.wtp.take_completed() {
                    self.on_transaction(tx, diags);
                }
            }
            WapPortRole::Wtls { push } => self.on_wtls(flow_id, push, bytes, frame, ts, diags),
        }
        self.expire_pending(ts);
    }

    /// Takes what was handed out so far.
    pub fn take_output(&mut self) -> WapOutput {
        std::mem::take(&mut self.out)
    }

    /// The flow closed or was evicted: hands out everything it holds.
    pub fn end_flow(&mut self, flow_id: u64, ts: Timestamp, diags: &mut Vec<Diagnostic>) {
        self.wtp.end_flow(flow_id, ts);
        for tx in self.wtp.take_completed() {
            self.on_transaction(tx, diags);
        }
        let keys: Vec<(u64, u8)> = self
            .pending
            .range((flow_id, 0)..=(flow_id, u8::MAX))
            .map(|(k, _)| *k)
            .collect();
        for key in keys {
            self.flush_pending(key);
        }
        self.sessions.remove(&flow_id);
        if let Some(state) = self.wtls.remove(&flow_id) {
            self.push_wtls(flow_id, state);
        }
    }

    /// End of input: hands out everything, ordered by first frame.
    pub fn finish(&mut self, diags: &mut Vec<Diagnostic>) -> WapOutput {
        for tx in self.wtp.finish() {
            self.on_transaction(tx, diags);
        }
        let keys: Vec<(u64, u8)> = self.pending.keys().copied().collect();
        for key in keys {
            self.flush_pending(key);
        }
        let flows: Vec<u64> = self.wtls.keys().copied().collect();
        for flow_id in flows {
            if let Some(state) = self.wtls.remove(&flow_id) {
                self.push_wtls(flow_id, state);
            }
        }
        self.sessions.clear();
        let mut out = self.take_output();
        out.exchanges
            .sort_by_key(|e| (e.first_frame, e.flow_id, e.tid));
        out.wtls_flows.sort_by_key(|w| (w.first_frame, w.flow_id));
        out
    }

    // -----------------------------------------------------------------------------------------
    // Connectionless

    #[allow(clippy::too_many_arguments)]
    fn on_connectionless(
        &mut self,
        flow_id: u64,
        dir: Direction,
        push_port: bool,
        bytes: &[u8],
        frame: u64,
        ts: Timestamp,
        diags: &mut Vec<Diagnostic>,
    ) {
        let pdu = match parse_connectionless(bytes) {
            Ok(pdu) => pdu,
            Err(e) => {
                diags.push(Diagnostic::new(Layer::Wsp, e.to_string()).at_frame(frame));
                return;
            }
        };
        let tid = pdu.tid.unwrap_or(0);
        let arrival = Arrival {
            direction: dir,
            frames: vec![frame],
            last_frame: frame,
            time: ts,
            first_time: ts,
            complete: true,
        };
        let max_body = self.limits.max_body_bytes;
        match &pdu.body {
            WspPduBody::Get { .. } | WspPduBody::Post { .. } => {
                let Some(request) = build_request(&pdu, arrival, max_body, diags) else {
                    return;
                };
                let key = (flow_id, tid);
                if let Some(existing) = self.pending.get_mut(&key) {
                    if existing.request.uri == request.uri
                        && existing.request.raw_headers == request.raw_headers
                        && existing.request.body == request.body
                    {
                        // Retransmitted request (same TID, same content): one exchange.
                        if existing.request.frames.len() < MAX_RETRANSMISSION_FRAMES {
                            existing.request.frames.push(frame);
                        } else if !existing.frames_capped {
                            existing.frames_capped = true;
                            diags.push(
                                Diagnostic::new(
                                    Layer::Limit,
                                    format!(
                                        "WSP: request retransmitted more than \
                                         {MAX_RETRANSMISSION_FRAMES} times; later frames are \
                                         not listed"
                                    ),
                                )
                                .at_frame(frame),
                            );
                        }
                        return;
                    }
                    self.flush_pending(key);
                }
                if self.pending.len() >= self.limits.max_pending_requests {
                    diags.push(
                        Diagnostic::new(
                            Layer::Limit,
                            format!(
                                "WSP: more than {} requests awaiting a reply; the oldest is handed out unanswered",
                                self.limits.max_pending_requests
                            ),
                        )
                        .at_frame(frame),
                    );
                    let oldest = self
                        .pending
                        .iter()
                        .min_by_key(|(_, p)| p.start)
                        .map(|(k, _)| *k);
                    if let Some(oldest) = oldest {
                        self.flush_pending(oldest);
                    }
                }
                self.pending.insert(
                    key,
                    PendingRequest {
                        request,
                        start: ts,
                        frames_capped: false,
                    },
                );
            }
            WspPduBody::Reply { .. } => {
                let Some(response) = build_response(&pdu.body, arrival, max_body, diags) else {
                    return;
                };
                let request = self.pending.remove(&(flow_id, tid)).map(|p| p.request);
                self.emit(
                    flow_id,
                    WspMode::Connectionless,
                    u16::from(tid),
                    request,
                    Some(response),
                    None,
                    None,
                );
            }
            WspPduBody::Push { .. } => {
                let Some(content) = build_response(&pdu.body, arrival, max_body, diags) else {
                    return;
                };
                let _ = push_port;
                self.emit(
                    flow_id,
                    WspMode::Connectionless,
                    u16::from(tid),
                    None,
                    Some(content),
                    None,
                    None,
                );
            }
            other => diags.push(
                Diagnostic::new(
                    Layer::Wsp,
                    format!("{} PDU is not used in connectionless mode", other.name()),
                )
                .at_frame(frame),
            ),
        }
    }

    fn flush_pending(&mut self, key: (u64, u8)) {
        if let Some(p) = self.pending.remove(&key) {
            self.emit(
                key.0,
                WspMode::Connectionless,
                u16::from(key.1),
                Some(p.request),
                None,
                None,
                None,
            );
        }
    }

    /// Requests unanswered past the idle timeout are handed out without a reply.
    fn expire_pending(&mut self, now: Timestamp) {
        // At most once per second of capture time: the scan is linear in pending requests.
        if self
            .last_expiry
            .is_some_and(|last| now.secs_since(&last) < 1)
        {
            return;
        }
        self.last_expiry = Some(now);
        let timeout = self.limits.sar.idle_timeout_secs;
        let expired: Vec<(u64, u8)> = self
            .pending
            .iter()
            .filter(|(_, p)| now.secs_since(&p.start) > timeout)
            .map(|(k, _)| *k)
            .collect();
        for key in expired {
            self.flush_pending(key);
        }
    }

    // -----------------------------------------------------------------------------------------
    // Connection-oriented

    fn on_transaction(&mut self, tx: WtpTransaction, diags: &mut Vec<Diagnostic>) {
        let max_body = self.limits.max_body_bytes;
        let parse = |msg: &WtpMessage, diags: &mut Vec<Diagnostic>| -> Option<Vec<u8>> {
            if msg.data.is_empty() {
                return None;
            }
            match parse_connection_oriented(&msg.data) {
                Ok(_) => Some(msg.data.clone()),
                Err(e) => {
                    let note = if msg.complete {
                        String::new()
                    } else {
                        format!(" (message incomplete, missing PSN {:?})", msg.missing_psn)
                    };
                    diags.push(
                        Diagnostic::new(Layer::Wsp, format!("TID {}: {e}{note}", msg.tid))
                            .at_frame(msg.last_frame),
                    );
                    None
                }
            }
        };
        let invoke_data = tx.invoke.as_ref().and_then(|m| parse(m, diags));
        let result_data = tx.result.as_ref().and_then(|m| parse(m, diags));
        let invoke_pdu = invoke_data
            .as_deref()
            .and_then(|d| parse_connection_oriented(d).ok());
        let result_pdu = result_data
            .as_deref()
            .and_then(|d| parse_connection_oriented(d).ok());
        let arrival = |m: &WtpMessage| Arrival {
            direction: m.direction,
            frames: m.frames.clone(),
            last_frame: m.last_frame,
            time: m.last_time,
            first_time: m.first_time,
            complete: m.complete,
        };

        // Session set-up and tear-down.
        if let Some(WspPdu {
            body:
                WspPduBody::Connect {
                    version,
                    capabilities,
                    headers,
                },
            ..
        }) = &invoke_pdu
        {
            let frame = tx.invoke.as_ref().map_or(0, |m| m.last_frame);
            if !self.sessions.contains_key(&tx.flow_id)
                && self.sessions.len() >= self.limits.max_sessions
            {
                diags.push(
                    Diagnostic::new(
                        Layer::Limit,
                        format!(
                            "WSP: more than {} sessions tracked; one is forgotten",
                            self.limits.max_sessions
                        ),
                    )
                    .at_frame(frame),
                );
                if let Some(first) = self.sessions.keys().next().copied() {
                    self.sessions.remove(&first);
                }
            }
            let session = self.sessions.entry(tx.flow_id).or_default();
            session.version = Some(*version);
            session.disconnected = false;
            match parse_capabilities(capabilities) {
                Ok(caps) => {
                    session.client_capabilities = CapabilitySummary::from_capabilities(&caps)
                }
                Err(e) => diags.push(Diagnostic::new(Layer::Wsp, e.to_string()).at_frame(frame)),
            }
            session.connect_headers = pairs(&decode_headers(headers, frame, diags));
            if let Some(WspPdu {
                body:
                    WspPduBody::ConnectReply {
                        session_id,
                        capabilities,
                        ..
                    },
                ..
            }) = &result_pdu
            {
                let frame = tx.result.as_ref().map_or(0, |m| m.last_frame);
                session.session_id = Some(*session_id);
                match parse_capabilities(capabilities) {
                    Ok(caps) => {
                        session.server_capabilities = CapabilitySummary::from_capabilities(&caps);
                    }
                    Err(e) => {
                        diags.push(Diagnostic::new(Layer::Wsp, e.to_string()).at_frame(frame));
                    }
                }
            }
            return;
        }
        if let Some(WspPdu {
            body: WspPduBody::Disconnect { .. },
            ..
        }) = &invoke_pdu
        {
            if let Some(s) = self.sessions.get_mut(&tx.flow_id) {
                s.disconnected = true;
            }
            return;
        }

        let push_pdu = invoke_pdu
            .as_ref()
            .filter(|p| matches!(p.body, WspPduBody::Push { .. }));
        if let (Some(pdu), Some(msg)) = (push_pdu, tx.invoke.as_ref()) {
            let confirmed = matches!(
                pdu.body,
                WspPduBody::Push {
                    confirmed: true,
                    ..
                }
            );
            if let Some(content) = build_response(&pdu.body, arrival(msg), max_body, diags) {
                self.emit(
                    tx.flow_id,
                    WspMode::ConnectionOriented,
                    tx.tid,
                    None,
                    Some(content),
                    tx.aborted,
                    Some(confirmed),
                );
            }
            return;
        }

        let request = match (&invoke_pdu, tx.invoke.as_ref()) {
            (Some(pdu), Some(msg))
                if matches!(pdu.body, WspPduBody::Get { .. } | WspPduBody::Post { .. }) =>
            {
                build_request(pdu, arrival(msg), max_body, diags)
            }
            (Some(pdu), Some(msg)) => {
                diags.push(
                    Diagnostic::new(
                        Layer::Wsp,
                        format!(
                            "TID {}: {} PDU in a WTP Invoke ignored",
                            tx.tid,
                            pdu.body.name()
                        ),
                    )
                    .at_frame(msg.last_frame),
                );
                return;
            }
            _ => None,
        };
        let response = match (&result_pdu, tx.result.as_ref()) {
            (Some(pdu), Some(msg)) if matches!(pdu.body, WspPduBody::Reply { .. }) => {
                build_response(&pdu.body, arrival(msg), max_body, diags)
            }
            (Some(pdu), Some(msg)) => {
                diags.push(
                    Diagnostic::new(
                        Layer::Wsp,
                        format!(
                            "TID {}: {} PDU in a WTP Result ignored",
                            tx.tid,
                            pdu.body.name()
                        ),
                    )
                    .at_frame(msg.last_frame),
                );
                None
            }
            _ => None,
        };
        // A request whose Invoke arrived incomplete and could not be parsed still leaves a trace:
        // without it nothing would show that a transaction took place.
        if request.is_none() && response.is_none() {
            return;
        }
        self.emit(
            tx.flow_id,
            WspMode::ConnectionOriented,
            tx.tid,
            request,
            response,
            tx.aborted,
            None,
        );
    }

    // -----------------------------------------------------------------------------------------
    // WTLS

    fn on_wtls(
        &mut self,
        flow_id: u64,
        push: bool,
        bytes: &[u8],
        frame: u64,
        ts: Timestamp,
        diags: &mut Vec<Diagnostic>,
    ) {
        if !self.wtls.contains_key(&flow_id) && self.wtls.len() >= self.limits.max_wtls_flows {
            diags.push(
                Diagnostic::new(
                    Layer::Limit,
                    format!(
                        "WTLS: more than {} flows tracked; the oldest is handed out",
                        self.limits.max_wtls_flows
                    ),
                )
                .at_frame(frame),
            );
            let oldest = self.wtls.iter().min_by_key(|(_, s)| s.end).map(|(k, _)| *k);
            if let Some(oldest) = oldest {
                if let Some(state) = self.wtls.remove(&oldest) {
                    self.push_wtls(oldest, state);
                }
            }
        }
        let state = self.wtls.entry(flow_id).or_insert_with(|| WtlsState {
            push,
            summary: WtlsSummary::default(),
            first_frame: frame,
            last_frame: frame,
            start: ts,
            end: ts,
        });
        state.summary.on_datagram(bytes, frame, diags);
        state.last_frame = state.last_frame.max(frame);
        state.end = state.end.max(ts);
    }

    fn push_wtls(&mut self, flow_id: u64, state: WtlsState) {
        self.out.wtls_flows.push(WtlsFlow {
            flow_id,
            push: state.push,
            summary: state.summary,
            first_frame: state.first_frame,
            last_frame: state.last_frame,
            start: state.start,
            end: state.end,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        flow_id: u64,
        mode: WspMode,
        tid: u16,
        request: Option<WspRequest>,
        response: Option<WspResponse>,
        aborted: Option<AbortReason>,
        confirmed_push: Option<bool>,
    ) {
        let push = confirmed_push.is_some() || (request.is_none() && response_is_push(&response));
        let complete = request.as_ref().is_none_or(|r| r.complete)
            && response.as_ref().is_none_or(|r| r.complete)
            && (push || (request.is_some() && response.is_some()))
            && aborted.is_none();
        let frames = [
            request.as_ref().map(|r| {
                (
                    r.frames.first().copied(),
                    r.last_frame,
                    r.first_time,
                    r.time,
                )
            }),
            response.as_ref().map(|r| {
                (
                    r.frames.first().copied(),
                    r.last_frame,
                    r.first_time,
                    r.time,
                )
            }),
        ];
        let first_frame = frames
            .iter()
            .flatten()
            .filter_map(|(f, _, _, _)| *f)
            .min()
            .unwrap_or(0);
        let last_frame = frames
            .iter()
            .flatten()
            .map(|(_, l, _, _)| *l)
            .max()
            .unwrap_or(0);
        let start = frames
            .iter()
            .flatten()
            .map(|(_, _, t, _)| *t)
            .min()
            .unwrap_or_default();
        let end = frames
            .iter()
            .flatten()
            .map(|(_, _, _, t)| *t)
            .max()
            .unwrap_or_default();
        let session_id = match mode {
            WspMode::ConnectionOriented => self.sessions.get(&flow_id).and_then(|s| s.session_id),
            WspMode::Connectionless => None,
        };
        self.out.exchanges.push(WspExchange {
            flow_id,
            mode,
            tid,
            request,
            response,
            push,
            confirmed_push: confirmed_push.unwrap_or(false),
            complete,
            session_id,
            aborted,
            first_frame,
            last_frame,
            start,
            end,
        });
    }
}

fn response_is_push(response: &Option<WspResponse>) -> bool {
    response.as_ref().is_some_and(|r| r.wsp_status.is_none())
}

fn build_request(
    pdu: &WspPdu<'_>,
    arrival: Arrival,
    max_body: usize,
    diags: &mut Vec<Diagnostic>,
) -> Option<WspRequest> {
    let frame = arrival.last_frame;
    let (pdu_type, uri, raw_headers, content_type, data) = match &pdu.body {
        WspPduBody::Get {
            pdu_type,
            uri,
            headers,
        } => (*pdu_type, *uri, *headers, None, &[][..]),
        WspPduBody::Post {
            pdu_type,
            uri,
            content,
        } => (
            *pdu_type,
            *uri,
            content.headers,
            Some(content.content_type.clone()),
            content.data,
        ),
        _ => return None,
    };
    let (body, whole) = cap_body(data, max_body);
    if !whole {
        diags.push(
            Diagnostic::new(
                Layer::Limit,
                format!("WSP request body larger than {max_body} bytes; cut"),
            )
            .at_frame(frame),
        );
    }
    let typed_headers = decode_headers(raw_headers, frame, diags);
    Some(WspRequest {
        method: method_string(pdu_type),
        pdu_type,
        uri: lossy(uri),
        headers: pairs(&typed_headers),
        typed_headers,
        raw_headers: raw_headers.to_vec(),
        content_type,
        body,
        direction: arrival.direction,
        frames: arrival.frames,
        last_frame: arrival.last_frame,
        time: arrival.time,
        first_time: arrival.first_time,
        complete: arrival.complete && whole,
    })
}

fn build_response(
    body: &WspPduBody<'_>,
    arrival: Arrival,
    max_body: usize,
    diags: &mut Vec<Diagnostic>,
) -> Option<WspResponse> {
    let frame = arrival.last_frame;
    let (wsp_status, content): (Option<u8>, &WspContent<'_>) = match body {
        WspPduBody::Reply { status, content } => (Some(*status), content),
        WspPduBody::Push { content, .. } => (None, content),
        _ => return None,
    };
    let (data, whole) = cap_body(content.data, max_body);
    if !whole {
        diags.push(
            Diagnostic::new(
                Layer::Limit,
                format!("WSP reply body larger than {max_body} bytes; cut"),
            )
            .at_frame(frame),
        );
    }
    let status = wsp_status.and_then(http_status);
    if let (Some(code), None) = (wsp_status, status) {
        diags.push(
            Diagnostic::new(
                Layer::Wsp,
                format!("WSP status {code:#04x} is not assigned"),
            )
            .at_frame(frame),
        );
    }
    let typed_headers = decode_headers(content.headers, frame, diags);
    Some(WspResponse {
        status,
        wsp_status,
        headers: pairs(&typed_headers),
        typed_headers,
        raw_headers: content.headers.to_vec(),
        content_type: Some(content.content_type.clone()),
        body: data,
        direction: arrival.direction,
        frames: arrival.frames,
        last_frame: arrival.last_frame,
        time: arrival.time,
        first_time: arrival.first_time,
        complete: arrival.complete && whole,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64) -> Timestamp {
        Timestamp::new(s, 0, 6)
    }

    #[test]
    fn ports() {
        assert_eq!(
            classify_ports(9200, 40000),
            Some(WapPortRole::ConnectionlessWsp { push: false })
        );
        assert_eq!(
            classify_ports(40000, 2948),
            Some(WapPortRole::ConnectionlessWsp { push: true })
        );
        assert_eq!(classify_port(9201), Some(WapPortRole::Wtp { push: false }));
        assert_eq!(classify_port(9203), Some(WapPortRole::Wtls { push: false }));
        assert_eq!(classify_port(2951), Some(WapPortRole::Wtls { push: true }));
        assert_eq!(classify_port(80), None);
    }

    #[test]
    fn application_ids() {
        assert!(is_mms_application_id("x-wap-application:mms.ua"));
        assert!(is_mms_application_id("4"));
        assert!(is_mms_application_id("0x04"));
        assert!(!is_mms_application_id("x-wap-application:wml.ua"));
        assert!(is_mms_content_type(&ContentType::new(
            "application/vnd.wap.mms-message"
        )));
    }

    #[test]
    fn connectionless_get_reply_pairing() {
        let mut s = WapSessions::new(WapLimits::default());
        let mut d = Vec::new();
        let role = WapPortRole::ConnectionlessWsp { push: false };
        // TID 7 Get "/a"; TID 8 Get "/b"; Reply to 8 then to 7.
        s.on_datagram(
            1,
            Direction::ToServer,
            role,
            &[7, 0x40, 2, b'/', b'a'],
            1,
            ts(0),
            &mut d,
        );
        s.on_datagram(
            1,
            Direction::ToServer,
            role,
            &[8, 0x40, 2, b'/', b'b'],
            2,
            ts(0),
            &mut d,
        );
        s.on_datagram(
            1,
            Direction::ToClient,
            role,
            &[8, 0x04, 0x20, 1, 0x88, b'B'],
            3,
            ts(1),
            &mut d,
        );
        s.on_datagram(
            1,
            Direction::ToClient,
            role,
            &[7, 0x04, 0x44, 1, 0x88, b'A'],
            4,
            ts(1),
            &mut d,
        );
        let out = s.finish(&mut d);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(out.exchanges.len(), 2);
        let a = &out.exchanges[0];
        assert_eq!(a.request.as_ref().unwrap().uri, "/a");
        assert_eq!(a.response.as_ref().unwrap().status, Some(404));
        assert_eq!(a.response.as_ref().unwrap().body, b"A");
        assert_eq!((a.first_frame, a.last_frame), (1, 4));
        assert!(a.complete && !a.push);
        assert_eq!(a.mode.transport(), "wsp");
        let b = &out.exchanges[1];
        assert_eq!(b.request.as_ref().unwrap().uri, "/b");
        assert_eq!(b.response.as_ref().unwrap().status, Some(200));
    }

    #[test]
    fn endless_retransmissions_list_a_bounded_number_of_frames() {
        let mut s = WapSessions::new(WapLimits::default());
        let mut d = Vec::new();
        let role = WapPortRole::ConnectionlessWsp { push: false };
        let total = MAX_RETRANSMISSION_FRAMES as u64 + 500;
        for frame in 1..=total {
            s.on_datagram(
                1,
                Direction::ToServer,
                role,
                &[7, 0x40, 2, b'/', b'a'],
                frame,
                ts(0),
                &mut d,
            );
        }
        let out = s.finish(&mut d);
        assert_eq!(out.exchanges.len(), 1);
        let frames = &out.exchanges[0].request.as_ref().unwrap().frames;
        assert_eq!(frames.len(), MAX_RETRANSMISSION_FRAMES);
        assert_eq!(frames.first(), Some(&1));
        let said: Vec<_> = d
            .iter()
            .filter(|x| x.message.contains("retransmitted more than"))
            .collect();
        assert_eq!(said.len(), 1, "{d:?}");
        assert_eq!(said[0].frame, Some(MAX_RETRANSMISSION_FRAMES as u64 + 1));
    }

    #[test]
    fn unanswered_request_is_incomplete() {
        let mut s = WapSessions::new(WapLimits::default());
        let mut d = Vec::new();
        let role = WapPortRole::ConnectionlessWsp { push: false };
        s.on_datagram(
            1,
            Direction::ToServer,
            role,
            &[7, 0x40, 2, b'/', b'a'],
            1,
            ts(0),
            &mut d,
        );
        s.on_datagram(
            1,
            Direction::ToServer,
            role,
            &[7, 0x40, 2, b'/', b'a'],
            2,
            ts(1),
            &mut d,
        );
        let out = s.finish(&mut d);
        assert_eq!(out.exchanges.len(), 1);
        assert!(!out.exchanges[0].complete);
        assert_eq!(
            out.exchanges[0].request.as_ref().unwrap().frames,
            vec![1, 2]
        );
    }
}
