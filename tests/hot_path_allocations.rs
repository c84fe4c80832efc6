//! Traffic that cannot be MMS costs no allocation per packet: once a flow is known to be
//! something else (web TLS, an HTTP download whose head shows no MMS type, DNS and other UDP),
//! its packets go from the capture reader through decoding, the flow table and the protocol
//! dispatcher (the path every shard runs) without touching the allocator. Allocations are
//! counted on this thread only, so tests running beside it do not disturb the count.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use mmsleak::Timestamp;
use mmsleak::capture::{CaptureReader, PcapWriter, linktype};
use mmsleak::flow::{FlowConfig, FlowKey, FlowTable};
use mmsleak::packet::{Decoded, decode_record};
use mmsleak::proto::dispatch::{Dispatcher, ProtoConfig};
use mmsleak::synth::Rng;
use mmsleak::synth::net::{Link, PROTO_UDP, TcpSession, frame, ip, udp};
use mmsleak::synth::tlsgen::{TlsVersion, app_data, client_hello, server_hello};
use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr};

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// IP packets of three background flows, interleaved: web TLS (handshake, then application
/// data both ways), an HTTP/1.1 download of an HTML page (head, then body segments), and DNS
/// queries and answers on one pair of ports; and how many of them are the warm-up (the flows'
/// openings and `warm` packets of each kind), after which every flow's kind is known.
fn background(warm: usize, steady: usize) -> (Vec<Vec<u8>>, usize) {
    let mut rng = Rng::new(7);
    let client = v4(192, 0, 2, 10);

    let mut tls = TcpSession::new((client, 50_000), (v4(203, 0, 113, 5), 443), 1_000, 9_000);
    let mut tls_packets = tls.handshake();
    let hello = client_hello(&mut rng, "www.example.com", TlsVersion::Tls13, &["h2"]);
    tls_packets.extend(tls.send(true, &hello));
    let answer = server_hello(&mut rng, TlsVersion::Tls13, Some("h2"));
    tls_packets.extend(tls.send(false, &answer));

    let mut http = TcpSession::new((client, 50_001), (v4(198, 51, 100, 7), 80), 5_000, 77_000);
    let mut http_packets = http.handshake();
    http_packets.extend(http.send(
        true,
        b"GET /index.html HTTP/1.1\r\nHost: www.example.com\r\n\r\n",
    ));
    let body_len = 1_000 * (warm + steady);
    let head =
        format!("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {body_len}\r\n\r\n");
    http_packets.push(http.send_segment(false, head.as_bytes()));

    let query = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x03www\x07example\x03com\x00\x00\x01\x00\x01";
    let resolver = v4(198, 51, 100, 53);
    let dns = |to_resolver: bool, ident: u16| {
        let (src, dst, sport, dport) = if to_resolver {
            (client, resolver, 53_000, 53)
        } else {
            (resolver, client, 53, 53_000)
        };
        ip(
            src,
            dst,
            PROTO_UDP,
            ident,
            &udp(src, dst, sport, dport, query),
        )
    };

    let mut packets: Vec<Vec<u8>> = tls_packets.into_iter().chain(http_packets).collect();
    let mut warm_count = 0;
    let body = vec![b'x'; 1_000];
    for i in 0..warm + steady {
        if i == warm {
            warm_count = packets.len();
        }
        let to_server = i % 2 == 0;
        packets.push(tls.send_segment(to_server, &app_data(&mut rng, TlsVersion::Tls13, 600)));
        packets.push(http.send_segment(false, &body));
        packets.push(dns(to_server, i as u16));
    }
    (packets, warm_count)
}

/// Allocations and bytes allocated while the packets after the warm-up went through the path
/// a shard runs, and how many packets that was.
fn count_steady(config: &ProtoConfig, steady: usize) -> (u64, u64, usize) {
    let (packets, warm_up) = background(200, steady);
    let mut writer = PcapWriter::new(Vec::new(), linktype::ETHERNET, 65_535, false).unwrap();
    for (i, p) in packets.iter().enumerate() {
        let f = frame(Link::Ethernet, p);
        let ts = Timestamp::new(
            1_700_000_000 + (i / 1_000) as i64,
            (i % 1_000) as u32 * 1_000,
            6,
        );
        writer.write_packet(&ts, f.len() as u32, &f).unwrap();
    }
    let capture = writer.into_inner().unwrap();

    let mut reader =
        CaptureReader::from_read("background", Box::new(Cursor::new(capture))).unwrap();
    let mut table = FlowTable::new(FlowConfig::default());
    let mut dispatcher = Dispatcher::new(config);
    let mut diags = Vec::new();
    let mut step = |reader: &mut CaptureReader, diags: &mut Vec<_>| -> bool {
        let Some(record) = reader.next_record(diags) else {
            return false;
        };
        if let Ok(Decoded::Packet(p)) = decode_record(&record) {
            let key = FlowKey::from_packet(&p);
            table.push_keyed(&p, key, &mut dispatcher, diags);
        }
        true
    };
    for _ in 0..warm_up {
        assert!(step(&mut reader, &mut diags));
    }
    let mut read = 0usize;
    let counted = allocation_counter::measure(|| {
        while step(&mut reader, &mut diags) {
            read += 1;
        }
    });
    assert_eq!(read, packets.len() - warm_up);
    assert!(diags.is_empty(), "{diags:?}");
    (counted.count_total, counted.bytes_total, read)
}

#[test]
fn background_packets_are_not_allocated_for() {
    let config = ProtoConfig::default();
    let (count, bytes, packets) = count_steady(&config, 3_000);
    assert_eq!(packets, 9_000);
    // A handful: the reader's first chunks (later ones come back from its pool) and the
    // doublings of the download's list of frames (8 bytes a body segment, up to
    // `max_frames_per_message`). Never the payload: 600 and 1,000 bytes a packet.
    assert!(count <= 16, "{count} allocations for {packets} packets");
    assert!(
        bytes <= 32 * packets as u64,
        "{bytes} bytes allocated for {packets} packets"
    );
    // Ten times the packets: no more than a few more allocations.
    let (more, _, more_packets) = count_steady(&config, 30_000);
    assert_eq!(more_packets, 90_000);
    assert!(
        more <= count + 6,
        "{count} allocations for {packets} packets, {more} for {more_packets}"
    );
}

/// The test above can see a copy: with HTTP bodies of other types kept, the download's bytes
/// are allocated for.
#[test]
fn kept_bodies_show_in_the_count() {
    let mut config = ProtoConfig::default();
    config.http.keep_non_mms_bodies = true;
    let (_, bytes, packets) = count_steady(&config, 3_000);
    assert!(
        bytes > 32 * packets as u64,
        "{bytes} bytes allocated for {packets} packets"
    );
}
