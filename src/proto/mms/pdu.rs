//! The decoded MMS PDU: headers in order, typed values, the body's parts, and accessors for
//! reports.

use super::address::Address;
use super::tables::{
    MBOX_UNITS, MESSAGE_TYPES, MM_FLAG_ACTIONS, MmsField, ValueKind, message_type_name, token_name,
};
use crate::proto::wsp::encoding::{ContentType, DecodeIssue, EncodedString, Version};
use crate::proto::wsp::headers::{WspHeader, hex};
use crate::time::Timestamp;
use serde::Serialize;
use sha2::Digest as _;
use std::fmt;

/// An X-Mms-Message-Type octet (0x80–0x97).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageType(pub u8);

impl MessageType {
    pub const SEND_REQ: MessageType = MessageType(0x80);
    pub const SEND_CONF: MessageType = MessageType(0x81);
    pub const NOTIFICATION_IND: MessageType = MessageType(0x82);
    pub const NOTIFYRESP_IND: MessageType = MessageType(0x83);
    pub const RETRIEVE_CONF: MessageType = MessageType(0x84);
    pub const ACKNOWLEDGE_IND: MessageType = MessageType(0x85);
    pub const DELIVERY_IND: MessageType = MessageType(0x86);
    pub const READ_REC_IND: MessageType = MessageType(0x87);
    pub const READ_ORIG_IND: MessageType = MessageType(0x88);
    pub const FORWARD_REQ: MessageType = MessageType(0x89);
    pub const FORWARD_CONF: MessageType = MessageType(0x8A);
    pub const MBOX_STORE_REQ: MessageType = MessageType(0x8B);
    pub const MBOX_STORE_CONF: MessageType = MessageType(0x8C);
    pub const MBOX_VIEW_REQ: MessageType = MessageType(0x8D);
    pub const MBOX_VIEW_CONF: MessageType = MessageType(0x8E);
    pub const MBOX_UPLOAD_REQ: MessageType = MessageType(0x8F);
    pub const MBOX_UPLOAD_CONF: MessageType = MessageType(0x90);
    pub const MBOX_DELETE_REQ: MessageType = MessageType(0x91);
    pub const MBOX_DELETE_CONF: MessageType = MessageType(0x92);
    pub const MBOX_DESCR: MessageType = MessageType(0x93);
    pub const DELETE_REQ: MessageType = MessageType(0x94);
    pub const DELETE_CONF: MessageType = MessageType(0x95);
    pub const CANCEL_REQ: MessageType = MessageType(0x96);
    pub const CANCEL_CONF: MessageType = MessageType(0x97);

    /// `m-send-req`, ...; `unknown-0x..` for an unassigned octet.
    pub fn name(self) -> String {
        message_type_name(self.0).map_or_else(|| format!("unknown-0x{:02x}", self.0), str::to_owned)
    }
    pub fn is_assigned(self) -> bool {
        message_type_name(self.0).is_some()
    }
    /// Every assigned message type.
    pub fn all() -> impl Iterator<Item = MessageType> {
        MESSAGE_TYPES.iter().map(|(c, _)| MessageType(*c))
    }
}

impl Serialize for MessageType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.name())
    }
}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A time that is absolute or relative to when the PDU was sent (Expiry, Delivery-Time,
/// Reply-Charging-Deadline).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeSpec {
    pub relative: bool,
    /// Seconds since the epoch (absolute) or a number of seconds (relative).
    pub secs: u64,
    /// The absolute time: `secs` when absolute, capture time + `secs` when relative and the
    /// capture time was known.
    pub resolved: Option<u64>,
}

