//! WSP header fields (WAP-230 8.4): well-known codes, code pages, application headers.
//!
//! A header block is a sequence of `Header = Message-header | Shift-sequence` (8.4.2.6). Every
//! value's extent is known from its first octet (8.4.1.2): 0–30 a short length, 31 a uintvar
//! length, 32–127 a NUL-terminated text, 128–255 a single octet. So a value whose content is
//! malformed is kept as opaque and decoding goes on; only a value whose extent runs past the end
//! of the block stops decoding (the headers before it are kept).

use super::encoding::{
    self as enc, ContentType, DecodeIssue, WspError, WspResult, charset_mib, charset_name,
    content_type_value, date_value, encode_content_type, encode_date_value, encode_integer_value,
    encode_length_prefixed, encode_parameter, encode_quoted_string, encode_short_integer,
    encode_text_string, encode_token_text, integer_value, parameter, q_value, q_value_string,
    quoted_string, short_integer, text_string, token_text, uintvar, value_length_block,
    version_value,
};
use crate::time::Timestamp;
use serde::Serialize;
use std::fmt;

/// The default header code page (WAP-230 8.4.2.6).
pub const DEFAULT_CODE_PAGE: u8 = 1;
/// Shift-delimiter: a Page-identity octet follows.
pub const SHIFT_DELIMITER: u8 = 0x7F;

/// How a well-known header's value is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderKind {
    /// Text-string (also Uri-value).
    Text,
    /// Quoted-string (Content-ID) — Text-string accepted too.
    QuotedText,
    Integer,
    Date,
    DeltaSeconds,
    ContentType,
    /// Accept: a content type with an optional q parameter.
    Accept,
    AcceptCharset,
    AcceptEncoding,
    AcceptLanguage,
    AcceptRanges,
    Method,
    CacheControl,
    Connection,
    ContentEncoding,
    Md5,
    ContentRange,
    Authorization,
    Challenge,
    Pragma,
    Range,
    RetryAfter,
    TransferEncoding,
    FieldName,
    Warning,
    ApplicationId,
    AcceptApplication,
    ContentDisposition,
    IfRange,
    EncodingVersion,
    SetCookie,
    Cookie,
    ShortInteger,
    /// Anything else: rendered generically.
    Opaque,
}

/// Well-known header field names, code page 1 (WAP-230 Table 39, encoding versions 1.1–1.4).
pub const HEADER_FIELDS: &[(u8, &str, HeaderKind)] = &[
    (0x00, "Accept", HeaderKind::Accept),
    (0x01, "Accept-Charset", HeaderKind::AcceptCharset),
    (0x02, "Accept-Encoding", HeaderKind::AcceptEncoding),
    (0x03, "Accept-Language", HeaderKind::AcceptLanguage),
    (0x04, "Accept-Ranges", HeaderKind::AcceptRanges),
    (0x05, "Age", HeaderKind::DeltaSeconds),
    (0x06, "Allow", HeaderKind::Method),
    (0x07, "Authorization", HeaderKind::Authorization),
    (0x08, "Cache-Control", HeaderKind::CacheControl),
    (0x09, "Connection", HeaderKind::Connection),
    (0x0A, "Content-Base", HeaderKind::Text),
    (0x0B, "Content-Encoding", HeaderKind::ContentEncoding),
    (0x0C, "Content-Language", HeaderKind::AcceptLanguage),
    (0x0D, "Content-Length", HeaderKind::Integer),
    (0x0E, "Content-Location", HeaderKind::Text),
    (0x0F, "Content-MD5", HeaderKind::Md5),
    (0x10, "Content-Range", HeaderKind::ContentRange),
    (0x11, "Content-Type", HeaderKind::ContentType),
    (0x12, "Date", HeaderKind::Date),
    (0x13, "Etag", HeaderKind::Text),
    (0x14, "Expires", HeaderKind::Date),
    (0x15, "From", HeaderKind::Text),
    (0x16, "Host", HeaderKind::Text),
    (0x17, "If-Modified-Since", HeaderKind::Date),
    (0x18, "If-Match", HeaderKind::Text),
    (0x19, "If-None-Match", HeaderKind::Text),
    (0x1A, "If-Range", HeaderKind::IfRange),
    (0x1B, "If-Unmodified-Since", HeaderKind::Date),
    (0x1C, "Location", HeaderKind::Text),
    (0x1D, "Last-Modified", HeaderKind::Date),
    (0x1E, "Max-Forwards", HeaderKind::Integer),
    (0x1F, "Pragma", HeaderKind::Pragma),
    (0x20, "Proxy-Authenticate", HeaderKind::Challenge),
    (0x21, "Proxy-Authorization", HeaderKind::Authorization),
    (0x22, "Public", HeaderKind::Method),
    (0x23, "Range", HeaderKind::Range),
    (0x24, "Referer", HeaderKind::Text),
    (0x25, "Retry-After", HeaderKind::RetryAfter),
    (0x26, "Server", HeaderKind::Text),
    (0x27, "Transfer-Encoding", HeaderKind::TransferEncoding),
    (0x28, "Upgrade", HeaderKind::Text),
    (0x29, "User-Agent", HeaderKind::Text),
    (0x2A, "Vary", HeaderKind::FieldName),
    (0x2B, "Via", HeaderKind::Text),
    (0x2C, "Warning", HeaderKind::Warning),
    (0x2D, "WWW-Authenticate", HeaderKind::Challenge),
    (0x2E, "Content-Disposition", HeaderKind::ContentDisposition),
    (0x2F, "X-Wap-Application-Id", HeaderKind::ApplicationId),
    (0x30, "X-Wap-Content-URI", HeaderKind::Text),
    (0x31, "X-Wap-Initiator-URI", HeaderKind::Text),
    (0x32, "Accept-Application", HeaderKind::AcceptApplication),
    (0x33, "Bearer-Indication", HeaderKind::Integer),
    (0x34, "Push-Flag", HeaderKind::ShortInteger),
    (0x35, "Profile", HeaderKind::Text),
    (0x36, "Profile-Diff", HeaderKind::Opaque),
    (0x37, "Profile-Warning", HeaderKind::Warning),
    (0x38, "Expect", HeaderKind::Opaque),
    (0x39, "TE", HeaderKind::Opaque),
    (0x3A, "Trailer", HeaderKind::FieldName),
    (0x3B, "Accept-Charset", HeaderKind::AcceptCharset),
    (0x3C, "Accept-Encoding", HeaderKind::AcceptEncoding),
    (0x3D, "Cache-Control", HeaderKind::CacheControl),
    (0x3E, "Content-Range", HeaderKind::ContentRange),
    (0x3F, "X-Wap-Tod", HeaderKind::Date),
    (0x40, "Content-ID", HeaderKind::QuotedText),
    (0x41, "Set-Cookie", HeaderKind::SetCookie),
    (0x42, "Cookie", HeaderKind::Cookie),
    (0x43, "Encoding-Version", HeaderKind::EncodingVersion),
    (0x44, "Profile-Warning", HeaderKind::Warning),
    (0x45, "Content-Disposition", HeaderKind::ContentDisposition),
    (0x46, "X-WAP-Security", HeaderKind::Opaque),
    (0x47, "Cache-Control", HeaderKind::CacheControl),
];

