//! Answer keys: the report a correct scan of a generated capture produces, built from what the
//! generator put on the wire.
//!
//! Scenarios record every transfer they create (with the frames they wrote), every PDU with the
//! facts they planted in it (personal data in text, photos with GPS, contact cards), and the
//! message each PDU belongs to by design. [`Key::report`] then orders transfers, groups the
//! messages, and derives the findings the detection catalog (DESIGN.md section 5) defines for
//! exactly those facts.

use crate::audit::rules::rule;
use crate::report::model::{
    Finding, InputReport, Message, PduReport, Report, SCHEMA, Severity, SeverityCounts, Summary,
    TimelineEntry, Tool, Transfer,
};
use crate::time::Timestamp;
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::io;

/// What a scenario planted in one PDU, beyond what its headers show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PduFacts {
    /// A phone number or e-mail address in the subject or a text/SMIL part.
    pub personal_text: bool,
    /// Image parts carrying EXIF: (part index, has GPS).
    pub images: Vec<(usize, bool)>,
    /// vCard / vCalendar parts (part index).
    pub cards: Vec<usize>,
}

/// One transfer as the key expects it.
#[derive(Debug, Clone)]
pub struct KeyTransfer {
    /// `id` is assigned by [`Key::report`].
    pub transfer: Transfer,
    pub start: Timestamp,
    pub facts: Vec<PduFacts>,
    /// The decoded parts and texts of its PDUs, for describing the findings.
    pub parts: Vec<crate::transfer::PartContent>,
    pub texts: Vec<(usize, usize, String)>,
}

/// One event of a message, labelled with the message it belongs to by design.
#[derive(Debug, Clone)]
pub struct KeyNode {
    pub transfer: usize,
    pub frame: u64,
    pub message_type: String,
    pub transaction_id: Option<String>,
    pub message_id: Option<String>,
    pub content_location: Option<String>,
    pub label: String,
}

/// The answer key of one capture under construction.
#[derive(Debug, Clone, Default)]
pub struct Key {
    pub transfers: Vec<KeyTransfer>,
    pub nodes: Vec<KeyNode>,
    /// The content-location tokens of this capture's messages are a counter.
    pub sequential_tokens: bool,
    /// Diagnostics the capture is expected to produce (none for clean captures).
    pub expect_diagnostics: bool,
}

/// The report fields of an MMS PDU the generator encoded, read back with the MMS decoder (for
/// the display strings of its headers and the hashes of its parts).
pub fn pdu_report(
    bytes: &[u8],
    frame: u64,
    direction: &'static str,
    capture_time: Timestamp,
) -> io::Result<PduReport> {
    let dir = if direction == "to-server" {
        crate::flow::Direction::ToServer
    } else {
        crate::flow::Direction::ToClient
    };
    let mut diags = Vec::new();
    let decoded = crate::transfer::build::decode_pdu(
        bytes,
        frame,
        dir,
        Some(capture_time),
        &crate::transfer::build::TransferConfig::default(),
        &mut diags,
    );
    match (decoded, diags.first()) {
        (Some(d), None) => Ok(d.report),
        (_, Some(issue)) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("generated PDU decodes with an issue: {}", issue.message),
        )),
        (None, None) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "generated PDU does not decode",
        )),
    }
}

impl Key {
    /// Records a transfer; returns its handle.
    pub fn add_transfer(&mut self, transfer: Transfer, start: Timestamp) -> usize {
        self.transfers.push(KeyTransfer {
            transfer,
            start,
            facts: Vec::new(),
            parts: Vec::new(),
            texts: Vec::new(),
        });
        self.transfers.len() - 1
    }

    /// The parts and texts of the PDU just added to transfer `handle` (from the bytes the
    /// generator encoded), so that findings can be described as the rule engine describes them.
    pub fn add_pdu_content(&mut self, handle: usize, bytes: &[u8], capture_time: Timestamp) {
        let Some(t) = self.transfers.get_mut(handle) else {
            return;
        };
        let index = t.transfer.pdus.len().saturating_sub(1);
        let mut diags = Vec::new();
        if let Some(decoded) = crate::transfer::build::decode_pdu(
            bytes,
            0,
            crate::flow::Direction::ToClient,
            Some(capture_time),
            &crate::transfer::build::TransferConfig::default(),
            &mut diags,
        ) {
            t.parts.extend(
                decoded
                    .parts
                    .into_iter()
                    .map(|p| crate::transfer::PartContent { pdu: index, ..p }),
            );
            t.texts.extend(
                decoded
                    .texts
                    .into_iter()
                    .map(|(part, text)| (index, part, text)),
            );
        }
    }

