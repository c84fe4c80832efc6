//! Command-line definitions. They live in the library so that the man page and shell completions
//! are generated from the same source as the parser.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Audit network captures for MMS traffic that crossed the wire unencrypted or leaked personal
/// data.
#[derive(Debug, Parser)]
#[command(name = "mmsleak", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse capture files or folders ('-' reads standard input) and report leaky MMS transfers.
    Scan(Box<ScanArgs>),
    /// Decode every WAP/MMS/HTTP-MMS PDU in a capture (or a raw .mms file) field by field.
    Inspect(InspectArgs),
    /// Print the detection catalog.
    Rules(RulesArgs),
    /// Generate lab captures, each with its answer key (`<capture>.answers.json`).
    Synth(SynthArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Folder to write the captures and answer keys to (created if needed).
    #[arg(required_unless_present = "list")]
    pub outdir: Option<PathBuf>,
    /// Seed: the same seed gives the same files; another varies addresses, numbers, names,
    /// tokens, timing and media.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Only these scenarios (repeatable; default: all). See --list.
    #[arg(long = "scenario", value_name = "NAME")]
    pub scenarios: Vec<String>,
    /// Also write one large mixed capture of about N megabytes, for benchmarks.
    #[arg(long, value_name = "N")]
    pub size_mb: Option<u64>,
    /// List the scenarios and exit.
    #[arg(long)]
    pub list: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Jsonl,
    Csv,
    /// One self-contained HTML page (use with --output).
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Capture files (pcap, pcapng, optionally gzip-compressed), folders, or '-' for stdin.
    #[arg(required_unless_present = "interface")]
    pub inputs: Vec<PathBuf>,
    /// Capture live from this network interface instead (needs the `libpcap` feature); Ctrl-C
    /// ends the capture and reports what was captured.
    #[arg(long, value_name = "IF", conflicts_with = "inputs")]
    pub interface: Option<String>,
    /// With --interface: stop after this many frames.
    #[arg(long, value_name = "N", requires = "interface")]
    pub count: Option<u64>,
    /// With --interface: stop after this many seconds.
    #[arg(long, value_name = "SECONDS", requires = "interface")]
    pub duration: Option<u64>,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Write the report to FILE instead of standard output ('-' is standard output).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Exit with status 1 when a finding at or above this severity is reported.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub fail_on: Option<SeverityArg>,
    /// Worker threads (default: all cores).
    #[arg(long, short = 'j', value_name = "N")]
    pub threads: Option<usize>,
    /// Extra MMSC host names (TLS connections to them are MMS transfers).
    #[arg(long, value_name = "HOST")]
    pub mmsc: Vec<String>,
    /// Terminal width for the table format.
    #[arg(long, default_value_t = 80, value_name = "COLUMNS")]
    pub width: u16,
    /// Analyse only the records this BPF expression selects (needs the `libpcap` feature).
    #[arg(long, value_name = "BPF")]
    pub filter: Option<String>,
    /// With --format html: embed image parts as thumbnails (they are personal data).
    #[arg(long)]
    pub html_media: bool,
    /// Write every part of every decoded MMS PDU to DIR (named safely; never overwrites).
    #[arg(long, value_name = "DIR")]
    pub extract: Option<PathBuf>,
    /// With --extract: also save each whole MMS PDU as a .mms file.
    #[arg(long, requires = "extract")]
    pub extract_pdus: bool,
    /// Replace phone numbers, e-mails, subscriber ids, vCard names and credentials with keyed
    /// pseudonyms, round coordinates to about 1 km and withhold subjects and text.
    #[arg(long)]
    pub redact: bool,
    /// The key for --redact pseudonyms (the same key gives the same pseudonyms across reports);
    /// default: a random key per run.
    #[arg(long, value_name = "KEY", requires = "redact")]
    pub redact_key: Option<String>,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Also write the packets of the reported transfers' flows to this capture file.
    #[arg(long, value_name = "FILE.pcap")]
    pub carve: Option<PathBuf>,
    /// Show passwords, tokens and cookie values in findings instead of masking them.
    #[arg(long)]
    pub show_secrets: bool,
    /// `broad-distribution` fires when one PDU addresses more recipients than this.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub recipient_threshold: usize,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Resource caps: memory is bounded by these, never by the size of the capture. Reaching one is
/// reported as a diagnostic (layer `limit`) and the affected transfer is marked incomplete.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Resource caps")]
pub struct LimitArgs {
    /// Diagnostics listed per input (more are counted).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub max_diagnostics: usize,
    /// Flows held at once (the one idle longest is evicted).
    #[arg(long, default_value_t = 100_000, value_name = "N")]
    pub max_flows: usize,
    /// Out-of-order TCP bytes held per direction of a flow.
    #[arg(long, default_value_t = 1 << 20, value_name = "BYTES")]
    pub max_reassembly_bytes: usize,
    /// Out-of-order TCP bytes held by all flows together.
    #[arg(long, default_value_t = 256 << 20, value_name = "BYTES")]
    pub max_reassembly_total: usize,
    /// IP datagrams being defragmented at once.
    #[arg(long, default_value_t = 4096, value_name = "N")]
    pub max_ip_fragments: usize,
    /// Bytes held by IP defragmentation in total.
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    pub max_fragment_bytes: usize,
    /// Size of an HTTP request or response head.
    #[arg(long, default_value_t = 64 << 10, value_name = "BYTES")]
    pub max_http_head: usize,
    /// Header fields in one HTTP head.
    #[arg(long, default_value_t = 128, value_name = "N")]
    pub max_http_headers: usize,
    /// Body bytes kept per HTTP message or WSP request/reply.
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    pub max_body: usize,
    /// HTTP body bytes held by all connections together (a sixteenth per flow shard, at least
    /// one --max-body each).
    #[arg(long, default_value_t = crate::proto::dispatch::DEFAULT_MAX_HTTP_BODY_TOTAL, value_name = "BYTES")]
    pub max_http_body_total: usize,
    /// Bytes a gzip/deflate body may decompress to.
    #[arg(long, default_value_t = 64 << 20, value_name = "BYTES")]
    pub max_decompressed: usize,
    /// Largest decompressed:compressed ratio accepted.
    #[arg(long, default_value_t = 1000, value_name = "RATIO")]
    pub max_decompression_ratio: u64,
    /// WTP segments per message.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub max_wtp_segments: usize,
    /// WTP transactions in progress at once.
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_wtp_transactions: usize,
    /// Nesting of multipart bodies decoded.
    #[arg(long, default_value_t = 8, value_name = "N")]
    pub max_multipart_depth: usize,
    /// Parts decoded per MMS body, all levels together.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub max_multipart_parts: usize,
    /// PDUs and retrieval requests tied into one message; the rest are left out of it (with a
    /// diagnostic).
    #[arg(long, default_value_t = crate::transfer::correlate::DEFAULT_MAX_MESSAGE_MEMBERS, value_name = "N")]
    pub max_message_pdus: usize,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// A capture file, or a raw MMS PDU file (.mms).
    pub input: PathBuf,
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value_t = InspectFormat::Text)]
    pub format: InspectFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InspectFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Print the catalog as JSON.
    #[arg(long)]
    pub json: bool,
}
