//! The `mmsleak` command: parses arguments, calls the library, maps the outcome to an exit code
//! (0 done, 1 findings at or above `--fail-on`, 2 usage error or an unreadable input).

use clap::Parser;
use mmsleak::audit::RULES;
use mmsleak::cli::{Cli, Command, OutputFormat, RulesArgs, ScanArgs, SeverityArg};
use mmsleak::report::model::Severity;
use mmsleak::report::{self, sanitize};
use mmsleak::scan::{self, ScanConfig};
use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

/// mimalloc instead of the system allocator: on the benchmark captures it takes about 10 % less
/// CPU, most of it in the transfer and audit stages, which build many small strings. See
/// docs/decisions.md, "mimalloc, tuned to give memory back".
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Option numbers of mimalloc 3 (`mi_option_e` in its `mimalloc.h`; libmimalloc-sys names only
/// some of them).
#[cfg(feature = "mimalloc")]
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
#[cfg(feature = "mimalloc")]
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// mimalloc's defaults commit whole arenas up front and keep freed memory for a second: peak RSS
/// was 2 to 3 times the system allocator's and grew with the capture (1 GB: 56/79 MB with one/two
/// threads, 4 GB: 61/95 MB). Committing on demand and purging after 1 ms keeps the peak where the
/// system allocator had it (25/31 MB, and 26/33 MB at 4 GB) at the same speed.
///
/// The first arena is reserved at the first allocation, before `main` on Linux, and takes the
/// commit option it finds then: so there this runs as an ELF constructor, before any allocation.
#[cfg(feature = "mimalloc")]
#[allow(unsafe_code)]
extern "C" fn tune_allocator() {
    // SAFETY: mi_option_set only stores a value in mimalloc's option table (no allocation, no
    // other state); both are valid option numbers of the mimalloc the crate builds, and this runs
    // before any other thread exists (mimalloc asks that options be set before threads use them).
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 1);
    }
}

/// Runs [`tune_allocator`] among the constructors the loader calls before `main`.
// SAFETY: `.init_array` holds pointers to functions the loader calls once, in order, with
// (argc, argv, envp), which an `extern "C" fn()` may ignore; the function touches no Rust
// runtime state.
#[cfg(all(feature = "mimalloc", target_os = "linux"))]
#[allow(unsafe_code)]
#[used]
#[unsafe(link_section = ".init_array")]
static TUNE_ALLOCATOR: extern "C" fn() = tune_allocator;

/// Gives the memory this thread's heap has freed back to the system at once: called on every
/// thread when the capture is read (`ScanConfig::release_memory`). mimalloc retires a thread's
/// empty pages and purges them lazily, during that thread's later allocator calls and no sooner
/// than 1 ms; without this the end of the run's working set came on top of up to 3 MB the
/// reading had freed (docs/decisions.md, "mimalloc, tuned to give memory back").
#[cfg(feature = "mimalloc")]
#[allow(unsafe_code)]
fn release_allocator_memory() {
    // SAFETY: mi_collect takes no pointers and may be called from any thread at any time; it
    // only frees and decommits memory that no allocation uses.
    unsafe { libmimalloc_sys::mi_collect(true) }
}

fn main() -> ExitCode {
    #[cfg(all(feature = "mimalloc", not(target_os = "linux")))]
    tune_allocator();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let started = std::time::Instant::now();
    let result = match cli.command {
        Command::Scan(args) => run_scan(&args),
        Command::Inspect(args) => run_inspect(&args),
        Command::Rules(args) => print_rules(&args).map(|()| 0),
        Command::Synth(args) => run_synth(&args),
        Command::Completions(args) => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(args.shell, &mut cmd, "mmsleak", &mut io::stdout());
            Ok(0)
        }
    };
    if std::env::var_os("MMSLEAK_STATS").is_some() {
        print_stats(started);
    }
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mmsleak: {}", sanitize::terminal(&e.to_string()));
            ExitCode::from(2)
        }
    }
}

fn severity(arg: SeverityArg) -> Severity {
    match arg {
        SeverityArg::Info => Severity::Info,
        SeverityArg::Low => Severity::Low,
        SeverityArg::Medium => Severity::Medium,
        SeverityArg::High => Severity::High,
        SeverityArg::Critical => Severity::Critical,
    }
}

