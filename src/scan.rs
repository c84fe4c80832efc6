//! The whole pipeline for `mmsleak scan`: inputs → records → packets → flows → PDUs → transfers →
//! messages → findings → report.
//!
//! Inputs are processed in parallel (rayon), each by one pass of the stages; the results are
//! merged in input order, so the report is the same whatever the number of threads.

use crate::audit::engine::{AuditConfig, PartFacts, audit, part_facts};
use crate::capture::{self, CaptureError, InputSpec, ReaderOptions, linktype};
use crate::diag::Diagnostic;
use crate::flow::{FlowConfig, FlowKey, FlowTable};
use crate::packet::{DefragLimits, PacketDecoder, decode_record};
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
    /// A BPF expression applied to every record read (cargo feature `libpcap`).
    pub filter: Option<String>,
    /// Keep every part's bytes in [`ScanOutcome::records`] (for `--extract` and `--html-media`).
    /// Otherwise they are dropped as soon as the content detectors have looked at them, so
    /// memory does not grow with the MMS content of the capture.
    pub keep_part_bytes: bool,
    /// Bytes of input read so far, for a progress display.
    pub progress: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

/// Where records come from: a capture file, or (with `libpcap`) a live interface.
pub trait RecordSource {
    fn next_record(&mut self, diags: &mut Vec<Diagnostic>) -> Option<crate::capture::Record>;
    /// `pcap` or `pcapng`; `None` for a live capture.
    fn format(&self) -> Option<&'static str>;
    fn link_types(&self) -> Vec<u32>;
    fn suppressed_diagnostics(&self) -> u64;
    /// Bytes consumed so far (for progress).
    fn position(&self) -> u64 {
        0
    }
}

impl RecordSource for capture::CaptureReader {
    fn next_record(&mut self, diags: &mut Vec<Diagnostic>) -> Option<crate::capture::Record> {
        capture::CaptureReader::next_record(self, diags)
    }
    fn format(&self) -> Option<&'static str> {
        Some(capture::CaptureReader::format(self).as_str())
    }
    fn link_types(&self) -> Vec<u32> {
        capture::CaptureReader::link_types(self)
    }
    fn suppressed_diagnostics(&self) -> u64 {
        capture::CaptureReader::suppressed_diagnostics(self)
    }
    fn position(&self) -> u64 {
        capture::CaptureReader::offset(self)
    }
}

#[cfg(feature = "libpcap")]
impl RecordSource for capture::libpcap::LiveCapture {
    fn next_record(&mut self, diags: &mut Vec<Diagnostic>) -> Option<crate::capture::Record> {
        capture::libpcap::LiveCapture::next_record(self, diags)
    }
    fn format(&self) -> Option<&'static str> {
        None
    }
    fn link_types(&self) -> Vec<u32> {
        vec![self.link_type()]
    }
    fn suppressed_diagnostics(&self) -> u64 {
        0
    }
}

/// Keeps the records a `--filter` expression selects.
struct RecordFilter {
    #[cfg(feature = "libpcap")]
    bpf: Option<capture::libpcap::BpfFilter>,
}

impl RecordFilter {
    fn new(config: &ScanConfig) -> Result<Self, CaptureError> {
        #[cfg(feature = "libpcap")]
        {
            let bpf = match &config.filter {
                Some(expr) => Some(capture::libpcap::BpfFilter::new(expr)?),
                None => None,
            };
            Ok(RecordFilter { bpf })
        }
        #[cfg(not(feature = "libpcap"))]
        {
            match &config.filter {
                Some(_) => Err(CaptureError::FeatureMissing {
                    what: "--filter",
                    feature: "libpcap",
                }),
                None => Ok(RecordFilter {}),
            }
        }
    }

    #[cfg_attr(not(feature = "libpcap"), allow(clippy::unused_self))]
    fn keeps(&mut self, _record: &crate::capture::Record, _diags: &mut Vec<Diagnostic>) -> bool {
        #[cfg(feature = "libpcap")]
        if let Some(bpf) = &mut self.bpf {
            return bpf.matches(_record, _diags);
        }
        true
    }
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
    /// What the report does not carry (part bytes, decoded details), one record per transfer in
    /// report order. Their `transfer` keeps only the id and the endpoints: the full transfer
    /// is `report.transfers` at the same position.
    pub records: Vec<TransferRecord>,
    pub unreadable: Vec<String>,
}

