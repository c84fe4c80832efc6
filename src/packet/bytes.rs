//! Bounds-checked big- and little-endian reads shared by the header decoders.

use super::error::{Header, PacketError};

/// The first `n` bytes of `data`, or a [`PacketError::Short`] for `header` at `at`.
pub(crate) fn need(data: &[u8], n: usize, header: Header, at: usize) -> Result<(), PacketError> {
    if data.len() < n {
        Err(PacketError::Short {
            header,
            at,
            needed: n,
            present: data.len(),
        })
    } else {
        Ok(())
    }
}

pub(crate) fn u8_at(data: &[u8], i: usize) -> u8 {
    data.get(i).copied().unwrap_or(0)
}

/// Big-endian u16 at `i` (0 when out of range: callers check lengths first with [`need`]).
pub(crate) fn be16(data: &[u8], i: usize) -> u16 {
    data.get(i..)
        .and_then(|s| s.first_chunk::<2>())
        .map_or(0, |c| u16::from_be_bytes(*c))
}

/// Big-endian u32 at `i` (0 when out of range: callers check lengths first with [`need`]).
pub(crate) fn be32(data: &[u8], i: usize) -> u32 {
    data.get(i..)
        .and_then(|s| s.first_chunk::<4>())
        .map_or(0, |c| u32::from_be_bytes(*c))
}

/// Little-endian u32 at `i` (0 when out of range).
pub(crate) fn le32(data: &[u8], i: usize) -> u32 {
    data.get(i..)
        .and_then(|s| s.first_chunk::<4>())
        .map_or(0, |c| u32::from_le_bytes(*c))
}

/// `data[from..]`, empty when `from` is past the end.
pub(crate) fn rest(data: &[u8], from: usize) -> &[u8] {
    data.get(from..).unwrap_or_default()
}
