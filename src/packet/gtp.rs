//! GTP-U (3GPP TS 29.281): the header of a G-PDU, the message that carries a user's IP packet.
//!
//! §5.1: octet 1 holds version (3 bits, 1), protocol type PT (1 = GTP), a spare bit and the E
//! (extension header), S (sequence number) and PN (N-PDU number) flags; octet 2 the message type
//! (255 = G-PDU); octets 3-4 the length of everything after the first 8 octets; octets 5-8 the TEID.
//! When any of E, S, PN is set, octets 9-12 hold the sequence number, the N-PDU number and the
//! type of the next extension header, all present even when only one flag is set.
//! §5.2.1: each extension header starts with its length in 4-octet units (0 is invalid) and ends
//! with the type of the next one (0 = none).

use super::bytes::{be16, be32, need, rest, u8_at};
use super::error::{Header, PacketError};

/// UDP port of GTP-U (TS 29.281 §4.4.2.3).
pub const GTP_U_PORT: u16 = 2152;
/// Message type of a G-PDU.
pub const G_PDU: u8 = 0xFF;
/// Extension headers followed before decoding gives up.
pub const MAX_EXTENSION_HEADERS: usize = 8;

const MANDATORY_LEN: usize = 8;
const OPTIONAL_LEN: usize = 4;
const FLAG_E: u8 = 0x04;
const FLAG_S: u8 = 0x02;
const FLAG_PN: u8 = 0x01;

/// A decoded G-PDU header and the user packet it carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GtpPdu<'a> {
    pub teid: u32,
    /// The length field: octets after the mandatory 8-octet header.
    pub length: u16,
    /// Sequence number, when the S flag is set.
    pub sequence: Option<u16>,
    /// Types of the extension headers, in order.
    pub extension_types: Vec<u8>,
    /// The user packet (T-PDU), cut to the length field when the datagram holds more.
    pub inner: &'a [u8],
    /// Offset of `inner` from the start of the GTP header.
    pub inner_offset: usize,
    /// The length field claims more than the datagram holds.
    pub truncated: bool,
}

/// True when `payload` starts like a GTPv1-U G-PDU (version 1, PT 1, message type 255).
pub fn is_g_pdu(payload: &[u8]) -> bool {
    let flags = u8_at(payload, 0);
    payload.len() >= MANDATORY_LEN
        && flags >> 5 == 1
        && flags & 0x10 != 0
        && u8_at(payload, 1) == G_PDU
}

/// Decodes the G-PDU header at the start of `payload` (which is at byte `at` of the frame).
/// Returns `Ok(None)` for anything that is not a GTPv1-U G-PDU (echo, error indication, end
/// marker, GTP', GTPv2): those are left to be counted as plain UDP.
pub fn parse_g_pdu(payload: &[u8], at: usize) -> Result<Option<GtpPdu<'_>>, PacketError> {
    if !is_g_pdu(payload) {
        return Ok(None);
    }
    let flags = u8_at(payload, 0);
    let length = be16(payload, 2);
    let teid = be32(payload, 4);
    let mut pos = MANDATORY_LEN;
    let mut sequence = None;
    let mut extension_types = Vec::new();
    if flags & (FLAG_E | FLAG_S | FLAG_PN) != 0 {
        need(payload, MANDATORY_LEN + OPTIONAL_LEN, Header::Gtp, at)?;
        if flags & FLAG_S != 0 {
            sequence = Some(be16(payload, 8));
        }
        let mut next_type = if flags & FLAG_E != 0 {
            u8_at(payload, 11)
        } else {
            0
        };
        pos = MANDATORY_LEN + OPTIONAL_LEN;
        while next_type != 0 {
            if extension_types.len() >= MAX_EXTENSION_HEADERS {
                return Err(PacketError::TooMany {
                    header: Header::Gtp,
                    at: at.saturating_add(pos),
                    what: "extension headers",
                    max: MAX_EXTENSION_HEADERS,
                });
            }
            extension_types.push(next_type);
            let ext = rest(payload, pos);
            let ext_at = at.saturating_add(pos);
            need(ext, 1, Header::Gtp, ext_at)?;
            let units = u8_at(ext, 0);
            if units == 0 {
                return Err(PacketError::Invalid {
                    header: Header::Gtp,
                    at: ext_at,
                    field: "extension header length",
                    value: 0,
                    problem: "is invalid (must be at least one 4-octet unit)",
                });
            }
            let ext_len = usize::from(units) * 4;
            if ext.len() < ext_len {
                return Err(PacketError::HeaderCut {
                    header: Header::Gtp,
                    at: ext_at,
                    header_len: ext_len,
                    present: ext.len(),
                });
            }
            next_type = u8_at(ext, ext_len - 1);
            pos = pos.saturating_add(ext_len);
        }
    }
    let header_after_mandatory = pos - MANDATORY_LEN;
    let declared = usize::from(length);
    if declared < header_after_mandatory {
        return Err(PacketError::Invalid {
            header: Header::Gtp,
            at,
            field: "length",
            value: u64::from(length),
            problem: "is shorter than the optional fields and extension headers",
        });
    }
    let end = MANDATORY_LEN + declared;
    let truncated = end > payload.len();
    let inner = payload.get(pos..end.min(payload.len())).unwrap_or_default();
    Ok(Some(GtpPdu {
        teid,
        length,
        sequence,
        extension_types,
        inner,
        inner_offset: pos,
        truncated,
    }))
}

