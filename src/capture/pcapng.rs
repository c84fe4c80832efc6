//! pcapng blocks (draft-ietf-opsawg-pcapng, "PCAP Now Generic (pcapng) Capture File Format"):
//! §3.1 general block structure, §4.1 Section Header, §4.2 Interface Description, §4.3 Enhanced
//! Packet, §4.4 Simple Packet, Appendix A obsolete Packet Block. Pure parsers over byte slices;
//! buffering and damage recovery live in the reader.

use super::{ByteOrder, TsResolution};
use nom::IResult;
use nom::Parser;

/// Two 16-bit and four 32-bit header fields.
type SixFields = (u16, u16, u32, u32, u32, u32);
use nom::number::complete::{i64 as nom_i64, u16 as nom_u16, u32 as nom_u32};

pub const SECTION_HEADER: u32 = 0x0A0D_0D0A;
pub const INTERFACE_DESCRIPTION: u32 = 0x0000_0001;
/// Obsolete Packet Block (Appendix A).
pub const PACKET: u32 = 0x0000_0002;
pub const SIMPLE_PACKET: u32 = 0x0000_0003;
pub const NAME_RESOLUTION: u32 = 0x0000_0004;
pub const INTERFACE_STATISTICS: u32 = 0x0000_0005;
pub const ENHANCED_PACKET: u32 = 0x0000_0006;
pub const SYSTEMD_JOURNAL: u32 = 0x0000_0009;
pub const DECRYPTION_SECRETS: u32 = 0x0000_000A;
pub const CUSTOM: u32 = 0x0000_0BAD;
pub const CUSTOM_NO_COPY: u32 = 0x4000_0BAD;

/// Written in the Section Header in the writer's byte order.
pub const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

/// Block type, name, and minimum total length (header 8 + fixed fields + trailer 4).
const BLOCK_TYPES: &[(u32, &str, u32)] = &[
    (SECTION_HEADER, "section header", 28),
    (INTERFACE_DESCRIPTION, "interface description", 20),
    (PACKET, "packet", 32),
    (SIMPLE_PACKET, "simple packet", 16),
    (NAME_RESOLUTION, "name resolution", 12),
    (INTERFACE_STATISTICS, "interface statistics", 24),
    (ENHANCED_PACKET, "enhanced packet", 32),
    (SYSTEMD_JOURNAL, "systemd journal export", 12),
    (DECRYPTION_SECRETS, "decryption secrets", 20),
    (CUSTOM, "custom", 16),
    (CUSTOM_NO_COPY, "custom", 16),
];

/// The smallest block: type, length and trailing length.
pub const MIN_BLOCK_LEN: u32 = 12;

/// Option codes used here (§3.5, §4.2).
pub const OPT_END_OF_OPT: u16 = 0;
pub const OPT_IF_TSRESOL: u16 = 9;
pub const OPT_IF_TSOFFSET: u16 = 14;

/// True for the block types this reader knows.
pub fn is_known_type(block_type: u32) -> bool {
    BLOCK_TYPES.iter().any(|(t, _, _)| *t == block_type)
}

/// True for blocks that carry a captured frame.
pub fn is_packet_type(block_type: u32) -> bool {
    matches!(block_type, ENHANCED_PACKET | SIMPLE_PACKET | PACKET)
}

/// A name for messages.
pub fn type_name(block_type: u32) -> &'static str {
    BLOCK_TYPES
        .iter()
        .find(|(t, _, _)| *t == block_type)
        .map_or("unknown", |(_, name, _)| *name)
}

/// Minimum total length of a block of this type.
pub fn min_len(block_type: u32) -> u32 {
    BLOCK_TYPES
        .iter()
        .find(|(t, _, _)| *t == block_type)
        .map_or(MIN_BLOCK_LEN, |(_, _, min)| *min)
}

/// Why a block's total length cannot be right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BlockLengthError {
    #[error("is not a multiple of 4")]
    Unaligned,
    #[error("is below the minimum of {0} for this block type")]
    TooShort(u32),
    #[error("exceeds the limit of {0} bytes")]
    TooLong(usize),
}

/// Checks a block's total length against its type and a cap.
pub fn check_block_len(
    block_type: u32,
    total_len: u32,
    cap: usize,
) -> Result<(), BlockLengthError> {
    let min = min_len(block_type);
    if total_len < min {
        return Err(BlockLengthError::TooShort(min));
    }
    if total_len % 4 != 0 {
        return Err(BlockLengthError::Unaligned);
    }
    if usize::try_from(total_len).map_or(true, |len| len > cap) {
        return Err(BlockLengthError::TooLong(cap));
    }
    Ok(())
}

