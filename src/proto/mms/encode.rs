//! MMS PDU encoder (OMA-TS-MMS-ENC-V1_3 section 7), for the capture generator and round trips.
//! Headers are written in the order given, X-Mms-Message-Type first; Content-Type last, followed
//! by the body.

use super::body::{encode_base64, encode_quoted_printable};
use super::pdu::{MmsBody, MmsHeader, MmsHeaderName, MmsPdu, MmsValue, TimeSpec};
use super::tables::MmsField;
use crate::proto::wsp::encoding::{
    WspError, content_type_code, encode_content_type, encode_date_value,
    encode_encoded_string_value, encode_integer_value, encode_length_prefixed, encode_long_integer,
    encode_short_integer, encode_text_string, encode_token_text, encode_version_value,
};
use crate::proto::wsp::multipart::{EntryToEncode, encode_multipart};

/// Why a PDU could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MmsEncodeError {
    #[error("{field}: {source}")]
    Value {
        field: String,
        #[source]
        source: WspError,
    },
    #[error("{field}: value kind {kind} cannot be encoded for this field")]
    Mismatch { field: String, kind: &'static str },
    #[error("body: {0}")]
    Body(WspError),
}

/// Encodes a PDU.
pub fn encode(pdu: &MmsPdu) -> Result<Vec<u8>, MmsEncodeError> {
    let mut out = vec![0x8C, pdu.message_type.0];
    for h in &pdu.headers {
        match h.field() {
            Some(MmsField::MessageType) => continue,
            Some(MmsField::ContentType) if pdu.body.is_some() => continue,
            _ => {}
        }
        encode_header(h, &mut out)?;
    }
    if let Some(body) = &pdu.body {
        let ct = pdu.headers.iter().find_map(|h| match (&h.name, &h.value) {
            (
                MmsHeaderName::Known(MmsField::ContentType),
                MmsValue::ContentType { content_type },
            ) => Some(content_type),
            _ => None,
        });
        let ct = ct.unwrap_or(&body.content_type);
        out.push(0x80 | MmsField::ContentType.code());
        encode_content_type(ct, &mut out).map_err(|e| MmsEncodeError::Value {
            field: "Content-Type".into(),
            source: e,
        })?;
        encode_body(body, &mut out).map_err(MmsEncodeError::Body)?;
    }
    Ok(out)
}

fn transfer_encoded(part: &super::pdu::MmsPart) -> Vec<u8> {
    match part.transfer_encoding.as_deref() {
        Some("base64") => encode_base64(&part.data),
        Some("quoted-printable") => encode_quoted_printable(&part.data),
        _ => part.data.clone(),
    }
}

fn encode_body(body: &MmsBody, out: &mut Vec<u8>) -> Result<(), WspError> {
    if !body.multipart {
        if let Some(p) = body.parts.first() {
            out.extend_from_slice(&transfer_encoded(p));
        }
        return Ok(());
    }
    let data: Vec<Vec<u8>> = body.parts.iter().map(transfer_encoded).collect();
    let entries: Vec<EntryToEncode<'_>> = body
        .parts
        .iter()
        .zip(&data)
        .map(|(p, d)| EntryToEncode {
            content_type: &p.content_type,
            headers: &p.headers,
            data: d,
        })
        .collect();
    out.extend_from_slice(&encode_multipart(&entries)?);
    Ok(())
}

fn kind_name(v: &MmsValue) -> &'static str {
    match v {
        MmsValue::Text { .. } => "text",
        MmsValue::Address { .. } => "address",
        MmsValue::From { .. } => "from",
        MmsValue::Token { .. } => "token",
        MmsValue::Integer { .. } => "integer",
        MmsValue::Date { .. } => "date",
        MmsValue::Version { .. } => "version",
        MmsValue::Time { .. } => "time",
        MmsValue::ContentType { .. } => "content-type",
        MmsValue::PreviouslySentBy { .. } => "previously-sent-by",
        MmsValue::PreviouslySentDate { .. } => "previously-sent-date",
        MmsValue::MmFlags { .. } => "mm-flags",
        MmsValue::MboxCount { .. } => "mbox-count",
        MmsValue::FieldCode { .. } => "field-code",
        MmsValue::ElementDescriptor { .. } => "element-descriptor",
        MmsValue::Indexed { .. } => "indexed",
        MmsValue::Opaque { .. } => "opaque",
    }
}

/// Appends one header.
pub fn encode_header(h: &MmsHeader, out: &mut Vec<u8>) -> Result<(), MmsEncodeError> {
    let field_name = h.name_string();
    let wrap = |e: WspError| MmsEncodeError::Value {
        field: field_name.clone(),
        source: e,
    };
    match &h.name {
        MmsHeaderName::Application(name) => {
            encode_token_text(name.as_bytes(), out);
            match &h.value {
                MmsValue::Opaque { bytes } => out.extend_from_slice(bytes),
                MmsValue::Token { octet } => out.push(*octet | 0x80),
                _ => encode_text_string(h.value_string().as_bytes(), out),
            }
            Ok(())
        }
        MmsHeaderName::Unknown(code) => {
            out.push(code | 0x80);
            match &h.value {
                MmsValue::Opaque { bytes } => out.extend_from_slice(bytes),
                MmsValue::Token { octet } => out.push(*octet | 0x80),
                MmsValue::Text { text } => encode_text_string(&text.raw, out),
                other => {
                    return Err(MmsEncodeError::Mismatch {
                        field: field_name,
                        kind: kind_name(other),
                    });
                }
            }
            Ok(())
        }
        MmsHeaderName::Known(field) => {
            out.push(field.code() | 0x80);
            encode_value(*field, &h.value, out).map_err(|e| match e {
                ValueError::Wsp(w) => wrap(w),
                ValueError::Mismatch(kind) => MmsEncodeError::Mismatch {
                    field: field_name.clone(),
                    kind,
                },
            })
        }
    }
}

