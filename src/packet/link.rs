//! Link layers: from a captured frame to the IP packet it carries.
//!
//! Header layouts follow the tcpdump LINKTYPE_* registry (<https://www.tcpdump.org/linktypes.html>),
//! IEEE 802.1Q (C-tag 0x8100, S-tag 0x88A8, and the pre-standard QinQ TPID 0x9100), RFC 3032
//! (MPLS label stack) and RFC 2516 (PPPoE sessions). Linux cooked headers are read here rather
//! than through etherparse because phones capture on interfaces whose ARPHRD type (rmnet raw-IP
//! 519, tun 65534, PPP 512, ...) etherparse rejects; the protocol field is an EtherType for all of
//! them except netlink.

use super::bytes::{be16, be32, le32, need, u8_at};
use super::error::{Header, PacketError};
use super::{NonIpProtocol, VlanTags};
use crate::capture::linktype;

/// How many VLAN tags one frame may carry before decoding gives up.
pub const MAX_VLAN_TAGS: usize = 4;
/// How many MPLS label stack entries one frame may carry before decoding gives up.
pub const MAX_MPLS_LABELS: usize = 8;

/// Which IP version a link type promises, when it promises one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IpExpect {
    Any,
    V4,
    V6,
}

/// What the link layer carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LinkPayload<'a> {
    Ip {
        data: &'a [u8],
        /// Offset of `data` in the frame.
        at: usize,
        vlan: VlanTags,
        expect: IpExpect,
    },
    NonIp(NonIpProtocol),
}

mod ether_type {
    pub const IPV4: u16 = 0x0800;
    pub const IPV6: u16 = 0x86DD;
    pub const VLAN: u16 = 0x8100;
    pub const PROVIDER_BRIDGING: u16 = 0x88A8;
    pub const QINQ_LEGACY: u16 = 0x9100;
    pub const MPLS_UNICAST: u16 = 0x8847;
    pub const MPLS_MULTICAST: u16 = 0x8848;
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// Values below this are IEEE 802.3 lengths, not EtherTypes.
    pub const MIN_ETHER_TYPE: u16 = 0x0600;
}

/// BSD address families in the 4-byte header of LINKTYPE_NULL / LINKTYPE_LOOP.
const AF_INET: u32 = 2;
/// AF_INET6 as NetBSD/OpenBSD (24), FreeBSD (28) and Darwin (30) number it.
const AF_INET6: &[u32] = &[24, 28, 30];

/// PPP protocol numbers (RFC 1332, RFC 5072).
const PPP_IPV4: u16 = 0x0021;
const PPP_IPV6: u16 = 0x0057;

/// ARPHRD_NETLINK: the SLL protocol field is a netlink family, not an EtherType.
const ARPHRD_NETLINK: u16 = 824;

const ETHERNET_HEADER_LEN: usize = 14;
const VLAN_TAG_LEN: usize = 4;
const SLL_HEADER_LEN: usize = 16;
const SLL2_HEADER_LEN: usize = 20;
const NULL_HEADER_LEN: usize = 4;
const PPPOE_HEADER_LEN: usize = 8;

/// Strips the link-layer header(s) of a frame captured with link type `link_type`.
pub(crate) fn decode_link(link_type: u32, frame: &[u8]) -> Result<LinkPayload<'_>, PacketError> {
    match link_type {
        linktype::ETHERNET => {
            need(frame, ETHERNET_HEADER_LEN, Header::Ethernet, 0)?;
            let ether_type = be16(frame, 12);
            dispatch_ether_type(ether_type, frame, ETHERNET_HEADER_LEN)
        }
        linktype::LINUX_SLL => {
            // packet type (2), ARPHRD (2), address length (2), address (8), protocol (2)
            need(frame, SLL_HEADER_LEN, Header::Sll, 0)?;
            let arphrd = be16(frame, 2);
            let protocol = be16(frame, 14);
            cooked(arphrd, protocol, frame, SLL_HEADER_LEN)
        }
        linktype::LINUX_SLL2 => {
            // protocol (2), reserved (2), interface index (4), ARPHRD (2), packet type (1),
            // address length (1), address (8)
            need(frame, SLL2_HEADER_LEN, Header::Sll2, 0)?;
            let protocol = be16(frame, 0);
            let arphrd = be16(frame, 8);
            cooked(arphrd, protocol, frame, SLL2_HEADER_LEN)
        }
        linktype::RAW | linktype::RAW_12 | linktype::RAW_14 => Ok(ip_at(frame, 0, IpExpect::Any)),
        linktype::IPV4 => Ok(ip_at(frame, 0, IpExpect::V4)),
        linktype::IPV6 => Ok(ip_at(frame, 0, IpExpect::V6)),
        linktype::NULL => {
            // The family is in the capturing host's byte order, which the file does not record:
            // a value that does not fit in 16 bits was written big-endian.
            need(frame, NULL_HEADER_LEN, Header::Null, 0)?;
            let little = le32(frame, 0);
            let family = if little > 0xFFFF {
                be32(frame, 0)
            } else {
                little
            };
            Ok(by_family(family, frame))
        }
        linktype::LOOP => {
            need(frame, NULL_HEADER_LEN, Header::Loop, 0)?;
            Ok(by_family(be32(frame, 0), frame))
        }
        other => Err(PacketError::UnsupportedLinkType(other)),
    }
}

