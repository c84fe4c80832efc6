//! WSP PDUs (WAP-230 clause 8.2), connectionless and connection-oriented.
//!
//! In connectionless mode (UDP 9200, push 2948) every PDU starts with a one-octet TID (8.2.1);
//! over WTP (connection-oriented, 9201/2949) it does not: WTP's own TID pairs request and reply.
//! The PDU type octet follows (table 34). Headers are kept as the encoded block (decode them with
//! the header codec, [`super::headers`]); content types are decoded with [`super::encoding`].

use super::encoding::{self as enc, ContentType, WspError};
use thiserror::Error;

/// Errors of the WSP PDU parser: the field and its offset in the PDU (TID included).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WspPduError {
    #[error("wsp: truncated {field} at offset {offset}")]
    Truncated { field: &'static str, offset: usize },
    #[error("wsp: PDU type {pdu_type:#04x} is not assigned (offset {offset})")]
    UnknownPduType { pdu_type: u8, offset: usize },
    #[error("wsp: bad {field} at offset {offset}: {source}")]
    Encoding {
        field: &'static str,
        offset: usize,
        source: WspError,
    },
    #[error("wsp: {field} declares {declared} octets, {available} available (offset {offset})")]
    LengthOverrun {
        field: &'static str,
        declared: u64,
        available: usize,
        offset: usize,
    },
    #[error("wsp: more than {max} {field} (offset {offset})")]
    TooMany {
        field: &'static str,
        max: usize,
        offset: usize,
    },
}

/// Upper bounds on list lengths inside one PDU.
pub const MAX_CAPABILITIES: usize = 64;
pub const MAX_REDIRECT_ADDRESSES: usize = 32;
pub const MAX_CAPABILITY_ENTRIES: usize = 64;

/// PDU type assignments (WAP-230 table 34). Codes 0x50–0x5F are extended methods in Get form,
/// 0x70–0x7F extended methods in Post form.
pub const PDU_TYPES: &[(u8, &str)] = &[
    (0x01, "Connect"),
    (0x02, "ConnectReply"),
    (0x03, "Redirect"),
    (0x04, "Reply"),
    (0x05, "Disconnect"),
    (0x06, "Push"),
    (0x07, "ConfirmedPush"),
    (0x08, "Suspend"),
    (0x09, "Resume"),
    (0x40, "Get"),
    (0x41, "Options"),
    (0x42, "Head"),
    (0x43, "Delete"),
    (0x44, "Trace"),
    (0x60, "Post"),
    (0x61, "Put"),
    (0x80, "Data Fragment"),
];

/// The name of a PDU type code ("Extended Get"/"Extended Post" for 0x50–0x5F / 0x70–0x7F).
pub fn pdu_type_name(code: u8) -> Option<&'static str> {
    PDU_TYPES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
        .or(match code {
            0x50..=0x5F => Some("Extended Get"),
            0x70..=0x7F => Some("Extended Post"),
            _ => None,
        })
}

/// The HTTP method name of a request PDU type.
pub fn method_name(code: u8) -> Option<&'static str> {
    match code {
        0x40 => Some("GET"),
        0x41 => Some("OPTIONS"),
        0x42 => Some("HEAD"),
        0x43 => Some("DELETE"),
        0x44 => Some("TRACE"),
        0x60 => Some("POST"),
        0x61 => Some("PUT"),
        _ => None,
    }
}

/// WSP status code → HTTP status (WAP-230 table 36).
pub const STATUS_CODES: &[(u8, u16)] = &[
    (0x10, 100),
    (0x11, 101),
    (0x20, 200),
    (0x21, 201),
    (0x22, 202),
    (0x23, 203),
    (0x24, 204),
    (0x25, 205),
    (0x26, 206),
    (0x30, 300),
    (0x31, 301),
    (0x32, 302),
    (0x33, 303),
    (0x34, 304),
    (0x35, 305),
    (0x37, 307),
    (0x40, 400),
    (0x41, 401),
    (0x42, 402),
    (0x43, 403),
    (0x44, 404),
    (0x45, 405),
    (0x46, 406),
    (0x47, 407),
    (0x48, 408),
    (0x49, 409),
    (0x4A, 410),
    (0x4B, 411),
    (0x4C, 412),
    (0x4D, 413),
    (0x4E, 414),
    (0x4F, 415),
    (0x50, 416),
    (0x51, 417),
    (0x60, 500),
    (0x61, 501),
    (0x62, 502),
    (0x63, 503),
    (0x64, 504),
    (0x65, 505),
];

/// The HTTP status of a WSP status octet.
pub fn http_status(wsp: u8) -> Option<u16> {
    STATUS_CODES
        .iter()
        .find(|(w, _)| *w == wsp)
        .map(|(_, h)| *h)
}

/// The WSP status octet of an HTTP status.
pub fn wsp_status(http: u16) -> Option<u8> {
    STATUS_CODES
        .iter()
        .find(|(_, h)| *h == http)
        .map(|(w, _)| *w)
}

