//! WSP binary multipart (WAP-230 8.5): application/vnd.wap.multipart.*.
//!
//! `Multipart = nEntries(uintvar) *Entry`; `Entry = HeadersLen(uintvar) DataLen(uintvar)
//! ContentType Headers Data`, where HeadersLen counts ContentType and Headers together.
//! Nested multipart entries are decoded recursively up to a depth cap; the total number of
//! entries is capped too. Damage never discards the entries before it.

use super::encoding::{
    ContentType, DecodeIssue, WspError, content_type_value_lenient, encode_content_type,
    encode_uintvar, uintvar,
};
use super::headers::{WspHeader, decode_headers, encode_headers};

/// Caps on nesting and entry count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MultipartLimits {
    /// Levels of multipart decoded (1 = only the outer body).
    pub max_depth: usize,
    /// Entries decoded in total, all levels together.
    pub max_parts: usize,
}

impl Default for MultipartLimits {
    fn default() -> Self {
        MultipartLimits {
            max_depth: 8,
            max_parts: 1000,
        }
    }
}

/// One entry of a multipart body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultipartEntry<'a> {
    pub content_type: ContentType,
    /// Headers after the content type (Content-Location, Content-ID, ...).
    pub headers: Vec<WspHeader>,
    /// The entry's data as carried.
    pub data: &'a [u8],
    /// Offset of `data` from the start of the outermost body.
    pub data_offset: usize,
    /// Nesting level: 0 for entries of the outermost body.
    pub depth: usize,
    /// True when DataLen ran past the end of the body: `data` holds what was there.
    pub truncated: bool,
    /// Entries of a nested multipart (empty when not multipart or not decoded because of a cap).
    pub children: Vec<MultipartEntry<'a>>,
}

/// A decoded multipart body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Multipart<'a> {
    pub entries: Vec<MultipartEntry<'a>>,
    /// Problems and caps reached, offsets from the start of the outermost body.
    pub issues: Vec<DecodeIssue>,
    /// True when a configured cap (depth or part count) stopped decoding.
    pub limit_reached: bool,
}

impl<'a> Multipart<'a> {
    /// Every entry that is not itself a decoded multipart, depth first, in order.
    pub fn leaves(&self) -> Vec<&MultipartEntry<'a>> {
        fn walk<'b, 'a>(entries: &'b [MultipartEntry<'a>], out: &mut Vec<&'b MultipartEntry<'a>>) {
            for e in entries {
                if e.children.is_empty() {
                    out.push(e);
                } else {
                    walk(&e.children, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.entries, &mut out);
        out
    }
}

struct Walker<'l> {
    limits: &'l MultipartLimits,
    parts_seen: usize,
    issues: Vec<DecodeIssue>,
    limit_reached: bool,
}

/// Decodes a multipart body (nested ones too, within `limits`).
pub fn decode_multipart<'a>(body: &'a [u8], limits: &MultipartLimits) -> Multipart<'a> {
    let mut walker = Walker {
        limits,
        parts_seen: 0,
        issues: Vec::new(),
        limit_reached: false,
    };
    let entries = walker.level(body, 0, 0);
    Multipart {
        entries,
        issues: walker.issues,
        limit_reached: walker.limit_reached,
    }
}

impl Walker<'_> {
    fn level<'a>(&mut self, body: &'a [u8], base: usize, depth: usize) -> Vec<MultipartEntry<'a>> {
        let mut entries = Vec::new();
        let (mut input, declared) = match uintvar(body) {
            Ok(v) => v,
            Err(e) => {
                self.issues.push(DecodeIssue::new(
                    base,
                    format!("multipart entry count: {e}"),
                ));
                return entries;
            }
        };
        let mut found: u64 = 0;
        while !input.is_empty() && found < u64::from(declared) {
            if self.parts_seen >= self.limits.max_parts {
                self.limit_reached = true;
                self.issues.push(DecodeIssue::new(
                    base + (body.len() - input.len()),
                    format!(
                        "multipart part limit of {} reached: remaining parts not decoded",
                        self.limits.max_parts
                    ),
                ));
                return entries;
            }
            let entry_offset = base + (body.len() - input.len());
            match self.entry(body, input, base, depth) {
                Ok((rest, entry)) => {
                    let truncated = entry.truncated;
                    entries.push(entry);
                    self.parts_seen += 1;
                    found += 1;
                    input = rest;
                    if truncated {
                        break;
                    }
                }
                Err(e) => {
                    self.issues.push(DecodeIssue::new(
                        base + e.offset_in(body.len()),
                        format!(
                            "multipart entry {} at offset {entry_offset}: {e}",
                            found + 1
                        ),
                    ));
                    return entries;
                }
            }
        }
        if found < u64::from(declared) {
            self.issues.push(DecodeIssue::new(
                base + body.len(),
                format!("multipart declares {declared} part(s) but holds {found}"),
            ));
        } else if !input.is_empty() {
            self.issues.push(DecodeIssue::new(
                base + (body.len() - input.len()),
                format!("{} octet(s) after the last multipart entry", input.len()),
            ));
        }
        entries
    }

    fn entry<'a>(
        &mut self,
        body: &'a [u8],
        input: &'a [u8],
        base: usize,
        depth: usize,
    ) -> Result<(&'a [u8], MultipartEntry<'a>), WspError> {
        let (rest, headers_len) = uintvar(input)?;
        let (rest, data_len) = uintvar(rest)?;
        let headers_len = headers_len as usize;
        let data_len = data_len as usize;
        let Some((header_block, after_headers)) = rest.split_at_checked(headers_len) else {
            return Err(WspError::truncated(
                "multipart headers",
                rest,
                headers_len.saturating_sub(rest.len()),
            ));
        };
        let header_offset = base + (body.len() - rest.len());
        let (content_type, headers) = match content_type_value_lenient(header_block) {
            Ok((hrest, (ct, err))) => {
                if let Some(err) = err {
                    self.issues.push(DecodeIssue::new(
                        header_offset + err.offset_in(header_block.len()),
                        format!("multipart content type: {err}"),
                    ));
                }
                let decoded = decode_headers(hrest);
                let hbase = header_offset + (header_block.len() - hrest.len());
                self.issues
                    .extend(decoded.issues.into_iter().map(|i| i.shifted(hbase)));
                (ct, decoded.headers)
            }
            Err(err) => {
                self.issues.push(DecodeIssue::new(
                    header_offset + err.offset_in(header_block.len()),
                    format!("multipart content type: {err}"),
                ));
                (ContentType::new("application/octet-stream"), Vec::new())
            }
        };
        let data_offset = base + (body.len() - after_headers.len());
        let (data, rest, truncated) = match after_headers.split_at_checked(data_len) {
            Some((d, r)) => (d, r, false),
            None => {
                self.issues.push(DecodeIssue::new(
                    data_offset,
                    format!(
                        "multipart data declares {data_len} octet(s), {} present",
                        after_headers.len()
                    ),
                ));
                (after_headers, &[][..], true)
            }
        };
        let mut entry = MultipartEntry {
            content_type,
            headers,
            data,
            data_offset,
            depth,
            truncated,
            children: Vec::new(),
        };
        if entry.content_type.is_multipart() && !truncated {
            if depth + 1 < self.limits.max_depth {
                entry.children = self.level(data, data_offset, depth + 1);
            } else {
                self.limit_reached = true;
                self.issues.push(DecodeIssue::new(
                    data_offset,
                    format!(
                        "multipart nesting deeper than {} level(s): part kept undecoded",
                        self.limits.max_depth
                    ),
                ));
            }
        }
        Ok((rest, entry))
    }
}

