//! The whole pipeline for `mmsleak scan`: inputs → records → packets → flows → PDUs → transfers →
//! messages → findings → report.
//!
//! Inputs are processed in parallel (rayon), each by one pass of the stages; the results are
//! merged in input order, so the report is the same whatever the number of threads.

use crate::audit::engine::{
    AuditConfig, Draft, MessageAudit, audit_message, audit_transfer, part_facts,
};
use crate::capture::{self, CaptureError, InputSpec, ReaderOptions, linktype};
use crate::diag::Diagnostic;
use crate::flow::{FlowConfig, FlowKey, FlowTable};
use crate::packet::{Absorbed, DefragLimits, PacketDecoder, decode_record};
use crate::proto::dispatch::{Dispatcher, ProtoConfig, ProtoOutput};
use crate::report::model::{
    DiagnosticReport, Finding, InputReport, Message, Report, SCHEMA, Severity, SeverityCounts,
    Summary, Tool, Transfer,
};
use crate::report::stream::{self, StreamFormat, StreamWriter};
use crate::spill::{BlobReader, BlobRef, Spill, put_u32};
use crate::time::Timestamp;
use crate::transfer::TransferRecord;
use crate::transfer::build::{Builder, TransferConfig};
use crate::transfer::correlate::Correlation;
use crate::transfer::entry::{
    TransferFacts, TransferKeys, decode_pending_tls, encode_pending_tls, location_digest, tiebreak,
};
use rayon::prelude::*;
use std::collections::HashSet;
use std::io::{self, Write};
use std::net::IpAddr;
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
    /// Called once the inputs are read, before the end of the run, on every worker thread and
    /// on the calling one. The reading's memory is free by then, but an allocator may still
    /// hold it, and the end of the run's working set would come on top. The binary gives freed
    /// memory back to the system here; the library never touches the allocator itself.
    pub release_memory: Option<fn()>,
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

    /// True when some records may be left out.
    #[cfg_attr(not(feature = "libpcap"), allow(clippy::unused_self))]
    fn selects(&self) -> bool {
        #[cfg(feature = "libpcap")]
        if self.bpf.is_some() {
            return true;
        }
        false
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
    #[error("temporary storage for the report failed: {0}")]
    Spill(io::Error),
    #[error("cannot write the report: {0}")]
    Output(io::Error),
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
    /// Transfers sealed with their findings, kept in memory (all of them with a memory sink;
    /// only the undecided ones when streaming).
    transfers: Vec<Sealed>,
    /// Index records of the spilled transfers known to be reported, and their number.
    index_runs: Vec<BlobRef>,
    indexed: usize,
    /// Spilled transfers not yet decided: encrypted ones that may reach an MMSC, requests
    /// without a PDU that may have fetched a content location of this input.
    candidate_runs: Vec<BlobRef>,
    /// Digests of the content locations this input's PDUs announced (what decides the requests
    /// without a PDU).
    locations: HashSet<u128>,
    /// Findings of the transfers known to be reported, by severity.
    counts: SeverityCounts,
    mmsc: MmscEvidence,
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

fn scan_input(index: usize, spec: &InputSpec, config: &ScanConfig, sink: &Sink) -> InputResult {
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
                index_runs: Vec::new(),
                indexed: 0,
                candidate_runs: Vec::new(),
                locations: HashSet::new(),
                counts: SeverityCounts::default(),
                mmsc: MmscEvidence::default(),
            };
        }
    };
    run_source(index, name, reader, config, sink)
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

/// Where the report goes while the run is under way: the spill that holds serialised
/// transfers and the strings of their correlation keys, and the format to serialise to (none:
/// transfers are kept in memory for outputs that need the whole report).
struct Sink {
    spill: Spill,
    format: Option<StreamFormat>,
}

impl Sink {
    /// Everything kept in memory: for table, CSV, HTML, extraction, redaction and the library.
    fn memory() -> Self {
        Sink {
            spill: Spill::memory(),
            format: None,
        }
    }

    /// Transfers serialised to a temporary file as they become final.
    fn streaming(format: StreamFormat) -> io::Result<Self> {
        Ok(Sink {
            spill: Spill::temp_file()?,
            format: Some(format),
        })
    }
}

/// Severity counts of one transfer's findings.
type Counts = [u32; 5];

fn count(counts: &mut Counts, severity: Severity) {
    let i = match severity {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
        Severity::Info => 4,
    };
    if let Some(c) = counts.get_mut(i) {
        *c = c.saturating_add(1);
    }
}

fn add_severities(total: &mut SeverityCounts, c: &SeverityCounts) {
    total.critical += c.critical;
    total.high += c.high;
    total.medium += c.medium;
    total.low += c.low;
    total.info += c.info;
}

fn add_counts(total: &mut SeverityCounts, c: &Counts) {
    let [critical, high, medium, low, info] = *c;
    total.critical += u64::from(critical);
    total.high += u64::from(high);
    total.medium += u64::from(medium);
    total.low += u64::from(low);
    total.info += u64::from(info);
}

/// A transfer as it waits for the end of the run: what orders it, where its facts are (see
/// [`TransferFacts`]), and the transfer with its findings, kept or serialised. 64 bytes: the
/// end of a run holds one per reported transfer (to sort them and tie them into messages). With
/// a streaming sink, a decided transfer waits as an index record in the spill instead
/// ([`Sealed::encode`]) and costs no memory until the end of the run.
struct Sealed {
    input_index: u32,
    transport: u8,
    encrypted: bool,
    first_frame: u64,
    last_frame: u64,
    tiebreak: u64,
    findings: u32,
    /// Where the findings start in a spilled payload.
    split: u32,
    payload: Payload,
}

/// A transfer reported only if a later look at the whole input (or run) says so: an encrypted
/// one (if it reaches an MMSC), or one without a PDU (if it asked for a known content
/// location).
struct Provisional {
    encrypted: Option<Encrypted>,
    request_location: Option<u128>,
    counts: Counts,
}

struct Encrypted {
    wtls: bool,
    server_ip: IpAddr,
    /// Lower-cased, without a trailing dot.
    sni: Option<String>,
}

impl Provisional {
    /// As a spilled candidate's tail (after its index record).
    fn encode(&self, out: &mut Vec<u8>) {
        for c in &self.counts {
            put_u32(out, *c);
        }
        match &self.encrypted {
            Some(e) => {
                out.push(1);
                out.push(u8::from(e.wtls));
                crate::spill::put_ip(out, e.server_ip);
                crate::spill::put_opt_str(out, e.sni.as_deref());
            }
            None => out.push(0),
        }
        match self.request_location {
            Some(k) => {
                out.push(1);
                out.extend_from_slice(&k.to_le_bytes());
            }
            None => out.push(0),
        }
    }

    fn decode(bytes: &[u8]) -> Option<Provisional> {
        let mut r = BlobReader::new(bytes);
        let mut counts = Counts::default();
        for c in &mut counts {
            *c = r.u32()?;
        }
        let encrypted = match r.bytes(1)?.first()? {
            1 => {
                let wtls = *r.bytes(1)?.first()? == 1;
                let server_ip = r.ip()?;
                let sni = r.opt_str()?;
                Some(Encrypted {
                    wtls,
                    server_ip,
                    sni,
                })
            }
            _ => None,
        };
        let request_location = match r.bytes(1)?.first()? {
            1 => Some(u128::from_le_bytes(r.bytes(16)?.try_into().ok()?)),
            _ => None,
        };
        Some(Provisional {
            encrypted,
            request_location,
            counts,
        })
    }
}

/// Transports in the order reports sort them (by name).
const TRANSPORTS: [&str; 5] = ["http", "tls", "wsp", "wtls", "wtp"];

/// A transport's place in [`TRANSPORTS`] (`u8::MAX` for another name).
fn transport_code(name: &str) -> u8 {
    TRANSPORTS
        .iter()
        .position(|n| *n == name)
        .map_or(u8::MAX, |i| i as u8)
}

impl Encrypted {
    /// What decides whether an encrypted transfer reaches an MMSC.
    fn of(tr: &Transfer) -> Encrypted {
        Encrypted {
            wtls: tr.transport == "wtls",
            server_ip: tr.server.ip,
            sni: tr
                .sni
                .as_deref()
                .map(|s| s.trim_end_matches('.').to_ascii_lowercase()),
        }
    }
}

impl Sealed {
    fn order_key(&self) -> (u32, u64, u64, u8, u64) {
        (
            self.input_index,
            self.first_frame,
            self.last_frame,
            self.transport,
            self.tiebreak,
        )
    }

    fn provisional(&self) -> Option<&Provisional> {
        match &self.payload {
            Payload::Kept(k) => k.provisional.as_ref(),
            Payload::Spilled { .. } => None,
        }
    }

    fn undecided_encrypted(&self) -> Option<&Encrypted> {
        self.provisional().and_then(|p| p.encrypted.as_ref())
    }

    /// Where the transfer's facts are.
    fn facts(&self) -> BlobRef {
        match &self.payload {
            Payload::Kept(k) => k.facts,
            &Payload::Spilled { at, facts, .. } => BlobRef { at, len: facts },
        }
    }

    /// Where the serialised transfer and findings are, when they were serialised.
    fn serialised(&self) -> Option<BlobRef> {
        match self.payload {
            Payload::Kept(_) => None,
            Payload::Spilled { at, facts, len } => Some(BlobRef {
                at: at.saturating_add(u64::from(facts)),
                len,
            }),
        }
    }

    /// A spilled, decided transfer as a fixed-size index record (its offset relative to the
    /// buffer it is in, see [`rebase_index`]).
    fn encode(&self, out: &mut Vec<u8>) -> bool {
        let Payload::Spilled { at, facts, len } = self.payload else {
            return false;
        };
        out.extend_from_slice(&self.input_index.to_le_bytes());
        out.extend_from_slice(&[self.transport, u8::from(self.encrypted), 0, 0]);
        for v in [self.first_frame, self.last_frame, self.tiebreak, at] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in [facts, len, self.findings, self.split] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        true
    }

