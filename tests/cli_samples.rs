//! The committed sample captures: they are exactly what `mmsleak synth captures --seed 1` makes,
//! and the real binary's report on each equals its answer key.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("captures")
}

fn committed_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(samples())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        .collect();
    files.sort();
    files
}

#[test]
fn samples_are_what_the_generator_makes() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mmsleak"))
        .args(["synth", "--seed", "1"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let committed = committed_files();
    let mut fresh: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    fresh.sort();
    let names = |v: &[PathBuf]| -> Vec<String> {
        v.iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(
        names(&committed),
        names(&fresh),
        "regenerate with: mmsleak synth captures --seed 1"
    );
    for (a, b) in committed.iter().zip(&fresh) {
        assert!(
            std::fs::read(a).unwrap() == std::fs::read(b).unwrap(),
            "{} differs from the generator's output: regenerate with mmsleak synth captures --seed 1",
            a.display()
        );
    }
}

#[test]
fn every_sample_scans_to_its_answer_key() {
    for capture in committed_files() {
        let name = capture.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".answers.json") {
            continue;
        }
        let out = Command::new(env!("CARGO_BIN_EXE_mmsleak"))
            .current_dir(samples())
            .args(["scan", "--format", "json", "--quiet", &name])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{name}");
        let got: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let key: serde_json::Value = serde_json::from_slice(
            &std::fs::read(samples().join(format!("{name}.answers.json"))).unwrap(),
        )
        .unwrap();
        for field in [
            "schema",
            "tool",
            "inputs",
            "summary",
            "transfers",
            "messages",
            "findings",
        ] {
            assert_eq!(
                got[field], key[field],
                "{name}: {field} differs from the answer key"
            );
        }
        assert_eq!(got, key, "{name}: the report is not exactly its answer key");
    }
}

#[test]
fn quick_start_scans_the_sample_folder() {
    let out = Command::new(env!("CARGO_BIN_EXE_mmsleak"))
        .args(["scan", "--quiet"])
        .arg(samples())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("15 input(s)"), "{text}");
    for rule in mmsleak::audit::RULES {
        assert!(text.contains(rule.id), "{} missing from the table", rule.id);
    }
}