/// Content type, headers and body of a Reply, Post/Put or Push (headers still encoded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WspContent<'a> {
    pub content_type: ContentType,
    /// The encoded header fields after the content type.
    pub headers: &'a [u8],
    pub data: &'a [u8],
}

/// A redirect address (WAP-230 8.2.2.3), also the value of the Aliases capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedirectAddress<'a> {
    pub bearer_type: Option<u8>,
    pub port: Option<u16>,
    pub address: &'a [u8],
}

/// Well-known capability identifiers (WAP-230 table 37).
pub const CAPABILITY_NAMES: &[(u8, &str)] = &[
    (0x00, "Client-SDU-Size"),
    (0x01, "Server-SDU-Size"),
    (0x02, "Protocol Options"),
    (0x03, "Method-MOR"),
    (0x04, "Push-MOR"),
    (0x05, "Extended Methods"),
    (0x06, "Header Code Pages"),
    (0x07, "Aliases"),
    (0x08, "Client-Message-Size"),
    (0x09, "Server-Message-Size"),
];

/// Protocol Options flag bits (WAP-230 8.3.2.3).
pub const PROTOCOL_OPTION_FLAGS: &[(u8, &str)] = &[
    (0x80, "confirmed push"),
    (0x40, "push"),
    (0x20, "session resume"),
    (0x10, "acknowledgement headers"),
    (0x08, "large data transfer"),
];

/// One capability of a Connect, ConnectReply or Resume (WAP-230 8.3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capability<'a> {
    ClientSduSize(u32),
    ServerSduSize(u32),
    /// The first flags octet (see [`PROTOCOL_OPTION_FLAGS`]).
    ProtocolOptions(u8),
    MethodMor(u8),
    PushMor(u8),
    /// (PDU type, method name).
    ExtendedMethods(Vec<(u8, String)>),
    /// (page code, page name).
    HeaderCodePages(Vec<(u8, String)>),
    Aliases(Vec<RedirectAddress<'a>>),
    ClientMessageSize(u32),
    ServerMessageSize(u32),
    /// Any other capability: a well-known code or a token name, with its raw parameters.
    Other {
        code: Option<u8>,
        name: Option<String>,
        value: &'a [u8],
    },
}

/// The body of a WSP PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WspPduBody<'a> {
    Connect {
        /// Major version in the high nibble, minor in the low one (0x10 = 1.0).
        version: u8,
        capabilities: &'a [u8],
        headers: &'a [u8],
    },
    ConnectReply {
        session_id: u32,
        capabilities: &'a [u8],
        headers: &'a [u8],
    },
    Redirect {
        permanent: bool,
        reuse_security: bool,
        addresses: Vec<RedirectAddress<'a>>,
    },
    Reply {
        /// The WSP status octet; see [`http_status`].
        status: u8,
        content: WspContent<'a>,
    },
    Disconnect {
        session_id: u32,
    },
    Push {
        confirmed: bool,
        content: WspContent<'a>,
    },
    Suspend {
        session_id: u32,
    },
    Resume {
        session_id: u32,
        capabilities: &'a [u8],
        headers: &'a [u8],
    },
    /// Get, Options, Head, Delete, Trace and extended methods in Get form.
    Get {
        pdu_type: u8,
        uri: &'a [u8],
        headers: &'a [u8],
    },
    /// Post, Put and extended methods in Post form.
    Post {
        pdu_type: u8,
        uri: &'a [u8],
        content: WspContent<'a>,
    },
    DataFragment {
        headers: &'a [u8],
        data: &'a [u8],
    },
}

/// A WSP PDU; `tid` is present in connectionless mode only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WspPdu<'a> {
    pub tid: Option<u8>,
    pub body: WspPduBody<'a>,
}

impl WspPduBody<'_> {
    /// The PDU type octet.
    pub fn pdu_type(&self) -> u8 {
        match self {
            WspPduBody::Connect { .. } => 0x01,
            WspPduBody::ConnectReply { .. } => 0x02,
            WspPduBody::Redirect { .. } => 0x03,
            WspPduBody::Reply { .. } => 0x04,
            WspPduBody::Disconnect { .. } => 0x05,
            WspPduBody::Push {
                confirmed: false, ..
            } => 0x06,
            WspPduBody::Push {
                confirmed: true, ..
            } => 0x07,
            WspPduBody::Suspend { .. } => 0x08,
            WspPduBody::Resume { .. } => 0x09,
            WspPduBody::Get { pdu_type, .. } | WspPduBody::Post { pdu_type, .. } => *pdu_type,
            WspPduBody::DataFragment { .. } => 0x80,
        }
    }

    pub fn name(&self) -> &'static str {
        pdu_type_name(self.pdu_type()).unwrap_or("?")
    }
}

