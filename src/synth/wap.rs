//! WAP carriers for generated messages: connectionless WSP (UDP 9200, push 2948), WSP sessions
//! over WTP (UDP 9201) with segmentation, and WTLS records (UDP 9203). Each exchange writes its
//! frames and records the transfer, its PDUs and message events in the answer key.

use super::answer::{PduFacts, pdu_report};
use super::lab::Lab;
use super::net::PROTO_UDP;
use crate::proto::wsp::encoding::ContentType;
use crate::proto::wsp::headers::{WspHeader, encode_headers};
use crate::proto::wsp::pdu::{WspContent, WspPdu, WspPduBody, wsp_status};
use crate::proto::wtls::WtlsContentType;
use crate::proto::wtls::parser::encode_record;
use crate::proto::wtp::parser::{SegmentPlan, encode_ack, encode_segmented};
use crate::proto::wtp::{InvokeHeader, Tid, TransactionClass, WtpMessageKind};
use crate::report::model::{RequestReport, ResponseReport, Transfer};
use crate::time::Timestamp;
use std::io;
use std::net::SocketAddr;

pub const MMS_CT: &str = "application/vnd.wap.mms-message";

fn wsp_err(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e.to_string())
}

/// An MMS PDU carried in a body, with what it plants and the message it belongs to.
#[derive(Debug, Clone)]
pub struct MmsCargo {
    pub bytes: Vec<u8>,
    pub facts: PduFacts,
    pub label: String,
}

impl MmsCargo {
    pub fn new(bytes: Vec<u8>, facts: PduFacts, label: &str) -> Self {
        MmsCargo {
            bytes,
            facts,
            label: label.to_owned(),
        }
    }
}

/// A WSP Get or Post.
#[derive(Debug, Clone)]
pub struct WspRequestSpec {
    pub uri: String,
    pub headers: Vec<WspHeader>,
    /// Post only: the body's content type and the MMS PDU it carries.
    pub body: Option<MmsCargo>,
    /// This Get fetches the content location of the message with this label.
    pub retrieval: Option<String>,
}

impl WspRequestSpec {
    pub fn get(uri: &str, headers: Vec<WspHeader>) -> Self {
        WspRequestSpec {
            uri: uri.to_owned(),
            headers,
            body: None,
            retrieval: None,
        }
    }

    pub fn post(uri: &str, headers: Vec<WspHeader>, body: MmsCargo) -> Self {
        WspRequestSpec {
            uri: uri.to_owned(),
            headers,
            body: Some(body),
            retrieval: None,
        }
    }

    fn method(&self) -> (u8, &'static str) {
        if self.body.is_some() {
            (0x60, "POST")
        } else {
            (0x40, "GET")
        }
    }

    fn encode(&self, tid: Option<u8>) -> io::Result<Vec<u8>> {
        let headers = encode_headers(&self.headers).map_err(wsp_err)?;
        let (pdu_type, _) = self.method();
        let body = match &self.body {
            None => WspPduBody::Get {
                pdu_type,
                uri: self.uri.as_bytes(),
                headers: &headers,
            },
            Some(cargo) => WspPduBody::Post {
                pdu_type,
                uri: self.uri.as_bytes(),
                content: WspContent {
                    content_type: ContentType::new(MMS_CT),
                    headers: &headers,
                    data: &cargo.bytes,
                },
            },
        };
        WspPdu { tid, body }.to_bytes().map_err(wsp_err)
    }

    /// Headers as the report lists them: the content type first, then the others in order.
    fn report_headers(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.body.is_some() {
            out.push(("Content-Type".to_owned(), MMS_CT.to_owned()));
        }
        out.extend(
            self.headers
                .iter()
                .map(|h| (h.name.clone(), h.value.clone())),
        );
        out
    }
}

/// A WSP Reply, or the content of a Push.
#[derive(Debug, Clone)]
pub struct WspReplySpec {
    /// HTTP status (ignored for a push).
    pub status: u16,
    pub content_type: ContentType,
    pub headers: Vec<WspHeader>,
    pub data: Vec<u8>,
    pub mms: Option<MmsCargo>,
}

