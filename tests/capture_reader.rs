#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The capture reader over every format variant and every kind of damage, on files made with the
//! writers or patched by hand.

use flate2::Compression;
use flate2::write::GzEncoder;
use mmsleak::capture::pcapng as ng;
use mmsleak::capture::{
    ByteOrder, CaptureError, CaptureFormat, CaptureReader, PcapWriter, PcapngWriter, ReaderOptions,
    Record, TsResolution, linktype,
};
use mmsleak::{Diagnostic, Layer, Timestamp};
use std::io::{Cursor, Write};

const T0: i64 = 1_700_000_000;

/// An Ethernet + IPv4 + UDP frame from 192.0.2.1 to 198.51.100.2, port 9200, `payload_len`
/// bytes of payload derived from `seed`.
fn frame(seed: u8, payload_len: usize) -> Vec<u8> {
    let mut f = vec![
        0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00, // Ethernet II, IPv4
        0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, // IPv4 header, UDP
        192, 0, 2, 1, 198, 51, 100, 2, // addresses
        0xc0, 0x00, 0x23, 0xf0, 0, 0, 0, 0, // UDP 49152 -> 9200
    ];
    f.extend((0..payload_len).map(|i| seed.wrapping_add((i % 200) as u8)));
    f
}

fn ts(secs_after: i64, nanos: u32, digits: u8) -> Timestamp {
    Timestamp::new(T0 + secs_after, nanos, digits)
}

struct ReadOut {
    records: Vec<Record>,
    diags: Vec<Diagnostic>,
    reader: CaptureReader,
}

fn read_with(bytes: Vec<u8>, options: ReaderOptions) -> ReadOut {
    let mut reader =
        CaptureReader::from_read_with("test", Box::new(Cursor::new(bytes)), options).unwrap();
    let mut records = Vec::new();
    let mut diags = Vec::new();
    while let Some(record) = reader.next_record(&mut diags) {
        records.push(record);
        assert!(records.len() < 100_000, "reader does not terminate");
    }
    // The end is sticky.
    assert!(reader.next_record(&mut diags).is_none());
    ReadOut {
        records,
        diags,
        reader,
    }
}

fn read(bytes: Vec<u8>) -> ReadOut {
    read_with(bytes, ReaderOptions::default())
}

fn frames(records: &[Record]) -> Vec<u64> {
    records.iter().map(|r| r.frame).collect()
}

fn has_diag(diags: &[Diagnostic], frame: Option<u64>, needle: &str) -> bool {
    diags
        .iter()
        .any(|d| d.frame == frame && d.message.contains(needle))
}

/// A pcap of `n` frames one second apart; returns the bytes and each record's header offset.
fn pcap_file(n: usize, nanos: bool, order: ByteOrder) -> (Vec<u8>, Vec<usize>) {
    let mut w =
        PcapWriter::with_byte_order(Vec::new(), linktype::ETHERNET, 1500, nanos, order).unwrap();
    let mut offsets = Vec::new();
    let mut at = 24;
    for i in 0..n {
        let data = frame(i as u8, 20 + i * 7);
        offsets.push(at);
        at += 16 + data.len();
        w.write_packet(&ts(i as i64, 123_456_789, 9), data.len() as u32, &data)
            .unwrap();
    }
    (w.into_inner().unwrap(), offsets)
}

// ------------------------------------------------------------------ classic pcap

#[test]
fn pcap_all_byte_orders_and_resolutions() {
    for order in [ByteOrder::Little, ByteOrder::Big] {
        for nanos in [false, true] {
            let (bytes, offsets) = pcap_file(3, nanos, order);
            let out = read(bytes);
            assert_eq!(out.reader.format(), CaptureFormat::Pcap);
            assert_eq!(out.reader.link_types(), vec![linktype::ETHERNET]);
            assert!(out.diags.is_empty(), "{:?}", out.diags);
            assert_eq!(frames(&out.records), [1, 2, 3]);
            for (i, r) in out.records.iter().enumerate() {
                assert_eq!(r.offset, offsets[i] as u64);
                assert_eq!(r.data, frame(i as u8, 20 + i * 7));
                assert_eq!(r.orig_len as usize, r.data.len());
                assert_eq!(r.link_type, linktype::ETHERNET);
                let expected = if nanos {
                    Timestamp::new(T0 + i as i64, 123_456_789, 9)
                } else {
                    Timestamp::new(T0 + i as i64, 123_456_000, 6)
                };
                assert_eq!(r.ts, expected);
                assert_eq!(r.ts.digits, if nanos { 9 } else { 6 });
            }
        }
    }
}