    fn decode(record: &[u8; INDEX_RECORD]) -> Sealed {
        let u32_at = |i: usize| {
            record
                .get(i..i + 4)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u32::from_le_bytes)
        };
        let u64_at = |i: usize| {
            record
                .get(i..i + 8)
                .and_then(|b| b.try_into().ok())
                .map_or(0, u64::from_le_bytes)
        };
        Sealed {
            input_index: u32_at(0),
            transport: record.get(4).copied().unwrap_or(u8::MAX),
            encrypted: record.get(5) == Some(&1),
            first_frame: u64_at(8),
            last_frame: u64_at(16),
            tiebreak: u64_at(24),
            payload: Payload::Spilled {
                at: u64_at(32),
                facts: u32_at(40),
                len: u32_at(44),
            },
            findings: u32_at(48),
            split: u32_at(52),
        }
    }
}

/// Bytes of an index record (see [`Sealed::encode`]).
const INDEX_RECORD: usize = 56;

/// The byte of a candidate's index record set to 1 when the candidate is pending (see
/// [`Shard::push_candidate`]); 0 in every other record.
const PENDING_FLAG: usize = 6;

/// Adds `base` to the offset of every index record in `index`.
fn rebase_index(index: &mut [u8], base: u64) {
    for record in index.chunks_exact_mut(INDEX_RECORD) {
        if let Some(field) = record.get_mut(32..40) {
            let v = <[u8; 8]>::try_from(&*field).map_or(0, u64::from_le_bytes);
            field.copy_from_slice(&v.saturating_add(base).to_le_bytes());
        }
    }
}

enum Payload {
    Kept(Box<Kept>),
    /// The facts blob at `at`, `facts` bytes long, and right after it the serialised transfer,
    /// `len` bytes: `[u32 len][u32 id offset][transfer]`, then per finding
    /// `[u32 len][u32 id, transfer, message offsets][finding]`.
    Spilled {
        at: u64,
        facts: u32,
        len: u32,
    },
}

/// A transfer kept in memory, when the report is built in memory.
struct Kept {
    transfer: TransferRecord,
    /// Its findings, not yet numbered.
    drafts: Vec<Draft>,
    facts: BlobRef,
    /// Set while it is not yet known whether the transfer is reported.
    provisional: Option<Provisional>,
}

/// What shows which servers are MMSCs: the hosts of content locations and of HTTP requests that
/// carried MMS, and the servers that answered them. Bounded: past the cap, new names are not
/// learnt (and a diagnostic says so).
#[derive(Default)]
struct MmscEvidence {
    hosts: HashSet<String>,
    ips: HashSet<std::net::IpAddr>,
    overflow: bool,
}

const MAX_MMSC_EVIDENCE: usize = 65_536;

impl MmscEvidence {
    fn learn(&mut self, t: &TransferRecord) {
        let mut host = |h: String, hosts: &mut HashSet<String>| {
            if hosts.len() < MAX_MMSC_EVIDENCE || hosts.contains(&h) {
                hosts.insert(h);
            } else {
                self.overflow = true;
            }
        };
        for p in &t.transfer.pdus {
            if let Some(h) = p.content_location.as_deref().and_then(url_host) {
                host(h, &mut self.hosts);
            }
        }
        if !t.transfer.pdus.is_empty() && t.transfer.transport == "http" {
            if let Some(h) = t.transfer.request.as_ref().and_then(|r| url_host(&r.uri)) {
                host(h, &mut self.hosts);
            }
            if self.ips.len() < MAX_MMSC_EVIDENCE {
                self.ips.insert(t.transfer.server.ip);
            } else if !self.ips.contains(&t.transfer.server.ip) {
                self.overflow = true;
            }
        }
    }

    fn merge(&mut self, other: MmscEvidence) {
        self.overflow |= other.overflow;
        for h in other.hosts {
            if self.hosts.len() < MAX_MMSC_EVIDENCE {
                self.hosts.insert(h);
            } else if !self.hosts.contains(&h) {
                self.overflow = true;
            }
        }
        for ip in other.ips {
            if self.ips.len() < MAX_MMSC_EVIDENCE {
                self.ips.insert(ip);
            } else if !self.ips.contains(&ip) {
                self.overflow = true;
            }
        }
    }
}

/// What a shard hands back.
struct ShardResult {
    sealed: Vec<Vec<Sealed>>,
    candidate_runs: Vec<BlobRef>,
    index_runs: Vec<BlobRef>,
    indexed: usize,
    diags: Vec<Diagnostic>,
    flows: u64,
    mmsc: MmscEvidence,
    counts: SeverityCounts,
    locations: HashSet<u128>,
}

/// Where a packet of the batch being processed is.
#[derive(Debug, Clone, Copy)]
enum PacketAt {
    /// Decoded in place, at this index of the batch.
    Batch(usize),
    /// Reassembled from fragments.
    Extra(usize),
}

/// One shard: the flows whose hash falls in it, with their protocol state.
struct Shard {
    table: FlowTable,
    dispatcher: Dispatcher,
    diags: Vec<Diagnostic>,
    /// This batch's packets that belong to the shard.
    queue: Vec<PacketAt>,
    /// Transfers sealed so far, in chunks of [`SEALED_CHUNK`] (a vector that doubles would
    /// hold up to twice the memory they need).
    built: Vec<Vec<Sealed>>,
    /// Serialised transfers and key strings not yet in the spill; `built[pending..]` and
    /// `index` point into it (offsets relative to its start).
    buffer: Vec<u8>,
    pending: usize,
    /// Index records of the spilled transfers already known to be reported: with a streaming
    /// sink these are not kept in memory at all (see [`Sealed::encode`]).
    index: Vec<u8>,
    /// Where the index records are in the spill, and how many there are.
    index_runs: Vec<BlobRef>,
    indexed: usize,
    /// Undecided transfers (see [`Provisional`]) as `[u32 len][index record][Provisional]`,
    /// decided at the end of the run; and where they are in the spill.
    candidates: Vec<u8>,
    candidate_runs: Vec<BlobRef>,
    mmsc: MmscEvidence,
    /// Findings of the transfers known to be reported, by severity.
    counts: SeverityCounts,
    /// The content locations of this shard's PDUs (for the transfers without a PDU).
    locations: HashSet<u128>,
    /// TLS connections kept until the end of the input because they might go to an MMSC that
    /// only later traffic reveals (bounded by [`MAX_TLS_CANDIDATES`]); and those dropped.
    tls_candidates: usize,
    tls_dropped: u64,
}

/// TLS connections to hosts not named like an MMSC kept per input (a sixteenth per shard), until
/// the end of the input tells which servers are MMSCs.
const MAX_TLS_CANDIDATES: usize = 16_384;

/// Sealed transfers per chunk.
const SEALED_CHUNK: usize = 1024;

/// Bytes a shard gathers before appending them to the spill.
const SPILL_CHUNK: usize = 256 << 10;

impl Shard {
    fn new(config: &ScanConfig) -> Self {
        let mut flow = config.flow.clone();
        // The caps are for the whole input: each shard gets its share.
        flow.max_flows = (flow.max_flows / SHARDS).max(1);
        flow.max_buffer_total = (flow.max_buffer_total / SHARDS).max(flow.max_buffer_per_direction);
        let mut proto = config.proto.clone();
        // At least one whole body, so that a single large message is cut only by its own cap.
        proto.max_http_body_total =
            (proto.max_http_body_total / SHARDS).max(proto.http.max_body_bytes);
        Shard {
            table: FlowTable::new(flow),
            dispatcher: Dispatcher::new(&proto),
            diags: Vec::new(),
            queue: Vec::new(),
            built: Vec::new(),
            buffer: Vec::new(),
            pending: 0,
            index: Vec::new(),
            index_runs: Vec::new(),
            indexed: 0,
            candidates: Vec::new(),
            candidate_runs: Vec::new(),
            mmsc: MmscEvidence::default(),
            counts: SeverityCounts::default(),
            locations: HashSet::new(),
            tls_candidates: 0,
            tls_dropped: 0,
        }
    }

    /// Turns what the protocols produced into transfers, runs the content detectors and the
    /// transfer rules on them, and seals them: MMS content is not held while the rest of the
    /// capture is read, and with a streaming sink neither is the transfer.
    fn build(
        &mut self,
        output: ProtoOutput,
        name: &str,
        index: usize,
        config: &ScanConfig,
        sink: &Sink,
    ) {
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
        let mut pending_tls = Vec::new();
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
                    // With a streaming sink, candidates wait in the spill, not in memory: no
                    // cap; and only what builds them again waits (see `Shard::defer_tls`).
                    if sink.format.is_some() {
                        pending_tls.push(builder.tls(t, info));
                        continue;
                    }
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
        for t in pending_tls {
            if let Some(t) = self.defer_tls(t) {
                transfers.push(t);
            }
            if self.buffer.len() >= SPILL_CHUNK {
                self.flush(&sink.spill);
            }
        }
        for mut t in transfers {
            let facts = part_facts(&t);
            let drafts = audit_transfer(&t, &facts, &config.audit);
            if !config.keep_part_bytes {
                for part in &mut t.parts {
                    part.data = Vec::new();
                }
            }
            self.mmsc.learn(&t);
            self.seal(t, drafts, sink);
            // After each transfer, not once per batch: one flow can complete thousands of
            // exchanges in a batch (a push flood), which would otherwise all wait here.
            if self.buffer.len() >= SPILL_CHUNK {
                self.flush(&sink.spill);
            }
        }
    }

