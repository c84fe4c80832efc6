//! Routes flow events to the protocol state machines and collects what they produce.
//!
//! UDP flows are classified by port (WAP: 9200/2948 connectionless WSP, 9201/2949 WTP,
//! 9202/9203/2950/2951 WTLS); TCP flows by their first bytes, on any port (HTTP request or status
//! line, TLS record). A flow that is none of these is ignored: the flow table stops copying its
//! bytes.

use crate::diag::Diagnostic;
use crate::flow::event::{FlowEvent, FlowId, FlowInfo, FlowSink, Verdict};
use crate::flow::key::IpProtocol;
use crate::proto::http::{HttpConnection, HttpExchange, HttpLimits};
use crate::proto::tls::TlsInfo;
use crate::proto::wsp::session::{
    WapLimits, WapPortRole, WapSessions, WspExchange, WtlsFlow, classify_ports,
};
use crate::time::Timestamp;
use std::collections::HashMap;

/// Maps keyed by flow ids (sequential numbers, not chosen by the capture).
type IdMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Settings of the protocol stage.
#[derive(Debug, Clone)]
pub struct ProtoConfig {
    pub wap: WapLimits,
    pub http: HttpLimits,
    /// HTTP body bytes held by all the connections of one dispatcher together (bodies being
    /// read, and of requests waiting for their response). Past it, a body is cut as at
    /// [`HttpLimits::max_body_bytes`], with a diagnostic: the per-connection caps alone would
    /// let memory follow the number of connections.
    pub max_http_body_total: usize,
}

/// [`ProtoConfig::max_http_body_total`] by default.
pub const DEFAULT_MAX_HTTP_BODY_TOTAL: usize = 1 << 30;

impl Default for ProtoConfig {
    fn default() -> Self {
        ProtoConfig {
            wap: WapLimits::default(),
            // Bodies that are declared not to be MMS are not needed: skip them.
            http: HttpLimits {
                keep_non_mms_bodies: false,
                ..HttpLimits::default()
            },
            max_http_body_total: DEFAULT_MAX_HTTP_BODY_TOTAL,
        }
    }
}

/// HTTP exchanges of one TCP flow.
#[derive(Debug)]
pub struct HttpFlow {
    pub flow_id: u64,
    /// Requests travelled from the side the flow table called the server.
    pub roles_swapped: bool,
    pub exchanges: Vec<HttpExchange>,
}

/// A TLS connection (direct, or inside an HTTP CONNECT tunnel).
#[derive(Debug)]
pub struct TlsFlow {
    pub flow_id: u64,
    pub info: TlsInfo,
    pub first_frame: u64,
    pub last_frame: u64,
    pub start: Timestamp,
    pub end: Timestamp,
}

/// Fragmented WAP datagrams whose frames are remembered until their exchange completes.
const MAX_FRAGMENTED_DATAGRAMS: usize = 65_536;

/// What one input's protocol stage produced, with the flows it came from.
#[derive(Debug, Default)]
pub struct ProtoOutput {
    pub wsp: Vec<WspExchange>,
    pub wtls: Vec<WtlsFlow>,
    pub http: Vec<HttpFlow>,
    pub tls: Vec<TlsFlow>,
    /// Every flow that produced something, by id.
    pub flows: HashMap<u64, FlowInfo>,
    pub diagnostics: Vec<Diagnostic>,
}

enum FlowProto {
    Wap(WapPortRole),
    Tcp(Box<TcpState>),
}

struct TcpState {
    conn: HttpConnection,
    exchanges: Vec<HttpExchange>,
    first_frame: u64,
    last_frame: u64,
    start: Timestamp,
    end: Timestamp,
}

impl TcpState {
    /// Moves finished exchanges out of the connection. Bodies of exchanges that carry no MMS are
    /// dropped at once: only the heads are needed later (a GET of a content location).
    fn collect(&mut self) {
        for mut ex in self.conn.take_exchanges() {
            if ex.mms_bodies().is_empty() {
                if !may_be_retrieval(&ex) {
                    continue;
                }
                if let Some(r) = &mut ex.request {
                    r.body = Vec::new();
                }
                if let Some(r) = &mut ex.response {
                    r.body = Vec::new();
                }
            }
            self.exchanges.push(ex);
        }
    }
}

