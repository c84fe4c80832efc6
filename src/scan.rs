//! The whole pipeline for `mmsleak scan`: inputs → records → packets → flows → PDUs → transfers →
//! messages → findings → report.
//!
//! Inputs are processed in parallel (rayon), each by one pass of the stages; the results are
//! merged in input order, so the report is the same whatever the number of threads.

use crate::audit::engine::{AuditConfig, audit};
use crate::capture::{self, CaptureError, InputSpec, ReaderOptions, linktype};
use crate::diag::Diagnostic;
use crate::flow::{FlowConfig, FlowTable};
use crate::packet::{DefragLimits, PacketDecoder};
use crate::proto::dispatch::{Dispatcher, ProtoConfig, ProtoOutput};
use crate::report::model::{
    DiagnosticReport, InputReport, Report, SCHEMA, SeverityCounts, Summary, Tool,
};
use crate::time::Timestamp;
use crate::transfer::TransferRecord;
use crate::transfer::build::{Builder, TransferConfig};
use crate::transfer::correlate::{correlate, location_key};
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::PathBuf;

/// Everything `scan` can be told.
#[derive(Debug, Clone, Default)]
pub struct ScanConfig {
    /// Worker threads; None = all cores.
    pub threads: Option<usize>,
    pub reader: ReaderOptions,
    pub defrag: DefragLimits,
    pub flow: FlowConfig,
    pub proto: ProtoConfig,
    pub transfer: TransferConfig,
    pub audit: AuditConfig,
    /// Extra MMSC host names.
    pub mmsc: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error(transparent)]
    Input(#[from] CaptureError),
    #[error("cannot start worker threads: {0}")]
    Threads(String),
}

/// The report and the inputs that could not be read at all (the CLI exits with 2 for them).
#[derive(Debug)]
pub struct ScanOutcome {
    pub report: Report,
    /// The transfers with what the report does not carry (part bytes, decoded details), in
    /// report order.
    pub records: Vec<TransferRecord>,
    pub unreadable: Vec<String>,
}

/// What one input gave.
struct InputResult {
    report: InputReport,
    readable: bool,
    flows: u64,
    transfers: Vec<TransferRecord>,
}

/// Link type names as reports spell them.
fn link_type_name(id: u32) -> String {
    match linktype::name(id) {
        Some(name) => name.to_ascii_lowercase().replace('_', "-"),
        None => format!("linktype-{id}"),
    }
}

fn scan_input(index: usize, spec: &InputSpec, config: &ScanConfig) -> InputResult {
    let name = spec.display_name();
    let mut report = InputReport {
        path: name.clone(),
        format: None,
        link_types: Vec::new(),
        packets: 0,
        bytes: 0,
        first_time: None,
        last_time: None,
        diagnostics: Vec::new(),
        diagnostics_suppressed: 0,
        non_ip_frames: 0,
    };
    let mut reader = match spec.open(config.reader) {
        Ok(r) => r,
        Err(e) => {
            report.diagnostics.push(DiagnosticReport {
                frame: None,
                offset: None,
                layer: "capture",
                message: e.to_string(),
            });
            return InputResult {
                report,
                readable: false,
                flows: 0,
                transfers: Vec::new(),
            };
        }
    };
    report.format = Some(reader.format().as_str());

    let mut diags: Vec<Diagnostic> = Vec::new();
    let mut decoder = PacketDecoder::new(config.defrag);
    let mut flows = FlowTable::new(config.flow.clone());
    let mut dispatcher = Dispatcher::new(&config.proto);
    let mut first: Option<Timestamp> = None;
    let mut last: Option<Timestamp> = None;

    while let Some(record) = reader.next_record(&mut diags) {
        report.packets += 1;
        report.bytes += record.data.len() as u64;
        first = Some(first.map_or(record.ts, |f| f.min(record.ts)));
        last = Some(last.map_or(record.ts, |l| l.max(record.ts)));
        if let Some(packet) = decoder.decode(&record, &mut diags) {
            flows.push(&packet, &mut dispatcher, &mut diags);
        }
    }
    decoder.finish(&mut diags);
    flows.finish(&mut dispatcher, &mut diags);
    let ProtoOutput {
        wsp,
        wtls,
        flows: flow_infos,
        diagnostics: proto_diags,
    } = dispatcher.finish();
    diags.extend(proto_diags);

    let mut builder = Builder {
        input: &name,
        input_index: index,
        config: config.transfer,
        diagnostics: Vec::new(),
    };
    let mut transfers = Vec::new();
    for ex in &wsp {
        if let Some(info) = flow_infos.get(&ex.flow_id) {
            transfers.push(builder.wsp(ex, info));
        }
    }
    for w in &wtls {
        if let Some(info) = flow_infos.get(&w.flow_id) {
            transfers.push(builder.wtls(w, info));
        }
    }
    diags.extend(builder.diagnostics);

    report.link_types = reader
        .link_types()
        .into_iter()
        .map(link_type_name)
        .collect();
    report.first_time = first.map(|t| t.to_rfc3339());
    report.last_time = last.map(|t| t.to_rfc3339());
    report.non_ip_frames = decoder.counters().non_ip;
    let cap = config.reader.max_diagnostics;
    report.diagnostics_suppressed = reader.suppressed_diagnostics();
    for d in &diags {
        if report.diagnostics.len() < cap {
            report.diagnostics.push(DiagnosticReport::from(d));
        } else {
            report.diagnostics_suppressed += 1;
        }
    }
    InputResult {
        report,
        readable: true,
        flows: flows.stats().flows_seen,
        transfers,
    }
}