    fn seal(&mut self, t: TransferRecord, drafts: Vec<Draft>, sink: &Sink) {
        let tr = &t.transfer;
        let facts_at = self.buffer.len();
        TransferFacts::encode_of(&t, &mut self.buffer);
        let facts = BlobRef {
            at: facts_at as u64,
            len: u32::try_from(self.buffer.len() - facts_at).unwrap_or(0),
        };
        for p in &tr.pdus {
            if let Some(loc) = &p.content_location {
                self.locations.insert(location_digest(loc));
            }
        }
        let mut counts = Counts::default();
        for d in &drafts {
            count(&mut counts, d.severity());
        }
        let provisional = (tr.encrypted || tr.pdus.is_empty()).then(|| Provisional {
            encrypted: tr.encrypted.then(|| Encrypted::of(tr)),
            request_location: tr.request.as_ref().map(|r| location_digest(&r.uri)),
            counts,
        });
        if provisional.is_none() {
            add_counts(&mut self.counts, &counts);
        }
        let findings = u32::try_from(drafts.len()).unwrap_or(u32::MAX);
        let (input_index, transport, first_frame, last_frame) = (
            u32::try_from(t.input_index).unwrap_or(u32::MAX),
            transport_code(tr.transport),
            tr.first_frame,
            tr.last_frame,
        );
        let tiebreak = tiebreak(&t);
        let tr_encrypted = t.transfer.encrypted;
        let mut split = 0;
        let (payload, provisional) = match sink.format {
            None => (
                Payload::Kept(Box::new(Kept {
                    transfer: t,
                    drafts,
                    facts,
                    provisional,
                })),
                None,
            ),
            Some(format) => {
                let start = self.buffer.len();
                // `Payload::Spilled` finds the transfer right after its facts.
                debug_assert_eq!(start as u64, facts.at + u64::from(facts.len));
                if let Err(e) = serialise(&mut self.buffer, format, &t, drafts, &mut split) {
                    // Serialising plain data cannot fail; if it did, say so rather than lose it.
                    self.buffer.truncate(start);
                    self.diags.push(Diagnostic::new(
                        crate::diag::Layer::Limit,
                        format!("transfer at frame {first_frame} could not be written: {e}"),
                    ));
                    return;
                }
                // The transfer follows its facts in the buffer.
                let payload = Payload::Spilled {
                    at: facts.at,
                    facts: facts.len,
                    len: u32::try_from(self.buffer.len() - start).unwrap_or(0),
                };
                (payload, provisional)
            }
        };
        let sealed = Sealed {
            input_index,
            transport,
            encrypted: tr_encrypted,
            first_frame,
            last_frame,
            tiebreak,
            findings,
            split,
            payload,
        };
        match provisional {
            None if sealed.encode(&mut self.index) => {
                self.indexed += 1;
                return;
            }
            Some(p) => {
                self.push_candidate(&sealed, &p, false);
                return;
            }
            None => {}
        }
        if self.built.last().is_none_or(|c| c.len() >= SEALED_CHUNK) {
            self.built.push(Vec::with_capacity(SEALED_CHUNK));
        }
        if let Some(chunk) = self.built.last_mut() {
            chunk.push(sealed);
        }
    }

    /// Keeps an undecided transfer as a candidate: `[u32 len][index record][Provisional]`, the
    /// record's length first so that runs can be walked (and rebased). A `pending` candidate's
    /// payload is a blob of [`encode_pending_tls`] instead of its facts and report.
    fn push_candidate(&mut self, sealed: &Sealed, p: &Provisional, pending: bool) {
        let start = self.candidates.len();
        if sealed.encode(&mut self.candidates) {
            if pending && let Some(flag) = self.candidates.get_mut(start + PENDING_FLAG) {
                *flag = 1;
            }
            p.encode(&mut self.candidates);
            let len = self.candidates.len() - start;
            let len = u32::try_from(len).unwrap_or(0).to_le_bytes();
            self.candidates.splice(start..start, len);
        }
    }

    /// Keeps a TLS connection whose server may turn out to be an MMSC as a pending candidate:
    /// its audit and report are made at the end of the input, and only if it is reported (most
    /// are not). Hands the transfer back when it cannot be kept that way.
    fn defer_tls(&mut self, t: TransferRecord) -> Option<TransferRecord> {
        let at = self.buffer.len();
        if !encode_pending_tls(&t, &mut self.buffer) {
            return Some(t);
        }
        let tr = &t.transfer;
        let sealed = Sealed {
            input_index: u32::try_from(t.input_index).unwrap_or(u32::MAX),
            transport: transport_code(tr.transport),
            encrypted: tr.encrypted,
            first_frame: tr.first_frame,
            last_frame: tr.last_frame,
            // Only a reported transfer needs its place among those with the same frames: made
            // with its report (`build_pending_tls`).
            tiebreak: 0,
            findings: 0,
            split: 0,
            payload: Payload::Spilled {
                at: at as u64,
                facts: 0,
                len: u32::try_from(self.buffer.len() - at).unwrap_or(0),
            },
        };
        let p = Provisional {
            encrypted: Some(Encrypted::of(tr)),
            request_location: None,
            counts: Counts::default(),
        };
        self.push_candidate(&sealed, &p, true);
        None
    }

    /// Appends the buffer to the spill and makes the pending offsets absolute.
    fn flush(&mut self, spill: &Spill) {
        if self.buffer.is_empty() {
            return;
        }
        let base = spill.append(&self.buffer);
        for s in self.built.iter_mut().flatten().skip(self.pending) {
            match &mut s.payload {
                Payload::Kept(k) => k.facts.at += base,
                Payload::Spilled { at, .. } => *at += base,
            }
        }
        self.pending = self.built.iter().map(Vec::len).sum();
        if !self.index.is_empty() {
            rebase_index(&mut self.index, base);
            let at = spill.append(&self.index);
            self.index_runs.push(BlobRef {
                at,
                len: u32::try_from(self.index.len()).unwrap_or(0),
            });
            self.index.clear();
        }
        if !self.candidates.is_empty() {
            let mut rest = self.candidates.as_mut_slice();
            while let Some((head, tail)) = rest.split_first_chunk_mut::<4>() {
                let len = u32::from_le_bytes(*head) as usize;
                let Some((record, tail)) = tail.split_at_mut_checked(len) else {
                    break;
                };
                if let Some(index) = record.get_mut(..INDEX_RECORD) {
                    rebase_index(index, base);
                }
                rest = tail;
            }
            let at = spill.append(&self.candidates);
            self.candidate_runs.push(BlobRef {
                at,
                len: u32::try_from(self.candidates.len()).unwrap_or(0),
            });
            self.candidates.clear();
        }
        self.buffer.clear();
        if self.buffer.capacity() > 2 * SPILL_CHUNK {
            self.buffer.shrink_to(SPILL_CHUNK);
        }
    }

    /// Closes every flow and hands back all the transfers the shard built.
    fn finish(mut self, name: &str, index: usize, config: &ScanConfig, sink: &Sink) -> ShardResult {
        self.table.finish(&mut self.dispatcher, &mut self.diags);
        let flows = self.table.stats().flows_seen;
        let output =
            std::mem::replace(&mut self.dispatcher, Dispatcher::new(&config.proto)).finish();
        self.build(output, name, index, config, sink);
        self.flush(&sink.spill);
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
        ShardResult {
            sealed: self.built,
            candidate_runs: self.candidate_runs,
            index_runs: self.index_runs,
            indexed: self.indexed,
            diags: self.diags,
            flows,
            mmsc: self.mmsc,
            counts: self.counts,
            locations: self.locations,
        }
    }
}

/// Serialises a transfer and its findings (see [`Payload::Spilled`]); `split` is set to where the
/// findings start.
fn serialise(
    buf: &mut Vec<u8>,
    format: StreamFormat,
    t: &TransferRecord,
    drafts: Vec<Draft>,
    split: &mut u32,
) -> io::Result<()> {
    let start = buf.len();
    // Each item straight into the buffer, after room for its length and placeholders.
    let head = buf.len();
    buf.extend_from_slice(&[0; 8]);
    let id_at = stream::transfer_item_into(buf, format, &t.transfer)?;
    let len = u32::try_from(buf.len() - head - 8).map_err(io::Error::other)?;
    patch_u32s(buf, head, &[len, id_at]);
    *split = u32::try_from(buf.len() - start).map_err(io::Error::other)?;
    for d in drafts {
        let f = d.finish_typed(String::new(), Some(""), Some(""));
        let head = buf.len();
        buf.extend_from_slice(&[0; 16]);
        let [id, transfer, message] = stream::finding_item_into(buf, format, &f)?;
        let len = u32::try_from(buf.len() - head - 16).map_err(io::Error::other)?;
        patch_u32s(buf, head, &[len, id, transfer, message]);
    }
    Ok(())
}

