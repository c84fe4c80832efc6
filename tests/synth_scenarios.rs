#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Every lab scenario, for several seeds: the scanner's report must match the answer key the
//! generator wrote beside the capture.
//!
//! Compared: the summary exactly; inputs (except the path, which the key gives relative to the
//! output folder); transfers with every contract field (except `input`, the same path); PDUs with
//! their fields and part hashes; messages; findings by (rule, category, severity, transfer,
//! message, frames) as a multiset.
//! Nothing is skipped: a difference is either a scanner bug or a generator bug, and is fixed.

use mmsleak::scan::{ScanConfig, scan};
use mmsleak::synth::{SynthOptions, generate};
use serde_json::Value;
use std::path::Path;

const SEEDS: &[u64] = &[1, 2, 7];

fn project_findings(v: &Value) -> Vec<String> {
    let mut out: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            serde_json::to_string(&serde_json::json!([
                f["rule"],
                f["category"],
                f["severity"],
                f["transfer"],
                f["message"],
                f["frames"]
            ]))
            .unwrap()
        })
        .collect();
    out.sort();
    out
}

fn diff(path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                diff(
                    &format!("{path}.{k}"),
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    out,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                diff(&format!("{path}[{i}]"), p, q, out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!("{path}: key {a} / scan {b}")),
    }
}

/// The differences between key and scan, as "path: key X / scan Y" lines.
fn compare(key: &Value, got: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff("summary", &key["summary"], &got["summary"], &mut out);
    let strip_inputs = |v: &Value| {
        let mut v = v.clone();
        for i in v.as_array_mut().unwrap() {
            i["path"] = Value::Null;
        }
        v
    };
    diff(
        "inputs",
        &strip_inputs(&key["inputs"]),
        &strip_inputs(&got["inputs"]),
        &mut out,
    );
    let strip_transfers = |v: &Value| {
        let mut v = v.clone();
        for t in v.as_array_mut().unwrap() {
            t["input"] = Value::Null;
        }
        v
    };
    diff(
        "transfers",
        &strip_transfers(&key["transfers"]),
        &strip_transfers(&got["transfers"]),
        &mut out,
    );
    diff("messages", &key["messages"], &got["messages"], &mut out);
    let (kf, gf) = (
        project_findings(&key["findings"]),
        project_findings(&got["findings"]),
    );
    for f in &kf {
        if !gf.contains(f) {
            out.push(format!("findings: missing {f}"));
        }
    }
    for f in &gf {
        if !kf.contains(f) {
            out.push(format!("findings: unexpected {f}"));
        }
    }
    out
}

/// The seeds to run: [`SEEDS`], or `SYNTH_SEEDS=A-B` for a range (for soak runs).
fn seeds() -> Vec<u64> {
    match std::env::var("SYNTH_SEEDS") {
        Ok(r) => {
            let (a, b) = r.split_once('-').unwrap_or((&r, &r));
            (a.parse().unwrap()..=b.parse().unwrap()).collect()
        }
        Err(_) => SEEDS.to_vec(),
    }
}

fn check(scenario: &str) {
    let mut failures = Vec::new();
    for seed in seeds() {
        let dir = tempfile::tempdir().unwrap();
        let made = generate(
            dir.path(),
            &SynthOptions {
                seed,
                scenarios: vec![scenario.to_owned()],
                size_mb: None,
            },
        )
        .unwrap();
        assert!(!made.is_empty());
        for cap in made {
            let key: Value =
                serde_json::from_slice(&std::fs::read(cap.answers.as_ref().unwrap()).unwrap())
                    .unwrap();
            let outcome = scan(std::slice::from_ref(&cap.capture), &ScanConfig::default()).unwrap();
            let got = serde_json::to_value(&outcome.report).unwrap();
            let name = cap
                .capture
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            for d in compare(&key, &got) {
                failures.push(format!("seed {seed} {name}: {d}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} difference(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Keys are deterministic per seed, and different seeds give different captures.
#[test]
fn generation_is_deterministic() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let c = tempfile::tempdir().unwrap();
    let opts = |seed| SynthOptions {
        seed,
        scenarios: vec!["wap-push-notification".into(), "formats".into()],
        size_mb: None,
    };
    let ma = generate(a.path(), &opts(3)).unwrap();
    let mb = generate(b.path(), &opts(3)).unwrap();
    let mc = generate(c.path(), &opts(4)).unwrap();
    assert_eq!(ma.len(), mb.len());
    for ((x, y), z) in ma.iter().zip(&mb).zip(&mc) {
        let read = |p: &Path| std::fs::read(p).unwrap();
        assert_eq!(read(&x.capture), read(&y.capture));
        assert_eq!(
            read(x.answers.as_ref().unwrap()),
            read(y.answers.as_ref().unwrap())
        );
        assert_ne!(read(&x.capture), read(&z.capture));
    }
}

#[test]
fn unknown_scenario_is_an_error() {
    let d = tempfile::tempdir().unwrap();
    let err = generate(
        d.path(),
        &SynthOptions {
            seed: 1,
            scenarios: vec!["no-such-thing".into()],
            size_mb: None,
        },
    )
    .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

macro_rules! scenario_tests {
    ($($name:ident => $scenario:literal;)*) => {$(
        #[test]
        fn $name() {
            check($scenario);
        }
    )*};
}

scenario_tests! {
    wap_push_notification => "wap-push-notification";
    wtp_segmented_upload => "wtp-segmented-upload";
    http_mmsc => "http-mmsc";
    push_then_http_retrieval => "push-then-http-retrieval";
    tls_mmsc => "tls-mmsc";
    tcp_anomalies => "tcp-anomalies";
    wtls => "wtls";
    forward_and_mailbox => "forward-and-mailbox";
    gtp_u => "gtp-u";
    ip_fragments => "ip-fragments";
    link_layers => "link-layers";
    formats => "formats";
}