impl WspReplySpec {
    /// A reply (or push) carrying an MMS PDU.
    pub fn mms(status: u16, headers: Vec<WspHeader>, cargo: MmsCargo) -> Self {
        WspReplySpec {
            status,
            content_type: ContentType::new(MMS_CT),
            headers,
            data: cargo.bytes.clone(),
            mms: Some(cargo),
        }
    }

    /// A reply without a body.
    pub fn empty(status: u16) -> Self {
        WspReplySpec {
            status,
            content_type: ContentType::new("text/plain"),
            headers: Vec::new(),
            data: Vec::new(),
            mms: None,
        }
    }

    fn encode(&self, tid: Option<u8>, push: bool) -> io::Result<Vec<u8>> {
        let headers = encode_headers(&self.headers).map_err(wsp_err)?;
        let content = WspContent {
            content_type: self.content_type.clone(),
            headers: &headers,
            data: &self.data,
        };
        let body = if push {
            WspPduBody::Push {
                confirmed: false,
                content,
            }
        } else {
            WspPduBody::Reply {
                status: wsp_status(self.status)
                    .ok_or_else(|| wsp_err(format!("no WSP status for {}", self.status)))?,
                content,
            }
        };
        WspPdu { tid, body }.to_bytes().map_err(wsp_err)
    }

    fn report_headers(&self) -> Vec<(String, String)> {
        let mut out = vec![("Content-Type".to_owned(), self.content_type.to_string())];
        out.extend(
            self.headers
                .iter()
                .map(|h| (h.name.clone(), h.value.clone())),
        );
        out
    }
}

