//! `--redact`: after redaction not one personal value of the capture, in any common spelling,
//! is left anywhere in the report, and one value keeps one pseudonym throughout.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod report_support;

use mmsleak::audit::engine::{AuditConfig, audit};
use mmsleak::report::model::*;
use mmsleak::report::redact::{WITHHELD, key_from_passphrase, random_key, redact};
use report_support::schema::assert_valid_report;
use report_support::*;
use serde_json::json;

const KEY: &[u8] = b"instructor's lab key";

/// The fixture with the real audit's findings (secrets shown, the worst case) and a few more
/// places where personal data hides.
fn leaky_report() -> Report {
    let (mut report, records) = full_report();
    let config = AuditConfig {
        show_secrets: true,
        ..AuditConfig::default()
    };
    let mut findings = audit(&records, &config);
    // Hand-made findings with evidence shapes the engine also produces.
    let (fixture, _) = full_report();
    findings.extend(fixture.findings);
    report.findings = findings;

    let t1 = &mut report.transfers[0];
    let req = t1.request.as_mut().unwrap();
    req.uri =
        "http://bob:hunter2pw@mmsc.example.com/mms?sid=AbCdEf123456&msisdn=15550101&x=1".into();
    req.headers
        .push(("X-Up-Calling-Line-ID".into(), "15550101".into()));
    req.headers
        .push(("From".into(), "carol@example.com".into()));
    req.headers.push((
        "Referer".into(),
        "http://mmsc.example.com/inbox?access_token=Tok3nValue99".into(),
    ));
    t1.pdus[0].parts[1].name = Some("notes for jane doe.txt".into());
    t1.pdus[0].parts[3].extracted_to = Some("T1-0-3-jane.vcf".into());
    t1.pdus[0].headers.insert(
        "X-Mms-Element-Descriptor".into(),
        "call +1 (555) 0101-".into(),
    );

    let t3 = &mut report.transfers[2];
    t3.pdus[0].headers.insert(
        "X-Mms-Previously-Sent-By".into(),
        "1: +1-555-0104/TYPE=PLMN".into(),
    );
    t3.pdus[0].message_id = Some("+15550101-20240501".into());
    report.inputs[0].diagnostics.push(DiagnosticReport {
        frame: Some(9),
        offset: None,
        layer: "http",
        message: "odd header value 'dave@example.net' from 555-0103".into(),
    });
    report.findings.push(Finding {
        id: "F99".into(),
        rule: "credentials",
        category: Category::Exposure,
        severity: Severity::Critical,
        transfer: Some("T1".into()),
        message: None,
        frames: vec![4],
        title: "credentials of +1 555 0101 (alice) readable".into(),
        evidence: json!({"credentials": [
            {"side": "request", "header": "url", "scheme": "url-userinfo", "user": "bob", "password": "hunter2pw"},
            {"side": "request", "header": "authorization", "scheme": "bearer", "token": "eyJhbGciOiJIUzI1NiJ9"},
            {"side": "request", "header": "proxy-authorization", "scheme": "digest", "user": "+15550101", "realm": "mms.example.com"}]})
        .as_object()
        .cloned()
        .unwrap(),
        remediation: "",
    });
    report
}

/// Every spelling of every personal value in `leaky_report`.
fn originals() -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for n in ["0101", "0102", "0103", "0104", "0134", "0142"] {
        for spelling in [
            format!("+1555{n}"),
            format!("1555{n}"),
            format!("555{n}"),
            format!("555-{n}"),
            format!("555 {n}"),
            format!("555.{n}"),
            format!("(555) {n}"),
            format!("+1-555-{n}"),
            format!("+1 555 {n}"),
        ] {
            v.push(spelling);
        }
    }
    for s in [
        "carol@example.com",
        "carol@",
        "bob.smith@example.org",
        "bob.smith",
        "jane@example.com",
        "jane",
        "doe",
        "dave@example.net",
        "dave@",
        "001010123456789",
        "490154203237518",
        "49015420323751",
        "alice",
        "s3cret",
        "YWxpY2U6czNjcmV0",
        "hunter2pw",
        ":bob",
        "bob:",
        "\"bob\"",
        "Zq8RkT2mWx",
        "QwErTy987654",
        "AbCdEf123456",
        "Tok3nValue99",
        "eyJhbGciOiJIUzI1NiJ9",
        "48.858",
        "48.85837",
        "2.2944",
        "2.294481",
        "Dinner",
        "Photos",
    ] {
        v.push(s.to_owned());
    }
    v
}

