//! WSP primitive encodings (WAP-230 8.4.2): integers, uintvar, strings, content types.
//!
//! Every decoder has the shape `fn(&[u8]) -> Result<(&[u8] /* rest */, T), WspError>`; an error
//! carries the number of input octets that were left where decoding failed, so a caller that knows
//! the whole buffer turns it into an offset with [`WspError::offset_in`]. Every encoder appends to a
//! `Vec<u8>`. Decoders never panic and never read past their input.

use serde::Serialize;
use std::fmt;

/// What went wrong decoding a WSP value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {kind}")]
pub struct WspError {
    /// The encoding rule being decoded (e.g. "uintvar", "Value-length").
    pub what: &'static str,
    pub kind: WspErrorKind,
    /// Octets of the input left at the point of failure (offset = total length − remaining).
    pub remaining: usize,
}

/// The class of a [`WspError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WspErrorKind {
    #[error("truncated: needs {needed} more octet(s)")]
    Truncated { needed: usize },
    #[error("value too large")]
    Overflow,
    #[error("unexpected octet 0x{0:02x}")]
    Unexpected(u8),
    #[error("{0}")]
    Invalid(String),
}

impl WspError {
    pub fn truncated(what: &'static str, input: &[u8], needed: usize) -> Self {
        WspError {
            what,
            kind: WspErrorKind::Truncated { needed },
            remaining: input.len(),
        }
    }
    pub fn overflow(what: &'static str, input: &[u8]) -> Self {
        WspError {
            what,
            kind: WspErrorKind::Overflow,
            remaining: input.len(),
        }
    }
    pub fn unexpected(what: &'static str, input: &[u8], octet: u8) -> Self {
        WspError {
            what,
            kind: WspErrorKind::Unexpected(octet),
            remaining: input.len(),
        }
    }
    pub fn invalid(what: &'static str, input: &[u8], detail: impl Into<String>) -> Self {
        WspError {
            what,
            kind: WspErrorKind::Invalid(detail.into()),
            remaining: input.len(),
        }
    }
    /// Offset of the failure inside a buffer of `total_len` octets that decoding started from.
    pub fn offset_in(&self, total_len: usize) -> usize {
        total_len.saturating_sub(self.remaining)
    }
    /// Re-bases the error on a sub-slice: `remaining` becomes relative to an outer buffer whose
    /// tail after the sub-slice is `outer_tail` octets long.
    pub fn within(mut self, outer_tail: usize) -> Self {
        self.remaining = self.remaining.saturating_add(outer_tail);
        self
    }
}

/// A problem met while decoding a block (headers, multipart, MMS PDU), with the byte offset
/// relative to the start of that block. Callers re-base it to a file offset in a
/// [`crate::diag::Diagnostic`] with [`DecodeIssue::to_diagnostic`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecodeIssue {
    pub offset: usize,
    pub message: String,
}

impl DecodeIssue {
    pub fn new(offset: usize, message: impl Into<String>) -> Self {
        DecodeIssue {
            offset,
            message: message.into(),
        }
    }
    /// Shifts the offset by `base` (when the block sat inside a larger one).
    pub fn shifted(mut self, base: usize) -> Self {
        self.offset = self.offset.saturating_add(base);
        self
    }
    /// A diagnostic at `base + offset` in the input file.
    pub fn to_diagnostic(&self, layer: crate::diag::Layer, base: u64) -> crate::diag::Diagnostic {
        crate::diag::Diagnostic::new(layer, self.message.clone())
            .at_offset(base.saturating_add(self.offset as u64))
    }
}

impl fmt::Display for DecodeIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "offset {}: {}", self.offset, self.message)
    }
}

/// Result of one decoder: the rest of the input and the value.
pub type WspResult<'a, T> = Result<(&'a [u8], T), WspError>;

/// Quote octet before a Text-string whose first character is ≥ 0x80 (WAP-230 8.4.2.1).
pub const TEXT_QUOTE: u8 = 0x7F;
/// Length-quote: a uintvar length follows (WAP-230 8.4.2.2).
pub const LENGTH_QUOTE: u8 = 0x1F;
/// Quoted-string opener `"` (WAP-230 8.4.2.1).
pub const STRING_QUOTE: u8 = 0x22;
/// Any-charset (WAP-230 8.4.2.8): treated as UTF-8, decoded lossily.
pub const ANY_CHARSET: u32 = 0x80 & 0x7F;

fn first<'a>(what: &'static str, input: &'a [u8]) -> Result<(u8, &'a [u8]), WspError> {
    match input.split_first() {
        Some((b, rest)) => Ok((*b, rest)),
        None => Err(WspError::truncated(what, input, 1)),
    }
}

/// Takes `n` octets.
pub fn take<'a>(what: &'static str, input: &'a [u8], n: usize) -> WspResult<'a, &'a [u8]> {
    match input.split_at_checked(n) {
        Some((taken, rest)) => Ok((rest, taken)),
        None => Err(WspError::truncated(
            what,
            input,
            n.saturating_sub(input.len()),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Integers (WAP-230 8.1.2, 8.4.2.1, 8.4.2.3)

/// Uintvar-integer: 1–5 octets, 7 bits each, continuation in the high bit; must fit in a u32.
pub fn uintvar(input: &[u8]) -> WspResult<'_, u32> {
    let mut value: u32 = 0;
    for (i, &b) in input.iter().enumerate() {
        if i >= 5 {
            return Err(WspError::invalid("uintvar", input, "longer than 5 octets"));
        }
        if value > (u32::MAX >> 7) {
            return Err(WspError::overflow("uintvar", input));
        }
        value = (value << 7) | u32::from(b & 0x7F);
        if b & 0x80 == 0 {
            let rest = input.get(i + 1..).unwrap_or_default();
            return Ok((rest, value));
        }
    }
    if input.len() >= 5 {
        return Err(WspError::invalid("uintvar", input, "longer than 5 octets"));
    }
    Err(WspError::truncated("uintvar", input, 1))
}

/// Short-integer: one octet with the high bit set, value 0–127.
pub fn short_integer(input: &[u8]) -> WspResult<'_, u8> {
    let (b, rest) = first("Short-integer", input)?;
    if b & 0x80 == 0 {
        return Err(WspError::unexpected("Short-integer", input, b));
    }
    Ok((rest, b & 0x7F))
}

/// Long-integer: Short-length (1–30) then that many big-endian octets; more than 8 is an error.
pub fn long_integer(input: &[u8]) -> WspResult<'_, u64> {
    let (len, rest) = first("Long-integer", input)?;
    if len == 0 || len > 30 {
        return Err(WspError::unexpected("Long-integer", input, len));
    }
    if len > 8 {
        return Err(WspError::overflow("Long-integer", input));
    }
    let (rest, digits) = take("Long-integer", rest, usize::from(len))?;
    let value = digits
        .iter()
        .fold(0u64, |acc, &d| (acc << 8) | u64::from(d));
    Ok((rest, value))
}

/// Integer-value: Short-integer or Long-integer.
pub fn integer_value(input: &[u8]) -> WspResult<'_, u64> {
    let (b, _) = first("Integer-value", input)?;
    if b & 0x80 != 0 {
        short_integer(input).map(|(r, v)| (r, u64::from(v)))
    } else {
        long_integer(input)
    }
}

/// Value-length: Short-length (0–30) or Length-quote (31) + uintvar.
pub fn value_length(input: &[u8]) -> WspResult<'_, u32> {
    let (b, rest) = first("Value-length", input)?;
    match b {
        0..=30 => Ok((rest, u32::from(b))),
        LENGTH_QUOTE => uintvar(rest),
        _ => Err(WspError::unexpected("Value-length", input, b)),
    }
}

