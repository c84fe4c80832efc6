//! Pure HTTP/1.x parsing helpers: message-start detection, heads (through `httparse`), chunked
//! framing, and the header semantics that decide how a body is delimited (RFC 9112).
//!
//! Nothing here keeps state between calls; the connection state machine in `connection.rs` drives
//! these functions over its buffers.

use thiserror::Error;

/// Request methods recognised when deciding whether a byte stream is HTTP at all, or where a
/// message starts again after a gap. Once a stream is known to be HTTP, any token is accepted.
/// RFC 9110 §9, plus WebDAV (RFC 4918) and PATCH (RFC 5789).
pub const KNOWN_METHODS: &[&str] = &[
    "GET",
    "POST",
    "HEAD",
    "PUT",
    "DELETE",
    "CONNECT",
    "OPTIONS",
    "TRACE",
    "PATCH",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "SEARCH",
    "REPORT",
];

/// Content types that say nothing about the payload; a body carrying one of them (or none) is
/// sniffed for an MMS PDU.
const GENERIC_CONTENT_TYPES: &[&str] = &[
    "application/octet-stream",
    "application/binary",
    "binary/octet-stream",
    "application/unknown",
];

/// The media type of an MMS PDU (OMA-TS-MMS-ENC §7, WAP-209 §7).
const MMS_CONTENT_TYPE: &str = "application/vnd.wap.mms-message";

/// Longest request or status line accepted while looking for a message start.
pub const MAX_START_LINE: usize = 8 * 1024;

/// Longest chunk-size line (size, extensions, CRLF) accepted.
pub const MAX_CHUNK_LINE: usize = 4 * 1024;

/// Which kind of start line was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLineKind {
    /// `METHOD SP request-target SP HTTP/1.x` (RFC 9112 §3).
    Request,
    /// `HTTP/1.x SP 3DIGIT` (RFC 9112 §4).
    Status,
}

/// Result of scanning a buffer for the start of an HTTP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartScan {
    /// A complete, plausible start line begins at `offset`.
    Found { offset: usize, kind: StartLineKind },
    /// A start line may begin at `offset` but the buffer ends before it can be confirmed.
    NeedMore { offset: usize },
    /// No start line begins anywhere in the buffer.
    NotFound,
}

/// How [`scan_for_start`] looks for a message start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanOptions {
    /// Accept only this kind of start line (`None`: either).
    pub want: Option<StartLineKind>,
    /// Accept a start line at any offset; otherwise only at offset 0 (when `line_start_at_0`) and
    /// right after a line feed.
    pub anywhere: bool,
    /// Whether offset 0 counts as the start of a line.
    pub line_start_at_0: bool,
}

/// Outcome of checking one candidate position.
enum Candidate {
    Match(StartLineKind),
    Partial,
    No,
}

/// Scan `buf` for a plausible request line (known method) or status line.
///
/// Work is linear in `buf.len()`: a request-target ends at the first space or control byte, so the
/// candidates examined never overlap by more than a method name.
pub fn scan_for_start(buf: &[u8], opts: ScanOptions) -> StartScan {
    for offset in 0..buf.len() {
        let at_line_start = if offset == 0 {
            opts.line_start_at_0
        } else {
            offset
                .checked_sub(1)
                .and_then(|p| buf.get(p))
                .is_some_and(|&b| b == b'\n')
        };
        if !(opts.anywhere || at_line_start) {
            continue;
        }
        let Some(rest) = buf.get(offset..) else {
            break;
        };
        match check_candidate(rest, opts.want) {
            Candidate::Match(kind) => return StartScan::Found { offset, kind },
            Candidate::Partial => return StartScan::NeedMore { offset },
            Candidate::No => {}
        }
    }
    StartScan::NotFound
}