    /// Adds a PDU to a transfer, as an event of message `label`.
    pub fn add_pdu(&mut self, handle: usize, pdu: PduReport, facts: PduFacts, label: &str) {
        self.nodes.push(KeyNode {
            transfer: handle,
            frame: pdu.frame,
            message_type: pdu.message_type.clone(),
            transaction_id: pdu.transaction_id.clone(),
            message_id: pdu.message_id.clone(),
            content_location: pdu.content_location.clone(),
            label: label.to_owned(),
        });
        if let Some(t) = self.transfers.get_mut(handle) {
            t.transfer.pdus.push(pdu);
            t.facts.push(facts);
        }
    }

    /// A request for a content location (a retrieval), as an event of message `label`.
    pub fn add_retrieval(
        &mut self,
        handle: usize,
        frame: u64,
        uri: &str,
        answered: bool,
        label: &str,
    ) {
        self.nodes.push(KeyNode {
            transfer: handle,
            frame,
            message_type: if answered {
                "retrieval-request".into()
            } else {
                "retrieval-request (no message)".into()
            },
            transaction_id: None,
            message_id: None,
            content_location: Some(uri.to_owned()),
            label: label.to_owned(),
        });
    }

    pub fn transfer_mut(&mut self, handle: usize) -> Option<&mut Transfer> {
        self.transfers.get_mut(handle).map(|t| &mut t.transfer)
    }

