//! A bounded read-ahead window over a byte stream, in shared chunks.
//!
//! Input is read straight into a chunk of about `chunk` bytes, and records are handed out as
//! ranges of it ([`RecordData`]) instead of copies. Once a record refers to a chunk, the chunk is
//! never written again: when the window needs bytes past its end, the unconsumed tail (normally
//! a part of one record) moves to the front of a fresh chunk, which is then filled from the input.
//! Left-behind chunks wait in a bounded pool and are reused once no record refers to them any
//! more, so reading neither allocates nor copies per record, and memory does not depend on the
//! input's size.
//!
//! The window grows past `chunk` only when a caller asks for a longer contiguous run (one large
//! record), and never past `max`. Such a large chunk is not pooled, so one jumbo record does not
//! pin its memory.

use super::data::RecordData;
use std::io::{self, Read};
use std::ops::Range;
use std::sync::Arc;

/// Bytes of idle chunks the pool may hold (the former bound on recycled record buffers).
const MAX_POOL_BYTES: usize = 48 << 20;
/// Chunks the pool holds at most, idle or still referred to by records.
const MAX_POOL_CHUNKS: usize = 64;
/// A record is copied rather than shared when more than this much of its chunk before it was not
/// records (large non-frame blocks, damage skipped), and more than was records: a few small
/// frames far apart would otherwise each keep a whole chunk alive.
const SPARSE_SKIPPED: usize = 64 << 10;

pub(crate) struct StreamBuffer {
    reader: Box<dyn Read + Send>,
    /// The chunk holding the window: `chunk[..filled]` is input, `chunk[pos..filled]` unconsumed.
    chunk: Arc<Vec<u8>>,
    filled: usize,
    /// Index in `chunk` of the first unconsumed byte.
    pos: usize,
    /// Bytes of `chunk` handed out as records (shared or copied).
    shared: usize,
    /// Stream offset of `chunk[0]`.
    base: u64,
    eof: bool,
    chunk_size: usize,
    max: usize,
    error: Option<io::Error>,
    /// Chunks left behind, of `chunk_size` bytes; reused once no record refers to them.
    pool: Vec<Arc<Vec<u8>>>,
    max_pool: usize,
    /// Chunks allocated so far (for tests of the pool's bounds).
    allocated: u64,
}

impl StreamBuffer {
    pub(crate) fn new(reader: Box<dyn Read + Send>, chunk: usize, max: usize) -> Self {
        let chunk_size = chunk.max(64);
        StreamBuffer {
            reader,
            chunk: Arc::new(Vec::new()),
            filled: 0,
            pos: 0,
            shared: 0,
            base: 0,
            eof: false,
            chunk_size,
            max: max.max(chunk_size),
            error: None,
            pool: Vec::new(),
            max_pool: (MAX_POOL_BYTES / chunk_size).clamp(2, MAX_POOL_CHUNKS),
            allocated: 0,
        }
    }

    /// Stream offset of the first unconsumed byte.
    pub(crate) fn offset(&self) -> u64 {
        self.base.saturating_add(self.pos as u64)
    }

    /// The unconsumed bytes in the window.
    #[inline]
    pub(crate) fn available(&self) -> &[u8] {
        self.chunk.get(self.pos..self.filled).unwrap_or(&[])
    }

    /// `range` of [`available`](Self::available), shared rather than copied (unless the chunk is
    /// mostly not records, see [`SPARSE_SKIPPED`]).
    #[inline]
    pub(crate) fn share(&mut self, range: Range<usize>) -> RecordData {
        let end = self.pos.saturating_add(range.end).min(self.filled);
        let start = self.pos.saturating_add(range.start).min(end);
        let len = end.saturating_sub(start);
        let skipped = start.saturating_sub(self.shared);
        // Copies count too: once records outweigh what was skipped, sharing resumes.
        self.shared = self.shared.saturating_add(len);
        if skipped > SPARSE_SKIPPED && skipped > self.shared && len < skipped {
            return RecordData::owned(self.chunk.get(start..end).unwrap_or(&[]).to_vec());
        }
        RecordData::shared(&self.chunk, start..end)
    }

    /// True once the underlying reader has reported its end (or failed).
    pub(crate) fn at_eof(&self) -> bool {
        self.eof
    }

    /// The read error that ended the input, once.
    pub(crate) fn take_error(&mut self) -> Option<io::Error> {
        self.error.take()
    }

    /// Tries to have `n` unconsumed bytes in the window (at most `max`); returns how many there
    /// are, fewer only at the end of input or when `n` exceeds `max`.
    #[inline]
    pub(crate) fn fill(&mut self, n: usize) -> usize {
        let have = self.filled.saturating_sub(self.pos);
        if have >= n || self.eof {
            return have;
        }
        self.refill(n.min(self.max))
    }