/// Value-length followed by the octets it counts: returns those octets.
pub fn value_length_block(input: &[u8]) -> WspResult<'_, &[u8]> {
    let (rest, len) = value_length(input)?;
    let len = usize::try_from(len).map_err(|_| WspError::overflow("Value-length", input))?;
    take("Value-length data", rest, len)
}

/// Date-value: Long-integer seconds since 1970-01-01 UTC.
pub fn date_value(input: &[u8]) -> WspResult<'_, u64> {
    long_integer(input).map_err(|e| WspError {
        what: "Date-value",
        ..e
    })
}

/// Delta-seconds-value: Integer-value.
pub fn delta_seconds_value(input: &[u8]) -> WspResult<'_, u64> {
    integer_value(input)
}

/// Q-value (WAP-230 8.4.2.3): a uintvar of 1 or 2 octets; 1–100 is (q−1)/100, 101–1099 is
/// (q−100)/1000. Returned as thousandths (0–999).
pub fn q_value(input: &[u8]) -> WspResult<'_, u16> {
    let (rest, raw) = uintvar(input)?;
    if input.len().saturating_sub(rest.len()) > 2 {
        return Err(WspError::invalid("Q-value", input, "longer than 2 octets"));
    }
    match raw {
        1..=100 => Ok((rest, ((raw - 1) * 10) as u16)),
        101..=1099 => Ok((rest, (raw - 100) as u16)),
        _ => Err(WspError::invalid(
            "Q-value",
            input,
            format!("{raw} out of range"),
        )),
    }
}

/// Renders thousandths as a q-value string (`0.5`, `0.123`, `1` is never produced by WSP).
pub fn q_value_string(thousandths: u16) -> String {
    let mut s = format!("0.{thousandths:03}");
    while s.ends_with('0') && s.len() > 3 {
        s.pop();
    }
    s
}

/// A Version-value (WAP-230 8.4.2.3): major.minor in a Short-integer, or text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Version {
    /// `minor` is `None` when it is 15 ("no minor version").
    Short {
        major: u8,
        minor: Option<u8>,
    },
    Text(String),
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Short {
                major,
                minor: Some(m),
            } => write!(f, "{major}.{m}"),
            Version::Short { major, minor: None } => write!(f, "{major}"),
            Version::Text(t) => f.write_str(t),
        }
    }
}

/// Version-value: Short-integer (major << 4 | minor, minor 15 = none) or Text-string.
pub fn version_value(input: &[u8]) -> WspResult<'_, Version> {
    let (b, _) = first("Version-value", input)?;
    if b & 0x80 != 0 {
        let (rest, v) = short_integer(input)?;
        let major = (v >> 4) & 0x07;
        let minor = v & 0x0F;
        Ok((
            rest,
            Version::Short {
                major,
                minor: (minor != 0x0F).then_some(minor),
            },
        ))
    } else {
        let (rest, t) = text_string(input)?;
        Ok((rest, Version::Text(String::from_utf8_lossy(t).into_owned())))
    }
}

// ---------------------------------------------------------------------------------------------
// Strings (WAP-230 8.4.2.1)

fn nul_terminated<'a>(what: &'static str, input: &'a [u8]) -> WspResult<'a, &'a [u8]> {
    match input.iter().position(|&b| b == 0) {
        Some(end) => {
            let (text, rest) = input.split_at(end);
            Ok((rest.get(1..).unwrap_or_default(), text))
        }
        None => Err(WspError::invalid(what, input, "no end-of-string NUL")),
    }
}

/// Text-string: optional 0x7F quote, octets, NUL. Returns the text octets (no quote, no NUL).
pub fn text_string(input: &[u8]) -> WspResult<'_, &[u8]> {
    let (b, after) = first("Text-string", input)?;
    if b >= 0x80 {
        return Err(WspError::unexpected("Text-string", input, b));
    }
    let body = if b == TEXT_QUOTE { after } else { input };
    nul_terminated("Text-string", body)
}

/// Token-text: token characters then NUL (checked only for the first octet: 32–127).
pub fn token_text(input: &[u8]) -> WspResult<'_, &[u8]> {
    let (b, _) = first("Token-text", input)?;
    if !(32..=127).contains(&b) {
        return Err(WspError::unexpected("Token-text", input, b));
    }
    nul_terminated("Token-text", input)
}

/// Quoted-string: `"` then text then NUL (no closing quote). Returns the text without the quote.
pub fn quoted_string(input: &[u8]) -> WspResult<'_, &[u8]> {
    let (b, rest) = first("Quoted-string", input)?;
    if b != STRING_QUOTE {
        return Err(WspError::unexpected("Quoted-string", input, b));
    }
    nul_terminated("Quoted-string", rest)
}

/// Extension-media: text then NUL.
pub fn extension_media(input: &[u8]) -> WspResult<'_, &[u8]> {
    let (b, _) = first("Extension-media", input)?;
    if b >= 0x80 || (b < 32 && b != 0) {
        return Err(WspError::unexpected("Extension-media", input, b));
    }
    nul_terminated("Extension-media", input)
}

/// Text-value: No-value (0x00) → `None`, Quoted-string, or Token-text / Text-string.
pub fn text_value(input: &[u8]) -> WspResult<'_, Option<&[u8]>> {
    let (b, rest) = first("Text-value", input)?;
    match b {
        0 => Ok((rest, None)),
        STRING_QUOTE => quoted_string(input).map(|(r, t)| (r, Some(t))),
        _ => text_string(input).map(|(r, t)| (r, Some(t))),
    }
}

/// Text that may not be valid in its charset: the decoded text and the raw octets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EncodedString {
    /// MIBenum of the declared charset; `None` for a plain Text-string (no charset given).
    pub charset: Option<u32>,
    /// Text decoded with the charset (lossily where invalid).
    pub text: String,
    /// The octets as sent (without quote and NUL).
    #[serde(skip)]
    pub raw: Vec<u8>,
    /// False when the octets were not valid in the charset (the text is then lossy).
    pub valid: bool,
}

impl EncodedString {
    /// A plain Text-string value (no charset), e.g. for encoders.
    pub fn plain(text: impl Into<String>) -> Self {
        let text = text.into();
        EncodedString {
            charset: None,
            raw: text.as_bytes().to_vec(),
            text,
            valid: true,
        }
    }
    /// A value with an explicit charset; `text` is encoded with it for `raw`.
    pub fn with_charset(charset: u32, text: impl Into<String>) -> Self {
        let text = text.into();
        let raw = encode_text(charset, &text);
        let (decoded, valid) = decode_text(Some(charset), &raw);
        EncodedString {
            charset: Some(charset),
            text: decoded,
            raw,
            valid,
        }
    }
    /// Builds from raw octets as received.
    pub fn from_raw(charset: Option<u32>, raw: &[u8]) -> Self {
        let (text, valid) = decode_text(charset, raw);
        EncodedString {
            charset,
            text,
            raw: raw.to_vec(),
            valid,
        }
    }
    /// Base64 of the raw octets when the text is not valid (the report's `_b64` sibling).
    pub fn raw_b64(&self) -> Option<String> {
        use base64::Engine as _;
        (!self.valid).then(|| base64::engine::general_purpose::STANDARD.encode(&self.raw))
    }
    /// The charset's name, if any.
    pub fn charset_name(&self) -> Option<&'static str> {
        self.charset.and_then(charset_name)
    }
}

