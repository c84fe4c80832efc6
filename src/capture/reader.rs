//! The streaming capture reader: pcap or pcapng, optionally gzip-compressed, through a bounded
//! window. Damage becomes a diagnostic; the reader then scans forward for the next plausible
//! record so that what follows is still read.

use super::buffer::StreamBuffer;
use super::pcap::{self, PcapHeader};
use super::pcapng::{self, PacketBlock};
use super::{ByteOrder, CaptureError, CaptureFormat, Record, TsResolution, linktype};
use crate::diag::{Diagnostic, Layer};
use crate::time::Timestamp;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

/// Resource caps of one reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderOptions {
    /// Usual size of the read-ahead window: the chunks input is read into and records refer
    /// to (see [`RecordData`](super::RecordData)). Small enough that a chunk is still in cache
    /// when its records are framed (docs/decisions.md).
    pub buffer_size: usize,
    /// Largest pcap record or pcapng block accepted; the window grows up to this for one record.
    /// Longer ones are treated as damage.
    pub max_record_len: usize,
    /// Diagnostics kept per input; past it they are only counted.
    pub max_diagnostics: usize,
    /// Bytes scanned for a plausible record after damage before giving up on the input.
    pub max_resync_scan: u64,
    /// Interfaces kept per pcapng section.
    pub max_interfaces: usize,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        ReaderOptions {
            buffer_size: 256 << 10,
            max_record_len: 16 << 20,
            max_diagnostics: 1000,
            max_resync_scan: 1 << 30,
            max_interfaces: 4096,
        }
    }
}

/// During a resynchronisation scan a pcap record header must be within this many seconds of the
/// last good record to count as plausible.
const RESYNC_MAX_TIME_GAP_SECS: i64 = 86_400;

/// Snaplen assumed when a pcap header says 0.
const DEFAULT_SNAPLEN: u32 = 262_144;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Other compressions recognised only to say so.
const OTHER_COMPRESSIONS: &[(&[u8], &str)] = &[
    (&[0x28, 0xb5, 0x2f, 0xfd], "zstd"),
    (&[0xfd, b'7', b'z', b'X', b'Z', 0x00], "xz"),
    (b"BZh", "bzip2"),
    (&[0x04, 0x22, 0x4d, 0x18], "lz4"),
];

#[derive(Debug)]
struct PcapState {
    header: PcapHeader,
    /// Said once per input: records longer than the header's snaplen were accepted.
    oversize_noted: bool,
}

#[derive(Debug, Clone, Copy)]
struct Interface {
    link_type: u32,
    snaplen: u32,
    tsresol: TsResolution,
    tsoffset: i64,
}

#[derive(Debug)]
struct PcapngState {
    byte_order: ByteOrder,
    interfaces: Vec<Interface>,
    /// Sections seen so far (the first Section Header Block makes it 1).
    sections: u64,
}

#[derive(Debug)]
enum FormatState {
    Pcap(PcapState),
    Pcapng(PcapngState),
}

/// Outcome of one parsing step.
enum Step {
    Record(Record),
    Continue,
    End,
}

/// Reads one capture file or stream, record by record.
pub struct CaptureReader {
    name: String,
    buf: StreamBuffer,
    options: ReaderOptions,
    state: FormatState,
    /// Last frame number handed out.
    frame: u64,
    link_types: Vec<u32>,
    /// Link types already reported as not decoded.
    undecoded_noted: Vec<u32>,
    diagnostics_kept: usize,
    diagnostics_suppressed: u64,
    last_ts: Option<Timestamp>,
    started: bool,
    done: bool,
}

impl std::fmt::Debug for CaptureReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaptureReader")
            .field("name", &self.name)
            .field("format", &self.format())
            .field("frame", &self.frame)
            .field("offset", &self.buf.offset())
            .finish_non_exhaustive()
    }
}

impl CaptureReader {
    /// Opens a file (gzip-compressed or not, whatever its name).
    pub fn open(path: &Path) -> Result<CaptureReader, CaptureError> {
        Self::open_with(path, ReaderOptions::default())
    }

    /// [`open`](Self::open) with explicit caps.
    pub fn open_with(path: &Path, options: ReaderOptions) -> Result<CaptureReader, CaptureError> {
        let file = File::open(path).map_err(|source| {
            if source.kind() == io::ErrorKind::NotFound {
                CaptureError::NotFound {
                    path: path.to_path_buf(),
                }
            } else {
                CaptureError::Open {
                    path: path.to_path_buf(),
                    source,
                }
            }
        })?;
        Self::from_read_with(path.display().to_string(), Box::new(file), options)
    }

    /// Reads from any byte stream (standard input, for one), gzip-compressed or not.
    pub fn from_read(
        name: impl Into<String>,
        r: Box<dyn Read + Send>,
    ) -> Result<CaptureReader, CaptureError> {
        Self::from_read_with(name, r, ReaderOptions::default())
    }