fn check_candidate(rest: &[u8], want: Option<StartLineKind>) -> Candidate {
    let mut partial = false;
    if want != Some(StartLineKind::Request) {
        match check_status_line(rest) {
            Candidate::Match(k) => return Candidate::Match(k),
            Candidate::Partial => partial = true,
            Candidate::No => {}
        }
    }
    if want != Some(StartLineKind::Status) {
        match check_request_line(rest) {
            Candidate::Match(k) => return Candidate::Match(k),
            Candidate::Partial => partial = true,
            Candidate::No => {}
        }
    }
    if partial {
        Candidate::Partial
    } else {
        Candidate::No
    }
}

/// How a buffer compares with a fixed pattern.
enum Prefix {
    /// The buffer starts with the pattern.
    Full,
    /// The buffer is a strict prefix of the pattern.
    Partial,
    Mismatch,
}

fn match_prefix(rest: &[u8], pattern: &[u8]) -> Prefix {
    let n = rest.len().min(pattern.len());
    if rest.get(..n) != pattern.get(..n) {
        Prefix::Mismatch
    } else if n < pattern.len() {
        Prefix::Partial
    } else {
        Prefix::Full
    }
}

/// `HTTP/1.` DIGIT SP 3DIGIT (SP | CR | LF).
fn check_status_line(rest: &[u8]) -> Candidate {
    match match_prefix(rest, b"HTTP/1.") {
        Prefix::Mismatch => return Candidate::No,
        Prefix::Partial => return Candidate::Partial,
        Prefix::Full => {}
    }
    let tail = rest.get(7..).unwrap_or(&[]);
    // version digit, SP, three digits, then a delimiter
    let checks: [fn(u8) -> bool; 6] = [
        |b| b == b'0' || b == b'1',
        |b| b == b' ',
        |b| b.is_ascii_digit(),
        |b| b.is_ascii_digit(),
        |b| b.is_ascii_digit(),
        |b| b == b' ' || b == b'\r' || b == b'\n',
    ];
    for (i, check) in checks.iter().enumerate() {
        match tail.get(i) {
            None => return Candidate::Partial,
            Some(&b) if !check(b) => return Candidate::No,
            Some(_) => {}
        }
    }
    Candidate::Match(StartLineKind::Status)
}

/// A known method, SP, a request-target without spaces or controls, SP, `HTTP/1.` DIGIT, line end.
fn check_request_line(rest: &[u8]) -> Candidate {
    let mut partial = false;
    let mut method_len = None;
    for method in KNOWN_METHODS {
        let mut pattern = [0u8; 16];
        let m = method.as_bytes();
        let Some(slot) = pattern.get_mut(..m.len()) else {
            continue;
        };
        slot.copy_from_slice(m);
        let Some(sp) = pattern.get_mut(m.len()) else {
            continue;
        };
        *sp = b' ';
        match match_prefix(rest, pattern.get(..=m.len()).unwrap_or(&[])) {
            Prefix::Full => {
                method_len = Some(m.len());
                break;
            }
            Prefix::Partial => partial = true,
            Prefix::Mismatch => {}
        }
    }
    let Some(method_len) = method_len else {
        return if partial {
            Candidate::Partial
        } else {
            Candidate::No
        };
    };
    let after_method = rest.get(method_len.saturating_add(1)..).unwrap_or(&[]);
    let target_len = after_method
        .iter()
        .take(MAX_START_LINE)
        .position(|&b| b <= b' ' || b == 0x7f);
    let Some(target_len) = target_len else {
        return if after_method.len() >= MAX_START_LINE {
            Candidate::No
        } else {
            Candidate::Partial
        };
    };
    if target_len == 0 || after_method.get(target_len) != Some(&b' ') {
        return Candidate::No;
    }
    let version = after_method
        .get(target_len.saturating_add(1)..)
        .unwrap_or(&[]);
    match match_prefix(version, b"HTTP/1.") {
        Prefix::Mismatch => return Candidate::No,
        Prefix::Partial => return Candidate::Partial,
        Prefix::Full => {}
    }
    match version.get(7) {
        None => return Candidate::Partial,
        Some(b'0' | b'1') => {}
        Some(_) => return Candidate::No,
    }
    match version.get(8) {
        None => Candidate::Partial,
        Some(b'\n') => Candidate::Match(StartLineKind::Request),
        Some(b'\r') => match version.get(9) {
            None => Candidate::Partial,
            Some(b'\n') => Candidate::Match(StartLineKind::Request),
            Some(_) => Candidate::No,
        },
        Some(_) => Candidate::No,
    }
}