    /// Moves the unconsumed tail to the front of a chunk with room for `n` bytes (this one when no
    /// record refers to it, else a fresh one) and reads until the chunk is full or the input ends.
    #[cold]
    fn refill(&mut self, n: usize) -> usize {
        let have = self.filled.saturating_sub(self.pos);
        if have >= n {
            return have;
        }
        // A chunk beyond what was asked, so that a caller stepping through the window byte by byte
        // while asking for long runs (resynchronisation) moves bytes once per chunk, not once per
        // step.
        let size = if n <= self.chunk_size {
            self.chunk_size
        } else {
            n.saturating_add(self.chunk_size).min(self.max)
        };
        let len = self.chunk.len();
        // A large chunk is given up as soon as normal sizes will do: its memory goes back.
        let fits = len >= size && (size > self.chunk_size || len == self.chunk_size);
        let (pos, filled) = (self.pos, self.filled);
        match Arc::get_mut(&mut self.chunk) {
            Some(chunk) if fits => {
                chunk.copy_within(pos..filled, 0);
            }
            _ => {
                let mut fresh = self.spare_chunk(size);
                if let (Some(to), Some(from)) = (fresh.get_mut(..have), self.chunk.get(pos..filled))
                {
                    to.copy_from_slice(from);
                }
                let old = std::mem::replace(&mut self.chunk, Arc::new(fresh));
                self.retire(old);
            }
        }
        self.base = self.base.saturating_add(pos as u64);
        self.pos = 0;
        self.filled = have;
        // No record refers to the chunk now in use.
        self.shared = 0;
        self.read_to_fill();
        self.filled
    }