/// Writes little-endian `values` over the bytes of `buf` from `at` on (room made for them).
fn patch_u32s(buf: &mut [u8], at: usize, values: &[u32]) {
    let room = buf.get_mut(at..).unwrap_or(&mut []);
    for (slot, v) in room.chunks_exact_mut(4).zip(values) {
        slot.copy_from_slice(&v.to_le_bytes());
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
) -> (Vec<crate::capture::Record>, BatchRead) {
    let mut read = BatchRead::default();
    batch.clear();
    batch.reserve(BATCH_RECORDS);
    let mut batch_bytes = 0usize;
    // Memory the batch holds (the reader's chunks), bounded too: see `RecordData::held_beyond`.
    let mut batch_held = 0usize;
    while batch.len() < BATCH_RECORDS && batch_bytes < BATCH_BYTES && batch_held < BATCH_HELD {
        let Some(record) = reader.next_record(&mut read.diags) else {
            break;
        };
        read.count(&record);
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
    (batch, read)
}

/// What reading a batch found besides its records: diagnostics, and the records counted while
/// they were in cache (the reading task does it, not the thread that waits for the batch).
#[derive(Default)]
struct BatchRead {
    diags: Vec<Diagnostic>,
    packets: u64,
    bytes: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl BatchRead {
    fn count(&mut self, record: &crate::capture::Record) {
        self.packets += 1;
        self.bytes += record.data.len() as u64;
        self.first = Some(self.first.map_or(record.ts, |f| f.min(record.ts)));
        self.last = Some(self.last.map_or(record.ts, |l| l.max(record.ts)));
    }
}

/// The stages from records to flows for one input: filter, decode, defragment, and the flow
/// shards with their protocol state.
struct Stages<'c> {
    name: String,
    index: usize,
    config: &'c ScanConfig,
    sink: &'c Sink,
    decoder: PacketDecoder,
    /// The last batch's decoding results, emptied: their memory is reused for the next batch.
    decoded: Vec<DecodedRecord<'static>>,
    shards: Vec<Shard>,
    diags: Vec<Diagnostic>,
    packets: u64,
    bytes: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
}

impl Stages<'_> {
    /// Keeps the records the filter selects, and counts them. On the calling thread: the BPF
    /// filter (libpcap) is not Send. Without a filter every record stays, and the counts made
    /// while reading stand.
    fn admit(
        &mut self,
        filter: &mut RecordFilter,
        batch: &mut Vec<crate::capture::Record>,
        mut read: BatchRead,
    ) {
        self.diags.append(&mut read.diags);
        let counts = if filter.selects() {
            let diags = &mut self.diags;
            batch.retain(|record| filter.keeps(record, diags));
            let mut kept = BatchRead::default();
            for record in batch.iter() {
                kept.count(record);
            }
            kept
        } else {
            read
        };
        self.packets += counts.packets;
        self.bytes += counts.bytes;
        for ts in [counts.first, counts.last].into_iter().flatten() {
            self.first = Some(self.first.map_or(ts, |f| f.min(ts)));
            self.last = Some(self.last.map_or(ts, |l| l.max(ts)));
        }
    }

    /// Runs one admitted batch through the stages; hands the records back for reuse.
    fn process(&mut self, batch: Vec<crate::capture::Record>) -> Vec<crate::capture::Record> {
        // Decoding is pure: in parallel. Defragmentation keeps state: in frame order.
        // The shard of a whole packet (from its flow key) is computed in parallel too, so the
        // loop in frame order only places packets; reassembled datagrams (rare) get theirs there.
        // The shard computes the key again rather than carry it: 92 more bytes a packet in the
        // batch cost as much as the key does.
        let shard_of =
            |key: &Option<FlowKey>| (key.map_or(0, |k| k.shard_hash()) % SHARDS as u64) as usize;
        let mut decoded = relabel(std::mem::take(&mut self.decoded));
        batch
            .par_iter()
            .map(|record| {
                let d = decode_record(record);
                let key = match &d {
                    Ok(crate::packet::Decoded::Packet(p)) => FlowKey::from_packet(p),
                    _ => None,
                };
                (d, shard_of(&key))
            })
            .collect_into_vec(&mut decoded);
        // In frame order: defragmentation, and each packet's place in its shard's queue. Whole
        // packets stay where they were decoded (no copy); reassembled ones go to `extra`.
        let mut extra = Vec::new();
        for (i, (record, (d, shard))) in batch.iter().zip(decoded.iter_mut()).enumerate() {
            let (at, shard) = match self.decoder.absorb_in_place(record, d, &mut self.diags) {
                Absorbed::InPlace => (PacketAt::Batch(i), *shard),
                Absorbed::Reassembled(packet) => {
                    let key = FlowKey::from_packet(&packet);
                    let shard = shard_of(&key);
                    extra.push((packet, key));
                    (PacketAt::Extra(extra.len() - 1), shard)
                }
                Absorbed::Nothing => continue,
            };
            // Each flow belongs to one shard (by its symmetric hash), so shards advance in
            // parallel without locks and every flow still sees its packets in order.
            if let Some(s) = self.shards.get_mut(shard) {
                s.queue.push(at);
            }
        }
        let (name, index, config, sink) = (self.name.as_str(), self.index, self.config, self.sink);
        self.shards.par_iter_mut().for_each(|shard| {
            for (q, at) in shard.queue.iter().enumerate() {
                // The decoding results were mostly written by the other core and lie 16 apart
                // on average (one shard's share): the hardware prefetcher cannot see the next
                // one coming, so each was a cache miss the loop waited for.
                if let Some(PacketAt::Batch(ahead)) = shard.queue.get(q + PREFETCH_AHEAD)
                    && let Some(entry) = decoded.get(*ahead)
                {
                    crate::hint::prefetch(entry);
                }
                let found = match *at {
                    PacketAt::Batch(i) => match decoded.get(i) {
                        Some((Ok(crate::packet::Decoded::Packet(p)), _)) => {
                            Some((p, FlowKey::from_packet(p)))
                        }
                        _ => None,
                    },
                    PacketAt::Extra(i) => extra.get(i).map(|(p, key)| (p, *key)),
                };
                if let Some((packet, key)) = found {
                    shard
                        .table
                        .push_keyed(packet, key, &mut shard.dispatcher, &mut shard.diags);
                }
            }
            shard.queue.clear();
            // What completed in this batch becomes transfers now, and its bytes are freed.
            let output = shard.dispatcher.take_output();
            shard.build(output, name, index, config, sink);
        });
        drop(extra);
        self.decoded = relabel(decoded);
        batch
    }
}

/// How many packets of its queue a shard asks the cache for ahead of the one it processes: far
/// enough for the memory to arrive, near enough for it to stay (6 and 16 measured; 6 better).
const PREFETCH_AHEAD: usize = 6;

/// A record decoded, with the shard of its flow.
type DecodedRecord<'a> = (
    Result<crate::packet::Decoded<'a>, crate::packet::PacketError>,
    usize,
);

/// An emptied vector of decoding results, typed for the records of another batch. The standard
/// library collects a vector's `into_iter` in place when the element layout stays the same, so
/// the memory is kept (about 1.5 MiB a batch); were it not, this would only allocate as before.
// `filter` could not change the element type, which is the point.
#[allow(clippy::unnecessary_filter_map)]
fn relabel<'b>(mut v: Vec<DecodedRecord<'_>>) -> Vec<DecodedRecord<'b>> {
    v.clear();
    v.into_iter().filter_map(|_| None).collect()
}

/// Runs the stages over every record of one source.
fn run_source<S: RecordSource + Send>(
    index: usize,
    name: String,
    mut reader: S,
    config: &ScanConfig,
    sink: &Sink,
) -> InputResult {
    let mut report = empty_input_report(&name);
    report.format = reader.format();
    let mut filter = match RecordFilter::new(config) {
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
                index_runs: Vec::new(),
                indexed: 0,
                candidate_runs: Vec::new(),
                locations: HashSet::new(),
                counts: SeverityCounts::default(),
                mmsc: MmscEvidence::default(),
            };
        }
    };

    let mut stages = Stages {
        name: name.clone(),
        index,
        config,
        sink,
        decoder: PacketDecoder::new(config.defrag),
        decoded: Vec::new(),
        shards: (0..SHARDS).map(|_| Shard::new(config)).collect(),
        diags: Vec::new(),
        packets: 0,
        bytes: 0,
        first: None,
        last: None,
    };

    // With more than one thread, reading the next batch is a task beside the processing of
    // this one: an idle worker reads while the others decode, then joins them. No thread is
    // added beyond `--threads`, so reading never preempts a worker that others wait for. The
    // batch processed before is given back to be refilled, which drops its records and so
    // frees the reader's chunks: two batches are in hand at a time. With one thread, reading
    // follows processing and refills the batch just processed (its chunks are still in cache).
    let mut position = 0u64;
    let progress = &config.progress;
    let parallel = rayon::current_num_threads() > 1;
    let (mut batch, mut read) = read_batch(&mut reader, Vec::new(), progress, &mut position);
    let mut used = Vec::new();
    loop {
        // Only the end of input gives an empty batch (the filter may empty one later).
        if batch.is_empty() {
            stages.diags.extend(read.diags);
            break;
        }
        stages.admit(&mut filter, &mut batch, read);
        (batch, read) = if parallel {
            let (done, next) = rayon::join(
                || stages.process(batch),
                || read_batch(&mut reader, used, progress, &mut position),
            );
            used = done;
            next
        } else {
            let done = stages.process(batch);
            read_batch(&mut reader, done, progress, &mut position)
        };
    }
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
    decoder.finish(&mut diags);

    let finished: Vec<ShardResult> = shards
        .into_par_iter()
        .map(|shard| shard.finish(&name, index, config, sink))
        .collect();
    let mut transfers = Vec::new();
    let mut flow_count = 0u64;
    let mut mmsc = MmscEvidence::default();
    let mut counts = SeverityCounts::default();
    let mut locations: HashSet<u128> = HashSet::new();
    let mut index_runs = Vec::new();
    let mut candidate_runs = Vec::new();
    let mut indexed = 0;
    let total: usize = finished
        .iter()
        .flat_map(|r| r.sealed.iter())
        .map(Vec::len)
        .sum();
    transfers.reserve_exact(total);
    for r in finished {
        for chunk in r.sealed {
            transfers.extend(chunk);
        }
        index_runs.extend(r.index_runs);
        candidate_runs.extend(r.candidate_runs);
        indexed += r.indexed;
        diags.extend(r.diags);
        flow_count += r.flows;
        mmsc.merge(r.mmsc);
        add_severities(&mut counts, &r.counts);
        locations.extend(r.locations);
    }
    // Only MMS transfers are reported: those that carried a PDU, encrypted ones (kept until it is
    // known whether they go to an MMSC), and requests for a content location that a PDU of this
    // input announced (a retrieval, even one that failed). Other WSP and HTTP exchanges are
    // ordinary browsing, dropped here (with a streaming sink, the undecided ones wait in the
    // spill and `plan` decides them against `locations`).
    transfers.retain_mut(|s| {
        let Payload::Kept(k) = &mut s.payload else {
            return true;
        };
        let Some(p) = &k.provisional else {
            return true;
        };
        if p.encrypted.is_some() {
            return true;
        }
        let asked = p.request_location.is_some_and(|k| locations.contains(&k));
        if asked {
            add_counts(&mut counts, &p.counts);
            k.provisional = None;
        }
        asked
    });
    transfers.shrink_to_fit();
    if mmsc.overflow {
        diags.push(Diagnostic::new(
            crate::diag::Layer::Limit,
            format!(
                "more than {MAX_MMSC_EVIDENCE} MMSC host names or addresses: later ones are not \
                 used to classify TLS connections"
            ),
        ));
    }
    // Shards finish in a fixed order, but diagnostics of one frame may come from several:
    // sort so the report does not depend on scheduling.
    diags.sort_by(|a, b| {
        (a.frame, a.offset, a.layer, &a.message).cmp(&(b.frame, b.offset, b.layer, &b.message))
    });

    report.link_types = reader
        .link_types()
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
        flows: flow_count,
        transfers,
        index_runs,
        indexed,
        candidate_runs,
        locations,
        counts,
        mmsc,
    }
}

