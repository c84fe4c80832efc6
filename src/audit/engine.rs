//! Applies the detection catalog to transfers and messages.

use super::detect::credentials::{self, Credential};
use super::detect::entropy;
use super::detect::exif::{ExifFacts, read_exif};
use super::detect::identifiers::{self, Address, SubscriberIdKind};
use super::detect::vcard::{self, CardFacts};
use super::rules::{RULES, rule};
use crate::report::model::{Finding, Message, PduReport, Severity};
use crate::transfer::TransferRecord;
use crate::transfer::correlate::{Correlation, location_key};
use crate::transfer::entry::{NodeKind, TransferFacts};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

/// Settings of the audit.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// `broad-distribution` fires above this many recipients.
    pub recipient_threshold: usize,
    /// Tokens with fewer estimated bits than this are guessable.
    pub min_token_bits: f64,
    /// Show passwords and tokens in evidence instead of masking them.
    pub show_secrets: bool,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            recipient_threshold: 10,
            min_token_bits: 64.0,
            show_secrets: false,
        }
    }
}

/// PDU types that carry message content or addresses, as opposed to signalling only.
pub const CONTENT_PDUS: &[&str] = &[
    "m-send-req",
    "m-retrieve-conf",
    "m-notification-ind",
    "m-forward-req",
    "m-mbox-store-req",
    "m-mbox-upload-req",
    "m-mbox-view-conf",
    "m-mbox-descr",
    "m-delivery-ind",
    "m-read-rec-ind",
    "m-read-orig-ind",
];

/// PDU types of the network-side mailbox (MMBox).
pub const MAILBOX_PDUS: &[&str] = &[
    "m-mbox-store-req",
    "m-mbox-store-conf",
    "m-mbox-view-req",
    "m-mbox-view-conf",
    "m-mbox-upload-req",
    "m-mbox-upload-conf",
    "m-mbox-delete-req",
    "m-mbox-delete-conf",
    "m-mbox-descr",
];

/// Headers whose numeric values are never identifiers.
const NUMERIC_HEADERS: &[&str] = &[
    "content-length",
    "age",
    "max-forwards",
    "x-mms-message-size",
    "content-range",
    "range",
    "etag",
    "date",
    "expires",
    "last-modified",
    "if-modified-since",
    "retry-after",
    "keep-alive",
];

/// One finding before its id is assigned. Transfer findings are made as soon as the transfer is
/// built, before its id and its message are known: `transfer` and `message` then only say
/// whether the finding names them ([`Draft::finish`] fills them in).
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    order: (usize, usize),
    rule: &'static str,
    severity: Severity,
    transfer: Option<String>,
    message: Option<String>,
    frames: Vec<u64>,
    title: String,
    evidence: Evidence,
}

/// A finding's evidence: the fields of the most frequent findings as types (a report of a large
/// capture serialises tens of thousands of them, and building JSON objects first cost more than
/// writing them), any other as a JSON object. Either serialises as the object with its keys in
/// alphabetical order; the typed ones declare their fields in that order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Evidence {
    Fields(Map<String, Value>),
    Cleartext(CleartextEvidence),
    PersonalData(PersonalDataEvidence),
    Location(LocationEvidence),
    Retrieval(RetrievalEvidence),
}

impl Evidence {
    /// As a JSON object (what the report model holds).
    pub fn into_map(self) -> Map<String, Value> {
        match self {
            Evidence::Fields(m) => m,
            typed => match serde_json::to_value(typed) {
                Ok(Value::Object(m)) => m,
                // Typed evidence is a struct: always an object.
                _ => Map::new(),
            },
        }
    }
}

impl From<Value> for Evidence {
    fn from(value: Value) -> Evidence {
        Evidence::Fields(match value {
            Value::Object(m) => m,
            other => {
                let mut m = Map::new();
                m.insert("value".into(), other);
                m
            }
        })
    }
}

/// `cleartext-mms`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CleartextEvidence {
    carries_content: bool,
    client: crate::report::model::Endpoint,
    message_types: Vec<String>,
    server: crate::report::model::Endpoint,
    transport: &'static str,
}

/// `personal-data`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PersonalDataEvidence {
    emails: Vec<String>,
    found_in: BTreeSet<&'static str>,
    phone_numbers: Vec<String>,
}

/// `location-metadata`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocationEvidence {
    altitude: Option<f64>,
    latitude: Option<f64>,
    longitude: Option<f64>,
    make: Option<String>,
    model: Option<String>,
    name: Option<String>,
    part: usize,
    taken: Option<String>,
}

/// `unauthenticated-retrieval`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RetrievalEvidence {
    client: String,
    method: String,
    request_headers: Vec<String>,
    uri: String,
}

