//! `mmsleak inspect`: every WAP/MMS/HTTP-MMS PDU of a capture (or a raw MMS PDU file) decoded
//! field by field, like `tshark -V` limited to what matters for MMS.

use crate::capture::CaptureReader;
use crate::flow::Direction;
use crate::report::sanitize::terminal;
use crate::scan::{ScanConfig, scan};
use crate::transfer::build::{TransferConfig, decode_pdu};
use serde_json::json;
use std::io::{self, Read, Write};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}

/// Largest raw PDU file read.
const MAX_PDU_FILE: u64 = 64 << 20;

fn is_capture(path: &Path) -> bool {
    CaptureReader::open(path).is_ok()
}

/// Writes the decoded PDUs of `path`. Returns the exit code: 0, or 2 when nothing could be read.
pub fn inspect(path: &Path, format: Format, out: &mut dyn Write) -> io::Result<u8> {
    if path.as_os_str() != "-" && path.is_file() && !is_capture(path) {
        return inspect_raw(path, format, out);
    }
    let config = ScanConfig {
        transfer: TransferConfig {
            keep_details: true,
            ..TransferConfig::default()
        },
        ..ScanConfig::default()
    };
    let outcome = scan(&[path.to_path_buf()], &config).map_err(io::Error::other)?;
    if let Some(p) = outcome.unreadable.first() {
        writeln!(io::stderr(), "mmsleak: cannot read {}", terminal(p))?;
        return Ok(2);
    }
    match format {
        Format::Json => {
            let transfers: Vec<_> = outcome
                .records
                .iter()
                .zip(&outcome.report.transfers)
                .map(|(r, t)| {
                    json!({
                        "transfer": t,
                        "pdus": r.details.iter().map(|d| d.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>()).collect::<Vec<_>>(),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(
                &mut *out,
                &json!({"input": path.display().to_string(), "transfers": transfers}),
            )?;
            writeln!(out)?;
        }
        Format::Text => {
            for (r, t) in outcome.records.iter().zip(&outcome.report.transfers) {
                writeln!(
                    out,
                    "{} {} {}:{} -> {}:{} frames {}-{}{}{}",
                    t.id,
                    t.transport,
                    t.client.ip,
                    t.client.port,
                    t.server.ip,
                    t.server.port,
                    t.first_frame,
                    t.last_frame,
                    if t.encrypted { " encrypted" } else { "" },
                    if t.complete { "" } else { " INCOMPLETE" }
                )?;
                if let Some(tun) = &t.tunnel {
                    writeln!(
                        out,
                        "  tunnel gtp-u teid {:#010x} {} -> {}",
                        tun.teid, tun.outer_client, tun.outer_server
                    )?;
                }
                if let Some(sni) = &t.sni {
                    writeln!(out, "  sni {}", terminal(sni))?;
                }
                if let Some(req) = &t.request {
                    writeln!(
                        out,
                        "  request {} {}",
                        terminal(&req.method),
                        terminal(&req.uri)
                    )?;
                    for (n, v) in &req.headers {
                        writeln!(out, "    {}: {}", terminal(n), terminal(v))?;
                    }
                }
                if let Some(resp) = &t.response {
                    match resp.status {
                        Some(s) => writeln!(out, "  response {s}")?,
                        None => writeln!(out, "  push")?,
                    }
                    for (n, v) in &resp.headers {
                        writeln!(out, "    {}: {}", terminal(n), terminal(v))?;
                    }
                }
                for (pdu, details) in t.pdus.iter().zip(&r.details) {
                    writeln!(
                        out,
                        "  MMS {} (frame {}, {})",
                        pdu.message_type, pdu.frame, pdu.direction
                    )?;
                    // The description lists the parts too (Part 1..N).
                    write_details(out, details, "    ")?;
                }
                writeln!(out)?;
            }
            if outcome.records.is_empty() {
                writeln!(out, "no WAP, MMS or HTTP-MMS transfer found")?;
            }
        }
    }
    Ok(0)
}

fn write_details(
    out: &mut dyn Write,
    details: &[(String, String)],
    indent: &str,
) -> io::Result<()> {
    for (n, v) in details {
        writeln!(out, "{indent}{}: {}", terminal(n), terminal(v))?;
    }
    Ok(())
}

fn inspect_raw(path: &Path, format: Format, out: &mut dyn Write) -> io::Result<u8> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_PDU_FILE)
        .read_to_end(&mut bytes)?;
    let config = TransferConfig {
        keep_details: true,
        ..TransferConfig::default()
    };
    let mut diags = Vec::new();
    let decoded = decode_pdu(&bytes, 0, Direction::ToClient, None, &config, &mut diags);
    let Some(decoded) = decoded else {
        for d in &diags {
            writeln!(
                io::stderr(),
                "mmsleak: {}: {}",
                terminal(&path.display().to_string()),
                terminal(&d.message)
            )?;
        }
        return Ok(2);
    };
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(
                &mut *out,
                &json!({"input": path.display().to_string(), "pdu": decoded.report,
                        "fields": decoded.details.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
                        "diagnostics": diags.iter().map(|d| d.message.clone()).collect::<Vec<_>>()}),
            )?;
            writeln!(out)?;
        }
        Format::Text => {
            writeln!(
                out,
                "MMS {} ({} bytes)",
                decoded.report.message_type,
                bytes.len()
            )?;
            write_details(out, &decoded.details, "  ")?;
            for d in &diags {
                writeln!(out, "  ! {}", terminal(&d.message))?;
            }
        }
    }
    Ok(0)
}