/// The library's settings from the command line.
fn scan_config(args: &ScanArgs) -> ScanConfig {
    let mut config = ScanConfig {
        threads: args.threads,
        mmsc: args.mmsc.clone(),
        filter: args.filter.clone(),
        ..ScanConfig::default()
    };
    #[cfg(feature = "mimalloc")]
    {
        config.release_memory = Some(release_allocator_memory);
    }
    let l = &args.limits;
    config.reader.max_diagnostics = l.max_diagnostics;
    config.flow.max_flows = l.max_flows.max(1);
    config.flow.max_buffer_per_direction = l.max_reassembly_bytes;
    config.flow.max_buffer_total = l.max_reassembly_total;
    config.defrag.max_datagrams = l.max_ip_fragments.max(1);
    config.defrag.max_total_bytes = l.max_fragment_bytes;
    config.proto.http.max_head_bytes = l.max_http_head;
    config.proto.http.max_headers = l.max_http_headers;
    config.proto.http.max_body_bytes = l.max_body;
    config.proto.max_http_body_total = l.max_http_body_total;
    config.proto.http.max_decoded_bytes = l.max_decompressed;
    config.proto.http.max_decode_ratio = l.max_decompression_ratio;
    config.proto.wap.max_body_bytes = l.max_body;
    config.proto.wap.sar.max_segments_per_message = l.max_wtp_segments;
    config.proto.wap.sar.max_transactions = l.max_wtp_transactions;
    config.proto.wap.sar.max_message_bytes = l.max_body;
    config.transfer.multipart.max_depth = l.max_multipart_depth;
    config.transfer.multipart.max_parts = l.max_multipart_parts;
    config.transfer.max_message_members = l.max_message_pdus;
    config.audit.show_secrets = args.show_secrets;
    config.transfer.keep_pdu_bytes = args.extract_pdus;
    config.keep_part_bytes = args.extract.is_some() || args.html_media;
    config.audit.recipient_threshold = args.recipient_threshold;
    config
}

fn create_output(path: Option<&Path>) -> io::Result<Box<dyn Write>> {
    // Reports run to hundreds of megabytes: write them in large pieces.
    const BUFFER: usize = 1 << 20;
    Ok(match path {
        // `-o -` is standard output, as with most tools.
        Some(path) if path.as_os_str() != "-" => {
            let file = std::fs::File::create(path).map_err(|e| {
                io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
            })?;
            Box::new(io::BufWriter::with_capacity(BUFFER, file))
        }
        _ => Box::new(io::BufWriter::with_capacity(BUFFER, io::stdout().lock())),
    })
}

fn run_scan(args: &ScanArgs) -> io::Result<u8> {
    let mut config = scan_config(args);
    let progress = (!args.quiet && args.interface.is_none())
        .then(|| Progress::start(&args.inputs))
        .flatten();
    config.progress = progress.as_ref().map(|p| p.counter.clone());
    // JSON and JSON Lines are written as the run goes, so that memory does not grow with the
    // capture; redaction, extraction and carving need the whole report first.
    let streamable = match args.format {
        OutputFormat::Json => Some(report::stream::StreamFormat::Json),
        OutputFormat::Jsonl => Some(report::stream::StreamFormat::Jsonl),
        _ => None,
    }
    .filter(|_| !args.redact && args.extract.is_none() && args.carve.is_none());
    // The interface is opened before any output is created: a refused one leaves none behind.
    let live = match &args.interface {
        Some(interface) => Some(open_live(interface, args, &config)?),
        None => None,
    };
    if let Some(format) = streamable {
        // A usage error (an input that is not there) must not leave an empty --output behind.
        if live.is_none() {
            mmsleak::capture::expand_inputs(&args.inputs).map_err(io::Error::other)?;
        }
        let mut out = create_output(args.output.as_deref())?;
        let result = match live {
            Some(live) => live_scan_to(live, format, &mut out),
            None => scan::scan_to(&args.inputs, &config, format, &mut out),
        };
        if let Some(p) = progress {
            p.stop();
        }
        let outcome = match result {
            Ok(o) => o,
            Err(scan::ScanError::Output(e)) => return Err(e),
            Err(e) => return Err(io::Error::other(e)),
        };
        out.flush()?;
        if std::env::var_os("MMSLEAK_STATS").is_some() {
            let phases: Vec<String> = outcome
                .phases
                .iter()
                .map(|(name, d)| format!("{name}_ms={}", d.as_millis()))
                .collect();
            eprintln!("mmsleak-stats: {}", phases.join(" "));
        }
        return Ok(finish(
            args,
            &outcome.inputs,
            &outcome.unreadable,
            &outcome.summary,
        ));
    }
    let outcome = match live {
        Some(live) => live_scan(live),
        None => scan::scan(&args.inputs, &config).map_err(io::Error::other),
    };
    if let Some(p) = progress {
        p.stop();
    }
    let mut outcome = outcome?;
    if let Some(dir) = &args.extract {
        let n = report::extract::extract_all(dir, &mut outcome.report, &outcome.records)?;
        let pdus = if args.extract_pdus {
            report::extract::extract_pdus(dir, &outcome.report, &outcome.records)?
        } else {
            0
        };
        if !args.quiet {
            eprintln!(
                "mmsleak: extracted {n} parts{} to {}",
                if args.extract_pdus {
                    format!(" and {pdus} PDUs")
                } else {
                    String::new()
                },
                sanitize::terminal(&dir.display().to_string())
            );
        }
    }
    if args.redact {
        let key = match &args.redact_key {
            Some(k) => report::redact::key_from_passphrase(k),
            None => report::redact::random_key(),
        };
        report::redact::redact(&mut outcome.report, &key);
    }
    let report = &outcome.report;
    let mut out = create_output(args.output.as_deref())?;
    match args.format {
        OutputFormat::Table => {
            out.write_all(report::table::render(report, args.width).as_bytes())?
        }
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut out, report)?;
            out.write_all(b"\n")?;
        }
        OutputFormat::Jsonl => report::jsonl::write(&mut out, report)?,
        OutputFormat::Csv => report::csv::write(&mut out, report)?,
        OutputFormat::Html => {
            let media = args.html_media.then_some(outcome.records.as_slice());
            out.write_all(report::html::render(report, media).as_bytes())?;
        }
    }
    out.flush()?;
    if let Some(carve_to) = &args.carve {
        let stats = mmsleak::carve::carve(&args.inputs, report, carve_to)?;
        if !args.quiet {
            eprintln!(
                "mmsleak: carved {} packets ({} bytes) to {}",
                stats.packets,
                stats.bytes,
                sanitize::terminal(&carve_to.display().to_string())
            );
        }
    }
    let code = finish(args, &report.inputs, &outcome.unreadable, &report.summary);
    // The process ends here: freeing a large report piece by piece only costs time.
    std::mem::forget(outcome);
    Ok(code)
}