/// A typed MMS header value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum MmsValue {
    /// Encoded-string-value or Text-string (charset `None`).
    Text {
        text: EncodedString,
    },
    Address {
        address: Address,
    },
    /// `None`: the Insert-address token (the MMSC fills the sender in).
    From {
        address: Option<Address>,
    },
    /// A token octet (0x80…), with its name when assigned.
    Token {
        octet: u8,
    },
    Integer {
        value: u64,
    },
    /// Seconds since the epoch.
    Date {
        secs: u64,
    },
    Version {
        version: Version,
    },
    Time {
        time: TimeSpec,
    },
    ContentType {
        content_type: ContentType,
    },
    PreviouslySentBy {
        count: u64,
        address: Address,
    },
    PreviouslySentDate {
        count: u64,
        secs: u64,
    },
    /// X-Mms-MM-Flags: action token (0x80 add, 0x81 remove, 0x82 filter) and the keyword.
    MmFlags {
        action: u8,
        flag: EncodedString,
    },
    /// X-Mms-Mbox-Totals / Quotas: unit token (0x80 messages, 0x81 size) and the number.
    MboxCount {
        unit: u8,
        value: u64,
    },
    /// X-Mms-Attributes: a header field code (without the high bit).
    FieldCode {
        code: u8,
    },
    ElementDescriptor {
        reference: String,
        params: Vec<(String, String)>,
    },
    /// A value carried with a status index (m-mbox-delete-conf, m-delete-conf).
    Indexed {
        index: u64,
        value: Box<MmsValue>,
    },
    /// Encoded octets not interpreted (unknown fields, malformed values).
    Opaque {
        #[serde(skip)]
        bytes: Vec<u8>,
    },
}

/// The name of a header.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(untagged)]
pub enum MmsHeaderName {
    Known(MmsField),
    /// A field code with no assignment.
    Unknown(u8),
    /// An application header (Token-text name).
    Application(String),
}

impl MmsHeaderName {
    pub fn as_string(&self) -> String {
        match self {
            MmsHeaderName::Known(f) => f.name().to_owned(),
            MmsHeaderName::Unknown(c) => format!("X-Mms-Unknown-0x{c:02x}"),
            MmsHeaderName::Application(n) => n.clone(),
        }
    }
}

/// One header: its name, value and where it started in the PDU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MmsHeader {
    pub name: MmsHeaderName,
    pub value: MmsValue,
    /// Offset of the field octet in the PDU (0 for headers built by hand).
    pub offset: usize,
}

impl MmsHeader {
    pub fn new(field: MmsField, value: MmsValue) -> Self {
        MmsHeader {
            name: MmsHeaderName::Known(field),
            value,
            offset: 0,
        }
    }
    pub fn application(name: impl Into<String>, value: impl Into<String>) -> Self {
        MmsHeader {
            name: MmsHeaderName::Application(name.into()),
            value: MmsValue::Text {
                text: EncodedString::plain(value),
            },
            offset: 0,
        }
    }
    pub fn field(&self) -> Option<MmsField> {
        match self.name {
            MmsHeaderName::Known(f) => Some(f),
            _ => None,
        }
    }
    pub fn name_string(&self) -> String {
        self.name.as_string()
    }
    /// The value for display and reports.
    pub fn value_string(&self) -> String {
        let kind = self.field().map_or(ValueKind::Opaque, MmsField::kind);
        value_string(kind, &self.value)
    }
}

fn date_string(secs: u64) -> String {
    Timestamp::new(i64::try_from(secs).unwrap_or(i64::MAX), 0, 0).to_rfc3339()
}