macro_rules! evidence_from {
    ($($variant:ident($ty:ty)),*) => {
        $(impl From<$ty> for Evidence {
            fn from(e: $ty) -> Evidence {
                Evidence::$variant(e)
            }
        })*
    };
}
evidence_from!(
    Cleartext(CleartextEvidence),
    PersonalData(PersonalDataEvidence),
    Location(LocationEvidence),
    Retrieval(RetrievalEvidence)
);

struct Ctx<'a> {
    config: &'a AuditConfig,
    drafts: Vec<Draft>,
}

impl Ctx<'_> {
    fn mask(&self, secret: &str) -> String {
        if self.config.show_secrets || secret.is_empty() {
            secret.to_owned()
        } else {
            format!("<masked: {} characters>", secret.chars().count())
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        order: (usize, usize),
        rule_id: &'static str,
        severity: Option<Severity>,
        transfer: Option<&str>,
        message: Option<&str>,
        frames: Vec<u64>,
        title: String,
        evidence: impl Into<Evidence>,
    ) {
        let severity = severity
            .or_else(|| rule(rule_id).map(|r| r.severity))
            .unwrap_or(Severity::Info);
        let mut frames = frames;
        frames.sort_unstable();
        frames.dedup();
        let evidence = evidence.into();
        self.drafts.push(Draft {
            order,
            rule: rule_id,
            severity,
            transfer: transfer.map(str::to_owned),
            message: message.map(str::to_owned),
            frames,
            title,
            evidence,
        });
    }
}

