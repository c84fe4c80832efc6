//! Stage 1 — capture: files → records.
//!
//! Streams pcap and pcapng (both byte orders, every timestamp resolution), gzip-compressed files,
//! folders and standard input, with a bounded buffer. Damage becomes a [`Diagnostic`](crate::diag::Diagnostic) and the
//! reader resynchronises on the next plausible record.

use crate::time::Timestamp;
use std::io;
use std::path::PathBuf;

mod buffer;
mod data;
mod inputs;
#[cfg(feature = "libpcap")]
pub mod libpcap;
pub mod pcap;
pub mod pcapng;
mod reader;
mod writer;

pub use data::RecordData;
pub use inputs::{InputSpec, expand_inputs, is_capture_name};
pub use reader::{CaptureReader, ReaderOptions};
pub use writer::{PcapWriter, PcapngWriter};

/// Link-layer header types (LINKTYPE_* values of the pcap and pcapng formats).
pub mod linktype {
    pub const NULL: u32 = 0;
    pub const ETHERNET: u32 = 1;
    /// DLT_RAW as most systems number it.
    pub const RAW_12: u32 = 12;
    /// DLT_RAW as OpenBSD numbers it.
    pub const RAW_14: u32 = 14;
    pub const LOOP: u32 = 108;
    pub const RAW: u32 = 101;
    pub const LINUX_SLL: u32 = 113;
    pub const IPV4: u32 = 228;
    pub const IPV6: u32 = 229;
    pub const LINUX_SLL2: u32 = 276;

    /// Link types the packet stage decodes.
    pub const DECODED: &[u32] = &[
        NULL, ETHERNET, RAW_12, RAW_14, LOOP, RAW, LINUX_SLL, IPV4, IPV6, LINUX_SLL2,
    ];

    /// Names of common link types (tcpdump.org LINKTYPE_* list), for messages.
    const NAMES: &[(u32, &str)] = &[
        (NULL, "NULL"),
        (ETHERNET, "ETHERNET"),
        (6, "IEEE802_5"),
        (9, "PPP"),
        (RAW_12, "RAW"),
        (RAW_14, "RAW"),
        (50, "PPP_HDLC"),
        (51, "PPP_ETHER"),
        (RAW, "RAW"),
        (104, "C_HDLC"),
        (105, "IEEE802_11"),
        (LOOP, "LOOP"),
        (LINUX_SLL, "LINUX_SLL"),
        (127, "IEEE802_11_RADIOTAP"),
        (147, "USER0"),
        (189, "USB_LINUX"),
        (192, "PPI"),
        (195, "IEEE802_15_4_WITHFCS"),
        (IPV4, "IPV4"),
        (IPV6, "IPV6"),
        (LINUX_SLL2, "LINUX_SLL2"),
    ];

    /// The LINKTYPE_* name of `link_type`, when it is a common one.
    pub fn name(link_type: u32) -> Option<&'static str> {
        NAMES
            .iter()
            .find(|(value, _)| *value == link_type)
            .map(|(_, name)| *name)
    }

    /// True when the packet stage decodes frames of this link type.
    pub fn is_decoded(link_type: u32) -> bool {
        DECODED.contains(&link_type)
    }
}

/// Byte order of a capture file (pcap files and pcapng sections may be either).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    Little,
    Big,
}

impl ByteOrder {
    pub(crate) fn nom(self) -> nom::number::Endianness {
        match self {
            ByteOrder::Little => nom::number::Endianness::Little,
            ByteOrder::Big => nom::number::Endianness::Big,
        }
    }

    pub(crate) fn u16_bytes(self, value: u16) -> [u8; 2] {
        match self {
            ByteOrder::Little => value.to_le_bytes(),
            ByteOrder::Big => value.to_be_bytes(),
        }
    }

    pub(crate) fn u32_bytes(self, value: u32) -> [u8; 4] {
        match self {
            ByteOrder::Little => value.to_le_bytes(),
            ByteOrder::Big => value.to_be_bytes(),
        }
    }