/// Bounds-checked reader over a PDU; offsets are from the start of the PDU.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or(&[])
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, WspPduError> {
        let b = self
            .bytes
            .get(self.pos)
            .copied()
            .ok_or(WspPduError::Truncated {
                field,
                offset: self.pos,
            })?;
        self.pos = self.pos.saturating_add(1);
        Ok(b)
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, WspPduError> {
        let hi = self.u8(field)?;
        let lo = self.u8(field)?;
        Ok(u16::from_be_bytes([hi, lo]))
    }

    fn uintvar(&mut self, field: &'static str) -> Result<u32, WspPduError> {
        let input = self.remaining();
        let (rest, v) = enc::uintvar(input).map_err(|source| WspPduError::Encoding {
            field,
            offset: self.pos,
            source,
        })?;
        self.pos = self
            .pos
            .saturating_add(input.len().saturating_sub(rest.len()));
        Ok(v)
    }

    fn take(&mut self, len: u64, field: &'static str) -> Result<&'a [u8], WspPduError> {
        let available = self.remaining().len();
        let n = usize::try_from(len)
            .ok()
            .filter(|n| *n <= available)
            .ok_or(WspPduError::LengthOverrun {
                field,
                declared: len,
                available,
                offset: self.pos,
            })?;
        let s = self.remaining().get(..n).unwrap_or(&[]);
        self.pos = self.pos.saturating_add(n);
        Ok(s)
    }

    fn rest(&mut self) -> &'a [u8] {
        let s = self.remaining();
        self.pos = self.bytes.len();
        s
    }
}

/// Splits "ContentType Headers" (a HeadersLen block) into the decoded content type and the rest.
fn split_content(block: &[u8], block_offset: usize) -> Result<(ContentType, &[u8]), WspPduError> {
    if block.is_empty() {
        return Err(WspPduError::Truncated {
            field: "content type",
            offset: block_offset,
        });
    }
    let (rest, (ct, _param_error)) =
        enc::content_type_value_lenient(block).map_err(|source| WspPduError::Encoding {
            field: "content type",
            offset: block_offset.saturating_add(source.offset_in(block.len())),
            source,
        })?;
    Ok((ct, rest))
}

fn parse_redirect_addresses<'a>(
    bytes: &'a [u8],
    base: usize,
) -> Result<Vec<RedirectAddress<'a>>, WspPduError> {
    let mut r = Reader { bytes, pos: 0 };
    let mut out = Vec::new();
    while !r.remaining().is_empty() {
        if out.len() >= MAX_REDIRECT_ADDRESSES {
            return Err(WspPduError::TooMany {
                field: "redirect addresses",
                max: MAX_REDIRECT_ADDRESSES,
                offset: base.saturating_add(r.pos),
            });
        }
        let first = r.u8("redirect address").map_err(|e| rebase(e, base))?;
        let bearer_type = if first & 0x80 != 0 {
            Some(r.u8("bearer type").map_err(|e| rebase(e, base))?)
        } else {
            None
        };
        let port = if first & 0x40 != 0 {
            Some(r.u16("port number").map_err(|e| rebase(e, base))?)
        } else {
            None
        };
        let address = r
            .take(u64::from(first & 0x3F), "redirect address")
            .map_err(|e| rebase(e, base))?;
        out.push(RedirectAddress {
            bearer_type,
            port,
            address,
        });
    }
    Ok(out)
}

fn rebase(e: WspPduError, base: usize) -> WspPduError {
    match e {
        WspPduError::Truncated { field, offset } => WspPduError::Truncated {
            field,
            offset: offset.saturating_add(base),
        },
        WspPduError::UnknownPduType { pdu_type, offset } => WspPduError::UnknownPduType {
            pdu_type,
            offset: offset.saturating_add(base),
        },
        WspPduError::Encoding {
            field,
            offset,
            source,
        } => WspPduError::Encoding {
            field,
            offset: offset.saturating_add(base),
            source,
        },
        WspPduError::LengthOverrun {
            field,
            declared,
            available,
            offset,
        } => WspPduError::LengthOverrun {
            field,
            declared,
            available,
            offset: offset.saturating_add(base),
        },
        WspPduError::TooMany { field, max, offset } => WspPduError::TooMany {
            field,
            max,
            offset: offset.saturating_add(base),
        },
    }
}

