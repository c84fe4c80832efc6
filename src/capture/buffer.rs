//! A bounded read-ahead window over a byte stream.
//!
//! The window normally holds about `chunk` bytes; it grows only when a caller asks for a longer
//! contiguous run (one large record), and never past `max`. Consumed bytes are dropped, so memory
//! does not depend on the input's size.

use std::io::{self, Read};

pub(crate) struct StreamBuffer {
    reader: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// Index in `buf` of the first unconsumed byte.
    pos: usize,
    /// Stream offset of `buf[0]`.
    base: u64,
    eof: bool,
    chunk: usize,
    max: usize,
    error: Option<io::Error>,
}

impl StreamBuffer {
    pub(crate) fn new(reader: Box<dyn Read + Send>, chunk: usize, max: usize) -> Self {
        let chunk = chunk.max(64);
        StreamBuffer {
            reader,
            buf: Vec::with_capacity(chunk),
            pos: 0,
            base: 0,
            eof: false,
            chunk,
            max: max.max(chunk),
            error: None,
        }
    }

    /// Stream offset of the first unconsumed byte.
    pub(crate) fn offset(&self) -> u64 {
        self.base.saturating_add(self.pos as u64)
    }

    /// The unconsumed bytes in the window.
    pub(crate) fn available(&self) -> &[u8] {
        self.buf.get(self.pos..).unwrap_or(&[])
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
    pub(crate) fn fill(&mut self, n: usize) -> usize {
        let n = n.min(self.max);
        let have = self.buf.len().saturating_sub(self.pos);
        if have >= n || self.eof {
            return have;
        }
        if self.pos > 0 {
            self.buf.drain(..self.pos);
            self.base = self.base.saturating_add(self.pos as u64);
            self.pos = 0;
        }
        if self.buf.capacity() > self.chunk.saturating_mul(2) && n <= self.chunk {
            // A large record has gone by: give the memory back.
            self.buf.shrink_to(self.chunk);
        }
        // Read a chunk beyond what was asked, so that a caller stepping through the window byte by
        // byte while asking for long runs (resynchronisation) moves bytes once per chunk, not once
        // per step.
        let target = if n <= self.chunk {
            self.chunk
        } else {
            n.saturating_add(self.chunk).min(self.max)
        };
        self.buf.reserve(target.saturating_sub(self.buf.len()));
        while self.buf.len() < n && !self.eof {
            let want = target.saturating_sub(self.buf.len()) as u64;
            match (&mut self.reader).take(want).read_to_end(&mut self.buf) {
                Ok(got) if (got as u64) < want => self.eof = true,
                Ok(_) => {}
                Err(error) => {
                    self.error = Some(error);
                    self.eof = true;
                }
            }
        }
        self.buf.len().saturating_sub(self.pos)
    }

    /// Drops `n` bytes (or all that are in the window).
    pub(crate) fn consume(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n).min(self.buf.len());
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
        assert!(buffer.buf.capacity() < 2100);
        buffer.consume(1);
        assert_eq!(buffer.fill(900), 999);
        buffer.consume(1000);
        assert_eq!(buffer.fill(10), 100);
        assert!(buffer.buf.capacity() <= 200);
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
}
