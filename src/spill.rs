//! Append-only storage for serialised report items, so that a report larger than memory can be
//! written: transfers, findings and messages go here as soon as they are final, and only their
//! place in it is kept. Backed by an anonymous temporary file (deleted by the system when the
//! process ends), or by memory for small runs and tests.

use std::fs::File;
use std::io;
#[cfg(not(unix))]
use std::io::{Read, Seek, SeekFrom, Write};
use std::sync::{Mutex, RwLock};

/// Where a blob is in the spill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlobRef {
    pub at: u64,
    pub len: u32,
}

enum Store {
    Memory(RwLock<Vec<u8>>),
    /// Appends reserve their range under the lock, then write outside it; reads take no lock
    /// (positional I/O), so shards and the end of the run read and write in parallel.
    File {
        file: File,
        len: Mutex<u64>,
    },
}

/// Shared by the shards of every input.
pub struct Spill {
    store: Store,
    /// The first I/O error (a full disk): reported at the end of the run, never a panic.
    error: Mutex<Option<io::Error>>,
}

impl std::fmt::Debug for Spill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spill")
    }
}

#[cfg(unix)]
fn write_at(file: &File, bytes: &[u8], at: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, at)
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], at: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, at)
}

/// Without positional I/O, a seek and the read or write that follows must not interleave with
/// another thread's.
#[cfg(not(unix))]
static SEEK_LOCK: Mutex<()> = Mutex::new(());

#[cfg(not(unix))]
fn write_at(mut file: &File, bytes: &[u8], at: u64) -> io::Result<()> {
    let _guard = SEEK_LOCK
        .lock()
        .map_err(|_| io::Error::other("spill lock poisoned"))?;
    file.seek(SeekFrom::Start(at))?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn read_at(mut file: &File, buf: &mut [u8], at: u64) -> io::Result<()> {
    let _guard = SEEK_LOCK
        .lock()
        .map_err(|_| io::Error::other("spill lock poisoned"))?;
    file.seek(SeekFrom::Start(at))?;
    file.read_exact(buf)
}

impl Spill {
    pub fn memory() -> Self {
        Spill {
            store: Store::Memory(RwLock::new(Vec::new())),
            error: Mutex::new(None),
        }
    }

    /// A spill in an unnamed temporary file (in `$TMPDIR`).
    pub fn temp_file() -> io::Result<Self> {
        Ok(Spill {
            store: Store::File {
                file: tempfile::tempfile()?,
                len: Mutex::new(0),
            },
            error: Mutex::new(None),
        })
    }

    /// Appends `bytes`; returns their offset. On an I/O error the offset is still returned (the
    /// error is kept and [`Spill::take_error`] reports it).
    pub fn append(&self, bytes: &[u8]) -> u64 {
        match &self.store {
            Store::Memory(v) => {
                let Ok(mut v) = v.write() else {
                    self.note_error(io::Error::other("spill lock poisoned"));
                    return 0;
                };
                let at = v.len() as u64;
                v.extend_from_slice(bytes);
                at
            }
            Store::File { file, len } => {
                let at = {
                    let Ok(mut len) = len.lock() else {
                        self.note_error(io::Error::other("spill lock poisoned"));
                        return 0;
                    };
                    let at = *len;
                    *len = len.saturating_add(bytes.len() as u64);
                    at
                };
                if let Err(e) = write_at(file, bytes, at) {
                    self.note_error(e);
                }
                at
            }
        }
    }

    /// Reads a blob into `buf` (replacing its contents).
    pub fn read(&self, blob: BlobRef, buf: &mut Vec<u8>) -> io::Result<()> {
        match &self.store {
            Store::Memory(v) => {
                buf.clear();
                let v = v
                    .read()
                    .map_err(|_| io::Error::other("spill lock poisoned"))?;
                let start = usize::try_from(blob.at).map_err(io::Error::other)?;
                let bytes = v
                    .get(start..start.saturating_add(blob.len as usize))
                    .ok_or_else(|| io::Error::other("spill read past the end"))?;
                buf.extend_from_slice(bytes);
            }
            Store::File { file, .. } => {
                // Only bytes the buffer did not hold yet are zeroed first: the read overwrites
                // all of them (callers reuse one buffer for many blobs).
                buf.resize(blob.len as usize, 0);
                read_at(file, buf, blob.at)?;
            }
        }
        Ok(())
    }

    fn note_error(&self, e: io::Error) {
        if let Ok(mut slot) = self.error.lock()
            && slot.is_none()
        {
            *slot = Some(e);
        }
    }

    /// The first write error, if any.
    pub fn take_error(&self) -> Option<io::Error> {
        self.error.lock().ok().and_then(|mut e| e.take())
    }
}

/// Length-prefixed fields inside a blob: `u32` little-endian length, `u32::MAX` for none.
pub fn put_opt_str(buf: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => {
            let len = u32::try_from(s.len()).unwrap_or(u32::MAX - 1);
            buf.extend_from_slice(&len.to_le_bytes());
            buf.extend_from_slice(s.as_bytes().get(..len as usize).unwrap_or(s.as_bytes()));
        }
        None => buf.extend_from_slice(&u32::MAX.to_le_bytes()),
    }
}