fn ip_at(frame: &[u8], at: usize, expect: IpExpect) -> LinkPayload<'_> {
    LinkPayload::Ip {
        data: frame.get(at..).unwrap_or_default(),
        at,
        vlan: VlanTags::default(),
        expect,
    }
}

fn by_family(family: u32, frame: &[u8]) -> LinkPayload<'_> {
    if family == AF_INET {
        ip_at(frame, NULL_HEADER_LEN, IpExpect::V4)
    } else if AF_INET6.contains(&family) {
        ip_at(frame, NULL_HEADER_LEN, IpExpect::V6)
    } else {
        LinkPayload::NonIp(NonIpProtocol::AddressFamily(family))
    }
}

fn cooked(
    arphrd: u16,
    protocol: u16,
    frame: &[u8],
    at: usize,
) -> Result<LinkPayload<'_>, PacketError> {
    if arphrd == ARPHRD_NETLINK {
        return Ok(LinkPayload::NonIp(NonIpProtocol::Netlink));
    }
    dispatch_ether_type(protocol, frame, at)
}

/// Follows VLAN tags, MPLS labels and PPPoE down to IP. `at` is where the payload of the header
/// that announced `ether_type` starts.
fn dispatch_ether_type(
    mut ether_type: u16,
    frame: &[u8],
    mut at: usize,
) -> Result<LinkPayload<'_>, PacketError> {
    let mut vlan = VlanTags::default();
    let mut tags = 0usize;
    loop {
        let payload = frame.get(at..).unwrap_or_default();
        match ether_type {
            ether_type::IPV4 | ether_type::IPV6 => {
                let expect = if ether_type == ether_type::IPV4 {
                    IpExpect::V4
                } else {
                    IpExpect::V6
                };
                return Ok(LinkPayload::Ip {
                    data: payload,
                    at,
                    vlan,
                    expect,
                });
            }
            ether_type::VLAN | ether_type::PROVIDER_BRIDGING | ether_type::QINQ_LEGACY => {
                if tags >= MAX_VLAN_TAGS {
                    return Err(PacketError::TooMany {
                        header: Header::Vlan,
                        at,
                        what: "VLAN tags",
                        max: MAX_VLAN_TAGS,
                    });
                }
                // Tag control information (PCP 3 bits, DEI 1 bit, VID 12 bits), then EtherType.
                need(payload, VLAN_TAG_LEN, Header::Vlan, at)?;
                let vid = be16(payload, 0) & 0x0FFF;
                if vlan.outer.is_none() {
                    vlan.outer = Some(vid);
                } else if vlan.inner.is_none() {
                    vlan.inner = Some(vid);
                }
                tags = tags.saturating_add(1);
                ether_type = be16(payload, 2);
                at = at.saturating_add(VLAN_TAG_LEN);
            }
            ether_type::MPLS_UNICAST | ether_type::MPLS_MULTICAST => {
                return mpls(frame, at, vlan);
            }
            ether_type::PPPOE_SESSION => {
                // ver/type (1), code (1), session id (2), length (2), then the PPP protocol (2).
                need(payload, PPPOE_HEADER_LEN, Header::Pppoe, at)?;
                let ip_at = at.saturating_add(PPPOE_HEADER_LEN);
                let data = frame.get(ip_at..).unwrap_or_default();
                return Ok(match be16(payload, 6) {
                    PPP_IPV4 => LinkPayload::Ip {
                        data,
                        at: ip_at,
                        vlan,
                        expect: IpExpect::V4,
                    },
                    PPP_IPV6 => LinkPayload::Ip {
                        data,
                        at: ip_at,
                        vlan,
                        expect: IpExpect::V6,
                    },
                    other => LinkPayload::NonIp(NonIpProtocol::Ppp(other)),
                });
            }
            t if t < ether_type::MIN_ETHER_TYPE => {
                return Ok(LinkPayload::NonIp(NonIpProtocol::Ieee8023));
            }
            other => return Ok(LinkPayload::NonIp(NonIpProtocol::EtherType(other))),
        }
    }
}