#[test]
fn pcap_snaplen_cut_is_kept_and_any_snaplen_reads() {
    let mut w = PcapWriter::new(Vec::new(), linktype::RAW, 64, false).unwrap();
    let data = frame(1, 200);
    w.write_packet(&ts(0, 0, 6), data.len() as u32, &data)
        .unwrap();
    let out = read(w.into_inner().unwrap());
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.records[0].data.len(), 64);
    assert_eq!(out.records[0].orig_len as usize, data.len());
    assert!(out.records[0].is_truncated());

    // A snaplen of 0 or 0xffffffff does not stop normal records.
    for snaplen in [0u32, u32::MAX] {
        let mut bytes = pcap_file(2, false, ByteOrder::Little).0;
        bytes[16..20].copy_from_slice(&snaplen.to_le_bytes());
        let out = read(bytes);
        assert_eq!(frames(&out.records), [1, 2]);
        assert!(out.diags.is_empty());
    }
}

#[test]
fn pcap_record_beyond_snaplen_is_accepted_when_a_record_follows() {
    let mut w = PcapWriter::new(Vec::new(), linktype::ETHERNET, 65535, false).unwrap();
    for i in 0..3 {
        let data = frame(i, 100);
        w.write_packet(&ts(i64::from(i), 0, 6), 100, &data).unwrap();
    }
    let mut bytes = w.into_inner().unwrap();
    // Pretend the header said snaplen 64 while the records hold 142 bytes.
    bytes[16..20].copy_from_slice(&64u32.to_le_bytes());
    let out = read(bytes);
    assert_eq!(frames(&out.records), [1, 2, 3]);
    assert_eq!(out.diags.len(), 1, "said once: {:?}", out.diags);
    assert!(out.diags[0].message.contains("exceeds the file's snaplen"));
}

#[test]
fn pcap_absurd_length_resynchronises() {
    let (mut bytes, offsets) = pcap_file(6, false, ByteOrder::Little);
    // Record 3's captured length becomes absurd.
    bytes[offsets[2] + 8..offsets[2] + 12].copy_from_slice(&0xFFFF_FF00u32.to_le_bytes());
    let out = read(bytes);
    assert_eq!(frames(&out.records), [1, 2, 4, 5, 6]);
    for r in &out.records {
        let i = (r.frame - 1) as usize;
        assert_eq!(r.offset, offsets[i] as u64);
        assert_eq!(r.data, frame(i as u8, 20 + i * 7));
    }
    assert_eq!(out.diags.len(), 1, "{:?}", out.diags);
    let d = &out.diags[0];
    assert_eq!(d.layer, Layer::Capture);
    assert_eq!(d.frame, Some(3));
    assert_eq!(d.offset, Some(offsets[2] as u64));
    assert!(d.message.contains("exceeds the limit"), "{}", d.message);
    assert!(
        d.message
            .contains(&format!("next plausible record at offset {}", offsets[3])),
        "{}",
        d.message
    );
}

#[test]
fn pcap_inconsistent_length_within_cap_resynchronises() {
    let (mut bytes, offsets) = pcap_file(6, true, ByteOrder::Big);
    // caplen 5000: under the cap but above snaplen 1500 and orig_len, with no record after it.
    bytes[offsets[1] + 8..offsets[1] + 12].copy_from_slice(&5000u32.to_be_bytes());
    let out = read(bytes);
    assert_eq!(frames(&out.records), [1, 3, 4, 5, 6]);
    assert!(has_diag(&out.diags, Some(2), "inconsistent"));
}

#[test]
fn pcap_garbage_between_records() {
    let (bytes, offsets) = pcap_file(4, false, ByteOrder::Little);
    // 37 bytes of garbage inserted before record 3.
    let mut damaged = bytes[..offsets[2]].to_vec();
    damaged.extend((0..37u8).map(|i| i.wrapping_mul(97) | 0x80));
    damaged.extend_from_slice(&bytes[offsets[2]..]);
    let out = read(damaged);
    // The garbage sits where a record header is expected: it takes frame number 3.
    assert_eq!(frames(&out.records), [1, 2, 4, 5]);
    let data: Vec<Vec<u8>> = out.records.iter().map(|r| r.data.to_vec()).collect();
    assert_eq!(
        data,
        [frame(0, 20), frame(1, 27), frame(2, 34), frame(3, 41)]
    );
    assert_eq!(out.diags.len(), 1, "{:?}", out.diags);
    assert!(has_diag(&out.diags, Some(3), "skipped 37 bytes"));
}