/// Says which inputs could not be read, and the exit code.
fn finish(
    args: &ScanArgs,
    inputs: &[report::model::InputReport],
    unreadable: &[String],
    summary: &report::model::Summary,
) -> u8 {
    for path in unreadable {
        let why = inputs
            .iter()
            .find(|i| &i.path == path)
            .and_then(|i| i.diagnostics.first())
            .map(|d| d.message.as_str())
            .unwrap_or("unreadable");
        eprintln!("mmsleak: {}", sanitize::terminal(why));
    }
    if !unreadable.is_empty() {
        2
    } else {
        let failed = args
            .fail_on
            .map(severity)
            .is_some_and(|sev| summary.findings.at_least(sev) > 0);
        u8::from(failed)
    }
}

fn print_rules(args: &RulesArgs) -> io::Result<()> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, RULES)?;
        out.write_all(b"\n")?;
    } else {
        out.write_all(report::table::rules(RULES, 80).as_bytes())?;
    }
    out.flush()
}

fn run_inspect(args: &mmsleak::cli::InspectArgs) -> io::Result<u8> {
    let format = match args.format {
        mmsleak::cli::InspectFormat::Text => mmsleak::inspect::Format::Text,
        mmsleak::cli::InspectFormat::Json => mmsleak::inspect::Format::Json,
    };
    let mut out = create_output(None)?;
    let code = mmsleak::inspect::inspect(&args.input, format, &mut out)?;
    out.flush()?;
    Ok(code)
}

#[cfg(feature = "libpcap")]
type Live = scan::LiveSource;

/// Without the `libpcap` feature there is no live capture to hold.
#[cfg(not(feature = "libpcap"))]
enum Live {}

/// Opens the interface. Ctrl-C (or SIGTERM) then ends the capture, and what was captured is
/// reported; a second one exits at once.
#[cfg(feature = "libpcap")]
fn open_live(interface: &str, args: &ScanArgs, config: &ScanConfig) -> io::Result<Live> {
    let live = scan::LiveSource::open(
        interface,
        args.count,
        args.duration.map(std::time::Duration::from_secs),
        config,
    )
    .map_err(io::Error::other)?;
    let stop = live.stop_handle();
    let quiet = args.quiet;
    let installed = ctrlc::set_handler(move || {
        // ctrlc runs this on a thread of its own, not in the signal handler.
        if stop.stop() {
            std::process::exit(130);
        }
        if !quiet {
            eprintln!("mmsleak: stopping the capture (again to quit at once)");
        }
    });
    if let Err(e) = installed {
        eprintln!("mmsleak: Ctrl-C will not stop the capture cleanly: {e}");
    }
    Ok(live)
}

