//! Pseudonymising a report (`--redact`), so that it can be shared with a client, a class or a
//! bug tracker without the personal data it found.
//!
//! Phone numbers, e-mail addresses, subscriber identifiers (MSISDN, IMSI, IMEI), names from
//! vCards and credentials (users, passwords, tokens, cookie values) become keyed pseudonyms:
//! `kind:` and the first 8 hex digits of HMAC-SHA-256(key, kind ‖ 0 ‖ canonical value). The same
//! value gives the same pseudonym everywhere in a report (and across reports redacted with the
//! same key), so an instructor can still follow one subscriber through a capture; without the key
//! a pseudonym cannot be checked against a guessed number. Phone numbers are reduced to their
//! digits first, so `+1-555-0101`, `+15550101/TYPE=PLMN` and `15550101` are one subscriber.
//! Coordinates are rounded to two decimals (about 1 km); subjects, message text, postal addresses
//! and calendar entries are withheld.
//!
//! Redaction works in two passes: the first learns every identifying value found in a structured
//! place (addresses, enrichment headers, credentials, evidence lists); the second rewrites every
//! string of the report, replacing what the patterns recognise (URLs' userinfo and token
//! parameters, e-mail addresses, phone-number-like digit runs, coordinates) and any occurrence of
//! a value learnt in the first pass.

use super::model::{PduReport, Report};
use crate::audit::detect::credentials::{self, Credential, TOKEN_PARAMS};
use crate::audit::detect::identifiers::{
    self, Address, SubscriberIdKind, classify_identifier, normalize_address,
};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

type HmacSha256 = Hmac<Sha256>;

/// What replaces subjects, message text and other free text that cannot be pseudonymised.
pub const WITHHELD: &str = "[withheld]";

/// Hex digits of the HMAC kept in a pseudonym (32 bits: collisions within one report are rare,
/// and the value cannot be brute-forced back without the key anyway).
const PSEUDONYM_HEX: usize = 8;

/// Coordinates keep this many decimals: 0.01° is about 1.1 km of latitude.
const COORDINATE_SCALE: f64 = 100.0;

/// Learnt values shorter than this are not searched for in free text (too many false matches).
const MIN_LITERAL_CHARS: usize = 3;
const MIN_SECRET_CHARS: usize = 4;

/// Headers of an MMS PDU whose values are addresses (OMA-TS-MMS-ENC 7.3).
const ADDRESS_HEADERS: &[&str] = &["from", "to", "cc", "bcc", "x-mms-previously-sent-by"];

/// Query parameters that carry a subscriber's identity.
const IDENTITY_PARAMS: &[(&str, Option<SubscriberIdKind>)] = &[
    ("msisdn", Some(SubscriberIdKind::Msisdn)),
    ("mdn", Some(SubscriberIdKind::Msisdn)),
    ("phone", Some(SubscriberIdKind::Msisdn)),
    ("tel", Some(SubscriberIdKind::Msisdn)),
    ("imsi", Some(SubscriberIdKind::Imsi)),
    ("imei", Some(SubscriberIdKind::Imei)),
    ("user", None),
    ("username", None),
    ("login", None),
    ("email", None),
    ("mail", None),
];

/// A random 32-byte key for one run (pseudonyms then differ from run to run).
pub fn random_key() -> [u8; 32] {
    let mut key = [0u8; 32];
    if getrandom::fill(&mut key).is_err() {
        // No OS randomness: fall back on the process-wide random seed of std's hasher, the
        // clock and the process id. Weaker, but still unknown to whoever reads the report.
        use std::hash::{BuildHasher, Hasher};
        let mut h = Sha256::new();
        for i in 0..4u8 {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u8(i);
            h.update(hasher.finish().to_le_bytes());
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        h.update(now.to_le_bytes());
        h.update(std::process::id().to_le_bytes());
        key.copy_from_slice(&h.finalize());
    }
    key
}

/// The key for `--redact-key PASSPHRASE`: SHA-256 of the passphrase, so the same phrase gives the
/// same pseudonyms in every report.
pub fn key_from_passphrase(passphrase: &str) -> [u8; 32] {
    Sha256::digest(passphrase.as_bytes()).into()
}

/// Replaces personal data in `report` by keyed pseudonyms (see the module documentation).
pub fn redact(report: &mut Report, key: &[u8]) {
    let mut r = Redactor {
        key,
        known: BTreeMap::new(),
        literals: Vec::new(),
    };
    r.learn_report(report);
    r.freeze();
    r.rewrite_report(report);
}

/// A piece of a string being rewritten: still to be examined, or final.
enum Seg {
    Raw(String),
    Done(String),
}

/// A replacement found in a raw piece: byte range and new text.
type Span = (usize, usize, String);

struct Redactor<'k> {
    key: &'k [u8],
    /// Learnt values (ASCII-lower-cased) → their pseudonyms.
    known: BTreeMap<String, String>,
    /// The same, longest first, for searching free text.
    literals: Vec<(String, String)>,
}

fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}

fn is_masked(s: &str) -> bool {
    s.starts_with("<masked:")
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric()
}

fn is_token_name(name: &str) -> bool {
    let lower = name.trim().to_ascii_lowercase();
    TOKEN_PARAMS.iter().any(|t| {
        lower == *t
            || lower
                .strip_suffix(t)
                .is_some_and(|head| head.ends_with(['_', '-']))
    })
}

fn identity_param(name: &str) -> Option<Option<SubscriberIdKind>> {
    let lower = name.trim().to_ascii_lowercase();
    let lower = lower.strip_prefix("x-").unwrap_or(&lower);
    IDENTITY_PARAMS
        .iter()
        .find(|(n, _)| *n == lower)
        .map(|(_, k)| *k)
}