/// True when the G-PDU's length matches the datagram exactly and the user packet's IP header is
/// consistent with its length: the test for accepting GTP-U on a port other than 2152.
pub fn is_unmistakable(pdu: &GtpPdu<'_>, udp_payload_len: usize) -> bool {
    if pdu.truncated || MANDATORY_LEN + usize::from(pdu.length) != udp_payload_len {
        return false;
    }
    let inner = pdu.inner;
    match u8_at(inner, 0) >> 4 {
        4 => {
            let ihl = usize::from(u8_at(inner, 0) & 0x0F) * 4;
            inner.len() >= 20 && ihl >= 20 && usize::from(be16(inner, 2)) == inner.len()
        }
        6 => inner.len() >= 40 && usize::from(be16(inner, 4)) + 40 == inner.len(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_g_pdu() {
        let pdu = [
            0x30, 0xFF, 0x00, 0x02, // v1, PT, no flags, G-PDU, length 2
            0x00, 0x00, 0x12, 0x34, // TEID
            0x45, 0x00, // inner bytes
        ];
        let got = parse_g_pdu(&pdu, 42).unwrap().unwrap();
        assert_eq!(got.teid, 0x1234);
        assert_eq!(got.inner, &[0x45, 0x00]);
        assert_eq!(got.inner_offset, 8);
        assert!(!got.truncated);
    }

    #[test]
    fn sequence_and_extension_header() {
        let pdu = [
            0x36, 0xFF, 0x00, 0x0D, // v1, PT, E and S, G-PDU, length 13
            0xAA, 0xBB, 0xCC, 0xDD, // TEID
            0x00, 0x07, // sequence 7
            0x00, // N-PDU number
            0x85, // next extension: PDU session container
            0x01, 0x10, 0x05, 0x00, // one unit, content, next type 0
            0x60, // inner bytes
        ];
        let got = parse_g_pdu(&pdu, 0).unwrap().unwrap();
        assert_eq!(got.teid, 0xAABB_CCDD);
        assert_eq!(got.sequence, Some(7));
        assert_eq!(got.extension_types, vec![0x85]);
        assert_eq!(got.inner, &[0x60]);
        assert_eq!(got.inner_offset, 16);
    }

    #[test]
    fn zero_length_extension_is_an_error() {
        let pdu = [0x34, 0xFF, 0, 8, 0, 0, 0, 1, 0, 0, 0, 0x85, 0x00, 0, 0, 0];
        let err = parse_g_pdu(&pdu, 0).unwrap_err();
        assert!(
            err.to_string().contains("extension header length 0"),
            "{err}"
        );
    }

    #[test]
    fn echo_request_is_not_a_g_pdu() {
        let echo = [0x32, 0x01, 0x00, 0x04, 0, 0, 0, 0, 0x00, 0x01, 0, 0];
        assert_eq!(parse_g_pdu(&echo, 0).unwrap(), None);
    }
}