/// Which code an encoder uses for a header name: the earliest (most widely understood) one.
fn header_code(name: &str) -> Option<(u8, HeaderKind)> {
    HEADER_FIELDS
        .iter()
        .find(|(_, n, _)| n.eq_ignore_ascii_case(name))
        .map(|(c, _, k)| (*c, *k))
}

/// Name of a well-known header code on the default page.
pub fn header_name(code: u8) -> Option<&'static str> {
    HEADER_FIELDS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map(|(_, n, _)| *n)
}

fn header_kind(code: u8) -> HeaderKind {
    HEADER_FIELDS
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or(HeaderKind::Opaque, |(_, _, k)| *k)
}

/// Push application ids (OMNA "Push Application ID" registry).
pub const PUSH_APPLICATION_IDS: &[(u32, &str)] = &[
    (0x00, "x-wap-application:*"),
    (0x01, "x-wap-application:push.sia"),
    (0x02, "x-wap-application:wml.ua"),
    (0x03, "x-wap-application:wta.ua"),
    (0x04, "x-wap-application:mms.ua"),
    (0x05, "x-wap-application:push.syncml"),
    (0x06, "x-wap-application:loc.ua"),
    (0x07, "x-wap-application:syncml.dm"),
    (0x08, "x-wap-application:drm.ua"),
    (0x09, "x-wap-application:emn.ua"),
    (0x0A, "x-wap-application:wv.ua"),
    (0x8000, "x-wap-microsoft:localcontent.ua"),
    (0x8001, "x-wap-microsoft:IMclient.ua"),
    (0x8002, "x-wap-docomo:imode.mail.ua"),
];

/// Name of a push application id number.
pub fn application_id_name(code: u64) -> Option<&'static str> {
    PUSH_APPLICATION_IDS
        .iter()
        .find(|(c, _)| u64::from(*c) == code)
        .map(|(_, n)| *n)
}

/// WSP method numbers (WAP-230 Table 34) used by Allow and Public.
pub const METHODS: &[(u8, &str)] = &[
    (0x40, "GET"),
    (0x41, "OPTIONS"),
    (0x42, "HEAD"),
    (0x43, "DELETE"),
    (0x44, "TRACE"),
    (0x60, "POST"),
    (0x61, "PUT"),
];

/// Cache-directive tokens (WAP-230 8.4.2.15).
pub const CACHE_DIRECTIVES: &[(u8, &str)] = &[
    (0x00, "no-cache"),
    (0x01, "no-store"),
    (0x02, "max-age"),
    (0x03, "max-stale"),
    (0x04, "min-fresh"),
    (0x05, "only-if-cached"),
    (0x06, "public"),
    (0x07, "private"),
    (0x08, "no-transform"),
    (0x09, "must-revalidate"),
    (0x0A, "proxy-revalidate"),
    (0x0B, "s-maxage"),
];

/// Content-coding tokens (WAP-230 8.4.2.18).
pub const CONTENT_ENCODINGS: &[(u8, &str)] =
    &[(0x00, "gzip"), (0x01, "compress"), (0x02, "deflate")];

/// Content-Disposition tokens (WAP-230 8.4.2.53, 1.4: form-data, attachment, inline).
pub const DISPOSITIONS: &[(u8, &str)] =
    &[(0x00, "form-data"), (0x01, "attachment"), (0x02, "inline")];

/// Enumerated single-token values per header kind, used both ways.
fn token_table(kind: HeaderKind) -> &'static [(u8, &'static str)] {
    match kind {
        HeaderKind::AcceptRanges => &[(0x00, "none"), (0x01, "bytes")],
        HeaderKind::CacheControl => CACHE_DIRECTIVES,
        HeaderKind::Connection => &[(0x00, "close")],
        HeaderKind::ContentEncoding => CONTENT_ENCODINGS,
        HeaderKind::AcceptEncoding => &[
            (0x00, "gzip"),
            (0x01, "compress"),
            (0x02, "deflate"),
            (0x03, "*"),
        ],
        HeaderKind::TransferEncoding => &[(0x00, "chunked")],
        HeaderKind::Pragma => &[(0x00, "no-cache")],
        HeaderKind::Method => METHODS,
        _ => &[],
    }
}

