//! The symmetric flow key: both directions of a conversation map to one [`FlowKey`].
//!
//! A key holds the two transport endpoints in canonical order (the smaller `(ip, port)` first),
//! the IP protocol, the 802.1Q tags and, for traffic carried in GTP-U, the tunnel.
//!
//! **GTP-U tunnels.** A bearer's uplink and downlink G-PDUs carry different TEIDs (each side
//! chooses the TEID it receives on, 3GPP TS 29.281 §5.1), so a key with the TEID in it cannot be
//! symmetric on real traffic. The key therefore holds the outer endpoint pair in canonical order
//! plus the TEID *as carried by the packet*; the flow table pairs the two TEIDs of a bearer
//! when it sees the reverse direction of a flow it already holds (same inner endpoints, same outer
//! pair, opposite outer direction) and then answers to both keys. Two subscribers behind the same
//! tunnel endpoints therefore never mix when their TEIDs differ, and a bearer whose two directions
//! use the same TEID (as lab generators often do) matches directly.
//! [`FlowKey::shard_hash`] leaves the TEID out so both directions of a bearer land in one shard.

use crate::packet::{Packet, Transport, Tunnel, VlanTags};
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, SocketAddr};

/// The transport protocols a flow can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IpProtocol {
    Tcp,
    Udp,
}

impl IpProtocol {
    /// The IP protocol number (RFC 9293, RFC 768).
    pub fn number(self) -> u8 {
        match self {
            IpProtocol::Tcp => 6,
            IpProtocol::Udp => 17,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            IpProtocol::Tcp => "tcp",
            IpProtocol::Udp => "udp",
        }
    }
}

/// One side of a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    pub ip: IpAddr,
    pub port: u16,
}

impl Endpoint {
    pub fn new(ip: IpAddr, port: u16) -> Self {
        Endpoint { ip, port }
    }

    pub fn socket_addr(self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }

    /// `self <= other` in the derived order (IPv4 before IPv6, then address, then port), with
    /// one integer comparison when both are IPv4: keys are put in canonical order per packet.
    #[inline]
    fn precedes_or_equals(&self, other: &Endpoint) -> bool {
        match (self.ip, other.ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let word = |ip: std::net::Ipv4Addr, port: u16| {
                    (u64::from(u32::from(ip)) << 16) | u64::from(port)
                };
                word(a, self.port) <= word(b, other.port)
            }
            _ => self <= other,
        }
    }
}

/// The GTP-U tunnel part of a key: the outer addresses in canonical order and the TEID the packet
/// carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TunnelKey {
    pub lo: IpAddr,
    pub hi: IpAddr,
    pub teid: u32,
}

impl TunnelKey {
    #[inline]
    pub fn new(tunnel: &Tunnel) -> Self {
        let (lo, hi) = if tunnel.outer_src <= tunnel.outer_dst {
            (tunnel.outer_src, tunnel.outer_dst)
        } else {
            (tunnel.outer_dst, tunnel.outer_src)
        };
        TunnelKey {
            lo,
            hi,
            teid: tunnel.teid,
        }
    }
}

/// What identifies a flow, the same for both of its directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowKey {
    /// The smaller endpoint.
    pub lo: Endpoint,
    /// The larger endpoint.
    pub hi: Endpoint,
    pub protocol: IpProtocol,
    pub vlan: VlanTags,
    pub tunnel: Option<TunnelKey>,
}

impl FlowKey {
    /// The key of a conversation between `a` and `b`, whichever of them sent the packet.
    #[inline]
    pub fn new(
        protocol: IpProtocol,
        a: Endpoint,
        b: Endpoint,
        vlan: VlanTags,
        tunnel: Option<&Tunnel>,
    ) -> Self {
        let (lo, hi) = if a.precedes_or_equals(&b) {
            (a, b)
        } else {
            (b, a)
        };
        FlowKey {
            lo,
            hi,
            protocol,
            vlan,
            tunnel: tunnel.map(TunnelKey::new),
        }
    }

    /// The key of a TCP or UDP packet; `None` for other IP protocols.
    #[inline]
    pub fn from_packet(pkt: &Packet<'_>) -> Option<Self> {
        let (protocol, src_port, dst_port) = match &pkt.transport {
            Transport::Tcp(seg) => (IpProtocol::Tcp, seg.src_port, seg.dst_port),
            Transport::Udp(dgram) => (IpProtocol::Udp, dgram.src_port, dgram.dst_port),
            Transport::Other { .. } => return None,
        };
        Some(FlowKey::new(
            protocol,
            Endpoint::new(pkt.src, src_port),
            Endpoint::new(pkt.dst, dst_port),
            pkt.vlan,
            pkt.tunnel.as_ref(),
        ))
    }

    /// The same key with the TEID cleared: what the two directions of a GTP-U bearer share.
    pub fn without_teid(&self) -> Self {
        let mut key = *self;
        if let Some(tunnel) = key.tunnel.as_mut() {
            tunnel.teid = 0;
        }
        key
    }

