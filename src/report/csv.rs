//! CSV: one row per finding, every cell neutralised against spreadsheet formula injection.

use super::model::Report;
use super::sanitize::csv_cell;
use std::io::{self, Write};

const COLUMNS: &[&str] = &[
    "id",
    "rule",
    "category",
    "severity",
    "transfer",
    "message",
    "frames",
    "title",
    "evidence",
    "remediation",
];

/// RFC 4180 quoting of one (already neutralised) cell.
fn quote(cell: &str) -> String {
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_owned()
    }
}

/// Writes one header row and one row per finding.
pub fn write(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    writeln!(out, "{}", COLUMNS.join(","))?;
    for f in &report.findings {
        let frames: Vec<String> = f.frames.iter().map(u64::to_string).collect();
        let evidence = serde_json::to_string(&f.evidence).unwrap_or_default();
        let cells = [
            f.id.as_str(),
            f.rule,
            f.category.as_str(),
            f.severity.as_str(),
            f.transfer.as_deref().unwrap_or(""),
            f.message.as_deref().unwrap_or(""),
            &frames.join(" "),
            &f.title,
            &evidence,
            f.remediation,
        ];
        let row: Vec<String> = cells.iter().map(|c| quote(&csv_cell(c))).collect();
        writeln!(out, "{}", row.join(","))?;
    }
    Ok(())
}
