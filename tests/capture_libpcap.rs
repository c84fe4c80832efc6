#![cfg(feature = "libpcap")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! BPF filtering of records read from a file (feature `libpcap`).

use mmsleak::Timestamp;
use mmsleak::capture::libpcap::BpfFilter;
use mmsleak::capture::{CaptureReader, PcapngWriter, TsResolution, linktype};
use std::io::Cursor;

/// IPv4 + UDP from 192.0.2.1 to 203.0.113.5, destination port `port`.
fn ipv4_udp(port: u16) -> Vec<u8> {
    let mut p = vec![
        0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 203, 0, 113, 5, 0xc0, 0x00,
    ];
    p.extend_from_slice(&port.to_be_bytes());
    p.extend_from_slice(&[0, 8, 0, 0]);
    p
}

#[test]
fn filter_applies_per_interface_link_type() {
    let mut w = PcapngWriter::new(Vec::new()).unwrap();
    let eth = w
        .add_interface(linktype::ETHERNET as u16, 0, TsResolution::MICROS)
        .unwrap();
    let raw = w
        .add_interface(linktype::RAW as u16, 0, TsResolution::MICROS)
        .unwrap();
    let ts = Timestamp::new(1_700_000_000, 0, 6);
    for (port, on_ethernet) in [(9200, true), (80, true), (9200, false), (53, false)] {
        let mut data = Vec::new();
        if on_ethernet {
            data.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
        }
        data.extend(ipv4_udp(port));
        let interface = if on_ethernet { eth } else { raw };
        w.write_packet(interface, &ts, data.len() as u32, &data)
            .unwrap();
    }
    let bytes = w.into_inner().unwrap();
    let mut reader = CaptureReader::from_read("f", Box::new(Cursor::new(bytes))).unwrap();
    let mut filter = BpfFilter::new("udp dst port 9200").unwrap();
    let mut diags = Vec::new();
    let mut kept = Vec::new();
    while let Some(record) = reader.next_record(&mut diags) {
        if filter.matches(&record, &mut diags) {
            kept.push(record.frame);
        }
    }
    assert_eq!(kept, [1, 3]);
    assert!(diags.is_empty(), "{diags:?}");
    assert_eq!(filter.expression(), "udp dst port 9200");
}

#[test]
fn bad_expression_is_an_error() {
    let error = BpfFilter::new("tcp port http port").unwrap_err();
    assert!(error.to_string().contains("filter"));
}
