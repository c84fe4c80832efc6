//! TCP (RFC 9293 §3.1) and UDP (RFC 768) headers, read through etherparse once the lengths are
//! checked here so that a failure names the exact length that was missing.

use super::bytes::{need, u8_at};
use super::error::{Header, PacketError};
use super::{TcpFlags, TcpSegment, UdpDatagram};
use etherparse::{TcpHeaderSlice, UdpHeaderSlice};
use std::borrow::Cow;

const TCP_MIN_HEADER: usize = 20;
const UDP_HEADER: usize = 8;

/// A TCP segment from `data` (the IP payload, at byte `at` of the frame).
pub(crate) fn decode_tcp(data: &[u8], at: usize) -> Result<TcpSegment<'_>, PacketError> {
    need(data, TCP_MIN_HEADER, Header::Tcp, at)?;
    let data_offset = u8_at(data, 12) >> 4;
    if data_offset < 5 {
        return Err(PacketError::Invalid {
            header: Header::Tcp,
            at,
            field: "data offset",
            value: u64::from(data_offset),
            problem: "is below the minimum of 5 (20 bytes)",
        });
    }
    let header_len = usize::from(data_offset) * 4;
    if data.len() < header_len {
        return Err(PacketError::HeaderCut {
            header: Header::Tcp,
            at,
            header_len,
            present: data.len(),
        });
    }
    let header = TcpHeaderSlice::from_slice(data).map_err(|_| PacketError::HeaderCut {
        header: Header::Tcp,
        at,
        header_len,
        present: data.len(),
    })?;
    Ok(TcpSegment {
        src_port: header.source_port(),
        dst_port: header.destination_port(),
        seq: header.sequence_number(),
        ack: header.acknowledgment_number(),
        flags: TcpFlags(u8_at(data, 13)),
        window: header.window_size(),
        payload: Cow::Borrowed(data.get(header_len..).unwrap_or_default()),
    })
}

/// A UDP datagram from `data` (the IP payload, at byte `at` of the frame), and whether its
/// length field claims more than `data` holds.
pub(crate) fn decode_udp(data: &[u8], at: usize) -> Result<(UdpDatagram<'_>, bool), PacketError> {
    need(data, UDP_HEADER, Header::Udp, at)?;
    let header = UdpHeaderSlice::from_slice(data).map_err(|_| PacketError::Short {
        header: Header::Udp,
        at,
        needed: UDP_HEADER,
        present: data.len(),
    })?;
    let length = usize::from(header.length());
    // Length 0 appears in captures of segmentation-offloaded datagrams (and RFC 2675 jumbograms):
    // the capture's length is all there is.
    let (end, truncated) = if length == 0 {
        (data.len(), false)
    } else if length < UDP_HEADER {
        return Err(PacketError::Invalid {
            header: Header::Udp,
            at,
            field: "length",
            value: length as u64,
            problem: "is below the header length of 8",
        });
    } else if length > data.len() {
        (data.len(), true)
    } else {
        (length, false)
    };
    Ok((
        UdpDatagram {
            src_port: header.source_port(),
            dst_port: header.destination_port(),
            payload: Cow::Borrowed(data.get(UDP_HEADER..end).unwrap_or_default()),
        },
        truncated,
    ))
}
