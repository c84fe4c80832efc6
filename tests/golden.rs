//! Golden outputs: the real binary's report on sample captures, in every text format, compared
//! with snapshots committed under tests/snapshots/.
//!
//! The binary runs from inside captures/, so input paths in the reports are bare file names.
//! The only thing normalised is the tool version (`mmsleak 0.1.0:` in the table, `"version":
//! "0.1.0"` in JSON), so that a version bump does not touch every snapshot; each test checks the
//! real version was there first. Nothing else is masked: the outputs must be byte-identical run
//! after run.
//!
//! After an intended change of output: `INSTA_UPDATE=always cargo test --test golden` (or
//! `cargo insta review`), then read the diff of tests/snapshots/ before committing it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The table format's width, given explicitly (it is also the default).
const WIDTH: usize = 80;
const VERSION: &str = env!("CARGO_PKG_VERSION");

fn captures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures")
}

/// Runs `mmsleak scan -q <args> <capture>` from inside captures/ and returns its standard
/// output, checking that it succeeded with nothing on standard error.
fn scan(capture: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_mmsleak"))
        .current_dir(captures())
        .arg("scan")
        .arg("-q")
        .args(args)
        .arg(capture)
        .env_remove("MMSLEAK_STATS")
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "mmsleak scan {args:?} {capture}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stderr.is_empty(),
        "mmsleak scan {args:?} {capture} wrote to stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Replaces the tool version where the format prints it, after checking it is there.
fn normalise_version(format: &str, output: &str) -> String {
    let (real, placeholder) = match format {
        "table" => (
            format!("mmsleak {VERSION}:"),
            "mmsleak [version]:".to_owned(),
        ),
        "json" => (
            format!("\"version\": \"{VERSION}\""),
            "\"version\": \"[version]\"".to_owned(),
        ),
        // JSON Lines and CSV carry no tool version.
        _ => return output.to_owned(),
    };
    assert_eq!(
        output.matches(&real).count(),
        1,
        "the {format} output should name the tool version once: {real}"
    );
    output.replacen(&real, &placeholder, 1)
}

/// Snapshots one capture in one format. `name` is the snapshot's name (the file is
/// tests/snapshots/golden__<name>.snap).
fn golden(name: &str, capture: &str, format: &str, extra: &[&str]) {
    let width = WIDTH.to_string();
    let mut args = vec!["--format", format];
    if format == "table" {
        args.extend(["--width", &width]);
    }
    args.extend(extra);
    let output = scan(capture, &args);
    // Each run must give the same bytes: a second run (with another number of threads) catches
    // ordering that depends on scheduling or hashing before it reaches a snapshot.
    let mut again_args = args.clone();
    again_args.extend(["--threads", "1"]);
    let again = scan(capture, &again_args);
    assert!(
        output == again,
        "mmsleak scan {args:?} {capture} is not deterministic (default threads vs --threads 1)"
    );
    if format == "table" {
        for line in output.lines() {
            assert!(
                line.chars().count() <= WIDTH,
                "table line wider than {WIDTH} columns: {line:?}"
            );
        }
    }
    let command = format!("mmsleak scan -q {} {capture}", args.join(" "));
    insta::with_settings!({
        description => command,
        omit_expression => true,
        prepend_module_to_snapshot => true,
    }, {
        insta::assert_snapshot!(name, normalise_version(format, &output));
    });
}

macro_rules! golden_tests {
    ($($test:ident: $capture:literal, $format:literal $(, [$($extra:literal),*])?;)*) => {
        $(
            #[test]
            fn $test() {
                golden(stringify!($test), $capture, $format, &[$($($extra),*)?]);
            }
        )*
    };
}

golden_tests! {
    http_mmsc_table: "http-mmsc.pcap", "table";
    http_mmsc_json: "http-mmsc.pcap", "json";
    http_mmsc_jsonl: "http-mmsc.pcap", "jsonl";
    http_mmsc_csv: "http-mmsc.pcap", "csv";
    http_mmsc_json_redacted: "http-mmsc.pcap", "json", ["--redact", "--redact-key", "lab"];

    push_then_http_retrieval_table: "push-then-http-retrieval.pcap", "table";
    push_then_http_retrieval_json: "push-then-http-retrieval.pcap", "json";
    push_then_http_retrieval_jsonl: "push-then-http-retrieval.pcap", "jsonl";
    push_then_http_retrieval_csv: "push-then-http-retrieval.pcap", "csv";
    push_then_http_retrieval_json_redacted:
        "push-then-http-retrieval.pcap", "json", ["--redact", "--redact-key", "lab"];

    wtp_segmented_upload_table: "wtp-segmented-upload.pcap", "table";
    wtp_segmented_upload_json: "wtp-segmented-upload.pcap", "json";
    wtp_segmented_upload_jsonl: "wtp-segmented-upload.pcap", "jsonl";
    wtp_segmented_upload_csv: "wtp-segmented-upload.pcap", "csv";

    link_layers_table: "link-layers.pcapng", "table";
    link_layers_json: "link-layers.pcapng", "json";
    link_layers_jsonl: "link-layers.pcapng", "jsonl";
    link_layers_csv: "link-layers.pcapng", "csv";
}

/// `--redact` without a key draws a random key per run: two runs must differ (so the redacted
/// snapshots above rightly pin a key), and the keyed run must not leak the numbers it hides.
#[test]
fn redaction_without_key_differs_per_run_and_keyed_hides_numbers() {
    let a = scan("http-mmsc.pcap", &["--format", "json", "--redact"]);
    let b = scan("http-mmsc.pcap", &["--format", "json", "--redact"]);
    assert_ne!(
        a, b,
        "--redact without a key should use a fresh key per run"
    );
    let keyed = scan(
        "http-mmsc.pcap",
        &["--format", "json", "--redact", "--redact-key", "lab"],
    );
    let plain = scan("http-mmsc.pcap", &["--format", "json"]);
    assert!(plain.contains("+15550106"));
    assert!(!keyed.contains("+15550106"));
}
