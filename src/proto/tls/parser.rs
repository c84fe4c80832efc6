//! Pure parsers for the TLS record header and the two hello messages (RFC 8446 §4.1.2–§4.1.3,
//! §5.1; RFC 5246 §6.2, §7.4.1; SSL 3.0 RFC 6101 §5.6.1) and the extensions the audit needs:
//! server_name (RFC 6066 §3), ALPN (RFC 7301 §3.1) and supported_versions (RFC 8446 §4.2.1).

use thiserror::Error;

/// ContentType of a handshake record.
pub const CONTENT_TYPE_HANDSHAKE: u8 = 22;
/// ContentType values defined for TLS 1.0–1.3 (change_cipher_spec .. heartbeat).
pub const CONTENT_TYPES: std::ops::RangeInclusive<u8> = 20..=24;
/// HandshakeType client_hello.
pub const HANDSHAKE_CLIENT_HELLO: u8 = 1;
/// HandshakeType server_hello.
pub const HANDSHAKE_SERVER_HELLO: u8 = 2;
/// Largest record body: 2^14 plaintext plus 2048 of expansion (RFC 5246 §6.2.3).
pub const MAX_RECORD_LEN: u16 = 16_384 + 2_048;

/// ExtensionType values read here.
pub const EXT_SERVER_NAME: u16 = 0;
pub const EXT_ALPN: u16 = 16;
pub const EXT_SUPPORTED_VERSIONS: u16 = 43;

/// The ServerHello random that marks a HelloRetryRequest: SHA-256("HelloRetryRequest")
/// (RFC 8446 §4.1.3).
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Protocol version numbers and their names.
const VERSION_NAMES: &[(u16, &str)] = &[
    (0x0300, "SSL 3.0"),
    (0x0301, "TLS 1.0"),
    (0x0302, "TLS 1.1"),
    (0x0303, "TLS 1.2"),
    (0x0304, "TLS 1.3"),
];

/// The name of a protocol version ("TLS 1.2"), if it is a released one.
pub fn version_name(version: u16) -> Option<&'static str> {
    VERSION_NAMES
        .iter()
        .find(|(v, _)| *v == version)
        .map(|(_, n)| *n)
}

/// A readable label for any version: the name, "TLS 1.3 draft N" (0x7fNN), or hex.
pub fn version_label(version: u16) -> String {
    match version_name(version) {
        Some(name) => name.to_string(),
        None if version >> 8 == 0x7f => format!("TLS 1.3 draft {}", version & 0xff),
        None => format!("0x{version:04x}"),
    }
}

/// GREASE values (RFC 8701 §2): 0x0A0A, 0x1A1A, ... 0xFAFA.
pub fn is_grease(value: u16) -> bool {
    value & 0x0f0f == 0x0a0a && (value >> 8) == (value & 0xff)
}

/// Whether a stream starts like TLS: a handshake record (0x16) with version 3.0–3.4.
pub fn looks_like_tls(first_bytes: &[u8]) -> bool {
    matches!(first_bytes, [0x16, 0x03, minor, ..] if *minor <= 0x04)
}

/// A parse failure, naming the field and its offset within the parsed slice.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlsError {
    #[error("tls: {field} truncated at offset {offset}")]
    Truncated { field: &'static str, offset: usize },
    #[error("tls: invalid {field} at offset {offset}: {reason}")]
    Invalid {
        field: &'static str,
        offset: usize,
        reason: &'static str,
    },
}