/// Runs the pipeline over every input (in parallel) into `sink`.
/// The worker threads `--threads` asks for (the global pool when it says nothing).
enum Pool {
    Global,
    Own(rayon::ThreadPool),
}

impl Pool {
    fn new(config: &ScanConfig) -> Result<Pool, ScanError> {
        Ok(match config.threads {
            Some(n) => Pool::Own(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n.max(1))
                    .build()
                    .map_err(|e| ScanError::Threads(e.to_string()))?,
            ),
            None => Pool::Global,
        })
    }

    fn install<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
        match self {
            Pool::Global => f(),
            Pool::Own(pool) => pool.install(f),
        }
    }

    fn threads(&self) -> usize {
        match self {
            Pool::Global => rayon::current_num_threads(),
            Pool::Own(pool) => pool.current_num_threads(),
        }
    }

    /// The end of the run: correlation, messages and their audit, in the pool. What the
    /// reading freed is handed back first (`ScanConfig::release_memory`), on every thread, as
    /// each thread's allocator keeps its own free memory.
    fn plan(
        &self,
        results: Vec<InputResult>,
        config: &ScanConfig,
        sink: &Sink,
    ) -> Result<Plan, ScanError> {
        if let Some(release) = config.release_memory {
            release();
            self.install(|| rayon::broadcast(|_| release()));
        }
        self.install(|| plan(results, config, sink))
    }
}

/// Runs the pipeline over every input (in parallel) into `sink`.
fn run_inputs(
    paths: &[PathBuf],
    config: &ScanConfig,
    sink: &Sink,
    pool: &Pool,
) -> Result<Vec<InputResult>, ScanError> {
    let inputs = capture::expand_inputs(paths)?;
    // An expression libpcap rejects is a usage error, before any input is read.
    RecordFilter::new(config)?;
    Ok(pool.install(|| {
        inputs
            .par_iter()
            .enumerate()
            .map(|(i, spec)| scan_input(i, spec, config, sink))
            .collect()
    }))
}

/// Runs the pipeline over `paths` (files, folders, `-`) and returns the whole report.
pub fn scan(paths: &[PathBuf], config: &ScanConfig) -> Result<ScanOutcome, ScanError> {
    let sink = Sink::memory();
    let pool = Pool::new(config)?;
    let results = run_inputs(paths, config, &sink, &pool)?;
    into_outcome(pool.plan(results, config, &sink)?)
}

