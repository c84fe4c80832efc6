//! The human-readable report: a summary, the inputs, the transfers and the findings grouped by
//! severity, laid out for an 80-column terminal. Capture-derived text is sanitised.

use super::model::{Finding, InputReport, Report, Severity, Transfer};
use super::sanitize::terminal;
use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{ContentArrangement, Table};
use std::fmt::Write;

fn new_table(width: u16, header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(header.iter().copied());
    t
}

fn fmt_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS.get(unit).copied().unwrap_or("B"))
    }
}

/// A length of time, e.g. `12.500 s` or `3 h 02 min`.
fn duration(d: f64) -> String {
    let d = d.max(0.0);
    if d < 60.0 {
        format!("{d:.3} s")
    } else if d < 3600.0 {
        format!("{} min {:02.0} s", (d / 60.0).floor(), d % 60.0)
    } else {
        format!(
            "{} h {:02.0} min",
            (d / 3600.0).floor(),
            (d % 3600.0) / 60.0
        )
    }
}

fn inputs_table(inputs: &[InputReport], width: u16) -> String {
    let mut t = new_table(
        width,
        &[
            "input",
            "format",
            "link",
            "packets",
            "bytes",
            "start, length",
        ],
    );
    for i in inputs {
        let span = match (&i.first_time, i.duration_secs) {
            (Some(a), Some(d)) => {
                let short = a.get(..19).unwrap_or(a).replace('T', " ");
                format!("{short}Z\n+{}", duration(d))
            }
            _ => "-".into(),
        };
        t.add_row(vec![
            terminal(&i.path),
            i.format.unwrap_or("-").to_string(),
            i.link_types.join(", "),
            i.packets.to_string(),
            fmt_bytes(i.bytes),
            span,
        ]);
    }
    t.to_string()
}

fn transfers_table(transfers: &[Transfer], width: u16) -> String {
    let mut t = new_table(
        width,
        &[
            "id",
            "transport",
            "client → server",
            "enc",
            "messages",
            "parts",
        ],
    );
    for tr in transfers {
        let types: Vec<&str> = tr.pdus.iter().map(|p| p.message_type.as_str()).collect();
        let parts: usize = tr.pdus.iter().map(|p| p.parts.len()).sum();
        let mut transport = tr.transport.to_string();
        if !tr.complete {
            transport.push_str(" (incomplete)");
        }
        t.add_row(vec![
            tr.id.clone(),
            transport,
            format!(
                "{}:{} →\n{}:{}",
                tr.client.ip, tr.client.port, tr.server.ip, tr.server.port
            ),
            if tr.encrypted { "yes" } else { "NO" }.to_string(),
            if types.is_empty() {
                tr.sni
                    .as_deref()
                    .map(|s| format!("sni {}", terminal(s)))
                    .unwrap_or_else(|| "-".into())
            } else {
                types.join(", ")
            },
            parts.to_string(),
        ]);
    }
    t.to_string()
}