fn lookup(table: &[(u8, &'static str)], v: u8) -> Option<&'static str> {
    table.iter().find(|(c, _)| *c == v).map(|(_, n)| *n)
}

/// HTTP-style credentials from an Authorization or Proxy-Authorization header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credentials {
    /// `Basic`, or the scheme token.
    pub scheme: String,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Auth-params of a non-Basic scheme.
    pub params: Vec<(String, String)>,
}

/// A typed header value, where the type matters to the audit or to re-encoding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum WspHeaderValue {
    /// Text as rendered (text headers, enumerations, and everything without a richer type).
    Text {
        text: String,
    },
    Integer {
        value: u64,
    },
    /// Seconds since the epoch.
    Date {
        secs: u64,
    },
    ContentType {
        content_type: ContentType,
    },
    Authorization {
        credentials: Credentials,
    },
    /// X-Wap-Application-Id / Accept-Application: the assigned number or the URI.
    ApplicationId {
        code: Option<u64>,
        uri: String,
    },
    ContentDisposition {
        disposition: String,
        params: Vec<(String, String)>,
    },
    /// A value whose content could not be interpreted: its encoded octets.
    Opaque {
        #[serde(skip)]
        bytes: Vec<u8>,
    },
}

/// One decoded header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WspHeader {
    /// Field name as the specification writes it (`Content-Location`), or as sent for
    /// application headers.
    pub name: String,
    /// The value rendered for display and reports.
    pub value: String,
    /// The typed value.
    pub typed: WspHeaderValue,
    /// Well-known code, `None` for an application header (Token-text name).
    pub code: Option<u8>,
    /// The code page the header was in.
    pub page: u8,
    /// The value octets as encoded (for a `_b64` of invalid text, and for audit).
    #[serde(skip)]
    pub raw_value: Vec<u8>,
}

impl WspHeader {
    fn build(name: impl Into<String>, typed: WspHeaderValue) -> Self {
        let value = render(&typed);
        WspHeader {
            name: name.into(),
            value,
            typed,
            code: None,
            page: DEFAULT_CODE_PAGE,
            raw_value: Vec::new(),
        }
    }
    /// A textual header (well-known names are encoded with their code).
    pub fn text(name: impl Into<String>, value: impl Into<String>) -> Self {
        WspHeader::build(name, WspHeaderValue::Text { text: value.into() })
    }
    pub fn integer(name: impl Into<String>, value: u64) -> Self {
        WspHeader::build(name, WspHeaderValue::Integer { value })
    }
    pub fn date(name: impl Into<String>, secs: u64) -> Self {
        WspHeader::build(name, WspHeaderValue::Date { secs })
    }
    pub fn content_type(content_type: ContentType) -> Self {
        WspHeader::build("Content-Type", WspHeaderValue::ContentType { content_type })
    }
    /// Authorization: Basic with user and password.
    pub fn authorization_basic(user: impl Into<String>, password: impl Into<String>) -> Self {
        WspHeader::build(
            "Authorization",
            WspHeaderValue::Authorization {
                credentials: Credentials {
                    scheme: "Basic".into(),
                    user: Some(user.into()),
                    password: Some(password.into()),
                    params: Vec::new(),
                },
            },
        )
    }
    /// X-Wap-Application-Id by assigned number.
    pub fn application_id(code: u64) -> Self {
        let uri = application_id_name(code).map_or_else(|| code.to_string(), str::to_owned);
        WspHeader::build(
            "X-Wap-Application-Id",
            WspHeaderValue::ApplicationId {
                code: Some(code),
                uri,
            },
        )
    }
    pub fn content_disposition(
        disposition: impl Into<String>,
        params: Vec<(String, String)>,
    ) -> Self {
        WspHeader::build(
            "Content-Disposition",
            WspHeaderValue::ContentDisposition {
                disposition: disposition.into(),
                params,
            },
        )
    }
    /// True when the name matches (case-insensitive).
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

fn quote_if_needed(v: &str) -> String {
    if v.is_empty() || v.chars().any(|c| c.is_whitespace() || ";,=\"".contains(c)) {
        format!("\"{}\"", v.replace('"', "\\\""))
    } else {
        v.to_owned()
    }
}

fn render(typed: &WspHeaderValue) -> String {
    match typed {
        WspHeaderValue::Text { text } => text.clone(),
        WspHeaderValue::Integer { value } => value.to_string(),
        WspHeaderValue::Date { secs } => date_string(*secs),
        WspHeaderValue::ContentType { content_type } => content_type.to_string(),
        WspHeaderValue::Authorization { credentials } => {
            if credentials.scheme.eq_ignore_ascii_case("basic") {
                use base64::Engine as _;
                let pair = format!(
                    "{}:{}",
                    credentials.user.as_deref().unwrap_or_default(),
                    credentials.password.as_deref().unwrap_or_default()
                );
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            } else {
                let params: Vec<String> = credentials
                    .params
                    .iter()
                    .map(|(n, v)| format!("{n}={}", quote_if_needed(v)))
                    .collect();
                if params.is_empty() {
                    credentials.scheme.clone()
                } else {
                    format!("{} {}", credentials.scheme, params.join(", "))
                }
            }
        }
        WspHeaderValue::ApplicationId { uri, .. } => uri.clone(),
        WspHeaderValue::ContentDisposition {
            disposition,
            params,
        } => {
            let mut s = disposition.clone();
            for (n, v) in params {
                s.push_str(&format!("; {n}={}", quote_if_needed(v)));
            }
            s
        }
        WspHeaderValue::Opaque { bytes } => hex(bytes),
    }
}

/// Lower-case hexadecimal.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from(
                DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    out
}

fn date_string(secs: u64) -> String {
    Timestamp::new(i64::try_from(secs).unwrap_or(i64::MAX), 0, 0).to_rfc3339()
}

fn lossy(t: &[u8]) -> String {
    String::from_utf8_lossy(t).into_owned()
}

/// The result of decoding a header block: every header decoded, and the problems met.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DecodedHeaders {
    pub headers: Vec<WspHeader>,
    /// Problems, with offsets relative to the start of the block.
    pub issues: Vec<DecodeIssue>,
    /// False when decoding stopped before the end of the block.
    pub complete: bool,
}

impl DecodedHeaders {
    /// First header with this name (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&WspHeader> {
        self.headers.iter().find(|h| h.is(name))
    }
    /// `(name, value)` pairs for reports.
    pub fn pairs(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|h| (h.name.clone(), h.value.clone()))
            .collect()
    }
}

