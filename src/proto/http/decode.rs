//! Undoing Content-Encoding (gzip RFC 1952, deflate as zlib RFC 1950 or raw RFC 1951) with caps
//! on the decoded size and on the expansion ratio, so a compression bomb costs at most the cap.

use super::parser::ContentCoding;
use std::io::{BufRead, Read};
use thiserror::Error;

/// The expansion ratio is only enforced past this much output: small, very repetitive bodies
/// (a few KiB of padding) legitimately compress far better than real content.
const RATIO_FLOOR: usize = 1024 * 1024;

/// Output is produced in steps of this size, so a cap is never overshot by more than a step.
const STEP: usize = 64 * 1024;

/// Caps applied while decoding one body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Most decoded bytes kept.
    pub max_output: usize,
    /// Largest accepted ratio of decoded to encoded bytes.
    pub max_ratio: u64,
}

/// Why decoding stopped early.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    #[error("http: {coding} stream is corrupt after {decoded} decoded bytes: {reason}")]
    Corrupt {
        coding: &'static str,
        decoded: usize,
        reason: String,
    },
    #[error("http: {coding} stream ends early after {decoded} decoded bytes")]
    Truncated {
        coding: &'static str,
        decoded: usize,
    },
}

/// The result of decoding: whatever was produced, and why it stopped if it stopped early.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub data: Vec<u8>,
    /// A cap (size or ratio) cut the output.
    pub capped: Option<CapHit>,
    pub error: Option<DecodeError>,
}

/// Which cap cut the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapHit {
    Size { max: usize },
    Ratio { max: u64, input: usize },
}

/// A `BufRead` over a byte slice that remembers how much the decoder consumed, so the ratio can
/// be measured against the input actually used.
struct CountingReader<'a> {
    data: &'a [u8],
    consumed: usize,
}

impl Read for CountingReader<'_> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let rest = self.data.get(self.consumed..).unwrap_or(&[]);
        let n = rest.len().min(out.len());
        if let (Some(dst), Some(src)) = (out.get_mut(..n), rest.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.consumed = self.consumed.saturating_add(n);
        Ok(n)
    }
}

impl BufRead for CountingReader<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        Ok(self.data.get(self.consumed..).unwrap_or(&[]))
    }

    fn consume(&mut self, amt: usize) {
        self.consumed = self.consumed.saturating_add(amt).min(self.data.len());
    }
}

/// Whether a deflate body carries the zlib wrapper (RFC 1950 §2.2: CM = 8, header check).
fn has_zlib_header(input: &[u8]) -> bool {
    match input {
        [cmf, flg, ..] => {
            cmf & 0x0f == 8 && cmf >> 4 <= 7 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0
        }
        _ => false,
    }
}

/// Undo one content coding.
pub fn decode(input: &[u8], coding: ContentCoding, limits: DecodeLimits) -> Decoded {
    let reader = CountingReader {
        data: input,
        consumed: 0,
    };
    match coding {
        ContentCoding::Identity => {
            let n = input.len().min(limits.max_output);
            Decoded {
                data: input.get(..n).unwrap_or(&[]).to_vec(),
                capped: (n < input.len()).then_some(CapHit::Size {
                    max: limits.max_output,
                }),
                error: None,
            }
        }
        ContentCoding::Gzip => {
            let mut d = flate2::bufread::MultiGzDecoder::new(reader);
            run(&mut d, |d| d.get_ref().consumed, "gzip", limits)
        }
        ContentCoding::Deflate if has_zlib_header(input) => {
            let mut d = flate2::bufread::ZlibDecoder::new(reader);
            run(&mut d, |d| d.get_ref().consumed, "deflate", limits)
        }
        ContentCoding::Deflate => {
            let mut d = flate2::bufread::DeflateDecoder::new(reader);
            run(&mut d, |d| d.get_ref().consumed, "deflate", limits)
        }
    }
}