/// Whether `buf` can be (the beginning of) a request line in a stream already known to be HTTP:
/// a method token (any token, RFC 9110 §9.1) followed by a space.
pub fn could_start_request(buf: &[u8]) -> bool {
    const MAX_METHOD: usize = 32;
    let token = buf
        .iter()
        .take(MAX_METHOD)
        .take_while(|&&b| is_tchar(b))
        .count();
    match buf.get(token) {
        // All token characters so far: plausible while shorter than any sane method.
        None => token < MAX_METHOD,
        Some(b' ') => token > 0,
        Some(_) => false,
    }
}

/// Whether `buf` can be (the beginning of) a status line: it starts with `HTTP/`.
pub fn could_start_response(buf: &[u8]) -> bool {
    !matches!(match_prefix(buf, b"HTTP/"), Prefix::Mismatch)
}

/// token characters (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Find the end of a message head (the empty line after the header fields), searching from
/// `from`. Returns the length of the head including the final line break.
pub fn find_head_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(rel) = buf
        .get(i..)
        .and_then(|s| s.iter().position(|&b| b == b'\n'))
    {
        let lf = i.saturating_add(rel);
        match buf.get(lf.saturating_add(1)..) {
            Some([b'\n', ..]) => return Some(lf.saturating_add(2)),
            Some([b'\r', b'\n', ..]) => return Some(lf.saturating_add(3)),
            _ => {}
        }
        i = lf.saturating_add(1);
    }
    None
}

/// A header field as parsed: the name (a token, so ASCII) and the raw value bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RawHeader<'a> {
    pub name: &'a str,
    pub value: &'a [u8],
}

/// A parsed request head, borrowing the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead<'a> {
    pub method: &'a str,
    pub target: &'a str,
    /// Minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    pub headers: Vec<RawHeader<'a>>,
    /// Bytes taken by the head, final empty line included.
    pub len: usize,
}

/// A parsed response head, borrowing the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead<'a> {
    pub minor_version: u8,
    pub status: u16,
    /// The reason phrase as on the wire (may be empty or not UTF-8).
    pub reason: &'a [u8],
    pub headers: Vec<RawHeader<'a>>,
    pub len: usize,
}

/// Why a head, a chunk line or a header value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HttpParseError {
    #[error("http: message head incomplete")]
    HeadIncomplete,
    #[error("http: more than {max} header fields in message head")]
    TooManyHeaders { max: usize },
    #[error("http: malformed message head: {reason}")]
    MalformedHead { reason: &'static str },
    #[error("http: malformed chunk-size line at offset {offset}")]
    BadChunkSize { offset: usize },
    #[error("http: chunk-size line longer than {max} bytes")]
    ChunkLineTooLong { max: usize },
    #[error("http: chunk size does not fit in 64 bits")]
    ChunkSizeOverflow,
    #[error("http: missing CRLF after chunk data")]
    MissingChunkCrlf,
}

fn parser_config() -> httparse::ParserConfig {
    let mut config = httparse::ParserConfig::default();
    config
        .allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .allow_multiple_spaces_in_request_line_delimiters(true)
        .allow_multiple_spaces_in_response_status_delimiters(true)
        .allow_space_before_first_header_name(true);
    config
}