/// The encoded extent of one value (WAP-230 8.4.1.2): returns the whole value encoding.
pub fn value_extent(input: &[u8]) -> WspResult<'_, &[u8]> {
    let Some(&b) = input.first() else {
        return Err(WspError::truncated("header value", input, 1));
    };
    let len = match b {
        0..=30 => 1 + usize::from(b),
        31 => {
            let (rest, l) = uintvar(input.get(1..).unwrap_or_default())?;
            let prefix = input.len() - rest.len();
            prefix.saturating_add(l as usize)
        }
        32..=127 => match input.iter().position(|&x| x == 0) {
            Some(end) => end + 1,
            None => return Err(WspError::invalid("header value", input, "text without NUL")),
        },
        _ => 1,
    };
    match input.split_at_checked(len) {
        Some((v, rest)) => Ok((rest, v)),
        None => Err(WspError::truncated(
            "header value",
            input,
            len.saturating_sub(input.len()),
        )),
    }
}

/// Decodes a whole header block (e.g. the Headers of a WSP PDU or a multipart entry).
/// Never fails: problems are reported in `issues` with their offsets.
pub fn decode_headers(block: &[u8]) -> DecodedHeaders {
    let mut out = DecodedHeaders {
        complete: true,
        ..DecodedHeaders::default()
    };
    let mut page = DEFAULT_CODE_PAGE;
    let mut input = block;
    while let Some(&b) = input.first() {
        let offset = block.len() - input.len();
        match b {
            SHIFT_DELIMITER => match input.get(1) {
                Some(&p) if p != 0 => {
                    page = p;
                    input = input.get(2..).unwrap_or_default();
                }
                _ => {
                    out.issues.push(DecodeIssue::new(
                        offset,
                        "shift delimiter without a page identity",
                    ));
                    out.complete = false;
                    break;
                }
            },
            0x01..=0x1F => {
                page = b;
                input = input.get(1..).unwrap_or_default();
            }
            0x80..=0xFF => {
                let code = b & 0x7F;
                let after = input.get(1..).unwrap_or_default();
                match value_extent(after) {
                    Ok((rest, raw)) => {
                        let (header, issue) = decode_well_known(page, code, raw);
                        if let Some(msg) = issue {
                            out.issues.push(DecodeIssue::new(
                                offset + 1,
                                format!("{}: {msg}", header.name),
                            ));
                        }
                        out.headers.push(header);
                        input = rest;
                    }
                    Err(e) => {
                        let name = field_display_name(page, code);
                        out.issues.push(DecodeIssue::new(
                            e.offset_in(block.len()),
                            format!("{name}: {e}"),
                        ));
                        out.complete = false;
                        break;
                    }
                }
            }
            0x20..=0x7E => match application_header(input) {
                Ok((rest, header)) => {
                    out.headers.push(header);
                    input = rest;
                }
                Err(e) => {
                    out.issues.push(DecodeIssue::new(
                        e.offset_in(block.len()),
                        format!("application header: {e}"),
                    ));
                    out.complete = false;
                    break;
                }
            },
            0x00 => {
                out.issues.push(DecodeIssue::new(
                    offset,
                    "unexpected octet 0x00 where a header starts",
                ));
                out.complete = false;
                break;
            }
        }
    }
    out
}

fn field_display_name(page: u8, code: u8) -> String {
    match (page, header_name(code)) {
        (DEFAULT_CODE_PAGE, Some(n)) => n.to_owned(),
        (DEFAULT_CODE_PAGE, None) => format!("x-wsp-header-0x{code:02x}"),
        (p, _) => format!("x-wsp-page-{p}-header-0x{code:02x}"),
    }
}

/// Application-header: Token-text Application-specific-value (Text-string).
fn application_header(input: &[u8]) -> WspResult<'_, WspHeader> {
    let (rest, name) = token_text(input)?;
    let (rest2, raw) = value_extent(rest)?;
    let value = match text_string(raw) {
        Ok((_, t)) => lossy(t),
        // Some senders put a binary value after a textual name: render it generically.
        Err(_) => render_generic(raw),
    };
    let mut h = WspHeader::text(lossy(name), value);
    h.raw_value = raw.to_vec();
    Ok((rest2, h))
}

fn render_generic(raw: &[u8]) -> String {
    match raw.first() {
        Some(0x20..=0x7F) => text_string(raw).map_or_else(|_| hex(raw), |(_, t)| lossy(t)),
        Some(&b) if b >= 0x80 => format!("0x{:02x}", b & 0x7F),
        _ => hex(raw),
    }
}

/// Decodes one well-known header's value from its exact extent. Returns the header and, when
/// the value's content was malformed, a message (the value is then opaque).
fn decode_well_known(page: u8, code: u8, raw: &[u8]) -> (WspHeader, Option<String>) {
    let name = field_display_name(page, code);
    let kind = if page == DEFAULT_CODE_PAGE {
        header_kind(code)
    } else {
        HeaderKind::Opaque
    };
    let (typed, issue) = match decode_value(kind, raw) {
        Ok(t) => (t, None),
        Err(e) => (
            WspHeaderValue::Opaque {
                bytes: raw.to_vec(),
            },
            Some(e.to_string()),
        ),
    };
    let typed = match (kind, typed) {
        (HeaderKind::Opaque, WspHeaderValue::Opaque { .. }) => WspHeaderValue::Text {
            text: render_generic(raw),
        },
        (_, t) => t,
    };
    let mut h = WspHeader::build(name, typed);
    h.code = Some(code);
    h.page = page;
    h.raw_value = raw.to_vec();
    (h, issue)
}

fn text_of(raw: &[u8]) -> Result<WspHeaderValue, WspError> {
    let (_, t) = text_string(raw)?;
    Ok(WspHeaderValue::Text { text: lossy(t) })
}

fn text(s: impl Into<String>) -> WspHeaderValue {
    WspHeaderValue::Text { text: s.into() }
}