fn value_string(kind: ValueKind, value: &MmsValue) -> String {
    match value {
        MmsValue::Text { text } => text.text.clone(),
        MmsValue::Address { address } => address.to_string(),
        MmsValue::From { address: Some(a) } => a.to_string(),
        MmsValue::From { address: None } => "<insert-address>".to_owned(),
        MmsValue::Token { octet } => {
            let table = match kind {
                ValueKind::Token(t) | ValueKind::TokenOrText(t) => Some(t),
                _ => None,
            };
            table
                .and_then(|t| token_name(t, *octet))
                .map_or_else(|| format!("0x{octet:02x}"), str::to_owned)
        }
        MmsValue::Integer { value } => value.to_string(),
        MmsValue::Date { secs } => date_string(*secs),
        MmsValue::Version { version } => version.to_string(),
        MmsValue::Time { time } => match (time.relative, time.resolved) {
            (false, _) => date_string(time.secs),
            (true, Some(r)) => format!("{} (+{}s)", date_string(r), time.secs),
            (true, None) => format!("+{}s", time.secs),
        },
        MmsValue::ContentType { content_type } => content_type.to_string(),
        MmsValue::PreviouslySentBy { count, address } => format!("{count}: {address}"),
        MmsValue::PreviouslySentDate { count, secs } => format!("{count}: {}", date_string(*secs)),
        MmsValue::MmFlags { action, flag } => format!(
            "{} {}",
            token_name(MM_FLAG_ACTIONS, *action).unwrap_or("?"),
            flag.text
        ),
        MmsValue::MboxCount { unit, value } => {
            format!("{value} {}", token_name(MBOX_UNITS, *unit).unwrap_or("?"))
        }
        MmsValue::FieldCode { code } => MmsField::from_code(*code)
            .map_or_else(|| format!("0x{code:02x}"), |f| f.name().to_owned()),
        MmsValue::ElementDescriptor { reference, params } => {
            let mut s = reference.clone();
            for (n, v) in params {
                s.push_str(&format!("; {n}={v}"));
            }
            s
        }
        MmsValue::Indexed { index, value } => format!("{index}: {}", value_string(kind, value)),
        MmsValue::Opaque { bytes } => hex(bytes),
    }
}

/// One part of the body (a leaf of the multipart tree, or the whole body of a single-part PDU).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MmsPart {
    /// 0-based position among the leaves, in order.
    pub index: usize,
    /// Nesting level of the multipart that held it (0 = outermost).
    pub depth: usize,
    pub content_type: ContentType,
    /// Part headers after the content type (Content-ID, Content-Location, ...).
    #[serde(skip)]
    pub headers: Vec<WspHeader>,
    /// From the `name`/`filename` parameters or Content-Disposition, else Content-Location.
    pub name: Option<String>,
    pub content_id: Option<String>,
    pub content_location: Option<String>,
    pub charset: Option<String>,
    /// Textual Content-Transfer-Encoding that was undone (`base64`, `quoted-printable`).
    pub transfer_encoding: Option<String>,
    /// Octets of `data`.
    pub size: usize,
    /// SHA-256 of `data`, lower-case hex.
    pub sha256: String,
    /// The decoded octets.
    #[serde(skip)]
    pub data: Vec<u8>,
    /// True when the part's data was cut short (or the transfer encoding was broken).
    pub truncated: bool,
    /// Offset of the part's data in the PDU (0 for parts built by hand).
    pub offset: usize,
}

impl MmsPart {
    /// Builds a part from its content type, headers and decoded data, filling the derived fields.
    pub fn new(content_type: ContentType, headers: Vec<WspHeader>, data: Vec<u8>) -> Self {
        use crate::proto::wsp::headers::WspHeaderValue;
        let header_text = |name: &str| headers.iter().find(|h| h.is(name)).map(|h| h.value.clone());
        let content_id = header_text("Content-ID");
        let content_location = header_text("Content-Location");
        let disposition_name = headers.iter().find_map(|h| match &h.typed {
            WspHeaderValue::ContentDisposition { params, .. } => params
                .iter()
                .find(|(n, _)| n == "filename" || n == "name")
                .map(|(_, v)| v.clone()),
            _ => None,
        });
        let name = content_type
            .name()
            .map(str::to_owned)
            .or(disposition_name)
            .or_else(|| content_location.clone());
        let transfer_encoding =
            header_text("Content-Transfer-Encoding").map(|t| t.trim().to_ascii_lowercase());
        MmsPart {
            index: 0,
            depth: 0,
            charset: content_type.charset().map(str::to_owned),
            content_type,
            headers,
            name,
            content_id,
            content_location,
            transfer_encoding,
            size: data.len(),
            sha256: hex(&sha2::Sha256::digest(&data)),
            data,
            truncated: false,
            offset: 0,
        }
    }

