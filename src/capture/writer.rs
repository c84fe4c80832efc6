//! Writers for classic pcap and pcapng, over any [`Write`]. Used by the lab generator, by
//! `--carve`, and by tests (which also need big-endian files).

use super::pcapng;
use super::{ByteOrder, Record, TsResolution, pcap};
use crate::time::Timestamp;
use std::io::{self, Write};

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

fn len_u32(len: usize) -> io::Result<u32> {
    u32::try_from(len).map_err(|_| invalid(format!("length {len} does not fit in 32 bits")))
}

/// Writes a classic pcap file (draft-ietf-opsawg-pcap §4, §5).
pub struct PcapWriter<W: Write> {
    out: W,
    byte_order: ByteOrder,
    nanos: bool,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Little-endian file with microsecond (`nanos = false`) or nanosecond timestamps.
    pub fn new(out: W, link_type: u32, snaplen: u32, nanos: bool) -> io::Result<Self> {
        Self::with_byte_order(out, link_type, snaplen, nanos, ByteOrder::Little)
    }

    /// Same, in the chosen byte order.
    pub fn with_byte_order(
        mut out: W,
        link_type: u32,
        snaplen: u32,
        nanos: bool,
        byte_order: ByteOrder,
    ) -> io::Result<Self> {
        let magic = if nanos {
            pcap::MAGIC_NANOS
        } else {
            pcap::MAGIC_MICROS
        };
        let mut header = Vec::with_capacity(pcap::FILE_HEADER_LEN);
        header.extend_from_slice(&byte_order.u32_bytes(magic));
        header.extend_from_slice(&byte_order.u16_bytes(2));
        header.extend_from_slice(&byte_order.u16_bytes(4));
        header.extend_from_slice(&[0; 8]); // thiszone, sigfigs
        header.extend_from_slice(&byte_order.u32_bytes(snaplen));
        header.extend_from_slice(&byte_order.u32_bytes(link_type));
        out.write_all(&header)?;
        Ok(PcapWriter {
            out,
            byte_order,
            nanos,
            snaplen,
        })
    }

    /// Writes one record; `data` beyond the snaplen is cut. `orig_len` is the wire length
    /// (at least `data.len()` is written if smaller).
    pub fn write_packet(&mut self, ts: &Timestamp, orig_len: u32, data: &[u8]) -> io::Result<()> {
        let snaplen = usize::try_from(self.snaplen).unwrap_or(usize::MAX);
        let kept = data.get(..snaplen.min(data.len())).unwrap_or(data);
        let caplen = len_u32(kept.len())?;
        let secs = u32::try_from(ts.secs)
            .map_err(|_| invalid(format!("time {ts} does not fit a pcap record")))?;
        let frac = if self.nanos {
            ts.nanos
        } else {
            ts.nanos / 1_000
        };
        let order = self.byte_order;
        let mut header = [0u8; pcap::RECORD_HEADER_LEN];
        for (slot, value) in
            header
                .chunks_exact_mut(4)
                .zip([secs, frac, caplen, orig_len.max(caplen)])
        {
            slot.copy_from_slice(&order.u32_bytes(value));
        }
        self.out.write_all(&header)?;
        self.out.write_all(kept)
    }