fn pdu_has_content(p: &PduReport) -> bool {
    !p.parts.is_empty()
        || p.from.is_some()
        || !p.to.is_empty()
        || !p.cc.is_empty()
        || !p.bcc.is_empty()
        || p.subject.is_some()
        || CONTENT_PDUS.contains(&p.message_type.as_str()) && p.content_location.is_some()
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> impl Iterator<Item = &'h str> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn pdu_header<'p>(p: &'p PduReport, name: &str) -> Option<&'p str> {
    p.headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn endpoint(t: &TransferRecord, client: bool) -> String {
    let e = if client {
        t.transfer.client
    } else {
        t.transfer.server
    };
    match e.ip {
        std::net::IpAddr::V6(ip) => format!("[{ip}]:{}", e.port),
        std::net::IpAddr::V4(ip) => format!("{ip}:{}", e.port),
    }
}

fn rule_index(id: &str) -> usize {
    RULES.iter().position(|r| r.id == id).unwrap_or(RULES.len())
}

impl Draft {
    pub fn severity(&self) -> Severity {
        self.severity
    }

    /// The finding with its id; a transfer finding gets the id of its transfer and (when it
    /// names one) of the message the transfer belongs to.
    pub fn finish(self, id: String, transfer: Option<&str>, message: Option<&str>) -> Finding {
        let f = self.finish_typed(id, transfer, message);
        Finding {
            id: f.id,
            rule: f.rule,
            category: f.category,
            severity: f.severity,
            transfer: f.transfer,
            message: f.message,
            frames: f.frames,
            title: f.title,
            evidence: f.evidence.into_map(),
            remediation: f.remediation,
        }
    }

    /// [`Draft::finish`] with the evidence as the audit made it: what a streamed report
    /// serialises.
    pub fn finish_typed(
        self,
        id: String,
        transfer: Option<&str>,
        message: Option<&str>,
    ) -> Finding<Evidence> {
        let r = rule(self.rule);
        Finding {
            id,
            rule: self.rule,
            category: r.map_or(crate::report::model::Category::Exposure, |r| r.category),
            severity: self.severity,
            transfer: match transfer {
                Some(t) => self.transfer.map(|_| t.to_owned()),
                None => self.transfer,
            },
            message: match (transfer, self.message) {
                // A transfer finding that names a message: the transfer's, if it has one.
                (Some(_), Some(_)) => message.map(str::to_owned),
                (_, m) => m,
            },
            frames: self.frames,
            title: self.title,
            evidence: self.evidence,
            remediation: r.map_or("", |r| r.remediation),
        }
    }
}

/// The findings of one transfer, in catalog order, made from the transfer alone (and the
/// content detections on its parts): everything but the rules that look across messages.
pub fn audit_transfer(t: &TransferRecord, facts: &[PartFacts], config: &AuditConfig) -> Vec<Draft> {
    let mut ctx = Ctx {
        config,
        drafts: Vec::new(),
    };
    transfer_rules(&mut ctx, 0, t, facts);
    retrieval_rule(&mut ctx, 0, t, Some(""));
    let mut drafts = ctx.drafts;
    drafts.sort_by_key(|d| (d.order, rule_index(d.rule)));
    drafts
}

/// A message's content-location token, for the rule over all messages: message id, token,
/// first frame.
pub type LocationToken = (String, String, u64);

/// The findings of one message (shared retrieval, guessable location), in catalog order, and
/// its location token; `members` are the facts of its transfers in `m.transfers` order. Pure:
/// messages can be audited in parallel, their tokens then given to [`MessageAudit`] in order.
pub fn audit_message(
    config: &AuditConfig,
    m: &Message,
    members: &[(usize, TransferFacts)],
) -> (Vec<Draft>, Option<LocationToken>) {
    let mut ctx = Ctx {
        config,
        drafts: Vec::new(),
    };
    let mut tokens = Vec::new();
    message_rules(&mut ctx, m, members, &mut tokens);
    (ctx.drafts, tokens.pop())
}

/// The rules over messages, message by message, and the one over all of them.
pub struct MessageAudit<'a> {
    config: &'a AuditConfig,
    tokens_for_sequence: Vec<LocationToken>,
}

impl<'a> MessageAudit<'a> {
    pub fn new(config: &'a AuditConfig) -> Self {
        MessageAudit {
            config,
            tokens_for_sequence: Vec::new(),
        }
    }

    /// The findings of one message, in catalog order; `members` are the facts of its transfers
    /// in `m.transfers` order.
    pub fn message(&mut self, m: &Message, members: &[(usize, TransferFacts)]) -> Vec<Draft> {
        let mut ctx = Ctx {
            config: self.config,
            drafts: Vec::new(),
        };
        message_rules(&mut ctx, m, members, &mut self.tokens_for_sequence);
        ctx.drafts
    }

    /// The token of the next message, when its findings were made by [`audit_message`].
    pub fn add_token(&mut self, token: Option<LocationToken>) {
        self.tokens_for_sequence.extend(token);
    }

    /// What only all messages together show (sequential tokens); after the last message.
    pub fn finish(self) -> Vec<Draft> {
        let mut ctx = Ctx {
            config: self.config,
            drafts: Vec::new(),
        };
        sequence_rule(&mut ctx, self.tokens_for_sequence);
        ctx.drafts
    }
}

/// Runs every rule over transfers in report order (ids assigned) and returns the findings with
/// ids F1..., ordered by transfer, then message, then rule. `scan` runs the same rules piecewise
/// as transfers become final; this is the whole-report form.
pub fn audit(transfers: &[TransferRecord], config: &AuditConfig) -> Vec<Finding> {
    let correlation = Correlation::of_records(transfers);
    let mut facts = |ti: usize| transfers.get(ti).map(TransferFacts::of);
    let mut findings = Vec::new();
    let per_transfer: Vec<Vec<Draft>> = transfers
        .par_iter()
        .map(|t| audit_transfer(t, &part_facts(t), config))
        .collect();
    for (ti, drafts) in per_transfer.into_iter().enumerate() {
        let tid = transfers.get(ti).map(|t| t.transfer.id.as_str());
        let message = correlation.message_id_of(ti);
        for d in drafts {
            let id = format!("F{}", findings.len() + 1);
            findings.push(d.finish(id, tid, message.as_deref()));
        }
    }
    let id = |ti: usize| {
        transfers
            .get(ti)
            .map(|t| t.transfer.id.clone())
            .unwrap_or_default()
    };
    let mut audit = MessageAudit::new(config);
    for mi in 0..correlation.len() {
        let Some((m, members)) = correlation.message(mi, id, &mut facts) else {
            continue;
        };
        for d in audit.message(&m, &members) {
            let fid = format!("F{}", findings.len() + 1);
            findings.push(d.finish(fid, None, None));
        }
    }
    for d in audit.finish() {
        let fid = format!("F{}", findings.len() + 1);
        findings.push(d.finish(fid, None, None));
    }
    findings
}

/// `unauthenticated-retrieval`: a GET answered with the message (an m-retrieve-conf) whose
/// request carried no Authorization, Proxy-Authorization, cookie or URL credentials — whether or
/// not the notification that announced the URL was captured (it often travels by SMS).
fn retrieval_rule(ctx: &mut Ctx<'_>, ti: usize, t: &TransferRecord, message: Option<&str>) {
    let tr = &t.transfer;
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
    let has_cred = ["authorization", "proxy-authorization", "cookie"]
        .iter()
        .any(|h| header(&req.headers, h).next().is_some())
        || credentials::url_userinfo(&req.uri).is_some();
    if has_cred {
        return;
    }
    let client = client_identity(t);
    let frame = req.frames.first().copied().unwrap_or(tr.first_frame);
    ctx.add(
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
        RetrievalEvidence {
            client,
            method: req.method.clone(),
            request_headers: req.headers.iter().map(|(n, _)| n.clone()).collect(),
            uri: req.uri.clone(),
        },
    );
}

fn transfer_rules(ctx: &mut Ctx<'_>, ti: usize, t: &TransferRecord, facts: &[PartFacts]) {
    let tr = &t.transfer;
    let id = tr.id.as_str();
    let order = (ti, 0);
    let pdu_frames: Vec<u64> = tr.pdus.iter().map(|p| p.frame).collect();

    // weak-encryption
    if tr.encrypted {
        let weak = match tr.transport {
            "wtls" => Some(tr.tls_version.clone().unwrap_or_else(|| "WTLS".to_owned())),
            "tls" => tr
                .tls_version
                .as_deref()
                .filter(|v| matches!(*v, "SSL 2.0" | "SSL 3.0" | "TLS 1.0" | "TLS 1.1"))
                .map(str::to_owned),
            _ => None,
        };
        if let Some(version) = weak {
            ctx.add(
                order,
                "weak-encryption",
                None,
                Some(id),
                None,
                // The hellos show the version; without them, where the connection starts.
                if tr.handshake_frames.is_empty() {
                    vec![tr.first_frame]
                } else {
                    tr.handshake_frames.clone()
                },
                format!(
                    "MMSC traffic protected only by {version} ({} → {})",
                    endpoint(t, true),
                    endpoint(t, false)
                ),
                json!({"transport": tr.transport, "version": version, "sni": tr.sni}),
            );
        }
        return;
    }

    // cleartext-mms
    if !tr.pdus.is_empty() {
        let content = tr.pdus.iter().any(pdu_has_content);
        let types: Vec<&str> = tr.pdus.iter().map(|p| p.message_type.as_str()).collect();
        ctx.add(
            order,
            "cleartext-mms",
            Some(if content {
                Severity::High
            } else {
                Severity::Medium
            }),
            Some(id),
            None,
            pdu_frames.clone(),
            format!(
                "{} readable in cleartext over {} ({} → {})",
                types.join(", "),
                tr.transport,
                endpoint(t, true),
                endpoint(t, false)
            ),
            CleartextEvidence {
                carries_content: content,
                client: tr.client,
                message_types: types.iter().map(|t| (*t).to_owned()).collect(),
                server: tr.server,
                transport: tr.transport,
            },
        );
    }

    headers_rules(ctx, order, t);
    pdu_rules(ctx, order, t);
    part_rules(ctx, order, t, facts);
}

/// A request or response: its name, headers and frames.
type HeaderSide<'a> = (&'static str, &'a [(String, String)], &'a [u64]);

fn headers_rules(ctx: &mut Ctx<'_>, order: (usize, usize), t: &TransferRecord) {
    let tr = &t.transfer;
    let id = tr.id.as_str();
    let mut sides: Vec<HeaderSide<'_>> = Vec::new();
    if let Some(r) = &tr.request {
        sides.push(("request", &r.headers, &r.frames));
    }
    if let Some(r) = &tr.response {
        sides.push(("response", &r.headers, &r.frames));
    }

    // subscriber-id-header
    let mut ids: Vec<Value> = Vec::new();
    let mut id_frames: Vec<u64> = Vec::new();
    for (side, headers, frames) in &sides {
        for (name, value) in headers.iter() {
            let listed = identifiers::subscriber_header(name);
            let shaped = if NUMERIC_HEADERS.iter().any(|h| h.eq_ignore_ascii_case(name)) {
                None
            } else {
                identifiers::classify_identifier(value).filter(|k| {
                    // An MSISDN-shaped value in an arbitrary header needs the E.164 '+' to count.
                    *k != SubscriberIdKind::Msisdn || value.trim().starts_with('+')
                })
            };
            let kind = match (listed, shaped) {
                (Some(SubscriberIdKind::Subscriber), Some(s)) => Some(s),
                (Some(l), _) => Some(l),
                (None, s) => s,
            };
            if let Some(kind) = kind {
                ids.push(
                    json!({"side": side, "header": name, "value": value, "kind": kind.as_str()}),
                );
                id_frames.extend(frames.first().copied());
            }
        }
    }
    if !ids.is_empty() {
        let names: BTreeSet<String> = ids
            .iter()
            .filter_map(|v| v.get("header").and_then(Value::as_str).map(str::to_owned))
            .collect();
        ctx.add(
            order,
            "subscriber-id-header",
            None,
            Some(id),
            None,
            id_frames,
            format!(
                "subscriber identifier in {} header(s): {}",
                ids.len(),
                names.into_iter().collect::<Vec<_>>().join(", ")
            ),
            json!({"headers": ids}),
        );
    }

    // credentials
    let mut creds: Vec<Value> = Vec::new();
    let mut cred_frames: Vec<u64> = Vec::new();
    let mut cred_sev = Severity::High;
    for (side, headers, frames) in &sides {
        for hname in ["authorization", "proxy-authorization"] {
            for value in header(headers, hname) {
                if let Some(c) = credentials::parse_authorization(value) {
                    let (ev, sev) = credential_evidence(ctx, &c, side, hname);
                    cred_sev = cred_sev.max(sev);
                    creds.push(ev);
                    cred_frames.extend(frames.first().copied());
                }
            }
        }
    }
    if let Some(req) = &tr.request
        && let Some(c) = credentials::url_userinfo(&req.uri)
    {
        let (ev, sev) = credential_evidence(ctx, &c, "request", "url");
        cred_sev = cred_sev.max(sev);
        creds.push(ev);
        cred_frames.extend(req.frames.first().copied());
    }
    if !creds.is_empty() {
        let schemes: BTreeSet<String> = creds
            .iter()
            .filter_map(|c| c.get("scheme").and_then(Value::as_str).map(str::to_owned))
            .collect();
        ctx.add(
            order,
            "credentials",
            Some(cred_sev),
            Some(id),
            None,
            cred_frames,
            format!(
                "credentials readable in cleartext ({})",
                schemes.into_iter().collect::<Vec<_>>().join(", ")
            ),
            json!({"credentials": creds}),
        );
    }

    // session-token
    let mut tokens: Vec<Value> = Vec::new();
    let mut token_frames: Vec<u64> = Vec::new();
    for (side, headers, frames) in &sides {
        for hname in ["cookie", "set-cookie"] {
            for value in header(headers, hname) {
                let pairs = credentials::cookies(value);
                let pairs = if hname == "set-cookie" {
                    pairs.into_iter().take(1).collect()
                } else {
                    pairs
                };
                for (n, v) in pairs {
                    tokens.push(
                        json!({"side": side, "where": hname, "name": n, "value": ctx.mask(&v)}),
                    );
                    token_frames.extend(frames.first().copied());
                }
            }
        }
    }
    if let Some(req) = &tr.request {
        for (n, v) in credentials::url_tokens(&req.uri) {
            tokens
                .push(json!({"side": "request", "where": "url", "name": n, "value": ctx.mask(&v)}));
            token_frames.extend(req.frames.first().copied());
        }
    }
    if !tokens.is_empty() {
        ctx.add(
            order,
            "session-token",
            None,
            Some(id),
            None,
            token_frames,
            format!("{} session token(s) sent in clear", tokens.len()),
            json!({"tokens": tokens}),
        );
    }
}

fn credential_evidence(
    ctx: &Ctx<'_>,
    c: &Credential,
    side: &str,
    place: &str,
) -> (Value, Severity) {
    match c {
        Credential::Basic { user, password } => (
            json!({"side": side, "header": place, "scheme": "basic", "user": user, "password": ctx.mask(password)}),
            Severity::Critical,
        ),
        Credential::Digest { user, realm } => (
            json!({"side": side, "header": place, "scheme": "digest", "user": user, "realm": realm}),
            Severity::High,
        ),
        Credential::Token { scheme, token } => (
            json!({"side": side, "header": place, "scheme": scheme, "token": ctx.mask(token)}),
            Severity::High,
        ),
        Credential::UrlUserinfo { user, password } => (
            json!({"side": side, "header": place, "scheme": "url-userinfo", "user": user,
                   "password": password.as_deref().map(|p| ctx.mask(p))}),
            if password.is_some() {
                Severity::Critical
            } else {
                Severity::High
            },
        ),
    }
}

fn pdu_rules(ctx: &mut Ctx<'_>, order: (usize, usize), t: &TransferRecord) {
    let tr = &t.transfer;
    let id = tr.id.as_str();
    let mut phones = UniqueList::default();
    let mut emails = UniqueList::default();
    let mut places: BTreeSet<&'static str> = BTreeSet::new();
    let mut personal_frames: Vec<u64> = Vec::new();
    for p in &tr.pdus {
        let mt = p.message_type.as_str();

        // bcc-disclosed
        if !p.bcc.is_empty()
            && p.direction == "to-client"
            && matches!(mt, "m-retrieve-conf" | "m-notification-ind")
        {
            ctx.add(
                order,
                "bcc-disclosed",
                None,
                Some(id),
                None,
                vec![p.frame],
                format!(
                    "{mt} delivered to the recipient still lists {} Bcc address(es)",
                    p.bcc.len()
                ),
                json!({"message_type": mt, "bcc": p.bcc}),
            );
        }

        // broad-distribution
        let recipients = p.to.len() + p.cc.len() + p.bcc.len();
        if recipients > ctx.config.recipient_threshold {
            ctx.add(
                order,
                "broad-distribution",
                None,
                Some(id),
                None,
                vec![p.frame],
                format!("{mt} addressed to {recipients} recipients"),
                json!({"message_type": mt, "recipients": recipients, "threshold": ctx.config.recipient_threshold}),
            );
        }

        // forwarded-message
        let prev_by = pdu_header(p, "X-Mms-Previously-Sent-By");
        let prev_date = pdu_header(p, "X-Mms-Previously-Sent-Date");
        if mt == "m-forward-req" || prev_by.is_some() || prev_date.is_some() {
            ctx.add(
                order,
                "forwarded-message",
                None,
                Some(id),
                None,
                vec![p.frame],
                if mt == "m-forward-req" {
                    format!("message forwarded to {} recipient(s)", recipients)
                } else {
                    "forwarding chain exposed by Previously-Sent headers".to_owned()
                },
                json!({"message_type": mt, "previously_sent_by": prev_by, "previously_sent_date": prev_date,
                       "to": p.to, "content_location": p.content_location}),
            );
        }

        // mailbox-storage
        let store = pdu_header(p, "X-Mms-Store").is_some_and(|v| v.eq_ignore_ascii_case("yes"));
        if MAILBOX_PDUS.contains(&mt) || store {
            ctx.add(
                order,
                "mailbox-storage",
                None,
                Some(id),
                None,
                vec![p.frame],
                format!("{mt}: message kept in the network-side MMBox"),
                json!({"message_type": mt, "store": store}),
            );
        }

        // personal-data in addresses and subject
        for addr in p.from.iter().chain(&p.to).chain(&p.cc).chain(&p.bcc) {
            match identifiers::normalize_address(addr) {
                Address::Phone(n) => {
                    places.insert("addresses");
                    phones.push(n);
                    personal_frames.push(p.frame);
                }
                Address::Email(e) => {
                    places.insert("addresses");
                    emails.push(e);
                    personal_frames.push(p.frame);
                }
                Address::Other(_) => {}
            }
        }
        if let Some(subject) = &p.subject {
            let (ph, em) = (
                identifiers::find_phone_numbers(subject),
                identifiers::find_emails(subject),
            );
            if !ph.is_empty() || !em.is_empty() {
                places.insert("subject");
                personal_frames.push(p.frame);
            }
            ph.into_iter().for_each(|x| phones.push(x));
            em.into_iter().for_each(|x| emails.push(x));
        }
    }
    for (pdu, _part, text) in &t.texts {
        let (ph, em) = (
            identifiers::find_phone_numbers(text),
            identifiers::find_emails(text),
        );
        if !ph.is_empty() || !em.is_empty() {
            places.insert("text");
            personal_frames.extend(tr.pdus.get(*pdu).map(|p| p.frame));
        }
        ph.into_iter().for_each(|x| phones.push(x));
        em.into_iter().for_each(|x| emails.push(x));
    }
    let (phones, emails) = (phones.items, emails.items);
    if !phones.is_empty() || !emails.is_empty() {
        ctx.add(
            order,
            "personal-data",
            None,
            Some(id),
            None,
            personal_frames,
            format!(
                "{} phone number(s) and {} e-mail address(es) readable in {}",
                phones.len(),
                emails.len(),
                places.iter().copied().collect::<Vec<_>>().join(", ")
            ),
            PersonalDataEvidence {
                emails,
                found_in: places,
                phone_numbers: phones,
            },
        );
    }
}

/// Values in the order first found, each once (a set beside the list: a crafted PDU can name
/// any number of addresses).
#[derive(Default)]
struct UniqueList {
    items: Vec<String>,
    seen: std::collections::HashSet<String>,
}

impl UniqueList {
    fn push(&mut self, s: String) {
        if self.seen.insert(s.clone()) {
            self.items.push(s);
        }
    }
}

/// `v` rounded to `decimals` places.
fn round_to(v: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (v * scale).round() / scale
}

/// What the detectors found in one part's bytes. Computed as soon as a transfer is built, so the
/// bytes need not be kept until the audit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartFacts {
    /// Index of the PDU in the transfer, and of the part in the PDU.
    pub pdu: usize,
    pub part: usize,
    pub exif: Option<ExifFacts>,
    pub card: Option<CardFacts>,
}