    /// The data as text when the part is textual (text/*, SMIL, XML), decoded with its charset
    /// (UTF-8 when none is given).
    pub fn text(&self) -> Option<String> {
        let m = self.content_type.media.to_ascii_lowercase();
        let textual = m.starts_with("text/") || m.contains("smil") || m.ends_with("xml");
        if !textual {
            return None;
        }
        let mib = self
            .charset
            .as_deref()
            .and_then(crate::proto::wsp::encoding::charset_mib);
        Some(crate::proto::wsp::encoding::decode_text(mib, &self.data).0)
    }
}

/// The body of a PDU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MmsBody {
    /// The PDU's Content-Type.
    pub content_type: ContentType,
    /// True when the body was decoded as a WSP multipart.
    pub multipart: bool,
    /// Leaf parts in order.
    pub parts: Vec<MmsPart>,
}

/// A decoded MMS PDU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MmsPdu {
    pub message_type: MessageType,
    /// Every header in order, including X-Mms-Message-Type and Content-Type.
    pub headers: Vec<MmsHeader>,
    pub body: Option<MmsBody>,
    /// Problems met while decoding (offsets from the start of the PDU).
    pub issues: Vec<DecodeIssue>,
}

impl MmsPdu {
    /// A PDU with only its X-Mms-Message-Type header.
    pub fn new(message_type: MessageType) -> Self {
        MmsPdu {
            message_type,
            headers: vec![MmsHeader::new(
                MmsField::MessageType,
                MmsValue::Token {
                    octet: message_type.0,
                },
            )],
            body: None,
            issues: Vec::new(),
        }
    }
    /// Appends a header (builder style).
    pub fn with(mut self, field: MmsField, value: MmsValue) -> Self {
        self.headers.push(MmsHeader::new(field, value));
        self
    }

    /// First header of a field.
    pub fn header(&self, field: MmsField) -> Option<&MmsValue> {
        self.headers
            .iter()
            .find(|h| h.field() == Some(field))
            .map(|h| &h.value)
    }
    /// Every header of a field.
    pub fn headers_of(&self, field: MmsField) -> impl Iterator<Item = &MmsValue> {
        self.headers
            .iter()
            .filter(move |h| h.field() == Some(field))
            .map(|h| &h.value)
    }
    fn text_of(&self, field: MmsField) -> Option<String> {
        match self.header(field)? {
            MmsValue::Text { text } => Some(text.text.clone()),
            MmsValue::Indexed { value, .. } => match value.as_ref() {
                MmsValue::Text { text } => Some(text.text.clone()),
                _ => None,
            },
            other => Some(value_string(field.kind(), other)),
        }
    }
    fn addresses(&self, field: MmsField) -> Vec<String> {
        self.headers_of(field)
            .map(|v| match v {
                MmsValue::Address { address } => address.to_string(),
                other => value_string(field.kind(), other),
            })
            .collect()
    }
    /// Typed addresses of a field (To, Cc, Bcc).
    pub fn address_values(&self, field: MmsField) -> Vec<&Address> {
        self.headers_of(field)
            .filter_map(|v| match v {
                MmsValue::Address { address } => Some(address),
                _ => None,
            })
            .collect()
    }

