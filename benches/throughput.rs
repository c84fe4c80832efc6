//! Throughput and memory of `mmsleak scan` on a large mixed capture made by the project's own
//! generator, measured against baselines in the same run: reading the file (`cat FILE >
//! /dev/null`) and, when installed, tshark's MMS decoder. Prints the ratios.
//!
//! `cargo bench --bench throughput` (sizes in MB: `MMSLEAK_BENCH_SIZES="1024 4096"`, default
//! 256; the captures are cached in target/bench-data, each with the fingerprint of the generator
//! that made it, and made again when the generator has changed; reports are written to
//! `MMSLEAK_BENCH_OUT`, default the same folder; `MMSLEAK_BENCH_ROUNDS` rounds of cat, one
//! thread and two threads, default 3, of which the medians are shown).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mmsleak::proto::mms::MessageType;
use mmsleak::synth::{SynthOptions, generate};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

struct Run {
    secs: f64,
    peak_kib: u64,
    /// `read_ms=… messages_ms=… write_ms=…` from `MMSLEAK_STATS`.
    phases: String,
    stdout: Vec<u8>,
}

fn timed(cmd: &mut Command) -> Run {
    let start = Instant::now();
    let out = cmd
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .output()
        .unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    let peak_kib = String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.split("peak_rss_kib=").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let phases = String::from_utf8_lossy(&out.stderr)
        .lines()
        .find_map(|l| l.strip_prefix("mmsleak-stats: read_ms"))
        .map(|rest| format!("read_ms{rest}"))
        .unwrap_or_default();
    Run {
        secs,
        peak_kib,
        phases,
        stdout: out.stdout,
    }
}

/// `MemAvailable` of /proc/meminfo in MB, where there is one. When the capture and its report
/// no longer fit beside what runs, the page cache is reclaimed under the runs and every figure
/// (`cat`'s most) reflects that rather than the program: seen here with 36 MB left.
fn memory_available_mb() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

/// The run of median time (the upper one of an even count).
fn median(runs: &[Run]) -> &Run {
    let mut sorted: Vec<&Run> = runs.iter().collect();
    sorted.sort_by(|a, b| a.secs.total_cmp(&b.secs));
    sorted[sorted.len() / 2]
}

/// The ratio of each round's times, `a / b`, in the order run.
fn per_round(a: &[Run], b: &[Run]) -> String {
    let ratios: Vec<String> = a
        .iter()
        .zip(b)
        .map(|(a, b)| format!("{:.2}", a.secs / b.secs))
        .collect();
    ratios.join(" ")
}

/// Every run's time, in the order run.
fn spread(runs: &[Run]) -> String {
    let secs: Vec<String> = runs.iter().map(|r| format!("{:.2}", r.secs)).collect();
    secs.join(" ")
}

fn mixed(mb: u64) -> SynthOptions {
    SynthOptions {
        seed: 1,
        scenarios: Vec::new(),
        size_mb: Some(mb),
    }
}

/// What the generator makes now, in a few bytes: the SHA-256 of its 1 MB mixed capture. A
/// cached capture stamped with another fingerprint was made by another generator.
fn generator_fingerprint(dir: &Path) -> String {
    use sha2::{Digest, Sha256};
    let scratch = tempfile::tempdir_in(dir).unwrap();
    generate(scratch.path(), &mixed(1)).unwrap();
    let bytes = std::fs::read(scratch.path().join("mixed-1mb.pcap")).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The mixed capture of `mb` MB: the cached one when the generator that made it is the
/// current one, else made again (a cached file from an older generator would measure traffic
/// the generator no longer makes, and its PDU counts would not match).
fn capture(dir: &Path, mb: u64, fingerprint: &str) -> PathBuf {
    let path = dir.join(format!("mixed-{mb}mb.pcap"));
    let stamp = path.with_extension("pcap.generator");
    let current = std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == fingerprint);
    if !path.exists() || !current {
        eprintln!("generating {} ...", path.display());
        generate(dir, &mixed(mb)).unwrap();
        std::fs::write(&stamp, format!("{fingerprint}\n")).unwrap();
    }
    path
}