    /// [`from_read`](Self::from_read) with explicit caps.
    pub fn from_read_with(
        name: impl Into<String>,
        mut r: Box<dyn Read + Send>,
        options: ReaderOptions,
    ) -> Result<CaptureReader, CaptureError> {
        let name = name.into();
        // Peek at the first bytes to recognise compression, then put them back in front.
        let mut prefix = Vec::with_capacity(8);
        (&mut r)
            .take(8)
            .read_to_end(&mut prefix)
            .map_err(|source| CaptureError::Read {
                name: name.clone(),
                offset: 0,
                source,
            })?;
        if prefix.is_empty() {
            return Err(CaptureError::Empty { name });
        }
        if let Some((_, compression)) = OTHER_COMPRESSIONS
            .iter()
            .find(|(magic, _)| prefix.starts_with(magic))
        {
            return Err(CaptureError::UnsupportedCompression { name, compression });
        }
        let gzip = prefix.starts_with(&GZIP_MAGIC);
        let rejoined = io::Cursor::new(prefix).chain(r);
        let stream: Box<dyn Read + Send> = if gzip {
            Box::new(MultiGzDecoder::new(BufReader::with_capacity(
                1 << 16,
                rejoined,
            )))
        } else {
            Box::new(rejoined)
        };
        let options = ReaderOptions {
            buffer_size: options.buffer_size.max(64),
            max_record_len: options.max_record_len.max(64),
            ..options
        };
        // Room for the largest record, the next record's header (resynchronisation looks at both)
        // and a chunk of read-ahead.
        let window_max = options
            .max_record_len
            .saturating_add(options.buffer_size)
            .saturating_add(64);
        let mut buf = StreamBuffer::new(stream, options.buffer_size, window_max);
        let state = Self::read_file_header(&name, &mut buf)?;
        let mut reader = CaptureReader {
            name,
            buf,
            options,
            state,
            frame: 0,
            link_types: Vec::new(),
            undecoded_noted: Vec::new(),
            diagnostics_kept: 0,
            diagnostics_suppressed: 0,
            last_ts: None,
            started: false,
            done: false,
        };
        if let FormatState::Pcap(pcap_state) = &reader.state {
            let link_type = pcap_state.header.link_type;
            reader.link_types.push(link_type);
        }
        Ok(reader)
    }

    fn read_file_header(name: &str, buf: &mut StreamBuffer) -> Result<FormatState, CaptureError> {
        let have = buf.fill(pcap::FILE_HEADER_LEN);
        if let Some(source) = buf.take_error() {
            if have < 4 {
                return Err(CaptureError::Read {
                    name: name.to_string(),
                    offset: have as u64,
                    source,
                });
            }
        }
        let start = buf.available();
        if start.is_empty() {
            return Err(CaptureError::Empty {
                name: name.to_string(),
            });
        }
        let first: Option<[u8; 4]> = start.get(..4).and_then(|four| four.try_into().ok());
        let Some(first) = first else {
            return Err(CaptureError::NotACapture {
                name: name.to_string(),
                start: hex_prefix(start),
            });
        };
        if u32::from_le_bytes(first) == pcapng::SECTION_HEADER {
            return match pcapng::section_byte_order(start) {
                Some(byte_order) => Ok(FormatState::Pcapng(PcapngState {
                    byte_order,
                    interfaces: Vec::new(),
                    sections: 0,
                })),
                None if start.len() < 12 => Err(CaptureError::TruncatedHeader {
                    name: name.to_string(),
                    what: "pcapng section header",
                    present: start.len(),
                    needed: 12,
                }),
                None => Err(CaptureError::BadByteOrderMagic {
                    name: name.to_string(),
                    found: ByteOrder::Little.read_u32(start, 8).unwrap_or(0),
                }),
            };
        }
        if pcap::identify_magic(first).is_some() {
            let Some(header) = pcap::parse_file_header(start) else {
                return Err(CaptureError::TruncatedHeader {
                    name: name.to_string(),
                    what: "pcap file header",
                    present: start.len(),
                    needed: pcap::FILE_HEADER_LEN,
                });
            };
            buf.consume(pcap::FILE_HEADER_LEN);
            return Ok(FormatState::Pcap(PcapState {
                header,
                oversize_noted: false,
            }));
        }
        Err(CaptureError::NotACapture {
            name: name.to_string(),
            start: hex_prefix(start),
        })
    }

    /// The input's name (a path, or `-` for standard input).
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn format(&self) -> CaptureFormat {
        match self.state {
            FormatState::Pcap(_) => CaptureFormat::Pcap,
            FormatState::Pcapng(_) => CaptureFormat::Pcapng,
        }
    }

    /// Distinct link types, in order of first appearance (pcap header, pcapng interfaces).
    pub fn link_types(&self) -> Vec<u32> {
        self.link_types.clone()
    }

    /// Frame numbers handed out so far (damaged records included).
    pub fn frames(&self) -> u64 {
        self.frame
    }

    /// Bytes of the (decompressed) input consumed so far.
    pub fn offset(&self) -> u64 {
        self.buf.offset()
    }

    /// Diagnostics that were counted but not kept because of `max_diagnostics`.
    pub fn suppressed_diagnostics(&self) -> u64 {
        self.diagnostics_suppressed
    }

    pub fn options(&self) -> &ReaderOptions {
        &self.options
    }

    /// The next record; `None` at the end of input. Problems are appended to `diags`.
    pub fn next_record(&mut self, diags: &mut Vec<Diagnostic>) -> Option<Record> {
        // Every step consumes input or ends it, so this loop terminates.
        while !self.done {
            let step = match self.state {
                FormatState::Pcap(_) => self.step_pcap(diags),
                FormatState::Pcapng(_) => self.step_pcapng(diags),
            };
            self.report_read_error(diags);
            match step {
                Step::Record(record) => return Some(record),
                Step::Continue => {}
                Step::End => self.done = true,
            }
        }
        None
    }

