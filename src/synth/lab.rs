//! The capture under construction: a clock, frames with their numbers, link layers and
//! interfaces, an optional GTP-U tunnel, the flows opened, and the answer key.
//!
//! Small scenario captures are kept in memory and written at the end in the scenario's file
//! format; the mixed benchmark capture streams its frames straight to a pcap file.

use super::Rng;
use super::answer::Key;
use super::net::{self, Link, PROTO_UDP};
use crate::capture::{ByteOrder, PcapWriter, PcapngWriter, TsResolution, linktype};
use crate::report::model::InputReport;
use crate::time::Timestamp;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

/// How a capture file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    Pcap {
        nanos: bool,
        big_endian: bool,
        gzip: bool,
    },
    Pcapng {
        nanos: bool,
        big_endian: bool,
    },
}

impl FileFormat {
    pub const PCAP: FileFormat = FileFormat::Pcap {
        nanos: false,
        big_endian: false,
        gzip: false,
    };
    pub const PCAPNG: FileFormat = FileFormat::Pcapng {
        nanos: false,
        big_endian: false,
    };

    /// Fractional digits of the timestamps.
    pub fn digits(self) -> u8 {
        match self {
            FileFormat::Pcap { nanos: true, .. } | FileFormat::Pcapng { nanos: true, .. } => 9,
            _ => 6,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FileFormat::Pcap { .. } => "pcap",
            FileFormat::Pcapng { .. } => "pcapng",
        }
    }
}

/// A GTP-U bearer between an eNodeB and a gateway: packets of `ue` travel uplink.
#[derive(Debug, Clone, Copy)]
pub struct GtpTunnel {
    pub ue: IpAddr,
    pub enb: IpAddr,
    pub sgw: IpAddr,
    pub teid_up: u32,
    pub teid_down: u32,
}

/// One written frame (in memory).
#[derive(Debug, Clone)]
struct Frame {
    ts_ns: i64,
    iface: usize,
    data: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Interface {
    link: Link,
    linktype: u32,
}

/// Where frames go.
enum Sink {
    Memory(Vec<Frame>),
    Stream(PcapWriter<BufWriter<File>>),
}

/// A flow as the flow table keys it: protocol, the two endpoints in canonical order, the VLAN
/// tags and the tunnel endpoints.
type FlowSig = (
    u8,
    (IpAddr, u16),
    (IpAddr, u16),
    Option<(IpAddr, IpAddr)>,
    (u16, u16),
);

/// The capture being generated.
pub struct Lab {
    pub rng: Rng,
    now_ns: i64,
    digits: u8,
    sink: Sink,
    interfaces: Vec<Interface>,
    iface: usize,
    pub tunnel: Option<GtpTunnel>,
    ident: u16,
    flows: BTreeSet<FlowSig>,
    /// The TEID of each tunnelled flow's first packet.
    flow_teids: BTreeMap<FlowSig, u32>,
    /// Time of every frame (kept only with an answer key).
    frame_ns: Vec<i64>,
    frames: u64,
    bytes: u64,
    first_ns: Option<i64>,
    last_ns: Option<i64>,
    last_frame_ns: i64,
    pub key: Key,
    /// MMS PDUs put on the wire, by message type.
    pub pdu_counts: BTreeMap<String, u64>,
    /// False for the mixed capture: no answer key is kept.
    pub keyed: bool,
}

/// A fixed start date derived from the seed: a second in 2024 (never the wall clock).
pub fn start_time_ns(rng: &mut Rng) -> i64 {
    const JAN_2024: i64 = 1_704_067_200;
    let secs = JAN_2024 + rng.below(365 * 86_400) as i64;
    secs * 1_000_000_000
}

impl Lab {
    /// An in-memory capture whose timestamps have `digits` fractional digits.
    pub fn new(seed: u64, digits: u8) -> Self {
        let mut rng = Rng::new(seed);
        let now_ns = start_time_ns(&mut rng);
        Lab {
            rng,
            now_ns,
            digits,
            sink: Sink::Memory(Vec::new()),
            interfaces: vec![Interface {
                link: Link::Ethernet,
                linktype: linktype::ETHERNET,
            }],
            iface: 0,
            tunnel: None,
            ident: 1,
            flows: BTreeSet::new(),
            flow_teids: BTreeMap::new(),
            frame_ns: Vec::new(),
            frames: 0,
            bytes: 0,
            first_ns: None,
            last_ns: None,
            last_frame_ns: now_ns,
            key: Key::default(),
            pdu_counts: BTreeMap::new(),
            keyed: true,
        }
    }

