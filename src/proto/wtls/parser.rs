//! WTLS record layer (WAP-261 clause 9.2) and the version field of the Hello messages (10.5).
//!
//! A record starts with one octet: `length-present | sequence-number-present | cipher-spec |
//! reserved | content type (4 bits)`, then an optional 16-bit sequence number and an optional
//! 16-bit length. A record without a length field runs to the end of the datagram. Several records
//! may share one datagram.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WtlsError {
    #[error("wtls: empty datagram")]
    Empty,
    #[error("wtls: content type {content_type} is not defined (offset {offset})")]
    UnknownContentType { content_type: u8, offset: usize },
    #[error("wtls: truncated {field} at offset {offset}")]
    Truncated { field: &'static str, offset: usize },
    #[error("wtls: more than {max} records in one datagram")]
    TooManyRecords { max: usize },
}

/// Upper bound on records per datagram.
pub const MAX_RECORDS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WtlsContentType {
    ChangeCipherSpec,
    Alert,
    Handshake,
    ApplicationData,
}

/// Record content types (WAP-261 9.2.3).
pub const CONTENT_TYPES: &[(u8, WtlsContentType, &str)] = &[
    (1, WtlsContentType::ChangeCipherSpec, "change_cipher_spec"),
    (2, WtlsContentType::Alert, "alert"),
    (3, WtlsContentType::Handshake, "handshake"),
    (4, WtlsContentType::ApplicationData, "application_data"),
];

impl WtlsContentType {
    pub fn from_code(code: u8) -> Option<Self> {
        CONTENT_TYPES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|(_, t, _)| *t)
    }

    pub fn name(self) -> &'static str {
        CONTENT_TYPES
            .iter()
            .find(|(_, t, _)| *t == self)
            .map_or("?", |(_, _, n)| n)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WtlsHandshakeType {
    HelloRequest,
    ClientHello,
    ServerHello,
    Certificate,
    ServerKeyExchange,
    CertificateRequest,
    ServerHelloDone,
    CertificateVerify,
    ClientKeyExchange,
    Finished,
    Unknown(u8),
}

/// Handshake message types (WAP-261 10.5).
pub const HANDSHAKE_TYPES: &[(u8, WtlsHandshakeType)] = &[
    (0, WtlsHandshakeType::HelloRequest),
    (1, WtlsHandshakeType::ClientHello),
    (2, WtlsHandshakeType::ServerHello),
    (11, WtlsHandshakeType::Certificate),
    (12, WtlsHandshakeType::ServerKeyExchange),
    (13, WtlsHandshakeType::CertificateRequest),
    (14, WtlsHandshakeType::ServerHelloDone),
    (15, WtlsHandshakeType::CertificateVerify),
    (16, WtlsHandshakeType::ClientKeyExchange),
    (20, WtlsHandshakeType::Finished),
];

impl WtlsHandshakeType {
    pub fn from_code(code: u8) -> Self {
        HANDSHAKE_TYPES
            .iter()
            .find(|(c, _)| *c == code)
            .map_or(WtlsHandshakeType::Unknown(code), |(_, t)| *t)
    }
}

/// One record; `fragment` borrows the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WtlsRecord<'a> {
    pub content_type: WtlsContentType,
    /// The cipher-spec bit: the fragment is protected by the negotiated cipher and MAC.
    pub encrypted: bool,
    pub sequence_number: Option<u16>,
    /// Whether the record carried a length field.
    pub has_length: bool,
    pub fragment: &'a [u8],
}

/// The start of a handshake message in clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WtlsHandshake {
    pub msg_type: WtlsHandshakeType,
    pub length: u16,
    /// `client_version` / `server_version` of a ClientHello or ServerHello.
    pub hello_version: Option<u8>,
}

impl WtlsRecord<'_> {
    /// The first handshake message of a clear handshake record.
    pub fn handshake(&self) -> Option<WtlsHandshake> {
        if self.content_type != WtlsContentType::Handshake || self.encrypted {
            return None;
        }
        let (&msg_type, rest) = self.fragment.split_first()?;
        let length = u16::from_be_bytes([*rest.first()?, *rest.get(1)?]);
        let msg_type = WtlsHandshakeType::from_code(msg_type);
        let hello_version = match msg_type {
            WtlsHandshakeType::ClientHello | WtlsHandshakeType::ServerHello => rest.get(2).copied(),
            _ => None,
        };
        Some(WtlsHandshake {
            msg_type,
            length,
            hello_version,
        })
    }
}