/// Runs the content detectors (EXIF, vCard/vCalendar) over every part of a transfer.
pub fn part_facts(t: &TransferRecord) -> Vec<PartFacts> {
    t.parts
        .iter()
        .filter_map(|part| {
            let ct = part.content_type.to_ascii_lowercase();
            let exif = (ct.starts_with("image/") || part.data.starts_with(&[0xFF, 0xD8]))
                .then(|| read_exif(&part.data))
                .flatten()
                .filter(|f| !f.is_empty());
            let card = vcard::is_card(&part.content_type, &part.data)
                .then(|| vcard::parse_card(&part.data));
            (exif.is_some() || card.is_some()).then_some(PartFacts {
                pdu: part.pdu,
                part: part.part,
                exif,
                card,
            })
        })
        .collect()
}

fn part_rules(ctx: &mut Ctx<'_>, order: (usize, usize), t: &TransferRecord, facts: &[PartFacts]) {
    let tr = &t.transfer;
    let id = tr.id.as_str();
    for f in facts {
        let frame = tr.pdus.get(f.pdu).map(|p| p.frame);
        let name = tr
            .pdus
            .get(f.pdu)
            .and_then(|p| p.parts.iter().find(|pp| pp.index == f.part))
            .and_then(|pp| pp.name.clone());
        if let Some(facts) = &f.exif {
            let sev = if facts.has_gps() {
                Severity::High
            } else {
                Severity::Low
            };
            let title = match (facts.latitude, facts.longitude) {
                (Some(lat), Some(lon)) => format!(
                    "photo {} reveals where it was taken: {lat:.6}, {lon:.6}",
                    name.as_deref().unwrap_or("(unnamed)")
                ),
                _ => format!(
                    "photo {} carries device metadata",
                    name.as_deref().unwrap_or("(unnamed)")
                ),
            };
            ctx.add(
                order,
                "location-metadata",
                Some(sev),
                Some(id),
                None,
                frame.into_iter().collect(),
                title,
                // Seven decimals of a degree are about a centimetre: more is float noise.
                LocationEvidence {
                    altitude: facts.altitude.map(|v| round_to(v, 2)),
                    latitude: facts.latitude.map(|v| round_to(v, 7)),
                    longitude: facts.longitude.map(|v| round_to(v, 7)),
                    make: facts.make.clone(),
                    model: facts.model.clone(),
                    name: name.clone(),
                    part: f.part,
                    taken: facts.taken.clone(),
                },
            );
        }
        if let Some(card) = &f.card {
            ctx.add(
                order,
                "contact-card",
                None,
                Some(id),
                None,
                frame.into_iter().collect(),
                format!(
                    "{} part {} with {} name(s), {} phone number(s), {} e-mail(s)",
                    card.kind,
                    name.as_deref().unwrap_or("(unnamed)"),
                    card.names.len(),
                    card.phones.len(),
                    card.emails.len()
                ),
                json!({"part": f.part, "kind": card.kind, "names": card.names, "phone_numbers": card.phones,
                       "emails": card.emails, "addresses": card.addresses, "events": card.events}),
            );
        }
    }
}