fn map_httparse_error(e: httparse::Error, max_headers: usize) -> HttpParseError {
    match e {
        httparse::Error::TooManyHeaders => HttpParseError::TooManyHeaders { max: max_headers },
        httparse::Error::HeaderName => HttpParseError::MalformedHead {
            reason: "invalid header name",
        },
        httparse::Error::HeaderValue => HttpParseError::MalformedHead {
            reason: "invalid header value",
        },
        httparse::Error::NewLine => HttpParseError::MalformedHead {
            reason: "invalid line break",
        },
        httparse::Error::Status => HttpParseError::MalformedHead {
            reason: "invalid status code",
        },
        httparse::Error::Token => HttpParseError::MalformedHead {
            reason: "invalid token",
        },
        httparse::Error::Version => HttpParseError::MalformedHead {
            reason: "invalid HTTP version",
        },
    }
}

fn collect_headers<'a>(headers: &[httparse::Header<'a>]) -> Vec<RawHeader<'a>> {
    headers
        .iter()
        .filter(|h| !h.name.is_empty())
        .map(|h| RawHeader {
            name: h.name,
            value: h.value,
        })
        .collect()
}

/// Parse a request head (RFC 9112 §2–§5) with at most `max_headers` fields.
pub fn parse_request_head(
    buf: &[u8],
    max_headers: usize,
) -> Result<RequestHead<'_>, HttpParseError> {
    let mut headers = vec![httparse::EMPTY_HEADER; max_headers];
    let mut req = httparse::Request::new(&mut headers);
    let status = parser_config()
        .parse_request(&mut req, buf)
        .map_err(|e| map_httparse_error(e, max_headers))?;
    let httparse::Status::Complete(len) = status else {
        return Err(HttpParseError::HeadIncomplete);
    };
    let (Some(method), Some(target), Some(minor_version)) = (req.method, req.path, req.version)
    else {
        return Err(HttpParseError::HeadIncomplete);
    };
    Ok(RequestHead {
        method,
        target,
        minor_version,
        headers: collect_headers(req.headers),
        len,
    })
}

/// Parse a response head (RFC 9112 §4) with at most `max_headers` fields.
pub fn parse_response_head(
    buf: &[u8],
    max_headers: usize,
) -> Result<ResponseHead<'_>, HttpParseError> {
    let mut headers = vec![httparse::EMPTY_HEADER; max_headers];
    let mut resp = httparse::Response::new(&mut headers);
    let status = parser_config()
        .parse_response(&mut resp, buf)
        .map_err(|e| map_httparse_error(e, max_headers))?;
    let httparse::Status::Complete(len) = status else {
        return Err(HttpParseError::HeadIncomplete);
    };
    let (Some(minor_version), Some(code)) = (resp.version, resp.code) else {
        return Err(HttpParseError::HeadIncomplete);
    };
    Ok(ResponseHead {
        minor_version,
        status: code,
        reason: status_line_reason(buf),
        headers: collect_headers(resp.headers),
        len,
    })
}

/// The reason phrase of a status line, raw (httparse drops phrases that are not visible ASCII).
fn status_line_reason(buf: &[u8]) -> &[u8] {
    let line_end = buf
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(buf.len());
    let line = buf.get(..line_end).unwrap_or(&[]);
    // "HTTP/1.1" SP+ 3DIGIT SP reason
    let mut parts = line.splitn(2, |&b| b == b' ');
    let _version = parts.next();
    let rest = parts.next().unwrap_or(&[]);
    let rest = trim_start_spaces(rest);
    let after_code = rest.get(3..).unwrap_or(&[]);
    trim_start_spaces(after_code)
}

fn trim_start_spaces(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|&c| c != b' ' && c != b'\t')
        .unwrap_or(b.len());
    b.get(start..).unwrap_or(&[])
}

/// Parse the trailer section after the last chunk (RFC 9112 §7.1.2). `Ok(None)`: need more bytes.
pub fn parse_trailers(
    buf: &[u8],
    max_headers: usize,
) -> Result<Option<(Vec<RawHeader<'_>>, usize)>, HttpParseError> {
    let mut headers = vec![httparse::EMPTY_HEADER; max_headers];
    match httparse::parse_headers(buf, &mut headers) {
        Ok(httparse::Status::Complete((len, parsed))) => Ok(Some((collect_headers(parsed), len))),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(map_httparse_error(e, max_headers)),
    }
}

