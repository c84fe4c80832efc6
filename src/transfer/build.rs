//! Turns protocol exchanges into transfers: endpoints and tunnel from the flow, request and
//! response from the exchange, and every MMS body decoded into PDUs with their parts.

use super::{PartContent, TransferRecord};
use crate::diag::{Diagnostic, Layer};
use crate::flow::Direction;
use crate::flow::event::FlowInfo;
use crate::proto::dispatch::{HttpFlow, TlsFlow};
use crate::proto::http::HttpExchange;
use crate::proto::mms::{self, DecodeContext};
use crate::proto::wsp::multipart::MultipartLimits;
use crate::proto::wsp::session::{WspExchange, WtlsFlow};
use crate::report::model::{
    Endpoint, PartReport, PduReport, RequestReport, ResponseReport, Transfer, TunnelReport,
};
use crate::time::Timestamp;
use std::collections::BTreeMap;

/// Settings of the transfer stage.
#[derive(Debug, Clone, Copy)]
pub struct TransferConfig {
    pub multipart: MultipartLimits,
    /// Keep each PDU's field-by-field description (`inspect`).
    pub keep_details: bool,
    /// Keep each PDU's bytes (`--extract-pdus`).
    pub keep_pdu_bytes: bool,
    /// PDUs and requests tied into one message at most (see
    /// [`Correlation::build`](super::correlate::Correlation::build)).
    pub max_message_members: usize,
}

impl Default for TransferConfig {
    fn default() -> Self {
        TransferConfig {
            multipart: MultipartLimits::default(),
            keep_details: false,
            keep_pdu_bytes: false,
            max_message_members: super::correlate::DEFAULT_MAX_MESSAGE_MEMBERS,
        }
    }
}

/// A transfer being assembled, before ids are assigned.
pub struct Builder<'a> {
    pub input: &'a str,
    pub input_index: usize,
    pub config: TransferConfig,
    pub diagnostics: Vec<Diagnostic>,
}

fn endpoint(addr: std::net::SocketAddr) -> Endpoint {
    Endpoint {
        ip: addr.ip(),
        port: addr.port(),
    }
}

fn tunnel(info: &FlowInfo, swap: bool) -> Option<TunnelReport> {
    info.tunnel.map(|t| TunnelReport {
        kind: "gtp-u",
        teid: t.teid,
        outer_client: if swap { t.outer_server } else { t.outer_client },
        outer_server: if swap { t.outer_client } else { t.outer_server },
    })
}

/// What decoding one MMS body gave.
pub struct DecodedPdu {
    pub report: PduReport,
    pub details: Vec<(String, String)>,
    pub parts: Vec<PartContent>,
    pub texts: Vec<(usize, String)>,
}