    /// The finished report.
    pub fn report(&self, inputs: Vec<InputReport>, flows: u64) -> Report {
        // Transfers in report order: first frame, then last frame.
        let mut order: Vec<usize> = (0..self.transfers.len()).collect();
        order.sort_by_key(|&i| {
            self.transfers
                .get(i)
                .map(|t| (t.transfer.first_frame, t.transfer.last_frame))
        });
        let mut position = vec![0usize; self.transfers.len()];
        for (pos, &h) in order.iter().enumerate() {
            if let Some(slot) = position.get_mut(h) {
                *slot = pos;
            }
        }
        let id_of = |h: usize| format!("T{}", position.get(h).copied().unwrap_or(0) + 1);
        let ordered: Vec<&KeyTransfer> = order
            .iter()
            .filter_map(|&h| self.transfers.get(h))
            .collect();
        let input = inputs.first().map(|i| i.path.clone()).unwrap_or_default();
        let transfers: Vec<Transfer> = ordered
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut tr = t.transfer.clone();
                tr.id = format!("T{}", i + 1);
                tr.input = input.clone();
                tr
            })
            .collect();

        // Messages: nodes grouped by label, events ordered by (transfer start, frame).
        let node_key = |n: &KeyNode| {
            (
                self.transfers
                    .get(n.transfer)
                    .map(|t| t.start)
                    .unwrap_or_default(),
                n.frame,
            )
        };
        let mut groups: BTreeMap<&str, Vec<&KeyNode>> = BTreeMap::new();
        for n in &self.nodes {
            groups.entry(n.label.as_str()).or_default().push(n);
        }
        let mut groups: Vec<Vec<&KeyNode>> = groups.into_values().collect();
        for g in &mut groups {
            g.sort_by_key(|n| node_key(n));
        }
        groups.retain(|g| {
            !g.iter()
                .all(|n| n.message_type.starts_with("retrieval-request"))
        });
        groups.sort_by_key(|g| g.first().map(|n| node_key(n)));
        let messages: Vec<Message> = groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let mut tids: Vec<String> = Vec::new();
                let mut tr_ids: Vec<String> = Vec::new();
                for n in g {
                    if let Some(t) = &n.transaction_id
                        && !tids.contains(t)
                    {
                        tids.push(t.clone());
                    }
                    let id = id_of(n.transfer);
                    if !tr_ids.contains(&id) {
                        tr_ids.push(id);
                    }
                }
                Message {
                    id: format!("M{}", i + 1),
                    message_id: g.iter().find_map(|n| n.message_id.clone()),
                    transaction_ids: tids,
                    content_location: g.iter().find_map(|n| n.content_location.clone()),
                    transfers: tr_ids,
                    timeline: g
                        .iter()
                        .map(|n| TimelineEntry {
                            frame: n.frame,
                            transfer: id_of(n.transfer),
                            message_type: n.message_type.clone(),
                        })
                        .collect(),
                }
            })
            .collect();

        let findings = self.findings(&ordered, &transfers, &messages);
        let mut summary = Summary {
            packets: inputs.iter().map(|i| i.packets).sum(),
            flows,
            transfers: transfers.len() as u64,
            encrypted_transfers: transfers.iter().filter(|t| t.encrypted).count() as u64,
            cleartext_transfers: transfers.iter().filter(|t| !t.encrypted).count() as u64,
            messages: messages.len() as u64,
            findings: SeverityCounts::default(),
        };
        for f in &findings {
            summary.findings.add(f.severity);
        }
        Report {
            schema: SCHEMA,
            tool: Tool::default(),
            inputs,
            summary,
            transfers,
            messages,
            findings,
        }
    }

    fn findings(
        &self,
        ordered: &[&KeyTransfer],
        transfers: &[Transfer],
        messages: &[Message],
    ) -> Vec<Finding> {
        let mut drafts: Vec<Draft> = Vec::new();
        let mut message_of: BTreeMap<&str, &str> = BTreeMap::new();
        for m in messages {
            for t in &m.transfers {
                message_of.entry(t.as_str()).or_insert(m.id.as_str());
            }
        }
        for (ti, (kt, tr)) in ordered.iter().zip(transfers).enumerate() {
            transfer_findings(&mut drafts, ti, kt, tr);
            let message = message_of.get(tr.id.as_str()).copied();
            retrieval_finding(&mut drafts, ti, tr, message);
        }
        let n = transfers.len();
        let by_id: BTreeMap<&str, (usize, &Transfer)> = transfers
            .iter()
            .enumerate()
            .map(|(i, t)| (t.id.as_str(), (i, t)))
            .collect();
        let mut tokens: Vec<(String, u64)> = Vec::new();
        let mut last_with_token = 0;
        for (mi, m) in messages.iter().enumerate() {
            let before = tokens.len();
            message_findings(&mut drafts, (n + mi, 0), m, &by_id, &mut tokens);
            if tokens.len() > before {
                last_with_token = mi;
            }
        }
        if self.sequential_tokens && tokens.len() >= 2 {
            drafts.push(Draft::new(
                (n + last_with_token, 1),
                "guessable-content-url",
                None,
                None,
                None,
                tokens.iter().map(|(_, f)| *f).collect(),
                format!("content location tokens of {} messages are sequential", tokens.len()),
                json!({"tokens": tokens.iter().map(|(t, _)| t.clone()).collect::<Vec<_>>(), "sequential": true}),
            ));
        }
        drafts.sort_by_key(|d| (d.order, rule_position(d.rule)));
        let planted: Vec<Finding> = drafts
            .into_iter()
            .enumerate()
            .filter_map(|(i, d)| {
                let r = rule(d.rule)?;
                let mut frames = d.frames;
                frames.sort_unstable();
                frames.dedup();
                Some(Finding {
                    id: format!("F{}", i + 1),
                    rule: r.id,
                    category: r.category,
                    severity: d.severity.unwrap_or(r.severity),
                    transfer: d.transfer,
                    message: d.message,
                    frames,
                    title: d.title,
                    evidence: match d.evidence {
                        Value::Object(m) => m,
                        _ => Map::new(),
                    },
                    remediation: r.remediation,
                })
            })
            .collect();
        describe(planted, ordered, transfers)
    }
}

/// The identity of a finding: everything but its wording.
fn identity(
    f: &Finding,
) -> (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Vec<u64>,
) {
    (
        f.rule.to_owned(),
        f.category.as_str().to_owned(),
        f.severity.as_str().to_owned(),
        f.transfer.clone(),
        f.message.clone(),
        f.frames.clone(),
    )
}