impl fmt::Display for EncodedString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Encoded-string-value (OMA-TS-MMS-ENC 7.2.9): Text-string, or Value-length Char-set Text-string.
pub fn encoded_string_value(input: &[u8]) -> WspResult<'_, EncodedString> {
    let (b, _) = first("Encoded-string-value", input)?;
    if b <= 31 {
        let (rest, block) = value_length_block(input)?;
        if block.is_empty() {
            // An empty Value-length block: an empty string (seen from real MMSCs).
            return Ok((rest, EncodedString::plain("")));
        }
        let tail = rest.len();
        let (after_cs, charset) = well_known_charset(block).map_err(|e| e.within(tail))?;
        let charset = if charset == ANY_CHARSET { 106 } else { charset };
        let body = after_cs.strip_prefix(&[TEXT_QUOTE]).unwrap_or(after_cs);
        let text = if matches!(charset, 1000 | 1013 | 1014 | 1015) {
            // UTF-16 text contains NUL octets: the Value-length bounds it, not the first NUL.
            let mut t = body.strip_suffix(&[0]).unwrap_or(body);
            if t.len() % 2 == 1 {
                t = t.strip_suffix(&[0]).unwrap_or(t);
            }
            t
        } else {
            // Some senders omit the NUL inside a Value-length block: the block bounds the text.
            match body.iter().position(|&b| b == 0) {
                Some(end) => body.get(..end).unwrap_or(body),
                None => body,
            }
        };
        Ok((rest, EncodedString::from_raw(Some(charset), text)))
    } else {
        let (rest, t) = text_string(input)?;
        Ok((rest, EncodedString::from_raw(None, t)))
    }
}

/// Well-known-charset: Any-charset (0x80) or Integer-value (MIBenum).
pub fn well_known_charset(input: &[u8]) -> WspResult<'_, u32> {
    let (rest, v) = integer_value(input).map_err(|e| WspError {
        what: "Char-set",
        ..e
    })?;
    let v = u32::try_from(v).map_err(|_| WspError::overflow("Char-set", input))?;
    Ok((rest, v))
}

// ---------------------------------------------------------------------------------------------
// Charsets: IANA MIBenum ↔ name (WAP-230 Table 42 and the IANA registry)

/// MIBenum → preferred name (lower case), and the encoding_rs label used to decode it.
pub const CHARSETS: &[(u32, &str)] = &[
    (3, "us-ascii"),
    (4, "iso-8859-1"),
    (5, "iso-8859-2"),
    (6, "iso-8859-3"),
    (7, "iso-8859-4"),
    (8, "iso-8859-5"),
    (9, "iso-8859-6"),
    (10, "iso-8859-7"),
    (11, "iso-8859-8"),
    (12, "iso-8859-9"),
    (13, "iso-8859-10"),
    (17, "shift_jis"),
    (18, "euc-jp"),
    (36, "ks_c_5601-1987"),
    (37, "iso-2022-kr"),
    (38, "euc-kr"),
    (39, "iso-2022-jp"),
    (106, "utf-8"),
    (109, "iso-8859-13"),
    (110, "iso-8859-14"),
    (111, "iso-8859-15"),
    (112, "iso-8859-16"),
    (113, "gbk"),
    (114, "gb18030"),
    (1000, "iso-10646-ucs-2"),
    (1013, "utf-16be"),
    (1014, "utf-16le"),
    (1015, "utf-16"),
    (2025, "gb2312"),
    (2026, "big5"),
    (2084, "koi8-r"),
    (2088, "koi8-u"),
    (2250, "windows-1250"),
    (2251, "windows-1251"),
    (2252, "windows-1252"),
    (2253, "windows-1253"),
    (2254, "windows-1254"),
    (2255, "windows-1255"),
    (2256, "windows-1256"),
    (2257, "windows-1257"),
    (2258, "windows-1258"),
];

/// Name of a MIBenum (`106` → `utf-8`); Any-charset (0) is `*`.
pub fn charset_name(mib: u32) -> Option<&'static str> {
    if mib == ANY_CHARSET {
        return Some("*");
    }
    CHARSETS.iter().find(|(m, _)| *m == mib).map(|(_, n)| *n)
}

/// MIBenum of a charset name (case-insensitive; a few common aliases accepted).
pub fn charset_mib(name: &str) -> Option<u32> {
    let lower = name.trim().to_ascii_lowercase();
    let lower = match lower.as_str() {
        "utf8" => "utf-8",
        "ascii" => "us-ascii",
        "latin1" | "iso_8859-1" => "iso-8859-1",
        "sjis" => "shift_jis",
        "*" => return Some(ANY_CHARSET),
        other => other,
    };
    CHARSETS.iter().find(|(_, n)| *n == lower).map(|(m, _)| *m)
}

/// Decodes text in a charset given by MIBenum: (text, was valid). `None`, unknown charsets and
/// Any-charset decode as UTF-8. UTF-16 without a BOM is big-endian (RFC 2781).
pub fn decode_text(charset: Option<u32>, raw: &[u8]) -> (String, bool) {
    use encoding_rs::Encoding;
    let mib = charset.unwrap_or(106);
    let label = match mib {
        3 => {
            // US-ASCII: bytes ≥ 0x80 are invalid.
            let valid = raw.is_ascii();
            return (String::from_utf8_lossy(raw).into_owned(), valid);
        }
        1000 | 1015 => {
            if let Some(rest) = raw.strip_prefix(&[0xFF, 0xFE]) {
                return decode_with(encoding_rs::UTF_16LE, rest);
            }
            let rest = raw.strip_prefix(&[0xFE, 0xFF]).unwrap_or(raw);
            return decode_with(encoding_rs::UTF_16BE, rest);
        }
        1013 => "utf-16be",
        1014 => "utf-16le",
        36 => "euc-kr",
        other => charset_name(other).unwrap_or("utf-8"),
    };
    let encoding = Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::UTF_8);
    decode_with(encoding, raw)
}

fn decode_with(encoding: &'static encoding_rs::Encoding, raw: &[u8]) -> (String, bool) {
    let (text, had_errors) = encoding.decode_without_bom_handling(raw);
    (text.into_owned(), !had_errors)
}