/// Hands out the exchanges a TCP flow has finished, with the flow's details, instead of holding
/// them (with their MMS bodies) until the flow ends: a persistent connection (a WAP gateway's
/// to its MMSC) may carry thousands of messages and never close within the capture, and
/// memory must follow the messages in flight, not the capture. Each exchange becomes a
/// transfer of its own, so handing them out in several parts changes no report.
fn hand_out_exchanges(
    flow: FlowId,
    state: &mut TcpState,
    infos: &IdMap<u64, FlowInfo>,
    out: &mut ProtoOutput,
) {
    if state.exchanges.is_empty() {
        return;
    }
    let Some(info) = infos.get(&flow.0) else {
        return;
    };
    out.flows.insert(flow.0, info.clone());
    out.http.push(HttpFlow {
        flow_id: flow.0,
        roles_swapped: state.conn.roles_swapped(),
        exchanges: std::mem::take(&mut state.exchanges),
    });
}

/// Whether an exchange that carried no MMS PDU may still be the retrieval of a content location
/// (one that failed): a GET answered by nothing, by an error, or by an MMS or generic type. A GET
/// answered with a web page or an image is ordinary browsing and is dropped at once, so memory
/// follows the MMS traffic rather than the capture.
fn may_be_retrieval(ex: &HttpExchange) -> bool {
    let Some(req) = &ex.request else {
        return false;
    };
    if !req.method.eq_ignore_ascii_case("GET") {
        return false;
    }
    match &ex.response {
        None => true,
        Some(resp) => {
            !(200..300).contains(&resp.status)
                || resp.content_type.as_deref().is_none_or(|ct| {
                    crate::proto::http::is_mms_content_type(ct)
                        || crate::proto::http::is_generic_content_type(Some(ct))
                })
        }
    }
}

/// The [`FlowSink`] of one input.
pub struct Dispatcher {
    flows: IdMap<FlowId, FlowProto>,
    /// For WAP datagrams that were IP-fragmented: the frames of their other fragments, so the
    /// transfer cites every frame its bytes came from. Bounded by [`MAX_FRAGMENTED_DATAGRAMS`].
    fragments: IdMap<u64, Vec<u64>>,
    infos: IdMap<u64, FlowInfo>,
    wap: WapSessions,
    http_limits: HttpLimits,
    /// Body bytes held by all HTTP connections, and the most they may hold together.
    http_held: usize,
    http_budget: usize,
    out: ProtoOutput,
}

impl Dispatcher {
    pub fn new(config: &ProtoConfig) -> Self {
        Dispatcher {
            flows: IdMap::default(),
            fragments: IdMap::default(),
            infos: IdMap::default(),
            wap: WapSessions::new(config.wap),
            http_limits: config.http,
            http_held: 0,
            http_budget: config.max_http_body_total,
            out: ProtoOutput::default(),
        }
    }

    fn collect_wap(&mut self) {
        let produced = self.wap.take_output();
        self.keep(produced);
    }

    fn keep(&mut self, mut produced: crate::proto::wsp::session::WapOutput) {
        if !self.fragments.is_empty() {
            for ex in &mut produced.exchanges {
                let mut first = ex.first_frame;
                let halves = [
                    ex.request.as_mut().map(|r| &mut r.frames),
                    ex.response.as_mut().map(|r| &mut r.frames),
                ];
                for frames in halves.into_iter().flatten() {
                    let extra: Vec<u64> = frames
                        .iter()
                        .filter_map(|f| self.fragments.remove(f))
                        .flatten()
                        .collect();
                    if !extra.is_empty() {
                        frames.extend(extra);
                        frames.sort_unstable();
                        frames.dedup();
                        first = first.min(frames.first().copied().unwrap_or(first));
                    }
                }
                ex.first_frame = first;
            }
        }
        for ex in &produced.exchanges {
            if let Some(info) = self.infos.get(&ex.flow_id) {
                self.out.flows.insert(ex.flow_id, info.clone());
            }
        }
        for w in &produced.wtls_flows {
            if let Some(info) = self.infos.get(&w.flow_id) {
                self.out.flows.insert(w.flow_id, info.clone());
            }
        }
        self.out.wsp.extend(produced.exchanges);
        self.out.wtls.extend(produced.wtls_flows);
    }