    /// A fast 64-bit hash, equal for both directions and stable across runs and platforms
    /// (no random seed), for spreading flows over worker threads. The TEID is left out (see the
    /// module documentation) so both directions of a GTP-U bearer hash alike.
    #[inline]
    pub fn shard_hash(&self) -> u64 {
        let mut h = ShardHasher::new();
        self.words(false, |w| h.word(w));
        h.finish()
    }

    /// The key as a few words (the TEID too when `teid`), for hashing. Equal keys give the same
    /// words and different keys different ones: a seeded hash over them leaves a crafted
    /// capture no way to make keys collide for every seed.
    #[inline]
    fn words(&self, teid: bool, mut put: impl FnMut(u64)) {
        // Ports and protocol, the low byte saying which endpoints are IPv6.
        let ports = (u64::from(self.lo.port) << 48)
            | (u64::from(self.hi.port) << 32)
            | (u64::from(self.protocol.number()) << 8);
        match (self.lo.ip, self.hi.ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                put((u64::from(u32::from(a)) << 32) | u64::from(u32::from(b)));
                put(ports | 4);
            }
            (a, b) => {
                put(ports | 0x10 | families(a, b));
                for ip in [a, b] {
                    put(ip_high(ip));
                    put(ip_low(ip));
                }
            }
        }
        let vlan = vlan_word(self.vlan);
        if vlan != 0 {
            put(vlan);
        }
        if let Some(tunnel) = &self.tunnel {
            put(0x20 | families(tunnel.lo, tunnel.hi));
            for ip in [tunnel.lo, tunnel.hi] {
                put(ip_high(ip));
                put(ip_low(ip));
            }
            if teid {
                put(u64::from(tunnel.teid));
            }
        }
    }
}

/// Which of two addresses are IPv6, as two bits.
fn families(a: IpAddr, b: IpAddr) -> u64 {
    u64::from(a.is_ipv6()) | (u64::from(b.is_ipv6()) << 1)
}

/// Hashes a key in a few words rather than field by field (this runs for every packet); keys
/// that are equal write the same words.
impl Hash for FlowKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.words(true, |w| state.write_u64(w));
    }
}

/// The high 64 bits of an address as IPv6 (an IPv4 address as IPv4-mapped).
fn ip_high(ip: IpAddr) -> u64 {
    (ip_bits(ip) >> 64) as u64
}

/// The low 64 bits of an address as IPv6 (an IPv4 address as IPv4-mapped).
fn ip_low(ip: IpAddr) -> u64 {
    ip_bits(ip) as u64
}

fn ip_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn vlan_word(vlan: VlanTags) -> u64 {
    // 0x1_0000 marks a present tag so that "no tag" and "tag 0" differ.
    let tag = |t: Option<u16>| t.map_or(0u64, |v| 0x1_0000 | u64::from(v));
    (tag(vlan.outer) << 32) | tag(vlan.inner)
}

/// A multiply-xorshift mixer over 64-bit words (constants from splitmix64).
struct ShardHasher(u64);

impl ShardHasher {
    fn new() -> Self {
        ShardHasher(0x243F_6A88_85A3_08D3)
    }

    fn word(&mut self, w: u64) {
        let x = (self.0 ^ w).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 = x ^ (x >> 31);
    }

