//! The mixed benchmark capture (`mmsleak synth --size-mb N`): about N megabytes of traffic in
//! many interleaved flows, ~95% background (TLS to web sites, plain HTTP pages, DNS) and ~5% MMS
//! over every carrier (WSP push and retrieval, WTP sessions, HTTP, TLS and WTLS to the MMSC,
//! GTP-U, IP fragments).
//!
//! Each session is generated on its own (a few frames to a few hundred KB), then sessions are
//! merged by time with a bounded pool of concurrent ones and written straight to the file: the
//! capture is never held in memory. There is no answer key; the sidecar
//! `<file>.counts.json` holds the number of MMS PDUs put on the wire by message type, and
//! `<file>.README` says so.

use super::lab::Lab;
use super::scenarios::{self, Cast};
use super::tlsgen::TlsVersion;
use super::{GeneratedCapture, Rng, web};
use crate::capture::{PcapWriter, linktype};
use crate::time::Timestamp;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::fs::File;
use std::io::{self, BufWriter};
use std::net::SocketAddr;
use std::path::Path;

/// Sessions in flight at once.
const POOL: usize = 48;
/// Share of MMS bytes aimed at.
const MMS_SHARE: f64 = 0.05;

struct Session {
    /// (time, bytes) with absolute times.
    frames: VecDeque<(i64, Vec<u8>)>,
    mms: bool,
}

const WEB_HOSTS: &[&str] = &[
    "www.example.com",
    "www.example.org",
    "news.example.net",
    "shop.example.com",
    "cdn.example.org",
    "api.example.net",
];

const WORDS: &[&str] = &[
    "lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "ut",
    "labore",
    "et",
    "dolore",
    "magna",
    "aliqua",
];

fn page(rng: &mut Rng, len: usize) -> Vec<u8> {
    let mut s = String::from("<!DOCTYPE html><html><head><title>Example</title></head><body><p>");
    while s.len() < len {
        s.push_str(rng.pick(WORDS).copied().unwrap_or("x"));
        s.push(' ');
        if rng.chance(5) {
            s.push_str("</p><p>");
        }
    }
    s.push_str("</p></body></html>\n");
    s.into_bytes()
}

/// A DNS query for `name` and its answer (RFC 1035 §4.1).
fn dns(lab: &mut Lab, cast: &mut Cast, name: &str) -> io::Result<()> {
    let client = SocketAddr::new(cast.handset_ip(), cast.port());
    let resolver = SocketAddr::new(cast.server_ip(), 53);
    let id = lab.rng.below(65_536) as u16;
    let mut q = Vec::new();
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.extend_from_slice(&[0, 0, 1, 0, 1]);
    lab.udp(client, resolver, &q)?;
    lab.wait_ms(5, 60);
    let mut a = q.clone();
    if let Some(flags) = a.get_mut(2..4) {
        flags.copy_from_slice(&[0x81, 0x80]);
    }
    if let Some(an) = a.get_mut(6..8) {
        an.copy_from_slice(&[0, 1]);
    }
    a.extend_from_slice(&[0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0x0E, 0x10, 0, 4, 192, 0, 2]);
    a.push(lab.rng.range(1, 254) as u8);
    lab.udp(resolver, client, &a)?;
    Ok(())
}

/// A plain HTTP page fetch.
fn http_page(lab: &mut Lab, cast: &mut Cast, host: &str) -> io::Result<()> {
    let client = SocketAddr::new(cast.handset_ip(), cast.port());
    let server = SocketAddr::new(cast.other_ip(), 80);
    let mut s = web::open(lab, client, server, true)?;
    let path = format!("/{}.html", lab.rng.token(8, b"abcdefghijklmnopqrstuvwxyz"));
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: ExampleBrowser/1.0\r\nAccept: text/html\r\n\r\n"
    );
    web::send(lab, &mut s, true, req.as_bytes())?;
    let len = lab.rng.range(2_000, 60_000) as usize;
    let body = page(&mut lab.rng, len);
    let mut resp = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    resp.extend(body);
    web::send(lab, &mut s, false, &resp)?;
    web::close(lab, &mut s)?;
    Ok(())
}

fn background(lab: &mut Lab, cast: &mut Cast) -> io::Result<()> {
    let host = lab
        .rng
        .pick(WEB_HOSTS)
        .copied()
        .unwrap_or("www.example.com");
    match lab.rng.below(10) {
        0..=2 => dns(lab, cast, host),
        3..=5 => http_page(lab, cast, host),
        _ => {
            let c = SocketAddr::new(cast.handset_ip(), cast.port());
            let s = SocketAddr::new(cast.other_ip(), 443);
            let n = lab.rng.range(4, 40) as usize;
            web::tls_session(lab, c, s, host, TlsVersion::Tls13, n, false).map(|_| ())
        }
    }
}

fn mms(lab: &mut Lab, cast: &mut Cast, kind: u64) -> io::Result<()> {
    match kind % 8 {
        0 => scenarios::wap_push(lab, cast),
        1 => scenarios::wtp_upload(lab, cast),
        2 => web::http_mmsc_exchanges(lab, cast).map(|_| ()),
        3 => web::push_then_http(lab, cast),
        4 => web::tls_mmsc(lab, cast),
        5 => scenarios::wtls(lab, cast),
        6 => scenarios::gtp_u(lab, cast),
        _ => scenarios::ip_fragments(lab, cast),
    }
}