fn findings_table(findings: &[&Finding], width: u16) -> String {
    let mut t = new_table(width, &["id", "rule", "where", "frames", "what"]);
    // Rule ids are what an auditor searches for: never wrap them.
    let longest = findings.iter().map(|f| f.rule.len()).max().unwrap_or(4);
    if let Some(col) = t.column_mut(1) {
        col.set_constraint(comfy_table::ColumnConstraint::LowerBoundary(
            comfy_table::Width::Fixed(u16::try_from(longest + 2).unwrap_or(u16::MAX)),
        ));
    }
    for f in findings {
        let place = [f.transfer.as_deref(), f.message.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let mut frames: Vec<String> = f.frames.iter().take(6).map(u64::to_string).collect();
        if f.frames.len() > 6 {
            frames.push(format!("+{}", f.frames.len() - 6));
        }
        t.add_row(vec![
            f.id.clone(),
            f.rule.to_string(),
            place,
            frames.join(","),
            terminal(&f.title),
        ]);
    }
    t.to_string()
}

/// Renders the whole report as text tables at most `width` columns wide.
pub fn render(report: &Report, width: u16) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let _ = writeln!(
        out,
        "mmsleak {}: {} input(s), {} packets, {} flows",
        report.tool.version,
        report.inputs.len(),
        s.packets,
        s.flows
    );
    let _ = writeln!(
        out,
        "transfers: {} ({} cleartext, {} encrypted), messages: {}",
        s.transfers, s.cleartext_transfers, s.encrypted_transfers, s.messages
    );
    let _ = writeln!(
        out,
        "findings: {} critical, {} high, {} medium, {} low, {} info",
        s.findings.critical, s.findings.high, s.findings.medium, s.findings.low, s.findings.info
    );
    out.push('\n');
    out.push_str(&inputs_table(&report.inputs, width));
    out.push('\n');
    for input in &report.inputs {
        if input.diagnostics.is_empty() && input.diagnostics_suppressed == 0 {
            continue;
        }
        let _ = writeln!(out, "\ndiagnostics for {}:", terminal(&input.path));
        for d in &input.diagnostics {
            let mut place = String::new();
            if let Some(f) = d.frame {
                let _ = write!(place, " frame {f}");
            }
            if let Some(o) = d.offset {
                let _ = write!(place, " offset {o}");
            }
            let _ = writeln!(out, "  [{}]{place}: {}", d.layer, terminal(&d.message));
        }
        if input.diagnostics_suppressed > 0 {
            let _ = writeln!(
                out,
                "  ... and {} more (diagnostic cap reached)",
                input.diagnostics_suppressed
            );
        }
    }
    // Long lists are drawn as several tables of at most this many rows: a table is laid out in
    // memory whole, and a capture can hold tens of thousands of transfers.
    const ROWS_PER_TABLE: usize = 500;
    if !report.transfers.is_empty() {
        let _ = writeln!(out, "\ntransfers:");
        for chunk in report.transfers.chunks(ROWS_PER_TABLE) {
            out.push_str(&transfers_table(chunk, width));
            out.push('\n');
        }
    }
    if !report.findings.is_empty() {
        let _ = writeln!(out, "\nfindings by rule:");
        out.push_str(&by_rule_table(&report.findings, width));
        out.push('\n');
    }
    for sev in Severity::ALL {
        let group: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.severity == sev)
            .collect();
        if group.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{} findings:", sev.as_str().to_uppercase());
        for chunk in group.chunks(ROWS_PER_TABLE) {
            out.push_str(&findings_table(chunk, width));
            out.push('\n');
        }
    }
    if report.findings.is_empty() {
        let _ = writeln!(out, "\nno findings");
    }
    out
}

/// How many findings each rule raised, in catalog order, with the highest severity seen.
fn by_rule_table(findings: &[Finding], width: u16) -> String {
    let mut t = new_table(width, &["rule", "category", "findings", "worst"]);
    for rule in crate::audit::RULES {
        let of_rule: Vec<&Finding> = findings.iter().filter(|f| f.rule == rule.id).collect();
        let Some(worst) = of_rule.iter().map(|f| f.severity).max() else {
            continue;
        };
        t.add_row(vec![
            rule.id.to_string(),
            rule.category.as_str().to_string(),
            of_rule.len().to_string(),
            worst.as_str().to_string(),
        ]);
    }
    t.to_string()
}

/// The detection catalog as a table.
pub fn rules(rules: &[crate::audit::Rule], width: u16) -> String {
    let mut t = new_table(width, &["rule", "category", "severity", "fires when"]);
    for r in rules {
        t.add_row(vec![
            r.id.to_string(),
            r.category.as_str().to_string(),
            r.severity.as_str().to_string(),
            r.description.to_string(),
        ]);
    }
    let mut out = t.to_string();
    out.push('\n');
    out
}