/// Parse a chunk-size line: `1*HEXDIG *( BWS ";" chunk-ext ) CRLF` (RFC 9112 §7.1, §7.1.1).
/// Returns the chunk size and the bytes taken by the line; `Ok(None)` when the line is not
/// complete yet.
pub fn parse_chunk_size_line(buf: &[u8]) -> Result<Option<(u64, usize)>, HttpParseError> {
    let Some(lf) = buf.iter().take(MAX_CHUNK_LINE).position(|&b| b == b'\n') else {
        return if buf.len() >= MAX_CHUNK_LINE {
            Err(HttpParseError::ChunkLineTooLong {
                max: MAX_CHUNK_LINE,
            })
        } else {
            Ok(None)
        };
    };
    let line = buf.get(..lf).unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(HttpParseError::BadChunkSize { offset: 0 });
    }
    let mut size: u64 = 0;
    for &b in line.iter().take(digits) {
        let v = u64::from(hex_value(b));
        size = size
            .checked_mul(16)
            .and_then(|s| s.checked_add(v))
            .ok_or(HttpParseError::ChunkSizeOverflow)?;
    }
    // After the digits: optional whitespace, then nothing or a chunk extension.
    let rest = trim_start_spaces(line.get(digits..).unwrap_or(&[]));
    if !rest.is_empty() && rest.first() != Some(&b';') {
        return Err(HttpParseError::BadChunkSize { offset: digits });
    }
    Ok(Some((size, lf.saturating_add(1))))
}

fn hex_value(b: u8) -> u8 {
    match b {
        b'0'..=b'9' => b - b'0',
        b'a'..=b'f' => b - b'a' + 10,
        b'A'..=b'F' => b - b'A' + 10,
        _ => 0,
    }
}

/// The line break expected after chunk data: `Ok(Some(len))` when present, `Ok(None)` when more
/// bytes are needed.
pub fn parse_chunk_data_end(buf: &[u8]) -> Result<Option<usize>, HttpParseError> {
    match buf {
        [] | [b'\r'] => Ok(None),
        [b'\n', ..] => Ok(Some(1)),
        [b'\r', b'\n', ..] => Ok(Some(2)),
        _ => Err(HttpParseError::MissingChunkCrlf),
    }
}

/// How a message body is delimited (RFC 9112 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFraming {
    None,
    Length(u64),
    Chunked,
    /// Until the connection closes (responses only).
    UntilClose,
}

/// What the framing headers said, and whether they were contradictory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramingDecision {
    pub framing: BodyFraming,
    /// Transfer-Encoding and Content-Length were both present (a request-smuggling sign).
    pub both_length_and_encoding: bool,
    /// Content-Length values were unparseable or disagreed.
    pub invalid_length: bool,
    /// Transfer-Encoding present but its final coding is not chunked.
    pub non_chunked_transfer_encoding: bool,
}

/// Decide body framing from the header fields of a message (RFC 9112 §6.3, rules 3–7).
/// `is_request` selects rules 6/7 for a message with neither header.
pub fn body_framing(headers: &[(String, String)], is_request: bool) -> FramingDecision {
    let mut decision = FramingDecision {
        framing: if is_request {
            BodyFraming::None
        } else {
            BodyFraming::UntilClose
        },
        both_length_and_encoding: false,
        invalid_length: false,
        non_chunked_transfer_encoding: false,
    };
    let mut codings: Vec<String> = Vec::new();
    let mut has_te = false;
    for (_, value) in headers_named(headers, "transfer-encoding") {
        has_te = true;
        codings.extend(
            value
                .split(',')
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty()),
        );
    }
    let length = content_length(headers);
    let has_cl = headers_named(headers, "content-length").next().is_some();
    if has_te {
        decision.both_length_and_encoding = has_cl;
        if codings.last().is_some_and(|c| c == "chunked") {
            decision.framing = BodyFraming::Chunked;
        } else {
            decision.non_chunked_transfer_encoding = true;
            decision.framing = if is_request {
                BodyFraming::None
            } else {
                BodyFraming::UntilClose
            };
        }
        return decision;
    }
    match length {
        Ok(Some(0)) => decision.framing = BodyFraming::None,
        Ok(Some(n)) => decision.framing = BodyFraming::Length(n),
        Ok(None) => {}
        Err(InvalidContentLength) => decision.invalid_length = true,
    }
    decision
}