#[test]
fn pcap_damage_at_first_record() {
    let (mut bytes, offsets) = pcap_file(4, false, ByteOrder::Little);
    bytes[24..40].fill(0xff);
    let out = read(bytes);
    assert_eq!(frames(&out.records), [2, 3, 4]);
    assert_eq!(out.records[0].offset, offsets[1] as u64);
    assert_eq!(out.records[0].data, frame(1, 27));
    assert_eq!(out.diags.len(), 1, "{:?}", out.diags);
}

#[test]
fn pcap_truncated_files() {
    let (bytes, offsets) = pcap_file(3, false, ByteOrder::Little);
    // Cut in the middle of record 3's data: its present bytes are still returned.
    let cut = offsets[2] + 16 + 10;
    let out = read(bytes[..cut].to_vec());
    assert_eq!(frames(&out.records), [1, 2, 3]);
    assert_eq!(out.records[2].data, frame(2, 34)[..10].to_vec());
    assert!(out.records[2].is_truncated());
    assert_eq!(out.diags.len(), 1);
    assert_eq!(out.diags[0].frame, Some(3));
    assert_eq!(out.diags[0].offset, Some(offsets[2] as u64));
    assert!(
        out.diags[0].message.contains(&format!(
            "truncated record: 10 of {} bytes present",
            42 + 34
        )),
        "{}",
        out.diags[0].message
    );

    // Cut inside record 3's header.
    let out = read(bytes[..offsets[2] + 5].to_vec());
    assert_eq!(frames(&out.records), [1, 2]);
    assert!(has_diag(
        &out.diags,
        Some(3),
        "truncated record header: 5 of 16 bytes present"
    ));
    assert_eq!(out.reader.frames(), 3);
}

#[test]
fn record_longer_than_the_window_but_under_the_cap() {
    let options = ReaderOptions {
        buffer_size: 4096,
        max_record_len: 200_000,
        ..ReaderOptions::default()
    };
    let mut w = PcapWriter::new(Vec::new(), linktype::ETHERNET, 262_144, true).unwrap();
    let big = frame(9, 150_000);
    w.write_packet(&ts(0, 0, 9), big.len() as u32, &big)
        .unwrap();
    w.write_packet(&ts(1, 0, 9), 60, &frame(1, 18)).unwrap();
    let bytes = w.into_inner().unwrap();
    let out = read_with(bytes.clone(), options);
    assert_eq!(frames(&out.records), [1, 2]);
    assert_eq!(out.records[0].data, big);

    // The same record above a smaller cap is damage; the next record is still found.
    let options = ReaderOptions {
        max_record_len: 100_000,
        ..options
    };
    let out = read_with(bytes, options);
    assert_eq!(frames(&out.records), [2]);
    assert_eq!(out.records[0].data, frame(1, 18));
    assert!(has_diag(&out.diags, Some(1), "exceeds the limit of 100000"));
}

#[test]
fn undecoded_link_type_is_said_once() {
    let mut w = PcapWriter::new(Vec::new(), 105, 65535, false).unwrap();
    for i in 0..3 {
        w.write_packet(&ts(i, 0, 6), 10, &[0; 10]).unwrap();
    }
    let out = read(w.into_inner().unwrap());
    assert_eq!(out.records.len(), 3);
    assert_eq!(out.diags.len(), 1);
    assert!(out.diags[0].message.contains("105 (IEEE802_11)"));
}

// ------------------------------------------------------------------ pcapng