    fn finish(&self) -> u64 {
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn ep(last: u8, port: u16) -> Endpoint {
        Endpoint::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, last)), port)
    }

    fn tunnel(src: u8, dst: u8, teid: u32) -> Tunnel {
        Tunnel {
            teid,
            outer_src: IpAddr::V4(Ipv4Addr::new(198, 51, 100, src)),
            outer_dst: IpAddr::V4(Ipv4Addr::new(198, 51, 100, dst)),
        }
    }

    #[test]
    fn both_directions_share_a_key_and_hash() {
        let vlan = VlanTags {
            outer: Some(10),
            inner: Some(20),
        };
        let t_up = tunnel(1, 2, 7);
        let t_down = tunnel(2, 1, 7);
        let up = FlowKey::new(IpProtocol::Tcp, ep(1, 40000), ep(2, 80), vlan, Some(&t_up));
        let down = FlowKey::new(
            IpProtocol::Tcp,
            ep(2, 80),
            ep(1, 40000),
            vlan,
            Some(&t_down),
        );
        assert_eq!(up, down);
        assert_eq!(up.shard_hash(), down.shard_hash());
    }

    #[test]
    fn teid_splits_keys_but_not_shards() {
        let a = FlowKey::new(
            IpProtocol::Udp,
            ep(1, 9200),
            ep(2, 50000),
            VlanTags::default(),
            Some(&tunnel(1, 2, 100)),
        );
        let b = FlowKey::new(
            IpProtocol::Udp,
            ep(2, 50000),
            ep(1, 9200),
            VlanTags::default(),
            Some(&tunnel(2, 1, 200)),
        );
        assert_ne!(a, b);
        assert_eq!(a.without_teid(), b.without_teid());
        assert_eq!(a.shard_hash(), b.shard_hash());
    }

    #[test]
    fn hash_is_stable_and_separates_fields() {
        let base = FlowKey::new(
            IpProtocol::Tcp,
            ep(1, 1),
            ep(2, 2),
            VlanTags::default(),
            None,
        );
        // A fixed value: the hash must not change between runs or builds.
        assert_eq!(base.shard_hash(), 15_899_511_451_168_946_152);
        let udp = FlowKey {
            protocol: IpProtocol::Udp,
            ..base
        };
        let tagged = FlowKey {
            vlan: VlanTags {
                outer: Some(0),
                inner: None,
            },
            ..base
        };
        assert_ne!(base.shard_hash(), udp.shard_hash());
        assert_ne!(base.shard_hash(), tagged.shard_hash());
    }

    #[test]
    fn fast_endpoint_order_is_the_derived_order() {
        let v6 =
            |last: u16| IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last));
        let v4 = |a: u8, b: u8| IpAddr::V4(Ipv4Addr::new(a, b, 2, 1));
        let ips = [
            v4(192, 0),
            v4(192, 1),
            v4(198, 51),
            v4(203, 0),
            v4(0, 0),
            v4(255, 255),
            v6(1),
            v6(2),
        ];
        let ports = [0u16, 1, 80, 443, 65535];
        for &a in &ips {
            for &b in &ips {
                for &p in &ports {
                    for &q in &ports {
                        let (x, y) = (Endpoint::new(a, p), Endpoint::new(b, q));
                        assert_eq!(x.precedes_or_equals(&y), x <= y, "{x:?} {y:?}");
                    }
                }
            }
        }
    }

    /// The words a key hashes as, recorded.
    fn hashed_words(key: &FlowKey) -> Vec<u64> {
        #[derive(Default)]
        struct Record(Vec<u64>);
        impl Hasher for Record {
            fn finish(&self) -> u64 {
                0
            }
            fn write(&mut self, _: &[u8]) {
                unreachable!("keys hash as words")
            }
            fn write_u64(&mut self, w: u64) {
                self.0.push(w);
            }
        }
        let mut r = Record::default();
        key.hash(&mut r);
        r.0
    }

    /// Regression: IPv6 addresses were folded into one word by XOR, so a capture could make any
    /// number of distinct flows hash alike whatever the seed (a flow table slowed to a crawl).
    #[test]
    fn different_keys_hash_as_different_words() {
        let v6 = |high: u64, low: u64| {
            IpAddr::V6(std::net::Ipv6Addr::from(
                (u128::from(high) << 64) | u128::from(low),
            ))
        };
        let mut keys = Vec::new();
        // Upper halves whose XOR (with the old rotation) is the same for every pair.
        for i in 0..64u64 {
            let hi = 0x2001_0db8_0000_0000 | i;
            let lo = 0x2001_0db8_0000_0100 ^ i.rotate_left(32);
            keys.push(FlowKey::new(
                IpProtocol::Tcp,
                Endpoint::new(v6(lo, 1), 443),
                Endpoint::new(v6(hi, 2), 50000),
                VlanTags::default(),
                None,
            ));
        }
        // An IPv4 address against the same address IPv4-mapped, as endpoint and as tunnel end.
        let v4 = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped());
        let other = v6(0x2001_0db8_0000_0000, 9);
        for ip in [v4, mapped] {
            keys.push(FlowKey::new(
                IpProtocol::Udp,
                Endpoint::new(ip, 1),
                Endpoint::new(other, 2),
                VlanTags::default(),
                None,
            ));
            let t = Tunnel {
                teid: 5,
                outer_src: ip,
                outer_dst: other,
            };
            keys.push(FlowKey::new(
                IpProtocol::Udp,
                ep(1, 1),
                ep(2, 2),
                VlanTags::default(),
                Some(&t),
            ));
        }
        let words: std::collections::HashSet<Vec<u64>> = keys.iter().map(hashed_words).collect();
        assert_eq!(words.len(), keys.len());
    }

    #[test]
    fn equal_keys_hash_alike_whatever_the_direction() {
        use std::hash::BuildHasher;
        let state = foldhash::fast::RandomState::default();
        let v6 =
            |last: u16| IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last));
        let a = Endpoint::new(v6(1), 5000);
        let b = Endpoint::new(v6(2), 80);
        let t = tunnel(1, 2, 9);
        let vlan = VlanTags {
            outer: Some(7),
            inner: None,
        };
        let up = FlowKey::new(IpProtocol::Tcp, a, b, vlan, Some(&t));
        let down = FlowKey::new(IpProtocol::Tcp, b, a, vlan, Some(&t));
        assert_eq!(up, down);
        assert_eq!(state.hash_one(up), state.hash_one(down));
        // Fields the words carry separate keys.
        let other_port = FlowKey::new(
            IpProtocol::Tcp,
            Endpoint::new(v6(1), 5001),
            b,
            vlan,
            Some(&t),
        );
        let other_teid = FlowKey::new(IpProtocol::Tcp, a, b, vlan, Some(&tunnel(1, 2, 10)));
        assert_ne!(state.hash_one(up), state.hash_one(other_port));
        assert_ne!(state.hash_one(up), state.hash_one(other_teid));
        assert_ne!(up.shard_hash(), other_port.shard_hash());
    }
}
