#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Properties of the capture reader: it never panics and always ends, whatever the bytes; files
//! made by the writers read back exactly; damage costs only the records it touches.

use mmsleak::Timestamp;
use mmsleak::capture::{
    ByteOrder, CaptureReader, PcapWriter, PcapngWriter, ReaderOptions, Record, TsResolution,
};
use proptest::prelude::*;
use std::io::Cursor;

const T0: i64 = 1_700_000_000;

/// Small windows and caps so that refills, growth and the caps are all exercised.
fn small_options() -> ReaderOptions {
    ReaderOptions {
        buffer_size: 64,
        max_record_len: 2048,
        max_diagnostics: 50,
        max_resync_scan: 1 << 20,
        max_interfaces: 8,
    }
}

/// Reads everything, checking the invariants every reader run must keep.
fn read_checked(bytes: Vec<u8>, options: ReaderOptions) -> Option<Vec<Record>> {
    let input_len = bytes.len();
    let mut reader =
        CaptureReader::from_read_with("prop", Box::new(Cursor::new(bytes)), options).ok()?;
    let mut diags = Vec::new();
    let mut records: Vec<Record> = Vec::new();
    while let Some(record) = reader.next_record(&mut diags) {
        if let Some(last) = records.last() {
            assert!(record.frame > last.frame, "frame numbers increase");
            assert!(record.offset > last.offset, "offsets increase");
        }
        assert!(record.data.len() <= input_len);
        assert!(record.data.len() <= options.max_record_len);
        records.push(record);
        assert!(records.len() <= input_len, "more records than bytes");
    }
    assert!(reader.frames() >= records.len() as u64);
    assert!(diags.len() <= options.max_diagnostics + 1);
    Some(records)
}

#[derive(Debug, Clone)]
struct Packet {
    secs: i64,
    nanos: u32,
    data: Vec<u8>,
}

fn packets() -> impl Strategy<Value = Vec<Packet>> {
    prop::collection::vec(
        (
            0i64..3,
            0u32..1_000_000_000,
            prop::collection::vec(any::<u8>(), 1..300),
        ),
        0..12,
    )
    .prop_map(|items| {
        let mut secs = T0;
        items
            .into_iter()
            .map(|(step, nanos, data)| {
                secs += step;
                Packet { secs, nanos, data }
            })
            .collect()
    })
}

#[derive(Debug, Clone, Copy)]
enum Layout {
    Pcap {
        nanos: bool,
        order: ByteOrder,
    },
    Pcapng {
        order: ByteOrder,
        tsresol: TsResolution,
    },
}

fn layouts() -> impl Strategy<Value = Layout> {
    let order = prop_oneof![Just(ByteOrder::Little), Just(ByteOrder::Big)];
    prop_oneof![
        (any::<bool>(), order.clone()).prop_map(|(nanos, order)| Layout::Pcap { nanos, order }),
        (
            order,
            prop_oneof![
                Just(TsResolution::MICROS),
                Just(TsResolution::NANOS),
                Just(TsResolution::Pow10(3)),
                Just(TsResolution::Pow2(24)),
            ]
        )
            .prop_map(|(order, tsresol)| Layout::Pcapng { order, tsresol }),
    ]
}