/// Content-Length values that are malformed, too large, or disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("http: invalid or conflicting Content-Length")]
pub struct InvalidContentLength;

/// The Content-Length of a message: `Ok(None)` when absent, `Err` when malformed or when several
/// values disagree (RFC 9110 §8.6, RFC 9112 §6.3 rule 5).
pub fn content_length(headers: &[(String, String)]) -> Result<Option<u64>, InvalidContentLength> {
    let mut found: Option<u64> = None;
    for (_, value) in headers_named(headers, "content-length") {
        for part in value.split(',') {
            let part = part.trim();
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(InvalidContentLength);
            }
            let n: u64 = part.parse().map_err(|_| InvalidContentLength)?;
            match found {
                Some(prev) if prev != n => return Err(InvalidContentLength),
                _ => found = Some(n),
            }
        }
    }
    Ok(found)
}

/// Header fields named `name` (case-insensitive), in wire order.
pub fn headers_named<'h>(
    headers: &'h [(String, String)],
    name: &'h str,
) -> impl Iterator<Item = &'h (String, String)> + 'h {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
}

/// The first header field named `name` (case-insensitive).
pub fn header_value<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// A content coding this crate undoes (RFC 9110 §8.4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentCoding {
    Identity,
    Gzip,
    Deflate,
}

/// Parse a Content-Encoding value into codings in the order they were applied; `Err` names the
/// first coding that is not supported.
pub fn parse_content_encoding(value: &str) -> Result<Vec<ContentCoding>, String> {
    let mut codings = Vec::new();
    for token in value.split(',') {
        let token = token.trim().to_ascii_lowercase();
        match token.as_str() {
            "" | "identity" => {}
            "gzip" | "x-gzip" => codings.push(ContentCoding::Gzip),
            "deflate" => codings.push(ContentCoding::Deflate),
            other => return Err(other.to_string()),
        }
    }
    if codings.is_empty() {
        codings.push(ContentCoding::Identity);
    }
    Ok(codings)
}

/// The full URL of a request: absolute-form as is; origin-form joined to Host as
/// `http://host/path` (RFC 9112 §3.2–§3.3); authority-form (CONNECT) and asterisk-form as is.
pub fn full_url(target: &str, host: Option<&str>) -> String {
    if target.starts_with('/') {
        match host.map(str::trim).filter(|h| !h.is_empty()) {
            Some(host) => format!("http://{host}{target}"),
            None => target.to_string(),
        }
    } else {
        target.to_string()
    }
}

/// Whether a Content-Type value names the MMS PDU media type (case-insensitive, parameters
/// ignored).
pub fn is_mms_content_type(ct: &str) -> bool {
    media_type(ct).eq_ignore_ascii_case(MMS_CONTENT_TYPE)
}

/// Whether a Content-Type is absent-equivalent or a catch-all binary type.
pub fn is_generic_content_type(ct: Option<&str>) -> bool {
    match ct {
        None => true,
        Some(ct) => {
            let mt = media_type(ct);
            mt.is_empty()
                || GENERIC_CONTENT_TYPES
                    .iter()
                    .any(|g| g.eq_ignore_ascii_case(mt))
        }
    }
}