/// `Previously-Sent-By` is shown as `<count>: <address>`.
fn strip_count(v: &str) -> &str {
    match v.split_once(':') {
        Some((n, rest)) if !n.trim().is_empty() && n.trim().bytes().all(|b| b.is_ascii_digit()) => {
            rest.trim()
        }
        _ => v.trim(),
    }
}

impl Redactor<'_> {
    // ---- pseudonyms -------------------------------------------------------------------------

    fn tag(&self, kind: &str, canonical: &str) -> String {
        let digest: Vec<u8> = match <HmacSha256 as Mac>::new_from_slice(self.key) {
            Ok(mut mac) => {
                mac.update(kind.as_bytes());
                mac.update(&[0]);
                mac.update(canonical.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            // HMAC takes keys of any length; kept total all the same.
            Err(_) => {
                let mut h = Sha256::new();
                h.update(self.key);
                h.update(kind.as_bytes());
                h.update([0]);
                h.update(canonical.as_bytes());
                h.finalize().to_vec()
            }
        };
        let hex: String = digest
            .iter()
            .take(PSEUDONYM_HEX / 2)
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("{kind}:{hex}")
    }

    fn phone(&self, raw: &str) -> String {
        let d = digits(raw);
        if d.is_empty() {
            self.tag("phone", raw.trim())
        } else {
            self.tag("phone", &d)
        }
    }

    fn email(&self, raw: &str) -> String {
        self.tag("email", &raw.trim().to_lowercase())
    }

    fn name(&self, raw: &str) -> String {
        let canonical = raw
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase();
        self.tag("name", &canonical)
    }

    fn secret(&self, raw: &str) -> String {
        self.tag("secret", raw)
    }

    fn token(&self, raw: &str) -> String {
        self.tag("token", raw.trim())
    }

    /// A subscriber identifier, by its shape first, then by what its header is known to carry.
    fn identifier(&self, listed: Option<SubscriberIdKind>, raw: &str) -> String {
        let v = raw.trim();
        let kind = classify_identifier(v).or(listed);
        match kind {
            Some(SubscriberIdKind::Msisdn) if digits(v).len() >= 5 => self.phone(v),
            Some(SubscriberIdKind::Imsi) if !digits(v).is_empty() => self.tag("imsi", &digits(v)),
            Some(SubscriberIdKind::Imei) if !digits(v).is_empty() => self.tag("imei", &digits(v)),
            _ => self.tag("subscriber", v),
        }
    }

    /// A user name: a phone number or e-mail address gets that pseudonym, so one subscriber keeps
    /// one pseudonym wherever it appears.
    fn user(&self, raw: &str) -> String {
        if is_masked(raw) || raw.is_empty() {
            return raw.to_owned();
        }
        match normalize_address(raw) {
            Address::Phone(n) if classify_identifier(&n).is_some() => self.identifier(None, &n),
            Address::Email(e) => self.email(&e),
            _ => self.tag("user", raw),
        }
    }

    /// An MMS address as encoded (`+15550101/TYPE=PLMN`, `a@example.com`, `192.0.2.1/TYPE=IPv4`).
    fn address(&self, raw: &str) -> String {
        match normalize_address(raw) {
            Address::Phone(n) => self.phone(&n),
            Address::Email(e) => self.email(&e),
            Address::Other(o) => self.text(&o),
        }
    }

    fn address_list(&self, raw: &str) -> String {
        raw.split(',')
            .map(|a| self.address(strip_count(a)))
            .collect::<Vec<_>>()
            .join(", ")
    }

    // ---- pass 1: learning -------------------------------------------------------------------

    fn learn(&mut self, literal: &str, pseudonym: String, min_chars: usize) {
        let literal = literal.trim();
        if literal.chars().count() < min_chars || is_masked(literal) {
            return;
        }
        self.known
            .entry(literal.to_ascii_lowercase())
            .or_insert(pseudonym);
    }

    fn learn_phone(&mut self, raw: &str) {
        let p = self.phone(raw);
        let d = digits(raw);
        if d.len() >= 7 {
            self.learn(&d, p.clone(), 7);
            self.learn(&format!("+{d}"), p.clone(), 7);
        }
        self.learn(raw, p, 7);
    }

    fn learn_identifier(&mut self, listed: Option<SubscriberIdKind>, raw: &str) {
        let p = self.identifier(listed, raw);
        if p.starts_with("phone:") {
            self.learn_phone(raw);
        } else {
            let d = digits(raw);
            if d.len() >= 7 {
                self.learn(&d, p.clone(), 7);
            }
            self.learn(raw, p, MIN_SECRET_CHARS);
        }
    }

    fn learn_email(&mut self, raw: &str) {
        let p = self.email(raw);
        self.learn(raw, p, MIN_LITERAL_CHARS);
    }

    fn learn_address(&mut self, raw: &str) {
        match normalize_address(strip_count(raw)) {
            Address::Phone(n) => self.learn_phone(&n),
            Address::Email(e) => self.learn_email(&e),
            Address::Other(_) => {}
        }
    }

    fn learn_name(&mut self, raw: &str) {
        let p = self.name(raw);
        self.learn(raw, p, MIN_LITERAL_CHARS);
        for part in raw.split(|c: char| c.is_whitespace() || c == ',' || c == ';') {
            let p = self.name(part);
            self.learn(part, p, MIN_LITERAL_CHARS);
        }
    }

    fn learn_user(&mut self, raw: &str) {
        let p = self.user(raw);
        self.learn(raw, p, MIN_LITERAL_CHARS);
    }

    fn learn_secret(&mut self, raw: &str) {
        let p = self.secret(raw);
        self.learn(raw, p, MIN_SECRET_CHARS);
    }

    fn learn_token(&mut self, raw: &str) {
        let p = self.token(raw);
        self.learn(raw, p, MIN_SECRET_CHARS);
    }

    fn learn_credential(&mut self, c: &Credential) {
        match c {
            Credential::Basic { user, password } => {
                self.learn_user(user);
                self.learn_secret(password);
            }
            Credential::Digest { user, .. } => {
                if let Some(u) = user {
                    self.learn_user(u);
                }
            }
            Credential::Token { token, .. } => self.learn_token(token),
            Credential::UrlUserinfo { user, password } => {
                self.learn_user(user);
                if let Some(p) = password {
                    self.learn_secret(p);
                }
            }
        }
    }

    fn learn_uri(&mut self, uri: &str) {
        if let Some(c) = credentials::url_userinfo(uri) {
            self.learn_credential(&c);
        }
        for (name, value) in query_pairs(uri) {
            if is_token_name(name) {
                self.learn_token(value);
            } else if let Some(kind) = identity_param(name) {
                match kind {
                    Some(k) => self.learn_identifier(Some(k), value),
                    None => self.learn_user(value),
                }
            }
        }
    }

    fn learn_headers(&mut self, headers: &[(String, String)]) {
        for (name, value) in headers {
            let lname = name.trim().to_ascii_lowercase();
            if let Some(kind) = identifiers::subscriber_header(name) {
                self.learn_identifier(Some(kind), value);
            } else if lname == "authorization" || lname == "proxy-authorization" {
                if let Some(c) = credentials::parse_authorization(value) {
                    self.learn_credential(&c);
                }
            } else if lname == "cookie" || lname == "set-cookie" {
                let pairs = credentials::cookies(value);
                let n = if lname == "set-cookie" {
                    1
                } else {
                    pairs.len()
                };
                for (_, v) in pairs.iter().take(n) {
                    self.learn_token(v);
                }
            }
        }
    }

    fn learn_pdu(&mut self, p: &PduReport) {
        for a in p.from.iter().chain(&p.to).chain(&p.cc).chain(&p.bcc) {
            self.learn_address(a);
        }
        for (k, v) in &p.headers {
            if ADDRESS_HEADERS.contains(&k.to_ascii_lowercase().as_str()) {
                for a in v.split(',') {
                    self.learn_address(a);
                }
            }
        }
        if let Some(loc) = &p.content_location {
            self.learn_uri(loc);
        }
    }

    fn learn_evidence(&mut self, v: &Value, key: Option<&str>, parent: Option<&str>) {
        match v {
            Value::Object(map) => {
                let kind = map.get("kind").and_then(Value::as_str).and_then(id_kind);
                for (k, child) in map {
                    if k == "value"
                        && let (Some(kind), Some(s)) = (kind, child.as_str())
                    {
                        self.learn_identifier(Some(kind), s);
                        continue;
                    }
                    self.learn_evidence(child, Some(k), key);
                }
            }
            Value::Array(items) => {
                for i in items {
                    self.learn_evidence(i, key, parent);
                }
            }
            Value::String(s) => match key {
                Some("names") => self.learn_name(s),
                Some("phone_numbers" | "phones") => self.learn_phone(s),
                Some("emails") => self.learn_email(s),
                Some("from" | "to" | "cc" | "bcc" | "previously_sent_by") => self.learn_address(s),
                Some("user" | "username" | "login") => self.learn_user(s),
                Some("password" | "passwd" | "pwd" | "secret") => self.learn_secret(s),
                Some("value") if parent == Some("tokens") => self.learn_token(s),
                Some("uri" | "url") => self.learn_uri(s),
                _ => {}
            },
            _ => {}
        }
    }

    fn learn_report(&mut self, report: &Report) {
        for t in &report.transfers {
            if let Some(req) = &t.request {
                self.learn_uri(&req.uri);
                self.learn_headers(&req.headers);
            }
            if let Some(resp) = &t.response {
                self.learn_headers(&resp.headers);
            }
            for p in &t.pdus {
                self.learn_pdu(p);
            }
        }
        for f in &report.findings {
            for (k, v) in &f.evidence {
                // Credentials evidence hold `token` at the top of each entry.
                if k == "credentials"
                    && let Value::Array(items) = v
                {
                    for c in items.iter().filter_map(Value::as_object) {
                        if let Some(tok) = c.get("token").and_then(Value::as_str) {
                            self.learn_token(tok);
                        }
                    }
                }
                self.learn_evidence(v, Some(k), None);
            }
        }
    }

    fn freeze(&mut self) {
        let mut lits: Vec<(String, String)> = self
            .known
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        lits.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        self.literals = lits;
    }

    // ---- pass 2: rewriting ------------------------------------------------------------------

    /// Free text: URLs, e-mail addresses, coordinates, phone numbers and learnt values.
    fn text(&self, s: &str) -> String {
        if s.is_empty() {
            return String::new();
        }
        let mut segs = Vec::new();
        let mut last = 0;
        for (a, b) in url_spans(s) {
            if let (Some(before), Some(url)) = (s.get(last..a), s.get(a..b)) {
                if !before.is_empty() {
                    segs.push(Seg::Raw(before.to_owned()));
                }
                segs.extend(self.uri_segments(url));
                last = b;
            }
        }
        if let Some(rest) = s.get(last..)
            && !rest.is_empty()
        {
            segs.push(Seg::Raw(rest.to_owned()));
        }
        self.finish(segs)
    }

    /// Identifiers (message ids, transaction ids, content ids): e-mail addresses and learnt values
    /// only, so that dates and counters inside them are not mistaken for phone numbers.
    fn id(&self, s: &str) -> String {
        let segs = vec![Seg::Raw(s.to_owned())];
        let segs = apply(segs, |t| self.email_spans(t));
        let segs = apply(segs, |t| self.literal_spans(t));
        segs.into_iter()
            .map(|s| match s {
                Seg::Raw(x) | Seg::Done(x) => x,
            })
            .collect()
    }

    fn uri(&self, u: &str) -> String {
        self.finish(self.uri_segments(u))
    }

    fn finish(&self, segs: Vec<Seg>) -> String {
        let segs = apply(segs, |t| self.email_spans(t));
        let segs = apply(segs, coordinate_spans);
        let segs = apply(segs, |t| self.phone_spans(t));
        let segs = apply(segs, |t| self.literal_spans(t));
        segs.into_iter()
            .map(|s| match s {
                Seg::Raw(x) | Seg::Done(x) => x,
            })
            .collect()
    }

    /// A URL with its userinfo, token parameters and identity parameters pseudonymised; the
    /// rest is left raw for the other passes.
    fn uri_segments(&self, u: &str) -> Vec<Seg> {
        let mut segs = Vec::new();
        let rest = match u.split_once("://") {
            Some((scheme, rest)) => {
                segs.push(Seg::Raw(format!("{scheme}://")));
                let end = rest.find(['/', '?', '#', ';']).unwrap_or(rest.len());
                let (authority, tail) = rest.split_at_checked(end).unwrap_or((rest, ""));
                match authority.rsplit_once('@') {
                    Some((userinfo, host)) => {
                        let (user, password) = match userinfo.split_once(':') {
                            Some((u, p)) => (u, Some(p)),
                            None => (userinfo, None),
                        };
                        let mut done = self.user(user);
                        if let Some(p) = password {
                            done.push(':');
                            done.push_str(&self.secret(p));
                        }
                        done.push('@');
                        segs.push(Seg::Done(done));
                        segs.push(Seg::Raw(host.to_owned()));
                    }
                    None => segs.push(Seg::Raw(authority.to_owned())),
                }
                tail
            }
            None => u,
        };
        // Parameters: `?a=b&c=d`, `;jsessionid=x`.
        let mut piece_start = 0;
        let bytes_len = rest.len();
        let mut pieces: Vec<(&str, bool)> = Vec::new(); // (text, is a parameter)
        let mut in_params = false;
        for (i, c) in rest.char_indices() {
            if matches!(c, '?' | '&' | ';' | '#') {
                if let Some(p) = rest.get(piece_start..i) {
                    pieces.push((p, in_params));
                }
                if let Some(d) = rest.get(i..i + 1) {
                    pieces.push((d, false));
                }
                piece_start = i + 1;
                in_params = c != '#';
            }
        }
        if let Some(p) = rest.get(piece_start..bytes_len) {
            pieces.push((p, in_params));
        }
        for (piece, is_param) in pieces {
            if piece.is_empty() {
                continue;
            }
            let pair = if is_param {
                piece.split_once('=')
            } else {
                None
            };
            match pair {
                Some((name, value)) if !value.is_empty() && is_token_name(name) => {
                    segs.push(Seg::Raw(format!("{name}=")));
                    segs.push(Seg::Done(self.token(value)));
                }
                Some((name, value)) if !value.is_empty() && identity_param(name).is_some() => {
                    segs.push(Seg::Raw(format!("{name}=")));
                    let p = match identity_param(name).flatten() {
                        Some(kind) => self.identifier(Some(kind), value),
                        None => self.user(value),
                    };
                    segs.push(Seg::Done(p));
                }
                _ => segs.push(Seg::Raw(piece.to_owned())),
            }
        }
        segs
    }

    fn email_spans(&self, s: &str) -> Vec<Span> {
        email_spans(s)
            .into_iter()
            .filter_map(|(a, b)| s.get(a..b).map(|e| (a, b, self.email(e))))
            .collect()
    }

    fn phone_spans(&self, s: &str) -> Vec<Span> {
        phone_spans(s)
            .into_iter()
            .map(|(a, b, canonical)| {
                let rep = match classify_identifier(&canonical) {
                    Some(SubscriberIdKind::Imsi) => self.tag("imsi", &digits(&canonical)),
                    Some(SubscriberIdKind::Imei) => self.tag("imei", &digits(&canonical)),
                    _ => self.phone(&canonical),
                };
                (a, b, rep)
            })
            .collect()
    }

    /// Occurrences of learnt values (ASCII case-insensitive, on word boundaries).
    fn literal_spans(&self, s: &str) -> Vec<Span> {
        if self.literals.is_empty() {
            return Vec::new();
        }
        let hay = s.to_ascii_lowercase();
        let mut taken: Vec<Span> = Vec::new();
        for (lit, rep) in &self.literals {
            let mut from = 0;
            while let Some(pos) = hay.get(from..).and_then(|h| h.find(lit.as_str())) {
                let a = from + pos;
                let b = a + lit.len();
                from = b.max(a + 1);
                let before_ok = hay
                    .get(..a)
                    .and_then(|h| h.chars().next_back())
                    .is_none_or(|c| !is_word_char(c) || !lit.starts_with(is_word_char));
                let after_ok = hay
                    .get(b..)
                    .and_then(|h| h.chars().next())
                    .is_none_or(|c| !is_word_char(c) || !lit.ends_with(is_word_char));
                let free = taken.iter().all(|(x, y, _)| b <= *x || a >= *y);
                if before_ok && after_ok && free && s.is_char_boundary(a) && s.is_char_boundary(b) {
                    taken.push((a, b, rep.clone()));
                }
                if from >= hay.len() {
                    break;
                }
            }
        }
        taken.sort_by_key(|(a, ..)| *a);
        taken
    }

    fn opt_text(&self, v: &mut Option<String>) {
        if let Some(s) = v {
            *s = self.text(s);
        }
    }

    fn opt_id(&self, v: &mut Option<String>) {
        if let Some(s) = v {
            *s = self.id(s);
        }
    }

    fn headers(&self, headers: &mut [(String, String)]) {
        for (name, value) in headers.iter_mut() {
            let lname = name.trim().to_ascii_lowercase();
            *value = if let Some(kind) = identifiers::subscriber_header(name) {
                self.identifier(Some(kind), value)
            } else if lname == "authorization" || lname == "proxy-authorization" {
                self.authorization(value)
            } else if lname == "cookie" {
                credentials::cookies(value)
                    .iter()
                    .map(|(n, v)| format!("{}={}", self.text(n), self.token(v)))
                    .collect::<Vec<_>>()
                    .join("; ")
            } else if lname == "set-cookie" {
                let mut parts = value.splitn(2, ';');
                let first = parts.next().unwrap_or("");
                let attrs = parts.next();
                let mut out = match first.split_once('=') {
                    Some((n, v)) => format!("{}={}", self.text(n.trim()), self.token(v)),
                    None => WITHHELD.to_owned(),
                };
                if let Some(a) = attrs {
                    out.push(';');
                    out.push_str(&self.text(a));
                }
                out
            } else if matches!(lname.as_str(), "location" | "referer" | "content-location") {
                self.uri(value)
            } else {
                self.text(value)
            };
        }
    }

    fn authorization(&self, value: &str) -> String {
        let scheme = value.split_whitespace().next().unwrap_or("");
        match credentials::parse_authorization(value) {
            Some(Credential::Basic { user, password }) => {
                format!("{scheme} {} {}", self.user(&user), self.secret(&password))
            }
            Some(Credential::Digest { user, realm }) => {
                let mut out = format!("{scheme} ");
                if let Some(u) = user {
                    out.push_str(&format!("username=\"{}\", ", self.user(&u)));
                }
                if let Some(r) = realm {
                    out.push_str(&format!("realm=\"{}\", ", self.text(&r)));
                }
                // The nonce/response pair allows offline password guessing: never kept.
                out.push_str("[other parameters withheld]");
                out
            }
            Some(Credential::Token { token, .. }) => format!("{scheme} {}", self.token(&token)),
            _ => WITHHELD.to_owned(),
        }
    }

    fn pdu(&self, p: &mut PduReport) {
        self.opt_id(&mut p.transaction_id);
        self.opt_id(&mut p.message_id);
        if let Some(f) = &mut p.from {
            *f = self.address(f);
        }
        for a in
            p.to.iter_mut()
                .chain(p.cc.iter_mut())
                .chain(p.bcc.iter_mut())
        {
            *a = self.address(a);
        }
        if p.subject.is_some() {
            p.subject = Some(WITHHELD.to_owned());
        }
        if let Some(loc) = &mut p.content_location {
            *loc = self.uri(loc);
        }
        for (k, v) in p.headers.iter_mut() {
            let lk = k.to_ascii_lowercase();
            *v = if ADDRESS_HEADERS.contains(&lk.as_str()) {
                let (count, rest) = match v.split_once(':') {
                    Some((n, r))
                        if !n.trim().is_empty() && n.trim().bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        (Some(n.trim().to_owned()), r)
                    }
                    _ => (None, v.as_str()),
                };
                let list = self.address_list(rest);
                match count {
                    Some(n) => format!("{n}: {list}"),
                    None => list,
                }
            } else if lk.contains("subject") {
                WITHHELD.to_owned()
            } else if lk.contains("content-location") {
                self.uri(v)
            } else {
                self.text(v)
            };
        }
        for part in &mut p.parts {
            self.opt_text(&mut part.name);
            self.opt_id(&mut part.content_id);
            self.opt_text(&mut part.content_location);
            self.opt_text(&mut part.extracted_to);
        }
    }

    fn evidence_string(
        &self,
        rule: &str,
        s: &str,
        key: Option<&str>,
        parent: Option<&str>,
    ) -> String {
        if is_masked(s) {
            return s.to_owned();
        }
        match key {
            Some("password" | "passwd" | "pwd" | "secret") => self.secret(s),
            // A content location's token is what the rule is about; it is pseudonymised only
            // when it was learnt as a secret elsewhere (a `token=` parameter, a cookie).
            Some("token" | "tokens") if rule == "guessable-content-url" => self
                .known
                .get(&s.trim().to_ascii_lowercase())
                .cloned()
                .unwrap_or_else(|| s.to_owned()),
            Some("token") => self.token(s),
            Some("value") if parent == Some("tokens") => self.token(s),
            Some("user" | "username" | "login") => self.user(s),
            Some("names") => self.name(s),
            Some("phone_numbers" | "phones") => self.phone(s),
            Some("emails") => self.email(s),
            Some("from" | "to" | "cc" | "bcc") => self.address(s),
            Some("previously_sent_by") => self.address_list(s),
            Some("addresses" | "events" | "subject" | "text" | "body") => WITHHELD.to_owned(),
            Some("uri" | "url" | "content_location" | "location") => self.uri(s),
            _ => self.text(s),
        }
    }

    fn evidence_value(&self, rule: &str, v: &mut Value, key: Option<&str>, parent: Option<&str>) {
        match v {
            Value::Object(map) => {
                let kind = map.get("kind").and_then(Value::as_str).and_then(id_kind);
                for (k, child) in map.iter_mut() {
                    if k == "value"
                        && let (Some(kind), Value::String(s)) = (kind, &mut *child)
                    {
                        *s = self.identifier(Some(kind), s);
                        continue;
                    }
                    self.evidence_value(rule, child, Some(k.as_str()), key);
                }
            }
            Value::Array(items) => {
                for i in items {
                    self.evidence_value(rule, i, key, parent);
                }
            }
            Value::String(s) => *s = self.evidence_string(rule, s, key, parent),
            Value::Number(n) if matches!(key, Some("latitude" | "longitude" | "lat" | "lon")) => {
                if let Some(r) = n
                    .as_f64()
                    .map(|f| (f * COORDINATE_SCALE).round() / COORDINATE_SCALE)
                    .and_then(serde_json::Number::from_f64)
                {
                    *v = Value::Number(r);
                }
            }
            _ => {}
        }
    }

    fn evidence(&self, rule: &str, map: &mut Map<String, Value>) {
        for (k, v) in map.iter_mut() {
            self.evidence_value(rule, v, Some(k.as_str()), None);
        }
    }

    fn rewrite_report(&self, report: &mut Report) {
        for input in &mut report.inputs {
            for d in &mut input.diagnostics {
                d.message = self.text(&d.message);
            }
        }
        for t in &mut report.transfers {
            if let Some(req) = &mut t.request {
                req.uri = self.uri(&req.uri);
                self.headers(&mut req.headers);
            }
            if let Some(resp) = &mut t.response {
                self.headers(&mut resp.headers);
            }
            for p in &mut t.pdus {
                self.pdu(p);
            }
        }
        for m in &mut report.messages {
            self.opt_id(&mut m.message_id);
            for id in &mut m.transaction_ids {
                *id = self.id(id);
            }
            if let Some(loc) = &mut m.content_location {
                *loc = self.uri(loc);
            }
        }
        for f in &mut report.findings {
            f.title = self.text(&f.title);
            self.evidence(f.rule, &mut f.evidence);
        }
    }
}

