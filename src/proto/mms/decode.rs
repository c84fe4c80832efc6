//! MMS PDU decoder (OMA-TS-MMS-ENC-V1_3 section 7): headers, then for PDUs that carry one, the
//! body after the Content-Type header (which is always the last header).

use super::address::Address;
use super::body::decode_body;
use super::pdu::{MessageType, MmsBody, MmsHeader, MmsHeaderName, MmsPdu, MmsValue, TimeSpec};
use super::tables::{MmsField, ValueKind};
use crate::proto::wsp::encoding::{
    DecodeIssue, EncodedString, WspError, content_type_value_lenient, date_value,
    encoded_string_value, integer_value, long_integer, short_integer, text_string, token_text,
    value_length_block, version_value,
};
use crate::proto::wsp::headers::value_extent;
use crate::proto::wsp::multipart::MultipartLimits;
use crate::time::Timestamp;

/// The X-Mms-Message-Type field octet.
pub const MESSAGE_TYPE_FIELD: u8 = 0x8C;

/// What the decoder may know besides the bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeContext {
    /// When the PDU was captured: relative Expiry / Delivery-Time are resolved against it.
    pub capture_time: Option<Timestamp>,
    /// Caps for multipart bodies.
    pub limits: MultipartLimits,
}

/// Why a byte string is not an MMS PDU at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MmsDecodeError {
    #[error("not an MMS PDU: empty input")]
    Empty,
    #[error("not an MMS PDU: first octet 0x{0:02x} is not X-Mms-Message-Type (0x8c)")]
    NotMessageType(u8),
    #[error("not an MMS PDU: X-Mms-Message-Type value is missing")]
    MissingMessageType,
    #[error("not an MMS PDU: X-Mms-Message-Type value 0x{0:02x} is not an assigned message type")]
    UnknownMessageType(u8),
}

/// Cheap check for bodies with a missing or generic content type: X-Mms-Message-Type with an
/// assigned value, then (if more octets follow) a plausible next header — a well-known MMS field
/// code (Transaction-Id or MMS-Version normally) or an application header name.
pub fn looks_like_mms(bytes: &[u8]) -> bool {
    match bytes {
        [MESSAGE_TYPE_FIELD, t, rest @ ..] if MessageType(*t).is_assigned() => match rest.first() {
            None => true,
            Some(&b) if b >= 0x80 => MmsField::from_code(b & 0x7F).is_some(),
            Some(&b) => b.is_ascii_alphabetic(),
        },
        _ => false,
    }
}

/// Decodes an MMS PDU. Fails only when the message type cannot be read; any later damage is
/// reported in `issues` and everything decoded before it is kept.
pub fn decode(bytes: &[u8], ctx: &DecodeContext) -> Result<MmsPdu, MmsDecodeError> {
    let (&first, rest) = bytes.split_first().ok_or(MmsDecodeError::Empty)?;
    if first != MESSAGE_TYPE_FIELD {
        return Err(MmsDecodeError::NotMessageType(first));
    }
    let &t = rest.first().ok_or(MmsDecodeError::MissingMessageType)?;
    let message_type = MessageType(t);
    if !message_type.is_assigned() {
        return Err(MmsDecodeError::UnknownMessageType(t));
    }
    let mut pdu = MmsPdu {
        message_type,
        headers: Vec::new(),
        body: None,
        issues: Vec::new(),
    };
    let mut input = bytes;
    while let Some(&b) = input.first() {
        let offset = bytes.len() - input.len();
        if b >= 0x80 {
            let code = b & 0x7F;
            let after = input.get(1..).unwrap_or_default();
            let field = MmsField::from_code(code);
            if field == Some(MmsField::ContentType) {
                match content_type_value_lenient(after) {
                    Ok((body, (ct, err))) => {
                        if let Some(err) = err {
                            pdu.issues.push(DecodeIssue::new(
                                err.offset_in(bytes.len()),
                                format!("Content-Type: {err}"),
                            ));
                        }
                        pdu.headers.push(MmsHeader {
                            name: MmsHeaderName::Known(MmsField::ContentType),
                            value: MmsValue::ContentType {
                                content_type: ct.clone(),
                            },
                            offset,
                        });
                        let body_offset = bytes.len() - body.len();
                        let (parts, multipart, issues) =
                            decode_body(&ct, body, body_offset, &ctx.limits);
                        pdu.issues.extend(issues);
                        pdu.body = Some(MmsBody {
                            content_type: ct,
                            multipart,
                            parts,
                        });
                    }
                    Err(e) => pdu.issues.push(DecodeIssue::new(
                        e.offset_in(bytes.len()),
                        format!("Content-Type: {e}"),
                    )),
                }
                return Ok(pdu);
            }
            let (rest, raw) = match value_extent(after) {
                Ok(v) => v,
                Err(e) => {
                    let name = field
                        .map_or_else(|| format!("field 0x{code:02x}"), |f| f.name().to_owned());
                    pdu.issues.push(DecodeIssue::new(
                        e.offset_in(bytes.len()),
                        format!("{name}: {e}"),
                    ));
                    return Ok(pdu);
                }
            };
            let (name, value) = match field {
                Some(f) => match decode_value(f, raw, message_type, ctx) {
                    Ok(v) => (MmsHeaderName::Known(f), v),
                    Err(e) => {
                        pdu.issues
                            .push(DecodeIssue::new(offset + 1, format!("{}: {e}", f.name())));
                        (
                            MmsHeaderName::Known(f),
                            MmsValue::Opaque {
                                bytes: raw.to_vec(),
                            },
                        )
                    }
                },
                None => (MmsHeaderName::Unknown(code), generic_value(raw)),
            };
            pdu.headers.push(MmsHeader {
                name,
                value,
                offset,
            });
            input = rest;
        } else if b >= 0x20 {
            // Application-header: Token-text Application-specific-value.
            let parsed = token_text(input).and_then(|(r, n)| {
                let (r2, raw) = value_extent(r)?;
                Ok((r2, n, raw))
            });
            match parsed {
                Ok((rest, name, raw)) => {
                    pdu.headers.push(MmsHeader {
                        name: MmsHeaderName::Application(
                            String::from_utf8_lossy(name).into_owned(),
                        ),
                        value: generic_value(raw),
                        offset,
                    });
                    input = rest;
                }
                Err(e) => {
                    pdu.issues.push(DecodeIssue::new(
                        e.offset_in(bytes.len()),
                        format!("application header: {e}"),
                    ));
                    return Ok(pdu);
                }
            }
        } else {
            // NUL padding after the last header is harmless; anything else is damage.
            if !input.iter().all(|&x| x == 0) {
                pdu.issues.push(DecodeIssue::new(
                    offset,
                    format!("octet 0x{b:02x} does not start a header: decoding stopped"),
                ));
            }
            return Ok(pdu);
        }
    }
    Ok(pdu)
}