    /// Runs `op` on a TCP flow's connection (first noting `at`, the frame and time of what it
    /// is given), with the room for more bodies that the total for all connections leaves; then
    /// hands out the exchanges it finished and counts the bodies it holds afterwards. Whether
    /// the connection wants more bytes; `None` when the flow is not a TCP one this dispatcher
    /// follows.
    fn drive_tcp(
        &mut self,
        flow: FlowId,
        at: Option<(u64, Timestamp)>,
        op: impl FnOnce(&mut HttpConnection, &mut Vec<Diagnostic>),
    ) -> Option<bool> {
        let Some(FlowProto::Tcp(state)) = self.flows.get_mut(&flow) else {
            return None;
        };
        if let Some((frame, ts)) = at {
            state.last_frame = frame;
            state.end = ts;
        }
        let before = state.conn.body_bytes_held();
        state
            .conn
            .set_shared_room(self.http_budget.saturating_sub(self.http_held));
        op(&mut state.conn, &mut self.out.diagnostics);
        state.collect();
        hand_out_exchanges(flow, state, &self.infos, &mut self.out);
        self.http_held = self
            .http_held
            .saturating_sub(before)
            .saturating_add(state.conn.body_bytes_held());
        Some(state.conn.wants_data())
    }

    /// Hands out what a TCP flow produced when it ends: closed at `closed` (frame and time),
    /// or at the end of input. The bodies it holds leave the total with it.
    fn end_tcp(
        &mut self,
        flow: FlowId,
        mut state: Box<TcpState>,
        closed: Option<(u64, Timestamp)>,
    ) {
        self.http_held = self.http_held.saturating_sub(state.conn.body_bytes_held());
        if let Some((frame, ts)) = closed {
            if frame >= state.last_frame {
                state.last_frame = frame;
                state.end = ts;
            }
            state
                .conn
                .on_close(None, frame, ts, &mut self.out.diagnostics);
        }
        state.collect();
        let rest = state.conn.finish(&mut self.out.diagnostics);
        state.exchanges.extend(rest);
        let mut produced = false;
        if !state.exchanges.is_empty() {
            self.out.http.push(HttpFlow {
                flow_id: flow.0,
                roles_swapped: state.conn.roles_swapped(),
                exchanges: std::mem::take(&mut state.exchanges),
            });
            produced = true;
        }
        if let Some(info) = state.conn.tls() {
            self.out.tls.push(TlsFlow {
                flow_id: flow.0,
                info: info.clone(),
                first_frame: state.first_frame,
                last_frame: state.last_frame,
                start: state.start,
                end: state.end,
            });
            produced = true;
        }
        match self.infos.remove(&flow.0) {
            Some(info) if produced => {
                self.out.flows.insert(flow.0, info);
            }
            _ => {}
        }
    }

    /// Hands out what has been produced so far (completed exchanges, ended flows), so that the
    /// caller can turn it into transfers and free it while the capture is still being read.
    pub fn take_output(&mut self) -> ProtoOutput {
        ProtoOutput {
            wsp: std::mem::take(&mut self.out.wsp),
            wtls: std::mem::take(&mut self.out.wtls),
            http: std::mem::take(&mut self.out.http),
            tls: std::mem::take(&mut self.out.tls),
            flows: std::mem::take(&mut self.out.flows),
            diagnostics: std::mem::take(&mut self.out.diagnostics),
        }
    }