fn id_kind(s: &str) -> Option<SubscriberIdKind> {
    match s {
        "msisdn" => Some(SubscriberIdKind::Msisdn),
        "imsi" => Some(SubscriberIdKind::Imsi),
        "imei" => Some(SubscriberIdKind::Imei),
        "subscriber-id" => Some(SubscriberIdKind::Subscriber),
        _ => None,
    }
}

/// `name=value` pairs of a URL's query and `;` path parameters.
fn query_pairs(uri: &str) -> Vec<(&str, &str)> {
    let without_fragment = uri.split('#').next().unwrap_or(uri);
    without_fragment
        .split(['?', '&', ';'])
        .skip(1)
        .filter_map(|p| p.split_once('='))
        .filter(|(_, v)| !v.is_empty())
        .collect()
}

/// Splits raw pieces around the spans `find` returns; the replacements become final.
fn apply(segs: Vec<Seg>, find: impl Fn(&str) -> Vec<Span>) -> Vec<Seg> {
    let mut out = Vec::with_capacity(segs.len());
    for seg in segs {
        let s = match seg {
            Seg::Done(_) => {
                out.push(seg);
                continue;
            }
            Seg::Raw(s) => s,
        };
        let mut last = 0;
        for (a, b, rep) in find(&s) {
            if a < last || b <= a {
                continue;
            }
            let Some(before) = s.get(last..a) else {
                continue;
            };
            if s.get(a..b).is_none() {
                continue;
            }
            if !before.is_empty() {
                out.push(Seg::Raw(before.to_owned()));
            }
            out.push(Seg::Done(rep));
            last = b;
        }
        if let Some(rest) = s.get(last..)
            && !rest.is_empty()
        {
            out.push(Seg::Raw(rest.to_owned()));
        }
    }
    out
}

