#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Reads the captures of the shared reference corpus (not part of the repository) and prints what
//! the reader sees, for comparison with `capinfos`:
//!
//! ```text
//! MMSLEAK_CORPUS=/work/shared/corpus/pcap cargo test --test capture_corpus -- --ignored --nocapture
//! ```

use mmsleak::capture::{CaptureReader, expand_inputs};
use std::path::PathBuf;

#[test]
#[ignore = "needs the reference corpus"]
fn read_reference_captures() {
    let dir =
        PathBuf::from(std::env::var("MMSLEAK_CORPUS").unwrap_or("/work/shared/corpus/pcap".into()));
    for input in expand_inputs(&[dir]).unwrap() {
        let name = input.display_name();
        let mut reader = input.open(Default::default()).unwrap();
        let mut diags = Vec::new();
        let (mut records, mut first, mut last) = (0u64, None, None);
        while let Some(record) = reader.next_record(&mut diags) {
            records += 1;
            first.get_or_insert(record.ts);
            last = Some(record.ts);
        }
        println!(
            "{name}: {} link types {:?}, {records} records, {} frames, first {:?} last {:?}, {} diagnostics",
            reader.format().as_str(),
            reader.link_types(),
            reader.frames(),
            first.map(|t| t.to_string()),
            last.map(|t| t.to_string()),
            diags.len()
        );
        for d in diags {
            println!("  {d}");
        }
        let _: &CaptureReader = &reader;
    }
}