/// Builds a transfer skeleton from the frames it spans.
#[allow(clippy::too_many_arguments)]
pub fn transfer(
    lab: &Lab,
    transport: &'static str,
    proto: u8,
    client: SocketAddr,
    server: SocketAddr,
    frames: &[u64],
) -> (Transfer, Timestamp) {
    let first = frames.iter().copied().min().unwrap_or(0);
    let last = frames.iter().copied().max().unwrap_or(0);
    let start = lab.ts_at(first);
    (
        Transfer {
            id: String::new(),
            input: String::new(),
            transport,
            client: crate::report::model::Endpoint {
                ip: client.ip(),
                port: client.port(),
            },
            server: crate::report::model::Endpoint {
                ip: server.ip(),
                port: server.port(),
            },
            tunnel: lab.tunnel_report(proto, client, server),
            first_frame: first,
            last_frame: last,
            start: start.to_rfc3339(),
            end: lab.ts_at(last).to_rfc3339(),
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
    )
}

/// Adds the PDU of `cargo`, arrived complete in `frame`, to transfer `handle`.
pub fn record_pdu(
    lab: &mut Lab,
    handle: usize,
    cargo: &MmsCargo,
    frame: u64,
    direction: &'static str,
) -> io::Result<()> {
    let report = pdu_report(&cargo.bytes, frame, direction, lab.ts_at(frame))?;
    lab.key
        .add_pdu(handle, report, cargo.facts.clone(), &cargo.label);
    lab.key
        .add_pdu_content(handle, &cargo.bytes, lab.ts_at(frame));
    Ok(())
}

/// Counts a PDU put on the wire (for the mixed capture's sidecar).
fn count(lab: &mut Lab, cargo: &MmsCargo) {
    if let Some(&t) = cargo.bytes.get(1) {
        let name = crate::proto::mms::MessageType(t).name();
        *lab.pdu_counts.entry(name).or_insert(0) += 1;
    }
}

/// Counts a method exchange's (connectionless or over WTP) MMS PDUs and, in a keyed lab,
/// records it in the key (its index there).
#[allow(clippy::too_many_arguments)]
fn record_exchange(
    lab: &mut Lab,
    transport: &'static str,
    client: SocketAddr,
    server: SocketAddr,
    req: &WspRequestSpec,
    req_frames: &[u64],
    reply: &WspReplySpec,
    resp_frames: &[u64],
) -> io::Result<Option<usize>> {
    for c in req.body.iter().chain(reply.mms.iter()) {
        count(lab, c);
    }
    if !lab.keyed {
        return Ok(None);
    }
    let mut all: Vec<u64> = req_frames.to_vec();
    all.extend_from_slice(resp_frames);
    let (mut t, start) = transfer(lab, transport, PROTO_UDP, client, server, &all);
    let mut rf = req_frames.to_vec();
    rf.sort_unstable();
    let mut sf = resp_frames.to_vec();
    sf.sort_unstable();
    t.request = Some(RequestReport {
        method: req.method().1.to_owned(),
        uri: req.uri.clone(),
        headers: req.report_headers(),
        frames: rf.clone(),
    });
    t.response = Some(ResponseReport {
        status: Some(reply.status),
        headers: reply.report_headers(),
        frames: sf.clone(),
    });
    let handle = lab.key.add_transfer(t, start);
    if let Some(cargo) = &req.body {
        let last = rf.last().copied().unwrap_or(0);
        record_pdu(lab, handle, cargo, last, "to-server")?;
    }
    if let Some(label) = &req.retrieval {
        let first = rf.first().copied().unwrap_or(0);
        let answered = reply
            .mms
            .as_ref()
            .is_some_and(|c| c.bytes.get(1) == Some(&0x84));
        lab.key
            .add_retrieval(handle, first, &req.uri, answered, label);
    }
    if let Some(cargo) = &reply.mms {
        let last = sf.last().copied().unwrap_or(0);
        record_pdu(lab, handle, cargo, last, "to-client")?;
    }
    Ok(Some(handle))
}

/// A connectionless WSP Push (to the handset's port 2948) of an MMS PDU.
pub fn push(
    lab: &mut Lab,
    ppg: SocketAddr,
    handset: SocketAddr,
    tid: u8,
    content: &WspReplySpec,
) -> io::Result<Option<usize>> {
    let bytes = content.encode(Some(tid), true)?;
    let frame = lab.udp(ppg, handset, &bytes)?;
    push_recorded(lab, ppg, handset, content, frame)
}

/// Records a push that arrived complete in `frame`.
pub fn push_recorded(
    lab: &mut Lab,
    ppg: SocketAddr,
    handset: SocketAddr,
    content: &WspReplySpec,
    frame: u64,
) -> io::Result<Option<usize>> {
    if let Some(c) = &content.mms {
        count(lab, c);
    }
    if !lab.keyed {
        return Ok(None);
    }
    let (mut t, start) = transfer(lab, "wsp", PROTO_UDP, handset, ppg, &[frame]);
    t.response = Some(ResponseReport {
        status: None,
        headers: content.report_headers(),
        frames: vec![frame],
    });
    let handle = lab.key.add_transfer(t, start);
    if let Some(cargo) = &content.mms {
        record_pdu(lab, handle, cargo, frame, "to-client")?;
    }
    Ok(Some(handle))
}

/// The encoded Push PDU (for carriers that write it themselves, e.g. IP fragments).
pub fn push_bytes(tid: u8, content: &WspReplySpec) -> io::Result<Vec<u8>> {
    content.encode(Some(tid), true)
}

/// The encoded connectionless request and reply PDUs.
pub fn method_bytes(
    tid: u8,
    req: &WspRequestSpec,
    reply: &WspReplySpec,
) -> io::Result<(Vec<u8>, Vec<u8>)> {
    Ok((req.encode(Some(tid))?, reply.encode(Some(tid), false)?))
}

/// A connectionless Get/Post to the gateway's port 9200 and its Reply.
pub fn method(
    lab: &mut Lab,
    handset: SocketAddr,
    gateway: SocketAddr,
    tid: u8,
    req: &WspRequestSpec,
    reply: &WspReplySpec,
) -> io::Result<Option<usize>> {
    let (q, r) = method_bytes(tid, req, reply)?;
    let f1 = lab.udp(handset, gateway, &q)?;
    lab.wait_ms(20, 400);
    let f2 = lab.udp(gateway, handset, &r)?;
    method_recorded(lab, handset, gateway, req, &[f1], reply, &[f2])
}

/// Records a connectionless exchange whose request arrived in `req_frames` and reply in
/// `resp_frames`.
pub fn method_recorded(
    lab: &mut Lab,
    handset: SocketAddr,
    gateway: SocketAddr,
    req: &WspRequestSpec,
    req_frames: &[u64],
    reply: &WspReplySpec,
    resp_frames: &[u64],
) -> io::Result<Option<usize>> {
    record_exchange(
        lab,
        "wsp",
        handset,
        gateway,
        req,
        req_frames,
        reply,
        resp_frames,
    )
}

/// How a WTP message is cut and disturbed on the wire.
#[derive(Debug, Clone, Copy, Default)]
pub struct Segmentation {
    /// User-data octets per packet (0: one packet).
    pub segment_size: usize,
    /// Packets per group.
    pub group_size: usize,
    /// Send this packet a second time (RID set) after its group.
    pub retransmit: Option<u8>,
    /// Send these two packets in swapped order.
    pub swap: Option<(u8, u8)>,
}

/// A WSP session over WTP between a handset and its gateway (port 9201).
#[derive(Debug, Clone)]
pub struct WtpSession {
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub next_tid: u16,
    pub session_id: u32,
}

const CLASS2: InvokeHeader = InvokeHeader {
    version: 0,
    tid_new: false,
    user_ack: false,
    class: TransactionClass::Class2,
};

impl WtpSession {
    /// Sends `data` as the Invoke (from the client) or Result (from the server) of `tid`;
    /// returns the frames whose packets reassembly keeps (first copies).
    fn send_message(
        &self,
        lab: &mut Lab,
        kind: WtpMessageKind,
        tid: u16,
        data: &[u8],
        seg: Segmentation,
    ) -> io::Result<Vec<u64>> {
        let plan = SegmentPlan {
            segment_size: if seg.segment_size == 0 {
                data.len().max(1)
            } else {
                seg.segment_size
            },
            group_size: seg.group_size.max(1),
        };
        let packets = encode_segmented(kind, tid, CLASS2, data, plan);
        let (src, dst) = match kind {
            WtpMessageKind::Invoke => (self.client, self.server),
            WtpMessageKind::Result => (self.server, self.client),
        };
        let mut order: Vec<usize> = (0..packets.len()).collect();
        if let Some((a, b)) = seg.swap {
            let (a, b) = (usize::from(a), usize::from(b));
            if let (Some(pa), Some(pb)) = (
                order.iter().position(|&x| x == a),
                order.iter().position(|&x| x == b),
            ) {
                order.swap(pa, pb);
            }
        }
        let group = plan.group_size;
        let last = packets.len().saturating_sub(1);
        let mut frames = Vec::new();
        for psn in order {
            let Some(p) = packets.get(psn) else { continue };
            frames.push(lab.udp(src, dst, p)?);
            lab.wait_us(200, 3000);
            let ends_group = psn != last && (psn + 1) % group == 0;
            if ends_group {
                if seg.retransmit == Some(psn as u8) {
                    // The group acknowledgement is late: the sender repeats the group trailer.
                    let mut again = p.clone();
                    if let Some(first) = again.first_mut() {
                        *first |= 0x01; // RID
                    }
                    lab.wait_ms(100, 300);
                    lab.udp(src, dst, &again)?;
                }
                let responder_tid = match kind {
                    WtpMessageKind::Invoke => Tid::responder(tid),
                    WtpMessageKind::Result => Tid::initiator(tid),
                };
                lab.wait_ms(5, 40);
                lab.udp(dst, src, &encode_ack(responder_tid, false, Some(psn as u8)))?;
                lab.wait_us(200, 3000);
            }
        }
        Ok(frames)
    }

    /// Connect / ConnectReply / Ack (WAP-230 8.2.2.1), setting up the session.
    pub fn connect(&mut self, lab: &mut Lab, headers: &[WspHeader]) -> io::Result<()> {
        let tid = self.next_tid;
        self.next_tid = self.next_tid.wrapping_add(1) & Tid::MAX;
        let caps = crate::proto::wsp::pdu::encode_capabilities(&[
            crate::proto::wsp::pdu::Capability::ClientSduSize(30_000),
            crate::proto::wsp::pdu::Capability::ServerSduSize(30_000),
        ]);
        let hdrs = encode_headers(headers).map_err(wsp_err)?;
        let connect = WspPdu {
            tid: None,
            body: WspPduBody::Connect {
                version: 0x10,
                capabilities: &caps,
                headers: &hdrs,
            },
        }
        .to_bytes()
        .map_err(wsp_err)?;
        self.send_message(
            lab,
            WtpMessageKind::Invoke,
            tid,
            &connect,
            Segmentation::default(),
        )?;
        lab.wait_ms(30, 200);
        let reply = WspPdu {
            tid: None,
            body: WspPduBody::ConnectReply {
                session_id: self.session_id,
                capabilities: &caps,
                headers: &[],
            },
        }
        .to_bytes()
        .map_err(wsp_err)?;
        self.send_message(
            lab,
            WtpMessageKind::Result,
            tid,
            &reply,
            Segmentation::default(),
        )?;
        lab.wait_ms(5, 40);
        lab.udp(
            self.client,
            self.server,
            &encode_ack(Tid::initiator(tid), false, None),
        )?;
        Ok(())
    }

    /// A method (Get/Post) in its own transaction, its Reply in the Result, and the final Ack.
    pub fn method(
        &mut self,
        lab: &mut Lab,
        req: &WspRequestSpec,
        reply: &WspReplySpec,
        seg: Segmentation,
    ) -> io::Result<Option<usize>> {
        let tid = self.next_tid;
        self.next_tid = self.next_tid.wrapping_add(1) & Tid::MAX;
        let q = req.encode(None)?;
        let r = reply.encode(None, false)?;
        let req_frames = self.send_message(lab, WtpMessageKind::Invoke, tid, &q, seg)?;
        lab.wait_ms(50, 400);
        let resp_frames = self.send_message(
            lab,
            WtpMessageKind::Result,
            tid,
            &r,
            Segmentation {
                segment_size: 1400,
                group_size: 4,
                ..Segmentation::default()
            },
        )?;
        lab.wait_ms(5, 40);
        lab.udp(
            self.client,
            self.server,
            &encode_ack(Tid::initiator(tid), false, None),
        )?;
        record_exchange(
            lab,
            "wtp",
            self.client,
            self.server,
            req,
            &req_frames,
            reply,
            &resp_frames,
        )
    }
}

/// A WTLS flow (UDP 9203): ClientHello and ServerHello in clear, then `records` encrypted
/// application data records each way. Returns the transfer handle.
pub fn wtls_flow(
    lab: &mut Lab,
    client: SocketAddr,
    server: SocketAddr,
    records: usize,
) -> io::Result<Option<usize>> {
    let mut frames = Vec::new();
    let hello = |msg_type: u8, lab: &mut Lab| -> Vec<u8> {
        // Handshake: type, length, version 1, 4 octets of time and 12 of random, session id
        // length 0.
        let mut body = vec![1u8];
        body.extend((0..16).map(|_| lab.rng.below(256) as u8));
        body.push(0);
        let mut hs = vec![msg_type];
        hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
        hs.extend_from_slice(&body);
        let mut out = Vec::new();
        encode_record(
            WtlsContentType::Handshake,
            false,
            Some(0),
            true,
            &hs,
            &mut out,
        );
        out
    };
    let ch = hello(1, lab);
    frames.push(lab.udp(client, server, &ch)?);
    lab.wait_ms(20, 200);
    let sh = hello(2, lab);
    frames.push(lab.udp(server, client, &sh)?);
    for i in 0..records {
        lab.wait_ms(10, 200);
        let len = lab.rng.range(64, 900) as usize;
        let data: Vec<u8> = (0..len).map(|_| lab.rng.below(256) as u8).collect();
        let mut out = Vec::new();
        let seq = (i + 1) as u16;
        encode_record(
            WtlsContentType::ApplicationData,
            true,
            Some(seq),
            true,
            &data,
            &mut out,
        );
        let (a, b) = if i % 2 == 0 {
            (client, server)
        } else {
            (server, client)
        };
        frames.push(lab.udp(a, b, &out)?);
    }
    if !lab.keyed {
        return Ok(None);
    }
    let (mut t, start) = transfer(lab, "wtls", PROTO_UDP, client, server, &frames);
    t.tls_version = Some("WTLS 1".into());
    Ok(Some(lab.key.add_transfer(t, start)))
}