/// Decodes one MMS body that arrived complete in `frame` at `capture_time` (relative times in
/// the PDU are resolved against it; a raw PDU file has none).
pub fn decode_pdu(
    bytes: &[u8],
    frame: u64,
    direction: Direction,
    capture_time: Option<Timestamp>,
    config: &TransferConfig,
    diags: &mut Vec<Diagnostic>,
) -> Option<DecodedPdu> {
    let ctx = DecodeContext {
        capture_time,
        limits: config.multipart,
    };
    let pdu = match mms::decode(bytes, &ctx) {
        Ok(p) => p,
        Err(e) => {
            diags.push(Diagnostic::new(Layer::Mms, e.to_string()).at_frame(frame));
            return None;
        }
    };
    for issue in &pdu.issues {
        diags.push(
            Diagnostic::new(
                Layer::Mms,
                format!("{} at PDU offset {}", issue.message, issue.offset),
            )
            .at_frame(frame),
        );
    }
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in pdu.other_headers() {
        headers
            .entry(name)
            .and_modify(|v| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let mut parts = Vec::new();
    let mut texts = Vec::new();
    let mut part_reports = Vec::new();
    for p in pdu.parts() {
        part_reports.push(PartReport {
            index: p.index,
            content_type: p.content_type.media.clone(),
            name: p.name.clone(),
            content_id: p.content_id.clone(),
            content_location: p.content_location.clone(),
            charset: p.charset.clone(),
            size: p.size as u64,
            sha256: p.sha256.clone(),
            extracted_to: None,
        });
        if let Some(text) = p.text() {
            texts.push((p.index, text));
        }
        parts.push(PartContent {
            pdu: 0,
            part: p.index,
            content_type: p.content_type.media.clone(),
            charset: p.charset.clone(),
            data: p.data.clone(),
        });
    }
    Some(DecodedPdu {
        details: if config.keep_details {
            pdu.describe()
        } else {
            Vec::new()
        },
        report: PduReport {
            frame,
            direction: direction.as_str(),
            message_type: pdu.message_type_name(),
            transaction_id: pdu.transaction_id(),
            mms_version: pdu.mms_version(),
            message_id: pdu.message_id(),
            from: pdu.from(),
            to: pdu.to(),
            cc: pdu.cc(),
            bcc: pdu.bcc(),
            subject: pdu.subject(),
            content_location: pdu.content_location(),
            date: pdu.date(),
            expiry: pdu.expiry(),
            message_size: pdu.message_size(),
            content_type: pdu.content_type(),
            headers,
            parts: part_reports,
        },
        parts,
        texts,
    })
}

impl Builder<'_> {
    fn push_pdu(
        &mut self,
        record: &mut TransferRecord,
        bytes: &[u8],
        frame: u64,
        dir: Direction,
        ts: Timestamp,
    ) {
        let Some(decoded) = decode_pdu(
            bytes,
            frame,
            dir,
            Some(ts),
            &self.config,
            &mut self.diagnostics,
        ) else {
            return;
        };
        let index = record.transfer.pdus.len();
        record.transfer.pdus.push(decoded.report);
        if self.config.keep_details {
            record.details.push(decoded.details);
        }
        if self.config.keep_pdu_bytes {
            record.pdu_bytes.push(bytes.to_vec());
        }
        record.parts.extend(
            decoded
                .parts
                .into_iter()
                .map(|p| PartContent { pdu: index, ..p }),
        );
        record
            .texts
            .extend(decoded.texts.into_iter().map(|(part, t)| (index, part, t)));
    }

    #[allow(clippy::too_many_arguments)]
    fn empty(
        &self,
        transport: &'static str,
        info: &FlowInfo,
        swap: bool,
        first_frame: u64,
        last_frame: u64,
        start: Timestamp,
        end: Timestamp,
    ) -> TransferRecord {
        let (client, server) = if swap {
            (info.server, info.client)
        } else {
            (info.client, info.server)
        };
        TransferRecord {
            transfer: Transfer {
                id: String::new(),
                input: self.input.to_owned(),
                transport,
                client: endpoint(client),
                server: endpoint(server),
                tunnel: tunnel(info, swap),
                first_frame,
                last_frame,
                start: start.to_rfc3339(),
                end: end.to_rfc3339(),
                encrypted: matches!(transport, "tls" | "wtls"),
                complete: true,
                sni: None,
                tls_version: None,
                handshake_frames: Vec::new(),
                request: None,
                response: None,
                pdus: Vec::new(),
            },
            start,
            end,
            input_index: self.input_index,
            parts: Vec::new(),
            texts: Vec::new(),
            details: Vec::new(),
            pdu_bytes: Vec::new(),
        }
    }

    /// A WSP exchange (connectionless → `wsp`, over WTP → `wtp`). Pushes are reported with the
    /// handset as the client, whichever side the flow table guessed.
    pub fn wsp(&mut self, ex: &WspExchange, info: &FlowInfo) -> TransferRecord {
        let push = ex.push;
        // The push ports (2948/2949) are on the handset: the flow table calls it the server.
        let swap = push && ports_are_push(info);
        let mut rec = self.empty(
            ex.mode.transport(),
            info,
            swap,
            ex.first_frame,
            ex.last_frame,
            ex.start,
            ex.end,
        );
        rec.transfer.complete = ex.complete;
        if let Some(req) = &ex.request {
            let mut headers = Vec::with_capacity(req.headers.len() + 1);
            if let Some(ct) = &req.content_type {
                headers.push(("Content-Type".to_owned(), ct.to_string()));
            }
            headers.extend(req.headers.iter().cloned());
            rec.transfer.request = Some(RequestReport {
                method: req.method.clone(),
                uri: req.uri.clone(),
                headers,
                frames: req.frames.clone(),
            });
            if ex.request_is_mms() {
                let body = req.body.clone();
                self.push_pdu(
                    &mut rec,
                    &body,
                    req.last_frame,
                    Direction::ToServer,
                    req.time,
                );
            }
        }
        if let Some(resp) = &ex.response {
            let mut headers = Vec::with_capacity(resp.headers.len() + 1);
            if let Some(ct) = &resp.content_type {
                headers.push(("Content-Type".to_owned(), ct.to_string()));
            }
            headers.extend(resp.headers.iter().cloned());
            rec.transfer.response = Some(ResponseReport {
                status: resp.status,
                headers,
                frames: resp.frames.clone(),
            });
            if ex.response_is_mms() {
                let body = resp.body.clone();
                self.push_pdu(
                    &mut rec,
                    &body,
                    resp.last_frame,
                    Direction::ToClient,
                    resp.time,
                );
            }
        }
        rec
    }

    /// A WTLS flow: encrypted, its content unseen.
    pub fn wtls(&mut self, w: &WtlsFlow, info: &FlowInfo) -> TransferRecord {
        let swap = w.push && ports_are_push(info);
        let mut rec = self.empty(
            "wtls",
            info,
            swap,
            w.first_frame,
            w.last_frame,
            w.start,
            w.end,
        );
        rec.transfer.tls_version = w.summary.version.map(|v| format!("WTLS {v}"));
        rec
    }
}

impl Builder<'_> {
    /// One HTTP exchange of a flow.
    pub fn http(&mut self, flow: &HttpFlow, ex: &HttpExchange, info: &FlowInfo) -> TransferRecord {
        let swap = flow.roles_swapped;
        let first = ex.first_frame().unwrap_or(info.first_frame);
        let last = ex.last_frame().unwrap_or(first);
        let start = ex
            .request
            .as_ref()
            .map(|r| r.start)
            .or(ex.response.as_ref().map(|r| r.start))
            .unwrap_or(info.first_ts);
        let end = ex
            .response
            .as_ref()
            .map(|r| r.end)
            .or(ex.request.as_ref().map(|r| r.end))
            .unwrap_or(start);
        let mut rec = self.empty("http", info, swap, first, last, start, end.max(start));
        rec.transfer.complete = ex.is_complete();
        if let Some(req) = &ex.request {
            rec.transfer.request = Some(RequestReport {
                method: req.method.clone(),
                uri: req.url.clone(),
                headers: req.headers.clone(),
                frames: ascending(&req.frames),
            });
        }
        if let Some(resp) = &ex.response {
            rec.transfer.response = Some(ResponseReport {
                status: Some(resp.status),
                headers: resp.headers.clone(),
                frames: ascending(&resp.frames),
            });
        }
        for body in ex.mms_bodies() {
            let ts = match body.direction {
                Direction::ToServer => ex.request.as_ref().map(|r| r.end),
                Direction::ToClient => ex.response.as_ref().map(|r| r.end),
            }
            .unwrap_or(end);
            self.push_pdu(&mut rec, body.body, body.frame, body.direction, ts);
        }
        rec
    }

    /// A TLS connection: encrypted; reported only when it goes to an MMSC (decided by the caller).
    pub fn tls(&mut self, t: &TlsFlow, info: &FlowInfo) -> TransferRecord {
        let mut rec = self.empty(
            "tls",
            info,
            false,
            t.first_frame,
            t.last_frame,
            t.start,
            t.end.max(t.start),
        );
        rec.transfer.sni = t.info.sni.clone();
        rec.transfer.tls_version = t.info.negotiated_version_name();
        rec.transfer.handshake_frames = [t.info.client_hello_frame, t.info.server_hello_frame]
            .into_iter()
            .flatten()
            .collect();
        rec
    }
}

/// Frames in capture order (HTTP lists them in byte order, which differs after reordering).
fn ascending(frames: &[u64]) -> Vec<u64> {
    let mut f = frames.to_vec();
    f.sort_unstable();
    f.dedup();
    f
}

/// True when the flow's server port is a WAP push port (the handset's side).
fn ports_are_push(info: &FlowInfo) -> bool {
    matches!(info.server.port(), 2948..=2951)
}