    /// Up to `max_records` records holding at most about `max_bytes` of frame data (at least one
    /// record when any is left); empty at the end of input. For batch-parallel decoding.
    pub fn read_batch(
        &mut self,
        max_records: usize,
        max_bytes: usize,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<Record> {
        let mut batch: Vec<Record> = Vec::new();
        let mut bytes = 0usize;
        // The chunks the batch holds: at most twice its frame bytes (see `RecordData::held_beyond`).
        let max_held = max_bytes.saturating_mul(2);
        let mut held = 0usize;
        while batch.len() < max_records.max(1)
            && (batch.is_empty() || (bytes < max_bytes && held < max_held))
        {
            let Some(record) = self.next_record(diags) else {
                break;
            };
            bytes = bytes.saturating_add(record.data.len());
            held = held.saturating_add(record.data.held_beyond(batch.last().map(|r| &r.data)));
            batch.push(record);
        }
        batch
    }

    fn report_read_error(&mut self, diags: &mut Vec<Diagnostic>) {
        if let Some(error) = self.buf.take_error() {
            // Everything buffered before the error is still read; the input ends there.
            let offset = self.buf.offset() + self.buf.available().len() as u64;
            self.diag(
                diags,
                Diagnostic::new(
                    Layer::Capture,
                    format!("read error, input ends here: {error}"),
                )
                .at_offset(offset),
            );
        }
    }

    fn diag(&mut self, diags: &mut Vec<Diagnostic>, diagnostic: Diagnostic) {
        if self.diagnostics_kept < self.options.max_diagnostics {
            diags.push(diagnostic);
            self.diagnostics_kept += 1;
        } else {
            if self.diagnostics_suppressed == 0 {
                diags.push(Diagnostic::new(
                    Layer::Limit,
                    format!(
                        "{} capture diagnostics kept for this input; further ones are only counted",
                        self.options.max_diagnostics
                    ),
                ));
            }
            self.diagnostics_suppressed = self.diagnostics_suppressed.saturating_add(1);
        }
    }

    fn next_frame(&mut self) -> u64 {
        self.frame = self.frame.saturating_add(1);
        self.frame
    }

    fn note_link_type(&mut self, link_type: u32, diags: &mut Vec<Diagnostic>, offset: u64) {
        if !self.link_types.contains(&link_type) {
            self.link_types.push(link_type);
        }
        if !linktype::is_decoded(link_type) && !self.undecoded_noted.contains(&link_type) {
            self.undecoded_noted.push(link_type);
            let name = linktype::name(link_type).unwrap_or("unknown");
            self.diag(
                diags,
                Diagnostic::new(
                    Layer::Capture,
                    format!(
                        "link type {link_type} ({name}) is not decoded; its frames are counted but not analysed"
                    ),
                )
                .at_offset(offset),
            );
        }
    }

    // ---------------------------------------------------------------- classic pcap

    fn pcap_state(&self) -> Option<(PcapHeader, bool)> {
        match &self.state {
            FormatState::Pcap(state) => Some((state.header, state.oversize_noted)),
            FormatState::Pcapng(_) => None,
        }
    }

    fn step_pcap(&mut self, diags: &mut Vec<Diagnostic>) -> Step {
        let Some((header, oversize_noted)) = self.pcap_state() else {
            return Step::End;
        };
        if !self.started {
            self.started = true;
            // Say once if the file's link type is not decoded.
            self.note_link_type(header.link_type, diags, 20);
        }
        let hlen = header.record_header_len();
        let offset = self.buf.offset();
        let have = self.buf.fill(hlen);
        if have == 0 {
            return Step::End;
        }
        if have < hlen {
            let frame = self.next_frame();
            self.diag(
                diags,
                Diagnostic::new(
                    Layer::Capture,
                    format!("truncated record header: {have} of {hlen} bytes present"),
                )
                .at_frame(frame)
                .at_offset(offset),
            );
            self.buf.consume(have);
            return Step::End;
        }
        let Some(record) = pcap::read_record_header(self.buf.available(), header.byte_order) else {
            return Step::End;
        };
        let caplen = usize::try_from(record.caplen).unwrap_or(usize::MAX);
        let snaplen = effective_snaplen(header.snaplen);
        let max = self.options.max_record_len;

        let damage = if caplen > max {
            Some(format!(
                "record length {caplen} exceeds the limit of {max} bytes (snaplen {})",
                header.snaplen
            ))
        } else if record.caplen > snaplen || record.caplen > record.orig_len {
            // Suspicious but possible (some writers exceed their snaplen): accept the record only
            // if a plausible record header or the end of input follows it.
            let need = hlen.saturating_mul(2).saturating_add(caplen);
            let have = self.buf.fill(need);
            let follows = if have >= need {
                let next = self.buf.available().get(hlen.saturating_add(caplen)..);
                next.and_then(|next| pcap::read_record_header(next, header.byte_order))
                    .is_some_and(|next| self.pcap_loosely_plausible(&header, &next))
            } else {
                // The end of input: fine if the record is complete before it.
                have >= hlen.saturating_add(caplen)
            };
            if follows {
                if record.caplen > snaplen && !oversize_noted {
                    if let FormatState::Pcap(state) = &mut self.state {
                        state.oversize_noted = true;
                    }
                    self.diag(
                        diags,
                        Diagnostic::new(
                            Layer::Capture,
                            format!(
                                "record length {caplen} exceeds the file's snaplen {}; such records are accepted",
                                header.snaplen
                            ),
                        )
                        .at_frame(self.frame.saturating_add(1))
                        .at_offset(offset),
                    );
                }
                None
            } else {
                Some(format!(
                    "record length {caplen} is inconsistent (snaplen {}, original length {}) and no record follows it",
                    header.snaplen, record.orig_len
                ))
            }
        } else {
            None
        };
        if let Some(message) = damage {
            let frame = self.next_frame();
            let outcome = self.resync();
            self.diag(
                diags,
                Diagnostic::new(Layer::Capture, format!("{message}; {outcome}"))
                    .at_frame(frame)
                    .at_offset(offset),
            );
            return Step::Continue;
        }

        let total = hlen.saturating_add(caplen);
        let have = self.buf.fill(total);
        if have < total {
            if let Some(outcome) = self.damage_before_end() {
                let frame = self.next_frame();
                self.diag(
                    diags,
                    Diagnostic::new(
                        Layer::Capture,
                        format!("record length {caplen} runs past the end of input; {outcome}"),
                    )
                    .at_frame(frame)
                    .at_offset(offset),
                );
                return Step::Continue;
            }
        }
        let frame = self.next_frame();
        let present = have.saturating_sub(hlen).min(caplen);
        if present < caplen {
            self.diag(
                diags,
                Diagnostic::new(
                    Layer::Capture,
                    format!("truncated record: {present} of {caplen} bytes present"),
                )
                .at_frame(frame)
                .at_offset(offset),
            );
        }
        let data = self.buf.share(hlen..hlen.saturating_add(present));
        self.buf.consume(hlen.saturating_add(present));
        let ts = record.timestamp(header.resolution);
        self.last_ts = Some(ts);
        Step::Record(Record {
            frame,
            offset,
            ts,
            link_type: header.link_type,
            orig_len: record.orig_len,
            data,
        })
    }

    /// Whether a record header could be one of this file's, allowing for writers that exceed their
    /// snaplen or write a captured length above the original length.
    fn pcap_loosely_plausible(&self, header: &PcapHeader, record: &pcap::RecordHeader) -> bool {
        let max = u32::try_from(self.options.max_record_len).unwrap_or(u32::MAX);
        record.caplen <= max
            && record.orig_len <= max.max(DEFAULT_SNAPLEN)
            && record.frac_in_range(header.resolution)
    }

    /// Whether a record header could be a real one: lengths consistent with the file and with
    /// each other, a fraction below one second, and (when known) a time near `near`.
    fn pcap_plausible(
        &self,
        header: &PcapHeader,
        record: &pcap::RecordHeader,
        near: Option<&Timestamp>,
    ) -> bool {
        let max = u32::try_from(self.options.max_record_len).unwrap_or(u32::MAX);
        let lengths_ok = record.caplen <= record.orig_len
            && record.caplen <= effective_snaplen(header.snaplen).min(max)
            && record.orig_len <= max.max(DEFAULT_SNAPLEN);
        if !lengths_ok || !record.frac_in_range(header.resolution) {
            return false;
        }
        match near {
            Some(near) => {
                let ts = record.timestamp(header.resolution);
                ts.secs_since(near).saturating_abs() <= RESYNC_MAX_TIME_GAP_SECS
            }
            None => true,
        }
    }

    // ---------------------------------------------------------------- pcapng

    fn pcapng_byte_order(&self) -> ByteOrder {
        match &self.state {
            FormatState::Pcapng(state) => state.byte_order,
            FormatState::Pcap(_) => ByteOrder::Little,
        }
    }

    fn pcapng_interface(&self, id: u32) -> Option<Interface> {
        match &self.state {
            FormatState::Pcapng(state) => state.interfaces.get(usize::try_from(id).ok()?).copied(),
            FormatState::Pcap(_) => None,
        }
    }

    fn pcapng_interface_count(&self) -> usize {
        match &self.state {
            FormatState::Pcapng(state) => state.interfaces.len(),
            FormatState::Pcap(_) => 0,
        }
    }

    /// Type, byte order (the section's, or the one a Section Header declares) and total length of
    /// the block starting `bytes`, when 8 bytes are there (12 for a Section Header).
    fn pcapng_block_header(&self, bytes: &[u8]) -> Option<(u32, ByteOrder, u32)> {
        let mut byte_order = self.pcapng_byte_order();
        let block_type = byte_order.read_u32(bytes, 0)?;
        if block_type == pcapng::SECTION_HEADER {
            byte_order = pcapng::section_byte_order(bytes)?;
        }
        let total_len = byte_order.read_u32(bytes, 4)?;
        Some((block_type, byte_order, total_len))
    }

    fn step_pcapng(&mut self, diags: &mut Vec<Diagnostic>) -> Step {
        let offset = self.buf.offset();
        let have = self.buf.fill(12);
        if have == 0 {
            return Step::End;
        }
        let Some((block_type, byte_order, total_len)) =
            self.pcapng_block_header(self.buf.available())
        else {
            let bytes = self.buf.available();
            let is_shb = ByteOrder::Little.read_u32(bytes, 0) == Some(pcapng::SECTION_HEADER);
            if have < 8 || (is_shb && have < 12) {
                self.diag(
                    diags,
                    Diagnostic::new(
                        Layer::Capture,
                        format!(
                            "truncated block header: {have} of {} bytes present",
                            if is_shb { 12 } else { 8 }
                        ),
                    )
                    .at_offset(offset),
                );
                self.buf.consume(have);
                return Step::End;
            }
            // A Section Header Block type with no valid byte-order magic.
            let outcome = self.resync();
            self.diag(
                diags,
                Diagnostic::new(
                    Layer::Capture,
                    format!("section header without a valid byte-order magic; {outcome}"),
                )
                .at_offset(offset),
            );
            return Step::Continue;
        };
        let is_packet = pcapng::is_packet_type(block_type);

        if let Err(error) =
            pcapng::check_block_len(block_type, total_len, self.options.max_record_len)
        {
            let frame = is_packet.then(|| self.next_frame());
            let outcome = self.resync();
            let mut diagnostic = Diagnostic::new(
                Layer::Capture,
                format!(
                    "{} block (type {block_type:#x}) length {total_len} {error}; {outcome}",
                    pcapng::type_name(block_type)
                ),
            )
            .at_offset(offset);
            diagnostic.frame = frame;
            self.diag(diags, diagnostic);
            return Step::Continue;
        }
        let len = usize::try_from(total_len).unwrap_or(usize::MAX);
        let have = self.buf.fill(len);
        if have < len {
            if let Some(outcome) = self.damage_before_end() {
                let frame = is_packet.then(|| self.next_frame());
                let mut diagnostic = Diagnostic::new(
                    Layer::Capture,
                    format!(
                        "{} block length {total_len} runs past the end of input; {outcome}",
                        pcapng::type_name(block_type)
                    ),
                )
                .at_offset(offset);
                diagnostic.frame = frame;
                self.diag(diags, diagnostic);
                return Step::Continue;
            }
            return self.pcapng_truncated(block_type, byte_order, offset, have, len, diags);
        }
        let trailer = byte_order.read_u32(self.buf.available(), len.saturating_sub(4));
        if trailer != Some(total_len) {
            let frame = is_packet.then(|| self.next_frame());
            let outcome = self.resync();
            let mut diagnostic = Diagnostic::new(
                Layer::Capture,
                format!(
                    "{} block length {total_len} does not match its trailing copy {}; {outcome}",
                    pcapng::type_name(block_type),
                    trailer.unwrap_or(0)
                ),
            )
            .at_offset(offset);
            diagnostic.frame = frame;
            self.diag(diags, diagnostic);
            return Step::Continue;
        }

        let step = match block_type {
            pcapng::SECTION_HEADER => {
                self.pcapng_section(byte_order, offset, len, diags);
                Step::Continue
            }
            pcapng::INTERFACE_DESCRIPTION => {
                self.pcapng_interface_block(byte_order, offset, len, diags);
                Step::Continue
            }
            pcapng::ENHANCED_PACKET | pcapng::PACKET | pcapng::SIMPLE_PACKET => {
                self.pcapng_packet(block_type, byte_order, offset, len, false, diags)
            }
            // Statistics, name resolution, secrets, custom and unknown blocks carry no frames.
            _ => Step::Continue,
        };
        self.buf.consume(len);
        step
    }

    fn pcapng_truncated(
        &mut self,
        block_type: u32,
        byte_order: ByteOrder,
        offset: u64,
        have: usize,
        len: usize,
        diags: &mut Vec<Diagnostic>,
    ) -> Step {
        let is_packet = pcapng::is_packet_type(block_type);
        let step = if is_packet {
            // Keep what is there of the frame: the caller sees a short record.
            self.pcapng_packet(block_type, byte_order, offset, have, true, diags)
        } else {
            Step::Continue
        };
        let frame = match &step {
            Step::Record(record) => Some(record.frame),
            _ if is_packet => Some(self.frame),
            _ => None,
        };
        let message = if is_packet {
            format!("truncated record: {have} of {len} bytes present")
        } else {
            format!(
                "truncated {} block: {have} of {len} bytes present",
                pcapng::type_name(block_type)
            )
        };
        let mut diagnostic = Diagnostic::new(Layer::Capture, message).at_offset(offset);
        diagnostic.frame = frame;
        self.diag(diags, diagnostic);
        self.buf.consume(have);
        step
    }

    fn pcapng_section(
        &mut self,
        byte_order: ByteOrder,
        offset: u64,
        len: usize,
        diags: &mut Vec<Diagnostic>,
    ) {
        let block = self.buf.available().get(..len).unwrap_or(&[]);
        let section = pcapng::parse_section_header(pcapng::block_body(block));
        if let FormatState::Pcapng(state) = &mut self.state {
            state.byte_order = byte_order;
            state.interfaces.clear();
            state.sections = state.sections.saturating_add(1);
        }
        if let Some(section) = section {
            if section.major != 1 {
                self.diag(
                    diags,
                    Diagnostic::new(
                        Layer::Capture,
                        format!(
                            "pcapng section version {}.{} (1.x expected); reading it as 1.0",
                            section.major, section.minor
                        ),
                    )
                    .at_offset(offset),
                );
            }
        }
    }

    fn pcapng_interface_block(
        &mut self,
        byte_order: ByteOrder,
        offset: u64,
        len: usize,
        diags: &mut Vec<Diagnostic>,
    ) {
        let block = self.buf.available().get(..len).unwrap_or(&[]);
        let parsed = pcapng::parse_interface_description(pcapng::block_body(block), byte_order);
        let (description, problem) = match parsed {
            Ok(parsed) => parsed,
            Err(error) => {
                self.diag(
                    diags,
                    Diagnostic::new(Layer::Capture, format!("interface description: {error}"))
                        .at_offset(offset),
                );
                return;
            }
        };
        if let Some(problem) = problem {
            self.diag(
                diags,
                Diagnostic::new(
                    Layer::Capture,
                    format!("interface description options: {problem}"),
                )
                .at_offset(offset),
            );
        }
        let interface = Interface {
            link_type: u32::from(description.link_type),
            snaplen: description.snaplen,
            tsresol: description.tsresol,
            tsoffset: description.tsoffset,
        };
        if self.pcapng_interface_count() >= self.options.max_interfaces {
            let max = self.options.max_interfaces;
            self.diag(
                diags,
                Diagnostic::new(
                    Layer::Limit,
                    format!("more than {max} interfaces in one section; this one is ignored"),
                )
                .at_offset(offset),
            );
            return;
        }
        if let FormatState::Pcapng(state) = &mut self.state {
            state.interfaces.push(interface);
        }
        self.note_link_type(interface.link_type, diags, offset);
    }

    /// A packet block whose first `len` bytes are in the window (the whole block, or what there
    /// is of it when `partial`).
    fn pcapng_packet(
        &mut self,
        block_type: u32,
        byte_order: ByteOrder,
        offset: u64,
        len: usize,
        partial: bool,
        diags: &mut Vec<Diagnostic>,
    ) -> Step {
        let frame = self.next_frame();
        let block = self.buf.available().get(..len).unwrap_or(&[]);
        let body = if partial {
            block.get(8..).unwrap_or(&[])
        } else {
            pcapng::block_body(block)
        };
        let parsed = match block_type {
            pcapng::ENHANCED_PACKET => pcapng::parse_enhanced_packet(body, byte_order),
            pcapng::PACKET => pcapng::parse_obsolete_packet(body, byte_order),
            _ => {
                let snaplen0 = self
                    .pcapng_interface(0)
                    .map_or(0, |interface| interface.snaplen);
                pcapng::parse_simple_packet(body, byte_order, snaplen0)
            }
        };
        let packet: PacketBlock<'_> = match parsed {
            Ok(packet) => packet,
            Err(error) => {
                if !partial {
                    self.diag(
                        diags,
                        Diagnostic::new(Layer::Capture, error.to_string())
                            .at_frame(frame)
                            .at_offset(offset),
                    );
                }
                return Step::Continue;
            }
        };
        let short = packet.is_short();
        let (caplen, interface_id) = (packet.caplen, packet.interface_id);
        let orig_len = packet.orig_len;
        let ticks = packet.ticks;
        // The frame's bytes where they lie in the window, after the block header.
        let data_start = 8usize.saturating_add(packet.data_offset);
        let data = self
            .buf
            .share(data_start..data_start.saturating_add(packet.data.len()));
        if short && !partial {
            self.diag(
                diags,
                Diagnostic::new(
                    Layer::Capture,
                    format!(
                        "captured length {caplen} exceeds the room in the block; {} bytes kept",
                        data.len()
                    ),
                )
                .at_frame(frame)
                .at_offset(offset),
            );
        }
        let Some(interface) = self.pcapng_interface(interface_id) else {
            let count = self.pcapng_interface_count();
            self.diag(
                diags,
                Diagnostic::new(
                    Layer::Capture,
                    format!(
                        "{} block refers to interface {interface_id}, but the section describes {count}; frame skipped",
                        pcapng::type_name(block_type)
                    ),
                )
                .at_frame(frame)
                .at_offset(offset),
            );
            return Step::Continue;
        };
        let ts = if block_type == pcapng::SIMPLE_PACKET {
            // No timestamp of its own (§4.4): use the last one seen, at the interface precision.
            let last = self.last_ts.unwrap_or_default();
            Timestamp::new(last.secs, last.nanos, interface.tsresol.digits())
        } else {
            interface.tsresol.to_timestamp(ticks, interface.tsoffset)
        };
        if block_type != pcapng::SIMPLE_PACKET {
            self.last_ts = Some(ts);
        }
        Step::Record(Record {
            frame,
            offset,
            ts,
            link_type: interface.link_type,
            orig_len,
            data,
        })
    }