fn message_rules(
    ctx: &mut Ctx<'_>,
    m: &Message,
    members: &[(usize, TransferFacts)],
    tokens_for_sequence: &mut Vec<(String, String, u64)>,
) {
    let order = (0, 0);
    let Some(loc) = &m.content_location else {
        return;
    };
    let key = location_key(loc);
    // Who was notified: the client of a transfer that carried the notification to it.
    let mut notified: Vec<(String, u64)> = Vec::new();
    // Who fetched: clients of transfers whose request asked for this location.
    let mut fetchers: Vec<(String, &str, u64, bool)> = Vec::new();
    for ((_, f), tid) in members.iter().zip(&m.transfers) {
        let client = f.client_ip.to_string();
        for p in &f.pdus {
            if p.kind == NodeKind::Notification && p.to_client {
                notified.push((client.clone(), p.frame));
            }
        }
        if let Some(r) = &f.request
            && location_key(&r.uri) == key
        {
            fetchers.push((
                client.clone(),
                tid.as_str(),
                r.frame,
                f.carries_retrieve_conf(),
            ));
        }
    }
    let distinct: BTreeSet<&str> = fetchers.iter().map(|(c, ..)| c.as_str()).collect();
    let notified_clients: BTreeSet<&str> = notified.iter().map(|(c, _)| c.as_str()).collect();
    let strangers: Vec<&str> = if notified_clients.is_empty() {
        Vec::new()
    } else {
        distinct
            .iter()
            .copied()
            .filter(|c| !notified_clients.contains(c))
            .collect()
    };
    if distinct.len() > 1 || !strangers.is_empty() {
        let mut frames: Vec<u64> = fetchers.iter().map(|(_, _, f, _)| *f).collect();
        frames.extend(notified.iter().map(|(_, f)| *f));
        ctx.add(
            order,
            "shared-retrieval",
            None,
            fetchers.first().map(|(_, t, ..)| *t),
            Some(m.id.as_str()),
            frames,
            format!(
                "{} fetched by {} client(s){}",
                loc,
                distinct.len(),
                if strangers.is_empty() {
                    String::new()
                } else {
                    format!(", {} of them not the notified recipient", strangers.len())
                }
            ),
            json!({"content_location": loc,
                   "fetches": fetchers.iter().map(|(c, t, f, ok)| json!({"client": c, "transfer": t, "frame": f, "answered": ok})).collect::<Vec<_>>(),
                   "notified": notified.iter().map(|(c, f)| json!({"client": c, "frame": f})).collect::<Vec<_>>()}),
        );
    }

    // guessable-content-url (per message)
    if let Some(token) = entropy::location_token(loc) {
        let bits = entropy::token_entropy_bits(token);
        let first_frame = m.timeline.first().map(|e| e.frame).unwrap_or(0);
        tokens_for_sequence.push((m.id.clone(), token.to_owned(), first_frame));
        if bits < ctx.config.min_token_bits {
            ctx.add(
                order,
                "guessable-content-url",
                None,
                m.transfers.first().map(String::as_str),
                Some(m.id.as_str()),
                m.timeline.iter().filter(|e| e.message_type == "m-notification-ind").map(|e| e.frame).chain(std::iter::once(first_frame)).collect(),
                format!("content location token '{token}' has only about {bits:.0} bits of entropy"),
                json!({"content_location": loc, "token": token, "length": token.chars().count(),
                       "entropy_bits": (bits * 10.0).round() / 10.0, "minimum_bits": ctx.config.min_token_bits}),
            );
        }
    }
}

