//! docs/report.schema.json describes exactly what the report model serialises: realistic reports
//! built in code validate, broken ones do not.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod report_support;

use mmsleak::audit::engine::{AuditConfig, audit};
use mmsleak::report::model::*;
use report_support::schema::{assert_valid_jsonl, assert_valid_report, report_errors};
use report_support::*;
use serde_json::{Value, json};

#[test]
fn schema_is_a_valid_draft_2020_12_document() {
    let s = schema::schema();
    assert!(jsonschema::draft202012::meta::is_valid(&s));
    assert_eq!(s["properties"]["schema"]["const"], SCHEMA);
}

#[test]
fn full_report_validates() {
    let (report, _) = full_report();
    assert_valid_report(&serde_json::to_value(&report).unwrap());
}

#[test]
fn empty_report_validates() {
    assert_valid_report(&serde_json::to_value(empty_report()).unwrap());
}

#[test]
fn findings_from_the_real_audit_engine_validate() {
    let (mut report, records) = full_report();
    let findings = audit(&records, &AuditConfig::default());
    assert!(findings.len() >= 8, "{findings:#?}");
    let rules: std::collections::BTreeSet<&str> = findings.iter().map(|f| f.rule).collect();
    for r in [
        "cleartext-mms",
        "subscriber-id-header",
        "credentials",
        "session-token",
        "personal-data",
        "location-metadata",
        "contact-card",
        "bcc-disclosed",
        "forwarded-message",
        "weak-encryption",
    ] {
        assert!(rules.contains(r), "rule {r} did not fire: {rules:?}");
    }
    report.findings = findings;
    report.summary.findings = SeverityCounts::default();
    for f in &report.findings {
        report.summary.findings.add(f.severity);
    }
    assert_valid_report(&serde_json::to_value(&report).unwrap());
}

#[test]
fn every_optional_field_empty_validates() {
    let (mut report, _) = full_report();
    for t in &mut report.transfers {
        t.tunnel = None;
        t.sni = None;
        t.tls_version = None;
        t.request = None;
        t.response = None;
        for p in &mut t.pdus {
            *p = pdu(p.frame, p.direction, &p.message_type);
            p.mms_version = None;
        }
    }
    for m in &mut report.messages {
        m.message_id = None;
        m.content_location = None;
        m.transaction_ids.clear();
    }
    for f in &mut report.findings {
        f.transfer = None;
        f.message = None;
        f.frames.clear();
        f.evidence.clear();
    }
    assert_valid_report(&serde_json::to_value(&report).unwrap());
}

#[test]
fn ipv6_endpoints_and_extracted_parts_validate() {
    let (mut report, _) = full_report();
    report.transfers[0].client = ep("2001:db8::1", 1);
    report.transfers[0].pdus[0].parts[0].extracted_to = Some("T1-0-0-pres.smil".into());
    report.transfers[0].pdus[0].parts[0].name = Some("<script>\u{202e}".into());
    let v = serde_json::to_value(&report).unwrap();
    assert_valid_report(&v);
}

#[test]
fn added_fields_are_allowed() {
    let (report, _) = full_report();
    let mut v = serde_json::to_value(&report).unwrap();
    v["transfers"][0]["pdus"][0]["subject_b64"] = json!("AAEC");
    v["summary"]["new_counter"] = json!(3);
    assert_valid_report(&v);
}

#[test]
fn jsonl_output_validates() {
    let (report, _) = full_report();
    let mut out = Vec::new();
    mmsleak::report::jsonl::write(&mut out, &report).unwrap();
    assert_valid_jsonl(&String::from_utf8(out).unwrap());
}

fn invalid(mut f: impl FnMut(&mut Value)) -> Vec<String> {
    let (report, _) = full_report();
    let mut v = serde_json::to_value(&report).unwrap();
    f(&mut v);
    report_errors(&v)
}

#[test]
fn broken_reports_fail() {
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "missing schema",
            invalid(|v| {
                v.as_object_mut().unwrap().remove("schema");
            }),
        ),
        (
            "other version",
            invalid(|v| v["schema"] = json!("mmsleak.report/2")),
        ),
        (
            "bad severity",
            invalid(|v| v["findings"][0]["severity"] = json!("severe")),
        ),
        (
            "bad category",
            invalid(|v| v["findings"][0]["category"] = json!("leak")),
        ),
        (
            "unknown rule",
            invalid(|v| v["findings"][0]["rule"] = json!("made-up")),
        ),
        (
            "bad transport",
            invalid(|v| v["transfers"][0]["transport"] = json!("ftp")),
        ),
        (
            "bad direction",
            invalid(|v| v["transfers"][0]["pdus"][0]["direction"] = json!("up")),
        ),
        (
            "bad layer",
            invalid(|v| v["inputs"][0]["diagnostics"][0]["layer"] = json!("disk")),
        ),
        (
            "bad format",
            invalid(|v| v["inputs"][0]["format"] = json!("erf")),
        ),
        (
            "frame zero",
            invalid(|v| v["transfers"][0]["first_frame"] = json!(0)),
        ),
        (
            "port too big",
            invalid(|v| v["transfers"][0]["client"]["port"] = json!(70000)),
        ),
        (
            "ip not an address",
            invalid(|v| v["transfers"][0]["client"]["ip"] = json!("mmsc")),
        ),
        (
            "sha256 not hex",
            invalid(|v| v["transfers"][0]["pdus"][0]["parts"][0]["sha256"] = json!("xyz")),
        ),
        (
            "header not a pair",
            invalid(|v| v["transfers"][0]["request"]["headers"][0] = json!(["Host"])),
        ),
        (
            "to not a list",
            invalid(|v| v["transfers"][0]["pdus"][0]["to"] = json!("+15550102")),
        ),
        ("null tool", invalid(|v| v["tool"] = Value::Null)),
        (
            "time not RFC 3339",
            invalid(|v| v["transfers"][0]["start"] = json!("yesterday")),
        ),
        (
            "missing findings",
            invalid(|v| {
                v.as_object_mut().unwrap().remove("findings");
            }),
        ),
        (
            "negative count",
            invalid(|v| v["summary"]["findings"]["high"] = json!(-1)),
        ),
        (
            "evidence not an object",
            invalid(|v| v["findings"][0]["evidence"] = json!([1])),
        ),
    ];
    for (what, errors) in cases {
        assert!(!errors.is_empty(), "{what}: the schema accepted it");
    }
}

#[test]
fn the_example_in_docs_validates() {
    let doc = include_str!("../docs/report.md");
    let start = doc.find("```json\n").expect("a json example") + "```json\n".len();
    let len = doc[start..].find("```").unwrap();
    let example: Value =
        serde_json::from_str(&doc[start..start + len]).expect("the example parses");
    assert_valid_report(&example);
}