/// Writes the packets; returns the file, the offset where records start, and the timestamps the
/// reader should give back.
fn write(layout: Layout, packets: &[Packet]) -> (Vec<u8>, usize, Vec<Timestamp>) {
    match layout {
        Layout::Pcap { nanos, order } => {
            let mut w = PcapWriter::with_byte_order(Vec::new(), 1, 65535, nanos, order).unwrap();
            let resolution = if nanos {
                TsResolution::NANOS
            } else {
                TsResolution::MICROS
            };
            let mut times = Vec::new();
            for p in packets {
                let ts = Timestamp::new(p.secs, p.nanos, 9);
                w.write_packet(&ts, p.data.len() as u32, &p.data).unwrap();
                times.push(resolution.to_timestamp(resolution.to_ticks(&ts).unwrap(), 0));
            }
            (w.into_inner().unwrap(), 24, times)
        }
        Layout::Pcapng { order, tsresol } => {
            let mut w = PcapngWriter::with_byte_order(Vec::new(), order).unwrap();
            w.add_interface(1, 0, tsresol).unwrap();
            let start = 28
                + if tsresol == TsResolution::MICROS {
                    20
                } else {
                    32
                };
            let mut times = Vec::new();
            for p in packets {
                let ts = Timestamp::new(p.secs, p.nanos, 9);
                w.write_packet(0, &ts, p.data.len() as u32, &p.data)
                    .unwrap();
                times.push(tsresol.to_timestamp(tsresol.to_ticks(&ts).unwrap(), 0));
            }
            (w.into_inner().unwrap(), start, times)
        }
    }
}

const PCAP_LE: [u8; 24] = [
    0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
];
const PCAP_BE_NANOS: [u8; 24] = [
    0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 101,
];
const PCAPNG_LE: [u8; 48] = [
    0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0, // SHB
    1, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0, // IDB, Ethernet
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn never_panics_on_arbitrary_bytes(
        prefix in 0usize..4,
        body in prop::collection::vec(any::<u8>(), 0..3000),
    ) {
        let mut bytes = match prefix {
            0 => Vec::new(),
            1 => PCAP_LE.to_vec(),
            2 => PCAP_BE_NANOS.to_vec(),
            _ => PCAPNG_LE.to_vec(),
        };
        bytes.extend(body);
        let _ = read_checked(bytes.clone(), small_options());
        let _ = read_checked(bytes, ReaderOptions::default());
    }

    #[test]
    fn written_files_read_back_exactly(layout in layouts(), packets in packets()) {
        let (bytes, _, times) = write(layout, &packets);
        let records = read_checked(bytes, small_options()).unwrap();
        prop_assert_eq!(records.len(), packets.len());
        for (i, (record, packet)) in records.iter().zip(&packets).enumerate() {
            prop_assert_eq!(record.frame, i as u64 + 1);
            prop_assert_eq!(&record.data, &packet.data);
            prop_assert_eq!(record.orig_len as usize, packet.data.len());
            prop_assert_eq!(record.ts, times[i]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn corruption_never_panics(
        layout in layouts(),
        packets in packets(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<Option<prop::sample::Index>>(),
    ) {
        let (mut bytes, start, _) = write(layout, &packets);
        if bytes.len() > start {
            for (at, value) in edits {
                let at = start + at.index(bytes.len() - start);
                bytes[at] = value;
            }
        }
        if let Some(cut) = cut {
            let keep = cut.index(bytes.len() + 1);
            bytes.truncate(keep);
        }
        let _ = read_checked(bytes.clone(), small_options());
        let _ = read_checked(bytes, ReaderOptions::default());
    }

    /// One damaged 32-bit word after the file header costs at most three records.
    #[test]
    fn one_damaged_word_costs_few_records(
        layout in layouts(),
        packets in packets(),
        at in any::<prop::sample::Index>(),
        word in any::<u32>(),
    ) {
        let (mut bytes, start, _) = write(layout, &packets);
        if bytes.len() < start + 4 {
            return Ok(());
        }
        let at = start + at.index(bytes.len() - start - 3);
        bytes[at..at + 4].copy_from_slice(&word.to_le_bytes());
        let records = read_checked(bytes, ReaderOptions::default()).unwrap();
        let intact = records
            .iter()
            .filter(|r| packets.iter().any(|p| p.data == r.data))
            .count();
        prop_assert!(intact + 3 >= packets.len(), "{} of {} intact", intact, packets.len());
    }
}

#[test]
fn gzip_garbage_never_panics() {
    // A gzip header followed by junk, and a valid gzip stream of junk.
    let mut junk = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    junk.extend((0..500u32).map(|i| (i * 7919 % 251) as u8));
    let _ = read_checked(junk, small_options());
}