fn with_q(base: String, rest: &[u8]) -> Result<String, WspError> {
    if rest.is_empty() {
        return Ok(base);
    }
    let (_, q) = q_value(rest)?;
    Ok(format!("{base};q={}", q_value_string(q)))
}

fn charset_display(mib: u64) -> String {
    u32::try_from(mib)
        .ok()
        .and_then(charset_name)
        .map_or_else(|| mib.to_string(), str::to_owned)
}

/// Decodes a value of a given kind from its exact extent.
fn decode_value(kind: HeaderKind, raw: &[u8]) -> Result<WspHeaderValue, WspError> {
    let first = raw.first().copied().unwrap_or(0);
    let is_text = (32..=127).contains(&first);
    let is_short = first >= 0x80;
    match kind {
        HeaderKind::Text | HeaderKind::Opaque => text_of(raw),
        HeaderKind::QuotedText => {
            if first == enc::STRING_QUOTE {
                let (_, t) = quoted_string(raw)?;
                Ok(text(lossy(t)))
            } else {
                text_of(raw)
            }
        }
        HeaderKind::Integer | HeaderKind::DeltaSeconds => {
            let (_, v) = integer_value(raw)?;
            Ok(WspHeaderValue::Integer { value: v })
        }
        HeaderKind::ShortInteger => {
            let (_, v) = short_integer(raw)?;
            Ok(WspHeaderValue::Integer {
                value: u64::from(v),
            })
        }
        HeaderKind::Date => {
            let (_, v) = date_value(raw)?;
            Ok(WspHeaderValue::Date { secs: v })
        }
        HeaderKind::ContentType | HeaderKind::Accept => {
            let (_, ct) = content_type_value(raw)?;
            Ok(WspHeaderValue::ContentType { content_type: ct })
        }
        HeaderKind::AcceptCharset => {
            if first == 0x80 {
                return Ok(text("*"));
            }
            if is_short {
                let (_, v) = integer_value(raw)?;
                return Ok(text(charset_display(v)));
            }
            if is_text {
                return text_of(raw);
            }
            let (_, block) = value_length_block(raw)?;
            let (rest, cs) = match block.first() {
                Some(0x80) => (block.get(1..).unwrap_or_default(), "*".to_owned()),
                Some(32..=127) => {
                    let (r, t) = token_text(block)?;
                    (r, lossy(t))
                }
                _ => {
                    let (r, v) = integer_value(block)?;
                    (r, charset_display(v))
                }
            };
            Ok(text(with_q(cs, rest)?))
        }
        HeaderKind::AcceptLanguage => {
            if first == 0x80 {
                return Ok(text("*"));
            }
            if is_short || is_text {
                return Ok(text(language(raw)?.1));
            }
            let (_, block) = value_length_block(raw)?;
            let (rest, l) = language(block)?;
            Ok(text(with_q(l, rest)?))
        }
        HeaderKind::AcceptEncoding => {
            if is_short || is_text {
                return token_or_text(kind, raw);
            }
            let (_, block) = value_length_block(raw)?;
            let (rest, e) = match block.first() {
                Some(&b) if b >= 0x80 => (
                    block.get(1..).unwrap_or_default(),
                    lookup(token_table(kind), b & 0x7F)
                        .map_or_else(|| format!("0x{:02x}", b & 0x7F), str::to_owned),
                ),
                _ => {
                    let (r, t) = token_text(block)?;
                    (r, lossy(t))
                }
            };
            Ok(text(with_q(e, rest)?))
        }
        HeaderKind::AcceptRanges
        | HeaderKind::Connection
        | HeaderKind::ContentEncoding
        | HeaderKind::TransferEncoding
        | HeaderKind::Method => token_or_text(kind, raw),
        HeaderKind::Pragma => {
            if is_short {
                return token_or_text(kind, raw);
            }
            let (_, block) = value_length_block(raw)?;
            let (_, (n, v)) = parameter(block)?;
            Ok(text(if v.is_empty() { n } else { format!("{n}={v}") }))
        }
        HeaderKind::CacheControl => {
            if is_short || is_text {
                return token_or_text(kind, raw);
            }
            let (_, block) = value_length_block(raw)?;
            let (rest, directive) = match block.first() {
                Some(&b) if b >= 0x80 => (block.get(1..).unwrap_or_default(), b & 0x7F),
                _ => {
                    let (_, (n, v)) = parameter(block)?;
                    return Ok(text(format!("{n}={v}")));
                }
            };
            let dname = lookup(CACHE_DIRECTIVES, directive)
                .map_or_else(|| format!("0x{directive:02x}"), str::to_owned);
            match directive {
                0x02 | 0x03 | 0x04 | 0x0B => {
                    let (_, secs) = integer_value(rest)?;
                    Ok(text(format!("{dname}={secs}")))
                }
                _ => {
                    let mut fields = Vec::new();
                    let mut r = rest;
                    while !r.is_empty() {
                        let (r2, f) = field_name(r)?;
                        fields.push(f);
                        r = r2;
                    }
                    Ok(text(if fields.is_empty() {
                        dname
                    } else {
                        format!("{dname}=\"{}\"", fields.join(", "))
                    }))
                }
            }
        }
        HeaderKind::FieldName => Ok(text(field_name(raw)?.1)),
        HeaderKind::Md5 => {
            let (_, block) = value_length_block(raw)?;
            use base64::Engine as _;
            Ok(text(
                base64::engine::general_purpose::STANDARD.encode(block),
            ))
        }
        HeaderKind::ContentRange => {
            let (_, block) = value_length_block(raw)?;
            let (rest, first_pos) = uintvar(block)?;
            let total = if rest.first() == Some(&0x80) {
                "*".to_owned()
            } else {
                uintvar(rest)?.1.to_string()
            };
            Ok(text(format!("bytes {first_pos}-*/{total}")))
        }
        HeaderKind::Range => {
            let (_, block) = value_length_block(raw)?;
            match block.first() {
                Some(0x80) => {
                    let (rest, a) = uintvar(block.get(1..).unwrap_or_default())?;
                    let last = if rest.is_empty() {
                        String::new()
                    } else {
                        uintvar(rest)?.1.to_string()
                    };
                    Ok(text(format!("bytes={a}-{last}")))
                }
                Some(0x81) => {
                    let (_, n) = uintvar(block.get(1..).unwrap_or_default())?;
                    Ok(text(format!("bytes=-{n}")))
                }
                Some(&b) => Err(WspError::unexpected("Range", block, b)),
                None => Err(WspError::truncated("Range", block, 1)),
            }
        }
        HeaderKind::RetryAfter => {
            let (_, block) = value_length_block(raw)?;
            match block.first() {
                Some(0x80) => {
                    let (_, d) = date_value(block.get(1..).unwrap_or_default())?;
                    Ok(WspHeaderValue::Date { secs: d })
                }
                Some(0x81) => {
                    let (_, d) = integer_value(block.get(1..).unwrap_or_default())?;
                    Ok(WspHeaderValue::Integer { value: d })
                }
                Some(&b) => Err(WspError::unexpected("Retry-After", block, b)),
                None => Err(WspError::truncated("Retry-After", block, 1)),
            }
        }
        HeaderKind::IfRange => {
            if is_text {
                text_of(raw)
            } else {
                let (_, d) = date_value(raw)?;
                Ok(WspHeaderValue::Date { secs: d })
            }
        }
        HeaderKind::Warning => {
            if is_short {
                let (_, c) = short_integer(raw)?;
                return Ok(text(c.to_string()));
            }
            let (_, block) = value_length_block(raw)?;
            let (rest, c) = short_integer(block)?;
            let (rest, agent) = text_string(rest)?;
            let t = text_string(rest).map(|(_, t)| lossy(t)).unwrap_or_default();
            Ok(text(format!("{c} {} \"{t}\"", lossy(agent))))
        }
        HeaderKind::Authorization => {
            let (_, block) = value_length_block(raw)?;
            Ok(WspHeaderValue::Authorization {
                credentials: credentials(block)?,
            })
        }
        HeaderKind::Challenge => {
            let (_, block) = value_length_block(raw)?;
            let (rest, scheme) = if block.first() == Some(&0x80) {
                (block.get(1..).unwrap_or_default(), "Basic".to_owned())
            } else {
                let (r, s) = token_text(block)?;
                (r, lossy(s))
            };
            let (mut rest, realm) = text_string(rest)?;
            let mut s = format!("{scheme} realm=\"{}\"", lossy(realm));
            while !rest.is_empty() {
                let (r, (n, v)) = parameter(rest)?;
                s.push_str(&format!(", {n}={}", quote_if_needed(&v)));
                rest = r;
            }
            Ok(text(s))
        }
        HeaderKind::ApplicationId | HeaderKind::AcceptApplication => {
            if kind == HeaderKind::AcceptApplication && first == 0x80 {
                return Ok(text("*"));
            }
            if is_text {
                let (_, t) = text_string(raw)?;
                return Ok(WspHeaderValue::ApplicationId {
                    code: None,
                    uri: lossy(t),
                });
            }
            let (_, code) = integer_value(raw)?;
            Ok(WspHeaderValue::ApplicationId {
                code: Some(code),
                uri: application_id_name(code).map_or_else(|| code.to_string(), str::to_owned),
            })
        }
        HeaderKind::ContentDisposition => {
            let (_, block) = value_length_block(raw)?;
            let (mut rest, disposition) = match block.first() {
                Some(&b) if b >= 0x80 => (
                    block.get(1..).unwrap_or_default(),
                    lookup(DISPOSITIONS, b & 0x7F)
                        .map_or_else(|| format!("0x{:02x}", b & 0x7F), str::to_owned),
                ),
                _ => {
                    let (r, t) = token_text(block)?;
                    (r, lossy(t))
                }
            };
            let mut params = Vec::new();
            while !rest.is_empty() {
                let (r, p) = parameter(rest)?;
                params.push(p);
                rest = r;
            }
            Ok(WspHeaderValue::ContentDisposition {
                disposition,
                params,
            })
        }
        HeaderKind::EncodingVersion => {
            if is_short || is_text {
                let (_, v) = version_value(raw)?;
                return Ok(text(v.to_string()));
            }
            let (_, block) = value_length_block(raw)?;
            let (rest, page) = short_integer(block)?;
            if rest.is_empty() {
                Ok(text(format!("page {page}")))
            } else {
                let (_, v) = version_value(rest)?;
                Ok(text(format!("page {page} {v}")))
            }
        }
        HeaderKind::SetCookie => {
            let (_, block) = value_length_block(raw)?;
            let (rest, _version) = version_value(block)?;
            let (rest, name) = text_string(rest)?;
            let (mut rest, val) = text_string(rest)?;
            let mut s = format!("{}={}", lossy(name), lossy(val));
            while !rest.is_empty() {
                let (r, (n, v)) = parameter(rest)?;
                s.push_str(&format!("; {n}={v}"));
                rest = r;
            }
            Ok(text(s))
        }
        HeaderKind::Cookie => {
            let (_, block) = value_length_block(raw)?;
            let (mut rest, _version) = version_value(block)?;
            let mut pairs = Vec::new();
            while !rest.is_empty() {
                let (r, cookie) = value_length_block(rest)?;
                let (after, name) = text_string(cookie)?;
                let (_, val) = text_string(after)?;
                pairs.push(format!("{}={}", lossy(name), lossy(val)));
                rest = r;
            }
            Ok(text(pairs.join("; ")))
        }
    }
}