    /// A capture streamed to a little-endian microsecond pcap file on Ethernet, without a key.
    pub fn streaming(seed: u64, path: &Path) -> io::Result<Self> {
        let file = BufWriter::with_capacity(1 << 20, File::create(path)?);
        let writer = PcapWriter::new(file, linktype::ETHERNET, 262_144, false)?;
        let mut lab = Lab::new(seed, 6);
        lab.sink = Sink::Stream(writer);
        lab.keyed = false;
        Ok(lab)
    }

    /// Frames written so far (the number of the last one).
    pub fn frame_count(&self) -> u64 {
        self.frames
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Selects the link layer of the next frames (adding an interface when it is new).
    pub fn use_link(&mut self, link: Link, ipv6: bool) {
        let lt = link.linktype(ipv6);
        let found = self
            .interfaces
            .iter()
            .position(|i| i.link == link && i.linktype == lt);
        self.iface = match found {
            Some(i) => i,
            None => {
                self.interfaces.push(Interface { link, linktype: lt });
                self.interfaces.len() - 1
            }
        };
    }

    /// Replaces the first interface (for a single-link capture on another link type).
    pub fn set_only_link(&mut self, link: Link, ipv6: bool) {
        self.interfaces = vec![Interface {
            link,
            linktype: link.linktype(ipv6),
        }];
        self.iface = 0;
    }

    fn ts_of(&self, ns: i64) -> Timestamp {
        let secs = ns.div_euclid(1_000_000_000);
        let nanos = ns.rem_euclid(1_000_000_000) as u32;
        Timestamp::new(secs, nanos, self.digits)
    }

    /// Time of the last frame written.
    pub fn ts(&self) -> Timestamp {
        self.ts_of(self.last_frame_ns)
    }

    /// Lets `lo..=hi` milliseconds pass.
    pub fn wait_ms(&mut self, lo: u64, hi: u64) {
        let ms = self.rng.range(lo, hi) as i64;
        self.now_ns = self.now_ns.saturating_add(ms * 1_000_000);
    }

    /// Lets `lo..=hi` microseconds pass (whole microseconds; with nanosecond captures a few
    /// nanoseconds are added so the precision shows).
    pub fn wait_us(&mut self, lo: u64, hi: u64) {
        let mut ns = self.rng.range(lo, hi) as i64 * 1_000;
        if self.digits > 6 {
            ns += self.rng.below(1_000) as i64;
        }
        self.now_ns = self.now_ns.saturating_add(ns);
    }

    fn vlan_tags(&self) -> (u16, u16) {
        match self.interfaces.get(self.iface).map(|i| i.link) {
            Some(Link::Vlan(v)) => (v, 0),
            Some(Link::QinQ(o, i)) => (o, i),
            _ => (0, 0),
        }
    }

    fn flow_sig(&self, proto: u8, a: SocketAddr, b: SocketAddr) -> FlowSig {
        let ea = (a.ip(), a.port());
        let eb = (b.ip(), b.port());
        let (lo, hi) = if ea <= eb { (ea, eb) } else { (eb, ea) };
        let tunnel = self.tunnel.map(|t| {
            if t.enb <= t.sgw {
                (t.enb, t.sgw)
            } else {
                (t.sgw, t.enb)
            }
        });
        (proto, lo, hi, tunnel, self.vlan_tags())
    }

    /// The tunnel of a transfer on the flow between `a` and `b` (with the TEID of the flow's
    /// first packet; the handset's side is the outer client).
    pub fn tunnel_report(
        &self,
        proto: u8,
        a: SocketAddr,
        b: SocketAddr,
    ) -> Option<crate::report::model::TunnelReport> {
        let t = self.tunnel?;
        let teid = self.flow_teids.get(&self.flow_sig(proto, a, b)).copied()?;
        Some(crate::report::model::TunnelReport {
            kind: "gtp-u",
            teid,
            outer_client: t.enb,
            outer_server: t.sgw,
        })
    }

    /// Time of frame `n` (1-based).
    pub fn ts_at(&self, n: u64) -> Timestamp {
        let ns = usize::try_from(n.saturating_sub(1))
            .ok()
            .and_then(|i| self.frame_ns.get(i))
            .copied()
            .unwrap_or(self.last_frame_ns);
        self.ts_of(ns)
    }

    /// Notes the flow of a transport packet from `a` to `b` (for the summary's flow count).
    pub fn note_flow(&mut self, proto: u8, a: SocketAddr, b: SocketAddr) {
        let sig = self.flow_sig(proto, a, b);
        if let Some(t) = self.tunnel
            && !self.flow_teids.contains_key(&sig)
        {
            let teid = if a.ip() == t.ue {
                t.teid_up
            } else {
                t.teid_down
            };
            self.flow_teids.insert(sig, teid);
        }
        self.flows.insert(sig);
    }

    /// Flows opened so far.
    pub fn flow_count(&self) -> u64 {
        self.flows.len() as u64
    }

    pub fn next_ident(&mut self) -> u16 {
        self.ident = self.ident.wrapping_add(1);
        self.ident
    }

    /// Writes one IP packet (wrapped in the tunnel when one is set) as the next frame; returns
    /// its number. The clock then moves on by a little.
    pub fn emit(&mut self, ip_packet: &[u8]) -> io::Result<u64> {
        let packet = match self.tunnel {
            Some(t) => {
                let src_is_ue = match ip_packet.first().map(|b| b >> 4) {
                    Some(4) => ip_packet
                        .get(12..16)
                        .and_then(|s| <[u8; 4]>::try_from(s).ok())
                        .is_some_and(|s| IpAddr::from(s) == t.ue),
                    _ => ip_packet
                        .get(8..24)
                        .and_then(|s| <[u8; 16]>::try_from(s).ok())
                        .is_some_and(|s| IpAddr::from(s) == t.ue),
                };
                let (src, dst, teid) = if src_is_ue {
                    (t.enb, t.sgw, t.teid_up)
                } else {
                    (t.sgw, t.enb, t.teid_down)
                };
                let g = net::gtp_u(teid, None, ip_packet);
                let ident = self.next_ident();
                net::ip(
                    src,
                    dst,
                    PROTO_UDP,
                    ident,
                    &net::udp(src, dst, 2152, 2152, &g),
                )
            }
            None => ip_packet.to_vec(),
        };
        let link = self
            .interfaces
            .get(self.iface)
            .map_or(Link::Ethernet, |i| i.link);
        let data = net::frame(link, &packet);
        self.write_frame(data)
    }

    fn write_frame(&mut self, data: Vec<u8>) -> io::Result<u64> {
        let ns = self.now_ns;
        self.frames += 1;
        self.bytes += data.len() as u64;
        self.first_ns = Some(self.first_ns.map_or(ns, |f| f.min(ns)));
        self.last_ns = Some(self.last_ns.map_or(ns, |l| l.max(ns)));
        self.last_frame_ns = ns;
        if self.keyed {
            self.frame_ns.push(ns);
        }
        let ts = self.ts_of(ns);
        match &mut self.sink {
            Sink::Memory(frames) => frames.push(Frame {
                ts_ns: ns,
                iface: self.iface,
                data,
            }),
            Sink::Stream(w) => w.write_packet(&ts, data.len() as u32, &data)?,
        }
        // The next frame comes a little later.
        let gap = self.rng.range(40, 900) as i64 * 1_000
            + if self.digits > 6 {
                self.rng.below(1_000) as i64
            } else {
                0
            };
        self.now_ns = self.now_ns.saturating_add(gap);
        Ok(self.frames)
    }

    /// A UDP datagram from `src` to `dst` as one frame.
    pub fn udp(&mut self, src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> io::Result<u64> {
        self.note_flow(PROTO_UDP, src, dst);
        let ident = self.next_ident();
        let seg = net::udp(src.ip(), dst.ip(), src.port(), dst.port(), payload);
        let p = net::ip(src.ip(), dst.ip(), PROTO_UDP, ident, &seg);
        self.emit(&p)
    }

    /// A UDP datagram cut into IP fragments of at most `max_payload` octets; returns the frames
    /// of the fragments in order (reassembly completes in the last).
    pub fn udp_fragmented(
        &mut self,
        src: SocketAddr,
        dst: SocketAddr,
        payload: &[u8],
        max_payload: usize,
    ) -> io::Result<Vec<u64>> {
        self.note_flow(PROTO_UDP, src, dst);
        let ident = self.next_ident();
        let seg = net::udp(src.ip(), dst.ip(), src.port(), dst.port(), payload);
        let mut p = net::ip(src.ip(), dst.ip(), PROTO_UDP, ident, &seg);
        if let Some(flags) = p.get_mut(6)
            && src.is_ipv4()
        {
            *flags &= !0x40; // may fragment
        }
        let mut frames = Vec::new();
        for f in net::fragment(&p, max_payload, u32::from(ident) | 0x5300_0000) {
            frames.push(self.emit(&f)?);
        }
        Ok(frames)
    }

    /// Link type names of the capture, as reports spell them, in interface order.
    pub fn link_type_names(&self) -> Vec<String> {
        let mut seen: Vec<u32> = Vec::new();
        for i in &self.interfaces {
            if !seen.contains(&i.linktype) {
                seen.push(i.linktype);
            }
        }
        seen.into_iter().map(link_type_name).collect()
    }

    /// The input entry of the answer key, for a file named `name` in the output folder.
    pub fn input_report(&self, name: &str, format: FileFormat) -> InputReport {
        InputReport {
            path: name.to_owned(),
            format: Some(format.name()),
            link_types: self.link_type_names(),
            packets: self.frames,
            bytes: self.bytes,
            first_time: self.first_ns.map(|n| self.ts_of(n).to_rfc3339()),
            last_time: self.last_ns.map(|n| self.ts_of(n).to_rfc3339()),
            duration_secs: match (self.first_ns, self.last_ns) {
                (Some(f), Some(l)) => Some((l - f) as f64 / 1e9),
                _ => None,
            },
            diagnostics: Vec::new(),
            diagnostics_suppressed: 0,
            non_ip_frames: 0,
        }
    }

    /// Writes the in-memory frames to `dir/name` in `format`.
    pub fn write_file(&self, dir: &Path, name: &str, format: FileFormat) -> io::Result<PathBuf> {
        let Sink::Memory(frames) = &self.sink else {
            return Err(io::Error::other("a streamed capture is already written"));
        };
        let path = dir.join(name);
        let out: Vec<u8> = Vec::new();
        let ts = |f: &Frame| self.ts_of(f.ts_ns);
        match format {
            FileFormat::Pcap {
                nanos, big_endian, ..
            } => {
                if self.interfaces.len() != 1 {
                    return Err(io::Error::other("a pcap file has one link type"));
                }
                let lt = self.interfaces.first().map_or(1, |i| i.linktype);
                let order = if big_endian {
                    ByteOrder::Big
                } else {
                    ByteOrder::Little
                };
                let mut w = PcapWriter::with_byte_order(out, lt, 262_144, nanos, order)?;
                for f in frames {
                    w.write_packet(&ts(f), f.data.len() as u32, &f.data)?;
                }
                let bytes = w.into_inner()?;
                if matches!(format, FileFormat::Pcap { gzip: true, .. }) {
                    let mut z =
                        flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                    z.write_all(&bytes)?;
                    std::fs::write(&path, z.finish()?)?;
                } else {
                    std::fs::write(&path, bytes)?;
                }
            }
            FileFormat::Pcapng { nanos, big_endian } => {
                let order = if big_endian {
                    ByteOrder::Big
                } else {
                    ByteOrder::Little
                };
                let mut w = PcapngWriter::with_byte_order(out, order)?;
                let resol = if nanos {
                    TsResolution::NANOS
                } else {
                    TsResolution::MICROS
                };
                for i in &self.interfaces {
                    w.add_interface(i.linktype as u16, 262_144, resol)?;
                }
                for f in frames {
                    w.write_packet(f.iface as u32, &ts(f), f.data.len() as u32, &f.data)?;
                }
                std::fs::write(&path, w.into_inner()?)?;
            }
        }
        Ok(path)
    }

    /// Takes the in-memory frames: (time in ns, link-layer bytes). Single-link captures only
    /// (the interface is not returned).
    pub fn take_frames(&mut self) -> Vec<(i64, Vec<u8>)> {
        match &mut self.sink {
            Sink::Memory(frames) => std::mem::take(frames)
                .into_iter()
                .map(|f| (f.ts_ns, f.data))
                .collect(),
            Sink::Stream(_) => Vec::new(),
        }
    }

    /// Flushes a streamed capture.
    pub fn finish_stream(self) -> io::Result<()> {
        if let Sink::Stream(w) = self.sink {
            let mut inner = w.into_inner()?;
            inner.flush()?;
        }
        Ok(())
    }
}

/// Link type names as reports spell them.
pub fn link_type_name(lt: u32) -> String {
    match lt {
        linktype::NULL => "null".into(),
        linktype::ETHERNET => "ethernet".into(),
        linktype::RAW => "raw".into(),
        linktype::LOOP => "loop".into(),
        linktype::LINUX_SLL => "linux-sll".into(),
        linktype::IPV4 => "ipv4".into(),
        linktype::IPV6 => "ipv6".into(),
        linktype::LINUX_SLL2 => "linux-sll2".into(),
        other => format!("linktype-{other}"),
    }
}