/// A value of an unknown field or application header: text when textual, a token octet, or
/// opaque octets.
fn generic_value(raw: &[u8]) -> MmsValue {
    match raw.first() {
        Some(&b) if b >= 0x80 && raw.len() == 1 => MmsValue::Token { octet: b },
        Some(0x20..=0x7F) => match text_string(raw) {
            Ok((_, t)) => MmsValue::Text {
                text: EncodedString::from_raw(None, t),
            },
            Err(_) => MmsValue::Opaque {
                bytes: raw.to_vec(),
            },
        },
        _ => MmsValue::Opaque {
            bytes: raw.to_vec(),
        },
    }
}

fn ensure_empty(what: &'static str, rest: &[u8]) -> Result<(), WspError> {
    // Trailing octets inside a value's own extent are tolerated only for Value-length forms,
    // which are bounded anyway; for the others they mean the value was not what it claimed.
    if rest.is_empty() {
        Ok(())
    } else {
        Err(WspError::invalid(
            what,
            rest,
            format!("{} unexpected octet(s) after the value", rest.len()),
        ))
    }
}

fn time_spec(block: &[u8], ctx: &DecodeContext) -> Result<TimeSpec, WspError> {
    let (&token, rest) = block
        .split_first()
        .ok_or_else(|| WspError::truncated("time token", block, 1))?;
    match token {
        0x80 => {
            let (_, secs) = date_value(rest)?;
            Ok(TimeSpec {
                relative: false,
                secs,
                resolved: Some(secs),
            })
        }
        0x81 => {
            let (_, secs) = integer_value(rest)?;
            let resolved = ctx.capture_time.and_then(|t| {
                u64::try_from(t.secs)
                    .ok()
                    .and_then(|base| base.checked_add(secs))
            });
            Ok(TimeSpec {
                relative: true,
                secs,
                resolved,
            })
        }
        other => Err(WspError::unexpected("time token", block, other)),
    }
}

fn is_delete_conf(t: MessageType) -> bool {
    t == MessageType::MBOX_DELETE_CONF || t == MessageType::DELETE_CONF
}