/// Byte ranges of `scheme://...` URLs in free text.
fn url_spans(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(pos) = s.get(from..).and_then(|h| h.find("://")) {
        let sep = from + pos;
        let head = s.get(..sep).unwrap_or("");
        let scheme_len: usize = head
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
            .map(char::len_utf8)
            .sum();
        let start = sep - scheme_len;
        let tail = s.get(sep + 3..).unwrap_or("");
        let len: usize = tail
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .map(char::len_utf8)
            .sum();
        let mut end = sep + 3 + len;
        while let Some(c) = s.get(..end).and_then(|h| h.chars().next_back()) {
            if matches!(c, '.' | ',' | ')' | ']' | '!' | '?') && end > sep + 3 {
                end -= c.len_utf8();
            } else {
                break;
            }
        }
        let scheme_ok = s
            .get(start..sep)
            .and_then(|sc| sc.chars().next())
            .is_some_and(|c| c.is_ascii_alphabetic());
        if scheme_ok && out.last().is_none_or(|(_, b)| *b <= start) {
            out.push((start, end));
        }
        from = end.max(sep + 3);
    }
    out
}

fn is_email_local(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c)
}

fn is_domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.'
}

/// Byte ranges of e-mail addresses in free text (same shape as `identifiers::find_emails`).
fn email_spans(s: &str) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for (at, _) in s.match_indices('@') {
        let before = s.get(..at).unwrap_or("");
        let after = s.get(at + 1..).unwrap_or("");
        let local_len: usize = before
            .chars()
            .rev()
            .take_while(|c| is_email_local(*c))
            .map(char::len_utf8)
            .sum();
        let mut start = at - local_len;
        // Quotes and other punctuation before an address are not part of it.
        while let Some(c) = s.get(start..at).and_then(|l| l.chars().next()) {
            if c.is_ascii_alphanumeric() || c == '+' || c == '_' {
                break;
            }
            start += c.len_utf8();
        }
        let domain_len: usize = after
            .chars()
            .take_while(|c| is_domain_char(*c))
            .map(char::len_utf8)
            .sum();
        let domain = after
            .get(..domain_len)
            .unwrap_or("")
            .trim_end_matches(['.', '-']);
        let end = at + 1 + domain.len();
        let local_ok = start < at;
        let domain_ok = domain.contains('.') && !domain.starts_with('.');
        if local_ok && domain_ok && out.last().is_none_or(|(_, b)| *b <= start) {
            out.push((start, end));
        }
    }
    out
}