#[test]
fn no_personal_value_survives() {
    let before = serde_json::to_string(&leaky_report())
        .unwrap()
        .to_lowercase();
    let originals = originals();
    // The fixture really does carry them (so the test proves something).
    let present: Vec<&String> = originals
        .iter()
        .filter(|o| before.contains(&o.to_lowercase()))
        .collect();
    assert!(
        present.len() >= 40,
        "fixture lacks values: only {}",
        present.len()
    );

    let mut report = leaky_report();
    redact(&mut report, KEY);
    let after = serde_json::to_string_pretty(&report).unwrap();
    let lower = after.to_lowercase();
    let leaks: Vec<&String> = originals
        .iter()
        .filter(|o| lower.contains(&o.to_lowercase()))
        .collect();
    assert!(leaks.is_empty(), "left after redaction: {leaks:?}\n{after}");
    assert_valid_report(&serde_json::to_value(&report).unwrap());

    // The HTML of a redacted report is clean too.
    let page = mmsleak::report::html::render(&report, None).to_lowercase();
    let leaks: Vec<&String> = originals
        .iter()
        .filter(|o| page.contains(&o.to_lowercase()))
        .collect();
    assert!(leaks.is_empty(), "left in HTML: {leaks:?}");
}

#[test]
fn one_value_one_pseudonym() {
    let mut report = leaky_report();
    redact(&mut report, KEY);
    let t = &report.transfers;
    let msisdn = t[0]
        .request
        .as_ref()
        .unwrap()
        .headers
        .iter()
        .find(|(n, _)| n == "X-MSISDN")
        .unwrap()
        .1
        .clone();
    assert!(msisdn.starts_with("phone:"), "{msisdn}");
    let calling = t[0]
        .request
        .as_ref()
        .unwrap()
        .headers
        .iter()
        .find(|(n, _)| n == "X-Up-Calling-Line-ID")
        .unwrap()
        .1
        .clone();
    assert_eq!(calling, msisdn);
    assert_eq!(t[1].pdus[0].from.as_deref(), Some(msisdn.as_str()));
    assert_eq!(t[2].pdus[0].from.as_deref(), Some(msisdn.as_str()));
    assert!(
        t[0].request
            .as_ref()
            .unwrap()
            .uri
            .contains(&format!("msisdn={msisdn}"))
    );
    let ev = serde_json::to_string(&report.findings).unwrap();
    assert!(
        ev.contains(&format!("\"value\":\"{msisdn}\"")),
        "subscriber-id evidence"
    );
    assert!(
        ev.contains(&format!("\"user\":\"{msisdn}\"")),
        "digest user"
    );
    let f99 = report.findings.iter().find(|f| f.id == "F99").unwrap();
    assert!(f99.title.contains(&msisdn), "{}", f99.title);

    // +1-555-0102 in m-send-req `to`, +15550102 in m-retrieve-conf `to` and in evidence.
    let p2 = t[0].pdus[0].to[0].clone();
    assert!(p2.starts_with("phone:") && p2 != msisdn);
    assert_eq!(t[2].pdus[0].to[0], p2);
    assert!(ev.contains(&format!("\"{p2}\"")));

    // Subscriber ids keep their kind.
    let h = &t[0].request.as_ref().unwrap().headers;
    assert!(
        h.iter()
            .any(|(n, v)| n == "X-IMSI" && v.starts_with("imsi:"))
    );
    assert!(
        h.iter()
            .any(|(n, v)| n == "X-IMEI" && v.starts_with("imei:"))
    );

    // The e-mail address in a header and in a PDU address: one pseudonym.
    let carol = h.iter().find(|(n, _)| n == "From").unwrap().1.clone();
    assert!(carol.starts_with("email:"));
    assert_eq!(t[0].pdus[0].to[1], carol);

    // Same key, same pseudonyms; another key, others.
    let mut again = leaky_report();
    redact(&mut again, KEY);
    assert_eq!(
        serde_json::to_string(&again).unwrap(),
        serde_json::to_string(&report).unwrap()
    );
    let mut other = leaky_report();
    redact(&mut other, &random_key());
    assert_ne!(
        other.transfers[1].pdus[0].from,
        report.transfers[1].pdus[0].from
    );
    assert_eq!(key_from_passphrase("lab"), key_from_passphrase("lab"));
    assert_ne!(random_key(), random_key());
}