fn mmsleak_counts(report: &[u8]) -> (u64, BTreeMap<String, u64>) {
    let r: serde_json::Value = serde_json::from_slice(report).unwrap();
    let mut counts = BTreeMap::new();
    for t in r["transfers"].as_array().unwrap() {
        for p in t["pdus"].as_array().unwrap() {
            *counts
                .entry(p["message_type"].as_str().unwrap().to_owned())
                .or_insert(0) += 1;
        }
    }
    (r["summary"]["packets"].as_u64().unwrap(), counts)
}

/// tshark prints message types as numbers (0x80 ...) or names depending on the version.
fn tshark_counts(out: &[u8]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for line in String::from_utf8_lossy(out).lines() {
        for v in line.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            // The project's own table of message types names them.
            let name = v
                .strip_prefix("0x")
                .map_or_else(|| v.parse::<u8>().ok(), |h| u8::from_str_radix(h, 16).ok())
                .map(MessageType)
                .filter(|t| t.is_assigned())
                .map(MessageType::name)
                .unwrap_or_else(|| v.to_owned());
            *counts.entry(name).or_insert(0) += 1;
        }
    }
    counts
}

fn main() {
    let sizes: Vec<u64> = std::env::var("MMSLEAK_BENCH_SIZES")
        .unwrap_or_else(|_| "256".into())
        .split_whitespace()
        .filter_map(|s| s.parse().ok())
        .collect();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    std::fs::create_dir_all(&dir).unwrap();
    let fingerprint = generator_fingerprint(&dir);
    let exe = env!("CARGO_BIN_EXE_mmsleak");
    let tshark = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    // Where the reports go: `MMSLEAK_BENCH_OUT` (e.g. /dev/shm, to measure mmsleak rather than
    // the disk), else beside the captures.
    let out_dir = std::env::var_os("MMSLEAK_BENCH_OUT").map_or_else(|| dir.clone(), PathBuf::from);
    let rounds: usize = std::env::var("MMSLEAK_BENCH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3)
        .max(1);
    let mut peaks: Vec<(u64, u64)> = Vec::new();
    for mb in sizes {
        let path = capture(&dir, mb, &fingerprint);
        let bytes = std::fs::metadata(&path).unwrap().len() as f64;
        let mbytes = bytes / 1e6;
        // `cat FILE > /dev/null`: stdout to the null device, not through a pipe.
        let cat = || {
            let start = Instant::now();
            let status = Command::new("cat")
                .arg(&path)
                .stdout(std::fs::File::create("/dev/null").unwrap())
                .status()
                .unwrap();
            assert!(status.success());
            Run {
                secs: start.elapsed().as_secs_f64(),
                peak_kib: 0,
                phases: String::new(),
                stdout: Vec::new(),
            }
        };
        // The report goes to a file (`--output`), as an auditor would write it, not through a
        // pipe into this process.
        let scan = |threads: &str| {
            let report = out_dir.join(format!("report-{mb}mb-j{threads}.json"));
            let mut run = timed(
                Command::new(exe)
                    .args(["scan", "--quiet", "--format", "json", "--threads", threads])
                    .arg("--output")
                    .arg(&report)
                    .arg(&path)
                    .env("MMSLEAK_STATS", "1"),
            );
            run.stdout = std::fs::read(&report).unwrap();
            std::fs::remove_file(&report).unwrap();
            run
        };
        // Rounds of cat, one thread, two threads, interleaved, so that a slow spell of the
        // machine (page cache reclaimed, a noisy neighbour) touches all three alike. Figures
        // are medians; the ratio of each round is printed too.
        let (mut cats, mut ones, mut twos) = (Vec::new(), Vec::new(), Vec::new());
        let mut report: Option<Vec<u8>> = None;
        for _ in 0..rounds {
            cats.push(cat());
            for (runs, threads) in [(&mut ones, "1"), (&mut twos, "2")] {
                let mut run = scan(threads);
                match &report {
                    None => report = Some(std::mem::take(&mut run.stdout)),
                    Some(first) => {
                        assert!(
                            first == &run.stdout,
                            "reports differ between runs or threads"
                        );
                        run.stdout = Vec::new();
                    }
                }
                runs.push(run);
            }
        }
        let report = report.unwrap_or_default();
        let (packets, ours) = mmsleak_counts(&report);
        println!(
            "== {} ({:.0} MB, {packets} packets; median of {rounds} rounds)",
            path.display(),
            mbytes
        );
        if let Some(free) = memory_available_mb() {
            // The capture in the page cache and a report in memory, at least, besides tshark.
            let needed = (mbytes * 1.2) as u64;
            println!(
                "memory available after the runs: {free} MB{}",
                if free < needed {
                    format!(
                        " (under the {needed} MB the capture and its report need: figures are skewed)"
                    )
                } else {
                    String::new()
                }
            );
        }
        let cat = median(&cats);
        println!(
            "cat            {:8.2} s {:9.1} MB/s  (runs {})",
            cat.secs,
            mbytes / cat.secs,
            spread(&cats)
        );
        let (one, two) = (median(&ones), median(&twos));
        for (label, r, runs) in [("mmsleak -j1", one, &ones), ("mmsleak -j2", two, &twos)] {
            println!(
                "{label:<14} {:8.2} s {:9.1} MB/s {:10.0} packets/s  peak RSS {:.1} MB  ({})  (runs {})",
                r.secs,
                mbytes / r.secs,
                packets as f64 / r.secs,
                runs.iter().map(|r| r.peak_kib).max().unwrap_or(0) as f64 / 1024.0,
                r.phases,
                spread(runs)
            );
        }
        peaks.push((
            mb,
            ones.iter()
                .chain(&twos)
                .map(|r| r.peak_kib)
                .max()
                .unwrap_or(0),
        ));
        // Per round too: `cat`'s speed moves with the machine's state far more than mmsleak's.
        println!(
            "ratio: mmsleak -j2 / cat speed = {:.2}  (per round {})",
            cat.secs / two.secs,
            per_round(&cats, &twos)
        );
        println!(
            "ratio: 2 threads / 1 thread    = {:.2}  (per round {})",
            one.secs / two.secs,
            per_round(&ones, &twos)
        );
        // The generator's own count of the MMS PDUs it wrote.
        let expected: BTreeMap<String, u64> =
            std::fs::read(path.with_extension("pcap.counts.json"))
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .and_then(|v| serde_json::from_value(v["mms_pdus"].clone()).ok())
                .unwrap_or_default();
        if tshark {
            let t = timed(Command::new("tshark").arg("-r").arg(&path).args([
                "-Y",
                "mmse",
                "-T",
                "fields",
                "-e",
                "mmse.message_type",
            ]));
            let theirs = tshark_counts(&t.stdout);
            println!(
                "tshark         {:8.2} s {:9.1} MB/s",
                t.secs,
                mbytes / t.secs
            );
            println!(
                "ratio: mmsleak -j2 / tshark speed = {:.1}",
                t.secs / two.secs
            );
            println!("PDUs by type (mmsleak / tshark / generated):");
            let keys: std::collections::BTreeSet<&String> = ours
                .keys()
                .chain(theirs.keys())
                .chain(expected.keys())
                .collect();
            for k in keys {
                println!(
                    "  {k:<22} {:>7} {:>7} {:>7}",
                    ours.get(k).copied().unwrap_or(0),
                    theirs.get(k).copied().unwrap_or(0),
                    expected.get(k).copied().unwrap_or(0)
                );
            }
        } else {
            println!("tshark not installed: no tshark baseline");
            println!("PDUs by type (mmsleak / generated): {ours:?} / {expected:?}");
        }
    }
    // Memory should not follow the capture's size: each size against the smallest.
    if let Some(&(base_mb, base_kib)) = peaks.first() {
        for &(mb, kib) in peaks.iter().skip(1) {
            println!(
                "peak RSS {mb} MB capture / {base_mb} MB capture = {:.2}",
                kib as f64 / base_kib.max(1) as f64
            );
        }
    }
}