    // ---------------------------------------------------------------- resynchronisation

    /// Whether a record or block could start at the beginning of `bytes`. `at_eof`: `bytes` holds
    /// all the rest of the input.
    fn candidate(&self, bytes: &[u8], at_eof: bool) -> Plausible {
        match &self.state {
            FormatState::Pcap(state) => self.pcap_candidate(&state.header, bytes, at_eof),
            FormatState::Pcapng(_) => self.pcapng_candidate(bytes, at_eof),
        }
    }

    /// A pcap record header is a candidate when it is plausible (near the last good time) and so
    /// is the header after its record, or its record ends where the input does.
    fn pcap_candidate(&self, header: &PcapHeader, bytes: &[u8], at_eof: bool) -> Plausible {
        let hlen = header.record_header_len();
        let Some(first) = pcap::read_record_header(bytes, header.byte_order) else {
            return if at_eof {
                Plausible::No
            } else {
                Plausible::NeedMore(hlen)
            };
        };
        // Zero times and lengths are what runs of zero bytes look like.
        if first.orig_len == 0 || (self.last_ts.is_none() && first.ts_secs == 0) {
            return Plausible::No;
        }
        if !self.pcap_plausible(header, &first, self.last_ts.as_ref()) {
            return Plausible::No;
        }
        let caplen = usize::try_from(first.caplen).unwrap_or(usize::MAX);
        let next_at = hlen.saturating_add(caplen);
        let need = next_at.saturating_add(hlen);
        if bytes.len() < need {
            if !at_eof {
                return Plausible::NeedMore(need);
            }
            // Complete, and followed by the end of input (or a cut-off header).
            return Plausible::from(bytes.len() >= next_at);
        }
        let first_ts = first.timestamp(header.resolution);
        let second = bytes
            .get(next_at..)
            .and_then(|next| pcap::read_record_header(next, header.byte_order));
        Plausible::from(second.is_some_and(|second| {
            second.orig_len != 0 && self.pcap_plausible(header, &second, Some(&first_ts))
        }))
    }