/// One entry to encode.
#[derive(Debug, Clone, Copy)]
pub struct EntryToEncode<'a> {
    pub content_type: &'a ContentType,
    pub headers: &'a [WspHeader],
    pub data: &'a [u8],
}

/// Appends one multipart entry.
pub fn encode_entry(entry: &EntryToEncode<'_>, out: &mut Vec<u8>) -> Result<(), WspError> {
    let mut head = Vec::new();
    encode_content_type(entry.content_type, &mut head)?;
    head.extend_from_slice(&encode_headers(entry.headers)?);
    let hl = u32::try_from(head.len()).map_err(|_| WspError::overflow("HeadersLen", &[]))?;
    let dl = u32::try_from(entry.data.len()).map_err(|_| WspError::overflow("DataLen", &[]))?;
    encode_uintvar(hl, out);
    encode_uintvar(dl, out);
    out.extend_from_slice(&head);
    out.extend_from_slice(entry.data);
    Ok(())
}

/// Encodes a multipart body.
pub fn encode_multipart(entries: &[EntryToEncode<'_>]) -> Result<Vec<u8>, WspError> {
    let mut out = Vec::new();
    let n = u32::try_from(entries.len()).map_err(|_| WspError::overflow("nEntries", &[]))?;
    encode_uintvar(n, &mut out);
    for e in entries {
        encode_entry(e, &mut out)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_entries() {
        // nEntries 2; entry 1: HeadersLen 1, DataLen 2, 0x83 (text/plain), "hi";
        // entry 2: HeadersLen 6, DataLen 1, 0x9E (image/jpeg), Content-ID (0xC0) "<a>", 0xFF.
        let body = [
            0x02, 0x01, 0x02, 0x83, b'h', b'i', 0x06, 0x01, 0x9E, 0xC0, 0x22, b'a', b'>', 0x00,
            0xFF,
        ];
        let m = decode_multipart(&body, &MultipartLimits::default());
        assert!(m.issues.is_empty(), "{:?}", m.issues);
        assert_eq!(m.entries.len(), 2);
        assert_eq!(m.entries[0].content_type.media, "text/plain");
        assert_eq!(m.entries[0].data, b"hi");
        assert_eq!(m.entries[0].data_offset, 4);
        assert_eq!(m.entries[1].headers[0].value, "a>");
        assert_eq!(m.entries[1].data, [0xFF]);
    }

    #[test]
    fn declares_more_than_present_and_truncated_data() {
        let body = [0x03, 0x01, 0x02, 0x83, b'h', b'i', 0x01, 0x05, 0x83, b'x'];
        let m = decode_multipart(&body, &MultipartLimits::default());
        assert_eq!(m.entries.len(), 2);
        assert!(m.entries[1].truncated);
        assert!(m.issues.iter().any(|i| i.message.contains("declares 3")));
    }

    #[test]
    fn round_trip_nested() {
        let inner_ct = ContentType::new("text/plain").with_param("charset", "utf-8");
        let inner = encode_multipart(&[EntryToEncode {
            content_type: &inner_ct,
            headers: &[],
            data: b"inner",
        }])
        .unwrap();
        let outer_ct = ContentType::new("application/vnd.wap.multipart.alternative");
        let hdrs = [WspHeader::text("Content-Location", "alt")];
        let body = encode_multipart(&[EntryToEncode {
            content_type: &outer_ct,
            headers: &hdrs,
            data: &inner,
        }])
        .unwrap();
        let m = decode_multipart(&body, &MultipartLimits::default());
        assert!(m.issues.is_empty());
        assert_eq!(m.entries[0].children[0].data, b"inner");
        assert_eq!(m.leaves().len(), 1);
        assert_eq!(m.entries[0].headers[0].value, "alt");
    }
}