    /// The u32 at `at` in `bytes`, when there are four bytes there.
    pub(crate) fn read_u32(self, bytes: &[u8], at: usize) -> Option<u32> {
        let four: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(match self {
            ByteOrder::Little => u32::from_le_bytes(four),
            ByteOrder::Big => u32::from_be_bytes(four),
        })
    }
}

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// Timestamp resolution: classic pcap has 10^-6 or 10^-9; a pcapng interface declares its own with
/// the `if_tsresol` option (pcapng draft §4.2: most significant bit clear = negative power of 10,
/// set = negative power of 2; 10^-6 when absent).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TsResolution {
    /// Units of 10^-n seconds.
    Pow10(u8),
    /// Units of 2^-n seconds.
    Pow2(u8),
}

impl Default for TsResolution {
    fn default() -> Self {
        TsResolution::MICROS
    }
}

impl TsResolution {
    pub const MICROS: TsResolution = TsResolution::Pow10(6);
    pub const NANOS: TsResolution = TsResolution::Pow10(9);

    /// From the one-byte value of the pcapng `if_tsresol` option.
    pub fn from_option_byte(byte: u8) -> TsResolution {
        if byte & 0x80 == 0 {
            TsResolution::Pow10(byte)
        } else {
            TsResolution::Pow2(byte & 0x7f)
        }
    }

    /// The one-byte value of the pcapng `if_tsresol` option.
    pub fn option_byte(self) -> u8 {
        match self {
            TsResolution::Pow10(n) => n & 0x7f,
            TsResolution::Pow2(n) => 0x80 | (n & 0x7f),
        }
    }

    /// Fractional digits worth printing: as many as the resolution distinguishes, at most 9.
    pub fn digits(self) -> u8 {
        match self {
            TsResolution::Pow10(n) => n.min(9),
            // 2^-n needs ceil(n * log10 2) decimal digits.
            TsResolution::Pow2(n) => {
                let digits = (u32::from(n) * 30_103).div_ceil(100_000);
                u8::try_from(digits.min(9)).unwrap_or(9)
            }
        }
    }

    /// Converts a tick count (units of this resolution since the epoch) plus a whole-second offset
    /// (pcapng `if_tsoffset`) to a timestamp. Never overflows: extreme values saturate.
    pub fn to_timestamp(self, ticks: u64, offset_secs: i64) -> Timestamp {
        let (secs, nanos) = match self {
            // Once per frame: the usual resolutions without 128-bit division.
            TsResolution::Pow10(6) => (
                u128::from(ticks / 1_000_000),
                u128::from(ticks % 1_000_000 * 1_000),
            ),
            TsResolution::Pow10(9) => (
                u128::from(ticks / NANOS_PER_SEC),
                u128::from(ticks % NANOS_PER_SEC),
            ),
            TsResolution::Pow10(n) => pow10_split(n, ticks),
            TsResolution::Pow2(n) => {
                let ticks = u128::from(ticks);
                let shift = u32::from(n);
                let secs = ticks.checked_shr(shift).unwrap_or(0);
                let mask = 1u128.checked_shl(shift).map_or(u128::MAX, |one| one - 1);
                let frac = ticks & mask;
                let nanos = (frac * u128::from(NANOS_PER_SEC))
                    .checked_shr(shift)
                    .unwrap_or(0);
                (secs, nanos)
            }
        };
        let secs = i64::try_from(secs)
            .unwrap_or(i64::MAX)
            .saturating_add(offset_secs);
        let nanos = u32::try_from(nanos).unwrap_or(0);
        Timestamp::new(secs, nanos, self.digits())
    }

    /// Converts a timestamp (at or after the epoch) to ticks of this resolution, rounding down;
    /// `None` when it does not fit in 64 bits.
    pub fn to_ticks(self, ts: &Timestamp) -> Option<u64> {
        let secs = u128::try_from(ts.secs).ok()?;
        let nanos = u128::from(ts.nanos);
        let ticks = match self {
            TsResolution::Pow10(n) => {
                let per_sec = 10u128.checked_pow(u32::from(n))?;
                let whole = secs.checked_mul(per_sec)?;
                let frac = if n <= 9 {
                    nanos / 10u128.pow(9 - u32::from(n))
                } else {
                    nanos.checked_mul(10u128.checked_pow(u32::from(n) - 9)?)?
                };
                whole.checked_add(frac)?
            }
            TsResolution::Pow2(n) => {
                let shift = u32::from(n);
                if shift >= 64 {
                    return None;
                }
                let whole = secs.checked_mul(1u128 << shift)?;
                whole.checked_add((nanos << shift) / u128::from(NANOS_PER_SEC))?
            }
        };
        u64::try_from(ticks).ok()
    }
}