#[cfg(not(feature = "libpcap"))]
fn open_live(_interface: &str, _args: &ScanArgs, _config: &ScanConfig) -> io::Result<Live> {
    Err(io::Error::other(
        mmsleak::capture::CaptureError::FeatureMissing {
            what: "--interface",
            feature: "libpcap",
        },
    ))
}

#[cfg(feature = "libpcap")]
fn live_scan(live: Live) -> io::Result<scan::ScanOutcome> {
    live.scan().map_err(io::Error::other)
}

#[cfg(not(feature = "libpcap"))]
fn live_scan(live: Live) -> io::Result<scan::ScanOutcome> {
    match live {}
}

#[cfg(feature = "libpcap")]
fn live_scan_to(
    live: Live,
    format: report::stream::StreamFormat,
    out: &mut dyn Write,
) -> Result<scan::StreamOutcome, scan::ScanError> {
    live.scan_to(format, out)
}

#[cfg(not(feature = "libpcap"))]
fn live_scan_to(
    live: Live,
    _format: report::stream::StreamFormat,
    _out: &mut dyn Write,
) -> Result<scan::StreamOutcome, scan::ScanError> {
    match live {}
}

/// A progress bar on stderr while large inputs are read, when stderr is a terminal.
struct Progress {
    counter: std::sync::Arc<std::sync::atomic::AtomicU64>,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Progress {
    /// Inputs smaller than this in total get no bar.
    const MIN_BYTES: u64 = 64 << 20;

    fn start(inputs: &[std::path::PathBuf]) -> Option<Progress> {
        use std::io::IsTerminal;
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        if !io::stderr().is_terminal() {
            return None;
        }
        let specs = mmsleak::capture::expand_inputs(inputs).ok()?;
        let mut total = 0u64;
        let mut exact = true;
        for spec in &specs {
            match spec {
                mmsleak::capture::InputSpec::File(p) => {
                    total += std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                    // A compressed file's decompressed size is not known in advance.
                    exact &= !p.to_string_lossy().to_ascii_lowercase().ends_with(".gz");
                }
                mmsleak::capture::InputSpec::Stdin => exact = false,
            }
        }
        if exact && total < Self::MIN_BYTES {
            return None;
        }
        let bar = if exact {
            let b = indicatif::ProgressBar::new(total);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] [{wide_bar}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            b
        } else {
            indicatif::ProgressBar::new_spinner()
        };
        let counter = std::sync::Arc::new(AtomicU64::new(0));
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let (c, d) = (counter.clone(), done.clone());
        let thread = std::thread::spawn(move || {
            while !d.load(Ordering::Relaxed) {
                bar.set_position(c.load(Ordering::Relaxed));
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            bar.finish_and_clear();
        });
        Some(Progress {
            counter,
            done,
            thread,
        })
    }

    fn stop(self) {
        self.done.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

/// With `MMSLEAK_STATS` set: elapsed time and peak resident memory on stderr, for benchmarks and
/// the memory tests (Linux `/proc/self/status`; elsewhere the peak is printed as 0).
fn print_stats(started: std::time::Instant) {
    let peak_kib = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .unwrap_or(0);
    eprintln!(
        "mmsleak-stats: elapsed_ms={} peak_rss_kib={peak_kib}",
        started.elapsed().as_millis()
    );
}

fn run_synth(args: &mmsleak::cli::SynthArgs) -> io::Result<u8> {
    let mut out = io::BufWriter::new(io::stdout().lock());
    if args.list {
        for (name, what) in mmsleak::synth::SCENARIOS {
            writeln!(out, "{name}\n    {what}")?;
        }
        out.flush()?;
        return Ok(0);
    }
    let Some(dir) = &args.outdir else {
        return Ok(2);
    };
    let options = mmsleak::synth::SynthOptions {
        seed: args.seed,
        scenarios: args.scenarios.clone(),
        size_mb: args.size_mb,
    };
    let made = match mmsleak::synth::generate(dir, &options) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => {
            eprintln!("mmsleak: {}", sanitize::terminal(&e.to_string()));
            return Ok(2);
        }
        Err(e) => return Err(e),
    };
    for m in &made {
        writeln!(
            out,
            "{} ({} packets){}",
            m.capture.display(),
            m.packets,
            m.answers
                .as_ref()
                .map(|a| format!(", answers in {}", a.display()))
                .unwrap_or_default()
        )?;
    }
    out.flush()?;
    Ok(0)
}