/// The byte order a Section Header Block declares, from its first 12 bytes.
pub fn section_byte_order(block: &[u8]) -> Option<ByteOrder> {
    let magic: [u8; 4] = block.get(8..12)?.try_into().ok()?;
    if u32::from_le_bytes(magic) == BYTE_ORDER_MAGIC {
        Some(ByteOrder::Little)
    } else if u32::from_be_bytes(magic) == BYTE_ORDER_MAGIC {
        Some(ByteOrder::Big)
    } else {
        None
    }
}

/// Block type and total length (the first 8 bytes of every block).
pub fn parse_block_header(input: &[u8], byte_order: ByteOrder) -> IResult<&[u8], (u32, u32)> {
    let e = byte_order.nom();
    (nom_u32(e), nom_u32(e)).parse(input)
}

/// The body of a complete block: what lies between the 8-byte header and the trailing length.
pub fn block_body(block: &[u8]) -> &[u8] {
    let end = block.len().saturating_sub(4);
    block.get(8..end).unwrap_or(&[])
}

/// Section Header Block fields after the byte-order magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionHeader {
    pub byte_order: ByteOrder,
    pub major: u16,
    pub minor: u16,
    /// -1 when not given.
    pub section_len: i64,
}

/// Parses a Section Header Block body (byte-order magic onwards).
pub fn parse_section_header(body: &[u8]) -> Option<SectionHeader> {
    let mut with_header = [0u8; 12];
    let magic = body.get(..4)?;
    with_header.get_mut(8..12)?.copy_from_slice(magic);
    let byte_order = section_byte_order(&with_header)?;
    let e = byte_order.nom();
    let parsed: IResult<&[u8], (u16, u16, i64)> =
        (nom_u16(e), nom_u16(e), nom_i64(e)).parse(body.get(4..)?);
    let (_, (major, minor, section_len)) = parsed.ok()?;
    Some(SectionHeader {
        byte_order,
        major,
        minor,
        section_len,
    })
}

/// What an Interface Description Block says about timestamps and framing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterfaceDescription {
    pub link_type: u16,
    /// 0 means no limit.
    pub snaplen: u32,
    pub tsresol: TsResolution,
    /// Seconds added to every timestamp (`if_tsoffset`).
    pub tsoffset: i64,
}

/// A problem inside a block whose framing is sound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockBodyError {
    #[error("{block} block fixed fields cut short ({present} of {needed} bytes)")]
    ShortFixedFields {
        block: &'static str,
        present: usize,
        needed: usize,
    },
    #[error("option {code} of length {len} runs past the end of the block")]
    OptionOverrun { code: u16, len: u16 },
    #[error("option {code} has length {len}, expected {expected}")]
    OptionLength { code: u16, len: u16, expected: u16 },
}

/// Options (§3.5): (code, value) pairs up to opt_endofopt or the end of the area.
pub fn parse_options(
    mut area: &[u8],
    byte_order: ByteOrder,
) -> Result<Vec<(u16, &[u8])>, BlockBodyError> {
    let e = byte_order.nom();
    let mut options = Vec::new();
    while area.len() >= 4 {
        let parsed: IResult<&[u8], (u16, u16)> = (nom_u16(e), nom_u16(e)).parse(area);
        let Ok((rest, (code, len))) = parsed else {
            break;
        };
        if code == OPT_END_OF_OPT {
            break;
        }
        let padded = usize::from(len).next_multiple_of(4);
        let (Some(value), Some(after)) = (rest.get(..usize::from(len)), rest.get(padded..)) else {
            return Err(BlockBodyError::OptionOverrun { code, len });
        };
        options.push((code, value));
        area = after;
    }
    Ok(options)
}

/// Parses an Interface Description Block body. Bad options leave the defaults and are reported.
pub fn parse_interface_description(
    body: &[u8],
    byte_order: ByteOrder,
) -> Result<(InterfaceDescription, Option<BlockBodyError>), BlockBodyError> {
    let e = byte_order.nom();
    let parsed: IResult<&[u8], (u16, u16, u32)> = (nom_u16(e), nom_u16(e), nom_u32(e)).parse(body);
    let Ok((options_area, (link_type, _reserved, snaplen))) = parsed else {
        return Err(BlockBodyError::ShortFixedFields {
            block: "interface description",
            present: body.len(),
            needed: 8,
        });
    };
    let mut interface = InterfaceDescription {
        link_type,
        snaplen,
        tsresol: TsResolution::default(),
        tsoffset: 0,
    };
    let mut problem = None;
    match parse_options(options_area, byte_order) {
        Ok(options) => {
            for (code, value) in options {
                match (code, value) {
                    (OPT_IF_TSRESOL, [byte]) => {
                        interface.tsresol = TsResolution::from_option_byte(*byte);
                    }
                    (OPT_IF_TSOFFSET, eight) if eight.len() == 8 => {
                        if let Ok((_, offset)) = nom_i64::<_, nom::error::Error<&[u8]>>(e)(eight) {
                            interface.tsoffset = offset;
                        }
                    }
                    (OPT_IF_TSRESOL, other) | (OPT_IF_TSOFFSET, other) => {
                        problem = Some(BlockBodyError::OptionLength {
                            code,
                            len: u16::try_from(other.len()).unwrap_or(u16::MAX),
                            expected: if code == OPT_IF_TSRESOL { 1 } else { 8 },
                        });
                    }
                    _ => {}
                }
            }
        }
        Err(error) => problem = Some(error),
    }
    Ok((interface, problem))
}