/// A cursor over a byte slice with length-prefixed reads.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Reader { data, pos: 0 }
    }

    fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], TlsError> {
        let end = self.pos.checked_add(n).ok_or(TlsError::Truncated {
            field,
            offset: self.pos,
        })?;
        let bytes = self.data.get(self.pos..end).ok_or(TlsError::Truncated {
            field,
            offset: self.pos,
        })?;
        self.pos = end;
        Ok(bytes)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, TlsError> {
        Ok(self.take(1, field)?.first().copied().unwrap_or(0))
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, TlsError> {
        let b = self.take(2, field)?;
        Ok(b.iter().fold(0u16, |acc, &x| acc << 8 | u16::from(x)))
    }

    fn u24(&mut self, field: &'static str) -> Result<u32, TlsError> {
        let b = self.take(3, field)?;
        Ok(b.iter().fold(0u32, |acc, &x| acc << 8 | u32::from(x)))
    }

    /// opaque field<0..2^8-1>
    fn vec8(&mut self, field: &'static str) -> Result<&'a [u8], TlsError> {
        let n = self.u8(field)?;
        self.take(usize::from(n), field)
    }

    /// opaque field<0..2^16-1>
    fn vec16(&mut self, field: &'static str) -> Result<&'a [u8], TlsError> {
        let n = self.u16(field)?;
        self.take(usize::from(n), field)
    }
}

/// A TLS record header (RFC 8446 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordHeader {
    pub content_type: u8,
    pub version: u16,
    pub length: u16,
}

/// Length of a record header.
pub const RECORD_HEADER_LEN: usize = 5;

/// Parse and sanity-check a record header (content type 20–24, major version 3, length within
/// bounds).
pub fn parse_record_header(input: &[u8]) -> Result<RecordHeader, TlsError> {
    let mut r = Reader::new(input);
    let content_type = r.u8("record content type")?;
    let version = r.u16("record version")?;
    let length = r.u16("record length")?;
    if !CONTENT_TYPES.contains(&content_type) {
        return Err(TlsError::Invalid {
            field: "record content type",
            offset: 0,
            reason: "not a TLS content type",
        });
    }
    if version >> 8 != 3 {
        return Err(TlsError::Invalid {
            field: "record version",
            offset: 1,
            reason: "major version is not 3",
        });
    }
    if length > MAX_RECORD_LEN {
        return Err(TlsError::Invalid {
            field: "record length",
            offset: 3,
            reason: "longer than 2^14 + 2048",
        });
    }
    Ok(RecordHeader {
        content_type,
        version,
        length,
    })
}

/// Length of a handshake message header.
pub const HANDSHAKE_HEADER_LEN: usize = 4;

/// A handshake message header: type and body length (RFC 8446 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandshakeHeader {
    pub msg_type: u8,
    pub length: u32,
}

pub fn parse_handshake_header(input: &[u8]) -> Result<HandshakeHeader, TlsError> {
    let mut r = Reader::new(input);
    Ok(HandshakeHeader {
        msg_type: r.u8("handshake type")?,
        length: r.u24("handshake length")?,
    })
}

/// One extension, undecoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension<'a> {
    pub ext_type: u16,
    pub data: &'a [u8],
    /// Offset of `data` within the hello body.
    pub offset: usize,
}

/// A ClientHello body (after the 4-byte handshake header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientHello<'a> {
    pub legacy_version: u16,
    pub random: &'a [u8],
    pub session_id: &'a [u8],
    pub cipher_suites: Vec<u16>,
    pub compression_methods: &'a [u8],
    pub extensions: Vec<Extension<'a>>,
    /// server_name host_name, raw.
    pub server_name: Option<&'a [u8]>,
    /// ALPN protocol names offered, raw.
    pub alpn: Vec<&'a [u8]>,
    /// supported_versions offered, GREASE values included.
    pub supported_versions: Vec<u16>,
}

/// A ServerHello body (after the 4-byte handshake header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello<'a> {
    pub legacy_version: u16,
    pub random: &'a [u8],
    pub session_id: &'a [u8],
    pub cipher_suite: u16,
    pub compression_method: u8,
    pub extensions: Vec<Extension<'a>>,
    /// supported_versions selected_version, when present.
    pub selected_version: Option<u16>,
    /// ALPN protocol selected, raw.
    pub alpn: Option<&'a [u8]>,
}

impl ServerHello<'_> {
    /// A HelloRetryRequest is a ServerHello with a fixed random (RFC 8446 §4.1.3).
    pub fn is_hello_retry_request(&self) -> bool {
        self.random == HELLO_RETRY_REQUEST_RANDOM
    }

    /// The version the server chose: supported_versions if present, else the legacy version.
    pub fn negotiated_version(&self) -> u16 {
        self.selected_version.unwrap_or(self.legacy_version)
    }
}

/// Extensions block: optional in TLS ≤ 1.2 and SSL 3.0 (absent when no bytes follow).
fn parse_extensions<'a>(r: &mut Reader<'a>) -> Result<Vec<Extension<'a>>, TlsError> {
    if r.is_empty() {
        return Ok(Vec::new());
    }
    let base = r.pos.saturating_add(2);
    let block = r.vec16("extensions")?;
    let mut er = Reader::new(block);
    let mut out = Vec::new();
    while !er.is_empty() {
        let ext_type = er.u16("extension type").map_err(|e| shift(e, base))?;
        let data = er.vec16("extension data").map_err(|e| shift(e, base))?;
        let offset = base.saturating_add(er.pos).saturating_sub(data.len());
        out.push(Extension {
            ext_type,
            data,
            offset,
        });
    }
    Ok(out)
}

/// Re-base an error offset from a sub-slice to the enclosing slice.
fn shift(e: TlsError, base: usize) -> TlsError {
    match e {
        TlsError::Truncated { field, offset } => TlsError::Truncated {
            field,
            offset: offset.saturating_add(base),
        },
        TlsError::Invalid {
            field,
            offset,
            reason,
        } => TlsError::Invalid {
            field,
            offset: offset.saturating_add(base),
            reason,
        },
    }
}

