//! HTTP/1.0 and HTTP/1.1 (RFC 9110, RFC 9112) on any TCP port.
//!
//! - `parser.rs`: pure helpers (start-line detection, heads through `httparse`, chunked framing,
//!   body-length rules, URLs, content types).
//! - `decode.rs`: Content-Encoding (gzip, deflate) with caps on size and expansion ratio.
//! - `connection.rs`: [`HttpConnection`], the per-flow state machine pairing requests with
//!   responses (keep-alive, pipelining, 100-continue, CONNECT tunnels, gaps).

mod connection;
pub mod decode;
pub mod parser;

pub use connection::HttpConnection;
pub use parser::{is_generic_content_type, is_mms_content_type};

use crate::flow::Direction;
use crate::time::Timestamp;

/// Caps on what one HTTP connection may hold. Reaching one yields a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Largest message head (start line and header fields).
    pub max_head_bytes: usize,
    /// Most header fields in one head (or trailer section).
    pub max_headers: usize,
    /// Most body bytes kept per message, as transferred (after de-chunking, before decoding).
    pub max_body_bytes: usize,
    /// Most bytes kept after undoing Content-Encoding.
    pub max_decoded_bytes: usize,
    /// Largest accepted expansion ratio when undoing Content-Encoding.
    pub max_decode_ratio: u64,
    /// Most body bytes held by one connection at a time (bodies of exchanges not yet taken).
    pub max_connection_body_bytes: usize,
    /// Most requests waiting for their response; beyond it the oldest is given up unanswered.
    pub max_pending_requests: usize,
    /// Most frame numbers listed for one message (first and last are always known).
    pub max_frames_per_message: usize,
    /// Bytes examined at the start of a direction for a first HTTP message before deciding the
    /// stream is something else.
    pub max_sniff_bytes: usize,
    /// Bytes examined after a gap or a damaged message for the next message start before giving
    /// up on the direction.
    pub max_resync_bytes: u64,
    /// Largest TLS hello (ClientHello / ServerHello) buffered across records and segments.
    pub max_tls_hello_bytes: usize,
    /// Keep bodies whose Content-Type says they are not MMS (text/html, image/jpeg, ...). When
    /// false, such bodies are counted and skipped without copying: only MMS and generic or
    /// missing types (which may hide an MMS PDU) are kept.
    pub keep_non_mms_bodies: bool,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_head_bytes: 64 * 1024,
            max_headers: 128,
            max_body_bytes: 64 * 1024 * 1024,
            max_decoded_bytes: 64 * 1024 * 1024,
            max_decode_ratio: 1000,
            max_connection_body_bytes: 128 * 1024 * 1024,
            max_pending_requests: 64,
            max_frames_per_message: 100_000,
            max_sniff_bytes: 16 * 1024,
            max_resync_bytes: 16 * 1024 * 1024,
            max_tls_hello_bytes: 16 * 1024,
            keep_non_mms_bodies: true,
        }
    }
}

/// What a TCP flow turned out to carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StreamKind {
    /// No bytes yet, or not enough to decide.
    Unknown,
    /// HTTP/1.x requests or responses.
    Http,
    /// A TLS session from the first byte.
    Tls,
    /// HTTP that switched to something else: CONNECT answered 2xx, or 101 Switching Protocols.
    /// A TLS hello inside is still recorded.
    Tunnel,
    /// Neither HTTP nor TLS.
    Other,
}

/// HTTP version of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum HttpVersion {
    #[serde(rename = "HTTP/1.0")]
    Http10,
    #[serde(rename = "HTTP/1.1")]
    Http11,
}

impl HttpVersion {
    pub fn from_minor(minor: u8) -> Self {
        if minor == 0 {
            HttpVersion::Http10
        } else {
            HttpVersion::Http11
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            HttpVersion::Http10 => "HTTP/1.0",
            HttpVersion::Http11 => "HTTP/1.1",
        }
    }
}

impl std::fmt::Display for HttpVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One HTTP request as seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: String,
    /// The request-target as on the wire.
    pub uri: String,
    /// The full URL: absolute-form as is, origin-form joined to Host (`http://host/path`).
    pub url: String,
    pub version: HttpVersion,
    /// Header fields in wire order; values that are not UTF-8 are converted lossily.
    pub headers: Vec<(String, String)>,
    /// Raw bytes of the header values that were not valid UTF-8: (index in `headers`, bytes).
    pub raw_header_values: Vec<(usize, Vec<u8>)>,
    /// Trailer fields after a chunked body.
    pub trailers: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    /// The body with transfer and content codings undone (or as transferred when the content
    /// coding is unknown or could not be undone).
    pub body: Vec<u8>,
    /// Bytes of message body on the wire, chunk framing included (bytes lost in gaps counted).
    pub body_len_on_wire: u64,
    /// Bytes of body seen after de-chunking, before content decoding.
    pub encoded_len: u64,
    /// The body was cut at a cap, or bytes after a gap were dropped.
    pub body_truncated: bool,
    /// Every frame that contributed bytes to the message, in order, without repeats.
    pub frames: Vec<u64>,
    pub first_frame: u64,
    pub last_frame: u64,
    pub start: Timestamp,
    pub end: Timestamp,
    /// Every byte of the message was seen and its framing ended normally.
    pub complete: bool,
}