/// The `type/subtype` part of a Content-Type value, trimmed.
fn media_type(ct: &str) -> &str {
    ct.split(';').next().unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(want: Option<StartLineKind>, anywhere: bool) -> ScanOptions {
        ScanOptions {
            want,
            anywhere,
            line_start_at_0: true,
        }
    }

    #[test]
    fn finds_request_and_status_lines() {
        assert_eq!(
            scan_for_start(b"GET / HTTP/1.1\r\n", opts(None, false)),
            StartScan::Found {
                offset: 0,
                kind: StartLineKind::Request
            }
        );
        assert_eq!(
            scan_for_start(b"xx\r\nHTTP/1.0 200 OK\r\n", opts(None, false)),
            StartScan::Found {
                offset: 4,
                kind: StartLineKind::Status
            }
        );
        // Not at a line start and not `anywhere`.
        assert_eq!(
            scan_for_start(b"xxHTTP/1.0 200 OK\r\n", opts(None, false)),
            StartScan::NotFound
        );
        assert_eq!(
            scan_for_start(b"xxHTTP/1.0 200 OK\r\n", opts(None, true)),
            StartScan::Found {
                offset: 2,
                kind: StartLineKind::Status
            }
        );
        // Wanted kind only.
        assert_eq!(
            scan_for_start(
                b"HTTP/1.1 200 OK\r\n",
                opts(Some(StartLineKind::Request), true)
            ),
            StartScan::NotFound
        );
    }

    #[test]
    fn partial_start_lines_wait_for_more() {
        assert_eq!(
            scan_for_start(b"GE", opts(None, false)),
            StartScan::NeedMore { offset: 0 }
        );
        assert_eq!(
            scan_for_start(b"junk\nPOST /mms HTTP/1.", opts(None, false)),
            StartScan::NeedMore { offset: 5 }
        );
        assert_eq!(
            scan_for_start(b"HTTP/1.1 2", opts(None, false)),
            StartScan::NeedMore { offset: 0 }
        );
        assert_eq!(
            scan_for_start(b"GET /a HTTP/2.0\r\n", opts(None, false)),
            StartScan::NotFound
        );
        assert_eq!(
            scan_for_start(b"BREW /pot HTTP/1.1\r\n", opts(None, false)),
            StartScan::NotFound
        );
    }

    #[test]
    fn plausible_message_starts() {
        assert!(could_start_request(b"GET / HTTP/1.1"));
        assert!(could_start_request(b"M-SEARCH * HTTP/1.1"));
        assert!(could_start_request(b"POS"));
        assert!(!could_start_request(b"\xc5\x94*"));
        assert!(!could_start_request(b" GET"));
        assert!(could_start_response(b"HTTP/1.1 200 OK"));
        assert!(could_start_response(b"HTT"));
        assert!(!could_start_response(b"\x1f\x8b"));
    }

    #[test]
    fn head_end_with_crlf_and_lf() {
        assert_eq!(
            find_head_end(b"GET / HTTP/1.1\r\nA: b\r\n\r\nbody", 0),
            Some(24)
        );
        assert_eq!(find_head_end(b"GET / HTTP/1.1\nA: b\n\nbody", 0), Some(21));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\nA: b\r\n", 0), None);
    }

    #[test]
    fn parses_heads() {
        let buf =
            b"POST /mms?x=1 HTTP/1.1\r\nHost: mmsc.example.com\r\nContent-Length: 3\r\n\r\nabc";
        let head = parse_request_head(buf, 16).unwrap();
        assert_eq!(head.method, "POST");
        assert_eq!(head.target, "/mms?x=1");
        assert_eq!(head.minor_version, 1);
        assert_eq!(head.headers.len(), 2);
        assert_eq!(head.len, buf.len() - 3);

        let buf = b"HTTP/1.0 404 Not \xe9Found\r\nServer: x\r\n\r\n";
        let head = parse_response_head(buf, 16).unwrap();
        assert_eq!(head.status, 404);
        assert_eq!(head.reason, b"Not \xe9Found");
        assert_eq!(head.minor_version, 0);

        let many: Vec<u8> = b"GET / HTTP/1.1\r\n"
            .iter()
            .copied()
            .chain((0..5).flat_map(|i| format!("X-{i}: v\r\n").into_bytes()))
            .chain(*b"\r\n")
            .collect();
        assert_eq!(
            parse_request_head(&many, 4),
            Err(HttpParseError::TooManyHeaders { max: 4 })
        );
    }

    #[test]
    fn chunk_size_lines() {
        assert_eq!(parse_chunk_size_line(b"1a\r\n").unwrap(), Some((26, 4)));
        assert_eq!(
            parse_chunk_size_line(b"10;name=\"v\"\r\n").unwrap(),
            Some((16, 13))
        );
        assert_eq!(parse_chunk_size_line(b"0 \n").unwrap(), Some((0, 3)));
        assert_eq!(parse_chunk_size_line(b"1a").unwrap(), None);
        assert!(parse_chunk_size_line(b"zz\r\n").is_err());
        assert_eq!(
            parse_chunk_size_line(b"1ffffffffffffffff\r\n"),
            Err(HttpParseError::ChunkSizeOverflow)
        );
        assert_eq!(parse_chunk_data_end(b"\r\nx").unwrap(), Some(2));
        assert_eq!(parse_chunk_data_end(b"\r").unwrap(), None);
        assert!(parse_chunk_data_end(b"xx").is_err());
    }

    fn hs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn framing_rules() {
        let d = body_framing(&hs(&[("Content-Length", "10")]), true);
        assert_eq!(d.framing, BodyFraming::Length(10));
        let d = body_framing(&hs(&[]), true);
        assert_eq!(d.framing, BodyFraming::None);
        let d = body_framing(&hs(&[]), false);
        assert_eq!(d.framing, BodyFraming::UntilClose);
        let d = body_framing(
            &hs(&[
                ("Transfer-Encoding", "gzip, chunked"),
                ("Content-Length", "5"),
            ]),
            false,
        );
        assert_eq!(d.framing, BodyFraming::Chunked);
        assert!(d.both_length_and_encoding);
        let d = body_framing(&hs(&[("Content-Length", "5, 6")]), false);
        assert!(d.invalid_length);
        assert_eq!(d.framing, BodyFraming::UntilClose);
        let d = body_framing(&hs(&[("Content-Length", "7, 7")]), true);
        assert_eq!(d.framing, BodyFraming::Length(7));
    }

    #[test]
    fn urls_and_types() {
        assert_eq!(
            full_url("/mms/abc", Some("mmsc.example.com:8002")),
            "http://mmsc.example.com:8002/mms/abc"
        );
        assert_eq!(
            full_url("http://mmsc.example.com/x", Some("other.example.com")),
            "http://mmsc.example.com/x"
        );
        assert_eq!(full_url("/x", None), "/x");
        assert_eq!(
            full_url("mmsc.example.com:443", None),
            "mmsc.example.com:443"
        );
        assert!(is_mms_content_type("application/vnd.wap.mms-message"));
        assert!(is_mms_content_type(
            " Application/VND.WAP.MMS-Message; charset=utf-8"
        ));
        assert!(!is_mms_content_type(
            "application/vnd.wap.multipart.related"
        ));
        assert!(is_generic_content_type(None));
        assert!(is_generic_content_type(Some(
            "application/octet-stream; x=y"
        )));
        assert!(!is_generic_content_type(Some("text/html")));
        assert_eq!(
            parse_content_encoding("x-gzip"),
            Ok(vec![ContentCoding::Gzip])
        );
        assert_eq!(
            parse_content_encoding("deflate, gzip"),
            Ok(vec![ContentCoding::Deflate, ContentCoding::Gzip])
        );
        assert_eq!(parse_content_encoding("br"), Err("br".to_string()));
    }
}
