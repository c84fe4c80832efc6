//! The man page in docs/ is generated from the command-line definitions and kept in step with
//! them; shell completions come out of the binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use clap::CommandFactory;

fn man_page() -> Vec<u8> {
    let mut out = Vec::new();
    clap_mangen::Man::new(mmsleak::cli::Cli::command())
        .render(&mut out)
        .unwrap();
    // Subcommands, each as its own section of the same page.
    for sub in mmsleak::cli::Cli::command().get_subcommands() {
        let name: &'static str = Box::leak(format!("mmsleak-{}", sub.get_name()).into_boxed_str());
        clap_mangen::Man::new(sub.clone().name(name))
            .render(&mut out)
            .unwrap();
    }
    out
}

#[test]
fn man_page_is_up_to_date() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/mmsleak.1");
    let fresh = man_page();
    if std::env::var_os("MMSLEAK_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "docs/mmsleak.1 is stale: run MMSLEAK_UPDATE_DOCS=1 cargo test --test cli_docs"
    );
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = common::mmsleak(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("scan") && text.contains("format"), "{shell}");
    }
    assert_eq!(
        common::mmsleak(&["completions", "tcsh"]).status.code(),
        Some(2)
    );
}

#[test]
fn rules_catalog_in_both_forms() {
    let out = common::mmsleak(&["rules", "--json"]);
    let rules: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rules.as_array().unwrap().len(), 15);
    assert_eq!(rules[0]["id"], "cleartext-mms");
    assert_eq!(rules[0]["category"], "interception");
    assert!(rules[0]["remediation"].as_str().unwrap().len() > 40);
    let out = common::mmsleak(&["rules"]);
    let text = String::from_utf8(out.stdout).unwrap();
    for id in ["cleartext-mms", "session-token", "bcc-disclosed"] {
        assert!(text.contains(id), "{id}");
    }
    assert!(text.lines().all(|l| l.chars().count() <= 80));
}