/// What one input gave.
pub struct InputResult {
    report: InputReport,
    readable: bool,
    flows: u64,
    /// Transfers with their content detections.
    transfers: Vec<Audited>,
}

/// Link type names as reports spell them.
fn link_type_name(id: u32) -> String {
    match linktype::name(id) {
        Some(name) => name.to_ascii_lowercase().replace('_', "-"),
        None => format!("linktype-{id}"),
    }
}

fn empty_input_report(name: &str) -> InputReport {
    InputReport {
        path: name.to_owned(),
        format: None,
        link_types: Vec::new(),
        packets: 0,
        bytes: 0,
        first_time: None,
        last_time: None,
        duration_secs: None,
        diagnostics: Vec::new(),
        diagnostics_suppressed: 0,
        non_ip_frames: 0,
    }
}

fn scan_input(index: usize, spec: &InputSpec, config: &ScanConfig) -> InputResult {
    let name = spec.display_name();
    let mut report = empty_input_report(&name);
    let reader = match spec.open(config.reader) {
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
    run_source(index, name, reader, config)
}

/// Flow shards per input. Fixed, not tied to the number of threads, so that per-shard caps and
/// eviction (and so the report) are the same whatever `--threads` says.
const SHARDS: usize = 16;
/// Records per batch, and frame bytes per batch: the memory one batch holds.
const BATCH_RECORDS: usize = 8192;
const BATCH_BYTES: usize = 16 << 20;
/// Bytes of the reader's chunks one batch may hold: frames far apart in the input hold a chunk
/// each, so this bounds a batch's memory where `BATCH_BYTES` alone would not.
const BATCH_HELD: usize = 2 * BATCH_BYTES;
/// Processed batches whose vectors the reading thread keeps for reuse.
const SPARE_BATCHES: usize = 4;

/// A transfer with the content detections made on its parts.
type Audited = (TransferRecord, Vec<PartFacts>);
/// What a shard hands back: its transfers, diagnostics and flow count.
type ShardResult = (Vec<Audited>, Vec<Diagnostic>, u64);

/// One shard: the flows whose hash falls in it, with their protocol state.
struct Shard {
    table: FlowTable,
    dispatcher: Dispatcher,
    diags: Vec<Diagnostic>,
    /// Indices of this batch's packets that belong to the shard.
    queue: Vec<usize>,
    /// Transfers built so far, with their content detections.
    built: Vec<Audited>,
    /// TLS connections kept until the end of the input because they might go to an MMSC that
    /// only later traffic reveals (bounded by [`MAX_TLS_CANDIDATES`]); and those dropped.
    tls_candidates: usize,
    tls_dropped: u64,
}

/// TLS connections to hosts not named like an MMSC kept per input (a sixteenth per shard), until
/// the end of the input tells which servers are MMSCs.
const MAX_TLS_CANDIDATES: usize = 16_384;

impl Shard {
    fn new(config: &ScanConfig) -> Self {
        let mut flow = config.flow.clone();
        // The caps are for the whole input: each shard gets its share.
        flow.max_flows = (flow.max_flows / SHARDS).max(1);
        flow.max_buffer_total = (flow.max_buffer_total / SHARDS).max(flow.max_buffer_per_direction);
        Shard {
            table: FlowTable::new(flow),
            dispatcher: Dispatcher::new(&config.proto),
            diags: Vec::new(),
            queue: Vec::new(),
            built: Vec::new(),
            tls_candidates: 0,
            tls_dropped: 0,
        }
    }

    /// Closes every flow and turns what the protocols produced into transfers.
    /// Turns what the protocols produced into transfers, runs the content detectors on them and
    /// drops the part bytes (unless extraction needs them): MMS content is not held while the
    /// rest of the capture is read.
    fn build(&mut self, output: ProtoOutput, name: &str, index: usize, config: &ScanConfig) {
        let ProtoOutput {
            wsp,
            wtls,
            http,
            tls,
            flows: flow_infos,
            diagnostics,
        } = output;
        self.diags.extend(diagnostics);
        let mut builder = Builder {
            input: name,
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
        for flow in &http {
            if let Some(info) = flow_infos.get(&flow.flow_id) {
                for ex in &flow.exchanges {
                    transfers.push(builder.http(flow, ex, info));
                }
            }
        }
        for t in &tls {
            if let Some(info) = flow_infos.get(&t.flow_id) {
                // A name that says MMSC decides at once; any other connection may still turn
                // out to reach an MMSC seen elsewhere in the input, so it is kept, up to a cap.
                let named = t
                    .info
                    .sni
                    .as_deref()
                    .is_some_and(|s| crate::proto::tls::is_mmsc_name(s, &config.mmsc));
                if !named {
                    if self.tls_candidates >= MAX_TLS_CANDIDATES / SHARDS {
                        self.tls_dropped += 1;
                        continue;
                    }
                    self.tls_candidates += 1;
                }
                transfers.push(builder.tls(t, info));
            }
        }
        self.diags.extend(builder.diagnostics);
        self.built.extend(transfers.into_iter().map(|mut t| {
            let facts = part_facts(&t);
            if !config.keep_part_bytes {
                for part in &mut t.parts {
                    part.data = Vec::new();
                }
            }
            (t, facts)
        }));
    }

    /// Closes every flow and hands back all the transfers the shard built.
    fn finish(mut self, name: &str, index: usize, config: &ScanConfig) -> ShardResult {
        self.table.finish(&mut self.dispatcher, &mut self.diags);
        let flows = self.table.stats().flows_seen;
        let output =
            std::mem::replace(&mut self.dispatcher, Dispatcher::new(&config.proto)).finish();
        self.build(output, name, index, config);
        if self.tls_dropped > 0 {
            self.diags.push(Diagnostic::new(
                crate::diag::Layer::Limit,
                format!(
                    "{} TLS connections to servers not named like an MMSC were past the {} kept \
                     for classification in this shard: they are not reported, even if the \
                     server is an MMSC",
                    self.tls_dropped,
                    MAX_TLS_CANDIDATES / SHARDS
                ),
            ));
        }
        (self.built, self.diags, flows)
    }
}

/// Up to one batch of records (bounded in count and bytes), in `batch` (a used one, emptied
/// first: its records are dropped, which lets the reader reuse the chunks they referred to);
/// empty at the end of input.
fn read_batch<S: RecordSource>(
    reader: &mut S,
    mut batch: Vec<crate::capture::Record>,
    progress: &Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
    position: &mut u64,
) -> (Vec<crate::capture::Record>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    batch.clear();
    batch.reserve(BATCH_RECORDS);
    let mut batch_bytes = 0usize;
    // Memory the batch holds (the reader's chunks), bounded too: see `RecordData::held_beyond`.
    let mut batch_held = 0usize;
    while batch.len() < BATCH_RECORDS && batch_bytes < BATCH_BYTES && batch_held < BATCH_HELD {
        let Some(record) = reader.next_record(&mut diags) else {
            break;
        };
        batch_bytes += record.data.len();
        batch_held += record.data.held_beyond(batch.last().map(|r| &r.data));
        batch.push(record);
    }
    if let Some(progress) = progress {
        let now = reader.position();
        progress.fetch_add(
            now.saturating_sub(*position),
            std::sync::atomic::Ordering::Relaxed,
        );
        *position = now;
    }
    (batch, diags)
}

/// The stages from records to flows for one input: filter, decode, defragment, and the flow
/// shards with their protocol state.
struct Stages<'c> {
    name: String,
    index: usize,
    config: &'c ScanConfig,
    filter: RecordFilter,
    decoder: PacketDecoder,
    shards: Vec<Shard>,
    diags: Vec<Diagnostic>,
    packets: u64,
    bytes: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl Stages<'_> {
    /// Runs one batch through the stages; hands the records back for reuse.
    fn process(
        &mut self,
        mut batch: Vec<crate::capture::Record>,
        read_diags: Vec<Diagnostic>,
    ) -> Vec<crate::capture::Record> {
        self.diags.extend(read_diags);
        let diags = &mut self.diags;
        // The BPF filter (libpcap) stays on this thread: compiled programs are not Send.
        batch.retain(|record| self.filter.keeps(record, diags));
        for record in &batch {
            self.packets += 1;
            self.bytes += record.data.len() as u64;
            self.first = Some(self.first.map_or(record.ts, |f| f.min(record.ts)));
            self.last = Some(self.last.map_or(record.ts, |l| l.max(record.ts)));
        }
        // Decoding is pure: in parallel. Defragmentation keeps state: in frame order.
        // The shard of a whole packet is computed there too; only reassembled datagrams (rare)
        // get theirs afterwards.
        let shard_of = |p: &crate::packet::Packet<'_>| {
            (FlowKey::from_packet(p).map_or(0, |k| k.shard_hash()) % SHARDS as u64) as usize
        };
        let decoded: Vec<_> = batch
            .par_iter()
            .map(|record| {
                let d = decode_record(record);
                let shard = match &d {
                    Ok(crate::packet::Decoded::Packet(p)) => Some(shard_of(p)),
                    _ => None,
                };
                (d, shard)
            })
            .collect();
        let mut packets = Vec::with_capacity(batch.len());
        for (record, (d, shard)) in batch.iter().zip(decoded) {
            if let Some(packet) = self.decoder.absorb(record, d, &mut self.diags) {
                let shard = shard.unwrap_or_else(|| shard_of(&packet));
                // Each flow belongs to one shard (by its symmetric hash), so shards advance in
                // parallel without locks and every flow still sees its packets in order.
                if let Some(s) = self.shards.get_mut(shard) {
                    s.queue.push(packets.len());
                }
                packets.push(packet);
            }
        }
        let (name, index, config) = (self.name.as_str(), self.index, self.config);
        self.shards.par_iter_mut().for_each(|shard| {
            for &i in &shard.queue {
                if let Some(packet) = packets.get(i) {
                    shard
                        .table
                        .push(packet, &mut shard.dispatcher, &mut shard.diags);
                }
            }
            shard.queue.clear();
            // What completed in this batch becomes transfers now, and its bytes are freed.
            let output = shard.dispatcher.take_output();
            shard.build(output, name, index, config);
        });
        drop(packets);
        batch
    }
}