/// Generates one session and rebases its frames to start at `start_ns`.
fn session(
    rng: &mut Rng,
    start_ns: i64,
    want_mms: bool,
    counter: u64,
    counts: &mut BTreeMap<String, u64>,
) -> io::Result<Session> {
    let mut lab = Lab::new(rng.next_u64(), 6);
    lab.keyed = false;
    let mut cast = Cast::new(&mut lab.rng.fork(3));
    if want_mms {
        mms(&mut lab, &mut cast, counter)?;
    } else {
        background(&mut lab, &mut cast)?;
    }
    for (k, v) in &lab.pdu_counts {
        *counts.entry(k.clone()).or_insert(0) += v;
    }
    let frames = lab.take_frames();
    let base = frames.first().map_or(0, |(t, _)| *t);
    Ok(Session {
        frames: frames
            .into_iter()
            .map(|(t, d)| (start_ns + (t - base) / 1_000 * 1_000, d))
            .collect(),
        mms: want_mms,
    })
}

/// Writes `mixed-<mb>mb.pcap` with its counts sidecar and README line.
pub fn write_mixed(outdir: &Path, seed: u64, mb: u64) -> io::Result<GeneratedCapture> {
    let name = format!("mixed-{mb}mb.pcap");
    let path = outdir.join(&name);
    let target = mb.saturating_mul(1_000_000);
    let mut rng = Rng::new(seed ^ 0x6D69_7865_6400_0000);
    let mut now = super::lab::start_time_ns(&mut rng);
    let file = BufWriter::with_capacity(1 << 20, File::create(&path)?);
    let mut w = PcapWriter::new(file, linktype::ETHERNET, 262_144, false)?;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let (mut written, mut mms_bytes, mut bg_bytes, mut packets) = (24u64, 0u64, 0u64, 0u64);
    let mut pool: Vec<Option<Session>> = Vec::with_capacity(POOL);
    let mut heap: BinaryHeap<Reverse<(i64, usize)>> = BinaryHeap::new();
    // Bytes of the sessions generated so far, by kind: they decide the next session's kind.
    let (mut planned_mms, mut planned_bg) = (0u64, 0u64);
    let mut mms_made = 0u64;
    let mut start_session =
        |rng: &mut Rng, now: i64, counts: &mut BTreeMap<String, u64>| -> io::Result<Session> {
            let total = (planned_mms + planned_bg).max(1) as f64;
            let want_mms = (planned_mms as f64) < MMS_SHARE * total;
            if want_mms {
                mms_made += 1;
            }
            let start = now + rng.range(0, 50_000) as i64 * 1_000;
            let s = session(rng, start, want_mms, mms_made, counts)?;
            let size: u64 = s.frames.iter().map(|(_, d)| d.len() as u64 + 16).sum();
            if want_mms {
                planned_mms += size;
            } else {
                planned_bg += size;
            }
            Ok(s)
        };

    for slot in 0..POOL {
        let s = start_session(&mut rng, now, &mut counts)?;
        if let Some((t, _)) = s.frames.front() {
            heap.push(Reverse((*t, slot)));
        }
        pool.push(Some(s));
    }
    while let Some(Reverse((_, slot))) = heap.pop() {
        let Some(Some(s)) = pool.get_mut(slot) else {
            continue;
        };
        let Some((t, data)) = s.frames.pop_front() else {
            continue;
        };
        now = now.max(t);
        let ts = Timestamp::new(
            t.div_euclid(1_000_000_000),
            t.rem_euclid(1_000_000_000) as u32,
            6,
        );
        w.write_packet(&ts, data.len() as u32, &data)?;
        packets += 1;
        let n = data.len() as u64 + 16;
        written += n;
        if s.mms {
            mms_bytes += n;
        } else {
            bg_bytes += n;
        }
        if let Some((next, _)) = s.frames.front() {
            heap.push(Reverse((*next, slot)));
        } else if written < target {
            let s = start_session(&mut rng, now, &mut counts)?;
            if let Some((t, _)) = s.frames.front() {
                heap.push(Reverse((*t, slot)));
            }
            if let Some(p) = pool.get_mut(slot) {
                *p = Some(s);
            }
        } else if let Some(p) = pool.get_mut(slot) {
            *p = None;
        }
    }
    w.into_inner()?;

    let counts_path = outdir.join(format!("{name}.counts.json"));
    let total: u64 = counts.values().sum();
    let body = serde_json::json!({
        "file": name,
        "seed": seed,
        "packets": packets,
        "mms_bytes": mms_bytes,
        "background_bytes": bg_bytes,
        "mms_pdus_total": total,
        "mms_pdus": counts,
    });
    std::fs::write(
        &counts_path,
        serde_json::to_string_pretty(&body).map_err(io::Error::other)? + "\n",
    )?;
    let readme = outdir.join(format!("{name}.README"));
    std::fs::write(
        &readme,
        format!(
            "{name}: benchmark capture (seed {seed}, ~{mb} MB, ~95% background, ~5% MMS over every \
             carrier). It has no answer key; {name}.counts.json counts the MMS PDUs put on the \
             wire by message type.\n"
        ),
    )?;
    Ok(GeneratedCapture {
        scenario: "mixed".into(),
        capture: path,
        answers: None,
        extra: vec![counts_path, readme],
        packets,
    })
}