    /// A pcapng block is a candidate when its type is known, its length sane, its trailing length
    /// matches, and a packet block names an interface that exists and fits its data.
    fn pcapng_candidate(&self, bytes: &[u8], at_eof: bool) -> Plausible {
        let Some((block_type, byte_order, total_len)) = self.pcapng_block_header(bytes) else {
            let is_shb = ByteOrder::Little.read_u32(bytes, 0) == Some(pcapng::SECTION_HEADER);
            let need = if is_shb { 12 } else { 8 };
            return if at_eof || bytes.len() >= need {
                Plausible::No
            } else {
                Plausible::NeedMore(need)
            };
        };
        if !pcapng::is_known_type(block_type)
            || pcapng::check_block_len(block_type, total_len, self.options.max_record_len).is_err()
        {
            return Plausible::No;
        }
        let len = usize::try_from(total_len).unwrap_or(usize::MAX);
        let Some(block) = bytes.get(..len) else {
            return if at_eof {
                Plausible::No
            } else {
                Plausible::NeedMore(len)
            };
        };
        if byte_order.read_u32(block, len.saturating_sub(4)) != Some(total_len) {
            return Plausible::No;
        }
        let body = pcapng::block_body(block);
        let count = self.pcapng_interface_count() as u64;
        Plausible::from(match block_type {
            pcapng::ENHANCED_PACKET => pcapng::parse_enhanced_packet(body, byte_order)
                .is_ok_and(|p| u64::from(p.interface_id) < count && !p.is_short()),
            pcapng::PACKET => pcapng::parse_obsolete_packet(body, byte_order)
                .is_ok_and(|p| u64::from(p.interface_id) < count && !p.is_short()),
            pcapng::SIMPLE_PACKET => count > 0,
            _ => true,
        })
    }