/// Runs the stages over every record of one source.
pub fn run_source<S: RecordSource + Send>(
    index: usize,
    name: String,
    mut reader: S,
    config: &ScanConfig,
) -> InputResult {
    let mut report = empty_input_report(&name);
    report.format = reader.format();
    let filter = match RecordFilter::new(config) {
        Ok(f) => f,
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

    let mut stages = Stages {
        name: name.clone(),
        index,
        config,
        filter,
        decoder: PacketDecoder::new(config.defrag),
        shards: (0..SHARDS).map(|_| Shard::new(config)).collect(),
        diags: Vec::new(),
        packets: 0,
        bytes: 0,
        first: None,
        last: None,
    };

    // With one thread, everything runs inline; with more, reading runs on its own thread, a
    // bounded two batches ahead of decoding, and processed batches go back to it so that their
    // vectors are reused and their records dropped there (which frees the reader's chunks).
    let reader = if rayon::current_num_threads() <= 1 {
        let mut position = 0u64;
        let mut reader = reader;
        let mut used = Vec::new();
        loop {
            let (batch, read_diags) =
                read_batch(&mut reader, used, &config.progress, &mut position);
            if batch.is_empty() {
                stages.diags.extend(read_diags);
                break;
            }
            used = stages.process(batch, read_diags);
        }
        Some(reader)
    } else {
        let (tx, rx) =
            std::sync::mpsc::sync_channel::<(Vec<crate::capture::Record>, Vec<Diagnostic>)>(2);
        let (back_tx, back_rx) = std::sync::mpsc::channel::<Vec<crate::capture::Record>>();
        let progress = config.progress.clone();
        std::thread::scope(|scope| {
            let read = scope.spawn(move || {
                let mut position = 0u64;
                // Processed batches, kept (a few) for their vectors.
                let mut spare: Vec<Vec<crate::capture::Record>> = Vec::new();
                loop {
                    while let Ok(mut used) = back_rx.try_recv() {
                        used.clear();
                        if spare.len() < SPARE_BATCHES {
                            spare.push(used);
                        }
                    }
                    let used = spare.pop().unwrap_or_default();
                    let (batch, read_diags) =
                        read_batch(&mut reader, used, &progress, &mut position);
                    let done = batch.is_empty();
                    if tx.send((batch, read_diags)).is_err() || done {
                        break;
                    }
                }
                reader
            });
            for (batch, read_diags) in rx {
                if batch.is_empty() {
                    stages.diags.extend(read_diags);
                    break;
                }
                // If the reader has finished, the buffers are simply dropped.
                let _ = back_tx.send(stages.process(batch, read_diags));
            }
            drop(back_tx);
            read.join().ok()
        })
    };
    let Stages {
        mut decoder,
        shards,
        mut diags,
        packets,
        bytes,
        first,
        last,
        ..
    } = stages;
    report.packets = packets;
    report.bytes = bytes;
    if reader.is_none() {
        diags.push(Diagnostic::new(
            crate::diag::Layer::Capture,
            "the reading thread stopped unexpectedly; the input was not read to its end",
        ));
    }
    decoder.finish(&mut diags);

    let finished: Vec<ShardResult> = shards
        .into_par_iter()
        .map(|shard| shard.finish(&name, index, config))
        .collect();
    let mut transfers = Vec::new();
    let mut flow_count = 0u64;
    for (t, d, f) in finished {
        transfers.extend(t);
        diags.extend(d);
        flow_count += f;
    }
    // Only MMS transfers are reported: those that carried a PDU, encrypted ones (kept until it is
    // known whether they go to an MMSC), and requests for a content location that a PDU of this
    // input announced (a retrieval, even one that failed). Other WSP and HTTP exchanges are
    // ordinary browsing, dropped here so that memory follows the MMS traffic, not the capture.
    let locations: HashSet<String> = transfers
        .iter()
        .flat_map(|(t, _)| t.transfer.pdus.iter())
        .filter_map(|p| p.content_location.as_deref().map(location_key))
        .collect();
    transfers.retain(|(t, _)| {
        !t.transfer.pdus.is_empty()
            || t.transfer.encrypted
            || t.transfer
                .request
                .as_ref()
                .is_some_and(|r| locations.contains(&location_key(&r.uri)))
    });
    // Shards finish in a fixed order, but diagnostics of one frame may come from several:
    // sort so the report does not depend on scheduling.
    diags.sort_by(|a, b| {
        (a.frame, a.offset, a.layer, &a.message).cmp(&(b.frame, b.offset, b.layer, &b.message))
    });

    report.link_types = reader
        .as_ref()
        .map(|r| r.link_types())
        .unwrap_or_default()
        .into_iter()
        .map(link_type_name)
        .collect();
    report.first_time = first.map(|t| t.to_rfc3339());
    report.last_time = last.map(|t| t.to_rfc3339());
    report.duration_secs = match (first, last) {
        (Some(f), Some(l)) => Some((l.as_nanos() - f.as_nanos()) as f64 / 1e9),
        _ => None,
    };
    report.non_ip_frames = decoder.counters().non_ip;
    let cap = config.reader.max_diagnostics;
    report.diagnostics_suppressed = reader.as_ref().map_or(0, |r| r.suppressed_diagnostics());
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
        flows: flow_count,
        transfers,
    }
}