/// Two sections, the first little-endian, the second big-endian, each with two interfaces of
/// different link types and timestamp resolutions.
fn two_section_pcapng(first: ByteOrder, second: ByteOrder) -> (Vec<u8>, Vec<(u32, Timestamp)>) {
    let mut w = PcapngWriter::with_byte_order(Vec::new(), first).unwrap();
    let eth = w
        .add_interface(linktype::ETHERNET as u16, 0, TsResolution::MICROS)
        .unwrap();
    let raw = w
        .add_interface(linktype::RAW as u16, 65535, TsResolution::NANOS)
        .unwrap();
    let mut expected = Vec::new();
    w.write_packet(eth, &ts(0, 111_222_333, 9), 100, &frame(0, 10))
        .unwrap();
    expected.push((linktype::ETHERNET, Timestamp::new(T0, 111_222_000, 6)));
    w.write_packet(raw, &ts(1, 111_222_333, 9), 100, &frame(1, 11)[14..])
        .unwrap();
    expected.push((linktype::RAW, Timestamp::new(T0 + 1, 111_222_333, 9)));

    w.new_section(second).unwrap();
    let sll = w
        .add_interface(linktype::LINUX_SLL as u16, 0, TsResolution::Pow2(20))
        .unwrap();
    let milli = w
        .add_interface(linktype::ETHERNET as u16, 0, TsResolution::Pow10(3))
        .unwrap();
    // 2^-20 s ticks: 0.5 s is exact.
    w.write_packet(sll, &ts(2, 500_000_000, 9), 80, &frame(2, 12))
        .unwrap();
    expected.push((linktype::LINUX_SLL, Timestamp::new(T0 + 2, 500_000_000, 7)));
    w.write_packet(milli, &ts(3, 987_654_321, 9), 80, &frame(3, 13))
        .unwrap();
    expected.push((linktype::ETHERNET, Timestamp::new(T0 + 3, 987_000_000, 3)));
    (w.into_inner().unwrap(), expected)
}

#[test]
fn pcapng_two_sections_two_interfaces_both_byte_orders() {
    for (first, second) in [
        (ByteOrder::Little, ByteOrder::Big),
        (ByteOrder::Big, ByteOrder::Little),
        (ByteOrder::Big, ByteOrder::Big),
    ] {
        let (bytes, expected) = two_section_pcapng(first, second);
        let out = read(bytes);
        assert_eq!(out.reader.format(), CaptureFormat::Pcapng);
        assert!(out.diags.is_empty(), "{:?}", out.diags);
        assert_eq!(frames(&out.records), [1, 2, 3, 4]);
        let got: Vec<(u32, Timestamp)> = out.records.iter().map(|r| (r.link_type, r.ts)).collect();
        assert_eq!(got, expected);
        assert_eq!(out.records[1].data, frame(1, 11)[14..].to_vec());
        assert_eq!(out.records[0].orig_len, 100);
        assert_eq!(
            out.reader.link_types(),
            [linktype::ETHERNET, linktype::RAW, linktype::LINUX_SLL]
        );
    }
}

#[test]
fn pcapng_record_offsets_are_block_starts() {
    let mut w = PcapngWriter::new(Vec::new()).unwrap();
    w.add_interface(1, 0, TsResolution::MICROS).unwrap();
    // SHB 28 bytes, IDB 20 bytes.
    w.write_packet(0, &ts(0, 0, 6), 5, &[1, 2, 3, 4, 5])
        .unwrap();
    w.write_packet(0, &ts(0, 0, 6), 3, &[1, 2, 3]).unwrap();
    let out = read(w.into_inner().unwrap());
    let offsets: Vec<u64> = out.records.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, [48, 48 + 40]);
}

fn spb_body(order: ByteOrder, orig_len: u32, data: &[u8]) -> Vec<u8> {
    let mut body = match order {
        ByteOrder::Little => orig_len.to_le_bytes().to_vec(),
        ByteOrder::Big => orig_len.to_be_bytes().to_vec(),
    };
    body.extend_from_slice(data);
    body
}

#[test]
fn pcapng_simple_packet_blocks() {
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let mut w = PcapngWriter::with_byte_order(Vec::new(), order).unwrap();
        w.add_interface(1, 8, TsResolution::NANOS).unwrap();
        w.write_packet(0, &ts(5, 1, 9), 4, &[9, 9, 9, 9]).unwrap();
        // orig_len 10, but snaplen 8: 8 bytes kept (the block holds 10 + padding).
        w.write_block(ng::SIMPLE_PACKET, &spb_body(order, 10, &[7; 10]))
            .unwrap();
        // orig_len 3: 3 bytes, though the block is padded to 4.
        w.write_block(ng::SIMPLE_PACKET, &spb_body(order, 3, &[1, 2, 3]))
            .unwrap();
        // orig_len 1000 but only 6 bytes in the block.
        w.write_block(ng::SIMPLE_PACKET, &spb_body(order, 1000, &[5; 6]))
            .unwrap();
        let out = read(w.into_inner().unwrap());
        assert!(out.diags.is_empty(), "{:?}", out.diags);
        assert_eq!(frames(&out.records), [1, 2, 3, 4]);
        assert_eq!(out.records[1].data, vec![7; 8]);
        assert_eq!(out.records[1].orig_len, 10);
        assert_eq!(out.records[2].data, vec![1, 2, 3]);
        // The block's room includes its padding (§4.4: min of orig_len, snaplen, room).
        assert_eq!(out.records[3].data, vec![5, 5, 5, 5, 5, 5, 0, 0]);
        assert_eq!(out.records[3].orig_len, 1000);
        // No timestamp of their own: the previous one, at the interface's precision.
        assert_eq!(out.records[3].ts, Timestamp::new(T0 + 5, 1, 9));
    }
}