    /// Scans forward byte by byte from just after the damaged record for the next candidate, at
    /// most `max_resync_scan` bytes. Returns what happened, for the diagnostic.
    fn resync(&mut self) -> String {
        let start = self.buf.offset();
        let min_header = match &self.state {
            FormatState::Pcap(state) => state.header.record_header_len(),
            FormatState::Pcapng(_) => 8,
        };
        self.buf.consume(1);
        let mut scanned: u64 = 1;
        loop {
            if scanned > self.options.max_resync_scan {
                self.done = true;
                return format!(
                    "nothing plausible within {} bytes; the rest of the input is not read",
                    self.options.max_resync_scan
                );
            }
            let have = self.buf.fill(min_header);
            if have < min_header {
                let skipped = scanned.saturating_sub(1).saturating_add(have as u64);
                self.buf.consume(have);
                return format!(
                    "nothing plausible follows; {skipped} bytes skipped to the end of input"
                );
            }
            let mut verdict = self.candidate(self.buf.available(), self.buf.at_eof());
            if let Plausible::NeedMore(n) = verdict {
                self.buf.fill(n);
                verdict = self.candidate(self.buf.available(), self.buf.at_eof());
            }
            if verdict == Plausible::Yes {
                let resumed = self.buf.offset();
                return format!(
                    "skipped {} bytes to the next plausible record at offset {resumed}",
                    resumed.saturating_sub(start)
                );
            }
            self.buf.consume(1);
            scanned = scanned.saturating_add(1);
        }
    }

