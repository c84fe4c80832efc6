//! The MMS body: a WSP multipart (nested ones flattened to their leaves) or a single part, with
//! textual Content-Transfer-Encoding (base64, quoted-printable; RFC 2045 6.7, 6.8) undone.

use super::pdu::MmsPart;
use crate::proto::wsp::encoding::{ContentType, DecodeIssue};
use crate::proto::wsp::multipart::{MultipartEntry, MultipartLimits, decode_multipart};

/// Decodes a body: (leaf parts, was multipart, issues with PDU offsets).
pub fn decode_body(
    content_type: &ContentType,
    body: &[u8],
    body_offset: usize,
    limits: &MultipartLimits,
) -> (Vec<MmsPart>, bool, Vec<DecodeIssue>) {
    let mut issues = Vec::new();
    if !content_type.is_multipart() {
        let mut part = MmsPart::new(content_type.clone(), Vec::new(), body.to_vec());
        part.offset = body_offset;
        return (vec![part], false, issues);
    }
    if body.is_empty() {
        return (Vec::new(), true, issues);
    }
    let m = decode_multipart(body, limits);
    issues.extend(m.issues.iter().cloned().map(|i| i.shifted(body_offset)));
    let mut parts = Vec::new();
    collect(&m.entries, body_offset, &mut parts, &mut issues);
    for (i, p) in parts.iter_mut().enumerate() {
        p.index = i;
    }
    (parts, true, issues)
}

fn collect(
    entries: &[MultipartEntry<'_>],
    base: usize,
    parts: &mut Vec<MmsPart>,
    issues: &mut Vec<DecodeIssue>,
) {
    for e in entries {
        if !e.children.is_empty() {
            collect(&e.children, base, parts, issues);
            continue;
        }
        // The same header `MmsPart::new` reads the encoding from, read here first: the part is
        // built once, with its decoded data.
        let encoding = e
            .headers
            .iter()
            .find(|h| h.is("Content-Transfer-Encoding"))
            .map(|h| h.value.trim().to_ascii_lowercase());
        let (data, problem) = match encoding.as_deref() {
            Some("base64") => match decode_base64(e.data) {
                Some(d) => (d, None),
                None => match decode_base64_prefix(e.data) {
                    Some(d) => (
                        d,
                        Some("base64 ends with a partial group: decoded the whole groups"),
                    ),
                    None => (e.data.to_vec(), Some("invalid base64: data kept as sent")),
                },
            },
            Some("quoted-printable") => (decode_quoted_printable(e.data), None),
            _ => (e.data.to_vec(), None),
        };
        if let Some(msg) = problem {
            issues.push(DecodeIssue::new(base + e.data_offset, msg));
        }
        let mut part = MmsPart::new(e.content_type.clone(), e.headers.clone(), data);
        part.depth = e.depth;
        part.truncated = e.truncated || problem.is_some();
        part.offset = base + e.data_offset;
        parts.push(part);
    }
}

/// Base64 with whitespace and line breaks ignored; `None` when not valid.
pub fn decode_base64(data: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let cleaned: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    engine.decode(cleaned).ok()
}

/// Base64 cut short: decodes the complete 4-character groups.
pub fn decode_base64_prefix(data: &[u8]) -> Option<Vec<u8>> {
    let cleaned: Vec<u8> = data
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let whole = cleaned.len() - cleaned.len() % 4;
    decode_base64(cleaned.get(..whole)?)
}

/// Base64 in lines of 76 characters (for encoders).
pub fn encode_base64(data: &[u8]) -> Vec<u8> {
    use base64::Engine as _;
    let s = base64::engine::general_purpose::STANDARD.encode(data);
    let mut out = Vec::with_capacity(s.len() + s.len() / 76 * 2);
    for (i, chunk) in s.as_bytes().chunks(76).enumerate() {
        if i > 0 {
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(chunk);
    }
    out
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// Quoted-printable: `=XX` escapes and `=` soft line breaks undone; a malformed escape is kept
/// literally (RFC 2045 6.7 note 1).
pub fn decode_quoted_printable(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while let Some(&b) = data.get(i) {
        if b != b'=' {
            out.push(b);
            i += 1;
            continue;
        }
        match (data.get(i + 1), data.get(i + 2)) {
            (Some(b'\r'), Some(b'\n')) => i += 3,
            (Some(b'\n'), _) => i += 2,
            (Some(&h), Some(&l)) => match (hex_val(h), hex_val(l)) {
                (Some(h), Some(l)) => {
                    out.push((h << 4) | l);
                    i += 3;
                }
                _ => {
                    out.push(b);
                    i += 1;
                }
            },
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Quoted-printable encoding (for encoders): every octet outside printable ASCII, and `=`,
/// escaped; soft line breaks keep lines under 76 characters.
pub fn encode_quoted_printable(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() * 3);
    let mut line = 0;
    for &b in data {
        let literal = (b == b' ' || b.is_ascii_graphic()) && b != b'=';
        let width = if literal { 1 } else { 3 };
        if line + width > 75 {
            out.extend_from_slice(b"=\r\n");
            line = 0;
        }
        if literal {
            out.push(b);
        } else {
            out.extend_from_slice(format!("={b:02X}").as_bytes());
        }
        line += width;
    }
    // A trailing space would be lost by transports that strip it: escape it.
    if out.last() == Some(&b' ') {
        out.pop();
        out.extend_from_slice(b"=20");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transfer_encodings() {
        assert_eq!(decode_base64(b"aGVs\r\nbG8=").unwrap(), b"hello");
        assert!(decode_base64(b"!!!").is_none());
        assert_eq!(
            decode_quoted_printable(b"caf=C3=A9=\r\n ok=ZZ"),
            "café ok=ZZ".as_bytes()
        );
        let data: Vec<u8> = (0..=255u8).chain(b"  end ".iter().copied()).collect();
        assert_eq!(
            decode_quoted_printable(&encode_quoted_printable(&data)),
            data
        );
        assert_eq!(decode_base64(&encode_base64(&data)).unwrap(), data);
    }
}