fn parse_body<'a>(r: &mut Reader<'a>) -> Result<WspPduBody<'a>, WspPduError> {
    let type_offset = r.pos;
    let pdu_type = r.u8("PDU type")?;
    let body = match pdu_type {
        0x01 => {
            let version = r.u8("version")?;
            let caps_len = r.uintvar("CapabilitiesLen")?;
            let headers_len = r.uintvar("HeadersLen")?;
            let capabilities = r.take(u64::from(caps_len), "capabilities")?;
            let headers = r.take(u64::from(headers_len), "headers")?;
            WspPduBody::Connect {
                version,
                capabilities,
                headers,
            }
        }
        0x02 => {
            let session_id = r.uintvar("ServerSessionId")?;
            let caps_len = r.uintvar("CapabilitiesLen")?;
            let headers_len = r.uintvar("HeadersLen")?;
            let capabilities = r.take(u64::from(caps_len), "capabilities")?;
            let headers = r.take(u64::from(headers_len), "headers")?;
            WspPduBody::ConnectReply {
                session_id,
                capabilities,
                headers,
            }
        }
        0x03 => {
            let flags = r.u8("redirect flags")?;
            let base = r.pos;
            let addresses = parse_redirect_addresses(r.rest(), base)?;
            WspPduBody::Redirect {
                permanent: flags & 0x80 != 0,
                reuse_security: flags & 0x40 != 0,
                addresses,
            }
        }
        0x04 => {
            let status = r.u8("status")?;
            let content = parse_content(r)?;
            WspPduBody::Reply { status, content }
        }
        0x05 => WspPduBody::Disconnect {
            session_id: r.uintvar("ServerSessionId")?,
        },
        0x06 | 0x07 => WspPduBody::Push {
            confirmed: pdu_type == 0x07,
            content: parse_content(r)?,
        },
        0x08 => WspPduBody::Suspend {
            session_id: r.uintvar("SessionId")?,
        },
        0x09 => {
            let session_id = r.uintvar("SessionId")?;
            let caps_len = r.uintvar("CapabilitiesLen")?;
            let capabilities = r.take(u64::from(caps_len), "capabilities")?;
            WspPduBody::Resume {
                session_id,
                capabilities,
                headers: r.rest(),
            }
        }
        0x40..=0x44 | 0x50..=0x5F => {
            let uri_len = r.uintvar("UriLen")?;
            let uri = r.take(u64::from(uri_len), "URI")?;
            WspPduBody::Get {
                pdu_type,
                uri,
                headers: r.rest(),
            }
        }
        0x60 | 0x61 | 0x70..=0x7F => {
            let uri_len = r.uintvar("UriLen")?;
            let headers_len = r.uintvar("HeadersLen")?;
            let uri = r.take(u64::from(uri_len), "URI")?;
            let block_offset = r.pos;
            let block = r.take(u64::from(headers_len), "headers")?;
            let (content_type, headers) = split_content(block, block_offset)?;
            WspPduBody::Post {
                pdu_type,
                uri,
                content: WspContent {
                    content_type,
                    headers,
                    data: r.rest(),
                },
            }
        }
        0x80 => {
            let headers_len = r.uintvar("HeadersLen")?;
            let headers = r.take(u64::from(headers_len), "headers")?;
            WspPduBody::DataFragment {
                headers,
                data: r.rest(),
            }
        }
        other => {
            return Err(WspPduError::UnknownPduType {
                pdu_type: other,
                offset: type_offset,
            });
        }
    };
    Ok(body)
}

/// HeadersLen, then ContentType + Headers (HeadersLen octets together), then Data.
fn parse_content<'a>(r: &mut Reader<'a>) -> Result<WspContent<'a>, WspPduError> {
    let headers_len = r.uintvar("HeadersLen")?;
    let block_offset = r.pos;
    let block = r.take(u64::from(headers_len), "headers")?;
    let (content_type, headers) = split_content(block, block_offset)?;
    Ok(WspContent {
        content_type,
        headers,
        data: r.rest(),
    })
}

/// Parses a connectionless PDU: TID octet, then the PDU.
pub fn parse_connectionless(bytes: &[u8]) -> Result<WspPdu<'_>, WspPduError> {
    let mut r = Reader { bytes, pos: 0 };
    let tid = r.u8("TID")?;
    let body = parse_body(&mut r)?;
    Ok(WspPdu {
        tid: Some(tid),
        body,
    })
}

/// Parses a connection-oriented PDU (the user data of a WTP message).
pub fn parse_connection_oriented(bytes: &[u8]) -> Result<WspPdu<'_>, WspPduError> {
    let mut r = Reader { bytes, pos: 0 };
    let body = parse_body(&mut r)?;
    Ok(WspPdu { tid: None, body })
}

// ---------------------------------------------------------------------------------------------
// Capabilities

fn text_of(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw).into_owned()
}

/// Reads (code octet, Text-string) pairs until the input ends.
fn code_name_pairs(mut input: &[u8]) -> Result<Vec<(u8, String)>, WspError> {
    let mut out = Vec::new();
    while let Some((&code, rest)) = input.split_first() {
        if out.len() >= MAX_CAPABILITY_ENTRIES {
            return Err(WspError::invalid(
                "capability list",
                input,
                "too many entries",
            ));
        }
        let (rest, name) = enc::text_string(rest)?;
        out.push((code, text_of(name)));
        input = rest;
    }
    Ok(out)
}

fn whole_uintvar(value: &[u8]) -> Result<u32, WspError> {
    enc::uintvar(value).map(|(_, v)| v)
}