#[test]
fn pcapng_obsolete_packet_block_and_skipped_blocks() {
    let mut w = PcapngWriter::new(Vec::new()).unwrap();
    w.add_interface(1, 0, TsResolution::MICROS).unwrap();
    w.add_interface(101, 0, TsResolution::Pow10(0)).unwrap();
    // Name resolution, statistics, custom and unknown blocks carry no frames.
    w.write_block(ng::NAME_RESOLUTION, &[0; 4]).unwrap();
    w.write_block(0x1234_5678, b"not a known block").unwrap();
    w.write_block(ng::CUSTOM, &[0, 0, 0x7f, 0xfe, 1, 2, 3])
        .unwrap();
    // Obsolete Packet Block: interface 1 (16 bits), drops 0, ts 42 s (units of 1 s), caplen 4,
    // orig_len 60, data.
    let mut pb = Vec::new();
    pb.extend_from_slice(&1u16.to_le_bytes());
    pb.extend_from_slice(&0u16.to_le_bytes());
    pb.extend_from_slice(&0u32.to_le_bytes());
    pb.extend_from_slice(&(T0 as u32).to_le_bytes());
    pb.extend_from_slice(&4u32.to_le_bytes());
    pb.extend_from_slice(&60u32.to_le_bytes());
    pb.extend_from_slice(&[0x45, 0, 0, 60]);
    w.write_block(ng::PACKET, &pb).unwrap();
    let mut isb = 0u32.to_le_bytes().to_vec();
    isb.extend_from_slice(&[0; 8]);
    w.write_block(ng::INTERFACE_STATISTICS, &isb).unwrap();
    w.write_packet(0, &ts(1, 0, 6), 3, &[1, 2, 3]).unwrap();
    let out = read(w.into_inner().unwrap());
    assert!(out.diags.is_empty(), "{:?}", out.diags);
    assert_eq!(frames(&out.records), [1, 2]);
    assert_eq!(out.records[0].link_type, 101);
    assert_eq!(out.records[0].ts, Timestamp::new(T0, 0, 0));
    assert_eq!(out.records[0].data, vec![0x45, 0, 0, 60]);
    assert_eq!(out.records[0].orig_len, 60);
    assert_eq!(out.records[1].data, vec![1, 2, 3]);
}

#[test]
fn pcapng_unknown_interface_and_short_room() {
    let mut w = PcapngWriter::new(Vec::new()).unwrap();
    w.add_interface(1, 0, TsResolution::MICROS).unwrap();
    w.write_packet(0, &ts(0, 0, 6), 3, &[1, 2, 3]).unwrap();
    let mut bytes = w.into_inner().unwrap();
    let epb_at = 48;
    // A copy of the EPB naming interface 7.
    let mut bad = bytes[epb_at..].to_vec();
    bad[8..12].copy_from_slice(&7u32.to_le_bytes());
    bytes.extend_from_slice(&bad);
    // A copy whose captured length (200) exceeds the room in the block.
    let mut short = bytes[epb_at..epb_at + 36].to_vec();
    short[20..24].copy_from_slice(&200u32.to_le_bytes());
    bytes.extend_from_slice(&short);
    let out = read(bytes);
    assert_eq!(frames(&out.records), [1, 3]);
    assert!(has_diag(&out.diags, Some(2), "interface 7"));
    assert!(has_diag(&out.diags, Some(3), "captured length 200 exceeds"));
    assert_eq!(out.records[1].data, vec![1, 2, 3, 0]);
}

/// A pcapng with `n` Ethernet frames; returns the bytes and each EPB's offset.
fn pcapng_file(n: usize, order: ByteOrder) -> (Vec<u8>, Vec<usize>) {
    let mut w = PcapngWriter::with_byte_order(Vec::new(), order).unwrap();
    w.add_interface(1, 0, TsResolution::MICROS).unwrap();
    let mut offsets = Vec::new();
    let mut at = 48;
    for i in 0..n {
        let data = frame(i as u8, 20 + i * 5);
        offsets.push(at);
        at += 32 + data.len().next_multiple_of(4);
        w.write_packet(0, &ts(i as i64, 0, 6), data.len() as u32, &data)
            .unwrap();
    }
    (w.into_inner().unwrap(), offsets)
}