    /// At the end of input, with a record or block that runs past it: if a candidate starts
    /// inside it, the length was damage, not a cut; skip to the candidate and say so.
    fn damage_before_end(&mut self) -> Option<String> {
        if !self.buf.at_eof() {
            return None;
        }
        let bytes = self.buf.available();
        let found = (1..bytes.len()).find(|&at| {
            bytes
                .get(at..)
                .is_some_and(|rest| self.candidate(rest, true) == Plausible::Yes)
        })?;
        self.buf.consume(found);
        Some(format!(
            "skipped {found} bytes to the next plausible record at offset {}",
            self.buf.offset()
        ))
    }
}

/// Verdict on a possible record start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plausible {
    Yes,
    No,
    /// Decidable once this many bytes are in the window.
    NeedMore(usize),
}

impl From<bool> for Plausible {
    fn from(yes: bool) -> Self {
        if yes { Plausible::Yes } else { Plausible::No }
    }
}

fn effective_snaplen(snaplen: u32) -> u32 {
    if snaplen == 0 {
        DEFAULT_SNAPLEN
    } else {
        snaplen
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    let shown: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    if shown.is_empty() {
        "nothing".to_string()
    } else {
        shown.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian microsecond pcap of `frames`, Ethernet, snaplen 65535.
    fn pcap_file(frames: &[Vec<u8>]) -> Vec<u8> {
        let mut file = Vec::new();
        file.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        file.extend_from_slice(&[
            2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
        ]);
        for (i, frame) in frames.iter().enumerate() {
            let len = u32::try_from(frame.len()).unwrap();
            file.extend_from_slice(&1_700_000_000u32.to_le_bytes());
            file.extend_from_slice(&u32::try_from(i).unwrap().to_le_bytes());
            file.extend_from_slice(&len.to_le_bytes());
            file.extend_from_slice(&len.to_le_bytes());
            file.extend_from_slice(frame);
        }
        file
    }

    fn frames(count: usize) -> Vec<Vec<u8>> {
        const SIZES: &[usize] = &[60, 333, 1514, 90, 700, 1, 64, 1200];
        (0..count)
            .map(|i| vec![(i % 251) as u8; SIZES[i % SIZES.len()]])
            .collect()
    }

    /// Records cut by the end of a chunk come out whole; those within one chunk share it.
    #[test]
    fn records_across_chunk_ends_come_out_whole() {
        let frames = frames(400);
        let options = ReaderOptions {
            buffer_size: 2048,
            ..ReaderOptions::default()
        };
        let file = pcap_file(&frames);
        let mut reader =
            CaptureReader::from_read_with("t", Box::new(io::Cursor::new(file)), options).unwrap();
        let mut diags = Vec::new();
        let mut records = Vec::new();
        while let Some(record) = reader.next_record(&mut diags) {
            records.push(record);
        }
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(records.len(), frames.len());
        let mut offset = 24u64;
        for (record, frame) in records.iter().zip(&frames) {
            assert_eq!(record.data, *frame);
            assert_eq!(record.offset, offset);
            offset += 16 + frame.len() as u64;
        }
        // Neighbours mostly share a chunk: far fewer chunks than records.
        let shared = records
            .windows(2)
            .filter(|pair| pair[0].data.shares_chunk_with(&pair[1].data))
            .count();
        assert!(shared > records.len() / 2, "{shared} of {}", records.len());
    }

    /// A little-endian pcapng: one Ethernet interface, then `count` 60-byte frames, each after a
    /// custom block of `gap` bytes.
    fn sparse_pcapng(count: usize, gap: u32) -> Vec<u8> {
        let mut file = Vec::new();
        let u32s = |file: &mut Vec<u8>, values: &[u32]| {
            for v in values {
                file.extend_from_slice(&v.to_le_bytes());
            }
        };
        // Section header: version 1.0, section length unknown.
        u32s(&mut file, &[0x0A0D_0D0A, 28, 0x1A2B_3C4D, 1]);
        u32s(&mut file, &[u32::MAX, u32::MAX, 28]);
        // Interface description: LINKTYPE_ETHERNET, no snaplen.
        u32s(&mut file, &[1, 20, 1, 0, 20]);
        for i in 0..count {
            u32s(&mut file, &[pcapng::CUSTOM, gap, 32_473]);
            file.resize(file.len() + gap as usize - 16, 0);
            u32s(&mut file, &[gap]);
            u32s(&mut file, &[6, 92, 0, 0, u32::try_from(i).unwrap(), 60, 60]);
            file.resize(file.len() + 60, 0xee);
            u32s(&mut file, &[92]);
        }
        file
    }

    /// Small frames far apart each hold a chunk of their own: a batch stops once its chunks add up
    /// to twice its byte budget, however few frame bytes it has.
    #[test]
    fn batches_of_sparse_frames_hold_bounded_memory() {
        let options = ReaderOptions {
            buffer_size: 4096,
            ..ReaderOptions::default()
        };
        let file = sparse_pcapng(2000, 3000);
        let mut reader =
            CaptureReader::from_read_with("t", Box::new(io::Cursor::new(file)), options).unwrap();
        let mut diags = Vec::new();
        let max_bytes = 64 << 10;
        let mut frames = 0;
        loop {
            let batch = reader.read_batch(100_000, max_bytes, &mut diags);
            if batch.is_empty() {
                break;
            }
            let mut held = 0;
            for (i, record) in batch.iter().enumerate() {
                assert_eq!(record.data, [0xee; 60]);
                held += record
                    .data
                    .held_beyond(i.checked_sub(1).map(|p| &batch[p].data));
            }
            assert!(held <= 2 * max_bytes + 4096, "{held} bytes held");
            assert!(batch.len() < 100, "{} frames", batch.len());
            frames += batch.len();
        }
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(frames, 2000);
    }

    /// Reading batch after batch, dropping each before the next (as the scan does), reuses the
    /// same few chunks however long the input.
    #[test]
    fn chunks_are_reused_batch_after_batch() {
        let frames = frames(5000);
        let options = ReaderOptions {
            buffer_size: 4096,
            ..ReaderOptions::default()
        };
        let file = pcap_file(&frames);
        let total = file.len();
        let mut reader =
            CaptureReader::from_read_with("t", Box::new(io::Cursor::new(file)), options).unwrap();
        let mut diags = Vec::new();
        let mut read = 0;
        loop {
            let batch = reader.read_batch(64, 1 << 20, &mut diags);
            if batch.is_empty() {
                break;
            }
            for record in &batch {
                assert_eq!(
                    record.data,
                    frames[usize::try_from(record.frame).unwrap() - 1]
                );
            }
            read += batch.len();
        }
        assert_eq!(read, frames.len());
        assert_eq!(reader.offset(), total as u64);
        // A batch of 64 frames spans about 12 chunks of 4 KB; the input, about 1000.
        let allocated = reader.buf.chunks_allocated();
        assert!(allocated <= 20, "{allocated} chunks allocated");
    }
}