/// Decodes a capabilities block: each capability is `Length (uintvar) Identifier Parameters`,
/// the identifier a short-integer (well-known) or a Token-text.
pub fn parse_capabilities(bytes: &[u8]) -> Result<Vec<Capability<'_>>, WspPduError> {
    let mut r = Reader { bytes, pos: 0 };
    let mut out = Vec::new();
    while !r.remaining().is_empty() {
        if out.len() >= MAX_CAPABILITIES {
            return Err(WspPduError::TooMany {
                field: "capabilities",
                max: MAX_CAPABILITIES,
                offset: r.pos,
            });
        }
        let len = r.uintvar("capability length")?;
        let cap_offset = r.pos;
        let cap = r.take(u64::from(len), "capability")?;
        let Some((&id, after_id)) = cap.split_first() else {
            return Err(WspPduError::Truncated {
                field: "capability identifier",
                offset: cap_offset,
            });
        };
        let bad = |source: WspError| WspPduError::Encoding {
            field: "capability",
            offset: cap_offset,
            source,
        };
        let (code, name, value) = if id & 0x80 != 0 {
            (Some(id & 0x7F), None, after_id)
        } else {
            let (value, token) = enc::text_string(cap).map_err(bad)?;
            (None, Some(text_of(token)), value)
        };
        let decoded = match code {
            Some(0x00) => Capability::ClientSduSize(whole_uintvar(value).map_err(bad)?),
            Some(0x01) => Capability::ServerSduSize(whole_uintvar(value).map_err(bad)?),
            Some(0x02) => Capability::ProtocolOptions(value.first().copied().unwrap_or(0)),
            Some(0x03) => Capability::MethodMor(value.first().copied().unwrap_or(0)),
            Some(0x04) => Capability::PushMor(value.first().copied().unwrap_or(0)),
            Some(0x05) => Capability::ExtendedMethods(code_name_pairs(value).map_err(bad)?),
            Some(0x06) => Capability::HeaderCodePages(code_name_pairs(value).map_err(bad)?),
            Some(0x07) => Capability::Aliases(parse_redirect_addresses(
                value,
                cap_offset.saturating_add(1),
            )?),
            Some(0x08) => Capability::ClientMessageSize(whole_uintvar(value).map_err(bad)?),
            Some(0x09) => Capability::ServerMessageSize(whole_uintvar(value).map_err(bad)?),
            _ => Capability::Other { code, name, value },
        };
        out.push(decoded);
    }
    Ok(out)
}

/// Negotiated session parameters from a capabilities list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CapabilitySummary {
    pub client_sdu_size: Option<u32>,
    pub server_sdu_size: Option<u32>,
    pub protocol_options: Option<u8>,
    pub method_mor: Option<u8>,
    pub push_mor: Option<u8>,
    pub extended_methods: Vec<(u8, String)>,
    pub header_code_pages: Vec<(u8, String)>,
    pub aliases: usize,
    pub client_message_size: Option<u32>,
    pub server_message_size: Option<u32>,
}

