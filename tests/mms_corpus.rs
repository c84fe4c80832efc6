#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Decodes every PDU of the reference corpus (not part of the repository): run with
//! `cargo test --test mms_corpus -- --ignored --nocapture`.

use mmsleak::proto::mms::{DecodeContext, decode, encode, looks_like_mms};
use std::path::Path;

#[test]
#[ignore = "needs /work/shared/corpus (reference material outside the repository)"]
fn decodes_every_corpus_pdu() {
    let root = Path::new("/work/shared/corpus/mms-pdu");
    let mut files = Vec::new();
    for dir in std::fs::read_dir(root).unwrap() {
        for f in std::fs::read_dir(dir.unwrap().path()).unwrap() {
            files.push(f.unwrap().path());
        }
    }
    files.sort();
    let ctx = DecodeContext::default();
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(path).unwrap();
        let must_fail = name.contains("garbage") || name.contains("UnparsableResp");
        match decode(&bytes, &ctx) {
            Ok(pdu) => {
                println!(
                    "OK   {name}: {} tid={:?} v={:?} from={:?} to={:?} subj={:?} parts={} issues={:?}",
                    pdu.message_type_name(),
                    pdu.transaction_id(),
                    pdu.mms_version(),
                    pdu.from(),
                    pdu.to(),
                    pdu.subject(),
                    pdu.parts().len(),
                    pdu.issues
                );
                for p in pdu.parts() {
                    println!(
                        "       part {} {} name={:?} cid={:?} loc={:?} size={} te={:?}",
                        p.index,
                        p.content_type,
                        p.name,
                        p.content_id,
                        p.content_location,
                        p.size,
                        p.transfer_encoding
                    );
                }
                assert!(looks_like_mms(&bytes), "{name}: sniff");
                if must_fail {
                    failures.push(format!("{name}: decoded but must fail"));
                }
                // Re-encoding what was decoded must decode to the same headers.
                if let Ok(again) = encode(&pdu) {
                    let back = decode(&again, &ctx).unwrap();
                    if back.headers.len() != pdu.headers.len() {
                        println!(
                            "     re-encode differs: {} vs {} headers",
                            back.headers.len(),
                            pdu.headers.len()
                        );
                    }
                }
            }
            Err(e) => {
                println!("ERR  {name}: {e}");
                assert!(!looks_like_mms(&bytes) || !must_fail);
                if !must_fail {
                    failures.push(format!("{name}: {e}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