/// What a streamed scan tells besides the report it wrote.
#[derive(Debug)]
pub struct StreamOutcome {
    pub summary: Summary,
    pub inputs: Vec<InputReport>,
    pub unreadable: Vec<String>,
    /// Wall time of the phases: reading and analysing the inputs, correlating and auditing the
    /// messages, writing the report.
    pub phases: [(&'static str, std::time::Duration); 3],
}

/// Runs the pipeline over `paths` and writes the JSON or JSON Lines report to `out` as it goes:
/// transfers and findings wait in a temporary file, not in memory, so memory does not grow with
/// the capture. The bytes are those [`scan`] and the report writers give.
pub fn scan_to(
    paths: &[PathBuf],
    config: &ScanConfig,
    format: StreamFormat,
    out: &mut dyn Write,
) -> Result<StreamOutcome, ScanError> {
    let started = std::time::Instant::now();
    let sink = Sink::streaming(format).map_err(ScanError::Spill)?;
    let pool = Pool::new(config)?;
    let results = run_inputs(paths, config, &sink, &pool)?;
    let mut outcome = finish_stream(results, config, &sink, &pool, format, out)?;
    let later: std::time::Duration = outcome.phases.iter().skip(1).map(|p| p.1).sum();
    if let Some(read) = outcome.phases.first_mut() {
        read.1 = started.elapsed().saturating_sub(later);
    }
    Ok(outcome)
}

fn finish_stream(
    results: Vec<InputResult>,
    config: &ScanConfig,
    sink: &Sink,
    pool: &Pool,
    format: StreamFormat,
    out: &mut dyn Write,
) -> Result<StreamOutcome, ScanError> {
    let started = std::time::Instant::now();
    let plan = pool.plan(results, config, sink)?;
    let planned = started.elapsed();
    // A write error on the spill shows as damage when reading it back: report the cause.
    let written = write_stream(&plan, sink, format, pool.threads() > 1, out);
    let wrote = started.elapsed().saturating_sub(planned);
    if let Some(e) = sink.spill.take_error() {
        return Err(ScanError::Spill(e));
    }
    written.map_err(ScanError::Output)?;
    Ok(StreamOutcome {
        summary: plan.summary,
        inputs: plan.inputs,
        unreadable: plan.unreadable,
        phases: [
            ("read", std::time::Duration::ZERO),
            ("messages", planned),
            ("write", wrote),
        ],
    })
}

/// One record source (a capture reader over any bytes, a live capture) through the whole
/// pipeline, the report kept in memory.
pub fn scan_source<S: RecordSource + Send>(
    name: &str,
    reader: S,
    config: &ScanConfig,
) -> Result<ScanOutcome, ScanError> {
    let sink = Sink::memory();
    let pool = Pool::new(config)?;
    let result = pool.install(|| run_source(0, name.to_owned(), reader, config, &sink));
    into_outcome(pool.plan(vec![result], config, &sink)?)
}

/// One record source through the whole pipeline, the report streamed to `out` (see
/// [`scan_to`]).
pub fn scan_source_to<S: RecordSource + Send>(
    name: &str,
    reader: S,
    config: &ScanConfig,
    format: StreamFormat,
    out: &mut dyn Write,
) -> Result<StreamOutcome, ScanError> {
    let sink = Sink::streaming(format).map_err(ScanError::Spill)?;
    let pool = Pool::new(config)?;
    let result = pool.install(|| run_source(0, name.to_owned(), reader, config, &sink));
    finish_stream(vec![result], config, &sink, &pool, format, out)
}

/// A message or message finding: kept, or serialised whole in the spill.
enum Held<T> {
    Kept(Box<T>),
    Spilled(BlobRef),
}

impl<T> Held<T> {
    fn blob_mut(&mut self) -> Option<&mut BlobRef> {
        match self {
            Held::Spilled(blob) => Some(blob),
            Held::Kept(_) => None,
        }
    }

    fn spilled(&self) -> Option<BlobRef> {
        match self {
            Held::Spilled(blob) => Some(*blob),
            Held::Kept(_) => None,
        }
    }
}

/// The end of a run, the same for both sinks: what is reported, in which order, the messages,
/// their findings and the counts.
struct Plan {
    inputs: Vec<InputReport>,
    summary: Summary,
    unreadable: Vec<String>,
    /// Transfers in report order (transfer `i` is `T{i+1}`).
    sealed: Vec<Sealed>,
    correlation: Correlation,
    messages: Vec<Held<Message>>,
    /// Findings over messages, numbered after every transfer finding.
    message_findings: Vec<Held<Finding>>,
}

fn transfer_id(ti: usize) -> String {
    format!("T{}", ti + 1)
}

fn read_facts(spill: &Spill, blob: BlobRef, buf: &mut Vec<u8>) -> Option<TransferFacts> {
    spill.read(blob, buf).ok()?;
    TransferFacts::decode(buf)
}

fn plan(results: Vec<InputResult>, config: &ScanConfig, sink: &Sink) -> Result<Plan, ScanError> {
    let mut summary = Summary::default();
    let mut inputs = Vec::with_capacity(results.len());
    let mut sealed: Vec<Sealed> = Vec::new();
    let mut unreadable = Vec::new();
    let mut evidence = MmscEvidence::default();
    let mut counts = SeverityCounts::default();
    sealed.reserve_exact(results.iter().map(|r| r.transfers.len() + r.indexed).sum());
    let mut buf = Vec::new();
    let mut candidate_runs = Vec::new();
    let mut pending_tls = Vec::new();
    let mut locations: Vec<HashSet<u128>> = Vec::with_capacity(results.len());
    for r in results {
        summary.packets += r.report.packets;
        summary.flows += r.flows;
        if !r.readable {
            unreadable.push(r.report.path.clone());
        }
        inputs.push(r.report);
        sealed.extend(r.transfers);
        for run in r.index_runs {
            sink.spill.read(run, &mut buf).map_err(ScanError::Spill)?;
            for record in buf.chunks_exact(INDEX_RECORD) {
                if let Ok(record) = <&[u8; INDEX_RECORD]>::try_from(record) {
                    sealed.push(Sealed::decode(record));
                }
            }
        }
        candidate_runs.extend(r.candidate_runs);
        locations.push(r.locations);
        evidence.merge(r.mmsc);
        add_severities(&mut counts, &r.counts);
    }
    // Encrypted transfers are reported only when they go to an MMSC.
    let reaches_mmsc = |e: &Encrypted| {
        e.wtls
            || evidence.ips.contains(&e.server_ip)
            || e.sni.as_deref().is_some_and(|s| {
                evidence.hosts.contains(s) || crate::proto::tls::is_mmsc_name(s, &config.mmsc)
            })
    };
    sealed.retain(|s| match s.undecided_encrypted() {
        None => true,
        Some(e) => {
            let mmsc = reaches_mmsc(e);
            if mmsc && let Some(p) = s.provisional() {
                add_counts(&mut counts, &p.counts);
            }
            mmsc
        }
    });
    for run in candidate_runs {
        sink.spill.read(run, &mut buf).map_err(ScanError::Spill)?;
        let mut rest = buf.as_slice();
        while let Some((head, tail)) = rest.split_first_chunk::<4>() {
            let len = u32::from_le_bytes(*head) as usize;
            let Some((record, tail)) = tail.split_at_checked(len) else {
                break;
            };
            rest = tail;
            let (Some(index), Some(more)) = (
                record
                    .get(..INDEX_RECORD)
                    .and_then(|r| <&[u8; INDEX_RECORD]>::try_from(r).ok()),
                record.get(INDEX_RECORD..),
            ) else {
                continue;
            };
            let Some(p) = Provisional::decode(more) else {
                continue;
            };
            let s = Sealed::decode(index);
            let pending = index.get(PENDING_FLAG) == Some(&1);
            let reported = match &p.encrypted {
                Some(e) => reaches_mmsc(e),
                // A request without a PDU: reported when it asked for a content location that
                // a PDU of its input announced (a retrieval, even one that failed).
                None => p.request_location.is_some_and(|k| {
                    locations
                        .get(s.input_index as usize)
                        .is_some_and(|l| l.contains(&k))
                }),
            };
            if reported && pending {
                pending_tls.push(s);
            } else if reported {
                add_counts(&mut counts, &p.counts);
                sealed.push(s);
            }
        }
    }
    drop(evidence);
    drop(locations);
    build_pending_tls(pending_tls, &inputs, config, sink, &mut sealed, &mut counts)?;
    // The decided candidates came on top of the exact reservation above, which doubled the
    // capacity; this vector is the largest thing the rest of the run holds per transfer.
    sealed.shrink_to_fit();
    // In place: a stable sort would take a scratch copy. The keys only tie for transfers with
    // the same frames, endpoints and request, in the same order whatever the thread count.
    sealed.sort_unstable_by_key(Sealed::order_key);

    let mut transfer_findings = 0u64;
    for s in &sealed {
        transfer_findings += u64::from(s.findings);
    }
    summary.transfers = sealed.len() as u64;
    summary.encrypted_transfers = sealed.iter().filter(|s| s.encrypted).count() as u64;
    summary.cleartext_transfers = summary.transfers - summary.encrypted_transfers;

    drop(buf);
    let spill = &sink.spill;
    // One read buffer per task, not per transfer.
    let read_one = |buf: &mut Vec<u8>, s: &Sealed| {
        read_facts(spill, s.facts(), buf).map(|f| TransferKeys::of(&f))
    };
    // Correlation asks for the transfers in order: read them ahead and digest their keys in
    // parallel, a window at a time.
    let mut window: (usize, Vec<Option<TransferKeys>>) = (0, Vec::new());
    let mut keys = |ti: usize| {
        if ti < window.0 || ti >= window.0 + window.1.len() {
            let end = ti.saturating_add(PREFETCH).min(sealed.len());
            window = (
                ti,
                sealed
                    .get(ti..end)
                    .unwrap_or(&[])
                    .par_iter()
                    .map_init(Vec::new, read_one)
                    .collect(),
            );
        }
        window.1.get_mut(ti - window.0).and_then(Option::take)
    };
    let correlation =
        Correlation::build(sealed.len(), &mut keys, config.transfer.max_message_members);
    drop(window);
    // A message cut at the cap is said in the input of its first member.
    for &(mi, total) in &correlation.truncated {
        let input = correlation
            .group(mi as usize)
            .first()
            .and_then(|n| sealed.get(n.transfer as usize))
            .map_or(0, |s| s.input_index as usize);
        if let Some(report) = inputs.get_mut(input) {
            if report.diagnostics.len() < config.reader.max_diagnostics {
                report.diagnostics.push(DiagnosticReport {
                    frame: None,
                    offset: None,
                    layer: "limit",
                    message: format!(
                        "message M{} has {total} PDUs and requests; only the first {} are \
                         tied into it (--max-message-pdus)",
                        mi + 1,
                        config.transfer.max_message_members.max(1)
                    ),
                });
            } else {
                report.diagnostics_suppressed += 1;
            }
        }
    }

    // Messages a chunk at a time: built, audited and serialised in parallel, then numbered and
    // stored in order.
    let mut messages = Vec::with_capacity(correlation.len());
    let mut message_findings = Vec::new();
    let mut next_finding = transfer_findings;
    let mut audit = MessageAudit::new(&config.audit);
    let mut start = 0usize;
    while start < correlation.len() {
        // A chunk holds the facts of all its messages' members at once: bounded in messages and
        // in members (one large message makes a chunk of its own).
        let mut end = start;
        let mut members = 0usize;
        while end < correlation.len()
            && end - start < PREFETCH
            && (end == start || members < CHUNK_MEMBERS)
        {
            members += correlation.group(end).len();
            end += 1;
        }
        let built: Vec<Option<(Message, Vec<Draft>, _)>> = (start..end)
            .into_par_iter()
            .map_init(Vec::new, |buf, mi| {
                let mut facts = |ti: usize| {
                    sealed
                        .get(ti)
                        .and_then(|s| read_facts(spill, s.facts(), buf))
                };
                let (m, members) = correlation.message(mi, transfer_id, &mut facts)?;
                let (drafts, token) = audit_message(&config.audit, &m, &members);
                Some((m, drafts, token))
            })
            .collect();
        // Ids in order; then the items serialised in parallel.
        let mut numbered: Vec<(Message, Vec<Finding>)> = Vec::with_capacity(built.len());
        for (m, drafts, token) in built.into_iter().flatten() {
            audit.add_token(token);
            let findings = drafts
                .into_iter()
                .map(|d| {
                    next_finding += 1;
                    d.finish(format!("F{next_finding}"), None, None)
                })
                .collect();
            numbered.push((m, findings));
        }
        type Bytes = io::Result<Option<Vec<u8>>>;
        let serialised: Vec<(Bytes, Vec<Bytes>)> = numbered
            .par_iter()
            .map(|(m, findings)| {
                let m = sink
                    .format
                    .map(|f| stream::item(f, "message", m))
                    .transpose();
                let f = findings
                    .iter()
                    .map(|x| {
                        sink.format
                            .map(|f| stream::item(f, "finding", x))
                            .transpose()
                    })
                    .collect();
                (m, f)
            })
            .collect();
        // One append per chunk: the items' places are relative to the chunk until it is stored.
        let mut chunk = Vec::new();
        let first_message = messages.len();
        let first_finding = message_findings.len();
        let place = |bytes: Option<Vec<u8>>, chunk: &mut Vec<u8>| -> Result<_, ScanError> {
            Ok(match bytes {
                None => None,
                Some(bytes) => {
                    let at = chunk.len() as u64;
                    chunk.extend_from_slice(&bytes);
                    let len = u32::try_from(bytes.len()).map_err(|_| {
                        ScanError::Spill(io::Error::other("report item over 4 GiB"))
                    })?;
                    Some(BlobRef { at, len })
                }
            })
        };
        for ((m, findings), (m_bytes, f_bytes)) in numbered.into_iter().zip(serialised) {
            for (f, bytes) in findings.into_iter().zip(f_bytes) {
                counts.add(f.severity);
                let blob = place(bytes.map_err(ScanError::Output)?, &mut chunk)?;
                message_findings.push(blob.map_or_else(|| Held::Kept(Box::new(f)), Held::Spilled));
            }
            let blob = place(m_bytes.map_err(ScanError::Output)?, &mut chunk)?;
            messages.push(blob.map_or_else(|| Held::Kept(Box::new(m)), Held::Spilled));
        }
        if !chunk.is_empty() {
            let base = spill.append(&chunk);
            let stored = messages
                .get_mut(first_message..)
                .into_iter()
                .flatten()
                .map(Held::blob_mut)
                .chain(
                    message_findings
                        .get_mut(first_finding..)
                        .into_iter()
                        .flatten()
                        .map(Held::blob_mut),
                );
            for blob in stored.flatten() {
                blob.at += base;
            }
        }
        start = end;
    }
    for d in audit.finish() {
        next_finding += 1;
        let f = d.finish(format!("F{next_finding}"), None, None);
        counts.add(f.severity);
        let bytes = sink
            .format
            .map(|format| stream::item(format, "finding", &f))
            .transpose()
            .map_err(ScanError::Output)?;
        message_findings.push(hold(f, bytes, spill)?);
    }
    summary.messages = messages.len() as u64;
    summary.findings = counts;
    Ok(Plan {
        inputs,
        summary,
        unreadable,
        sealed,
        correlation,
        messages,
        message_findings,
    })
}

/// Builds the pending TLS candidates that were decided to be reported (see
/// [`Shard::defer_tls`]): their audit and report now, in parallel, a window at a time, stored in
/// the spill as every other transfer's.
fn build_pending_tls(
    pending: Vec<Sealed>,
    inputs: &[InputReport],
    config: &ScanConfig,
    sink: &Sink,
    sealed: &mut Vec<Sealed>,
    counts: &mut SeverityCounts,
) -> Result<(), ScanError> {
    let Some(format) = sink.format else {
        // Candidates are pending only with a streaming sink.
        return Ok(());
    };
    let spill = &sink.spill;
    let damaged = || ScanError::Spill(io::Error::other("the report's temporary file is damaged"));
    for window in pending.chunks(PREFETCH) {
        // Each sealed with its place relative to the window's chunk, then the chunk stored.
        type Built = Result<(Sealed, Vec<u8>, Counts), ScanError>;
        let built: Vec<Built> = window
            .par_iter()
            .map(|s| {
                let mut buf = Vec::new();
                let blob = s.serialised().ok_or_else(damaged)?;
                spill.read(blob, &mut buf).map_err(ScanError::Spill)?;
                let input = inputs
                    .get(s.input_index as usize)
                    .map_or("", |i| i.path.as_str());
                let t = decode_pending_tls(&buf, input).ok_or_else(damaged)?;
                let drafts = audit_transfer(&t, &part_facts(&t), &config.audit);
                let mut counts = Counts::default();
                for d in &drafts {
                    count(&mut counts, d.severity());
                }
                let findings = u32::try_from(drafts.len()).unwrap_or(u32::MAX);
                // Facts, then the report right after them, as `Payload::Spilled` has it.
                let mut out = Vec::new();
                TransferFacts::encode_of(&t, &mut out);
                let facts = out.len();
                let mut split = 0;
                serialise(&mut out, format, &t, drafts, &mut split).map_err(ScanError::Output)?;
                let too_long = || ScanError::Spill(io::Error::other("report item over 4 GiB"));
                let sealed = Sealed {
                    tiebreak: tiebreak(&t),
                    findings,
                    split,
                    payload: Payload::Spilled {
                        at: 0,
                        facts: u32::try_from(facts).map_err(|_| too_long())?,
                        len: u32::try_from(out.len() - facts).map_err(|_| too_long())?,
                    },
                    ..*s
                };
                Ok((sealed, out, counts))
            })
            .collect();
        let mut chunk = Vec::new();
        let mut placed = Vec::with_capacity(built.len());
        for b in built {
            let (mut s, bytes, c) = b?;
            add_counts(counts, &c);
            if let Payload::Spilled { at, .. } = &mut s.payload {
                *at = chunk.len() as u64;
            }
            chunk.extend_from_slice(&bytes);
            placed.push(s);
        }
        let base = spill.append(&chunk);
        for mut s in placed {
            if let Payload::Spilled { at, .. } = &mut s.payload {
                *at += base;
            }
            sealed.push(s);
        }
    }
    Ok(())
}

/// Transfers (or messages) read, built or written ahead in parallel at a time.
const PREFETCH: usize = 1024;
/// Members of the messages built in parallel at a time (their facts are held together).
const CHUNK_MEMBERS: usize = 16_384;

/// A message or finding: kept, or (when it was serialised) stored in the spill.
fn hold<T>(value: T, bytes: Option<Vec<u8>>, spill: &Spill) -> Result<Held<T>, ScanError> {
    Ok(match bytes {
        None => Held::Kept(Box::new(value)),
        Some(bytes) => Held::Spilled(spill_blob(spill, &bytes)?),
    })
}

fn spill_blob(spill: &Spill, bytes: &[u8]) -> Result<BlobRef, ScanError> {
    let len = u32::try_from(bytes.len())
        .map_err(|_| ScanError::Spill(io::Error::other("report item over 4 GiB")))?;
    Ok(BlobRef {
        at: spill.append(bytes),
        len,
    })
}

/// The report of a run whose transfers were kept in memory.
fn into_outcome(plan: Plan) -> Result<ScanOutcome, ScanError> {
    let Plan {
        inputs,
        summary,
        unreadable,
        sealed,
        correlation,
        messages,
        message_findings,
    } = plan;
    let kept_only = || ScanError::Spill(io::Error::other("a transfer was not kept in memory"));
    let mut records = Vec::with_capacity(sealed.len());
    let mut findings = Vec::new();
    for (ti, s) in sealed.into_iter().enumerate() {
        let Payload::Kept(kept) = s.payload else {
            return Err(kept_only());
        };
        let Kept {
            transfer: mut record,
            drafts,
            ..
        } = *kept;
        record.transfer.id = transfer_id(ti);
        let message = correlation.message_id_of(ti);
        for d in drafts {
            let id = format!("F{}", findings.len() + 1);
            findings.push(d.finish(id, Some(&record.transfer.id), message.as_deref()));
        }
        records.push(record);
    }
    let mut report_messages = Vec::with_capacity(messages.len());
    for m in messages {
        let Held::Kept(m) = m else {
            return Err(kept_only());
        };
        report_messages.push(*m);
    }
    for f in message_findings {
        let Held::Kept(f) = f else {
            return Err(kept_only());
        };
        findings.push(*f);
    }
    // The report owns the transfers; the records keep what the report does not carry (part
    // bytes, decoded details) under the same id, so the transfers are not held twice.
    let report_transfers: Vec<crate::report::model::Transfer> = records
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
    Ok(ScanOutcome {
        report: Report {
            schema: SCHEMA,
            tool: Tool::default(),
            inputs,
            summary,
            transfers: report_transfers,
            messages: report_messages,
            findings,
        },
        records,
        unreadable,
    })
}

/// Writes the report of a streamed run: the transfers and findings come back from the spill one
/// by one, with their ids put in.
/// Writes the report of a streamed run: the transfers and findings come back from the spill one
/// by one, with their ids put in. With more than one thread, rendering (reading the spill,
/// splicing ids) and writing the output overlap.
fn write_stream(
    plan: &Plan,
    sink: &Sink,
    format: StreamFormat,
    threaded: bool,
    out: &mut dyn Write,
) -> io::Result<()> {
    if !threaded {
        return render(plan, sink, format, out);
    }
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
    // Written chunks come back to be filled again: a fresh megabyte each time would be new
    // pages, faulted in one by one.
    let (back, spare) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
    std::thread::scope(|scope| {
        let renderer = scope.spawn(move || {
            let mut w = ChannelWriter {
                buf: Vec::with_capacity(RENDER_CHUNK),
                tx,
                spare,
            };
            render(plan, sink, format, &mut w).and_then(|()| w.flush())
        });
        let mut written = Ok(());
        for mut chunk in rx {
            if let Err(e) = out.write_all(&chunk) {
                written = Err(e);
                break;
            }
            chunk.clear();
            // The renderer may have finished: then the chunk is simply dropped.
            let _ = back.try_send(chunk);
        }
        drop(back);
        // Dropping the receiver (on a write error) stops the renderer at its next chunk.
        let rendered = renderer
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the report writer stopped")));
        written.and(rendered)
    })
}

/// Bytes rendered before they are handed to the writing thread.
const RENDER_CHUNK: usize = 1 << 20;

/// A `Write` that hands full chunks to another thread.
struct ChannelWriter {
    buf: Vec<u8>,
    tx: std::sync::mpsc::SyncSender<Vec<u8>>,
    /// Chunks the writing thread is done with.
    spare: std::sync::mpsc::Receiver<Vec<u8>>,
}

impl Write for ChannelWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= RENDER_CHUNK {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let next = self
            .spare
            .try_recv()
            .unwrap_or_else(|_| Vec::with_capacity(RENDER_CHUNK));
        let chunk = std::mem::replace(&mut self.buf, next);
        self.tx
            .send(chunk)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "report output closed"))
    }
}