/// Encodes text in a charset (for encoders). Charsets encoding_rs cannot produce (UTF-16) are
/// written by hand; unknown ones as UTF-8.
pub fn encode_text(charset: u32, text: &str) -> Vec<u8> {
    match charset {
        1000 | 1015 | 1013 => text.encode_utf16().flat_map(|u| u.to_be_bytes()).collect(),
        1014 => text.encode_utf16().flat_map(|u| u.to_le_bytes()).collect(),
        3 | 106 | ANY_CHARSET => text.as_bytes().to_vec(),
        4 => {
            if text.chars().all(|c| u32::from(c) < 256) {
                text.chars().map(|c| u32::from(c) as u8).collect()
            } else {
                text.as_bytes().to_vec()
            }
        }
        other => {
            let label = charset_name(other).unwrap_or("utf-8");
            match encoding_rs::Encoding::for_label(label.as_bytes()) {
                Some(enc) => enc.encode(text).0.into_owned(),
                None => text.as_bytes().to_vec(),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Content types (WAP-230 8.4.2.24, Table 40; OMNA WSP content type numbers)

/// Well-known content type numbers.
pub const CONTENT_TYPES: &[(u32, &str)] = &[
    (0x00, "*/*"),
    (0x01, "text/*"),
    (0x02, "text/html"),
    (0x03, "text/plain"),
    (0x04, "text/x-hdml"),
    (0x05, "text/x-ttml"),
    (0x06, "text/x-vCalendar"),
    (0x07, "text/x-vCard"),
    (0x08, "text/vnd.wap.wml"),
    (0x09, "text/vnd.wap.wmlscript"),
    (0x0A, "text/vnd.wap.wta-event"),
    (0x0B, "multipart/*"),
    (0x0C, "multipart/mixed"),
    (0x0D, "multipart/form-data"),
    (0x0E, "multipart/byteranges"),
    (0x0F, "multipart/alternative"),
    (0x10, "application/*"),
    (0x11, "application/java-vm"),
    (0x12, "application/x-www-form-urlencoded"),
    (0x13, "application/x-hdmlc"),
    (0x14, "application/vnd.wap.wmlc"),
    (0x15, "application/vnd.wap.wmlscriptc"),
    (0x16, "application/vnd.wap.wta-eventc"),
    (0x17, "application/vnd.wap.uaprof"),
    (0x18, "application/vnd.wap.wtls-ca-certificate"),
    (0x19, "application/vnd.wap.wtls-user-certificate"),
    (0x1A, "application/x-x509-ca-cert"),
    (0x1B, "application/x-x509-user-cert"),
    (0x1C, "image/*"),
    (0x1D, "image/gif"),
    (0x1E, "image/jpeg"),
    (0x1F, "image/tiff"),
    (0x20, "image/png"),
    (0x21, "image/vnd.wap.wbmp"),
    (0x22, "application/vnd.wap.multipart.*"),
    (0x23, "application/vnd.wap.multipart.mixed"),
    (0x24, "application/vnd.wap.multipart.form-data"),
    (0x25, "application/vnd.wap.multipart.byteranges"),
    (0x26, "application/vnd.wap.multipart.alternative"),
    (0x27, "application/xml"),
    (0x28, "text/xml"),
    (0x29, "application/vnd.wap.wbxml"),
    (0x2A, "application/x-x968-cross-cert"),
    (0x2B, "application/x-x968-ca-cert"),
    (0x2C, "application/x-x968-user-cert"),
    (0x2D, "text/vnd.wap.si"),
    (0x2E, "application/vnd.wap.sic"),
    (0x2F, "text/vnd.wap.sl"),
    (0x30, "application/vnd.wap.slc"),
    (0x31, "text/vnd.wap.co"),
    (0x32, "application/vnd.wap.coc"),
    (0x33, "application/vnd.wap.multipart.related"),
    (0x34, "application/vnd.wap.sia"),
    (0x35, "text/vnd.wap.connectivity-xml"),
    (0x36, "application/vnd.wap.connectivity-wbxml"),
    (0x37, "application/pkcs7-mime"),
    (0x38, "application/vnd.wap.hashed-certificate"),
    (0x39, "application/vnd.wap.signed-certificate"),
    (0x3A, "application/vnd.wap.cert-response"),
    (0x3B, "application/xhtml+xml"),
    (0x3C, "application/wml+xml"),
    (0x3D, "text/css"),
    (0x3E, "application/vnd.wap.mms-message"),
    (0x3F, "application/vnd.wap.rollover-certificate"),
    (0x40, "application/vnd.wap.locc+wbxml"),
    (0x41, "application/vnd.wap.loc+xml"),
    (0x42, "application/vnd.syncml.dm+wbxml"),
    (0x43, "application/vnd.syncml.dm+xml"),
    (0x44, "application/vnd.syncml.notification"),
    (0x45, "application/vnd.wap.xhtml+xml"),
    (0x46, "application/vnd.wv.csp.cir"),
    (0x47, "application/vnd.oma.dd+xml"),
    (0x48, "application/vnd.oma.drm.message"),
    (0x49, "application/vnd.oma.drm.content"),
    (0x4A, "application/vnd.oma.drm.rights+xml"),
    (0x4B, "application/vnd.oma.drm.rights+wbxml"),
    (0x4C, "application/vnd.wv.csp+xml"),
    (0x4D, "application/vnd.wv.csp+wbxml"),
    (0x4E, "application/vnd.syncml.ds.notification"),
    (0x4F, "audio/*"),
    (0x50, "video/*"),
    (0x51, "application/vnd.oma.dd2+xml"),
    (0x52, "application/mikey"),
    (0x53, "application/vnd.oma.dcd"),
    (0x54, "application/vnd.oma.dcdc"),
    (0x55, "text/x-vMessage"),
    // Registered values (OMNA).
    (0x0201, "application/vnd.uplanet.cacheop-wbxml"),
    (0x0202, "application/vnd.uplanet.signal"),
    (0x0203, "application/vnd.uplanet.alert-wbxml"),
    (0x0204, "application/vnd.uplanet.list-wbxml"),
    (0x0205, "application/vnd.uplanet.listcmd-wbxml"),
    (0x0206, "application/vnd.uplanet.channel-wbxml"),
    (0x0207, "application/vnd.uplanet.provisioning-status-uri"),
    (0x0208, "x-wap.multipart/vnd.uplanet.header-set"),
    (0x0209, "application/vnd.uplanet.bearer-choice-wbxml"),
    (0x020A, "application/vnd.phonecom.mmc-wbxml"),
    (0x020B, "application/vnd.nokia.syncset+wbxml"),
    (0x020C, "image/x-up-wpng"),
    (0x0300, "application/iota.mmc-wbxml"),
    (0x0301, "application/iota.mmc-xml"),
    (0x0302, "application/vnd.syncml+xml"),
    (0x0303, "application/vnd.syncml+wbxml"),
    (0x0304, "text/vnd.wap.emn+xml"),
    (0x0305, "text/calendar"),
];

/// Name of a well-known content type number.
pub fn content_type_name(code: u32) -> Option<&'static str> {
    CONTENT_TYPES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
}

/// Number of a well-known content type (case-insensitive).
pub fn content_type_code(name: &str) -> Option<u32> {
    CONTENT_TYPES
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(c, _)| *c)
}

/// Media name used for a content type number that has no assignment, so it survives a round trip.
pub fn unassigned_content_type(code: u64) -> String {
    format!("application/x-wsp-content-type-0x{code:02x}")
}

fn parse_unassigned_content_type(name: &str) -> Option<u64> {
    let hex = name.strip_prefix("application/x-wsp-content-type-0x")?;
    u64::from_str_radix(hex, 16).ok()
}

/// How a well-known parameter's value is encoded (WAP-230 Table 38).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    QValue,
    Charset,
    Version,
    Integer,
    /// Text-string (encoding versions 1.1–1.3).
    TextString,
    /// Text-value (encoding version 1.4).
    TextValue,
    FieldName,
    ShortInteger,
    /// Constrained-encoding: a content type (Short-integer or Extension-media).
    ContentType,
    Date,
    DeltaSeconds,
    NoValue,
}

/// Well-known parameter tokens: (code, name, value kind).
pub const PARAMETERS: &[(u8, &str, ParamKind)] = &[
    (0x00, "q", ParamKind::QValue),
    (0x01, "charset", ParamKind::Charset),
    (0x02, "level", ParamKind::Version),
    (0x03, "type", ParamKind::Integer),
    (0x05, "name", ParamKind::TextString),
    (0x06, "filename", ParamKind::TextString),
    (0x07, "differences", ParamKind::FieldName),
    (0x08, "padding", ParamKind::ShortInteger),
    (0x09, "type", ParamKind::ContentType),
    (0x0A, "start", ParamKind::TextString),
    (0x0B, "start-info", ParamKind::TextString),
    (0x0C, "comment", ParamKind::TextString),
    (0x0D, "domain", ParamKind::TextString),
    (0x0E, "max-age", ParamKind::DeltaSeconds),
    (0x0F, "path", ParamKind::TextString),
    (0x10, "secure", ParamKind::NoValue),
    (0x11, "sec", ParamKind::ShortInteger),
    (0x12, "mac", ParamKind::TextValue),
    (0x13, "creation-date", ParamKind::Date),
    (0x14, "modification-date", ParamKind::Date),
    (0x15, "read-date", ParamKind::Date),
    (0x16, "size", ParamKind::Integer),
    (0x17, "name", ParamKind::TextValue),
    (0x18, "filename", ParamKind::TextValue),
    (0x19, "start", ParamKind::TextValue),
    (0x1A, "start-info", ParamKind::TextValue),
    (0x1B, "comment", ParamKind::TextValue),
    (0x1C, "domain", ParamKind::TextValue),
    (0x1D, "path", ParamKind::TextValue),
];

/// Which token an encoder writes for a parameter name: the widely supported 1.1/1.2 ones.
const PARAMETER_ENCODE: &[(&str, u8)] = &[
    ("q", 0x00),
    ("charset", 0x01),
    ("level", 0x02),
    ("name", 0x05),
    ("filename", 0x06),
    ("padding", 0x08),
    ("type", 0x09),
    ("start", 0x0A),
    ("start-info", 0x0B),
    ("comment", 0x0C),
    ("domain", 0x0D),
    ("path", 0x0F),
];

/// A content type with its parameters (names lower case, values as text).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ContentType {
    /// Media type, e.g. `application/vnd.wap.multipart.related`.
    pub media: String,
    /// Parameters in order, e.g. `("charset", "utf-8")`, `("type", "application/smil")`.
    pub params: Vec<(String, String)>,
}