/// Runs the pipeline over `paths` (files, folders, `-`).
pub fn scan(paths: &[PathBuf], config: &ScanConfig) -> Result<ScanOutcome, ScanError> {
    let inputs = capture::expand_inputs(paths)?;
    // An expression libpcap rejects is a usage error, before any input is read.
    RecordFilter::new(config)?;
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

/// Builds the report from per-input results (in input order).
pub fn assemble(results: Vec<InputResult>, config: &ScanConfig) -> ScanOutcome {
    let mut summary = Summary::default();
    let mut inputs = Vec::with_capacity(results.len());
    let mut transfers: Vec<Audited> = Vec::new();
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
    let mmsc = {
        let records: Vec<&TransferRecord> = transfers.iter().map(|(t, _)| t).collect();
        MmscSet::new(&records, &config.mmsc)
    };
    // Encrypted transfers are reported only when they go to an MMSC.
    transfers.retain(|(t, _)| !t.transfer.encrypted || mmsc.contains(t));
    transfers.sort_by(|a, b| a.0.order_key().cmp(&b.0.order_key()));
    let (mut transfers, facts): (Vec<TransferRecord>, Vec<Vec<PartFacts>>) =
        transfers.into_iter().unzip();
    for (i, t) in transfers.iter_mut().enumerate() {
        t.transfer.id = format!("T{}", i + 1);
    }
    let messages = correlate(&transfers);
    let findings = audit(&transfers, &facts, &messages, &config.audit);

    summary.transfers = transfers.len() as u64;
    summary.encrypted_transfers = transfers.iter().filter(|t| t.transfer.encrypted).count() as u64;
    summary.cleartext_transfers = summary.transfers - summary.encrypted_transfers;
    summary.messages = messages.len() as u64;
    let mut counts = SeverityCounts::default();
    for f in &findings {
        counts.add(f.severity);
    }
    summary.findings = counts;

    // The report owns the transfers; the records keep what the report does not carry (part
    // bytes, decoded details) under the same id, so the transfers are not held twice.
    let report_transfers: Vec<crate::report::model::Transfer> = transfers
        .iter_mut()
        .map(|r| {
            let placeholder = crate::report::model::Transfer {
                id: r.transfer.id.clone(),
                input: String::new(),
                transport: r.transfer.transport,
                client: r.transfer.client,
                server: r.transfer.server,
                tunnel: None,
                first_frame: r.transfer.first_frame,
                last_frame: r.transfer.last_frame,
                start: String::new(),
                end: String::new(),
                encrypted: r.transfer.encrypted,
                complete: r.transfer.complete,
                sni: None,
                tls_version: None,
                handshake_frames: Vec::new(),
                request: None,
                response: None,
                pdus: Vec::new(),
            };
            std::mem::replace(&mut r.transfer, placeholder)
        })
        .collect();
    ScanOutcome {
        report: Report {
            schema: SCHEMA,
            tool: Tool::default(),
            inputs,
            summary,
            transfers: report_transfers,
            messages,
            findings,
        },
        records: transfers,
        unreadable,
    }
}

/// Captures live from `interface` until `count` frames or `duration` seconds (at least one of
/// them should be given, or it runs until the interface fails), then reports as for a file.
#[cfg(feature = "libpcap")]
pub fn scan_live(
    interface: &str,
    count: Option<u64>,
    duration: Option<std::time::Duration>,
    config: &ScanConfig,
) -> Result<ScanOutcome, ScanError> {
    use std::sync::atomic::Ordering;
    let live =
        capture::libpcap::LiveCapture::open(interface, 262_144, true, config.filter.as_deref())?;
    if let Some(d) = duration {
        let stop = live.stop_handle();
        std::thread::spawn(move || {
            std::thread::sleep(d);
            stop.store(true, Ordering::Relaxed);
        });
    }
    let source = Limited {
        inner: live,
        left: count,
    };
    // The filter already runs in the kernel for a live capture.
    let live_config = ScanConfig {
        filter: None,
        ..config.clone()
    };
    let result = run_source(0, interface.to_owned(), source, &live_config);
    Ok(assemble(vec![result], config))
}

/// A source that ends after a number of records.
#[cfg(feature = "libpcap")]
struct Limited<S> {
    inner: S,
    left: Option<u64>,
}

#[cfg(feature = "libpcap")]
impl<S: RecordSource> RecordSource for Limited<S> {
    fn next_record(&mut self, diags: &mut Vec<Diagnostic>) -> Option<crate::capture::Record> {
        match &mut self.left {
            Some(0) => None,
            Some(n) => {
                *n -= 1;
                self.inner.next_record(diags)
            }
            None => self.inner.next_record(diags),
        }
    }
    fn format(&self) -> Option<&'static str> {
        self.inner.format()
    }
    fn link_types(&self) -> Vec<u32> {
        self.inner.link_types()
    }
    fn suppressed_diagnostics(&self) -> u64 {
        self.inner.suppressed_diagnostics()
    }
}