fn render(plan: &Plan, sink: &Sink, format: StreamFormat, out: &mut dyn Write) -> io::Result<()> {
    let spill = &sink.spill;
    let mut w = StreamWriter::begin(
        out,
        format,
        SCHEMA,
        &Tool::default(),
        &plan.inputs,
        &plan.summary,
    )?;
    let corrupt = || io::Error::other("the report's temporary file is damaged");
    // The blobs to copy out, in output order: each transfer, each message, each transfer's
    // findings, each message finding.
    let n = plan.sealed.len();
    let blob_of = |k: usize| -> Option<BlobRef> {
        let (m, f) = (plan.messages.len(), plan.message_findings.len());
        if k < n {
            let s = plan.sealed.get(k)?;
            let b = s.serialised()?;
            Some(BlobRef {
                at: b.at,
                len: s.split.min(b.len),
            })
        } else if k < n + m {
            plan.messages.get(k - n)?.spilled()
        } else if k < 2 * n + m {
            let s = plan.sealed.get(k - n - m)?;
            let b = s.serialised()?;
            Some(BlobRef {
                at: b.at + u64::from(s.split),
                len: if s.findings == 0 {
                    0
                } else {
                    b.len.saturating_sub(s.split)
                },
            })
        } else if k < 2 * n + m + f {
            plan.message_findings.get(k - 2 * n - m)?.spilled()
        } else {
            None
        }
    };
    let total = 2 * n + plan.messages.len() + plan.message_findings.len();
    let mut buf = Vec::new();
    {
        let mut k = 0usize;
        let mut next_finding = 0u64;
        let mut sections = ["transfers", "messages", "findings"].into_iter();
        let mut open_until = |w: &mut StreamWriter<'_>, upto: usize, opened: &mut usize| {
            while *opened < upto {
                if let Some(name) = sections.next() {
                    w.section(name)?;
                }
                *opened += 1;
            }
            io::Result::Ok(())
        };
        let mut opened = 0;
        open_until(&mut w, 1, &mut opened)?;
        for _ in 0..total {
            {
                let blob = blob_of(k).ok_or_else(corrupt)?;
                spill.read(blob, &mut buf)?;
                if k >= n {
                    open_until(&mut w, 2, &mut opened)?;
                }
                if k >= n + plan.messages.len() {
                    open_until(&mut w, 3, &mut opened)?;
                }
                if k < n {
                    let mut r = BlobReader::new(&buf);
                    let (Some(len), Some(id_at)) = (r.u32(), r.u32()) else {
                        return Err(corrupt());
                    };
                    let bytes = r.bytes(len as usize).ok_or_else(corrupt)?;
                    let id = stream::IdText::new(b'T', k as u64 + 1);
                    w.item(|out| stream::write_spliced(out, bytes, &[(id_at, Some(id.as_str()))]))?;
                } else if (n + plan.messages.len()..2 * n + plan.messages.len()).contains(&k) {
                    let ti = k - n - plan.messages.len();
                    let findings = plan.sealed.get(ti).map_or(0, |s| s.findings);
                    let mut r = BlobReader::new(&buf);
                    let tid = stream::IdText::new(b'T', ti as u64 + 1);
                    let message = match findings {
                        0 => None,
                        _ => plan.correlation.message_index_of(ti),
                    }
                    .map(|mi| stream::IdText::new(b'M', mi as u64 + 1));
                    for _ in 0..findings {
                        let (Some(len), Some(id_at), Some(t_at), Some(m_at)) =
                            (r.u32(), r.u32(), r.u32(), r.u32())
                        else {
                            return Err(corrupt());
                        };
                        let bytes = r.bytes(len as usize).ok_or_else(corrupt)?;
                        next_finding += 1;
                        let fid = stream::IdText::new(b'F', next_finding);
                        w.item(|out| {
                            stream::write_spliced(
                                out,
                                bytes,
                                &[
                                    (id_at, Some(fid.as_str())),
                                    (t_at, Some(tid.as_str())),
                                    (m_at, message.as_ref().map(stream::IdText::as_str)),
                                ],
                            )
                        })?;
                    }
                } else {
                    w.item(|out| out.write_all(&buf))?;
                }
                k += 1;
            }
        }
        if k < total {
            return Err(corrupt());
        }
        // Sections that had no item at all.
        open_until(&mut w, 3, &mut opened)?;
    }
    w.end(&plan.summary)
}