/// The findings the generator planted, worded as the rule engine words them: the engine is run
/// over the key's own transfers (built from what was generated, not from the capture; it ties
/// them into messages as a scan does), and when it raises exactly the planted findings (rule, category, severity, transfer,
/// message, frames), its titles and evidence are used. Otherwise the planted findings are kept
/// as they are, so that a test comparing the key with a scan shows the disagreement.
fn describe(
    planted: Vec<Finding>,
    ordered: &[&KeyTransfer],
    transfers: &[Transfer],
) -> Vec<Finding> {
    let records: Vec<crate::transfer::TransferRecord> = ordered
        .iter()
        .zip(transfers)
        .map(|(kt, tr)| crate::transfer::TransferRecord {
            transfer: tr.clone(),
            start: kt.start,
            end: kt.start,
            input_index: 0,
            parts: kt.parts.clone(),
            texts: kt.texts.clone(),
            details: Vec::new(),
            pdu_bytes: Vec::new(),
        })
        .collect();
    let worded =
        crate::audit::engine::audit(&records, &crate::audit::engine::AuditConfig::default());
    let mut a: Vec<_> = planted.iter().map(identity).collect();
    let mut b: Vec<_> = worded.iter().map(identity).collect();
    a.sort();
    b.sort();
    if a == b { worded } else { planted }
}

fn rule_position(id: &str) -> usize {
    crate::audit::rules::RULES
        .iter()
        .position(|r| r.id == id)
        .unwrap_or(usize::MAX)
}

struct Draft {
    order: (usize, usize),
    rule: &'static str,
    severity: Option<Severity>,
    transfer: Option<String>,
    message: Option<String>,
    frames: Vec<u64>,
    title: String,
    evidence: Value,
}

impl Draft {
    #[allow(clippy::too_many_arguments)]
    fn new(
        order: (usize, usize),
        rule: &'static str,
        severity: Option<Severity>,
        transfer: Option<&str>,
        message: Option<&str>,
        frames: Vec<u64>,
        title: String,
        evidence: Value,
    ) -> Self {
        Draft {
            order,
            rule,
            severity,
            transfer: transfer.map(str::to_owned),
            message: message.map(str::to_owned),
            frames,
            title,
            evidence,
        }
    }
}

/// One side of an exchange: its name, headers and first frame.
type Side<'a> = (&'a str, &'a [(String, String)], Option<u64>);

/// Header names the generator uses for operator header enrichment (all in the curated list).
const ENRICHMENT_HEADERS: &[&str] = &["x-msisdn", "x-imsi", "x-wap-network-client-msisdn"];
/// Query parameters the generator uses for tokens.
const TOKEN_PARAMS: &[&str] = &["token", "sid", "session", "auth"];

use crate::audit::engine::{CONTENT_PDUS, MAILBOX_PDUS};

fn has_addresses(p: &PduReport) -> bool {
    p.from.is_some() || !p.to.is_empty() || !p.cc.is_empty() || !p.bcc.is_empty()
}

fn carries_content(p: &PduReport) -> bool {
    !p.parts.is_empty()
        || has_addresses(p)
        || p.subject.is_some()
        || CONTENT_PDUS.contains(&p.message_type.as_str()) && p.content_location.is_some()
}

/// A GET answered with the message (m-retrieve-conf) and carrying no credential.
fn retrieval_finding(drafts: &mut Vec<Draft>, ti: usize, tr: &Transfer, message: Option<&str>) {
    let Some(req) = &tr.request else {
        return;
    };
    if !req.method.eq_ignore_ascii_case("GET") || tr.encrypted {
        return;
    }
    let Some(conf) = tr
        .pdus
        .iter()
        .find(|p| p.message_type == "m-retrieve-conf" && p.direction == "to-client")
    else {
        return;
    };
    let credential = req.headers.iter().any(|(n, _)| {
        matches!(
            n.to_ascii_lowercase().as_str(),
            "authorization" | "proxy-authorization" | "cookie"
        )
    }) || req
        .uri
        .split_once("://")
        .is_some_and(|(_, r)| r.split(['/', '?']).next().is_some_and(|a| a.contains('@')));
    if credential {
        return;
    }
    let frame = req.frames.first().copied().unwrap_or(tr.first_frame);
    let client = tr.client.ip.to_string();
    drafts.push(Draft::new(
        (ti, 1),
        "unauthenticated-retrieval",
        None,
        Some(tr.id.as_str()),
        message,
        vec![frame, conf.frame],
        format!(
            "{client} fetched {} without any credential and got the message",
            req.uri
        ),
        json!({"client": client, "method": req.method, "uri": req.uri}),
    ));
}

