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
    Scan(ScanArgs),
    /// Decode every WAP/MMS/HTTP-MMS PDU in a capture (or a raw .mms file) field by field.
    Inspect(InspectArgs),
    /// Print the detection catalog.
    Rules(RulesArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Table,
    Json,
    Jsonl,
    Csv,
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
    /// Capture live from this network interface instead (needs the `libpcap` feature).
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
    /// Write the report to FILE instead of standard output.
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
    /// Only apply this BPF filter to the records read (needs the `libpcap` feature).
    #[arg(long, value_name = "BPF")]
    pub filter: Option<String>,
    /// Show passwords, tokens and cookie values in findings instead of masking them.
    #[arg(long)]
    pub show_secrets: bool,
    /// `broad-distribution` fires when one PDU addresses more recipients than this.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub recipient_threshold: usize,
    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Resource caps: memory is bounded by these, never by the size of the capture.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Diagnostics listed per input (more are counted).
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub max_diagnostics: usize,
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
