//! `mmsleak inspect` on a capture and on a raw MMS PDU, through the real binary.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::mmsleak;
use mmsleak::proto::mms::{MessageType, MmsField, MmsPdu, MmsValue, encode};
use mmsleak::proto::wsp::encoding::EncodedString;
use std::path::Path;

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("captures")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn inspect_a_capture_field_by_field() {
    let out = mmsleak(&["inspect", &sample("wtp-segmented-upload.pcap")]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "T1 wtp",
        "request POST",
        "MMS m-send-req (frame 11, to-server)",
        "X-Mms-Message-Type: m-send-req",
        "Content-Type: application/vnd.wap.multipart.related",
        "Part 4: text/x-vCard",
        "MMS m-send-conf (frame 12, to-client)",
        "X-Mms-Response-Status: Ok",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    let out = mmsleak(&[
        "inspect",
        "--format",
        "json",
        &sample("wtp-segmented-upload.pcap"),
    ]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let t = &v["transfers"][0];
    assert_eq!(t["transfer"]["transport"], "wtp");
    assert_eq!(
        t["pdus"][0][0],
        serde_json::json!(["X-Mms-Message-Type", "m-send-req"])
    );
}

#[test]
fn inspect_a_raw_pdu_and_reject_garbage() {
    let dir = tempfile::tempdir().unwrap();
    let pdu = encode(
        &MmsPdu::new(MessageType::NOTIFICATION_IND)
            .with(
                MmsField::TransactionId,
                MmsValue::Text {
                    text: EncodedString::plain("T-77"),
                },
            )
            .with(
                MmsField::ContentLocation,
                MmsValue::Text {
                    text: EncodedString::plain("http://mmsc.example.com/m/77"),
                },
            ),
    )
    .unwrap();
    let path = dir.path().join("note.mms");
    std::fs::write(&path, &pdu).unwrap();
    let out = mmsleak(&["inspect", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("MMS m-notification-ind"), "{text}");
    assert!(text.contains("X-Mms-Content-Location: http://mmsc.example.com/m/77"));

    let garbage = dir.path().join("garbage.mms");
    std::fs::write(&garbage, b"This is not an MMS PDU").unwrap();
    let out = mmsleak(&["inspect", garbage.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an MMS PDU"));
}