fn transfer_findings(drafts: &mut Vec<Draft>, ti: usize, kt: &KeyTransfer, tr: &Transfer) {
    let order = (ti, 0);
    let id = Some(tr.id.as_str());
    if tr.encrypted {
        let weak = match tr.transport {
            "wtls" => true,
            _ => matches!(
                tr.tls_version.as_deref(),
                Some("SSL 2.0" | "SSL 3.0" | "TLS 1.0" | "TLS 1.1")
            ),
        };
        if weak {
            drafts.push(Draft::new(
                order,
                "weak-encryption",
                None,
                id,
                None,
                // The frames that show the version: the hellos the generator wrote.
                if tr.handshake_frames.is_empty() {
                    vec![tr.first_frame]
                } else {
                    tr.handshake_frames.clone()
                },
                format!(
                    "MMSC traffic protected only by {}",
                    tr.tls_version.as_deref().unwrap_or("WTLS")
                ),
                json!({"transport": tr.transport, "version": tr.tls_version, "sni": tr.sni}),
            ));
        }
        return;
    }
    if !tr.pdus.is_empty() {
        let content = tr.pdus.iter().any(carries_content);
        let types: Vec<&str> = tr.pdus.iter().map(|p| p.message_type.as_str()).collect();
        drafts.push(Draft::new(
            order,
            "cleartext-mms",
            Some(if content {
                Severity::High
            } else {
                Severity::Medium
            }),
            id,
            None,
            tr.pdus.iter().map(|p| p.frame).collect(),
            format!(
                "{} readable in cleartext over {}",
                types.join(", "),
                tr.transport
            ),
            json!({"transport": tr.transport, "message_types": types, "carries_content": content}),
        ));
    }

    let mut sides: Vec<Side<'_>> = Vec::new();
    if let Some(r) = &tr.request {
        sides.push(("request", &r.headers, r.frames.first().copied()));
    }
    if let Some(r) = &tr.response {
        sides.push(("response", &r.headers, r.frames.first().copied()));
    }
    let lower = |s: &str| s.to_ascii_lowercase();

    // subscriber-id-header
    let mut frames = Vec::new();
    let mut names = BTreeSet::new();
    for (_, headers, first) in &sides {
        for (n, _) in headers.iter() {
            if ENRICHMENT_HEADERS.contains(&lower(n).as_str()) {
                frames.extend(*first);
                names.insert(n.clone());
            }
        }
    }
    if !names.is_empty() {
        drafts.push(Draft::new(
            order,
            "subscriber-id-header",
            None,
            id,
            None,
            frames,
            format!(
                "subscriber identifier in header(s): {}",
                names.into_iter().collect::<Vec<_>>().join(", ")
            ),
            json!({}),
        ));
    }

    // credentials: every Authorization the generator writes is Basic (critical).
    let mut frames = Vec::new();
    for (_, headers, first) in &sides {
        for (n, _) in headers.iter() {
            if matches!(lower(n).as_str(), "authorization" | "proxy-authorization") {
                frames.extend(*first);
            }
        }
    }
    if !frames.is_empty() {
        drafts.push(Draft::new(
            order,
            "credentials",
            Some(Severity::Critical),
            id,
            None,
            frames,
            "credentials readable in cleartext (basic)".into(),
            json!({}),
        ));
    }

    // session-token: cookies, and token-named query parameters.
    let mut frames = Vec::new();
    let mut count = 0usize;
    for (_, headers, first) in &sides {
        for (n, v) in headers.iter() {
            match lower(n).as_str() {
                "cookie" => {
                    let pairs = v.split(';').filter(|p| p.contains('=')).count();
                    count += pairs;
                    if pairs > 0 {
                        frames.extend(*first);
                    }
                }
                "set-cookie" if v.contains('=') => {
                    count += 1;
                    frames.extend(*first);
                }
                _ => {}
            }
        }
    }
    if let Some(req) = &tr.request
        && let Some((_, query)) = req.uri.split_once('?')
    {
        for p in query.split('&') {
            if let Some((n, v)) = p.split_once('=')
                && TOKEN_PARAMS.contains(&lower(n).as_str())
                && v.len() >= 4
            {
                count += 1;
                frames.extend(req.frames.first().copied());
            }
        }
    }
    if count > 0 {
        drafts.push(Draft::new(
            order,
            "session-token",
            None,
            id,
            None,
            frames,
            format!("{count} session token(s) sent in clear"),
            json!({}),
        ));
    }

    // PDU rules.
    let mut personal_frames = Vec::new();
    for (p, facts) in tr.pdus.iter().zip(&kt.facts) {
        let mt = p.message_type.as_str();
        if !p.bcc.is_empty()
            && p.direction == "to-client"
            && matches!(mt, "m-retrieve-conf" | "m-notification-ind")
        {
            drafts.push(Draft::new(
                order,
                "bcc-disclosed",
                None,
                id,
                None,
                vec![p.frame],
                format!(
                    "{mt} delivered to the recipient still lists {} Bcc address(es)",
                    p.bcc.len()
                ),
                json!({"message_type": mt, "bcc": p.bcc}),
            ));
        }
        let recipients = p.to.len() + p.cc.len() + p.bcc.len();
        if recipients > 10 {
            drafts.push(Draft::new(
                order,
                "broad-distribution",
                None,
                id,
                None,
                vec![p.frame],
                format!("{mt} addressed to {recipients} recipients"),
                json!({"message_type": mt, "recipients": recipients, "threshold": 10}),
            ));
        }
        let prev = p.headers.keys().any(|k| {
            k.eq_ignore_ascii_case("X-Mms-Previously-Sent-By")
                || k.eq_ignore_ascii_case("X-Mms-Previously-Sent-Date")
        });
        if mt == "m-forward-req" || prev {
            drafts.push(Draft::new(
                order,
                "forwarded-message",
                None,
                id,
                None,
                vec![p.frame],
                "message forwarded".into(),
                json!({"message_type": mt}),
            ));
        }
        let store = p
            .headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("X-Mms-Store") && v.eq_ignore_ascii_case("yes"));
        if MAILBOX_PDUS.contains(&mt) || store {
            drafts.push(Draft::new(
                order,
                "mailbox-storage",
                None,
                id,
                None,
                vec![p.frame],
                format!("{mt}: message kept in the network-side MMBox"),
                json!({"message_type": mt, "store": store}),
            ));
        }
        if has_addresses(p) || facts.personal_text {
            personal_frames.push(p.frame);
        }
    }
    if !personal_frames.is_empty() {
        drafts.push(Draft::new(
            order,
            "personal-data",
            None,
            id,
            None,
            personal_frames,
            "phone numbers and e-mail addresses readable".into(),
            json!({}),
        ));
    }
    for (p, facts) in tr.pdus.iter().zip(&kt.facts) {
        let mut part_findings: Vec<(usize, Draft)> = Vec::new();
        for &(part, gps) in &facts.images {
            part_findings.push((
                part,
                Draft::new(
                    order,
                    "location-metadata",
                    Some(if gps { Severity::High } else { Severity::Low }),
                    id,
                    None,
                    vec![p.frame],
                    "photo reveals where it was taken".into(),
                    json!({"part": part}),
                ),
            ));
        }
        for &part in &facts.cards {
            part_findings.push((
                part,
                Draft::new(
                    order,
                    "contact-card",
                    None,
                    id,
                    None,
                    vec![p.frame],
                    "contact card part".into(),
                    json!({"part": part}),
                ),
            ));
        }
        part_findings.sort_by_key(|(part, _)| *part);
        drafts.extend(part_findings.into_iter().map(|(_, d)| d));
    }
}

