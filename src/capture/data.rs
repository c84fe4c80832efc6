//! The bytes of one record.
//!
//! The reader fills large chunks straight from its input and hands out records that refer to a
//! range of the chunk they lie in, so frame bytes are not copied once per record. A chunk is
//! shared by the records read from it and goes back to the reader's pool once the last of them is
//! dropped. Records from elsewhere (live capture, tests) own their bytes the same way, in a chunk
//! of their own.

use std::fmt;
use std::ops::{Deref, Range};
use std::sync::Arc;

/// The frame bytes of a [`Record`](super::Record): a range of a shared, immutable chunk.
///
/// Dereferences to `[u8]`. Cloning shares the bytes. Holding a record keeps its whole chunk (the
/// reader's chunks are about [`ReaderOptions::buffer_size`](super::ReaderOptions) bytes) alive:
/// a caller that keeps a few records out of many should copy them with
/// [`to_vec`](<[u8]>::to_vec) or [`into_vec`](RecordData::into_vec).
#[derive(Clone)]
pub struct RecordData {
    chunk: Arc<Vec<u8>>,
    /// Always `start <= end <= chunk.len()`.
    start: usize,
    end: usize,
}

impl RecordData {
    /// Bytes owned by this record alone.
    pub fn owned(data: Vec<u8>) -> RecordData {
        let end = data.len();
        RecordData {
            chunk: Arc::new(data),
            start: 0,
            end,
        }
    }

    /// The bytes of `range` in `chunk` (clamped to the chunk).
    pub(crate) fn shared(chunk: &Arc<Vec<u8>>, range: Range<usize>) -> RecordData {
        let end = range.end.min(chunk.len());
        RecordData {
            chunk: Arc::clone(chunk),
            start: range.start.min(end),
            end,
        }
    }

    pub fn as_slice(&self) -> &[u8] {
        self.chunk.get(self.start..self.end).unwrap_or(&[])
    }

    /// Keeps the first `len` bytes (all of them when there are fewer).
    pub fn truncate(&mut self, len: usize) {
        self.end = self.start.saturating_add(len).min(self.end);
    }

    /// The bytes as a vector of their own: without copying when nothing else shares them.
    pub fn into_vec(self) -> Vec<u8> {
        let whole = self.start == 0 && self.end == self.chunk.len();
        if whole {
            match Arc::try_unwrap(self.chunk) {
                Ok(vec) => vec,
                Err(chunk) => chunk.as_slice().to_vec(),
            }
        } else {
            self.as_slice().to_vec()
        }
    }

    /// True when `self` and `other` lie in the same chunk.
    pub fn shares_chunk_with(&self, other: &RecordData) -> bool {
        Arc::ptr_eq(&self.chunk, &other.chunk)
    }

    /// Bytes of memory holding this record keeps alive: its whole chunk.
    pub fn chunk_len(&self) -> usize {
        self.chunk.len()
    }

    /// Memory this record keeps alive beyond what `previous` (the record read before it) does:
    /// its chunk's size when it starts another chunk, else nothing. Records of a chunk are read
    /// one after the other, so summing this over a batch gives the memory the batch holds, which
    /// a batch must bound besides its frame bytes: a few small frames far apart (between large
    /// non-frame blocks, or damage) each hold a chunk of their own.
    pub fn held_beyond(&self, previous: Option<&RecordData>) -> usize {
        match previous {
            Some(previous) if self.shares_chunk_with(previous) => 0,
            _ => self.chunk_len(),
        }
    }
}

impl Default for RecordData {
    fn default() -> Self {
        RecordData::owned(Vec::new())
    }
}

impl Deref for RecordData {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for RecordData {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl std::borrow::Borrow<[u8]> for RecordData {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}

impl From<Vec<u8>> for RecordData {
    fn from(data: Vec<u8>) -> Self {
        RecordData::owned(data)
    }
}

impl From<&[u8]> for RecordData {
    fn from(data: &[u8]) -> Self {
        RecordData::owned(data.to_vec())
    }
}

impl fmt::Debug for RecordData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

impl PartialEq for RecordData {
    fn eq(&self, other: &RecordData) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for RecordData {}

impl std::hash::Hash for RecordData {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl PartialEq<[u8]> for RecordData {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl PartialEq<&[u8]> for RecordData {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_slice() == *other
    }
}

impl<const N: usize> PartialEq<[u8; N]> for RecordData {
    fn eq(&self, other: &[u8; N]) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl PartialEq<Vec<u8>> for RecordData {
    fn eq(&self, other: &Vec<u8>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl PartialEq<RecordData> for Vec<u8> {
    fn eq(&self, other: &RecordData) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl PartialEq<RecordData> for [u8] {
    fn eq(&self, other: &RecordData) -> bool {
        self == other.as_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_ranges_are_clamped_and_truncate() {
        let chunk = Arc::new((0u8..10).collect::<Vec<u8>>());
        let mut data = RecordData::shared(&chunk, 2..5);
        assert_eq!(data, [2, 3, 4]);
        assert_eq!(Arc::strong_count(&chunk), 2);
        data.truncate(10);
        assert_eq!(data.len(), 3);
        data.truncate(1);
        assert_eq!(data, vec![2]);
        let past = RecordData::shared(&chunk, 8..20);
        assert_eq!(past, [8, 9]);
        let empty = RecordData::shared(&chunk, 30..40);
        assert!(empty.is_empty());
        assert!(past.shares_chunk_with(&empty));
        assert_eq!(past.chunk_len(), 10);
        assert_eq!(past.held_beyond(Some(&empty)), 0);
        assert_eq!(past.held_beyond(None), 10);
        let other = RecordData::owned(vec![1, 2]);
        assert_eq!(other.held_beyond(Some(&past)), 2);
        drop((data, past, empty));
        assert_eq!(Arc::strong_count(&chunk), 1);
    }

    #[test]
    fn owned_bytes_come_back_without_a_copy() {
        let data = RecordData::owned(vec![1, 2, 3]);
        let ptr = data.as_ptr();
        let back = data.into_vec();
        assert_eq!(back, vec![1, 2, 3]);
        assert_eq!(back.as_ptr(), ptr);
        assert_eq!(format!("{:?}", RecordData::from(&[7u8][..])), "[7]");
    }
}
