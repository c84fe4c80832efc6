//! `--carve FILE`: writes only the packets of the reported transfers' flows to a new capture, with
//! their original bytes, timestamps and link types, so the evidence can be shared without the rest
//! of the traffic. The report's frame numbers stay those of the inputs.

use crate::capture::{
    self, ByteOrder, CaptureReader, InputSpec, PcapWriter, PcapngWriter, ReaderOptions,
    TsResolution,
};
use crate::packet::{PacketDecoder, Transport};
use crate::report::model::Report;
use std::collections::{BTreeMap, HashSet};
use std::io::{self, BufWriter};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CarveStats {
    pub packets: u64,
    pub bytes: u64,
}

/// A flow as carving matches it: both endpoints in a fixed order, and TCP or UDP.
type FlowEnds = (SocketAddr, SocketAddr, bool);

fn ends(a: SocketAddr, b: SocketAddr, tcp: bool) -> FlowEnds {
    if a <= b { (a, b, tcp) } else { (b, a, tcp) }
}

/// Frame numbers of one input that belong to the given flows (with the other fragments of
/// reassembled datagrams).
fn frames_of(path: &Path, flows: &HashSet<FlowEnds>) -> io::Result<HashSet<u64>> {
    let mut reader = CaptureReader::open(path).map_err(io::Error::other)?;
    let mut decoder = PacketDecoder::default();
    let mut diags = Vec::new();
    let mut keep = HashSet::new();
    while let Some(rec) = reader.next_record(&mut diags) {
        let Some(p) = decoder.decode(&rec, &mut diags) else {
            continue;
        };
        let key = match &p.transport {
            Transport::Tcp(t) => ends(
                SocketAddr::new(p.src, t.src_port),
                SocketAddr::new(p.dst, t.dst_port),
                true,
            ),
            Transport::Udp(u) => ends(
                SocketAddr::new(p.src, u.src_port),
                SocketAddr::new(p.dst, u.dst_port),
                false,
            ),
            Transport::Other { .. } => continue,
        };
        if flows.contains(&key) {
            keep.insert(p.frame);
            keep.extend(p.fragment_frames.iter().copied());
        }
        diags.clear();
    }
    Ok(keep)
}

/// Writes the packets of every transfer in `report` read from `inputs` to `out`: a classic pcap
/// (nanosecond) when they share one link type, else a pcapng with one interface per link type.
pub fn carve(inputs: &[PathBuf], report: &Report, out: &Path) -> io::Result<CarveStats> {
    let specs = capture::expand_inputs(inputs).map_err(io::Error::other)?;
    let mut selected: Vec<(PathBuf, HashSet<u64>)> = Vec::new();
    for spec in &specs {
        let InputSpec::File(path) = spec else {
            return Err(io::Error::other(
                "--carve needs capture files, not standard input",
            ));
        };
        let name = spec.display_name();
        let flows: HashSet<FlowEnds> = report
            .transfers
            .iter()
            .filter(|t| t.input == name)
            .map(|t| {
                let ip = |e: &crate::report::model::Endpoint| SocketAddr::new(e.ip, e.port);
                ends(
                    ip(&t.client),
                    ip(&t.server),
                    matches!(t.transport, "http" | "tls"),
                )
            })
            .collect();
        if flows.is_empty() {
            continue;
        }
        let frames = frames_of(path, &flows)?;
        selected.push((path.clone(), frames));
    }

    // First pass over the kept records: which link types are there?
    let mut link_types: BTreeMap<u32, ()> = BTreeMap::new();
    for (path, frames) in &selected {
        let mut reader =
            CaptureReader::open_with(path, ReaderOptions::default()).map_err(io::Error::other)?;
        let mut diags = Vec::new();
        while let Some(rec) = reader.next_record(&mut diags) {
            if frames.contains(&rec.frame) {
                link_types.insert(rec.link_type, ());
            }
            diags.clear();
        }
    }
    let file = BufWriter::new(std::fs::File::create(out)?);
    let mut stats = CarveStats::default();
    let single = link_types.len() <= 1;
    if single {
        let lt = link_types
            .keys()
            .next()
            .copied()
            .unwrap_or(capture::linktype::ETHERNET);
        let mut w = PcapWriter::with_byte_order(file, lt, 262_144, true, ByteOrder::Little)?;
        for_each_kept(&selected, |rec| {
            stats.packets += 1;
            stats.bytes += rec.data.len() as u64;
            w.write_record(rec)
        })?;
        w.flush()?;
    } else {
        let mut w = PcapngWriter::with_byte_order(file, ByteOrder::Little)?;
        let mut ids = BTreeMap::new();
        for lt in link_types.keys() {
            let id = w.add_interface(
                u16::try_from(*lt).unwrap_or(0),
                262_144,
                TsResolution::NANOS,
            )?;
            ids.insert(*lt, id);
        }
        for_each_kept(&selected, |rec| {
            stats.packets += 1;
            stats.bytes += rec.data.len() as u64;
            let id = ids.get(&rec.link_type).copied().unwrap_or(0);
            w.write_packet(id, &rec.ts, rec.orig_len, &rec.data)
        })?;
        w.flush()?;
    }
    Ok(stats)
}

fn for_each_kept(
    selected: &[(PathBuf, HashSet<u64>)],
    mut write: impl FnMut(&capture::Record) -> io::Result<()>,
) -> io::Result<()> {
    for (path, frames) in selected {
        let mut reader = CaptureReader::open(path).map_err(io::Error::other)?;
        let mut diags = Vec::new();
        while let Some(rec) = reader.next_record(&mut diags) {
            if frames.contains(&rec.frame) {
                write(&rec)?;
            }
            diags.clear();
        }
    }
    Ok(())
}