pub fn put_u32(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&v.to_le_bytes());
}

/// A timestamp: seconds, nanoseconds, digits.
pub fn put_timestamp(buf: &mut Vec<u8>, ts: crate::time::Timestamp) {
    buf.extend_from_slice(&ts.secs.to_le_bytes());
    put_u32(buf, ts.nanos);
    buf.push(ts.digits);
}

/// An address: 4 or 6, then its octets.
pub fn put_ip(buf: &mut Vec<u8>, ip: std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(ip) => {
            buf.push(4);
            buf.extend_from_slice(&ip.octets());
        }
        std::net::IpAddr::V6(ip) => {
            buf.push(6);
            buf.extend_from_slice(&ip.octets());
        }
    }
}

/// Reads what [`put_opt_str`] and [`put_u32`] wrote.
pub struct BlobReader<'a> {
    rest: &'a [u8],
}

impl<'a> BlobReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        BlobReader { rest: bytes }
    }

    pub fn u32(&mut self) -> Option<u32> {
        let (head, rest) = self.rest.split_first_chunk::<4>()?;
        self.rest = rest;
        Some(u32::from_le_bytes(*head))
    }

    pub fn u64(&mut self) -> Option<u64> {
        let (head, rest) = self.rest.split_first_chunk::<8>()?;
        self.rest = rest;
        Some(u64::from_le_bytes(*head))
    }

    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(n)?;
        self.rest = rest;
        Some(head)
    }

    /// What [`put_timestamp`] wrote.
    pub fn timestamp(&mut self) -> Option<crate::time::Timestamp> {
        let secs = self.u64()? as i64;
        let nanos = self.u32()?;
        let digits = *self.bytes(1)?.first()?;
        Some(crate::time::Timestamp {
            secs,
            nanos,
            digits,
        })
    }

    /// What [`put_ip`] wrote.
    pub fn ip(&mut self) -> Option<std::net::IpAddr> {
        Some(match self.bytes(1)?.first()? {
            4 => std::net::IpAddr::from(<[u8; 4]>::try_from(self.bytes(4)?).ok()?),
            _ => std::net::IpAddr::from(<[u8; 16]>::try_from(self.bytes(16)?).ok()?),
        })
    }

    /// `Some(None)` for an absent string; `None` when the blob is cut.
    pub fn opt_str(&mut self) -> Option<Option<String>> {
        let len = self.u32()?;
        if len == u32::MAX {
            return Some(None);
        }
        let bytes = self.bytes(len as usize)?;
        Some(Some(String::from_utf8_lossy(bytes).into_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_come_back_from_memory_and_file() {
        for spill in [Spill::memory(), Spill::temp_file().unwrap()] {
            let a = spill.append(b"hello");
            let b = spill.append(b", world");
            let mut buf = Vec::new();
            spill.read(BlobRef { at: b, len: 7 }, &mut buf).unwrap();
            assert_eq!(buf, b", world");
            spill.read(BlobRef { at: a, len: 5 }, &mut buf).unwrap();
            assert_eq!(buf, b"hello");
            assert!(spill.read(BlobRef { at: a, len: 99 }, &mut buf).is_err());
            assert!(spill.take_error().is_none());
        }
    }

    #[test]
    fn concurrent_appends_and_reads_keep_every_blob_whole() {
        for spill in [Spill::memory(), Spill::temp_file().unwrap()] {
            let placed: Vec<Vec<(BlobRef, Vec<u8>)>> = std::thread::scope(|scope| {
                let workers: Vec<_> = (0..8u8)
                    .map(|t| {
                        let spill = &spill;
                        scope.spawn(move || {
                            (0..500u32)
                                .map(|i| {
                                    let bytes = vec![t; (i % 97 + 1) as usize];
                                    let at = spill.append(&bytes);
                                    let blob = BlobRef {
                                        at,
                                        len: bytes.len() as u32,
                                    };
                                    // Read back while the others keep appending.
                                    let mut buf = Vec::new();
                                    spill.read(blob, &mut buf).unwrap();
                                    assert_eq!(buf, bytes);
                                    (blob, bytes)
                                })
                                .collect()
                        })
                    })
                    .collect();
                workers.into_iter().map(|w| w.join().unwrap()).collect()
            });
            let mut buf = Vec::new();
            for (blob, bytes) in placed.iter().flatten() {
                spill.read(*blob, &mut buf).unwrap();
                assert_eq!(&buf, bytes);
            }
            assert!(spill.take_error().is_none());
        }
    }

    #[test]
    fn fields_round_trip() {
        let mut buf = Vec::new();
        put_opt_str(&mut buf, Some("tid-1"));
        put_opt_str(&mut buf, None);
        put_u32(&mut buf, 7);
        let mut r = BlobReader::new(&buf);
        assert_eq!(r.opt_str(), Some(Some("tid-1".to_owned())));
        assert_eq!(r.opt_str(), Some(None));
        assert_eq!(r.u32(), Some(7));
        assert_eq!(r.u32(), None);
    }
}