/// Runs the pipeline over `paths` (files, folders, `-`).
pub fn scan(paths: &[PathBuf], config: &ScanConfig) -> Result<ScanOutcome, ScanError> {
    let inputs = capture::expand_inputs(paths)?;
    let run = || -> Vec<InputResult> {
        inputs
            .par_iter()
            .enumerate()
            .map(|(i, spec)| scan_input(i, spec, config))
            .collect()
    };
    let results = match config.threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build()
            .map_err(|e| ScanError::Threads(e.to_string()))?
            .install(run),
        None => run(),
    };
    Ok(assemble(results, config))
}

fn assemble(results: Vec<InputResult>, config: &ScanConfig) -> ScanOutcome {
    let mut summary = Summary::default();
    let mut inputs = Vec::with_capacity(results.len());
    let mut transfers: Vec<TransferRecord> = Vec::new();
    let mut unreadable = Vec::new();
    for r in results {
        summary.packets += r.report.packets;
        summary.flows += r.flows;
        if !r.readable {
            unreadable.push(r.report.path.clone());
        }
        inputs.push(r.report);
        transfers.extend(r.transfers);
    }
    // Only MMS transfers are reported: those that carried a PDU, encrypted ones to an MMSC, and
    // requests for a content location some PDU announced (a retrieval, even one that failed).
    // Other WSP or HTTP exchanges are ordinary browsing.
    let locations: HashSet<String> = transfers
        .iter()
        .flat_map(|t| t.transfer.pdus.iter())
        .filter_map(|p| p.content_location.as_deref().map(location_key))
        .collect();
    transfers.retain(|t| {
        !t.transfer.pdus.is_empty()
            || t.transfer.encrypted
            || t.transfer
                .request
                .as_ref()
                .is_some_and(|r| locations.contains(&location_key(&r.uri)))
    });
    transfers.sort_by_key(TransferRecord::order_key);
    for (i, t) in transfers.iter_mut().enumerate() {
        t.transfer.id = format!("T{}", i + 1);
    }
    let messages = correlate(&transfers);
    let findings = audit(&transfers, &messages, &config.audit);

    summary.transfers = transfers.len() as u64;
    summary.encrypted_transfers = transfers.iter().filter(|t| t.transfer.encrypted).count() as u64;
    summary.cleartext_transfers = summary.transfers - summary.encrypted_transfers;
    summary.messages = messages.len() as u64;
    let mut counts = SeverityCounts::default();
    for f in &findings {
        counts.add(f.severity);
    }
    summary.findings = counts;

    ScanOutcome {
        report: Report {
            schema: SCHEMA,
            tool: Tool::default(),
            inputs,
            summary,
            transfers: transfers.iter().map(|t| t.transfer.clone()).collect(),
            messages,
            findings,
        },
        records: transfers,
        unreadable,
    }
}
