//! One self-contained HTML page an auditor can hand to a client: the summary, the findings by
//! severity with their evidence, each message's timeline, the transfers and the inputs.
//!
//! The page loads nothing: CSS is inline, there are no scripts, and a Content-Security-Policy
//! forbids every fetch except `data:` images (the thumbnails of `--html-media`). Every string that
//! came from a capture is made visible with [`sanitize::terminal`] (controls and bidi overrides
//! become `\u{202e}`-style text) and then HTML-escaped, so a crafted subject, file name or header
//! can neither inject markup nor disguise itself.

use super::model::{
    DiagnosticReport, Finding, InputReport, Message, PartReport, PduReport, Report, Severity,
    Transfer,
};
use super::sanitize;
use crate::transfer::TransferRecord;
use base64::Engine;
use serde_json::Value;
use std::fmt::Write;

/// Largest image embedded as a thumbnail; bigger ones are listed without a picture.
pub const MAX_THUMBNAIL_BYTES: usize = 2 * 1024 * 1024;

/// Deepest evidence nesting rendered as lists; deeper values are shown as compact JSON.
const MAX_EVIDENCE_DEPTH: usize = 8;

/// Image types embedded as `data:` URIs, recognised by their magic bytes (never by the declared
/// content type alone, so an SVG or HTML part can never be smuggled in as an "image").
const THUMBNAIL_TYPES: &[(&[u8], &str)] = &[
    (b"\xFF\xD8\xFF", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
];

const STYLE: &str = r#"
:root{--crit:#7a1020;--high:#c0392b;--med:#c77c02;--low:#2364aa;--info:#5f6b7a;--line:#d9dee5;--bg:#f6f8fa;--ink:#1b1f24}
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);margin:0;background:#fff}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:26px;margin:0 0 4px}
h2{font-size:20px;margin:36px 0 12px;padding-bottom:6px;border-bottom:2px solid var(--line)}
h3{font-size:17px;margin:22px 0 10px}
h4{font-size:15px;margin:14px 0 6px}
.sub{color:#57606a;margin:0 0 18px}
nav{margin:10px 0 0;font-size:14px}
nav a{margin-right:14px}
a{color:#0b5cad;text-decoration:none}
a:hover{text-decoration:underline}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:13px}
.wrap{overflow-wrap:anywhere;word-break:break-word}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}
.card{flex:1 1 140px;border-radius:8px;padding:12px 16px;color:#fff}
.card .n{font-size:30px;font-weight:700;line-height:1.1}
.card .l{text-transform:uppercase;font-size:12px;letter-spacing:.06em}
.card.zero{opacity:.45}
.bg-critical{background:var(--crit)}.bg-high{background:var(--high)}.bg-medium{background:var(--med)}.bg-low{background:var(--low)}.bg-info{background:var(--info)}
.stats{display:flex;flex-wrap:wrap;gap:8px 24px;margin:8px 0 0;padding:0;list-style:none;color:#333}
.stats b{font-size:17px}
table{border-collapse:collapse;width:100%;margin:8px 0 12px;font-size:14px}
th,td{border:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:var(--bg);font-weight:600}
.finding{border:1px solid var(--line);border-left:6px solid var(--info);border-radius:6px;padding:12px 16px;margin:0 0 14px;page-break-inside:avoid}
.finding.sev-critical{border-left-color:var(--crit)}.finding.sev-high{border-left-color:var(--high)}.finding.sev-medium{border-left-color:var(--med)}.finding.sev-low{border-left-color:var(--low)}
.finding h4{margin:0 0 6px;font-size:16px}
.badge{display:inline-block;border-radius:4px;padding:1px 7px;font-size:12px;font-weight:600;color:#fff;vertical-align:middle;margin-right:6px}
.tag{display:inline-block;border-radius:4px;padding:1px 7px;font-size:12px;background:var(--bg);border:1px solid var(--line);margin-right:6px}
.meta{color:#444;font-size:14px;margin:0 0 8px}
dl.ev{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:6px 0;font-size:14px}
dl.ev dt{font-weight:600;color:#333}
dl.ev dd{margin:0}
ol.ev{margin:4px 0;padding-left:22px}
ol.ev>li{margin:0 0 6px}
.null{color:#8b949e;font-style:italic}
.remedy{background:#f0f6ff;border-radius:6px;padding:8px 12px;margin:10px 0 0;font-size:14px}
details{margin:6px 0}
summary{cursor:pointer;color:#57606a;font-size:13px}
pre{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:8px;overflow:auto;font-size:12px;white-space:pre-wrap;overflow-wrap:anywhere}
.transfer{border:1px solid var(--line);border-radius:6px;padding:10px 16px;margin:0 0 16px;page-break-inside:avoid}
.transfer h3{margin:0 0 8px}
.pdu{border-top:1px dashed var(--line);margin-top:10px;padding-top:6px}
.no{color:var(--high);font-weight:700}
.yes{color:#1a7f37;font-weight:600}
.thumb{max-width:220px;max-height:220px;min-width:48px;min-height:48px;object-fit:contain;background:#fff;border:1px solid var(--line);border-radius:4px;display:block;margin:4px 0}
.diag{font-size:14px}
.empty{color:#57606a;font-style:italic}
footer{margin-top:40px;color:#57606a;font-size:13px;border-top:1px solid var(--line);padding-top:10px}
@media print{main{max-width:none;padding:0}nav{display:none}a{color:inherit}}
"#;

/// Text from a capture, made safe for HTML element content and attribute values: control and
/// bidi characters become visible escapes first, then `& < > " '` become entities.
pub fn escape(s: &str) -> String {
    let visible = sanitize::terminal(s);
    let mut out = String::with_capacity(visible.len() + 8);
    for c in visible.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// An `id` attribute value: only ASCII letters, digits and `-` survive.
fn anchor(prefix: &str, id: &str) -> String {
    let mut out = String::from(prefix);
    out.extend(
        id.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(64),
    );
    out
}

fn sev_class(sev: Severity) -> &'static str {
    sev.as_str()
}

fn sev_title(sev: Severity) -> &'static str {
    match sev {
        Severity::Critical => "Critical",
        Severity::High => "High",
        Severity::Medium => "Medium",
        Severity::Low => "Low",
        Severity::Info => "Info",
    }
}

fn opt(s: Option<&str>) -> String {
    match s {
        Some(v) => format!("<span class=\"wrap\">{}</span>", escape(v)),
        None => "<span class=\"null\">none</span>".to_owned(),
    }
}

fn frames_list(frames: &[u64]) -> String {
    if frames.is_empty() {
        return "<span class=\"null\">none</span>".to_owned();
    }
    frames
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn yes_no(b: bool, good_when_true: bool) -> &'static str {
    match (b, good_when_true) {
        (true, true) => "<span class=\"yes\">yes</span>",
        (false, true) => "<span class=\"no\">NO</span>",
        (true, false) => "<span class=\"no\">yes</span>",
        (false, false) => "<span class=\"yes\">no</span>",
    }
}

fn transfer_link(id: &str) -> String {
    format!(
        "<a href=\"#{}\">{}</a>",
        anchor("transfer-", id),
        escape(id)
    )
}

fn message_link(id: &str) -> String {
    format!("<a href=\"#{}\">{}</a>", anchor("message-", id), escape(id))
}

/// "snake_case" evidence keys as readable labels.
fn label(key: &str) -> String {
    escape(&key.replace('_', " "))
}

fn evidence_value(out: &mut String, v: &Value, depth: usize) {
    if depth >= MAX_EVIDENCE_DEPTH {
        let _ = write!(
            out,
            "<code class=\"wrap\">{}</code>",
            escape(&v.to_string())
        );
        return;
    }
    match v {
        Value::Null => out.push_str("<span class=\"null\">none</span>"),
        Value::Bool(b) => out.push_str(if *b { "yes" } else { "no" }),
        Value::Number(n) => out.push_str(&escape(&n.to_string())),
        Value::String(s) if s.is_empty() => out.push_str("<span class=\"null\">(empty)</span>"),
        Value::String(s) => {
            let _ = write!(out, "<span class=\"wrap\">{}</span>", escape(s));
        }
        Value::Array(items) if items.is_empty() => {
            out.push_str("<span class=\"null\">none</span>");
        }
        Value::Array(items) if items.iter().all(|i| !i.is_object() && !i.is_array()) => {
            for (n, i) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                evidence_value(out, i, depth + 1);
            }
        }
        Value::Array(items) => {
            out.push_str("<ol class=\"ev\">");
            for i in items {
                out.push_str("<li>");
                evidence_value(out, i, depth + 1);
                out.push_str("</li>");
            }
            out.push_str("</ol>");
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("<span class=\"null\">none</span>");
                return;
            }
            out.push_str("<dl class=\"ev\">");
            for (k, val) in map {
                let _ = write!(out, "<dt>{}</dt><dd>", label(k));
                evidence_value(out, val, depth + 1);
                out.push_str("</dd>");
            }
            out.push_str("</dl>");
        }
    }
}

fn summary_section(out: &mut String, report: &Report) {
    let s = &report.summary;
    out.push_str("<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">");
    for sev in Severity::ALL {
        let n = match sev {
            Severity::Critical => s.findings.critical,
            Severity::High => s.findings.high,
            Severity::Medium => s.findings.medium,
            Severity::Low => s.findings.low,
            Severity::Info => s.findings.info,
        };
        let _ = write!(
            out,
            "<div class=\"card bg-{}{}\"><div class=\"n\">{n}</div><div class=\"l\">{}</div></div>",
            sev_class(sev),
            if n == 0 { " zero" } else { "" },
            sev_title(sev)
        );
    }
    out.push_str("</div><ul class=\"stats\">");
    for (n, what) in [
        (report.inputs.len() as u64, "input(s)"),
        (s.packets, "packets"),
        (s.flows, "flows"),
        (s.transfers, "transfers"),
        (s.cleartext_transfers, "cleartext"),
        (s.encrypted_transfers, "encrypted"),
        (s.messages, "messages"),
        (report.findings.len() as u64, "findings"),
    ] {
        let _ = write!(out, "<li><b>{n}</b> {what}</li>");
    }
    out.push_str("</ul></section>\n");
}

fn finding_article(out: &mut String, f: &Finding) {
    let _ = write!(
        out,
        "<article class=\"finding sev-{}\" id=\"{}\"><h4><span class=\"badge bg-{}\">{}</span>{} \
         <span class=\"wrap\">{}</span></h4>",
        sev_class(f.severity),
        anchor("finding-", &f.id),
        sev_class(f.severity),
        sev_title(f.severity),
        escape(&f.id),
        escape(&f.title)
    );
    let _ = write!(
        out,
        "<p class=\"meta\"><span class=\"tag\">{}</span><span class=\"tag\">{}</span>",
        escape(f.rule),
        escape(f.category.as_str())
    );
    if let Some(t) = &f.transfer {
        let _ = write!(out, " transfer {}", transfer_link(t));
    }
    if let Some(m) = &f.message {
        let _ = write!(out, " · message {}", message_link(m));
    }
    let _ = write!(out, " · frames {}</p>", frames_list(&f.frames));
    if !f.evidence.is_empty() {
        out.push_str("<h4>Evidence</h4>");
        evidence_value(out, &Value::Object(f.evidence.clone()), 0);
        let raw = serde_json::to_string_pretty(&f.evidence).unwrap_or_default();
        let _ = write!(
            out,
            "<details><summary>evidence as JSON</summary><pre>{}</pre></details>",
            escape(&raw)
        );
    }
    let _ = writeln!(
        out,
        "<p class=\"remedy\"><b>Remediation.</b> {}</p></article>",
        escape(f.remediation)
    );
}

fn findings_section(out: &mut String, findings: &[Finding]) {
    out.push_str("<section id=\"findings\"><h2>Findings</h2>");
    if findings.is_empty() {
        out.push_str("<p class=\"empty\">No findings.</p>");
    }
    for sev in Severity::ALL {
        let group: Vec<&Finding> = findings.iter().filter(|f| f.severity == sev).collect();
        if group.is_empty() {
            continue;
        }
        let _ = write!(
            out,
            "<h3 id=\"severity-{}\">{} ({})</h3>",
            sev_class(sev),
            sev_title(sev),
            group.len()
        );
        for f in group {
            finding_article(out, f);
        }
    }
    out.push_str("</section>\n");
}

fn messages_section(out: &mut String, messages: &[Message]) {
    out.push_str("<section id=\"messages\"><h2>Messages</h2>");
    if messages.is_empty() {
        out.push_str("<p class=\"empty\">No MMS message was correlated.</p>");
    }
    for m in messages {
        let _ = write!(
            out,
            "<h3 id=\"{}\">{}</h3><dl class=\"ev\"><dt>message id</dt><dd>{}</dd>\
             <dt>transaction ids</dt><dd>{}</dd><dt>content location</dt><dd>{}</dd>\
             <dt>transfers</dt><dd>{}</dd></dl>",
            anchor("message-", &m.id),
            escape(&m.id),
            opt(m.message_id.as_deref()),
            if m.transaction_ids.is_empty() {
                "<span class=\"null\">none</span>".to_owned()
            } else {
                m.transaction_ids
                    .iter()
                    .map(|t| escape(t))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            opt(m.content_location.as_deref()),
            m.transfers
                .iter()
                .map(|t| transfer_link(t))
                .collect::<Vec<_>>()
                .join(", ")
        );
        out.push_str("<table><thead><tr><th>frame</th><th>transfer</th><th>message type</th></tr></thead><tbody>");
        for e in &m.timeline {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                e.frame,
                transfer_link(&e.transfer),
                escape(&e.message_type)
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>\n");
}

fn headers_table(out: &mut String, headers: &[(String, String)]) {
    if headers.is_empty() {
        return;
    }
    out.push_str("<table><thead><tr><th>header</th><th>value</th></tr></thead><tbody>");
    for (n, v) in headers {
        let _ = write!(
            out,
            "<tr><td class=\"mono\">{}</td><td class=\"mono wrap\">{}</td></tr>",
            escape(n),
            escape(v)
        );
    }
    out.push_str("</tbody></table>");
}

/// The `data:` URI of an image part small enough to embed, typed by its magic bytes.
fn thumbnail(data: &[u8]) -> Option<String> {
    if data.len() > MAX_THUMBNAIL_BYTES {
        return None;
    }
    let mime = THUMBNAIL_TYPES
        .iter()
        .find(|(magic, _)| data.starts_with(magic))
        .map(|(_, m)| *m)?;
    Some(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(data)
    ))
}

fn declared_image(content_type: &str) -> bool {
    let ct = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        ct.as_str(),
        "image/jpeg" | "image/jpg" | "image/pjpeg" | "image/png" | "image/gif"
    )
}

fn parts_table(
    out: &mut String,
    parts: &[PartReport],
    pdu_index: usize,
    record: Option<&TransferRecord>,
) {
    if parts.is_empty() {
        return;
    }
    let with_media = record.is_some();
    out.push_str("<table><thead><tr><th>#</th><th>content type</th><th>name</th><th>size</th><th>sha256</th>");
    if with_media {
        out.push_str("<th>preview</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for p in parts {
        let mut name = opt(p.name.as_deref());
        if let Some(cid) = &p.content_id {
            let _ = write!(name, "<br><small>id {}</small>", escape(cid));
        }
        if let Some(loc) = &p.content_location {
            let _ = write!(name, "<br><small>location {}</small>", escape(loc));
        }
        if let Some(x) = &p.extracted_to {
            let _ = write!(name, "<br><small>extracted to {}</small>", escape(x));
        }
        let mut ct = escape(&p.content_type);
        if let Some(cs) = &p.charset {
            let _ = write!(ct, "<br><small>charset {}</small>", escape(cs));
        }
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"wrap\">{ct}</td><td class=\"wrap\">{name}</td><td>{}</td>\
             <td class=\"mono wrap\">{}</td>",
            p.index,
            p.size,
            escape(&p.sha256)
        );
        if let Some(rec) = record {
            out.push_str("<td>");
            if declared_image(&p.content_type) {
                let data = rec
                    .parts
                    .iter()
                    .find(|c| c.pdu == pdu_index && c.part == p.index)
                    .map(|c| c.data.as_slice());
                match data.and_then(thumbnail) {
                    Some(uri) => {
                        let _ = write!(
                            out,
                            "<img class=\"thumb\" alt=\"{}\" src=\"{uri}\">",
                            escape(p.name.as_deref().unwrap_or("image part"))
                        );
                    }
                    None => out.push_str("<span class=\"null\">not shown</span>"),
                }
            }
            out.push_str("</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

fn pdu_block(out: &mut String, p: &PduReport, pdu_index: usize, record: Option<&TransferRecord>) {
    let _ = write!(
        out,
        "<div class=\"pdu\"><h4>frame {} · {} · <code>{}</code></h4><dl class=\"ev\">",
        p.frame,
        escape(p.direction),
        escape(&p.message_type)
    );
    let text = |v: &str| format!("<span class=\"wrap\">{}</span>", escape(v));
    // Absent fields are left out, except `from`: its absence means the phone let the MMSC
    // insert the sender's address.
    let mut rows: Vec<(&str, String)> = Vec::new();
    let optional = [
        ("transaction id", p.transaction_id.as_deref()),
        ("MMS version", p.mms_version.as_deref()),
        ("message id", p.message_id.as_deref()),
    ];
    rows.extend(
        optional
            .iter()
            .filter_map(|(k, v)| v.map(|v| (*k, text(v)))),
    );
    rows.push((
        "from",
        p.from.as_deref().map(text).unwrap_or_else(|| {
            "<span class=\"null\">none (inserted by the MMSC)</span>".to_owned()
        }),
    ));
    for (k, v) in [("to", &p.to), ("cc", &p.cc), ("bcc", &p.bcc)] {
        if !v.is_empty() {
            rows.push((k, v.iter().map(|a| text(a)).collect::<Vec<_>>().join(", ")));
        }
    }
    let optional = [
        ("subject", p.subject.as_deref()),
        ("content location", p.content_location.as_deref()),
        ("date", p.date.as_deref()),
        ("expiry", p.expiry.as_deref()),
    ];
    rows.extend(
        optional
            .iter()
            .filter_map(|(k, v)| v.map(|v| (*k, text(v)))),
    );
    if let Some(n) = p.message_size {
        rows.push(("message size", n.to_string()));
    }
    if let Some(ct) = &p.content_type {
        rows.push(("content type", text(ct)));
    }
    for (k, v) in rows {
        let _ = write!(out, "<dt>{k}</dt><dd>{v}</dd>");
    }
    for (k, v) in &p.headers {
        let _ = write!(
            out,
            "<dt>{}</dt><dd><span class=\"wrap\">{}</span></dd>",
            escape(k),
            escape(v)
        );
    }
    out.push_str("</dl>");
    parts_table(out, &p.parts, pdu_index, record);
    out.push_str("</div>");
}

fn endpoint(e: &super::model::Endpoint) -> String {
    match e.ip {
        std::net::IpAddr::V6(ip) => format!("[{ip}]:{}", e.port),
        std::net::IpAddr::V4(ip) => format!("{ip}:{}", e.port),
    }
}

fn transfer_overview(out: &mut String, transfers: &[Transfer]) {
    out.push_str(
        "<table><thead><tr><th>id</th><th>transport</th><th>client → server</th><th>encrypted</th>\
         <th>complete</th><th>message types</th><th>parts</th><th>frames</th></tr></thead><tbody>",
    );
    for t in transfers {
        let types: Vec<String> = t.pdus.iter().map(|p| escape(&p.message_type)).collect();
        let parts: usize = t.pdus.iter().map(|p| p.parts.len()).sum();
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td class=\"mono\">{} → {}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{parts}</td><td>{}–{}</td></tr>",
            transfer_link(&t.id),
            escape(t.transport),
            endpoint(&t.client),
            endpoint(&t.server),
            yes_no(t.encrypted, true),
            yes_no(t.complete, true),
            if types.is_empty() {
                "<span class=\"null\">none visible</span>".to_owned()
            } else {
                types.join(", ")
            },
            t.first_frame,
            t.last_frame
        );
    }
    out.push_str("</tbody></table>");
}

fn transfer_article(out: &mut String, t: &Transfer, record: Option<&TransferRecord>) {
    let _ = write!(
        out,
        "<article class=\"transfer\" id=\"{}\"><h3>{} · {} · <span class=\"mono\">{} → {}</span></h3>\
         <dl class=\"ev\"><dt>input</dt><dd class=\"wrap\">{}</dd><dt>frames</dt><dd>{}–{}</dd>\
         <dt>time</dt><dd>{} – {}</dd><dt>encrypted</dt><dd>{}</dd><dt>complete</dt><dd>{}</dd>",
        anchor("transfer-", &t.id),
        escape(&t.id),
        escape(t.transport),
        endpoint(&t.client),
        endpoint(&t.server),
        escape(&t.input),
        t.first_frame,
        t.last_frame,
        escape(&t.start),
        escape(&t.end),
        yes_no(t.encrypted, true),
        yes_no(t.complete, true)
    );
    if let Some(tun) = &t.tunnel {
        let _ = write!(
            out,
            "<dt>tunnel</dt><dd>{} TEID 0x{:08x}, {} → {}</dd>",
            escape(tun.kind),
            tun.teid,
            tun.outer_client,
            tun.outer_server
        );
    }
    if t.sni.is_some() || t.tls_version.is_some() {
        let _ = write!(
            out,
            "<dt>SNI</dt><dd>{}</dd><dt>TLS version</dt><dd>{}</dd>",
            opt(t.sni.as_deref()),
            opt(t.tls_version.as_deref())
        );
    }
    out.push_str("</dl>");
    if let Some(req) = &t.request {
        let _ = write!(
            out,
            "<h4>Request (frames {})</h4><p class=\"mono wrap\">{} {}</p>",
            frames_list(&req.frames),
            escape(&req.method),
            escape(&req.uri)
        );
        headers_table(out, &req.headers);
    }
    if let Some(resp) = &t.response {
        let status = resp
            .status
            .map_or_else(|| "no status (push)".to_owned(), |s| format!("status {s}"));
        let _ = write!(
            out,
            "<h4>Response (frames {})</h4><p class=\"mono\">{status}</p>",
            frames_list(&resp.frames),
        );
        headers_table(out, &resp.headers);
    }
    for (i, p) in t.pdus.iter().enumerate() {
        pdu_block(out, p, i, record);
    }
    out.push_str("</article>\n");
}

fn transfers_section(out: &mut String, report: &Report, media: Option<&[TransferRecord]>) {
    out.push_str("<section id=\"transfers\"><h2>Transfers</h2>");
    if report.transfers.is_empty() {
        out.push_str("<p class=\"empty\">No MMS transfer was found.</p></section>\n");
        return;
    }
    transfer_overview(out, &report.transfers);
    for t in &report.transfers {
        let record = media.and_then(|m| m.iter().find(|r| r.transfer.id == t.id));
        transfer_article(out, t, record);
    }
    out.push_str("</section>\n");
}

fn diagnostics_list(out: &mut String, input: &InputReport) {
    if input.diagnostics.is_empty() && input.diagnostics_suppressed == 0 {
        return;
    }
    let _ = write!(
        out,
        "<h4>Diagnostics for <span class=\"wrap\">{}</span></h4><table class=\"diag\"><thead><tr>\
         <th>frame</th><th>offset</th><th>layer</th><th>message</th></tr></thead><tbody>",
        escape(&input.path)
    );
    let cell = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
    for d in &input.diagnostics {
        let DiagnosticReport {
            frame,
            offset,
            layer,
            message,
        } = d;
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"wrap\">{}</td></tr>",
            cell(*frame),
            cell(*offset),
            escape(layer),
            escape(message)
        );
    }
    out.push_str("</tbody></table>");
    if input.diagnostics_suppressed > 0 {
        let _ = write!(
            out,
            "<p class=\"empty\">… and {} more (diagnostic cap reached).</p>",
            input.diagnostics_suppressed
        );
    }
}

fn inputs_section(out: &mut String, inputs: &[InputReport]) {
    out.push_str(
        "<section id=\"inputs\"><h2>Inputs</h2><table><thead><tr><th>path</th><th>format</th>\
         <th>link types</th><th>packets</th><th>bytes</th><th>first</th><th>last</th>\
         <th>non-IP frames</th><th>diagnostics</th></tr></thead><tbody>",
    );
    for i in inputs {
        let _ = write!(
            out,
            "<tr><td class=\"wrap\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&i.path),
            opt(i.format),
            escape(&i.link_types.join(", ")),
            i.packets,
            i.bytes,
            opt(i.first_time.as_deref()),
            opt(i.last_time.as_deref()),
            i.non_ip_frames,
            (i.diagnostics.len() as u64).saturating_add(i.diagnostics_suppressed)
        );
    }
    out.push_str("</tbody></table>");
    for i in inputs {
        diagnostics_list(out, i);
    }
    out.push_str("</section>\n");
}

/// Renders the report as one self-contained HTML page. With `media` (the transfers' part bytes),
/// JPEG, PNG and GIF parts up to [`MAX_THUMBNAIL_BYTES`] are embedded as `data:` thumbnails.
pub fn render(report: &Report, media: Option<&[TransferRecord]>) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>mmsleak report</title><style>{STYLE}</style></head><body><main>\n\
         <h1>MMS leak audit report</h1><p class=\"sub\">{} {} · report schema {} · {} input(s)</p>\
         <nav><a href=\"#summary\">Summary</a><a href=\"#findings\">Findings</a>\
         <a href=\"#messages\">Messages</a><a href=\"#transfers\">Transfers</a>\
         <a href=\"#inputs\">Inputs</a></nav>\n",
        escape(report.tool.name),
        escape(report.tool.version),
        escape(report.schema),
        report.inputs.len()
    );
    summary_section(&mut out, report);
    findings_section(&mut out, &report.findings);
    messages_section(&mut out, &report.messages);
    transfers_section(&mut out, report, media);
    inputs_section(&mut out, &report.inputs);
    let _ = writeln!(
        out,
        "<footer>Generated by {} {}. Frame numbers count records from 1 in each input file, as \
         Wireshark numbers them.</footer></main></body></html>",
        escape(report.tool.name),
        escape(report.tool.version)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_makes_bidi_visible() {
        assert_eq!(
            escape("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(escape("a\"b&c"), "a&quot;b&amp;c");
        assert_eq!(escape("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(escape("</style>"), "&lt;/style&gt;");
    }

    #[test]
    fn anchors_are_plain() {
        assert_eq!(anchor("transfer-", "T1"), "transfer-T1");
        assert_eq!(anchor("t-", "a\"><b"), "t-a---b");
    }

    #[test]
    fn thumbnails_only_for_real_images() {
        assert!(thumbnail(b"\x89PNG\r\n\x1a\nrest").is_some());
        assert!(thumbnail(b"<svg onload=alert(1)>").is_none());
        assert!(thumbnail(&vec![0xFF; MAX_THUMBNAIL_BYTES + 1]).is_none());
        let uri = thumbnail(b"GIF89a...").unwrap();
        assert!(uri.starts_with("data:image/gif;base64,"));
    }

    #[test]
    fn evidence_renders_as_definition_list() {
        let v = serde_json::json!({"phone_numbers": ["+15550101"], "nested": [{"a": null}]});
        let mut out = String::new();
        evidence_value(&mut out, &v, 0);
        assert!(out.contains("<dt>phone numbers</dt>"));
        assert!(out.contains("+15550101"));
        assert!(out.contains("<ol class=\"ev\">"));
    }
}
