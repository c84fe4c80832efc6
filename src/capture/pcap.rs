//! Classic pcap: the file header and record headers (draft-ietf-opsawg-pcap, "PCAP Capture File
//! Format", §4 File Header and §5 Packet Record). Pure parsers over byte slices.

use super::{ByteOrder, TsResolution};
use crate::time::Timestamp;
use nom::IResult;
use nom::Parser;

/// Two 16-bit and four 32-bit header fields.
type SixFields = (u16, u16, u32, u32, u32, u32);
use nom::number::complete::{u16 as nom_u16, u32 as nom_u32};

/// Magic of microsecond-resolution files.
pub const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// Magic of nanosecond-resolution files.
pub const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// Magic of the "modified" pcap format of Alexey Kuznetzov's patched libpcap, whose record
/// headers carry 8 more bytes (interface index, protocol, packet type, padding).
pub const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

/// Length of the file header.
pub const FILE_HEADER_LEN: usize = 24;
/// Length of a record header.
pub const RECORD_HEADER_LEN: usize = 16;
/// Length of a record header in the modified format.
pub const MODIFIED_RECORD_HEADER_LEN: usize = 24;

/// The pcap file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcapHeader {
    pub byte_order: ByteOrder,
    /// 10^-6 or 10^-9.
    pub resolution: TsResolution,
    /// True for the modified format (24-byte record headers).
    pub modified: bool,
    pub version_major: u16,
    pub version_minor: u16,
    pub snaplen: u32,
    /// LINKTYPE_* (the low 16 bits of the LinkType field; the high bits may carry FCS length).
    pub link_type: u32,
    /// The LinkType field as written.
    pub link_type_field: u32,
}

impl PcapHeader {
    /// Length of this file's record headers.
    pub fn record_header_len(&self) -> usize {
        if self.modified {
            MODIFIED_RECORD_HEADER_LEN
        } else {
            RECORD_HEADER_LEN
        }
    }
}

/// Identifies a pcap magic number given the first four bytes of a file.
pub fn identify_magic(first: [u8; 4]) -> Option<(ByteOrder, TsResolution, bool)> {
    let le = u32::from_le_bytes(first);
    let be = u32::from_be_bytes(first);
    const KINDS: &[(u32, TsResolution, bool)] = &[
        (MAGIC_MICROS, TsResolution::MICROS, false),
        (MAGIC_NANOS, TsResolution::NANOS, false),
        (MAGIC_MODIFIED, TsResolution::MICROS, true),
    ];
    KINDS.iter().find_map(|&(magic, resolution, modified)| {
        if le == magic {
            Some((ByteOrder::Little, resolution, modified))
        } else if be == magic {
            Some((ByteOrder::Big, resolution, modified))
        } else {
            None
        }
    })
}

/// Parses the 24-byte file header; `None` when the magic is not a pcap magic or bytes are missing.
pub fn parse_file_header(input: &[u8]) -> Option<PcapHeader> {
    let first: [u8; 4] = input.get(..4)?.try_into().ok()?;
    let (byte_order, resolution, modified) = identify_magic(first)?;
    let rest = input.get(4..FILE_HEADER_LEN)?;
    let e = byte_order.nom();
    let parsed: IResult<&[u8], SixFields> = (
        nom_u16(e),
        nom_u16(e),
        nom_u32(e), // thiszone: always 0 in practice, ignored
        nom_u32(e), // sigfigs: ignored
        nom_u32(e),
        nom_u32(e),
    )
        .parse(rest);
    let (_, (version_major, version_minor, _zone, _sigfigs, snaplen, link_type_field)) =
        parsed.ok()?;
    Some(PcapHeader {
        byte_order,
        resolution,
        modified,
        version_major,
        version_minor,
        snaplen,
        link_type: link_type_field & 0xffff,
        link_type_field,
    })
}

/// A record header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    pub ts_secs: u32,
    /// Microseconds or nanoseconds, per the file's magic.
    pub ts_frac: u32,
    /// Bytes of the frame stored in the file.
    pub caplen: u32,
    /// Length of the frame on the wire.
    pub orig_len: u32,
}

impl RecordHeader {
    /// True when the fractional part is below one second in the file's resolution.
    pub fn frac_in_range(&self, resolution: TsResolution) -> bool {
        let limit = if resolution == TsResolution::NANOS {
            1_000_000_000
        } else {
            1_000_000
        };
        self.ts_frac < limit
    }