impl ContentType {
    pub fn new(media: impl Into<String>) -> Self {
        ContentType {
            media: media.into(),
            params: Vec::new(),
        }
    }
    pub fn with_param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }
    /// First parameter with this name (case-insensitive).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn charset(&self) -> Option<&str> {
        self.param("charset")
    }
    /// `name`, else `filename`.
    pub fn name(&self) -> Option<&str> {
        self.param("name").or_else(|| self.param("filename"))
    }
    pub fn start(&self) -> Option<&str> {
        self.param("start")
    }
    pub fn type_param(&self) -> Option<&str> {
        self.param("type")
    }
    /// True for `application/vnd.wap.multipart.*` and `multipart/*`.
    pub fn is_multipart(&self) -> bool {
        let m = self.media.to_ascii_lowercase();
        m.starts_with("application/vnd.wap.multipart.") || m.starts_with("multipart/")
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.media)?;
        for (n, v) in &self.params {
            let needs_quotes = v.is_empty()
                || v.chars()
                    .any(|c| c.is_whitespace() || "()<>@,;:\\\"/[]?={}".contains(c));
            if needs_quotes {
                write!(f, "; {n}=\"{}\"", v.replace('"', "\\\""))?;
            } else {
                write!(f, "; {n}={v}")?;
            }
        }
        Ok(())
    }
}

fn lossy(t: &[u8]) -> String {
    String::from_utf8_lossy(t).into_owned()
}

fn media_from_code(code: u64) -> String {
    u32::try_from(code)
        .ok()
        .and_then(content_type_name)
        .map_or_else(|| unassigned_content_type(code), str::to_owned)
}

/// Constrained-media / Constrained-encoding: Short-integer (well-known) or Extension-media.
fn constrained_media(input: &[u8]) -> WspResult<'_, String> {
    let (b, _) = first("Constrained-media", input)?;
    if b & 0x80 != 0 {
        let (rest, code) = short_integer(input)?;
        Ok((rest, media_from_code(u64::from(code))))
    } else {
        let (rest, t) = extension_media(input)?;
        Ok((rest, lossy(t)))
    }
}

/// Content-type-value: Constrained-media or Content-general-form (Value-length Media-type
/// *Parameter). A malformed parameter ends the parameter list (the media type is kept).
pub fn content_type_value(input: &[u8]) -> WspResult<'_, ContentType> {
    let (b, _) = first("Content-type-value", input)?;
    if b > 31 {
        let (rest, media) = constrained_media(input)?;
        return Ok((rest, ContentType::new(media)));
    }
    let (rest, block) = value_length_block(input)?;
    let tail = rest.len();
    let (b, _) = first("Media-type", block).map_err(|e| e.within(tail))?;
    let (mut params_in, media) = if b & 0x80 != 0 || b <= 30 {
        let (r, code) = integer_value(block).map_err(|e| e.within(tail))?;
        (r, media_from_code(code))
    } else {
        let (r, t) = extension_media(block).map_err(|e| e.within(tail))?;
        (r, lossy(t))
    };
    let mut ct = ContentType::new(media);
    while !params_in.is_empty() {
        match parameter(params_in) {
            Ok((r, p)) => {
                ct.params.push(p);
                params_in = r;
            }
            Err(e) => return Err(e.within(tail)),
        }
    }
    Ok((rest, ct))
}

/// Like [`content_type_value`] but a malformed parameter list keeps the media type and the
/// parameters before it, reporting the error beside the value.
pub fn content_type_value_lenient(input: &[u8]) -> WspResult<'_, (ContentType, Option<WspError>)> {
    match content_type_value(input) {
        Ok((r, ct)) => Ok((r, (ct, None))),
        Err(err) => {
            let (b, _) = first("Content-type-value", input)?;
            if b > 31 {
                return Err(err);
            }
            let (rest, block) = value_length_block(input)?;
            let tail = rest.len();
            let (b, _) = first("Media-type", block).map_err(|e| e.within(tail))?;
            let (mut params_in, media) = if b & 0x80 != 0 || b <= 30 {
                let (r, code) = integer_value(block).map_err(|e| e.within(tail))?;
                (r, media_from_code(code))
            } else {
                let (r, t) = extension_media(block).map_err(|e| e.within(tail))?;
                (r, lossy(t))
            };
            let mut ct = ContentType::new(media);
            while let Ok((r, p)) = parameter(params_in) {
                ct.params.push(p);
                if r.is_empty() {
                    break;
                }
                params_in = r;
            }
            Ok((rest, (ct, Some(err))))
        }
    }
}

/// A value read leniently by its first octet: integer forms or text forms.
fn integer_or_text(input: &[u8]) -> WspResult<'_, IntOrText<'_>> {
    let (b, rest) = first("parameter value", input)?;
    match b {
        0 => Ok((rest, IntOrText::None)),
        1..=30 | 0x80..=0xFF => integer_value(input).map(|(r, v)| (r, IntOrText::Int(v))),
        LENGTH_QUOTE => {
            // Not a valid parameter value form; skip a quoted-length block as opaque.
            let (r, block) = value_length_block(input)?;
            Ok((r, IntOrText::Text(block)))
        }
        _ => text_value(input).map(|(r, t)| (r, t.map_or(IntOrText::None, IntOrText::Text))),
    }
}

enum IntOrText<'a> {
    None,
    Int(u64),
    Text(&'a [u8]),
}

fn date_string(secs: u64) -> String {
    crate::time::Timestamp::new(i64::try_from(secs).unwrap_or(i64::MAX), 0, 0).to_rfc3339()
}

/// Parameter: Typed-parameter (Well-known-parameter-token Typed-value) or Untyped-parameter
/// (Token-text Untyped-value). Values are rendered as text: charset names, media types, q-values
/// (`0.5`), dates (RFC 3339).
pub fn parameter(input: &[u8]) -> WspResult<'_, (String, String)> {
    let (b, _) = first("Parameter", input)?;
    if b & 0x80 != 0 || b <= 30 {
        let (rest, token) = integer_value(input)?;
        let entry = u8::try_from(token)
            .ok()
            .and_then(|t| PARAMETERS.iter().find(|(c, _, _)| *c == t));
        let Some(&(_, name, kind)) = entry else {
            let (r, v) = integer_or_text(rest)?;
            return Ok((r, (format!("0x{token:02x}"), int_or_text_string(&v))));
        };
        let (r, value) = typed_value(kind, rest)?;
        Ok((r, (name.to_owned(), value)))
    } else {
        let (rest, name) = token_text(input)?;
        let (r, v) = integer_or_text(rest)?;
        Ok((
            r,
            (lossy(name).to_ascii_lowercase(), int_or_text_string(&v)),
        ))
    }
}

fn int_or_text_string(v: &IntOrText<'_>) -> String {
    match v {
        IntOrText::None => String::new(),
        IntOrText::Int(i) => i.to_string(),
        IntOrText::Text(t) => lossy(t),
    }
}

