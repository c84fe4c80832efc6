#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The streamed JSON and JSON Lines reports (transfers and findings kept in a temporary file, not
//! in memory) are byte for byte the reports built in memory, on every sample capture, together
//! and one by one, with one thread and with four.

use mmsleak::report::jsonl;
use mmsleak::report::stream::StreamFormat;
use mmsleak::scan::{self, ScanConfig};
use std::path::PathBuf;

fn samples() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.ends_with(".pcap") || name.ends_with(".pcapng") || name.ends_with(".gz")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 10, "sample captures missing");
    files
}

fn check(paths: &[PathBuf], threads: usize) {
    let config = ScanConfig {
        threads: Some(threads),
        ..ScanConfig::default()
    };
    let outcome = scan::scan(paths, &config).unwrap();
    let mut expected_json = serde_json::to_vec_pretty(&outcome.report).unwrap();
    expected_json.push(b'\n');
    let mut expected_lines = Vec::new();
    jsonl::write(&mut expected_lines, &outcome.report).unwrap();

    let mut json = Vec::new();
    let streamed = scan::scan_to(paths, &config, StreamFormat::Json, &mut json).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&json),
        String::from_utf8_lossy(&expected_json),
        "{paths:?}"
    );
    assert_eq!(streamed.summary, outcome.report.summary);
    let mut lines = Vec::new();
    scan::scan_to(paths, &config, StreamFormat::Jsonl, &mut lines).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&lines),
        String::from_utf8_lossy(&expected_lines),
        "{paths:?}"
    );
}

#[test]
fn streamed_reports_equal_reports_built_in_memory() {
    let files = samples();
    for f in &files {
        check(std::slice::from_ref(f), 1);
    }
    check(&files, 1);
    check(&files, 4);
}

/// A TLS connection whose server is shown to be an MMSC only by other traffic (its address served
/// MMS in cleartext) waits as a pending candidate in a streamed run and is audited and serialised
/// at the end: the report is still the one built in memory, finding included.
#[test]
fn tls_reported_late_streams_as_built_in_memory() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures/http-mmsc.pcap");
    let outcome = scan::scan(std::slice::from_ref(&path), &ScanConfig::default()).unwrap();
    let late: Vec<_> = outcome
        .report
        .transfers
        .iter()
        .filter(|t| t.transport == "tls")
        .filter(|t| {
            !t.sni
                .as_deref()
                .is_some_and(|s| mmsleak::proto::tls::is_mmsc_name(s, &[]))
        })
        .collect();
    assert_eq!(late.len(), 1, "one TLS transfer reported by its address");
    assert!(
        outcome
            .report
            .findings
            .iter()
            .any(|f| f.rule == "weak-encryption" && f.transfer.as_deref() == Some(&late[0].id)),
        "its finding"
    );
    check(std::slice::from_ref(&path), 1);
    check(std::slice::from_ref(&path), 3);
}

#[test]
fn an_empty_capture_streams_empty_sections() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.pcap");
    // A pcap header and no record.
    let mut header = Vec::new();
    header.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    header.extend_from_slice(&2u16.to_le_bytes());
    header.extend_from_slice(&4u16.to_le_bytes());
    header.extend_from_slice(&[0; 8]);
    header.extend_from_slice(&65535u32.to_le_bytes());
    header.extend_from_slice(&1u32.to_le_bytes());
    std::fs::write(&path, header).unwrap();
    check(&[path], 2);
}

#[test]
fn without_temporary_storage_a_json_scan_fails_clearly() {
    let bin = env!("CARGO_BIN_EXE_mmsleak");
    let captures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures");
    let out = std::process::Command::new(bin)
        .args(["scan", "--quiet", "--format", "json"])
        .arg(&captures)
        .env("TMPDIR", "/nonexistent/mmsleak-test")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("temporary storage for the report failed"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty(), "no partial report");
    // The table is built in memory and needs no temporary file.
    let out = std::process::Command::new(bin)
        .args(["scan", "--quiet", "--format", "table"])
        .arg(&captures)
        .env("TMPDIR", "/nonexistent/mmsleak-test")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn an_output_that_cannot_be_created_is_named() {
    let bin = env!("CARGO_BIN_EXE_mmsleak");
    let captures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures");
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("missing-folder").join("report.json");
    for format in ["json", "table"] {
        let out = std::process::Command::new(bin)
            .args(["scan", "--quiet", "--format", format, "--output"])
            .arg(&target)
            .arg(&captures)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{format}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("cannot write"), "{format}: {stderr}");
        assert!(stderr.contains("report.json"), "{format}: {stderr}");
    }
}

/// Regression: `--output -` wrote a file named `-` instead of standard output.
#[test]
fn output_dash_is_standard_output() {
    let bin = env!("CARGO_BIN_EXE_mmsleak");
    let capture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("captures/http-mmsc.pcap");
    let dir = tempfile::tempdir().unwrap();
    for format in ["json", "table"] {
        let out = std::process::Command::new(bin)
            .args(["scan", "--quiet", "--format", format, "-o", "-"])
            .arg(&capture)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("http-mmsc.pcap"),
            "{format}: the report is on standard output"
        );
        assert!(!dir.path().join("-").exists(), "{format}: no file named -");
    }
}

static RELEASED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn count_release() {
    RELEASED.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// The binary hands freed memory back before the end of the run: the hook runs once on each of
/// the pool's threads and on the caller, for streamed and in-memory reports alike, and the
/// report is the same.
#[test]
fn memory_is_released_on_every_thread_before_the_end_of_the_run() {
    let paths = samples();
    let plain = ScanConfig {
        threads: Some(3),
        ..ScanConfig::default()
    };
    let hooked = ScanConfig {
        release_memory: Some(count_release),
        ..plain.clone()
    };
    let mut json = Vec::new();
    scan::scan_to(&paths, &plain, StreamFormat::Json, &mut json).unwrap();
    assert_eq!(RELEASED.load(std::sync::atomic::Ordering::SeqCst), 0);
    let mut again = Vec::new();
    scan::scan_to(&paths, &hooked, StreamFormat::Json, &mut again).unwrap();
    assert_eq!(RELEASED.load(std::sync::atomic::Ordering::SeqCst), 4);
    assert!(json == again, "the hook changed the report");
    let outcome = scan::scan(&paths, &hooked).unwrap();
    assert_eq!(RELEASED.load(std::sync::atomic::Ordering::SeqCst), 8);
    assert!(!outcome.report.transfers.is_empty());
}