impl CapabilitySummary {
    pub fn from_capabilities(caps: &[Capability<'_>]) -> Self {
        let mut s = CapabilitySummary::default();
        for cap in caps {
            match cap {
                Capability::ClientSduSize(v) => s.client_sdu_size = Some(*v),
                Capability::ServerSduSize(v) => s.server_sdu_size = Some(*v),
                Capability::ProtocolOptions(v) => s.protocol_options = Some(*v),
                Capability::MethodMor(v) => s.method_mor = Some(*v),
                Capability::PushMor(v) => s.push_mor = Some(*v),
                Capability::ExtendedMethods(v) => s.extended_methods.extend(v.iter().cloned()),
                Capability::HeaderCodePages(v) => s.header_code_pages.extend(v.iter().cloned()),
                Capability::Aliases(v) => s.aliases = s.aliases.saturating_add(v.len()),
                Capability::ClientMessageSize(v) => s.client_message_size = Some(*v),
                Capability::ServerMessageSize(v) => s.server_message_size = Some(*v),
                Capability::Other { .. } => {}
            }
        }
        s
    }
}

// ---------------------------------------------------------------------------------------------
// Encoders

fn encode_len(len: usize, out: &mut Vec<u8>) {
    enc::encode_uintvar(u32::try_from(len).unwrap_or(u32::MAX), out);
}

fn encode_redirect_address(a: &RedirectAddress<'_>, out: &mut Vec<u8>) {
    let address = a.address.get(..a.address.len().min(0x3F)).unwrap_or(&[]);
    let mut first = address.len() as u8;
    if a.bearer_type.is_some() {
        first |= 0x80;
    }
    if a.port.is_some() {
        first |= 0x40;
    }
    out.push(first);
    if let Some(b) = a.bearer_type {
        out.push(b);
    }
    if let Some(p) = a.port {
        out.extend_from_slice(&p.to_be_bytes());
    }
    out.extend_from_slice(address);
}

/// Encodes a capabilities block.
pub fn encode_capabilities(caps: &[Capability<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for cap in caps {
        let mut body = Vec::new();
        let well_known = |code: u8, body: &mut Vec<u8>| body.push(0x80 | code);
        match cap {
            Capability::ClientSduSize(v) => {
                well_known(0x00, &mut body);
                enc::encode_uintvar(*v, &mut body);
            }
            Capability::ServerSduSize(v) => {
                well_known(0x01, &mut body);
                enc::encode_uintvar(*v, &mut body);
            }
            Capability::ProtocolOptions(v) => {
                well_known(0x02, &mut body);
                body.push(*v);
            }
            Capability::MethodMor(v) => {
                well_known(0x03, &mut body);
                body.push(*v);
            }
            Capability::PushMor(v) => {
                well_known(0x04, &mut body);
                body.push(*v);
            }
            Capability::ExtendedMethods(list) | Capability::HeaderCodePages(list) => {
                let code = if matches!(cap, Capability::ExtendedMethods(_)) {
                    0x05
                } else {
                    0x06
                };
                well_known(code, &mut body);
                for (c, name) in list {
                    body.push(*c);
                    enc::encode_text_string(name.as_bytes(), &mut body);
                }
            }
            Capability::Aliases(list) => {
                well_known(0x07, &mut body);
                for a in list {
                    encode_redirect_address(a, &mut body);
                }
            }
            Capability::ClientMessageSize(v) => {
                well_known(0x08, &mut body);
                enc::encode_uintvar(*v, &mut body);
            }
            Capability::ServerMessageSize(v) => {
                well_known(0x09, &mut body);
                enc::encode_uintvar(*v, &mut body);
            }
            Capability::Other { code, name, value } => {
                match (code, name) {
                    (Some(c), _) => well_known(*c & 0x7F, &mut body),
                    (None, Some(n)) => enc::encode_text_string(n.as_bytes(), &mut body),
                    (None, None) => body.push(0x80 | 0x7F),
                }
                body.extend_from_slice(value);
            }
        }
        encode_len(body.len(), &mut out);
        out.extend_from_slice(&body);
    }
    out
}

fn encode_content(content: &WspContent<'_>, out: &mut Vec<u8>) -> Result<(), WspError> {
    let mut block = Vec::new();
    enc::encode_content_type(&content.content_type, &mut block)?;
    block.extend_from_slice(content.headers);
    encode_len(block.len(), out);
    out.extend_from_slice(&block);
    out.extend_from_slice(content.data);
    Ok(())
}

impl WspPdu<'_> {
    /// Encodes the PDU (with its TID octet when `tid` is set). Fails only when a content type
    /// cannot be encoded.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), WspError> {
        if let Some(tid) = self.tid {
            out.push(tid);
        }
        out.push(self.body.pdu_type());
        match &self.body {
            WspPduBody::Connect {
                version,
                capabilities,
                headers,
            } => {
                out.push(*version);
                encode_len(capabilities.len(), out);
                encode_len(headers.len(), out);
                out.extend_from_slice(capabilities);
                out.extend_from_slice(headers);
            }
            WspPduBody::ConnectReply {
                session_id,
                capabilities,
                headers,
            } => {
                enc::encode_uintvar(*session_id, out);
                encode_len(capabilities.len(), out);
                encode_len(headers.len(), out);
                out.extend_from_slice(capabilities);
                out.extend_from_slice(headers);
            }
            WspPduBody::Redirect {
                permanent,
                reuse_security,
                addresses,
            } => {
                out.push((u8::from(*permanent) << 7) | (u8::from(*reuse_security) << 6));
                for a in addresses {
                    encode_redirect_address(a, out);
                }
            }
            WspPduBody::Reply { status, content } => {
                out.push(*status);
                encode_content(content, out)?;
            }
            WspPduBody::Disconnect { session_id } | WspPduBody::Suspend { session_id } => {
                enc::encode_uintvar(*session_id, out);
            }
            WspPduBody::Push { content, .. } => encode_content(content, out)?,
            WspPduBody::Resume {
                session_id,
                capabilities,
                headers,
            } => {
                enc::encode_uintvar(*session_id, out);
                encode_len(capabilities.len(), out);
                out.extend_from_slice(capabilities);
                out.extend_from_slice(headers);
            }
            WspPduBody::Get { uri, headers, .. } => {
                encode_len(uri.len(), out);
                out.extend_from_slice(uri);
                out.extend_from_slice(headers);
            }
            WspPduBody::Post { uri, content, .. } => {
                let mut block = Vec::new();
                enc::encode_content_type(&content.content_type, &mut block)?;
                block.extend_from_slice(content.headers);
                encode_len(uri.len(), out);
                encode_len(block.len(), out);
                out.extend_from_slice(uri);
                out.extend_from_slice(&block);
                out.extend_from_slice(content.data);
            }
            WspPduBody::DataFragment { headers, data } => {
                encode_len(headers.len(), out);
                out.extend_from_slice(headers);
                out.extend_from_slice(data);
            }
        }
        Ok(())
    }