/// Whole seconds and nanoseconds of `ticks` units of 10^-n seconds, for any n.
fn pow10_split(n: u8, ticks: u64) -> (u128, u128) {
    match 10u128.checked_pow(u32::from(n)) {
        Some(per_sec) => {
            let ticks = u128::from(ticks);
            let secs = ticks / per_sec;
            let frac = ticks % per_sec;
            let nanos = if n <= 9 {
                frac.saturating_mul(u128::from(NANOS_PER_SEC)) / per_sec
            } else {
                frac / 10u128.pow(u32::from(n) - 9)
            };
            (secs, nanos)
        }
        // More than 10^38 ticks a second: every u64 tick count is a tiny fraction.
        None => (0, 0),
    }
}

/// An input that cannot be read at all (the CLI exits with code 2). Damage inside a readable
/// capture is not an error: it becomes a [`Diagnostic`](crate::diag::Diagnostic).
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{}: no such file or folder", path.display())]
    NotFound { path: PathBuf },
    #[error("{}: cannot open: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("{}: cannot list folder: {source}", path.display())]
    Walk { path: PathBuf, source: io::Error },
    #[error("{name}: read error at offset {offset}: {source}")]
    Read {
        name: String,
        offset: u64,
        source: io::Error,
    },
    #[error("{name}: empty input")]
    Empty { name: String },
    #[error("{name}: not a pcap or pcapng capture (it starts with {start})")]
    NotACapture { name: String, start: String },
    #[error("{name}: compressed with {compression}, which is not read; decompress it first")]
    UnsupportedCompression {
        name: String,
        compression: &'static str,
    },
    #[error("{name}: {what} cut short: {present} of {needed} bytes present")]
    TruncatedHeader {
        name: String,
        what: &'static str,
        present: usize,
        needed: usize,
    },
    #[error(
        "{name}: pcapng section header at offset 0 has no valid byte-order magic ({found:#010x})"
    )]
    BadByteOrderMagic { name: String, found: u32 },
    /// libpcap refused something (feature `libpcap`).
    #[error("{context}: {message}")]
    Libpcap { context: String, message: String },
    /// An option needs a cargo feature this build lacks.
    #[error("{what} needs a build with the `{feature}` feature (cargo build --features {feature})")]
    FeatureMissing {
        what: &'static str,
        feature: &'static str,
    },
}

/// The container format of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CaptureFormat {
    Pcap,
    Pcapng,
}

impl CaptureFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            CaptureFormat::Pcap => "pcap",
            CaptureFormat::Pcapng => "pcapng",
        }
    }
}

/// One captured frame, as read from the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Frame number, counting from 1 in each input file (damaged records still take a number).
    pub frame: u64,
    /// Byte offset of the record (its header) in the decompressed input.
    pub offset: u64,
    pub ts: Timestamp,
    /// LINKTYPE_* of the interface the frame was captured on.
    pub link_type: u32,
    /// Length of the frame on the wire; `data.len()` is smaller when the snaplen cut it.
    pub orig_len: u32,
    /// The captured bytes: a range of the chunk the reader read them into, not a copy.
    pub data: RecordData,
}

impl Record {
    /// True when the capture kept fewer bytes than were on the wire.
    pub fn is_truncated(&self) -> bool {
        (self.data.len() as u64) < u64::from(self.orig_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcuts for microseconds and nanoseconds give what the general conversion gives.
    #[test]
    fn usual_resolutions_convert_like_the_general_case() {
        let samples = [
            0u64,
            1,
            999_999,
            1_000_000,
            999_999_999,
            1_000_000_000,
            1_700_000_000_123_456,
            1_700_000_000_123_456_789,
            u64::MAX / 3,
            u64::MAX - 1,
            u64::MAX,
        ];
        for n in [6u8, 9] {
            let resolution = TsResolution::Pow10(n);
            for ticks in samples {
                let (secs, nanos) = pow10_split(n, ticks);
                let expected = Timestamp::new(
                    i64::try_from(secs).unwrap_or(i64::MAX).saturating_add(-7),
                    u32::try_from(nanos).unwrap(),
                    n,
                );
                assert_eq!(
                    resolution.to_timestamp(ticks, -7),
                    expected,
                    "10^-{n}: {ticks}"
                );
            }
        }
    }
}