    /// Ends every flow and returns what was produced.
    pub fn finish(mut self) -> ProtoOutput {
        let mut open: Vec<(FlowId, FlowProto)> = self.flows.drain().collect();
        open.sort_by_key(|(id, _)| *id);
        for (id, proto) in open {
            if let FlowProto::Tcp(state) = proto {
                self.end_tcp(id, state, None);
            }
        }
        let produced = self.wap.finish(&mut self.out.diagnostics);
        self.keep(produced);
        self.out
    }
}

impl FlowSink for Dispatcher {
    fn event(&mut self, ev: FlowEvent<'_>) -> Verdict {
        match ev {
            FlowEvent::Open { flow, info } => {
                let proto = match info.protocol {
                    IpProtocol::Udp => {
                        classify_ports(info.server.port(), info.client.port()).map(FlowProto::Wap)
                    }
                    // HTTP and TLS are recognised from the first bytes, on any port.
                    IpProtocol::Tcp => Some(FlowProto::Tcp(Box::new(TcpState {
                        conn: HttpConnection::new(self.http_limits),
                        exchanges: Vec::new(),
                        first_frame: info.first_frame,
                        last_frame: info.first_frame,
                        start: info.first_ts,
                        end: info.first_ts,
                    }))),
                };
                match proto {
                    Some(p) => {
                        self.flows.insert(flow, p);
                        self.infos.insert(flow.0, info.clone());
                        Verdict::Continue
                    }
                    None => Verdict::Ignore,
                }
            }
            FlowEvent::Datagram {
                flow,
                dir,
                bytes,
                frame,
                ts,
                fragment_frames,
                ..
            } => match self.flows.get(&flow) {
                Some(FlowProto::Wap(role)) => {
                    let role = *role;
                    if !fragment_frames.is_empty()
                        && self.fragments.len() < MAX_FRAGMENTED_DATAGRAMS
                    {
                        self.fragments.insert(frame, fragment_frames.to_vec());
                    }
                    self.wap.on_datagram(
                        flow.0,
                        dir,
                        role,
                        bytes,
                        frame,
                        ts,
                        &mut self.out.diagnostics,
                    );
                    self.collect_wap();
                    Verdict::Continue
                }
                _ => Verdict::Ignore,
            },
            FlowEvent::Data {
                flow,
                dir,
                bytes,
                frame,
                ts,
            } => {
                // Neither HTTP nor TLS, or TLS past its hellos: the flow table stops copying its
                // bytes (its close still arrives).
                match self.drive_tcp(flow, Some((frame, ts)), |c, diags| {
                    c.on_data(dir, bytes, frame, ts, diags)
                }) {
                    Some(true) => Verdict::Continue,
                    _ => Verdict::Ignore,
                }
            }
            FlowEvent::Gap {
                flow,
                dir,
                len,
                frame,
                ts,
            } => match self.drive_tcp(flow, Some((frame, ts)), |c, diags| {
                c.on_gap(dir, len, frame, ts, diags)
            }) {
                Some(_) => Verdict::Continue,
                None => Verdict::Ignore,
            },
            FlowEvent::Close {
                flow,
                dir,
                frame,
                ts,
                ..
            } => {
                match dir {
                    Some(d) => {
                        self.drive_tcp(flow, None, |c, diags| {
                            c.on_close(Some(d), frame, ts, diags)
                        });
                    }
                    None => match self.flows.remove(&flow) {
                        Some(FlowProto::Wap(_)) => {
                            self.wap.end_flow(flow.0, ts, &mut self.out.diagnostics);
                            self.collect_wap();
                            // What the flow produced carries its own copy of the info.
                            self.infos.remove(&flow.0);
                        }
                        Some(FlowProto::Tcp(state)) => {
                            self.end_tcp(flow, state, Some((frame, ts)));
                        }
                        None => {
                            self.infos.remove(&flow.0);
                        }
                    },
                }
                Verdict::Continue
            }
        }
    }
}