/// Decodes one known field's value from its exact extent.
pub(crate) fn decode_value(
    field: MmsField,
    raw: &[u8],
    message_type: MessageType,
    ctx: &DecodeContext,
) -> Result<MmsValue, WspError> {
    // m-mbox-delete-conf / m-delete-conf carry Content-Location and Response-Text with a status
    // index: Value-length Status-count-value value (MMS-ENC 1.3 7.3.9, 7.3.49).
    if is_delete_conf(message_type)
        && matches!(field, MmsField::ContentLocation | MmsField::ResponseText)
        && raw.first().is_some_and(|&b| b <= 31)
    {
        let indexed = value_length_block(raw).and_then(|(_, block)| {
            let (rest, index) = integer_value(block)?;
            let inner = decode_value(field, rest, MessageType::SEND_REQ, ctx)?;
            Ok(MmsValue::Indexed {
                index,
                value: Box::new(inner),
            })
        });
        if let Ok(v) = indexed {
            return Ok(v);
        }
    }
    let first = raw.first().copied().unwrap_or(0);
    Ok(match field.kind() {
        ValueKind::EncodedString => MmsValue::Text {
            text: encoded_string_value(raw)?.1,
        },
        ValueKind::Address => MmsValue::Address {
            address: Address::new(encoded_string_value(raw)?.1),
        },
        ValueKind::Text => {
            // Text-string per the spec; some senders use an Encoded-string-value here.
            let text = if first <= 31 {
                encoded_string_value(raw)?.1
            } else {
                EncodedString::from_raw(None, text_string(raw)?.1)
            };
            MmsValue::Text { text }
        }
        ValueKind::From => {
            let (_, block) = value_length_block(raw)?;
            match block.split_first() {
                Some((0x80, rest)) => MmsValue::From {
                    address: Some(Address::new(encoded_string_value(rest)?.1)),
                },
                Some((0x81, _)) => MmsValue::From { address: None },
                Some((&b, _)) => return Err(WspError::unexpected("From token", block, b)),
                None => return Err(WspError::truncated("From token", block, 1)),
            }
        }
        ValueKind::ContentType => MmsValue::ContentType {
            content_type: content_type_value_lenient(raw)?.1.0,
        },
        ValueKind::Date => {
            let (rest, secs) = date_value(raw)?;
            ensure_empty("Date-value", rest)?;
            MmsValue::Date { secs }
        }
        ValueKind::LongInteger | ValueKind::Integer => {
            let (rest, value) = if field.kind() == ValueKind::LongInteger && first <= 30 {
                long_integer(raw)?
            } else {
                integer_value(raw)?
            };
            ensure_empty("Integer-value", rest)?;
            MmsValue::Integer { value }
        }
        ValueKind::Token(_) => {
            if first < 0x80 {
                return Err(WspError::unexpected("token", raw, first));
            }
            MmsValue::Token { octet: first }
        }
        ValueKind::TokenOrText(_) => {
            if first >= 0x80 {
                MmsValue::Token { octet: first }
            } else {
                MmsValue::Text {
                    text: EncodedString::from_raw(None, token_text(raw)?.1),
                }
            }
        }
        ValueKind::Version => MmsValue::Version {
            version: version_value(raw)?.1,
        },
        ValueKind::Time => {
            let (_, block) = value_length_block(raw)?;
            MmsValue::Time {
                time: time_spec(block, ctx)?,
            }
        }
        ValueKind::PreviouslySentBy => {
            let (_, block) = value_length_block(raw)?;
            let (rest, count) = integer_value(block)?;
            MmsValue::PreviouslySentBy {
                count,
                address: Address::new(encoded_string_value(rest)?.1),
            }
        }
        ValueKind::PreviouslySentDate => {
            let (_, block) = value_length_block(raw)?;
            let (rest, count) = integer_value(block)?;
            MmsValue::PreviouslySentDate {
                count,
                secs: date_value(rest)?.1,
            }
        }
        ValueKind::MmFlags => {
            let (_, block) = value_length_block(raw)?;
            let (rest, action) = short_integer(block)?;
            MmsValue::MmFlags {
                action: action | 0x80,
                flag: encoded_string_value(rest)?.1,
            }
        }
        ValueKind::MboxCount => {
            let (_, block) = value_length_block(raw)?;
            let (rest, unit) = short_integer(block)?;
            MmsValue::MboxCount {
                unit: unit | 0x80,
                value: integer_value(rest)?.1,
            }
        }
        ValueKind::FieldCode => MmsValue::FieldCode {
            code: short_integer(raw)?.1,
        },
        ValueKind::ElementDescriptor => {
            let (_, block) = value_length_block(raw)?;
            let (mut rest, reference) = text_string(block)?;
            let mut params = Vec::new();
            while !rest.is_empty() {
                let (r, name) = match rest.first() {
                    Some(&b) if b >= 0x80 => (
                        rest.get(1..).unwrap_or_default(),
                        if b == 0x82 {
                            "type".to_owned()
                        } else {
                            format!("0x{:02x}", b & 0x7F)
                        },
                    ),
                    _ => {
                        let (r, n) = text_string(rest)?;
                        (r, String::from_utf8_lossy(n).into_owned())
                    }
                };
                let (r, value) = match r.first() {
                    Some(&b) if b >= 0x80 => (
                        r.get(1..).unwrap_or_default(),
                        crate::proto::wsp::encoding::content_type_name(u32::from(b & 0x7F))
                            .map_or_else(|| format!("0x{:02x}", b & 0x7F), str::to_owned),
                    ),
                    _ => {
                        let (r2, v) = text_string(r)?;
                        (r2, String::from_utf8_lossy(v).into_owned())
                    }
                };
                params.push((name, value));
                rest = r;
            }
            MmsValue::ElementDescriptor {
                reference: String::from_utf8_lossy(reference).into_owned(),
                params,
            }
        }
        ValueKind::Opaque => generic_value(raw),
    })
}