fn token_or_text(kind: HeaderKind, raw: &[u8]) -> Result<WspHeaderValue, WspError> {
    match raw.first() {
        Some(&b) if b >= 0x80 => Ok(text(
            lookup(token_table(kind), b & 0x7F)
                .map_or_else(|| format!("0x{:02x}", b & 0x7F), str::to_owned),
        )),
        _ => text_of(raw),
    }
}

fn field_name(input: &[u8]) -> WspResult<'_, String> {
    match input.first() {
        Some(&b) if b >= 0x80 => Ok((
            input.get(1..).unwrap_or_default(),
            header_name(b & 0x7F).map_or_else(|| format!("0x{:02x}", b & 0x7F), str::to_owned),
        )),
        _ => {
            let (r, t) = token_text(input)?;
            Ok((r, lossy(t)))
        }
    }
}

fn language(input: &[u8]) -> WspResult<'_, String> {
    match input.first() {
        Some(0x80) => Ok((input.get(1..).unwrap_or_default(), "*".to_owned())),
        Some(&b) if b >= 0x80 || b <= 30 => {
            let (r, code) = integer_value(input)?;
            // WSP Table 41 assigns ISO 639 languages numbers; render the number.
            Ok((r, format!("language-0x{code:02x}")))
        }
        _ => {
            let (r, t) = text_string(input)?;
            Ok((r, lossy(t)))
        }
    }
}