/// server_name extension: ServerNameList of (NameType, HostName); the first host_name (type 0).
pub fn parse_server_name(data: &[u8]) -> Result<Option<&[u8]>, TlsError> {
    let mut r = Reader::new(data);
    let list = r.vec16("server_name list")?;
    let mut lr = Reader::new(list);
    while !lr.is_empty() {
        let name_type = lr.u8("server_name type").map_err(|e| shift(e, 2))?;
        let name = lr.vec16("server_name host_name").map_err(|e| shift(e, 2))?;
        if name_type == 0 {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

/// ALPN extension: ProtocolNameList of u8-length names.
pub fn parse_alpn(data: &[u8]) -> Result<Vec<&[u8]>, TlsError> {
    let mut r = Reader::new(data);
    let list = r.vec16("alpn list")?;
    let mut lr = Reader::new(list);
    let mut out = Vec::new();
    while !lr.is_empty() {
        out.push(lr.vec8("alpn protocol name").map_err(|e| shift(e, 2))?);
    }
    Ok(out)
}

/// supported_versions in a ClientHello: a u8-length list of versions.
pub fn parse_supported_versions_offer(data: &[u8]) -> Result<Vec<u16>, TlsError> {
    let mut r = Reader::new(data);
    let list = r.vec8("supported_versions list")?;
    if list.len() % 2 != 0 {
        return Err(TlsError::Invalid {
            field: "supported_versions list",
            offset: 0,
            reason: "odd length",
        });
    }
    Ok(list
        .chunks_exact(2)
        .map(|c| c.iter().fold(0u16, |acc, &x| acc << 8 | u16::from(x)))
        .collect())
}

/// Parse a ClientHello body.
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHello<'_>, TlsError> {
    let mut r = Reader::new(body);
    let legacy_version = r.u16("client_hello legacy_version")?;
    let random = r.take(32, "client_hello random")?;
    let session_id = r.vec8("client_hello session_id")?;
    let suites = r.vec16("client_hello cipher_suites")?;
    if suites.len() % 2 != 0 {
        return Err(TlsError::Invalid {
            field: "client_hello cipher_suites",
            offset: r.pos,
            reason: "odd length",
        });
    }
    let cipher_suites = suites
        .chunks_exact(2)
        .map(|c| c.iter().fold(0u16, |acc, &x| acc << 8 | u16::from(x)))
        .collect();
    let compression_methods = r.vec8("client_hello compression_methods")?;
    let extensions = parse_extensions(&mut r)?;
    let mut hello = ClientHello {
        legacy_version,
        random,
        session_id,
        cipher_suites,
        compression_methods,
        extensions: Vec::new(),
        server_name: None,
        alpn: Vec::new(),
        supported_versions: Vec::new(),
    };
    for ext in &extensions {
        let base = ext.offset;
        match ext.ext_type {
            EXT_SERVER_NAME => {
                hello.server_name = parse_server_name(ext.data).map_err(|e| shift(e, base))?;
            }
            EXT_ALPN => hello.alpn = parse_alpn(ext.data).map_err(|e| shift(e, base))?,
            EXT_SUPPORTED_VERSIONS => {
                hello.supported_versions =
                    parse_supported_versions_offer(ext.data).map_err(|e| shift(e, base))?;
            }
            _ => {}
        }
    }
    hello.extensions = extensions;
    Ok(hello)
}

/// Parse a ServerHello body (also a HelloRetryRequest).
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello<'_>, TlsError> {
    let mut r = Reader::new(body);
    let legacy_version = r.u16("server_hello legacy_version")?;
    let random = r.take(32, "server_hello random")?;
    let session_id = r.vec8("server_hello session_id")?;
    let cipher_suite = r.u16("server_hello cipher_suite")?;
    let compression_method = r.u8("server_hello compression_method")?;
    let extensions = parse_extensions(&mut r)?;
    let mut selected_version = None;
    let mut alpn = None;
    for ext in &extensions {
        match ext.ext_type {
            EXT_SUPPORTED_VERSIONS => {
                let mut er = Reader::new(ext.data);
                selected_version = Some(
                    er.u16("server_hello supported_versions")
                        .map_err(|e| shift(e, ext.offset))?,
                );
            }
            EXT_ALPN => {
                alpn = parse_alpn(ext.data)
                    .map_err(|e| shift(e, ext.offset))?
                    .first()
                    .copied();
            }
            _ => {}
        }
    }
    Ok(ServerHello {
        legacy_version,
        random,
        session_id,
        cipher_suite,
        compression_method,
        extensions,
        selected_version,
        alpn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TLS 1.3 ClientHello body for "mmsc.example.com" offering h2 and http/1.1.
    fn client_hello_body() -> Vec<u8> {
        let mut b = vec![0x03, 0x03]; // legacy_version TLS 1.2
        b.extend_from_slice(&[0x11; 32]); // random
        b.push(0); // empty session id
        b.extend_from_slice(&[0x00, 0x04, 0x13, 0x01, 0x13, 0x02]); // two suites
        b.extend_from_slice(&[0x01, 0x00]); // compression: null
        let host = b"mmsc.example.com";
        let mut ext = Vec::new();
        // server_name: list len, type 0, name len, name
        ext.extend_from_slice(&[0x00, 0x00]);
        ext.extend_from_slice(&((host.len() + 5) as u16).to_be_bytes());
        ext.extend_from_slice(&((host.len() + 3) as u16).to_be_bytes());
        ext.push(0);
        ext.extend_from_slice(&(host.len() as u16).to_be_bytes());
        ext.extend_from_slice(host);
        // ALPN: h2, http/1.1
        ext.extend_from_slice(&[0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c]);
        ext.extend_from_slice(b"\x02h2\x08http/1.1");
        // supported_versions: GREASE, 1.3, 1.2
        ext.extend_from_slice(&[
            0x00, 0x2b, 0x00, 0x07, 0x06, 0x3a, 0x3a, 0x03, 0x04, 0x03, 0x03,
        ]);
        b.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        b.extend_from_slice(&ext);
        b
    }

    #[test]
    fn parses_client_hello_extensions() {
        let body = client_hello_body();
        let hello = parse_client_hello(&body).unwrap();
        assert_eq!(hello.legacy_version, 0x0303);
        assert_eq!(hello.cipher_suites, vec![0x1301, 0x1302]);
        assert_eq!(hello.server_name, Some(&b"mmsc.example.com"[..]));
        assert_eq!(hello.alpn, vec![&b"h2"[..], &b"http/1.1"[..]]);
        assert_eq!(hello.supported_versions, vec![0x3a3a, 0x0304, 0x0303]);
        assert_eq!(hello.extensions.len(), 3);
    }

    #[test]
    fn truncated_hello_names_field() {
        let body = client_hello_body();
        let err = parse_client_hello(&body[..20]).unwrap_err();
        assert_eq!(
            err,
            TlsError::Truncated {
                field: "client_hello random",
                offset: 2
            }
        );
    }

    #[test]
    fn parses_server_hello_and_hrr() {
        let mut b = vec![0x03, 0x03];
        b.extend_from_slice(&HELLO_RETRY_REQUEST_RANDOM);
        b.push(0);
        b.extend_from_slice(&[0x13, 0x01, 0x00]);
        b.extend_from_slice(&[0x00, 0x06, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
        let sh = parse_server_hello(&b).unwrap();
        assert!(sh.is_hello_retry_request());
        assert_eq!(sh.negotiated_version(), 0x0304);
        assert_eq!(sh.cipher_suite, 0x1301);

        // SSL 3.0 style: no extensions block at all
        let mut b = vec![0x03, 0x00];
        b.extend_from_slice(&[0x22; 32]);
        b.push(0);
        b.extend_from_slice(&[0x00, 0x0a, 0x00]);
        let sh = parse_server_hello(&b).unwrap();
        assert_eq!(sh.negotiated_version(), 0x0300);
        assert!(sh.extensions.is_empty());
    }

    #[test]
    fn record_headers_and_names() {
        assert_eq!(
            parse_record_header(&[0x16, 0x03, 0x01, 0x00, 0x30]).unwrap(),
            RecordHeader {
                content_type: 22,
                version: 0x0301,
                length: 0x30
            }
        );
        assert!(parse_record_header(&[0x47, 0x45, 0x54, 0x20, 0x2f]).is_err());
        assert!(parse_record_header(&[0x17, 0x03, 0x03, 0xff, 0xff]).is_err());
        assert!(looks_like_tls(&[0x16, 0x03, 0x01]));
        assert!(!looks_like_tls(&[0x16, 0x03, 0x05]));
        assert!(!looks_like_tls(b"GET"));
        assert!(!looks_like_tls(&[0x16, 0x03]));
        assert_eq!(version_name(0x0303), Some("TLS 1.2"));
        assert_eq!(version_label(0x7f17), "TLS 1.3 draft 23");
        assert_eq!(version_label(0x0305), "0x0305");
        assert!(is_grease(0x3a3a));
        assert!(is_grease(0xfafa));
        assert!(!is_grease(0x0303));
        assert!(!is_grease(0x3a4a));
    }
}