/// A frame from an Enhanced Packet, obsolete Packet or Simple Packet Block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketBlock<'a> {
    pub interface_id: u32,
    /// 64-bit timestamp in the interface's units (0 for Simple Packet Blocks, which have none).
    pub ticks: u64,
    /// Captured length as declared.
    pub caplen: u32,
    pub orig_len: u32,
    /// The captured bytes present: `caplen` bytes, or fewer when the block has no room for them.
    pub data: &'a [u8],
    /// Where `data` starts in the block body (after the fixed fields).
    pub data_offset: usize,
}

impl PacketBlock<'_> {
    /// True when the block holds fewer bytes than its captured length says.
    pub fn is_short(&self) -> bool {
        (self.data.len() as u64) < u64::from(self.caplen)
    }
}

/// Parses an Enhanced Packet Block body (§4.3). Works on a partial body too (the data is then
/// cut at the end of what is present).
pub fn parse_enhanced_packet(
    body: &[u8],
    byte_order: ByteOrder,
) -> Result<PacketBlock<'_>, BlockBodyError> {
    // Five fixed 32-bit fields, read in place: this runs once per frame.
    let (Some(fixed), Some(rest)) = (body.first_chunk::<20>(), body.get(20..)) else {
        return Err(BlockBodyError::ShortFixedFields {
            block: "enhanced packet",
            present: body.len(),
            needed: 20,
        });
    };
    let [interface_id, ts_high, ts_low, caplen, orig_len] = fixed_u32s(fixed, byte_order);
    Ok(PacketBlock {
        interface_id,
        ticks: (u64::from(ts_high) << 32) | u64::from(ts_low),
        caplen,
        orig_len,
        data: take_up_to(rest, caplen),
        data_offset: 20,
    })
}

/// Parses an obsolete Packet Block body (Appendix A): a 16-bit interface id and drop count.
pub fn parse_obsolete_packet(
    body: &[u8],
    byte_order: ByteOrder,
) -> Result<PacketBlock<'_>, BlockBodyError> {
    let e = byte_order.nom();
    let parsed: IResult<&[u8], SixFields> = (
        nom_u16(e),
        nom_u16(e), // drops count
        nom_u32(e),
        nom_u32(e),
        nom_u32(e),
        nom_u32(e),
    )
        .parse(body);
    let Ok((rest, (interface_id, _drops, ts_high, ts_low, caplen, orig_len))) = parsed else {
        return Err(BlockBodyError::ShortFixedFields {
            block: "packet",
            present: body.len(),
            needed: 20,
        });
    };
    Ok(PacketBlock {
        interface_id: u32::from(interface_id),
        ticks: (u64::from(ts_high) << 32) | u64::from(ts_low),
        caplen,
        orig_len,
        data: take_up_to(rest, caplen),
        data_offset: 20,
    })
}

/// Parses a Simple Packet Block body (§4.4): interface 0, no timestamp; the captured length is
/// the smallest of the original length, the interface's snaplen (0 = none) and the room in the
/// block.
pub fn parse_simple_packet(
    body: &[u8],
    byte_order: ByteOrder,
    snaplen: u32,
) -> Result<PacketBlock<'_>, BlockBodyError> {
    let parsed: IResult<&[u8], u32> = nom_u32(byte_order.nom()).parse(body);
    let Ok((rest, orig_len)) = parsed else {
        return Err(BlockBodyError::ShortFixedFields {
            block: "simple packet",
            present: body.len(),
            needed: 4,
        });
    };
    let limit = if snaplen == 0 {
        orig_len
    } else {
        orig_len.min(snaplen)
    };
    let data = take_up_to(rest, limit);
    Ok(PacketBlock {
        interface_id: 0,
        ticks: 0,
        caplen: u32::try_from(data.len()).unwrap_or(u32::MAX),
        orig_len,
        data,
        data_offset: 4,
    })
}