/// What identifies an MMSC in this capture: the hosts of content locations and of HTTP requests
/// that carried MMS, the servers that answered them, and names given with `--mmsc`.
struct MmscSet<'a> {
    hosts: HashSet<String>,
    ips: HashSet<std::net::IpAddr>,
    extra: &'a [String],
}

fn url_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = if let Some(v6) = host.strip_prefix('[') {
        v6.split(']').next()?
    } else {
        host.split(':').next()?
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

impl<'a> MmscSet<'a> {
    fn new(transfers: &[&TransferRecord], extra: &'a [String]) -> Self {
        let mut hosts = HashSet::new();
        let mut ips = HashSet::new();
        for t in transfers {
            for p in &t.transfer.pdus {
                if let Some(h) = p.content_location.as_deref().and_then(url_host) {
                    hosts.insert(h);
                }
            }
            if !t.transfer.pdus.is_empty() && t.transfer.transport == "http" {
                ips.insert(t.transfer.server.ip);
                if let Some(h) = t.transfer.request.as_ref().and_then(|r| url_host(&r.uri)) {
                    hosts.insert(h);
                }
            }
        }
        MmscSet { hosts, ips, extra }
    }

    /// True for a WTLS flow (WAP gateways only carry WAP), or a TLS connection to an MMSC.
    fn contains(&self, t: &TransferRecord) -> bool {
        if t.transfer.transport == "wtls" {
            return true;
        }
        let sni = t
            .transfer
            .sni
            .as_deref()
            .map(|s| s.trim_end_matches('.').to_ascii_lowercase());
        self.ips.contains(&t.transfer.server.ip)
            || sni.as_deref().is_some_and(|s| {
                self.hosts.contains(s) || crate::proto::tls::is_mmsc_name(s, self.extra)
            })
    }
}