/// RFC 3032 label stack: 4-byte entries until the bottom-of-stack bit; the payload type is not
/// signalled, so it is IP only when the version nibble says so.
fn mpls(frame: &[u8], mut at: usize, vlan: VlanTags) -> Result<LinkPayload<'_>, PacketError> {
    for _ in 0..MAX_MPLS_LABELS {
        let entry = frame.get(at..).unwrap_or_default();
        need(entry, 4, Header::Mpls, at)?;
        let bottom = u8_at(entry, 2) & 0x01 != 0;
        at = at.saturating_add(4);
        if bottom {
            let data = frame.get(at..).unwrap_or_default();
            return Ok(match data.first().map(|b| b >> 4) {
                Some(4) => LinkPayload::Ip {
                    data,
                    at,
                    vlan,
                    expect: IpExpect::V4,
                },
                Some(6) => LinkPayload::Ip {
                    data,
                    at,
                    vlan,
                    expect: IpExpect::V6,
                },
                _ => LinkPayload::NonIp(NonIpProtocol::Mpls),
            });
        }
    }
    Err(PacketError::TooMany {
        header: Header::Mpls,
        at,
        what: "MPLS labels",
        max: MAX_MPLS_LABELS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ethernet_vlan_qinq() {
        let frame = [
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, // dst, src MAC
            0x88, 0xA8, // S-tag
            0x20, 0x64, // PCP 1, VID 100
            0x81, 0x00, // C-tag
            0x00, 0xC8, // VID 200
            0x08, 0x00, // IPv4
            0x45, // first IP byte
        ];
        let got = decode_link(linktype::ETHERNET, &frame).unwrap();
        assert_eq!(
            got,
            LinkPayload::Ip {
                data: &[0x45],
                at: 22,
                vlan: VlanTags {
                    outer: Some(100),
                    inner: Some(200)
                },
                expect: IpExpect::V4,
            }
        );
    }

    #[test]
    fn null_both_byte_orders_and_loop() {
        let le = [2, 0, 0, 0, 0x45];
        let be = [0, 0, 0, 30, 0x60];
        assert!(matches!(
            decode_link(linktype::NULL, &le).unwrap(),
            LinkPayload::Ip {
                expect: IpExpect::V4,
                at: 4,
                ..
            }
        ));
        assert!(matches!(
            decode_link(linktype::NULL, &be).unwrap(),
            LinkPayload::Ip {
                expect: IpExpect::V6,
                at: 4,
                ..
            }
        ));
        assert!(matches!(
            decode_link(linktype::LOOP, &be).unwrap(),
            LinkPayload::Ip {
                expect: IpExpect::V6,
                ..
            }
        ));
        assert_eq!(
            decode_link(linktype::LOOP, &le).unwrap(),
            LinkPayload::NonIp(NonIpProtocol::AddressFamily(0x0200_0000))
        );
    }

    #[test]
    fn sll2_short_names_the_lengths() {
        let err = decode_link(linktype::LINUX_SLL2, &[0; 7]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "sll2 at byte 0: 20 bytes needed, 7 present"
        );
    }

    #[test]
    fn mpls_bottom_of_stack() {
        let frame = [
            0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x88, 0x47, // Ethernet, MPLS
            0x00, 0x01, 0x00, 0x40, // label 16, not bottom
            0x00, 0x02, 0x01, 0x40, // label 32, bottom of stack
            0x60, // IPv6
        ];
        assert!(matches!(
            decode_link(linktype::ETHERNET, &frame).unwrap(),
            LinkPayload::Ip {
                expect: IpExpect::V6,
                at: 22,
                ..
            }
        ));
    }
}