/// Decimal coordinates with at least five decimals (`48.858370`, `-33.86514`), rounded.
fn coordinate_spans(s: &str) -> Vec<Span> {
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|(_, c)| *c);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        let prev = if i == 0 { None } else { at(i - 1) };
        let mut j = i;
        if at(j) == Some('-') {
            j += 1;
        }
        let int_start = j;
        while at(j).is_some_and(|c| c.is_ascii_digit()) {
            j += 1;
        }
        let int_len = j - int_start;
        let prev_ok = prev.is_none_or(|p| !p.is_alphanumeric() && !matches!(p, '.' | '+' | '-'));
        if !(1..=3).contains(&int_len) || !prev_ok || at(j) != Some('.') {
            i = j.max(i + 1);
            continue;
        }
        let frac_start = j + 1;
        let mut k = frac_start;
        while at(k).is_some_and(|c| c.is_ascii_digit()) {
            k += 1;
        }
        let next_ok = at(k).is_none_or(|c| !c.is_alphanumeric() && c != '.');
        if k - frac_start >= 5 && next_ok {
            let a = chars.get(start).map_or(s.len(), |(b, _)| *b);
            let b = chars.get(k).map_or(s.len(), |(b, _)| *b);
            if let Some(v) = s.get(a..b).and_then(|t| t.parse::<f64>().ok()) {
                let r = (v * COORDINATE_SCALE).round() / COORDINATE_SCALE;
                out.push((a, b, format!("{r:.2}")));
            }
        }
        i = k.max(i + 1);
    }
    out
}