fn put_u32(bytes: &mut [u8], at: usize, value: u32, order: ByteOrder) {
    let b = match order {
        ByteOrder::Little => value.to_le_bytes(),
        ByteOrder::Big => value.to_be_bytes(),
    };
    bytes[at..at + 4].copy_from_slice(&b);
}

#[test]
fn pcapng_lying_block_lengths_resynchronise() {
    for order in [ByteOrder::Little, ByteOrder::Big] {
        let (clean, offsets) = pcapng_file(8, order);
        let real_len = (offsets[3] - offsets[2]) as u32;
        let cases: [(u32, &str); 5] = [
            (real_len + 2, "not a multiple of 4"),
            (16, "below the minimum of 32"),
            (real_len + 12, "does not match its trailing copy"),
            (real_len - 4, "does not match its trailing copy"),
            (0xFFFF_FFF0, "exceeds the limit"),
        ];
        for (lie, message) in cases {
            let mut bytes = clean.clone();
            put_u32(&mut bytes, offsets[2] + 4, lie, order);
            let out = read(bytes);
            assert_eq!(
                frames(&out.records),
                [1, 2, 4, 5, 6, 7, 8],
                "{lie}: {:?}",
                out.diags
            );
            assert_eq!(out.records[2].offset, offsets[3] as u64);
            assert_eq!(out.records[2].data, frame(3, 35));
            assert_eq!(out.diags.len(), 1, "{lie}: {:?}", out.diags);
            assert_eq!(out.diags[0].frame, Some(3));
            assert_eq!(out.diags[0].offset, Some(offsets[2] as u64));
            assert!(
                out.diags[0].message.contains(message),
                "{lie}: {}",
                out.diags[0].message
            );
            assert!(out.diags[0].message.contains("skipped"));
        }
    }
}

#[test]
fn pcapng_garbage_between_blocks_and_broken_trailer() {
    let (clean, offsets) = pcapng_file(5, ByteOrder::Little);
    let mut bytes = clean[..offsets[1]].to_vec();
    bytes.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03]);
    bytes.extend_from_slice(&clean[offsets[1]..]);
    let out = read(bytes);
    // The garbage is not a packet block: no frame number is spent on it.
    assert_eq!(frames(&out.records), [1, 2, 3, 4, 5]);
    assert_eq!(out.diags.len(), 1, "{:?}", out.diags);
    assert_eq!(out.diags[0].frame, None);

    // A broken trailing length on the last block: that frame is lost, the rest is read.
    let mut bytes = clean.clone();
    let end = bytes.len();
    bytes[end - 4] ^= 0x40;
    let out = read(bytes);
    assert_eq!(frames(&out.records), [1, 2, 3, 4]);
    assert!(has_diag(&out.diags, Some(5), "nothing plausible follows"));
}

#[test]
fn pcapng_truncated_files() {
    let (clean, offsets) = pcapng_file(3, ByteOrder::Big);
    // Inside the last EPB's data: the frame comes back short.
    let cut = offsets[2] + 28 + 12;
    let out = read(clean[..cut].to_vec());
    assert_eq!(frames(&out.records), [1, 2, 3]);
    assert_eq!(out.records[2].data, frame(2, 30)[..12].to_vec());
    let block_len = clean.len() - offsets[2];
    assert!(has_diag(
        &out.diags,
        Some(3),
        &format!("truncated record: 40 of {block_len} bytes present")
    ));
    // Inside the EPB's fixed fields: the frame number is spent, nothing comes back.
    let out = read(clean[..offsets[2] + 14].to_vec());
    assert_eq!(frames(&out.records), [1, 2]);
    assert!(has_diag(&out.diags, Some(3), "truncated record: 14 of"));
    // Inside a block header.
    let out = read(clean[..offsets[2] + 5].to_vec());
    assert_eq!(frames(&out.records), [1, 2]);
    assert!(has_diag(&out.diags, None, "truncated block header: 5 of 8"));
}

