//! The system libpcap (cargo feature `libpcap`): BPF filters over records read from files, and
//! live capture from an interface.

use super::{CaptureError, Record, RecordData};
use crate::diag::{Diagnostic, Layer};
use crate::time::Timestamp;
use pcap::{Active, BpfProgram, Capture, Linktype};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

fn libpcap_error(context: impl Into<String>, error: pcap::Error) -> CaptureError {
    CaptureError::Libpcap {
        context: context.into(),
        message: error.to_string(),
    }
}

/// A BPF filter expression, compiled once per link type (a filter's meaning depends on the link
/// layer it starts from).
pub struct BpfFilter {
    expression: String,
    /// `None` when the expression does not compile for that link type.
    programs: HashMap<u32, Option<BpfProgram>>,
}

impl std::fmt::Debug for BpfFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BpfFilter")
            .field("expression", &self.expression)
            .field("link_types", &self.programs.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl BpfFilter {
    /// Checks the expression by compiling it for Ethernet; an expression libpcap rejects there is
    /// a usage error.
    pub fn new(expression: &str) -> Result<BpfFilter, CaptureError> {
        let program = compile(expression, super::linktype::ETHERNET)
            .map_err(|error| libpcap_error(format!("filter '{expression}'"), error))?;
        let mut programs = HashMap::new();
        programs.insert(super::linktype::ETHERNET, Some(program));
        Ok(BpfFilter {
            expression: expression.to_string(),
            programs,
        })
    }

    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// Compiles (once) the program for a link type; an error is kept so it is reported once.
    pub fn prepare(&mut self, link_type: u32) -> Result<(), CaptureError> {
        if let Some(program) = self.programs.get(&link_type) {
            return match program {
                Some(_) => Ok(()),
                None => Err(CaptureError::Libpcap {
                    context: format!("filter '{}'", self.expression),
                    message: format!("does not compile for link type {link_type}"),
                }),
            };
        }
        let compiled = compile(&self.expression, link_type);
        let result = match &compiled {
            Ok(_) => Ok(()),
            Err(error) => Err(CaptureError::Libpcap {
                context: format!("filter '{}' for link type {link_type}", self.expression),
                message: error.to_string(),
            }),
        };
        self.programs.insert(link_type, compiled.ok());
        result
    }

    /// Whether the record passes the filter. A link type the expression does not compile for
    /// passes nothing; that is said once, in `diags`.
    pub fn matches(&mut self, record: &Record, diags: &mut Vec<Diagnostic>) -> bool {
        if !self.programs.contains_key(&record.link_type) {
            if let Err(error) = self.prepare(record.link_type) {
                diags.push(
                    Diagnostic::new(
                        Layer::Capture,
                        format!("{error}; frames of this link type are filtered out"),
                    )
                    .at_frame(record.frame)
                    .at_offset(record.offset),
                );
            }
        }
        match self.programs.get(&record.link_type) {
            Some(Some(program)) => program.filter(&record.data),
            _ => false,
        }
    }
}

/// DLT_RAW as this platform's libpcap numbers it.
#[cfg(target_os = "openbsd")]
const DLT_RAW: i32 = 14;
#[cfg(not(target_os = "openbsd"))]
const DLT_RAW: i32 = 12;

/// libpcap handles take DLT_* values, which differ from the LINKTYPE_* values in files for raw IP
/// (tcpdump.org link-layer header types: LINKTYPE_RAW 101 is DLT_RAW, 12 or 14 by platform).
fn dlt_for(link_type: u32) -> Result<i32, pcap::Error> {
    use super::linktype::{RAW, RAW_12, RAW_14};
    match link_type {
        RAW | RAW_12 | RAW_14 => Ok(DLT_RAW),
        other => i32::try_from(other).map_err(|_| pcap::Error::InvalidLinktype),
    }
}

fn compile(expression: &str, link_type: u32) -> Result<BpfProgram, pcap::Error> {
    let link = dlt_for(link_type)?;
    // A dead handle (snaplen 65535) is all libpcap needs to compile for a link type.
    let dead = Capture::dead(Linktype(link))?;
    dead.compile(expression, true)
}

/// Frames captured live from a network interface.
pub struct LiveCapture {
    name: String,
    capture: Capture<Active>,
    link_type: u32,
    frame: u64,
    stop: Arc<LiveStop>,
}

/// Ends a live capture from another thread: [`LiveCapture::next_record`] then returns `None`,
/// even while it waits on an idle interface.
pub struct LiveStop {
    stopped: AtomicBool,
    /// Wakes a capture blocked in libpcap's wait for frames (`pcap_breakloop`).
    wake: pcap::BreakLoop,
}

impl std::fmt::Debug for LiveStop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveStop")
            .field("stopped", &self.stopped)
            .finish_non_exhaustive()
    }
}

impl LiveStop {
    /// Stops the capture; true if it had been stopped already.
    pub fn stop(&self) -> bool {
        let already = self.stopped.swap(true, Ordering::Relaxed);
        self.wake.breakloop();
        already
    }

    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCapture")
            .field("name", &self.name)
            .field("link_type", &self.link_type)
            .field("frame", &self.frame)
            .finish_non_exhaustive()
    }
}