    /// `m-send-req`, ...
    pub fn message_type_name(&self) -> String {
        self.message_type.name()
    }
    pub fn transaction_id(&self) -> Option<String> {
        self.text_of(MmsField::TransactionId)
    }
    /// `1.2`, ...
    pub fn mms_version(&self) -> Option<String> {
        match self.header(MmsField::MmsVersion)? {
            MmsValue::Version { version } => Some(version.to_string()),
            other => Some(value_string(ValueKind::Version, other)),
        }
    }
    pub fn message_id(&self) -> Option<String> {
        self.text_of(MmsField::MessageId)
    }
    /// The sender as encoded; `None` when absent or when the Insert-address token was sent.
    pub fn from(&self) -> Option<String> {
        match self.header(MmsField::From)? {
            MmsValue::From { address } => address.as_ref().map(Address::to_string),
            other => Some(value_string(ValueKind::From, other)),
        }
    }
    /// The typed sender address.
    pub fn from_address(&self) -> Option<&Address> {
        match self.header(MmsField::From)? {
            MmsValue::From { address } => address.as_ref(),
            _ => None,
        }
    }
    pub fn to(&self) -> Vec<String> {
        self.addresses(MmsField::To)
    }
    pub fn cc(&self) -> Vec<String> {
        self.addresses(MmsField::Cc)
    }
    pub fn bcc(&self) -> Vec<String> {
        self.addresses(MmsField::Bcc)
    }
    pub fn subject(&self) -> Option<String> {
        self.text_of(MmsField::Subject)
    }
    /// The subject's typed value (for a `_b64` when not valid text).
    pub fn subject_value(&self) -> Option<&EncodedString> {
        match self.header(MmsField::Subject)? {
            MmsValue::Text { text } => Some(text),
            _ => None,
        }
    }
    pub fn content_location(&self) -> Option<String> {
        self.text_of(MmsField::ContentLocation)
    }
    /// Date, RFC 3339.
    pub fn date(&self) -> Option<String> {
        match self.header(MmsField::Date)? {
            MmsValue::Date { secs } => Some(date_string(*secs)),
            other => Some(value_string(ValueKind::Date, other)),
        }
    }
    /// Expiry, RFC 3339 when absolute or resolvable, else `+Ns`.
    pub fn expiry(&self) -> Option<String> {
        match self.header(MmsField::Expiry)? {
            MmsValue::Time { time } => Some(match time.resolved {
                Some(r) => date_string(r),
                None => format!("+{}s", time.secs),
            }),
            other => Some(value_string(ValueKind::Time, other)),
        }
    }
    pub fn message_size(&self) -> Option<u64> {
        match self.header(MmsField::MessageSize)? {
            MmsValue::Integer { value } => Some(*value),
            _ => None,
        }
    }
    /// The PDU's Content-Type, rendered.
    pub fn content_type(&self) -> Option<String> {
        match self.header(MmsField::ContentType)? {
            MmsValue::ContentType { content_type } => Some(content_type.to_string()),
            other => Some(value_string(ValueKind::ContentType, other)),
        }
    }
    /// Leaf parts of the body (empty when there is none).
    pub fn parts(&self) -> &[MmsPart] {
        self.body.as_ref().map_or(&[], |b| b.parts.as_slice())
    }

    /// Every header without an accessor above, as `(name, value)` in order.
    pub fn other_headers(&self) -> Vec<(String, String)> {
        const WITH_ACCESSOR: &[MmsField] = &[
            MmsField::MessageType,
            MmsField::TransactionId,
            MmsField::MmsVersion,
            MmsField::MessageId,
            MmsField::From,
            MmsField::To,
            MmsField::Cc,
            MmsField::Bcc,
            MmsField::Subject,
            MmsField::ContentLocation,
            MmsField::Date,
            MmsField::Expiry,
            MmsField::MessageSize,
            MmsField::ContentType,
        ];
        self.headers
            .iter()
            .filter(|h| !h.field().is_some_and(|f| WITH_ACCESSOR.contains(&f)))
            .map(|h| (h.name_string(), h.value_string()))
            .collect()
    }

    /// Field by field, for `mmsleak inspect`: headers, then each part.
    pub fn describe(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|h| (h.name_string(), h.value_string()))
            .collect();
        if let Some(body) = &self.body {
            out.push((
                "Body".into(),
                format!(
                    "{}, {} part(s)",
                    if body.multipart {
                        "multipart"
                    } else {
                        "single part"
                    },
                    body.parts.len()
                ),
            ));
            for p in &body.parts {
                let label = format!("Part {}", p.index + 1);
                out.push((
                    label.clone(),
                    format!(
                        "{} ({} octets, sha256 {})",
                        p.content_type, p.size, p.sha256
                    ),
                ));
                for h in &p.headers {
                    out.push((format!("{label} {}", h.name), h.value.clone()));
                }
                if p.truncated {
                    out.push((format!("{label} note"), "truncated".into()));
                }
            }
        }
        for i in &self.issues {
            out.push(("Problem".into(), i.to_string()));
        }
        out
    }
}

impl fmt::Display for MmsPdu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, v) in self.describe() {
            writeln!(f, "{n}: {v}")?;
        }
        Ok(())
    }
}