    /// Reads into the chunk after `filled` until it is full or the input ends.
    fn read_to_fill(&mut self) {
        let Some(chunk) = Arc::get_mut(&mut self.chunk) else {
            return;
        };
        while !self.eof {
            let Some(room) = chunk.get_mut(self.filled..) else {
                break;
            };
            if room.is_empty() {
                break;
            }
            match self.reader.read(room) {
                Ok(0) => self.eof = true,
                Ok(got) => self.filled = self.filled.saturating_add(got).min(chunk.len()),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) => {
                    self.error = Some(error);
                    self.eof = true;
                }
            }
        }
    }

    /// A chunk of `size` bytes: an idle pooled one when the size is the usual one and there is one.
    fn spare_chunk(&mut self, size: usize) -> Vec<u8> {
        if size == self.chunk_size {
            // The most recently left behind of the idle ones: the most likely still in cache.
            while let Some(at) = self.pool.iter().rposition(|c| Arc::strong_count(c) == 1) {
                let chunk = self.pool.remove(at);
                match Arc::try_unwrap(chunk) {
                    Ok(chunk) if chunk.len() == size => return chunk,
                    // Not idle after all: keep waiting.
                    Err(chunk) => {
                        self.pool.push(chunk);
                        break;
                    }
                    Ok(_) => {}
                }
            }
        }
        self.allocated = self.allocated.saturating_add(1);
        vec![0; size]
    }

    /// Keeps a chunk left behind for reuse, within the pool's bounds; otherwise it is freed once
    /// the last record referring to it is dropped.
    fn retire(&mut self, chunk: Arc<Vec<u8>>) {
        if chunk.len() == self.chunk_size && self.pool.len() < self.max_pool {
            self.pool.push(chunk);
        }
    }

    /// Chunks allocated so far (the pool's reuse keeps this small).
    #[cfg(test)]
    pub(crate) fn chunks_allocated(&self) -> u64 {
        self.allocated
    }

    /// Drops `n` bytes (or all that are in the window).
    #[inline]
    pub(crate) fn consume(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.filled);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_stays_bounded_and_offsets_add_up() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        let mut buffer = StreamBuffer::new(Box::new(io::Cursor::new(data.clone())), 100, 1000);
        assert_eq!(buffer.fill(10), 100);
        buffer.consume(95);
        assert_eq!(buffer.fill(50), 100);
        assert_eq!(buffer.offset(), 95);
        assert_eq!(buffer.available()[0], data[95]);
        // Asking for more than the cap gives at most the cap.
        assert_eq!(buffer.fill(5000), 1000);
        assert!(buffer.chunk.len() <= 1000);
        buffer.consume(1);
        assert_eq!(buffer.fill(900), 999);
        buffer.consume(1000);
        assert_eq!(buffer.fill(10), 100);
        assert_eq!(buffer.chunk.len(), 100);
        let mut total = 1095;
        loop {
            let have = buffer.fill(1);
            if have == 0 {
                break;
            }
            buffer.consume(have);
            total += have;
        }
        assert_eq!(total, 10_000);
        assert!(buffer.at_eof());
        assert_eq!(buffer.offset(), 10_000);
    }

    /// Records hold ranges of the chunk they were read from; one cut by the chunk's end moves (its
    /// head only) to the next chunk, and its bytes come out whole.
    #[test]
    fn a_run_across_chunks_is_carried_over() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i % 251) as u8).collect();
        let mut buffer = StreamBuffer::new(Box::new(io::Cursor::new(data.clone())), 100, 1000);
        assert_eq!(buffer.fill(30), 100);
        let first = buffer.share(0..30);
        buffer.consume(30);
        assert_eq!(buffer.fill(60), 70);
        let second = buffer.share(0..60);
        buffer.consume(60);
        assert!(first.shares_chunk_with(&second));
        // 10 bytes left in this chunk; a 40-byte run needs the next one.
        assert_eq!(buffer.available().len(), 10);
        assert_eq!(buffer.fill(40), 100);
        let third = buffer.share(0..40);
        buffer.consume(40);
        assert!(!third.shares_chunk_with(&second));
        assert_eq!(first, data[..30]);
        assert_eq!(second, data[30..90]);
        assert_eq!(third, data[90..130]);
        assert_eq!(buffer.offset(), 130);
        // The first chunk is still referred to: it was not written over.
        assert_eq!(first, data[..30]);
    }

    /// Chunks come back to the pool once their records are dropped: reading a long input while
    /// holding at most a few records allocates a handful of chunks, not one per chunk read; and
    /// records held forever do not make the pool grow past its bound.
    #[test]
    fn recycling_stays_bounded() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut buffer = StreamBuffer::new(Box::new(io::Cursor::new(data.clone())), 1000, 4000);
        let mut held = Vec::new();
        let mut at = 0usize;
        while buffer.fill(50) >= 50 {
            let record = buffer.share(0..50);
            assert_eq!(record, data[at..at + 50]);
            buffer.consume(50);
            at += 50;
            held.push(record);
            if held.len() == 64 {
                held.clear();
            }
        }
        assert_eq!(at, 200_000);
        assert!(
            buffer.allocated <= 6,
            "{} chunks allocated",
            buffer.allocated
        );

        let mut buffer =
            StreamBuffer::new(Box::new(io::Cursor::new(vec![0u8; 1 << 20])), 1000, 4000);
        let mut kept = Vec::new();
        while buffer.fill(100) >= 100 {
            kept.push(buffer.share(0..100));
            buffer.consume(100);
        }
        assert_eq!(kept.len(), (1 << 20) / 100);
        assert!(buffer.pool.len() <= buffer.max_pool);
        assert!(buffer.pool.len() * buffer.chunk_size <= MAX_POOL_BYTES);
        // Once the records are gone, the pooled chunks are all idle.
        drop(kept);
        assert!(buffer.pool.iter().all(|c| Arc::strong_count(c) == 1));
    }

    /// A small record after much that was not records is copied, so it does not keep the chunk
    /// alive; once records outweigh what was skipped, they are shared again.
    #[test]
    fn sparse_records_are_copied() {
        let data: Vec<u8> = (0..400_000u32).map(|i| (i % 251) as u8).collect();
        let mut buffer =
            StreamBuffer::new(Box::new(io::Cursor::new(data.clone())), 300_000, 300_000);
        assert_eq!(buffer.fill(70_000), 300_000);
        let dense = buffer.share(0..1000);
        buffer.consume(1000);
        assert!(dense.shares_chunk_with(&buffer.share(0..0)));
        // 69,000 bytes skipped: more than the threshold and than the 1,000 record bytes so far.
        buffer.consume(69_000);
        let sparse = buffer.share(0..60);
        buffer.consume(60);
        assert_eq!(sparse, data[70_000..70_060]);
        assert!(!sparse.shares_chunk_with(&dense));
        // Records worth more than what was skipped: shared again.
        let big = buffer.share(0..100_000);
        buffer.consume(100_000);
        assert_eq!(big, data[70_060..170_060]);
        assert!(big.shares_chunk_with(&dense));
        let next = buffer.share(0..60);
        assert!(next.shares_chunk_with(&dense));
    }

    #[test]
    fn large_runs_get_a_large_chunk_that_is_not_pooled() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        let mut buffer = StreamBuffer::new(Box::new(io::Cursor::new(data.clone())), 100, 5000);
        assert_eq!(buffer.fill(10), 100);
        let small = buffer.share(0..10);
        buffer.consume(10);
        assert_eq!(buffer.fill(3000), 3100);
        let big = buffer.share(0..3000);
        buffer.consume(3000);
        assert_eq!(big, data[10..3010]);
        assert_eq!(buffer.fill(10), 100);
        buffer.consume(100);
        assert_eq!(buffer.fill(10), 100);
        assert_eq!(buffer.chunk.len(), 100);
        assert!(buffer.pool.iter().all(|c| c.len() == 100));
        assert_eq!(small, data[..10]);
    }
}