/// How long one wait for a frame lasts before the stop flag is looked at again.
const READ_TIMEOUT_MS: i32 = 250;

impl LiveCapture {
    /// Opens `interface` (e.g. `eth0`) in promiscuous mode or not, keeping `snaplen` bytes of each
    /// frame, with an optional kernel-side BPF filter.
    pub fn open(
        interface: &str,
        snaplen: u32,
        promiscuous: bool,
        filter: Option<&str>,
    ) -> Result<LiveCapture, CaptureError> {
        let context = || format!("interface {interface}");
        let mut capture = Capture::from_device(interface)
            .map_err(|error| libpcap_error(context(), error))?
            .snaplen(i32::try_from(snaplen).unwrap_or(i32::MAX))
            .promisc(promiscuous)
            .timeout(READ_TIMEOUT_MS)
            .immediate_mode(true)
            .open()
            .map_err(|error| libpcap_error(context(), error))?;
        if let Some(expression) = filter {
            capture
                .filter(expression, true)
                .map_err(|error| libpcap_error(format!("filter '{expression}'"), error))?;
        }
        let link_type = u32::try_from(capture.get_datalink().0).unwrap_or(0);
        let stop = Arc::new(LiveStop {
            stopped: AtomicBool::new(false),
            wake: capture.breakloop_handle(),
        });
        Ok(LiveCapture {
            name: interface.to_string(),
            capture,
            link_type,
            frame: 0,
            stop,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn link_type(&self) -> u32 {
        self.link_type
    }

    /// What stops the capture from another thread (a timer, a Ctrl-C handler's thread; not
    /// from a signal handler itself).
    pub fn stop_handle(&self) -> Arc<LiveStop> {
        Arc::clone(&self.stop)
    }

    /// The next frame; `None` once stopped or when the interface fails (said in `diags`).
    pub fn next_record(&mut self, diags: &mut Vec<Diagnostic>) -> Option<Record> {
        while !self.stop.is_stopped() {
            match self.capture.next_packet() {
                Ok(packet) => {
                    self.frame = self.frame.saturating_add(1);
                    let header = packet.header;
                    #[allow(clippy::useless_conversion)] // time_t is i32 on some targets
                    let secs = i64::from(header.ts.tv_sec);
                    let micros = u32::try_from(header.ts.tv_usec).unwrap_or(0);
                    return Some(Record {
                        frame: self.frame,
                        offset: 0,
                        ts: Timestamp::new(secs, micros.saturating_mul(1_000), 6),
                        link_type: self.link_type,
                        orig_len: header.len,
                        data: RecordData::owned(packet.data.to_vec()),
                    });
                }
                Err(pcap::Error::TimeoutExpired) => {}
                // `pcap_breakloop`: stopped (the loop condition says so).
                Err(pcap::Error::NoMorePackets) if self.stop.is_stopped() => {}
                Err(error) => {
                    diags.push(
                        Diagnostic::new(
                            Layer::Capture,
                            format!("live capture on {} ended: {error}", self.name),
                        )
                        .at_frame(self.frame.saturating_add(1)),
                    );
                    return None;
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ipv4_udp_frame(dst_port: u16) -> Vec<u8> {
        let mut frame = vec![
            0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00, // Ethernet, IPv4
            0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, // IPv4 header, UDP
            192, 0, 2, 1, 198, 51, 100, 2, // 192.0.2.1 -> 198.51.100.2
            0x04, 0x00, // source port 1024
        ];
        frame.extend_from_slice(&dst_port.to_be_bytes());
        frame.extend_from_slice(&[0, 8, 0, 0]);
        frame
    }

    fn record(link_type: u32, data: Vec<u8>) -> Record {
        Record {
            frame: 1,
            offset: 24,
            ts: Timestamp::new(1_700_000_000, 0, 6),
            link_type,
            orig_len: u32::try_from(data.len()).unwrap(),
            data: RecordData::owned(data),
        }
    }

    #[test]
    fn filters_records_per_link_type() {
        let mut filter = BpfFilter::new("udp port 9200").unwrap();
        let mut diags = Vec::new();
        assert!(filter.matches(&record(1, ipv4_udp_frame(9200)), &mut diags));
        assert!(!filter.matches(&record(1, ipv4_udp_frame(80)), &mut diags));
        // The same expression over raw IP (LINKTYPE_RAW) starts at the IP header.
        let raw = ipv4_udp_frame(9200).split_off(14);
        assert!(filter.matches(&record(101, raw), &mut diags));
        assert!(diags.is_empty());

        // An Ethernet-only expression does not compile for raw IP: said once, nothing passes.
        let mut ether = BpfFilter::new("ether host 02:00:00:00:00:01").unwrap();
        let raw = ipv4_udp_frame(9200).split_off(14);
        assert!(!ether.matches(&record(101, raw.clone()), &mut diags));
        assert!(!ether.matches(&record(101, raw), &mut diags));
        assert_eq!(diags.len(), 1);

        assert!(BpfFilter::new("udp port port").is_err());
    }
}