/// Credentials = Basic (0x80) User-id Password | Authentication-scheme *Auth-param.
fn credentials(block: &[u8]) -> Result<Credentials, WspError> {
    if block.first() == Some(&0x80) {
        let rest = block.get(1..).unwrap_or_default();
        let (rest, user) = text_string(rest)?;
        // A missing password is tolerated (some clients end the value after the user id).
        let password = if rest.is_empty() {
            None
        } else {
            Some(lossy(text_string(rest)?.1))
        };
        return Ok(Credentials {
            scheme: "Basic".into(),
            user: Some(lossy(user)),
            password,
            params: Vec::new(),
        });
    }
    let (mut rest, scheme) = token_text(block)?;
    let mut params = Vec::new();
    while !rest.is_empty() {
        let (r, p) = parameter(rest)?;
        params.push(p);
        rest = r;
    }
    Ok(Credentials {
        scheme: lossy(scheme),
        user: None,
        password: None,
        params,
    })
}

// ---------------------------------------------------------------------------------------------
// Encoders

/// Appends one header. Well-known names whose typed value has a binary form are written with
/// their code; anything else as an application header (Token-text name, Text-string value).
pub fn encode_header(header: &WspHeader, out: &mut Vec<u8>) -> Result<(), WspError> {
    let code = header_code(&header.name);
    if let Some((code, kind)) = code {
        let mut value = Vec::new();
        if encode_value(kind, &header.typed, &mut value)? {
            encode_short_integer(code, out);
            out.extend_from_slice(&value);
            return Ok(());
        }
    }
    let name = if header.name.is_empty() {
        "X-Empty"
    } else {
        &header.name
    };
    encode_token_text(name.as_bytes(), out);
    encode_text_string(header.value.as_bytes(), out);
    Ok(())
}

/// Encodes a header block.
pub fn encode_headers(headers: &[WspHeader]) -> Result<Vec<u8>, WspError> {
    let mut out = Vec::new();
    for h in headers {
        encode_header(h, &mut out)?;
    }
    Ok(out)
}

fn reverse_token(kind: HeaderKind, text: &str) -> Option<u8> {
    token_table(kind)
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(text))
        .map(|(c, _)| *c)
}

/// Writes a value of `kind`; Ok(false) when the typed value has no binary form for that kind.
fn encode_value(
    kind: HeaderKind,
    typed: &WspHeaderValue,
    out: &mut Vec<u8>,
) -> Result<bool, WspError> {
    let plain_text = |t: &str| !t.is_empty() && !t.starts_with('"');
    match (kind, typed) {
        (HeaderKind::Text, WspHeaderValue::Text { text }) => {
            encode_text_string(text.as_bytes(), out);
        }
        (HeaderKind::QuotedText, WspHeaderValue::Text { text }) => {
            encode_quoted_string(text.as_bytes(), out);
        }
        (HeaderKind::Integer | HeaderKind::DeltaSeconds, WspHeaderValue::Integer { value }) => {
            encode_integer_value(*value, out)
        }
        (HeaderKind::ShortInteger, WspHeaderValue::Integer { value }) if *value < 0x80 => {
            encode_short_integer(*value as u8, out);
        }
        (HeaderKind::Date | HeaderKind::IfRange, WspHeaderValue::Date { secs }) => {
            encode_date_value(*secs, out);
        }
        (
            HeaderKind::ContentType | HeaderKind::Accept,
            WspHeaderValue::ContentType { content_type },
        ) => encode_content_type(content_type, out)?,
        (HeaderKind::AcceptCharset, WspHeaderValue::Text { text }) if !text.contains(';') => {
            match charset_mib(text) {
                Some(0) => out.push(0x80),
                Some(mib) => encode_integer_value(u64::from(mib), out),
                None => return Ok(false),
            }
        }
        (
            HeaderKind::AcceptRanges
            | HeaderKind::Connection
            | HeaderKind::ContentEncoding
            | HeaderKind::TransferEncoding
            | HeaderKind::CacheControl
            | HeaderKind::Pragma
            | HeaderKind::Method
            | HeaderKind::AcceptEncoding,
            WspHeaderValue::Text { text },
        ) => match reverse_token(kind, text) {
            Some(c) => encode_short_integer(c, out),
            None if kind != HeaderKind::Pragma
                && kind != HeaderKind::Method
                && plain_text(text)
                && text
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b';' && b != b'=') =>
            {
                encode_text_string(text.as_bytes(), out)
            }
            None => return Ok(false),
        },
        (HeaderKind::Authorization, WspHeaderValue::Authorization { credentials }) => {
            let mut inner = Vec::new();
            if credentials.scheme.eq_ignore_ascii_case("basic") {
                inner.push(0x80);
                encode_text_string(
                    credentials.user.as_deref().unwrap_or_default().as_bytes(),
                    &mut inner,
                );
                encode_text_string(
                    credentials
                        .password
                        .as_deref()
                        .unwrap_or_default()
                        .as_bytes(),
                    &mut inner,
                );
            } else {
                encode_token_text(credentials.scheme.as_bytes(), &mut inner);
                for (n, v) in &credentials.params {
                    encode_parameter(n, v, &mut inner);
                }
            }
            encode_length_prefixed(&inner, out)?;
        }
        (
            HeaderKind::ApplicationId | HeaderKind::AcceptApplication,
            WspHeaderValue::ApplicationId { code, uri },
        ) => match code {
            Some(c) => encode_integer_value(*c, out),
            None => encode_text_string(uri.as_bytes(), out),
        },
        (
            HeaderKind::ContentDisposition,
            WspHeaderValue::ContentDisposition {
                disposition,
                params,
            },
        ) => {
            let mut inner = Vec::new();
            match DISPOSITIONS
                .iter()
                .find(|(_, n)| n.eq_ignore_ascii_case(disposition))
            {
                Some((c, _)) => encode_short_integer(*c, &mut inner),
                None => encode_token_text(disposition.as_bytes(), &mut inner),
            }
            for (n, v) in params {
                encode_parameter(n, v, &mut inner);
            }
            encode_length_prefixed(&inner, out)?;
        }
        _ => return Ok(false),
    }
    Ok(true)
}