enum ValueError {
    Wsp(WspError),
    Mismatch(&'static str),
}

impl From<WspError> for ValueError {
    fn from(e: WspError) -> Self {
        ValueError::Wsp(e)
    }
}

fn encode_time(t: &TimeSpec, out: &mut Vec<u8>) -> Result<(), WspError> {
    let mut inner = Vec::new();
    if t.relative {
        inner.push(0x81);
        // Delta-seconds-value as a Long-integer: understood by decoders reading either form.
        encode_long_integer(t.secs, &mut inner);
    } else {
        inner.push(0x80);
        encode_date_value(t.secs, &mut inner);
    }
    encode_length_prefixed(&inner, out)
}

fn encode_value(field: MmsField, value: &MmsValue, out: &mut Vec<u8>) -> Result<(), ValueError> {
    use super::tables::ValueKind as K;
    match (field.kind(), value) {
        (_, MmsValue::Opaque { bytes }) => out.extend_from_slice(bytes),
        (_, MmsValue::Indexed { index, value }) => {
            let mut inner = Vec::new();
            encode_integer_value(*index, &mut inner);
            encode_value(field, value, &mut inner)?;
            encode_length_prefixed(&inner, out)?;
        }
        (K::EncodedString | K::Address | K::TokenOrText(_), MmsValue::Text { text }) => {
            if matches!(field.kind(), K::TokenOrText(_)) {
                encode_token_text(&text.raw, out);
            } else {
                encode_encoded_string_value(text, out)?;
            }
        }
        (K::Text, MmsValue::Text { text }) => {
            if text.charset.is_some() {
                encode_encoded_string_value(text, out)?;
            } else {
                encode_text_string(&text.raw, out);
            }
        }
        (K::Address | K::EncodedString, MmsValue::Address { address }) => {
            encode_encoded_string_value(&address.value, out)?;
        }
        (K::From, MmsValue::From { address }) => {
            let mut inner = Vec::new();
            match address {
                Some(a) => {
                    inner.push(0x80);
                    encode_encoded_string_value(&a.value, &mut inner)?;
                }
                None => inner.push(0x81),
            }
            encode_length_prefixed(&inner, out)?;
        }
        (K::Token(_) | K::TokenOrText(_), MmsValue::Token { octet }) => out.push(*octet | 0x80),
        (K::Date, MmsValue::Date { secs }) => encode_date_value(*secs, out),
        (K::LongInteger, MmsValue::Integer { value }) => encode_long_integer(*value, out),
        (K::Integer, MmsValue::Integer { value }) => encode_integer_value(*value, out),
        (K::Version, MmsValue::Version { version }) => encode_version_value(version, out),
        (K::Time, MmsValue::Time { time }) => encode_time(time, out)?,
        (K::ContentType, MmsValue::ContentType { content_type }) => {
            encode_content_type(content_type, out)?;
        }
        (K::PreviouslySentBy, MmsValue::PreviouslySentBy { count, address }) => {
            let mut inner = Vec::new();
            encode_integer_value(*count, &mut inner);
            encode_encoded_string_value(&address.value, &mut inner)?;
            encode_length_prefixed(&inner, out)?;
        }
        (K::PreviouslySentDate, MmsValue::PreviouslySentDate { count, secs }) => {
            let mut inner = Vec::new();
            encode_integer_value(*count, &mut inner);
            encode_date_value(*secs, &mut inner);
            encode_length_prefixed(&inner, out)?;
        }
        (K::MmFlags, MmsValue::MmFlags { action, flag }) => {
            let mut inner = vec![*action | 0x80];
            encode_encoded_string_value(flag, &mut inner)?;
            encode_length_prefixed(&inner, out)?;
        }
        (K::MboxCount, MmsValue::MboxCount { unit, value }) => {
            let mut inner = vec![*unit | 0x80];
            encode_integer_value(*value, &mut inner);
            encode_length_prefixed(&inner, out)?;
        }
        (K::FieldCode, MmsValue::FieldCode { code }) => encode_short_integer(*code & 0x7F, out),
        (K::ElementDescriptor, MmsValue::ElementDescriptor { reference, params }) => {
            let mut inner = Vec::new();
            encode_text_string(reference.as_bytes(), &mut inner);
            for (n, v) in params {
                if n == "type" {
                    inner.push(0x82);
                } else {
                    encode_text_string(n.as_bytes(), &mut inner);
                }
                match content_type_code(v).filter(|c| *c < 0x80) {
                    Some(c) if n == "type" => encode_short_integer(c as u8, &mut inner),
                    _ => encode_text_string(v.as_bytes(), &mut inner),
                }
            }
            encode_length_prefixed(&inner, out)?;
        }
        (K::Opaque, MmsValue::Text { text }) => encode_text_string(&text.raw, out),
        (K::Opaque, MmsValue::Token { octet }) => out.push(*octet | 0x80),
        (_, other) => return Err(ValueError::Mismatch(kind_name(other))),
    }
    Ok(())
}