/// The token of a content location: the longest query value when there is a query, else the
/// last path segment, reduced to its longest run of URL token characters.
pub fn location_token(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let pq = rest
        .find(['/', '?'])
        .and_then(|i| rest.get(i..))
        .unwrap_or("");
    match pq.split_once('?') {
        Some((_, q)) => q
            .split('&')
            .filter_map(|kv| run(kv.split_once('=').map_or(kv, |(_, v)| v)))
            .max_by_key(|t| t.len()),
        None => pq.rsplit('/').find(|s| !s.is_empty()).and_then(run),
    }
}

fn run(s: &str) -> Option<&str> {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|t| !t.is_empty())
        .max_by_key(|t| t.len())
}

/// Bits of a token by its alphabet: the generator's tokens are either 32 mixed-case
/// alphanumerics (about 190 bits) or a handful of digits (well under 64).
fn token_bits(token: &str) -> f64 {
    let alphabet: f64 = if token.bytes().all(|b| b.is_ascii_digit()) {
        10.0
    } else {
        62.0
    };
    token.len() as f64 * alphabet.log2()
}

/// Lower-cased scheme and host, no default port: how the scanner compares locations.
fn same_location(a: &str, b: &str) -> bool {
    let norm = |u: &str| -> String {
        let Some((scheme, rest)) = u.split_once("://") else {
            return u.to_owned();
        };
        let (host, path) = match rest.find(['/', '?']) {
            Some(i) => (rest.get(..i).unwrap_or(rest), rest.get(i..).unwrap_or("")),
            None => (rest, "/"),
        };
        let host = host.to_ascii_lowercase();
        let host = host.strip_suffix(":80").unwrap_or(&host).to_owned();
        format!("{}://{host}{path}", scheme.to_ascii_lowercase())
    };
    norm(a) == norm(b)
}