#[test]
fn pcapng_bad_interface_options_are_said_not_fatal() {
    let mut w = PcapngWriter::new(Vec::new()).unwrap();
    let mut idb = Vec::new();
    idb.extend_from_slice(&1u16.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&0u32.to_le_bytes());
    idb.extend_from_slice(&9u16.to_le_bytes()); // if_tsresol claiming 40 bytes
    idb.extend_from_slice(&40u16.to_le_bytes());
    idb.extend_from_slice(&[9, 0, 0, 0]);
    w.write_block(ng::INTERFACE_DESCRIPTION, &idb).unwrap();
    let mut epb = Vec::new();
    for v in [0u32, 0, 1_000_000, 1, 1] {
        epb.extend_from_slice(&v.to_le_bytes());
    }
    epb.push(0xaa);
    w.write_block(ng::ENHANCED_PACKET, &epb).unwrap();
    let out = read(w.into_inner().unwrap());
    assert_eq!(out.records.len(), 1);
    assert_eq!(out.records[0].ts, Timestamp::new(1, 0, 6));
    assert!(has_diag(&out.diags, None, "runs past the end"));
}

// ------------------------------------------------------------------ compression, errors, caps

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_is_read_transparently_whatever_the_name() {
    let (bytes, _) = pcapng_file(4, ByteOrder::Little);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("looks-plain.pcapng");
    // Two gzip members, as `cat a.gz b.gz` makes.
    let half = bytes.len() / 2;
    let mut compressed = gzip(&bytes[..half]);
    compressed.extend(gzip(&bytes[half..]));
    std::fs::write(&path, &compressed).unwrap();
    let mut reader = CaptureReader::open(&path).unwrap();
    assert_eq!(reader.name(), path.display().to_string());
    let mut diags = Vec::new();
    let mut n = 0;
    while let Some(r) = reader.next_record(&mut diags) {
        n += 1;
        assert_eq!(
            r.data,
            frame(r.frame as u8 - 1, 20 + (r.frame as usize - 1) * 5)
        );
    }
    assert_eq!(n, 4);
    assert!(diags.is_empty());

    // A cut-off gzip stream: the frames before the cut are read, the cut is a diagnostic.
    let (bytes, _) = pcap_file(50, false, ByteOrder::Little);
    let compressed = gzip(&bytes);
    let out = read(compressed[..compressed.len() * 2 / 3].to_vec());
    assert!(!out.records.is_empty() && out.records.len() < 50);
    assert!(!out.diags.is_empty());
}

#[test]
fn unreadable_inputs_are_errors() {
    let attempt = |bytes: &[u8]| {
        CaptureReader::from_read("x", Box::new(Cursor::new(bytes.to_vec()))).map(|_| ())
    };
    assert!(matches!(
        attempt(b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
        Err(CaptureError::NotACapture { .. })
    ));
    assert!(matches!(attempt(b""), Err(CaptureError::Empty { .. })));
    assert!(matches!(
        attempt(&[0x28, 0xb5, 0x2f, 0xfd, 0, 0]),
        Err(CaptureError::UnsupportedCompression { .. })
    ));
    assert!(matches!(
        attempt(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]),
        Err(CaptureError::TruncatedHeader { .. })
    ));
    assert!(matches!(
        attempt(&[0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 1, 2, 3, 4]),
        Err(CaptureError::BadByteOrderMagic { .. })
    ));
    assert!(matches!(
        attempt(&gzip(b"plain text, not a capture")),
        Err(CaptureError::NotACapture { .. })
    ));
    assert!(matches!(
        CaptureReader::open(std::path::Path::new("/nonexistent/capture.pcap")),
        Err(CaptureError::NotFound { .. })
    ));
    // The header alone is a valid, empty capture.
    let (bytes, _) = pcap_file(0, false, ByteOrder::Little);
    let out = read(bytes);
    assert!(out.records.is_empty() && out.diags.is_empty());
}

#[test]
fn diagnostics_are_capped_then_counted() {
    let mut w = PcapngWriter::new(Vec::new()).unwrap();
    w.add_interface(1, 0, TsResolution::MICROS).unwrap();
    for i in 0..20 {
        // Every frame names a missing interface.
        w.write_packet(0, &ts(i, 0, 6), 1, &[0]).unwrap();
    }
    let mut bytes = w.into_inner().unwrap();
    for i in 0..20 {
        bytes[48 + i * 36 + 8] = 3;
    }
    let options = ReaderOptions {
        max_diagnostics: 5,
        ..ReaderOptions::default()
    };
    let out = read_with(bytes, options);
    assert!(out.records.is_empty());
    assert_eq!(out.reader.frames(), 20);
    assert_eq!(out.diags.len(), 6);
    assert_eq!(out.diags[5].layer, Layer::Limit);
    assert_eq!(out.reader.suppressed_diagnostics(), 15);
}