    pub fn to_bytes(&self) -> Result<Vec<u8>, WspError> {
        let mut out = Vec::new();
        self.encode(&mut out)?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connectionless_get() {
        // TID 0x01; 0x40 Get; UriLen 0x13; "http://example.com/"; header 0x80|0x00 (Accept)
        // with value 0x80|0x14 (application/vnd.wap.wmlc).
        let mut bytes = vec![0x01, 0x40, 0x13];
        bytes.extend_from_slice(b"http://example.com/");
        bytes.extend_from_slice(&[0x80, 0x94]);
        let pdu = parse_connectionless(&bytes).unwrap();
        assert_eq!(pdu.tid, Some(1));
        match &pdu.body {
            WspPduBody::Get {
                pdu_type,
                uri,
                headers,
            } => {
                assert_eq!(*pdu_type, 0x40);
                assert_eq!(*uri, b"http://example.com/");
                assert_eq!(*headers, &[0x80, 0x94]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(pdu.body.name(), "Get");
        assert_eq!(pdu.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn reply_with_content_type_and_status_table() {
        // TID 0x01; 0x04 Reply; status 0x20 (200); HeadersLen 0x01; content type 0x88
        // (short-integer 0x08 = text/vnd.wap.wml); data "<wml/>".
        let mut bytes = vec![0x01, 0x04, 0x20, 0x01, 0x88];
        bytes.extend_from_slice(b"<wml/>");
        let pdu = parse_connectionless(&bytes).unwrap();
        match &pdu.body {
            WspPduBody::Reply { status, content } => {
                assert_eq!(http_status(*status), Some(200));
                assert_eq!(content.content_type.media, "text/vnd.wap.wml");
                assert!(content.headers.is_empty());
                assert_eq!(content.data, b"<wml/>");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(pdu.to_bytes().unwrap(), bytes);
        assert_eq!(http_status(0x44), Some(404));
        assert_eq!(wsp_status(503), Some(0x63));
        assert_eq!(http_status(0x36), None);
    }

    #[test]
    fn connection_oriented_post_mms() {
        // 0x60 Post; UriLen 0x0F; HeadersLen 0x01; URI; content type 0xBE (0x3E = MMS); body.
        let mut bytes = vec![0x60, 0x0F, 0x01];
        bytes.extend_from_slice(b"http://mms.ex/s");
        bytes.push(0xBE);
        bytes.extend_from_slice(&[0x8C, 0x80]);
        let pdu = parse_connection_oriented(&bytes).unwrap();
        assert_eq!(pdu.tid, None);
        match &pdu.body {
            WspPduBody::Post { uri, content, .. } => {
                assert_eq!(*uri, b"http://mms.ex/s");
                assert_eq!(
                    content.content_type.media,
                    "application/vnd.wap.mms-message"
                );
                assert_eq!(content.data, &[0x8C, 0x80]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(pdu.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn connect_with_capabilities() {
        // 0x01 Connect; version 0x10 (1.0); CapabilitiesLen 0x0A; HeadersLen 0x00; capabilities:
        //   03 80 83 40   length 3, Client-SDU-Size (0x80), uintvar 83 40 = 0x1C0
        //   02 83 01      length 2, Method-MOR (0x83) = 1
        //   02 82 C0      length 2, Protocol Options (0x82) = 0xC0 (confirmed push, push)
        let caps = [0x03, 0x80, 0x83, 0x40, 0x02, 0x83, 0x01, 0x02, 0x82, 0xC0];
        let mut bytes = vec![0x01, 0x10, 0x0A, 0x00];
        bytes.extend_from_slice(&caps);
        let pdu = parse_connection_oriented(&bytes).unwrap();
        let WspPduBody::Connect {
            version,
            capabilities,
            ..
        } = pdu.body
        else {
            panic!()
        };
        assert_eq!(version, 0x10);
        let parsed = parse_capabilities(capabilities).unwrap();
        assert_eq!(
            parsed,
            vec![
                Capability::ClientSduSize(0x1C0),
                Capability::MethodMor(1),
                Capability::ProtocolOptions(0xC0)
            ]
        );
        assert_eq!(encode_capabilities(&parsed), caps);
        let s = CapabilitySummary::from_capabilities(&parsed);
        assert_eq!(s.client_sdu_size, Some(0x1C0));
    }

    #[test]
    fn capability_lists_and_tokens() {
        let caps = vec![
            Capability::ExtendedMethods(vec![(0x50, "PROPFIND".into())]),
            Capability::HeaderCodePages(vec![(0x02, "x-example".into())]),
            Capability::Aliases(vec![RedirectAddress {
                bearer_type: Some(0x00),
                port: Some(9201),
                address: &[192, 0, 2, 1],
            }]),
            Capability::ServerMessageSize(100_000),
            Capability::Other {
                code: None,
                name: Some("x-cap".into()),
                value: &[1, 2],
            },
        ];
        let enc = encode_capabilities(&caps);
        assert_eq!(parse_capabilities(&enc).unwrap(), caps);
        assert!(parse_capabilities(&[0x05, 0x80]).is_err());
    }

    #[test]
    fn connect_reply_disconnect_suspend_resume() {
        // 0x02 ConnectReply; session id uintvar 0x81 0x00 (128); caps 0; headers 0.
        let pdu = parse_connection_oriented(&[0x02, 0x81, 0x00, 0x00, 0x00]).unwrap();
        assert!(matches!(
            pdu.body,
            WspPduBody::ConnectReply {
                session_id: 128,
                ..
            }
        ));
        // 0x05 Disconnect 0x05.
        let pdu = parse_connection_oriented(&[0x05, 0x05]).unwrap();
        assert_eq!(pdu.body, WspPduBody::Disconnect { session_id: 5 });
        // 0x08 Suspend 0x07.
        let pdu = parse_connection_oriented(&[0x08, 0x07]).unwrap();
        assert_eq!(pdu.body, WspPduBody::Suspend { session_id: 7 });
        // 0x09 Resume, session 7, caps len 0, headers 0x81 0x84.
        let bytes = [0x09, 0x07, 0x00, 0x81, 0x84];
        let pdu = parse_connection_oriented(&bytes).unwrap();
        assert_eq!(
            pdu.body,
            WspPduBody::Resume {
                session_id: 7,
                capabilities: &[],
                headers: &[0x81, 0x84]
            }
        );
        assert_eq!(pdu.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn redirect() {
        // 0x03 Redirect; flags 0x80 (permanent); address 0xC4 = bearer + port + 4 octets;
        // bearer 0x00 (IPv4); port 0x23F1 (9201); 192.0.2.7.
        let bytes = [0x03, 0x80, 0xC4, 0x00, 0x23, 0xF1, 192, 0, 2, 7];
        let pdu = parse_connection_oriented(&bytes).unwrap();
        let WspPduBody::Redirect {
            permanent,
            ref addresses,
            ..
        } = pdu.body
        else {
            panic!()
        };
        assert!(permanent);
        assert_eq!(addresses[0].port, Some(9201));
        assert_eq!(addresses[0].address, &[192, 0, 2, 7]);
        assert_eq!(pdu.to_bytes().unwrap(), bytes);
    }

    #[test]
    fn push_and_confirmed_push() {
        // TID 0x05; 0x06 Push; HeadersLen 0x03; content type 0xBE (MMS); header 0xAF 0x84
        // (X-Wap-Application-Id: x-wap-application:mms.ua); body 0x8C 0x82.
        let bytes = [0x05, 0x06, 0x03, 0xBE, 0xAF, 0x84, 0x8C, 0x82];
        let pdu = parse_connectionless(&bytes).unwrap();
        let WspPduBody::Push {
            confirmed,
            ref content,
        } = pdu.body
        else {
            panic!()
        };
        assert!(!confirmed);
        assert_eq!(content.headers, &[0xAF, 0x84]);
        assert_eq!(content.data, &[0x8C, 0x82]);
        assert_eq!(pdu.to_bytes().unwrap(), bytes);
        let pdu = parse_connection_oriented(&bytes[1..]).unwrap();
        assert_eq!(pdu.body.pdu_type(), 0x06);
        let mut confirmed = bytes[1..].to_vec();
        confirmed[0] = 0x07;
        let pdu = parse_connection_oriented(&confirmed).unwrap();
        assert!(matches!(
            pdu.body,
            WspPduBody::Push {
                confirmed: true,
                ..
            }
        ));
    }

    #[test]
    fn other_methods_and_data_fragment() {
        for (code, name) in [
            (0x41, "OPTIONS"),
            (0x42, "HEAD"),
            (0x43, "DELETE"),
            (0x44, "TRACE"),
        ] {
            let bytes = [code, 0x01, b'/'];
            let pdu = parse_connection_oriented(&bytes).unwrap();
            assert_eq!(method_name(pdu.body.pdu_type()), Some(name));
        }
        // 0x61 Put with a text content type "text/plain\0".
        let mut put = vec![0x61, 0x01, 0x0B, b'/'];
        put.extend_from_slice(b"text/plain\0");
        put.extend_from_slice(b"hi");
        let pdu = parse_connection_oriented(&put).unwrap();
        let WspPduBody::Post { ref content, .. } = pdu.body else {
            panic!()
        };
        assert_eq!(content.content_type.media, "text/plain");
        assert_eq!(content.data, b"hi");
        // 0x80 Data Fragment: HeadersLen 0, data.
        let pdu = parse_connection_oriented(&[0x80, 0x00, 0xAA]).unwrap();
        assert_eq!(
            pdu.body,
            WspPduBody::DataFragment {
                headers: &[],
                data: &[0xAA]
            }
        );
    }

    #[test]
    fn errors_name_field_and_offset() {
        assert_eq!(
            parse_connectionless(&[0x01, 0x0A]),
            Err(WspPduError::UnknownPduType {
                pdu_type: 0x0A,
                offset: 1
            })
        );
        assert!(matches!(
            parse_connectionless(&[0x01, 0x40, 0x05, b'a']),
            Err(WspPduError::LengthOverrun { field: "URI", .. })
        ));
        assert!(parse_connectionless(&[0x01, 0x04, 0x20, 0x00]).is_err());
        assert!(parse_connectionless(&[]).is_err());
        assert!(parse_connection_oriented(&[0x40, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]).is_err());
    }
}