fn typed_value(kind: ParamKind, input: &[u8]) -> WspResult<'_, String> {
    match kind {
        ParamKind::QValue => {
            let (r, q) = q_value(input)?;
            Ok((r, q_value_string(q)))
        }
        ParamKind::Charset => {
            let (r, v) = integer_or_text(input)?;
            let s = match v {
                IntOrText::Int(0x00) if input.first() == Some(&0x80) => "*".to_owned(),
                IntOrText::Int(mib) => u32::try_from(mib)
                    .ok()
                    .and_then(charset_name)
                    .map_or_else(|| mib.to_string(), str::to_owned),
                other => int_or_text_string(&other),
            };
            Ok((r, s))
        }
        ParamKind::Version => {
            let (r, v) = version_value(input)?;
            Ok((r, v.to_string()))
        }
        ParamKind::ContentType => {
            let (b, _) = first("Constrained-encoding", input)?;
            if b & 0x80 != 0 || b <= 30 {
                let (r, code) = integer_value(input)?;
                Ok((r, media_from_code(code)))
            } else {
                let (r, v) = integer_or_text(input)?;
                Ok((r, int_or_text_string(&v)))
            }
        }
        ParamKind::Date => {
            let (r, v) = integer_or_text(input)?;
            Ok((
                r,
                match v {
                    IntOrText::Int(secs) => date_string(secs),
                    other => int_or_text_string(&other),
                },
            ))
        }
        ParamKind::FieldName => {
            let (r, v) = integer_or_text(input)?;
            Ok((
                r,
                match v {
                    IntOrText::Int(code) => u8::try_from(code)
                        .ok()
                        .and_then(super::headers::header_name)
                        .map_or_else(|| code.to_string(), str::to_owned),
                    other => int_or_text_string(&other),
                },
            ))
        }
        ParamKind::NoValue => match input.first() {
            Some(0) => Ok((input.get(1..).unwrap_or_default(), String::new())),
            _ => Ok((input, String::new())),
        },
        ParamKind::Integer
        | ParamKind::ShortInteger
        | ParamKind::DeltaSeconds
        | ParamKind::TextString
        | ParamKind::TextValue => {
            let (r, v) = integer_or_text(input)?;
            Ok((r, int_or_text_string(&v)))
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Encoders

/// Appends a uintvar.
pub fn encode_uintvar(value: u32, out: &mut Vec<u8>) {
    let mut groups = [0u8; 5];
    let mut n = 0;
    let mut v = value;
    loop {
        if let Some(slot) = groups.get_mut(n) {
            *slot = (v & 0x7F) as u8;
        }
        n += 1;
        v >>= 7;
        if v == 0 || n >= 5 {
            break;
        }
    }
    for i in (0..n).rev() {
        let g = groups.get(i).copied().unwrap_or(0);
        out.push(if i == 0 { g } else { g | 0x80 });
    }
}

/// Appends a Short-integer (value must be < 128; larger values are masked).
pub fn encode_short_integer(value: u8, out: &mut Vec<u8>) {
    out.push(value | 0x80);
}

/// Appends a Long-integer (minimal number of octets, at least one).
pub fn encode_long_integer(value: u64, out: &mut Vec<u8>) {
    let bytes = value.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count().min(7);
    let digits = bytes.get(skip..).unwrap_or(&bytes);
    out.push(digits.len() as u8);
    out.extend_from_slice(digits);
}

/// Appends an Integer-value: Short-integer when < 128, else Long-integer.
pub fn encode_integer_value(value: u64, out: &mut Vec<u8>) {
    if value < 0x80 {
        encode_short_integer(value as u8, out);
    } else {
        encode_long_integer(value, out);
    }
}

/// Appends a Value-length.
pub fn encode_value_length(len: u32, out: &mut Vec<u8>) {
    if len <= 30 {
        out.push(len as u8);
    } else {
        out.push(LENGTH_QUOTE);
        encode_uintvar(len, out);
    }
}

/// Appends Value-length + `data`. Fails if `data` is longer than a uintvar can count.
pub fn encode_length_prefixed(data: &[u8], out: &mut Vec<u8>) -> Result<(), WspError> {
    let len = u32::try_from(data.len()).map_err(|_| WspError::overflow("Value-length", &[]))?;
    encode_value_length(len, out);
    out.extend_from_slice(data);
    Ok(())
}

/// Appends a Text-string (adds the 0x7F quote when the first octet is ≥ 0x80). NUL octets inside
/// `text` are dropped: they cannot be expressed.
pub fn encode_text_string(text: &[u8], out: &mut Vec<u8>) {
    // A leading 0x7F in the text itself would be read as the quote: quote it too. A leading
    // control octet (below 0x20) would be read as a length in the many places where a value may
    // be either (Value-length, Short-length): quote it as well, so the text survives.
    if text
        .first()
        .is_some_and(|&b| !(0x20..TEXT_QUOTE).contains(&b))
    {
        out.push(TEXT_QUOTE);
    }
    out.extend(text.iter().copied().filter(|&b| b != 0));
    out.push(0);
}

/// Appends a Quoted-string.
pub fn encode_quoted_string(text: &[u8], out: &mut Vec<u8>) {
    out.push(STRING_QUOTE);
    out.extend(text.iter().copied().filter(|&b| b != 0));
    out.push(0);
}

/// Appends a Token-text.
pub fn encode_token_text(text: &[u8], out: &mut Vec<u8>) {
    out.extend(text.iter().copied().filter(|&b| b != 0));
    out.push(0);
}

/// Appends a Date-value.
pub fn encode_date_value(secs: u64, out: &mut Vec<u8>) {
    encode_long_integer(secs, out);
}

/// Appends a Q-value given in thousandths (0–999): the 1-octet form when it is a multiple of 10.
pub fn encode_q_value(thousandths: u16, out: &mut Vec<u8>) {
    let t = u32::from(thousandths.min(999));
    if t % 10 == 0 {
        encode_uintvar(t / 10 + 1, out);
    } else {
        encode_uintvar(t + 100, out);
    }
}

/// Appends a Version-value.
pub fn encode_version_value(version: &Version, out: &mut Vec<u8>) {
    match version {
        Version::Short { major, minor } => {
            encode_short_integer(((major & 0x07) << 4) | minor.unwrap_or(0x0F).min(0x0F), out)
        }
        Version::Text(t) => encode_text_string(t.as_bytes(), out),
    }
}

/// Appends an Encoded-string-value: a plain Text-string when there is no charset, else the
/// Value-length Char-set Text-string form.
pub fn encode_encoded_string_value(
    value: &EncodedString,
    out: &mut Vec<u8>,
) -> Result<(), WspError> {
    match value.charset {
        None => {
            encode_text_string(&value.raw, out);
            Ok(())
        }
        Some(cs) => {
            let mut inner = Vec::new();
            encode_integer_value(u64::from(cs), &mut inner);
            if matches!(cs, 1000 | 1013 | 1014 | 1015) {
                // UTF-16 holds NUL octets: the Value-length bounds the text, so keep them.
                if value.raw.first().is_some_and(|&b| b >= TEXT_QUOTE) {
                    inner.push(TEXT_QUOTE);
                }
                inner.extend_from_slice(&value.raw);
                inner.push(0);
            } else {
                encode_text_string(&value.raw, &mut inner);
            }
            encode_length_prefixed(&inner, out)
        }
    }
}

fn parse_q(text: &str) -> Option<u16> {
    let frac = text
        .trim()
        .strip_prefix("0.")
        .or_else(|| text.trim().strip_prefix('.'))?;
    if frac.is_empty() || frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let padded = format!("{frac:0<3}");
    padded.parse().ok()
}

/// Appends a Parameter: typed for well-known names whose value fits, untyped otherwise.
pub fn encode_parameter(name: &str, value: &str, out: &mut Vec<u8>) {
    let lname = name.to_ascii_lowercase();
    let token = PARAMETER_ENCODE
        .iter()
        .find(|(n, _)| *n == lname)
        .map(|(_, t)| *t);
    match (lname.as_str(), token) {
        ("q", Some(t)) => {
            if let Some(q) = parse_q(value) {
                encode_short_integer(t, out);
                encode_q_value(q, out);
                return;
            }
        }
        ("charset", Some(t)) => {
            let mib = charset_mib(value).or_else(|| value.parse::<u32>().ok());
            if let Some(mib) = mib {
                encode_short_integer(t, out);
                if mib == ANY_CHARSET {
                    out.push(0x80);
                } else {
                    encode_integer_value(u64::from(mib), out);
                }
                return;
            }
        }
        ("level", Some(t)) => {
            encode_short_integer(t, out);
            encode_version_value(&version_from_str(value), out);
            return;
        }
        ("padding", Some(t)) => {
            if let Ok(v) = value.parse::<u8>() {
                if v < 0x80 {
                    encode_short_integer(t, out);
                    encode_short_integer(v, out);
                    return;
                }
            }
        }
        // Constrained-encoding: a digit-only value would be misread as a number.
        ("type", Some(t)) if !value.is_empty() && !value.bytes().all(|b| b.is_ascii_digit()) => {
            encode_short_integer(t, out);
            match content_type_code(value).filter(|c| *c < 0x80) {
                Some(code) => encode_short_integer(code as u8, out),
                None => encode_text_string(value.as_bytes(), out),
            }
            return;
        }
        (n, Some(t))
            if n != "type"
                && !value.is_empty()
                && !value.bytes().all(|b| b.is_ascii_digit())
                && !value.starts_with('"') =>
        {
            encode_short_integer(t, out);
            encode_text_string(value.as_bytes(), out);
            return;
        }
        _ => {}
    }
    // Untyped-parameter: Token-text Untyped-value (Integer-value | Text-value).
    let token_name =
        if name.is_empty() || name.bytes().next().is_some_and(|b| !(32..128).contains(&b)) {
            "x"
        } else {
            name
        };
    encode_token_text(token_name.as_bytes(), out);
    if value.is_empty() {
        out.push(0);
    } else if let Some(n) = value.parse::<u64>().ok().filter(|n| n.to_string() == value) {
        encode_integer_value(n, out);
    } else {
        encode_quoted_string(value.as_bytes(), out);
    }
}

fn version_from_str(s: &str) -> Version {
    let mut it = s.splitn(2, '.');
    let major = it.next().and_then(|m| m.parse::<u8>().ok());
    let minor = it.next().map(|m| m.parse::<u8>().ok());
    match (major, minor) {
        (Some(major), None) if major < 8 => Version::Short { major, minor: None },
        (Some(major), Some(Some(minor))) if major < 8 && minor < 15 => Version::Short {
            major,
            minor: Some(minor),
        },
        _ => Version::Text(s.to_owned()),
    }
}

/// Appends a Content-type-value: Constrained-media when there are no parameters, else the
/// Content-general-form.
pub fn encode_content_type(ct: &ContentType, out: &mut Vec<u8>) -> Result<(), WspError> {
    let code = content_type_code(&ct.media)
        .map(u64::from)
        .or_else(|| parse_unassigned_content_type(&ct.media));
    if ct.params.is_empty() {
        match code {
            Some(c) if c < 0x80 => encode_short_integer(c as u8, out),
            Some(c) => {
                let mut inner = Vec::new();
                encode_long_integer(c, &mut inner);
                encode_length_prefixed(&inner, out)?;
            }
            None => encode_text_string(ct.media.as_bytes(), out),
        }
        return Ok(());
    }
    let mut inner = Vec::new();
    match code {
        Some(c) => encode_integer_value(c, &mut inner),
        None => encode_text_string(ct.media.as_bytes(), &mut inner),
    }
    for (n, v) in &ct.params {
        encode_parameter(n, v, &mut inner);
    }
    encode_length_prefixed(&inner, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uintvar_examples() {
        // 0x81 0x00 = 128; 0x7F = 127; 0x8F 0xFF 0xFF 0xFF 0x7F = u32::MAX.
        assert_eq!(uintvar(&[0x81, 0x00, 0xAA]).unwrap(), (&[0xAA][..], 128));
        assert_eq!(uintvar(&[0x7F]).unwrap().1, 127);
        assert_eq!(
            uintvar(&[0x8F, 0xFF, 0xFF, 0xFF, 0x7F]).unwrap().1,
            u32::MAX
        );
        // Overflow: 0x90 as first of five carries bit 32.
        assert!(uintvar(&[0x90, 0x80, 0x80, 0x80, 0x00]).is_err());
        // Six octets.
        assert!(uintvar(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x01]).is_err());
        // Truncated.
        let e = uintvar(&[0x81]).unwrap_err();
        assert!(matches!(e.kind, WspErrorKind::Truncated { .. }));
        for v in [0, 1, 127, 128, 16383, 16384, 0x0FFF_FFFF, u32::MAX] {
            let mut out = Vec::new();
            encode_uintvar(v, &mut out);
            assert_eq!(uintvar(&out).unwrap(), (&[][..], v));
        }
    }

    #[test]
    fn integers() {
        // Short-integer 0x83 = 3.
        assert_eq!(short_integer(&[0x83]).unwrap().1, 3);
        assert!(short_integer(&[0x03]).is_err());
        // Long-integer: length 2, 0x01 0x00 = 256.
        assert_eq!(long_integer(&[0x02, 0x01, 0x00]).unwrap().1, 256);
        // 8 octets ok, 9 is an overflow, 31 is not a short length.
        assert_eq!(
            long_integer(&[8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
                .unwrap()
                .1,
            u64::MAX
        );
        assert!(long_integer(&[9, 1, 1, 1, 1, 1, 1, 1, 1, 1]).is_err());
        assert!(long_integer(&[31, 1]).is_err());
        assert!(long_integer(&[3, 1]).is_err());
        assert_eq!(integer_value(&[0x85]).unwrap().1, 5);
        assert_eq!(integer_value(&[0x01, 0xC8]).unwrap().1, 200);
        let mut out = Vec::new();
        encode_integer_value(200, &mut out);
        assert_eq!(out, [0x01, 0xC8]);
    }

    #[test]
    fn value_lengths() {
        assert_eq!(value_length(&[0x05]).unwrap().1, 5);
        // Length-quote + uintvar 0x81 0x00 = 128.
        assert_eq!(value_length(&[0x1F, 0x81, 0x00]).unwrap().1, 128);
        assert!(value_length(&[0x20]).is_err());
        assert!(value_length_block(&[0x03, 1, 2]).is_err());
        let mut out = Vec::new();
        encode_value_length(31, &mut out);
        assert_eq!(out, [0x1F, 0x1F]);
    }

    #[test]
    fn strings() {
        assert_eq!(
            text_string(b"abc\0rest").unwrap(),
            (&b"rest"[..], &b"abc"[..])
        );
        // Quote before a high first octet.
        assert_eq!(
            text_string(&[0x7F, 0xC3, 0xA9, 0x00]).unwrap().1,
            &[0xC3, 0xA9]
        );
        assert!(text_string(b"abc").is_err());
        assert_eq!(quoted_string(b"\"<a>\0").unwrap().1, b"<a>");
        assert_eq!(text_value(&[0x00, 0x41]).unwrap(), (&[0x41][..], None));
        let mut out = Vec::new();
        encode_text_string(&[0xC3, 0xA9], &mut out);
        assert_eq!(out, [0x7F, 0xC3, 0xA9, 0x00]);
    }

    #[test]
    fn encoded_strings_with_charsets() {
        // Value-length 4, charset 0xEA (106 utf-8), "hé" is 3 octets? use "ab\0".
        let (_, s) = encoded_string_value(&[0x04, 0xEA, b'a', b'b', 0x00]).unwrap();
        assert_eq!(
            (s.charset, s.text.as_str(), s.valid),
            (Some(106), "ab", true)
        );
        // ISO-8859-1 (0x84): 0xE9 = é.
        let (_, s) = encoded_string_value(&[0x04, 0x84, 0x7F, 0xE9, 0x00]).unwrap();
        assert_eq!(s.text, "é");
        // UTF-16 (1015 = Long-integer 0x02 0x03 0xF7) with a little-endian BOM.
        let bytes = [0x09, 0x02, 0x03, 0xF7, 0x7F, 0xFF, 0xFE, b'h', 0x00, 0x00];
        let (_, s) = encoded_string_value(&bytes).unwrap();
        assert_eq!((s.charset, s.text.as_str()), (Some(1015), "h"));
        // Invalid UTF-8 is kept raw with a b64.
        let (_, s) = encoded_string_value(&[0x04, 0xEA, 0x7F, 0xFF, 0x00]).unwrap();
        assert!(!s.valid);
        assert_eq!(s.raw, [0xFF]);
        assert_eq!(s.raw_b64().as_deref(), Some("/w=="));
        // Shift_JIS 17 (0x91): 0x82 0xA0 = あ.
        let (_, s) = encoded_string_value(&[0x05, 0x91, 0x7F, 0x82, 0xA0, 0x00]).unwrap();
        assert_eq!(s.text, "あ");
        // Any-charset (0x80) decodes as UTF-8.
        let (_, s) = encoded_string_value(&[0x03, 0x80, b'x', 0x00]).unwrap();
        assert_eq!(s.text, "x");
        for cs in [106u32, 4, 17, 2026, 2025, 1015, 1014, 2251, 2084] {
            let v = EncodedString::with_charset(cs, "plain");
            let mut out = Vec::new();
            encode_encoded_string_value(&v, &mut out).unwrap();
            let (rest, back) = encoded_string_value(&out).unwrap();
            assert!(rest.is_empty());
            assert_eq!(back.charset, Some(cs));
            assert_eq!(back.text, "plain", "charset {cs}");
        }
    }

    #[test]
    fn utf16_bom_handling() {
        assert_eq!(decode_text(Some(1015), &[0xFE, 0xFF, 0x00, 0x41]).0, "A");
        assert_eq!(decode_text(Some(1015), &[0xFF, 0xFE, 0x41, 0x00]).0, "A");
        assert_eq!(decode_text(Some(1015), &[0x00, 0x41]).0, "A");
        assert_eq!(decode_text(Some(1014), &[0x41, 0x00]).0, "A");
    }

    #[test]
    fn q_and_version_and_date() {
        // 1-octet form: 0x33 = 51 → 0.50; 2-octet form 0x83 0x31 = 433 → 0.333.
        assert_eq!(q_value(&[0x33]).unwrap().1, 500);
        assert_eq!(q_value(&[0x83, 0x31]).unwrap().1, 333);
        assert_eq!(q_value_string(500), "0.5");
        assert_eq!(q_value_string(333), "0.333");
        assert!(q_value(&[0x00]).is_err());
        assert!(q_value(&[0x81, 0x81, 0x01]).is_err());
        for q in [0u16, 10, 500, 333, 999] {
            let mut out = Vec::new();
            encode_q_value(q, &mut out);
            assert_eq!(q_value(&out).unwrap().1, q);
        }
        // 0x92 = 1.2; 0x9F = 1 with no minor.
        assert_eq!(version_value(&[0x92]).unwrap().1.to_string(), "1.2");
        assert_eq!(version_value(&[0x9F]).unwrap().1.to_string(), "1");
        assert_eq!(version_value(b"2.0a\0").unwrap().1.to_string(), "2.0a");
        assert_eq!(
            date_value(&[0x04, 0x65, 0x53, 0xF1, 0x00]).unwrap().1,
            0x6553_F100
        );
    }

    #[test]
    fn content_types() {
        // 0xA3 = application/vnd.wap.multipart.mixed.
        assert_eq!(
            content_type_value(&[0xA3]).unwrap().1.media,
            "application/vnd.wap.multipart.mixed"
        );
        assert_eq!(
            content_type_value(b"image/jpeg\0").unwrap().1.media,
            "image/jpeg"
        );
        // General form: len, 0xB3 (related), 0x89 type "application/smil", 0x8A start "<s>".
        let mut b = vec![0xB3, 0x89];
        b.extend_from_slice(b"application/smil\0");
        b.push(0x8A);
        b.extend_from_slice(b"<s>\0");
        let mut input = vec![b.len() as u8];
        input.extend_from_slice(&b);
        let (_, ct) = content_type_value(&input).unwrap();
        assert_eq!(ct.media, "application/vnd.wap.multipart.related");
        assert_eq!(ct.type_param(), Some("application/smil"));
        assert_eq!(ct.start(), Some("<s>"));
        // text/plain; charset=utf-8 (0x83 0x81 0xEA), name via 0x85.
        let input = [0x07, 0x83, 0x81, 0xEA, 0x85, b'a', b'.', 0x00];
        let (_, ct) = content_type_value(&input).unwrap();
        assert_eq!(ct.charset(), Some("utf-8"));
        assert_eq!(ct.name(), Some("a."));
        // Untyped parameter: "x-p" "\"v".
        let input = [0x08, 0x83, b'x', 0x00, 0x22, b'v', 0x00, b'n', 0x00];
        assert!(content_type_value(&input).is_err());
        let (_, (ct, err)) = content_type_value_lenient(&input).unwrap();
        assert_eq!(ct.params, [("x".to_owned(), "v".to_owned())]);
        assert!(err.is_some());
        // Q param 0x80 + 0x33, level 0x82 + 0x92, untyped integer.
        let input = [0x08, 0x83, 0x80, 0x33, 0x82, 0x92, b'z', 0x00, 0x85];
        let (_, ct) = content_type_value(&input).unwrap();
        assert_eq!(
            ct.params,
            [
                ("q".into(), "0.5".into()),
                ("level".into(), "1.2".into()),
                ("z".into(), "5".into())
            ]
        );
        // Round trips.
        for ct in [
            ContentType::new("text/plain")
                .with_param("charset", "utf-8")
                .with_param("name", "a b.txt"),
            ContentType::new("application/vnd.wap.multipart.related")
                .with_param("start", "<smil>")
                .with_param("type", "application/smil"),
            ContentType::new("image/x-custom"),
            ContentType::new("application/x-wsp-content-type-0x1234"),
            ContentType::new("text/x-foo")
                .with_param("x-num", "42")
                .with_param("x-e", ""),
        ] {
            let mut out = Vec::new();
            encode_content_type(&ct, &mut out).unwrap();
            let (rest, back) = content_type_value(&out).unwrap();
            assert!(rest.is_empty());
            assert_eq!(back, ct);
        }
        assert_eq!(
            ContentType::new("text/plain")
                .with_param("name", "a b")
                .to_string(),
            "text/plain; name=\"a b\""
        );
    }

    #[test]
    fn charset_table() {
        assert_eq!(charset_name(106), Some("utf-8"));
        assert_eq!(charset_mib("UTF-8"), Some(106));
        assert_eq!(charset_mib("Shift_JIS"), Some(17));
        assert_eq!(charset_name(2026), Some("big5"));
    }
}

#[cfg(test)]
mod text_quote_tests {
    use super::*;

    #[test]
    fn leading_control_octets_are_quoted_and_survive() {
        // Regression: a name starting with ESC was written bare and read back as a Short-length.
        let mut out = Vec::new();
        encode_text_string(b"\x1b[31mred", &mut out);
        assert_eq!(out.first(), Some(&0x7F));
        let (rest, text) = text_string(&out).unwrap();
        assert!(rest.is_empty());
        assert_eq!(text, b"\x1b[31mred");
        let mut plain = Vec::new();
        encode_text_string(b"name", &mut plain);
        assert_eq!(plain, b"name\0");
    }
}