/// Splits a datagram into WTLS records.
pub fn parse_datagram(bytes: &[u8]) -> Result<Vec<WtlsRecord<'_>>, WtlsError> {
    if bytes.is_empty() {
        return Err(WtlsError::Empty);
    }
    let mut records = Vec::new();
    let mut pos = 0usize;
    while pos < bytes.len() {
        if records.len() >= MAX_RECORDS {
            return Err(WtlsError::TooManyRecords { max: MAX_RECORDS });
        }
        let first = bytes.get(pos).copied().ok_or(WtlsError::Truncated {
            field: "record type",
            offset: pos,
        })?;
        let code = first & 0x0F;
        let content_type =
            WtlsContentType::from_code(code).ok_or(WtlsError::UnknownContentType {
                content_type: code,
                offset: pos,
            })?;
        pos = pos.saturating_add(1);
        let read_u16 = |at: usize, field: &'static str| -> Result<u16, WtlsError> {
            let b = bytes
                .get(at..at.saturating_add(2))
                .ok_or(WtlsError::Truncated { field, offset: at })?;
            Ok(u16::from_be_bytes([
                b.first().copied().unwrap_or(0),
                b.get(1).copied().unwrap_or(0),
            ]))
        };
        let sequence_number = if first & 0x40 != 0 {
            let n = read_u16(pos, "sequence number")?;
            pos = pos.saturating_add(2);
            Some(n)
        } else {
            None
        };
        let has_length = first & 0x80 != 0;
        let fragment = if has_length {
            let len = usize::from(read_u16(pos, "record length")?);
            pos = pos.saturating_add(2);
            let end = pos.saturating_add(len);
            let f = bytes.get(pos..end).ok_or(WtlsError::Truncated {
                field: "record fragment",
                offset: pos,
            })?;
            pos = end;
            f
        } else {
            let f = bytes.get(pos..).unwrap_or(&[]);
            pos = bytes.len();
            f
        };
        records.push(WtlsRecord {
            content_type,
            encrypted: first & 0x20 != 0,
            sequence_number,
            has_length,
            fragment,
        });
    }
    Ok(records)
}

/// Encodes one record (for generated captures and tests).
pub fn encode_record(
    content_type: WtlsContentType,
    encrypted: bool,
    sequence_number: Option<u16>,
    with_length: bool,
    fragment: &[u8],
    out: &mut Vec<u8>,
) {
    let code = CONTENT_TYPES
        .iter()
        .find(|(_, t, _)| *t == content_type)
        .map_or(0, |(c, _, _)| *c);
    let fragment = fragment
        .get(..fragment.len().min(usize::from(u16::MAX)))
        .unwrap_or(&[]);
    let mut first = code;
    if with_length {
        first |= 0x80;
    }
    if sequence_number.is_some() {
        first |= 0x40;
    }
    if encrypted {
        first |= 0x20;
    }
    out.push(first);
    if let Some(n) = sequence_number {
        out.extend_from_slice(&n.to_be_bytes());
    }
    if with_length {
        out.extend_from_slice(&(fragment.len() as u16).to_be_bytes());
    }
    out.extend_from_slice(fragment);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_hello_then_encrypted_data() {
        // 0xC3 = length | seq | handshake; seq 0x0000; length 0x0008;
        // handshake: type 1 (ClientHello), length 0x0005, client_version 1, 4 octets of random.
        // 0x64 = seq | cipher | application_data, no length: runs to the end.
        let bytes = [
            0xC3, 0x00, 0x00, 0x00, 0x08, 0x01, 0x00, 0x05, 0x01, 0x11, 0x22, 0x33, 0x44, 0x64,
            0x00, 0x01, 0xDE, 0xAD,
        ];
        let records = parse_datagram(&bytes).unwrap();
        assert_eq!(records.len(), 2);
        let hs = records[0].handshake().unwrap();
        assert_eq!(hs.msg_type, WtlsHandshakeType::ClientHello);
        assert_eq!(hs.hello_version, Some(1));
        assert!(records[1].encrypted);
        assert_eq!(records[1].sequence_number, Some(1));
        assert_eq!(records[1].fragment, &[0xDE, 0xAD]);
        let mut enc = Vec::new();
        encode_record(
            WtlsContentType::Handshake,
            false,
            Some(0),
            true,
            records[0].fragment,
            &mut enc,
        );
        encode_record(
            WtlsContentType::ApplicationData,
            true,
            Some(1),
            false,
            &[0xDE, 0xAD],
            &mut enc,
        );
        assert_eq!(enc, bytes);
    }

    #[test]
    fn rejects_non_wtls() {
        assert!(parse_datagram(&[]).is_err());
        assert!(matches!(
            parse_datagram(&[0x80 | 0x07, 0, 0]),
            Err(WtlsError::UnknownContentType { .. })
        ));
        assert!(parse_datagram(&[0x83, 0x00, 0x09, 0x01]).is_err());
    }
}