#[test]
fn withheld_and_rounded() {
    let mut report = leaky_report();
    redact(&mut report, KEY);
    assert_eq!(
        report.transfers[0].pdus[0].subject.as_deref(),
        Some(WITHHELD)
    );
    assert_eq!(
        report.transfers[1].pdus[0].subject.as_deref(),
        Some(WITHHELD)
    );
    let loc = report
        .findings
        .iter()
        .find(|f| f.rule == "location-metadata")
        .unwrap();
    assert_eq!(loc.evidence["latitude"], json!(48.86));
    assert_eq!(loc.evidence["longitude"], json!(2.29));
    assert!(loc.title.contains("48.86, 2.29"), "{}", loc.title);
    let card = report
        .findings
        .iter()
        .find(|f| f.rule == "contact-card")
        .unwrap();
    assert!(
        card.evidence["names"][0]
            .as_str()
            .unwrap()
            .starts_with("name:")
    );
    // What is not personal stays readable for the auditor.
    let t1 = &report.transfers[0];
    assert_eq!(t1.pdus[0].message_type, "m-send-req");
    assert_eq!(t1.client.ip.to_string(), "192.0.2.10");
    assert!(t1.request.as_ref().unwrap().uri.starts_with("http://user:"));
    assert!(
        t1.request
            .as_ref()
            .unwrap()
            .uri
            .contains("@mmsc.example.com/mms?sid=token:")
    );
    assert_eq!(
        report.transfers[1].pdus[0].content_location.as_deref(),
        Some("http://mmsc.example.com/get/7")
    );
    assert_eq!(
        report.transfers[2].pdus[0].date.as_deref(),
        Some("2024-05-01T10:00:04Z")
    );
    assert_eq!(report.transfers[3].sni.as_deref(), Some("mmsc.example.com"));
    let prev = &report.transfers[2].pdus[0].headers["X-Mms-Previously-Sent-By"];
    assert!(prev.starts_with("1: phone:"), "{prev}");
    assert_eq!(
        report.transfers[2].pdus[0].headers["X-Mms-Previously-Sent-Date"],
        "2024-04-30T08:00:00Z"
    );
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.title.contains("X-IMEI, X-IMSI, X-MSISDN"))
    );
}

#[test]
fn masked_secrets_stay_masked() {
    let (mut report, records) = full_report();
    report.findings = audit(&records, &AuditConfig::default());
    redact(&mut report, KEY);
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains("<masked: 6 characters>"), "{json}");
    assert!(!json.contains("s3cret") && !json.contains("YWxpY2U6czNjcmV0"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Arbitrary capture text anywhere: redaction terminates without panicking, and a phone
    /// number embedded in it does not survive.
    #[test]
    fn arbitrary_text_never_panics(a in ".{0,80}", b in ".{0,80}", n in 100u32..199) {
        let (mut report, _) = full_report();
        let number = format!("+1-555-0{n}");
        let text = format!("{a} {number} {b}");
        report.findings[0].title = text.clone();
        report.findings[0].evidence.insert(a.clone(), json!([text.clone(), {"user": b.clone()}]));
        report.transfers[0].request.as_mut().unwrap().headers.push((a.clone(), text.clone()));
        report.transfers[0].request.as_mut().unwrap().uri = format!("http://{a}@{b}/?token={b}x&{text}");
        report.transfers[0].pdus[0].headers.insert(b.clone(), text.clone());
        report.transfers[0].pdus[0].to.push(text.clone());
        report.inputs[0].diagnostics[0].message = text.clone();
        redact(&mut report, KEY);
        let digits = format!("15550{n}");
        let title_digits: String = report.findings[0].title.chars().filter(char::is_ascii_digit).collect();
        proptest::prop_assert!(!title_digits.contains(&digits) || a.contains(&digits[1..]) || b.contains(&digits[1..]),
            "{}", report.findings[0].title);
    }
}