/// Sequential tokens across messages.
fn sequence_rule(ctx: &mut Ctx<'_>, tokens_for_sequence: Vec<(String, String, u64)>) {
    if tokens_for_sequence.len() < 2 {
        return;
    }
    let toks: Vec<&str> = tokens_for_sequence
        .iter()
        .map(|(_, t, _)| t.as_str())
        .collect();
    if entropy::sequential(&toks, 16) {
        ctx.add(
            (0, 1),
            "guessable-content-url",
            None,
            None,
            None,
            tokens_for_sequence.iter().map(|(_, _, f)| *f).collect(),
            format!("content location tokens of {} messages are sequential", toks.len()),
            json!({"tokens": toks, "messages": tokens_for_sequence.iter().map(|(m, ..)| m.clone()).collect::<Vec<_>>(), "sequential": true}),
        );
    }
}

/// A client as the audit compares them: its (inner) address. Tunnel ids are not part of it: a
/// GTP-U tunnel has different TEIDs uplink and downlink, so the push that notifies a phone and the
/// GET it sends carry different TEIDs.
fn client_identity(t: &TransferRecord) -> String {
    t.transfer.client.ip.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::Endpoint;

    /// Typed evidence serialises as the JSON object the report model holds (keys sorted, a
    /// non-finite number as null), so streamed and in-memory reports agree.
    #[test]
    fn typed_evidence_serialises_as_its_object() {
        let ep = |last: u8, port| Endpoint {
            ip: std::net::IpAddr::from([198, 51, 100, last]),
            port,
        };
        let cases: Vec<Evidence> = vec![
            CleartextEvidence {
                carries_content: true,
                client: ep(1, 5000),
                message_types: vec!["m-send-req".into(), "m-send-conf".into()],
                server: ep(2, 80),
                transport: "http",
            }
            .into(),
            PersonalDataEvidence {
                emails: vec!["a@example.com".into()],
                found_in: ["text", "addresses"].into_iter().collect(),
                phone_numbers: Vec::new(),
            }
            .into(),
            LocationEvidence {
                altitude: Some(f64::NAN),
                latitude: Some(-57.933_52),
                longitude: None,
                make: Some("Example \"Cam\"\n".into()),
                model: None,
                name: Some("IMG_1.jpg".into()),
                part: 3,
                taken: Some("2024:11:22 03:01:26".into()),
            }
            .into(),
            RetrievalEvidence {
                client: "198.51.100.9".into(),
                method: "GET".into(),
                request_headers: vec!["Host".into()],
                uri: "http://mmsc.example.com/x?y=1".into(),
            }
            .into(),
            json!({"b": 1, "a": [true]}).into(),
        ];
        for e in cases {
            let direct = serde_json::to_string_pretty(&e).unwrap();
            let object = serde_json::to_string_pretty(&e.clone().into_map()).unwrap();
            assert_eq!(direct, object);
        }
    }
}