/// The five 32-bit fields of `fixed`, in `byte_order`.
fn fixed_u32s(fixed: &[u8; 20], byte_order: ByteOrder) -> [u32; 5] {
    let mut fields = [0u32; 5];
    for (field, bytes) in fields.iter_mut().zip(fixed.chunks_exact(4)) {
        let four: [u8; 4] = bytes.try_into().unwrap_or_default();
        *field = match byte_order {
            ByteOrder::Little => u32::from_le_bytes(four),
            ByteOrder::Big => u32::from_be_bytes(four),
        };
    }
    fields
}

fn take_up_to(bytes: &[u8], len: u32) -> &[u8] {
    let len = usize::try_from(len).unwrap_or(usize::MAX).min(bytes.len());
    bytes.get(..len).unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_interface_description_with_options() {
        let body = [
            0x71, 0x00, // link type 113 (LINUX_SLL)
            0x00, 0x00, // reserved
            0x00, 0x00, 0x04, 0x00, // snaplen 262144
            0x09, 0x00, 0x01, 0x00, 0x89, 0x00, 0x00, 0x00, // if_tsresol = 2^-9, padded
            0x0e, 0x00, 0x08, 0x00, 0x0a, 0, 0, 0, 0, 0, 0, 0, // if_tsoffset = 10 s
            0x00, 0x00, 0x00, 0x00, // opt_endofopt
        ];
        let (interface, problem) = parse_interface_description(&body, ByteOrder::Little).unwrap();
        assert_eq!(problem, None);
        assert_eq!(interface.link_type, 113);
        assert_eq!(interface.snaplen, 262_144);
        assert_eq!(interface.tsresol, TsResolution::Pow2(9));
        assert_eq!(interface.tsoffset, 10);
    }

    #[test]
    fn reports_option_overrun() {
        let body = [
            0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, // BE: link type 1, snaplen 65535
            0x00, 0x09, 0x00, 0x20, 0x06, // if_tsresol claiming 32 bytes
        ];
        let (interface, problem) = parse_interface_description(&body, ByteOrder::Big).unwrap();
        assert_eq!(interface.link_type, 1);
        assert_eq!(interface.tsresol, TsResolution::MICROS);
        assert_eq!(
            problem,
            Some(BlockBodyError::OptionOverrun { code: 9, len: 32 })
        );
    }

    #[test]
    fn parses_enhanced_and_simple_packets() {
        let body = [
            0x01, 0x00, 0x00, 0x00, // interface 1
            0x00, 0x00, 0x00, 0x00, 0x40, 0x42, 0x0f, 0x00, // ticks 1_000_000
            0x03, 0x00, 0x00, 0x00, // caplen 3
            0x05, 0x00, 0x00, 0x00, // orig_len 5
            0xaa, 0xbb, 0xcc, 0x00, // data + padding
        ];
        let packet = parse_enhanced_packet(&body, ByteOrder::Little).unwrap();
        assert_eq!(packet.interface_id, 1);
        assert_eq!(packet.ticks, 1_000_000);
        assert_eq!(packet.data, &[0xaa, 0xbb, 0xcc]);
        assert_eq!(body.get(packet.data_offset..23), Some(packet.data));
        assert!(!packet.is_short());
        // The same block written big-endian; and cut inside its fixed fields.
        let mut big = body;
        for field in big[..20].chunks_mut(4) {
            field.reverse();
        }
        assert_eq!(parse_enhanced_packet(&big, ByteOrder::Big), Ok(packet));
        assert_eq!(
            parse_enhanced_packet(&body[..19], ByteOrder::Little),
            Err(BlockBodyError::ShortFixedFields {
                block: "enhanced packet",
                present: 19,
                needed: 20
            })
        );
        // A body with no room for its captured length: what is there, flagged short.
        let short = parse_enhanced_packet(&body[..21], ByteOrder::Little).unwrap();
        assert_eq!(short.data, &[0xaa]);
        assert!(short.is_short());

        let spb = [0x00, 0x00, 0x00, 0x06, 1, 2, 3, 4, 5, 6, 0, 0];
        let packet = parse_simple_packet(&spb, ByteOrder::Big, 4).unwrap();
        assert_eq!(packet.orig_len, 6);
        assert_eq!(packet.data, &[1, 2, 3, 4]);
        assert_eq!(&spb[packet.data_offset..8], packet.data);
    }

    #[test]
    fn checks_block_lengths() {
        assert_eq!(
            check_block_len(ENHANCED_PACKET, 30, 1 << 20),
            Err(BlockLengthError::TooShort(32))
        );
        assert_eq!(
            check_block_len(ENHANCED_PACKET, 34, 1 << 20),
            Err(BlockLengthError::Unaligned)
        );
        assert_eq!(
            check_block_len(ENHANCED_PACKET, 0xffff_fff0, 1 << 20),
            Err(BlockLengthError::TooLong(1 << 20))
        );
        assert_eq!(check_block_len(0x1234, 12, 1 << 20), Ok(()));
    }
}