/// One HTTP response as seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub reason: String,
    pub version: HttpVersion,
    pub headers: Vec<(String, String)>,
    pub raw_header_values: Vec<(usize, Vec<u8>)>,
    pub trailers: Vec<(String, String)>,
    pub content_type: Option<String>,
    pub content_encoding: Option<String>,
    pub body: Vec<u8>,
    pub body_len_on_wire: u64,
    pub encoded_len: u64,
    pub body_truncated: bool,
    pub frames: Vec<u64>,
    pub first_frame: u64,
    pub last_frame: u64,
    pub start: Timestamp,
    pub end: Timestamp,
    pub complete: bool,
    /// Interim (1xx) responses that came before this one, e.g. `100 Continue`: (status, frame).
    pub interim: Vec<(u16, u64)>,
}

/// A request and the response that answered it. Either may be missing: a request never
/// answered in the capture, or a response whose request was not seen.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpExchange {
    pub request: Option<HttpRequest>,
    pub response: Option<HttpResponse>,
}

/// A body that carries an MMS PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MmsBody<'a> {
    /// `ToServer` for a request body, `ToClient` for a response body.
    pub direction: Direction,
    pub body: &'a [u8],
    /// The frame in which the body's last byte arrived.
    pub frame: u64,
    /// Whether the whole message was seen.
    pub complete: bool,
}

/// Whether `body` starts like an MMS PDU: X-Mms-Message-Type (0x8C) first, with a defined
/// message type value 0x80–0x97 (OMA-TS-MMS-ENC-V1_3 §7.3.30, §7.2: the type comes first).
fn starts_like_mms_pdu(body: &[u8]) -> bool {
    matches!(body, [0x8c, t, ..] if (0x80..=0x97).contains(t))
}

/// Whether a body with this Content-Type is an MMS PDU: the MMS media type, or a missing or
/// generic type and a body that starts like a PDU.
fn is_mms_body(content_type: Option<&str>, body: &[u8]) -> bool {
    match content_type {
        Some(ct) if is_mms_content_type(ct) => !body.is_empty(),
        ct => is_generic_content_type(ct) && starts_like_mms_pdu(body),
    }
}

impl HttpRequest {
    /// The first header field named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        parser::header_value(&self.headers, name)
    }

    /// The body, when it is an MMS PDU.
    pub fn mms_body(&self) -> Option<&[u8]> {
        is_mms_body(self.content_type.as_deref(), &self.body).then_some(self.body.as_slice())
    }
}

impl HttpResponse {
    /// The first header field named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        parser::header_value(&self.headers, name)
    }

    /// The body, when it is an MMS PDU.
    pub fn mms_body(&self) -> Option<&[u8]> {
        is_mms_body(self.content_type.as_deref(), &self.body).then_some(self.body.as_slice())
    }
}

impl HttpExchange {
    /// The request and response bodies that are MMS PDUs, request first.
    pub fn mms_bodies(&self) -> Vec<MmsBody<'_>> {
        let mut out = Vec::new();
        if let Some(req) = &self.request {
            if let Some(body) = req.mms_body() {
                out.push(MmsBody {
                    direction: Direction::ToServer,
                    body,
                    frame: req.last_frame,
                    complete: req.complete,
                });
            }
        }
        if let Some(resp) = &self.response {
            if let Some(body) = resp.mms_body() {
                out.push(MmsBody {
                    direction: Direction::ToClient,
                    body,
                    frame: resp.last_frame,
                    complete: resp.complete,
                });
            }
        }
        out
    }

    /// The first frame of the exchange.
    pub fn first_frame(&self) -> Option<u64> {
        let req = self.request.as_ref().map(|r| r.first_frame);
        let resp = self.response.as_ref().map(|r| r.first_frame);
        match (req, resp) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The last frame of the exchange.
    pub fn last_frame(&self) -> Option<u64> {
        let req = self.request.as_ref().map(|r| r.last_frame);
        let resp = self.response.as_ref().map(|r| r.last_frame);
        req.max(resp)
    }

    /// Both sides present and complete.
    pub fn is_complete(&self) -> bool {
        self.request.as_ref().is_some_and(|r| r.complete)
            && self.response.as_ref().is_some_and(|r| r.complete)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mms_pdu_sniffing() {
        // X-Mms-Message-Type: m-send-req (0x80)
        assert!(starts_like_mms_pdu(&[0x8c, 0x80, 0x98]));
        // m-mbox-descr (0x97) is the last defined type
        assert!(starts_like_mms_pdu(&[0x8c, 0x97]));
        assert!(!starts_like_mms_pdu(&[0x8c, 0x98]));
        assert!(!starts_like_mms_pdu(&[0x8d, 0x80]));
        assert!(!starts_like_mms_pdu(&[0x8c]));
        assert!(is_mms_body(None, &[0x8c, 0x84]));
        assert!(is_mms_body(Some("application/octet-stream"), &[0x8c, 0x84]));
        assert!(!is_mms_body(Some("text/plain"), &[0x8c, 0x84]));
        assert!(is_mms_body(
            Some("application/vnd.wap.mms-message"),
            b"anything"
        ));
        assert!(!is_mms_body(Some("application/vnd.wap.mms-message"), b""));
    }
}
