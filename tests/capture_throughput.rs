#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Read throughput on a large generated capture (ignored by default; run in release):
//!
//! ```text
//! MMSLEAK_THROUGHPUT_DIR=/tmp cargo test --release --test capture_throughput -- --ignored --nocapture
//! ```
//!
//! Writes `mmsleak-throughput.pcap` and `.pcapng` (about 300 MB each) into the folder when they
//! are not there yet, then times a plain read loop over each.

use mmsleak::Timestamp;
use mmsleak::capture::{CaptureReader, PcapWriter, PcapngWriter, TsResolution, linktype};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::time::Instant;

const TARGET_BYTES: u64 = 300_000_000;

/// Frame sizes cycling through small, medium and full-size Ethernet frames.
const SIZES: &[usize] = &[60, 1514, 590, 1514, 98, 1200, 1514, 74];

fn frame(i: u64, len: usize) -> Vec<u8> {
    let mut f = vec![
        0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00, // Ethernet II, IPv4
        0x45, 0, 0, 0, 0, 0, 0, 0, 64, 6, 0, 0, 192, 0, 2, 1, 198, 51, 100, 2,
    ];
    f.resize(len, (i % 251) as u8);
    f
}

fn generate(path: &Path, pcapng: bool) {
    if path.exists() {
        return;
    }
    let out = BufWriter::with_capacity(1 << 20, File::create(path).unwrap());
    let mut written = 0u64;
    let mut i = 0u64;
    if pcapng {
        let mut w = PcapngWriter::new(out).unwrap();
        w.add_interface(linktype::ETHERNET as u16, 0, TsResolution::NANOS)
            .unwrap();
        while written < TARGET_BYTES {
            let len = SIZES[(i % SIZES.len() as u64) as usize];
            let ts = Timestamp::new(1_700_000_000 + (i / 1000) as i64, (i % 1000) as u32, 9);
            w.write_packet(0, &ts, len as u32, &frame(i, len)).unwrap();
            written += 32 + len.next_multiple_of(4) as u64;
            i += 1;
        }
        w.into_inner().unwrap();
    } else {
        let mut w = PcapWriter::new(out, linktype::ETHERNET, 65535, false).unwrap();
        while written < TARGET_BYTES {
            let len = SIZES[(i % SIZES.len() as u64) as usize];
            let ts = Timestamp::new(1_700_000_000 + (i / 1000) as i64, 0, 6);
            w.write_packet(&ts, len as u32, &frame(i, len)).unwrap();
            written += 16 + len as u64;
            i += 1;
        }
        w.into_inner().unwrap();
    }
}

fn time_read(path: &Path) {
    let size = std::fs::metadata(path).unwrap().len();
    let started = Instant::now();
    let mut reader = CaptureReader::open(path).unwrap();
    let mut diags = Vec::new();
    let (mut records, mut bytes) = (0u64, 0u64);
    while let Some(record) = reader.next_record(&mut diags) {
        records += 1;
        bytes += record.data.len() as u64;
    }
    let elapsed = started.elapsed().as_secs_f64();
    assert!(diags.is_empty(), "{diags:?}");
    println!(
        "{}: {size} bytes, {records} records ({bytes} data bytes) in {elapsed:.3} s = {:.0} MB/s",
        path.display(),
        size as f64 / elapsed / 1e6
    );
}

#[test]
#[ignore = "writes ~600 MB; run by hand in release"]
fn read_throughput() {
    let dir = PathBuf::from(std::env::var("MMSLEAK_THROUGHPUT_DIR").unwrap_or("/tmp".into()));
    for (name, pcapng) in [
        ("mmsleak-throughput.pcap", false),
        ("mmsleak-throughput.pcapng", true),
    ] {
        let path = dir.join(name);
        generate(&path, pcapng);
        // Twice: the first run may warm the page cache.
        time_read(&path);
        time_read(&path);
    }
}
