#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The mixed benchmark capture: its size, its sidecar, and the MMS PDUs a scan finds in it
//! against the counts the generator wrote.

use mmsleak::scan::{ScanConfig, scan};
use mmsleak::synth::{SynthOptions, generate};
use std::collections::BTreeMap;

#[test]
fn mixed_capture_counts_match_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let made = generate(
        dir.path(),
        &SynthOptions {
            seed: 5,
            scenarios: Vec::new(),
            size_mb: Some(2),
        },
    )
    .unwrap();
    assert_eq!(
        made.len(),
        1,
        "only the mixed capture when no scenario is named"
    );
    let cap = &made[0];
    assert!(cap.answers.is_none());
    assert!(cap.capture.ends_with("mixed-2mb.pcap"));
    let size = std::fs::metadata(&cap.capture).unwrap().len();
    assert!((2_000_000..3_000_000).contains(&size), "{size}");
    let counts: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cap.extra[0]).unwrap()).unwrap();
    let expected: BTreeMap<String, u64> =
        serde_json::from_value(counts["mms_pdus"].clone()).unwrap();
    assert!(expected.values().sum::<u64>() > 10, "{expected:?}");
    let mms = counts["mms_bytes"].as_u64().unwrap() as f64;
    let bg = counts["background_bytes"].as_u64().unwrap() as f64;
    let share = mms / (mms + bg);
    assert!((0.02..0.15).contains(&share), "MMS share {share}");
    assert!(
        std::fs::read_to_string(&cap.extra[1])
            .unwrap()
            .contains("no answer key")
    );

    let outcome = scan(std::slice::from_ref(&cap.capture), &ScanConfig::default()).unwrap();
    let mut found: BTreeMap<String, u64> = BTreeMap::new();
    for t in &outcome.report.transfers {
        for p in &t.pdus {
            *found.entry(p.message_type.clone()).or_insert(0) += 1;
        }
    }
    assert_eq!(found, expected);
    assert!(
        outcome.report.inputs[0].diagnostics.is_empty(),
        "{:?}",
        outcome.report.inputs[0].diagnostics
    );
}