/// Phone numbers and subscriber identifiers in free text, with the rules of
/// `identifiers::find_phone_numbers`, as byte ranges and canonical `[+]digits`. Dates
/// (`2024-05-01`) and dotted IPv4 addresses are not numbers to hide.
/// Byte ranges of dotted-quad IPv4 addresses in `s`.
fn dotted_quads(s: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let check = |a: usize, b: usize, out: &mut Vec<(usize, usize)>| {
        let run = s.get(a..b).unwrap_or("").trim_end_matches('.');
        let groups: Vec<&str> = run.split('.').collect();
        if groups.len() == 4 && groups.iter().all(|g| (1..=3).contains(&g.len())) {
            out.push((a, a + run.len()));
        }
    };
    for (i, c) in s.char_indices() {
        let part = c.is_ascii_digit() || c == '.';
        match (part, start) {
            (true, None) => start = Some(i),
            (false, Some(a)) => {
                check(a, i, &mut out);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(a) = start {
        check(a, s.len(), &mut out);
    }
    out
}

fn phone_spans(s: &str) -> Vec<(usize, usize, String)> {
    let quads = dotted_quads(s);
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let at = |i: usize| chars.get(i).map(|(_, c)| *c);
    let byte = |i: usize| chars.get(i).map_or(s.len(), |(b, _)| *b);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = at(i).unwrap_or(' ');
        let starts = c == '+' || c.is_ascii_digit() || c == '(';
        // `%2B` is a URL-encoded `+`.
        let encoded_plus = i >= 3
            && at(i - 3) == Some('%')
            && at(i - 2) == Some('2')
            && matches!(at(i - 1), Some('B' | 'b'));
        let prev_ok = i == 0
            || encoded_plus
            || at(i - 1).is_none_or(|p| !p.is_alphanumeric() && p != '@' && p != '.');
        if !(starts && prev_ok) {
            i += 1;
            continue;
        }
        let mut j = i;
        let mut ds = String::new();
        let mut separators = 0usize;
        // After each digit: where the number would end there, its digits and separators. The
        // longest plausible one wins, so what trails a number (` (alice)`, ` 0A`) is not part
        // of it.
        let mut ends: Vec<(usize, usize, usize)> = Vec::new();
        while let Some(d) = at(j) {
            if d.is_ascii_digit() {
                ds.push(d);
                ends.push((j + 1, ds.len(), separators));
            } else if (d == '+' && j == i) || d == '(' || d == ')' {
            } else if matches!(d, ' ' | '-' | '.')
                && at(j + 1).is_some_and(|n| n.is_ascii_digit() || n == '(')
                && !ds.is_empty()
            {
                separators += 1;
            } else {
                break;
            }
            j += 1;
            if ds.len() > 15 {
                break;
            }
        }
        let plus = c == '+' || encoded_plus;
        let found = ends.iter().rev().find(|(end, n, seps)| {
            // No part of an IPv4 address is a phone number.
            if quads
                .iter()
                .any(|(qa, qb)| byte(i) < *qb && byte(*end) > *qa)
            {
                return false;
            }
            let next_ok = at(*end).is_none_or(|x| !x.is_alphanumeric() && x != '@');
            let plausible = next_ok
                && *n <= 15
                && ((plus && *n >= 8)
                    || (!plus && *n >= 10)
                    || (!plus && *n >= 7 && (1..=4).contains(seps)));
            let text = s.get(byte(i)..byte(*end)).unwrap_or("");
            let bare = text.trim_start_matches(['(', '+']);
            plausible && !is_date(bare) && !is_dotted_quad(bare)
        });
        if let Some((end, n, _)) = found {
            let number: String = ds.chars().take(*n).collect();
            out.push((
                byte(i),
                byte(*end),
                if plus { format!("+{number}") } else { number },
            ));
            i = (*end).max(i + 1);
        } else {
            i = j.max(i + 1);
        }
    }
    out
}

/// `YYYY-MM-DD` (possibly followed by a time written with spaces).
fn is_date(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 10
        && b.get(..4).is_some_and(|y| y.iter().all(u8::is_ascii_digit))
        && b.get(4) == Some(&b'-')
        && b.get(5..7)
            .is_some_and(|m| m.iter().all(u8::is_ascii_digit))
        && b.get(7) == Some(&b'-')
        && b.get(8..10)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
}

fn is_dotted_quad(t: &str) -> bool {
    let parts: Vec<&str> = t.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> Redactor<'static> {
        let mut r = Redactor {
            key: b"test key",
            known: BTreeMap::new(),
            literals: Vec::new(),
        };
        r.learn_name("Jane Doe");
        r.learn_secret("s3cret");
        r.freeze();
        r
    }

    #[test]
    fn phone_spellings_share_a_pseudonym() {
        let r = r();
        let p = r.phone("+1-555-0101");
        assert!(p.starts_with("phone:") && p.len() == "phone:".len() + PSEUDONYM_HEX);
        assert_eq!(r.address("+15550101/TYPE=PLMN"), p);
        assert_eq!(r.identifier(Some(SubscriberIdKind::Msisdn), "15550101"), p);
        assert_eq!(r.text("call +1 555 0101 now"), format!("call {p} now"));
        assert_eq!(r.user("+15550101"), p);
        assert_ne!(r.phone("+1-555-0102"), p);
    }

    #[test]
    fn keys_change_pseudonyms() {
        let a = r();
        let b = Redactor {
            key: b"other",
            known: BTreeMap::new(),
            literals: Vec::new(),
        };
        assert_ne!(a.phone("+15550101"), b.phone("+15550101"));
    }

    #[test]
    fn free_text() {
        let r = r();
        let t = r.text(
            "Jane Doe <jane@example.com> at 48.858370, 2.294481 on 2024-05-01 via 192.0.2.10",
        );
        assert!(
            !t.contains("Jane") && !t.contains("jane@") && !t.contains("858"),
            "{t}"
        );
        assert!(t.contains("48.86, 2.29"), "{t}");
        assert!(t.contains("2024-05-01") && t.contains("192.0.2.10"), "{t}");
        assert!(!r.text("pw s3cret!").contains("s3cret"));
        assert_eq!(r.text("does nothing"), "does nothing");
        assert_eq!(
            r.text("TLS 1.2, 3 parts, frame 12345"),
            "TLS 1.2, 3 parts, frame 12345"
        );
    }

    #[test]
    fn urls() {
        let r = r();
        let u = r.uri("http://alice:pw@mmsc.example.com/get;jsessionid=ABCD1234?id=7&access_token=xyz123&msisdn=15550101#f");
        assert!(
            !u.contains("alice") && !u.contains(":pw@") && !u.contains("ABCD1234"),
            "{u}"
        );
        assert!(!u.contains("xyz123") && !u.contains("15550101"), "{u}");
        assert!(
            u.starts_with("http://user:") && u.contains("@mmsc.example.com/get;jsessionid=token:"),
            "{u}"
        );
        assert!(
            u.contains("?id=7&access_token=token:")
                && u.contains("&msisdn=phone:")
                && u.ends_with("#f"),
            "{u}"
        );
        assert_eq!(
            r.uri("http://mmsc.example.com/get/7"),
            "http://mmsc.example.com/get/7"
        );
        let t = r.text("fetched http://mmsc.example.com/x?sid=AbCdEf123456, then");
        assert!(t.ends_with(", then") && !t.contains("AbCdEf"), "{t}");
        assert!(!r.text("path /%2B15550101/x").contains("15550101"));
    }

    #[test]
    fn authorization_headers() {
        let r = r();
        let mut h = vec![
            ("Authorization".to_owned(), "Basic YWxpY2U6czNjcmV0".to_owned()),
            ("Proxy-Authorization".to_owned(), "Digest username=\"+15550101\", realm=\"mms.example.com\", nonce=\"n\", response=\"abcdef\"".to_owned()),
            ("Authorization".to_owned(), "Bearer eyJhbGciOi".to_owned()),
            ("Cookie".to_owned(), "sid=1234abcd; theme=dark".to_owned()),
            ("Set-Cookie".to_owned(), "SESSION=QwErTy987654; Path=/; HttpOnly".to_owned()),
            ("X-IMSI".to_owned(), "001010123456789".to_owned()),
        ];
        r.headers(&mut h);
        let all = format!("{h:?}");
        for gone in [
            "YWxpY2U6czNjcmV0",
            "alice",
            "s3cret",
            "15550101",
            "abcdef",
            "eyJhbGciOi",
            "1234abcd",
            "dark",
            "QwErTy",
            "001010123456789",
        ] {
            assert!(!all.contains(gone), "{gone} in {all}");
        }
        assert!(
            h[0].1.starts_with("Basic user:") && h[0].1.contains(" secret:"),
            "{}",
            h[0].1
        );
        assert!(
            h[1].1.contains("username=\"phone:") && h[1].1.contains("realm=\"mms.example.com\"")
        );
        assert!(h[4].1.ends_with("; Path=/; HttpOnly"));
        assert!(h[5].1.starts_with("imsi:"));
    }

    #[test]
    fn spans_never_panic_on_odd_text() {
        let r = r();
        for s in [
            "",
            "@",
            "@@",
            "a@",
            "@b.c",
            "://",
            "x://",
            "+",
            "(",
            "%2B",
            "1.",
            "-1.000001",
            "é@é.é",
            "\u{202e}+15550101\u{202e}",
        ] {
            let _ = r.text(s);
            let _ = r.uri(s);
        }
    }
}

#[cfg(test)]
mod address_tests {
    use super::*;

    #[test]
    fn ipv4_addresses_are_not_phone_numbers() {
        // Regression: "TLS 1.1 (198.51.100.56:56638 → ..." lost "1.1 (" and the address to a
        // phone pseudonym.
        let s = "protected only by TLS 1.1 (198.51.100.56:56638 → 203.0.113.226:443)";
        assert!(phone_spans(s).is_empty(), "{:?}", phone_spans(s));
        assert_eq!(dotted_quads("a 192.0.2.1:80 b").len(), 1);
        assert_eq!(phone_spans("call +1 555 0142").len(), 1);
    }
}