fn run<D: Read>(
    decoder: &mut D,
    consumed: impl Fn(&D) -> usize,
    coding: &'static str,
    limits: DecodeLimits,
) -> Decoded {
    let mut data: Vec<u8> = Vec::new();
    let mut capped = None;
    let mut error = None;
    loop {
        if data.len() >= limits.max_output {
            // Only a cap if there is more to come.
            let mut probe = [0u8; 1];
            if matches!(decoder.read(&mut probe), Ok(n) if n > 0) {
                capped = Some(CapHit::Size {
                    max: limits.max_output,
                });
            }
            break;
        }
        let want = STEP.min(limits.max_output.saturating_sub(data.len()));
        let old_len = data.len();
        data.resize(old_len.saturating_add(want), 0);
        let read = decoder.read(data.get_mut(old_len..).unwrap_or(&mut []));
        match read {
            Ok(0) => {
                data.truncate(old_len);
                break;
            }
            Ok(n) => data.truncate(old_len.saturating_add(n)),
            Err(e) => {
                data.truncate(old_len);
                error = Some(if e.kind() == std::io::ErrorKind::UnexpectedEof {
                    DecodeError::Truncated {
                        coding,
                        decoded: data.len(),
                    }
                } else {
                    DecodeError::Corrupt {
                        coding,
                        decoded: data.len(),
                        reason: e.to_string(),
                    }
                });
                break;
            }
        }
        let input = consumed(decoder).max(1);
        let ratio_limit = u64::try_from(input)
            .unwrap_or(u64::MAX)
            .saturating_mul(limits.max_ratio);
        if data.len() > RATIO_FLOOR && u64::try_from(data.len()).unwrap_or(u64::MAX) > ratio_limit {
            capped = Some(CapHit::Ratio {
                max: limits.max_ratio,
                input,
            });
            break;
        }
    }
    data.shrink_to_fit();
    Decoded {
        data,
        capped,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use std::io::Write;

    const LIMITS: DecodeLimits = DecodeLimits {
        max_output: 1 << 20,
        max_ratio: 1000,
    };

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gzip_round_trip() {
        let d = decode(&gzip(b"hello mms"), ContentCoding::Gzip, LIMITS);
        assert_eq!(d.data, b"hello mms");
        assert_eq!(d.capped, None);
        assert_eq!(d.error, None);
    }

    #[test]
    fn deflate_zlib_and_raw() {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), Compression::default());
        z.write_all(b"zlib body").unwrap();
        let z = z.finish().unwrap();
        assert!(has_zlib_header(&z));
        assert_eq!(
            decode(&z, ContentCoding::Deflate, LIMITS).data,
            b"zlib body"
        );

        let mut r = flate2::write::DeflateEncoder::new(Vec::new(), Compression::default());
        r.write_all(b"raw body").unwrap();
        let r = r.finish().unwrap();
        assert_eq!(decode(&r, ContentCoding::Deflate, LIMITS).data, b"raw body");
    }

    #[test]
    fn truncated_stream_keeps_prefix() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let gz = gzip(&data);
        let d = decode(gz.get(..gz.len() / 2).unwrap(), ContentCoding::Gzip, LIMITS);
        assert!(matches!(d.error, Some(DecodeError::Truncated { .. })));
        assert!(!d.data.is_empty());
        assert_eq!(&data[..d.data.len()], &d.data[..]);
    }

    #[test]
    fn size_and_ratio_caps() {
        let zeros = vec![0u8; 4 << 20];
        let gz = gzip(&zeros);
        let d = decode(
            &gz,
            ContentCoding::Gzip,
            DecodeLimits {
                max_output: 100_000,
                max_ratio: u64::MAX,
            },
        );
        assert_eq!(d.data.len(), 100_000);
        assert_eq!(d.capped, Some(CapHit::Size { max: 100_000 }));

        let d = decode(
            &gz,
            ContentCoding::Gzip,
            DecodeLimits {
                max_output: 8 << 20,
                max_ratio: 10,
            },
        );
        assert!(matches!(d.capped, Some(CapHit::Ratio { max: 10, .. })));
        assert!(d.data.len() <= RATIO_FLOOR + STEP);
    }

    #[test]
    fn garbage_is_an_error() {
        let d = decode(b"not gzip at all", ContentCoding::Gzip, LIMITS);
        assert!(d.error.is_some());
        assert!(d.data.is_empty());
    }
}