/// A live capture, opened and ready to run: stopped after `count` frames or `duration`, or
/// when its [`stop_handle`](LiveSource::stop_handle) is set (Ctrl-C). Opening first lets the
/// caller report a refused interface before it creates any output.
#[cfg(feature = "libpcap")]
pub struct LiveSource {
    name: String,
    source: Limited<capture::libpcap::LiveCapture>,
    config: ScanConfig,
}

#[cfg(feature = "libpcap")]
impl LiveSource {
    pub fn open(
        interface: &str,
        count: Option<u64>,
        duration: Option<std::time::Duration>,
        config: &ScanConfig,
    ) -> Result<LiveSource, ScanError> {
        let live = capture::libpcap::LiveCapture::open(
            interface,
            262_144,
            true,
            config.filter.as_deref(),
        )?;
        if let Some(d) = duration {
            let stop = live.stop_handle();
            std::thread::spawn(move || {
                std::thread::sleep(d);
                stop.stop();
            });
        }
        Ok(LiveSource {
            name: interface.to_owned(),
            source: Limited {
                inner: live,
                left: count,
            },
            // The filter already runs in the kernel for a live capture.
            config: ScanConfig {
                filter: None,
                ..config.clone()
            },
        })
    }

    /// Ends the capture (from another thread); what was captured is then reported.
    pub fn stop_handle(&self) -> std::sync::Arc<capture::libpcap::LiveStop> {
        self.source.inner.stop_handle()
    }

    /// Runs the capture to its end and reports as for a file, the report in memory.
    pub fn scan(self) -> Result<ScanOutcome, ScanError> {
        scan_source(&self.name, self.source, &self.config)
    }

    /// Runs the capture to its end, writing the JSON or JSON Lines report as [`scan_to`] does:
    /// memory does not grow with the traffic, however long the capture runs.
    pub fn scan_to(
        self,
        format: StreamFormat,
        out: &mut dyn Write,
    ) -> Result<StreamOutcome, ScanError> {
        scan_source_to(&self.name, self.source, &self.config, format, out)
    }
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

#[cfg(test)]
mod memory_tests {
    use super::{DecodedRecord, Timestamp, decode_record, relabel};

    #[test]
    fn relabelled_decoding_results_keep_their_memory() {
        let record = crate::capture::Record {
            frame: 1,
            offset: 24,
            ts: Timestamp::default(),
            link_type: 1,
            orig_len: 4,
            data: vec![0u8; 4].into(),
        };
        let mut v: Vec<DecodedRecord<'_>> = Vec::with_capacity(64);
        v.push((decode_record(&record), 0));
        let capacity = v.capacity();
        let again: Vec<DecodedRecord<'static>> = relabel(v);
        assert!(again.is_empty());
        assert_eq!(again.capacity(), capacity);
    }

    /// A reported transfer costs this much memory until the end of the run (its body, headers
    /// and findings wait in the spill): the 4 GB benchmark capture has 80,000 of them.
    #[test]
    fn a_sealed_transfer_stays_small() {
        let size = std::mem::size_of::<super::Sealed>();
        assert!(size <= 64, "Sealed grew to {size} bytes");
    }

    /// With a streaming sink a reported transfer costs no memory until the end: its index
    /// record waits in the spill and comes back the same.
    #[test]
    fn index_records_round_trip_and_rebase() {
        use super::{BlobRef, INDEX_RECORD, Payload, Sealed, rebase_index};
        let s = Sealed {
            input_index: 3,
            transport: 4,
            encrypted: true,
            first_frame: 10,
            last_frame: u64::MAX,
            tiebreak: 0xDEAD_BEEF,
            payload: Payload::Spilled {
                at: 5,
                facts: 77,
                len: 1234,
            },
            findings: 6,
            split: 400,
        };
        let mut out = Vec::new();
        assert!(s.encode(&mut out));
        assert_eq!(out.len(), INDEX_RECORD);
        rebase_index(&mut out, 1000);
        let back = Sealed::decode(out.as_slice().try_into().unwrap());
        assert_eq!(back.order_key(), s.order_key());
        assert_eq!(back.facts(), BlobRef { at: 1005, len: 77 });
        // The serialised transfer follows its facts.
        assert_eq!(
            back.serialised(),
            Some(BlobRef {
                at: 1082,
                len: 1234
            })
        );
        assert_eq!((back.findings, back.split), (6, 400));
        assert!(back.encrypted);
        assert!(back.provisional().is_none());
    }

    /// `scan_source` (live capture, fuzzing) reads and processes within the `--threads` pool,
    /// not the global one.
    #[test]
    fn scan_source_runs_in_the_threads_it_is_given() {
        use super::{RecordSource, ScanConfig, scan_source};
        use crate::diag::Diagnostic;
        struct Watched {
            inner: crate::capture::CaptureReader,
            pools: std::sync::Arc<std::sync::Mutex<Vec<usize>>>,
        }
        impl RecordSource for Watched {
            fn next_record(&mut self, d: &mut Vec<Diagnostic>) -> Option<crate::capture::Record> {
                if let Ok(mut pools) = self.pools.lock() {
                    pools.push(rayon::current_num_threads());
                }
                RecordSource::next_record(&mut self.inner, d)
            }
            fn format(&self) -> Option<&'static str> {
                None
            }
            fn link_types(&self) -> Vec<u32> {
                Vec::new()
            }
            fn suppressed_diagnostics(&self) -> u64 {
                0
            }
        }
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/captures/forward-and-mailbox.pcap"
        );
        for threads in [1, 3] {
            let config = ScanConfig {
                threads: Some(threads),
                ..ScanConfig::default()
            };
            let pools = std::sync::Arc::default();
            let inner =
                crate::capture::CaptureReader::open_with(std::path::Path::new(path), config.reader)
                    .unwrap();
            let watched = Watched {
                inner,
                pools: std::sync::Arc::clone(&pools),
            };
            let outcome = scan_source("watched", watched, &config).unwrap();
            assert!(outcome.report.summary.packets > 0);
            let pools = pools.lock().unwrap();
            assert!(!pools.is_empty());
            assert!(pools.iter().all(|&n| n == threads), "{threads}: {pools:?}");
        }
    }

    /// What decides an undecided transfer comes back from the spill the same.
    #[test]
    fn provisional_records_round_trip() {
        use super::{Encrypted, Provisional};
        for p in [
            Provisional {
                encrypted: Some(Encrypted {
                    wtls: false,
                    server_ip: "2001:db8::1".parse().unwrap(),
                    sni: Some("mmsc.example.com".into()),
                }),
                request_location: None,
                counts: [1, 2, 3, 4, 5],
            },
            Provisional {
                encrypted: None,
                request_location: Some(u128::MAX - 7),
                counts: [0, 0, 1, 0, 0],
            },
        ] {
            let mut out = Vec::new();
            p.encode(&mut out);
            let back = Provisional::decode(&out).unwrap();
            assert_eq!(back.counts, p.counts);
            assert_eq!(back.request_location, p.request_location);
            assert_eq!(
                back.encrypted.map(|e| (e.wtls, e.server_ip, e.sni)),
                p.encrypted.map(|e| (e.wtls, e.server_ip, e.sni))
            );
            assert!(Provisional::decode(&out[..out.len() - 1]).is_none());
        }
    }
}