impl fmt::Display for WspHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_well_known_and_application_headers() {
        let block = [
            0xAF, 0x84, // X-Wap-Application-Id: 4 (mms.ua)
            0x8E, b'h', b't', b't', b'p', b':', b'/', b'/', b'x', 0x00, // Content-Location
            0x8D, 0x02, 0x01, 0x00, // Content-Length: 256
            0x92, 0x04, 0x65, 0x53, 0xF1, 0x00, // Date
            b'X', b'-', b'A', 0x00, b'v', 0x00, // application header
            0xC0, 0x22, b'<', b'a', b'>', 0x00, // Content-ID: "<a>"
        ];
        let d = decode_headers(&block);
        assert!(d.complete, "{:?}", d.issues);
        let pairs = d.pairs();
        assert_eq!(
            pairs[0],
            (
                "X-Wap-Application-Id".into(),
                "x-wap-application:mms.ua".into()
            )
        );
        assert_eq!(pairs[1], ("Content-Location".into(), "http://x".into()));
        assert_eq!(pairs[2], ("Content-Length".into(), "256".into()));
        assert_eq!(pairs[3], ("Date".into(), "2023-11-14T22:13:20Z".into()));
        assert_eq!(pairs[4], ("X-A".into(), "v".into()));
        assert_eq!(pairs[5], ("Content-ID".into(), "<a>".into()));
        assert!(matches!(
            d.headers[0].typed,
            WspHeaderValue::ApplicationId { code: Some(4), .. }
        ));
    }

    #[test]
    fn authorization_basic() {
        // 0x87, len 0x0C, Basic 0x80, "alice\0" "pw\0"...
        let mut block = vec![0x87, 0x0A, 0x80];
        block.extend_from_slice(b"alice\0pw\0");
        let d = decode_headers(&block);
        let WspHeaderValue::Authorization { credentials } = &d.headers[0].typed else {
            panic!("{:?}", d)
        };
        assert_eq!(credentials.user.as_deref(), Some("alice"));
        assert_eq!(credentials.password.as_deref(), Some("pw"));
        assert_eq!(d.headers[0].value, "Basic YWxpY2U6cHc=");
    }

    #[test]
    fn code_pages_and_damage() {
        // Shift to page 2, header 0x85 with a one-octet value, short-cut back to page 1.
        let block = [0x7F, 0x02, 0x85, 0x81, 0x01, 0x84, 0x81];
        let d = decode_headers(&block);
        assert_eq!(d.headers[0].name, "x-wsp-page-2-header-0x05");
        assert_eq!(d.headers[0].page, 2);
        assert_eq!(d.headers[1].name, "Accept-Ranges");
        assert_eq!(d.headers[1].value, "bytes");
        // Truncated value: Content-Location text without NUL after a good header.
        let block = [0x8D, 0x85, 0x8E, b'a', b'b'];
        let d = decode_headers(&block);
        assert_eq!(d.headers.len(), 1);
        assert!(!d.complete);
        assert_eq!(d.issues[0].offset, 3);
        // A malformed value content with a good extent: kept opaque, decoding continues.
        let block = [0x92, 0x00, 0x8D, 0x85];
        let d = decode_headers(&block);
        assert_eq!(d.headers.len(), 2);
        assert_eq!(d.issues.len(), 1);
    }

    #[test]
    fn content_disposition_and_cache_control() {
        let mut block = vec![0xAE, 0x08, 0x81, 0x86];
        block.extend_from_slice(b"a.jpg\0");
        block.extend_from_slice(&[0x88, 0x04, 0x82, 0x02, 0x01, 0x2C]);
        let d = decode_headers(&block);
        assert_eq!(d.headers[0].value, "attachment; filename=a.jpg");
        assert_eq!(d.headers[1].value, "max-age=300");
    }

    #[test]
    fn round_trips() {
        let headers = vec![
            WspHeader::content_type(ContentType::new("text/plain").with_param("charset", "utf-8")),
            WspHeader::text("Content-Location", "http://mmsc.example.com/a"),
            WspHeader::text("Content-ID", "<img1>"),
            WspHeader::integer("Content-Length", 1234),
            WspHeader::date("Date", 1_700_000_000),
            WspHeader::authorization_basic("alice", "secret"),
            WspHeader::application_id(4),
            WspHeader::content_disposition("inline", vec![("filename".into(), "a b.txt".into())]),
            WspHeader::text("Cache-Control", "no-cache"),
            WspHeader::text("X-Custom", "value"),
            WspHeader::text("Accept-Charset", "utf-8"),
        ];
        let bytes = encode_headers(&headers).unwrap();
        let d = decode_headers(&bytes);
        assert!(d.complete);
        assert_eq!(d.headers.len(), headers.len());
        for (a, b) in headers.iter().zip(&d.headers) {
            assert_eq!((&a.name, &a.value, &a.typed), (&b.name, &b.value, &b.typed));
        }
    }
}