fn message_findings(
    drafts: &mut Vec<Draft>,
    order: (usize, usize),
    m: &Message,
    by_id: &BTreeMap<&str, (usize, &Transfer)>,
    tokens: &mut Vec<(String, u64)>,
) {
    let Some(loc) = &m.content_location else {
        return;
    };
    let mut notified: Vec<(String, u64)> = Vec::new();
    let mut fetchers: Vec<(String, String, u64)> = Vec::new();
    for tid in &m.transfers {
        let Some((_, tr)) = by_id.get(tid.as_str()) else {
            continue;
        };
        let client = tr.client.ip.to_string();
        for p in &tr.pdus {
            if p.message_type == "m-notification-ind" && p.direction == "to-client" {
                notified.push((client.clone(), p.frame));
            }
        }
        if let Some(req) = &tr.request
            && same_location(&req.uri, loc)
        {
            let frame = req.frames.first().copied().unwrap_or(tr.first_frame);
            fetchers.push((client.clone(), tr.id.clone(), frame));
        }
    }
    let distinct: BTreeSet<&str> = fetchers.iter().map(|(c, ..)| c.as_str()).collect();
    let notified_set: BTreeSet<&str> = notified.iter().map(|(c, _)| c.as_str()).collect();
    let strangers = !notified_set.is_empty() && distinct.iter().any(|c| !notified_set.contains(c));
    if distinct.len() > 1 || strangers {
        let mut frames: Vec<u64> = fetchers.iter().map(|(_, _, f)| *f).collect();
        frames.extend(notified.iter().map(|(_, f)| *f));
        drafts.push(Draft::new(
            order,
            "shared-retrieval",
            None,
            fetchers.first().map(|(_, t, _)| t.as_str()),
            Some(m.id.as_str()),
            frames,
            format!("{loc} fetched by {} client(s)", distinct.len()),
            json!({"content_location": loc}),
        ));
    }
    if let Some(token) = location_token(loc) {
        let first = m.timeline.first().map(|e| e.frame).unwrap_or(0);
        tokens.push((token.to_owned(), first));
        if token_bits(token) < 64.0 {
            let mut frames: Vec<u64> = m
                .timeline
                .iter()
                .filter(|e| e.message_type == "m-notification-ind")
                .map(|e| e.frame)
                .collect();
            frames.push(first);
            drafts.push(Draft::new(
                order,
                "guessable-content-url",
                None,
                m.transfers.first().map(String::as_str),
                Some(m.id.as_str()),
                frames,
                format!("content location token '{token}' is short"),
                json!({"content_location": loc, "token": token}),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_locations() {
        assert_eq!(
            location_token("http://mmsc.example.com/mms/get?id=Ab3dE9"),
            Some("Ab3dE9")
        );
        assert!(token_bits("1001") < 64.0);
        assert!(token_bits("Qm9yZW1pcHN1bWRvbG9yc2l0YW1ldA12") > 64.0);
        assert!(same_location(
            "HTTP://MMSC.example.com:80/a",
            "http://mmsc.example.com/a"
        ));
        assert!(!same_location(
            "http://mmsc.example.com:8002/a",
            "http://mmsc.example.com/a"
        ));
    }
}