    /// The timestamp; an out-of-range fraction carries into the seconds.
    pub fn timestamp(&self, resolution: TsResolution) -> Timestamp {
        let nanos_per_unit: u64 = if resolution == TsResolution::NANOS {
            1
        } else {
            1_000
        };
        let nanos = u64::from(self.ts_frac) * nanos_per_unit;
        let secs = i64::from(self.ts_secs) + i64::try_from(nanos / 1_000_000_000).unwrap_or(0);
        let nanos = u32::try_from(nanos % 1_000_000_000).unwrap_or(0);
        Timestamp::new(secs, nanos, resolution.digits())
    }
}

/// Parses a record header (the first 16 bytes; the modified format's extra 8 bytes are the
/// caller's to skip).
pub fn parse_record_header(input: &[u8], byte_order: ByteOrder) -> IResult<&[u8], RecordHeader> {
    match (
        read_record_header(input, byte_order),
        input.get(RECORD_HEADER_LEN..),
    ) {
        (Some(header), Some(rest)) => Ok((rest, header)),
        _ => Err(nom::Err::Error(nom::error::Error::new(
            input,
            nom::error::ErrorKind::Eof,
        ))),
    }
}

/// [`parse_record_header`] without the parser plumbing, for the reader's per-record path: four
/// fixed fields at fixed places.
#[inline]
pub fn read_record_header(input: &[u8], byte_order: ByteOrder) -> Option<RecordHeader> {
    let bytes: &[u8; RECORD_HEADER_LEN] = input.first_chunk()?;
    let [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p] = *bytes;
    let fields = match byte_order {
        ByteOrder::Little => [
            u32::from_le_bytes([a, b, c, d]),
            u32::from_le_bytes([e, f, g, h]),
            u32::from_le_bytes([i, j, k, l]),
            u32::from_le_bytes([m, n, o, p]),
        ],
        ByteOrder::Big => [
            u32::from_be_bytes([a, b, c, d]),
            u32::from_be_bytes([e, f, g, h]),
            u32::from_be_bytes([i, j, k, l]),
            u32::from_be_bytes([m, n, o, p]),
        ],
    };
    let [ts_secs, ts_frac, caplen, orig_len] = fields;
    Some(RecordHeader {
        ts_secs,
        ts_frac,
        caplen,
        orig_len,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_big_endian_nanosecond_header() {
        let bytes = [
            0xa1, 0xb2, 0x3c, 0x4d, // magic, big-endian, nanoseconds
            0x00, 0x02, 0x00, 0x04, // version 2.4
            0x00, 0x00, 0x00, 0x00, // thiszone
            0x00, 0x00, 0x00, 0x00, // sigfigs
            0x00, 0x00, 0xff, 0xff, // snaplen 65535
            0x10, 0x00, 0x00, 0x01, // FCS bits + LINKTYPE_ETHERNET
        ];
        let header = parse_file_header(&bytes).unwrap();
        assert_eq!(header.byte_order, ByteOrder::Big);
        assert_eq!(header.resolution, TsResolution::NANOS);
        assert_eq!(header.snaplen, 65535);
        assert_eq!(header.link_type, 1);
        assert_eq!((header.version_major, header.version_minor), (2, 4));
        assert!(parse_file_header(&bytes[..23]).is_none());
    }

    #[test]
    fn parses_record_header_and_timestamp() {
        let bytes = [
            0x00, 0xf1, 0x53, 0x65, // ts_sec 1700000000
            0x40, 0xe2, 0x01, 0x00, // ts_usec 123456
            0x3c, 0x00, 0x00, 0x00, // caplen 60
            0xea, 0x05, 0x00, 0x00, // orig_len 1514
        ];
        let (rest, record) = parse_record_header(&bytes, ByteOrder::Little).unwrap();
        assert!(rest.is_empty());
        assert_eq!(read_record_header(&bytes, ByteOrder::Little), Some(record));
        assert!(parse_record_header(&bytes[..15], ByteOrder::Little).is_err());
        assert_eq!(read_record_header(&bytes[..15], ByteOrder::Little), None);
        let swapped: Vec<u8> = bytes
            .chunks(4)
            .flat_map(|f| f.iter().rev().copied())
            .collect();
        assert_eq!(read_record_header(&swapped, ByteOrder::Big), Some(record));
        assert_eq!(record.caplen, 60);
        assert_eq!(record.orig_len, 1514);
        assert_eq!(
            record.timestamp(TsResolution::MICROS).to_string(),
            "2023-11-14T22:13:20.123456Z"
        );
        // An out-of-range fraction carries into the seconds instead of overflowing.
        let odd = RecordHeader {
            ts_secs: u32::MAX,
            ts_frac: u32::MAX,
            caplen: 0,
            orig_len: 0,
        };
        assert!(!odd.frac_in_range(TsResolution::MICROS));
        let ts = odd.timestamp(TsResolution::MICROS);
        assert_eq!(ts.secs, i64::from(u32::MAX) + 4294);
    }
}