    /// Writes a record read from another capture (its link type is the caller's concern).
    pub fn write_record(&mut self, record: &Record) -> io::Result<()> {
        self.write_packet(&record.ts, record.orig_len, &record.data)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and returns the inner writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

#[derive(Debug, Clone, Copy)]
struct WrittenInterface {
    tsresol: TsResolution,
    snaplen: u32,
}

/// Writes a pcapng file (draft-ietf-opsawg-pcapng): a Section Header Block, Interface
/// Description Blocks, Enhanced Packet Blocks; more sections on request.
pub struct PcapngWriter<W: Write> {
    out: W,
    byte_order: ByteOrder,
    interfaces: Vec<WrittenInterface>,
}

impl<W: Write> PcapngWriter<W> {
    /// Starts a little-endian file with its first section.
    pub fn new(out: W) -> io::Result<Self> {
        Self::with_byte_order(out, ByteOrder::Little)
    }

    /// Starts a file in the chosen byte order.
    pub fn with_byte_order(out: W, byte_order: ByteOrder) -> io::Result<Self> {
        let mut writer = PcapngWriter {
            out,
            byte_order,
            interfaces: Vec::new(),
        };
        writer.new_section(byte_order)?;
        Ok(writer)
    }

    /// Starts a new section (which forgets the interfaces), possibly in another byte order.
    pub fn new_section(&mut self, byte_order: ByteOrder) -> io::Result<()> {
        self.byte_order = byte_order;
        self.interfaces.clear();
        let mut body = Vec::with_capacity(16);
        body.extend_from_slice(&byte_order.u32_bytes(pcapng::BYTE_ORDER_MAGIC));
        body.extend_from_slice(&byte_order.u16_bytes(1));
        body.extend_from_slice(&byte_order.u16_bytes(0));
        body.extend_from_slice(&[0xff; 8]); // section length unknown (-1)
        self.write_block(pcapng::SECTION_HEADER, &body)
    }

    /// Describes an interface; returns its id for [`write_packet`](Self::write_packet).
    pub fn add_interface(
        &mut self,
        link_type: u16,
        snaplen: u32,
        tsresol: TsResolution,
    ) -> io::Result<u32> {
        let order = self.byte_order;
        let mut body = Vec::with_capacity(20);
        body.extend_from_slice(&order.u16_bytes(link_type));
        body.extend_from_slice(&order.u16_bytes(0));
        body.extend_from_slice(&order.u32_bytes(snaplen));
        if tsresol != TsResolution::MICROS {
            body.extend_from_slice(&order.u16_bytes(pcapng::OPT_IF_TSRESOL));
            body.extend_from_slice(&order.u16_bytes(1));
            body.extend_from_slice(&[tsresol.option_byte(), 0, 0, 0]);
            body.extend_from_slice(&[0; 4]); // opt_endofopt
        }
        self.write_block(pcapng::INTERFACE_DESCRIPTION, &body)?;
        let id = len_u32(self.interfaces.len())?;
        self.interfaces.push(WrittenInterface { tsresol, snaplen });
        Ok(id)
    }

    /// Writes an Enhanced Packet Block; `data` beyond the interface's snaplen (if not 0) is cut.
    pub fn write_packet(
        &mut self,
        interface_id: u32,
        ts: &Timestamp,
        orig_len: u32,
        data: &[u8],
    ) -> io::Result<()> {
        let interface = usize::try_from(interface_id)
            .ok()
            .and_then(|i| self.interfaces.get(i).copied())
            .ok_or_else(|| invalid(format!("interface {interface_id} was not added")))?;
        let snaplen = match interface.snaplen {
            0 => usize::MAX,
            n => usize::try_from(n).unwrap_or(usize::MAX),
        };
        let kept = data.get(..snaplen.min(data.len())).unwrap_or(data);
        let caplen = len_u32(kept.len())?;
        let ticks = interface
            .tsresol
            .to_ticks(ts)
            .ok_or_else(|| invalid(format!("time {ts} does not fit a pcapng timestamp")))?;
        let order = self.byte_order;
        let mut body = Vec::with_capacity(kept.len().saturating_add(24));
        // The high 32 bits of the tick count, then the low 32.
        let (high, low) = ((ticks >> 32) as u32, (ticks & 0xffff_ffff) as u32);
        for value in [interface_id, high, low, caplen, orig_len.max(caplen)] {
            body.extend_from_slice(&order.u32_bytes(value));
        }
        body.extend_from_slice(kept);
        self.write_block(pcapng::ENHANCED_PACKET, &body)
    }

    /// Writes any block: the body is padded to 32 bits and framed by the total length twice.
    pub fn write_block(&mut self, block_type: u32, body: &[u8]) -> io::Result<()> {
        let padded = body.len().next_multiple_of(4);
        let total = len_u32(padded.saturating_add(12))?;
        let order = self.byte_order;
        self.out.write_all(&order.u32_bytes(block_type))?;
        self.out.write_all(&order.u32_bytes(total))?;
        self.out.write_all(body)?;
        let padding = [0u8; 3];
        let pad_len = padded.saturating_sub(body.len());
        self.out.write_all(padding.get(..pad_len).unwrap_or(&[]))?;
        self.out.write_all(&order.u32_bytes(total))
    }

    /// The byte order of the current section.
    pub fn byte_order(&self) -> ByteOrder {
        self.byte_order
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Flushes and returns the inner writer.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
