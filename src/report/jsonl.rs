//! JSON Lines: one `{"type", "data"}` object per input, transfer, message and finding, then the
//! summary.

use super::model::Report;
use serde::Serialize;
use std::io::{self, Write};

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    data: &'a T,
}

fn line<T: Serialize>(out: &mut dyn Write, kind: &'static str, data: &T) -> io::Result<()> {
    serde_json::to_writer(&mut *out, &Line { kind, data })?;
    out.write_all(b"\n")
}

/// Writes the report as JSON Lines.
pub fn write(out: &mut dyn Write, report: &Report) -> io::Result<()> {
    for i in &report.inputs {
        line(out, "input", i)?;
    }
    for t in &report.transfers {
        line(out, "transfer", t)?;
    }
    for m in &report.messages {
        line(out, "message", m)?;
    }
    for f in &report.findings {
        line(out, "finding", f)?;
    }
    line(out, "summary", &report.summary)
}