#[test]
fn resync_scan_is_bounded() {
    let (clean, offsets) = pcap_file(3, false, ByteOrder::Little);
    let mut bytes = clean[..offsets[1]].to_vec();
    bytes.extend_from_slice(&[0xff; 16]); // a header with absurd lengths
    bytes.extend(std::iter::repeat_n(0x5a, 5000));
    bytes.extend_from_slice(&clean[offsets[1]..]);
    let options = ReaderOptions {
        max_resync_scan: 1000,
        ..ReaderOptions::default()
    };
    let out = read_with(bytes.clone(), options);
    assert_eq!(frames(&out.records), [1]);
    assert!(has_diag(
        &out.diags,
        Some(2),
        "nothing plausible within 1000 bytes"
    ));
    // With the default bound the frames after the garbage are found.
    let out = read(bytes);
    assert_eq!(frames(&out.records), [1, 3, 4]);
}

#[test]
fn length_running_past_the_end_with_records_after_it_is_damage() {
    // pcap: record 4's lengths (both) say 60000, which the snaplen allows, but record 5 follows.
    let (mut bytes, offsets) = pcap_file(5, false, ByteOrder::Little);
    bytes[16..20].copy_from_slice(&65535u32.to_le_bytes());
    bytes[offsets[3] + 8..offsets[3] + 16].copy_from_slice(&[0x60, 0xea, 0, 0, 0x60, 0xea, 0, 0]);
    let out = read(bytes);
    assert_eq!(frames(&out.records), [1, 2, 3, 5]);
    assert_eq!(out.records[3].data, frame(4, 48));
    assert!(has_diag(&out.diags, Some(4), "runs past the end of input"));

    // pcapng: EPB 4's length says 4000; EPB 5 lies inside those bytes.
    let (mut bytes, offsets) = pcapng_file(5, ByteOrder::Little);
    put_u32(&mut bytes, offsets[3] + 4, 4000, ByteOrder::Little);
    let out = read(bytes);
    assert_eq!(frames(&out.records), [1, 2, 3, 5]);
    assert_eq!(out.records[3].offset, offsets[4] as u64);
    assert!(has_diag(&out.diags, Some(4), "runs past the end of input"));
}

#[test]
fn resync_through_long_candidate_lengths_stays_linear() {
    // Garbage in which every 12th byte starts an enhanced-packet-looking header claiming nearly the
    // cap (with a trailing length that never matches): each candidate needs a long look-ahead,
    // which must not cost a long copy per byte.
    let options = ReaderOptions {
        buffer_size: 64 << 10,
        max_record_len: 1 << 20,
        ..ReaderOptions::default()
    };
    let (clean, offsets) = pcapng_file(3, ByteOrder::Little);
    let mut bytes = clean[..offsets[1]].to_vec();
    let claimed: u32 = 983_044; // (claimed - 4) is a multiple of 12: the "trailer" is a type
    for _ in 0..(2 << 20) / 12 {
        bytes.extend_from_slice(&[6, 0, 0, 0]);
        bytes.extend_from_slice(&claimed.to_le_bytes());
        bytes.extend_from_slice(&[0xee; 4]);
    }
    bytes.extend_from_slice(&clean[offsets[1]..]);
    let started = std::time::Instant::now();
    let out = read_with(bytes, options);
    assert_eq!(frames(&out.records), [1, 3, 4]);
    assert_eq!(out.diags.len(), 1, "{:?}", out.diags);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn reader_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<CaptureReader>();
    assert_send::<Record>();
}

#[test]
fn batches_cover_every_record_once() {
    let (bytes, _) = pcap_file(10, false, ByteOrder::Little);
    let mut reader = CaptureReader::from_read("b", Box::new(Cursor::new(bytes))).unwrap();
    let mut diags = Vec::new();
    let mut sizes = Vec::new();
    let mut all = Vec::new();
    loop {
        let batch = reader.read_batch(4, 1 << 20, &mut diags);
        if batch.is_empty() {
            break;
        }
        sizes.push(batch.len());
        all.extend(batch.into_iter().map(|r| r.frame));
    }
    assert_eq!(sizes, [4, 4, 2]);
    assert_eq!(all, (1..=10).collect::<Vec<u64>>());
    // A byte budget smaller than one record still makes progress.
    let (bytes, _) = pcap_file(3, false, ByteOrder::Little);
    let mut reader = CaptureReader::from_read("b", Box::new(Cursor::new(bytes))).unwrap();
    assert_eq!(reader.read_batch(100, 1, &mut diags).len(), 1);
}
