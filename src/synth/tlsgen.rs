//! TLS handshake messages written byte by byte (RFC 8446 §4.1.2–4.1.3, RFC 5246 §7.4.1): a
//! ClientHello with server_name, supported_versions, ALPN, groups, signature algorithms and a key
//! share; the matching ServerHello; and opaque records that stand for encrypted traffic.

use super::Rng;

fn u16be(v: usize) -> [u8; 2] {
    (v.min(0xFFFF) as u16).to_be_bytes()
}

fn u24be(v: usize) -> [u8; 3] {
    let b = (v.min(0xFF_FFFF) as u32).to_be_bytes();
    [b[1], b[2], b[3]]
}

fn random(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| rng.below(256) as u8).collect()
}

fn extension(out: &mut Vec<u8>, kind: u16, body: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&u16be(body.len()));
    out.extend_from_slice(body);
}

/// A record: content type, legacy record version, length, fragment.
pub fn record(content_type: u8, version: u16, fragment: &[u8]) -> Vec<u8> {
    let mut r = vec![content_type];
    r.extend_from_slice(&version.to_be_bytes());
    r.extend_from_slice(&u16be(fragment.len()));
    r.extend_from_slice(fragment);
    r
}

fn handshake(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut h = vec![msg_type];
    h.extend_from_slice(&u24be(body.len()));
    h.extend_from_slice(body);
    h
}

/// The protocol version a connection negotiates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsVersion {
    Tls11,
    Tls12,
    Tls13,
}

impl TlsVersion {
    pub fn wire(self) -> u16 {
        match self {
            TlsVersion::Tls11 => 0x0302,
            TlsVersion::Tls12 => 0x0303,
            TlsVersion::Tls13 => 0x0304,
        }
    }

    /// As reports name it.
    pub fn label(self) -> &'static str {
        match self {
            TlsVersion::Tls11 => "TLS 1.1",
            TlsVersion::Tls12 => "TLS 1.2",
            TlsVersion::Tls13 => "TLS 1.3",
        }
    }
}

/// The ClientHello record a client offering up to `max` sends to `sni`.
pub fn client_hello(rng: &mut Rng, sni: &str, max: TlsVersion, alpn: &[&str]) -> Vec<u8> {
    let legacy = max.wire().min(0x0303);
    let mut body = Vec::new();
    body.extend_from_slice(&legacy.to_be_bytes());
    body.extend(random(rng, 32));
    body.push(32);
    body.extend(random(rng, 32));
    let suites: &[u16] = match max {
        TlsVersion::Tls13 => &[0x1301, 0x1302, 0x1303, 0xC02F, 0xC030],
        TlsVersion::Tls12 => &[0xC02F, 0xC030, 0x009E],
        TlsVersion::Tls11 => &[0xC013, 0x002F, 0x0035],
    };
    body.extend_from_slice(&u16be(suites.len() * 2));
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null
    let mut ext = Vec::new();
    // server_name (RFC 6066 §3): one host_name entry.
    let mut sn = Vec::new();
    sn.extend_from_slice(&u16be(sni.len() + 3));
    sn.push(0);
    sn.extend_from_slice(&u16be(sni.len()));
    sn.extend_from_slice(sni.as_bytes());
    extension(&mut ext, 0x0000, &sn);
    // supported_groups: x25519, secp256r1.
    extension(&mut ext, 0x000A, &[0, 4, 0x00, 0x1D, 0x00, 0x17]);
    // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256.
    extension(
        &mut ext,
        0x000D,
        &[0, 6, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01],
    );
    if !alpn.is_empty() {
        let mut list = Vec::new();
        for p in alpn {
            list.push(p.len() as u8);
            list.extend_from_slice(p.as_bytes());
        }
        let mut a = u16be(list.len()).to_vec();
        a.extend(list);
        extension(&mut ext, 0x0010, &a);
    }
    if max == TlsVersion::Tls13 {
        extension(&mut ext, 0x002B, &[4, 0x03, 0x04, 0x03, 0x03]);
        let mut ks = Vec::new();
        ks.extend_from_slice(&u16be(36));
        ks.extend_from_slice(&[0x00, 0x1D, 0x00, 0x20]);
        ks.extend(random(rng, 32));
        extension(&mut ext, 0x0033, &ks);
    }
    body.extend_from_slice(&u16be(ext.len()));
    body.extend(ext);
    record(0x16, 0x0301, &handshake(1, &body))
}

/// The ServerHello record choosing `version` (and `alpn` when given).
pub fn server_hello(rng: &mut Rng, version: TlsVersion, alpn: Option<&str>) -> Vec<u8> {
    let legacy = version.wire().min(0x0303);
    let mut body = Vec::new();
    body.extend_from_slice(&legacy.to_be_bytes());
    body.extend(random(rng, 32));
    body.push(32);
    body.extend(random(rng, 32));
    let suite: u16 = match version {
        TlsVersion::Tls13 => 0x1301,
        TlsVersion::Tls12 => 0xC02F,
        TlsVersion::Tls11 => 0xC013,
    };
    body.extend_from_slice(&suite.to_be_bytes());
    body.push(0);
    let mut ext = Vec::new();
    if version == TlsVersion::Tls13 {
        extension(&mut ext, 0x002B, &[0x03, 0x04]);
        let mut ks = vec![0x00, 0x1D, 0x00, 0x20];
        ks.extend(random(rng, 32));
        extension(&mut ext, 0x0033, &ks);
    } else if let Some(p) = alpn {
        let mut a = u16be(p.len() + 1).to_vec();
        a.push(p.len() as u8);
        a.extend_from_slice(p.as_bytes());
        extension(&mut ext, 0x0010, &a);
    }
    if !ext.is_empty() {
        body.extend_from_slice(&u16be(ext.len()));
        body.extend(ext);
    }
    record(0x16, legacy, &handshake(2, &body))
}

/// What follows the hellos until application data: for TLS 1.3 a compatibility
/// ChangeCipherSpec and encrypted handshake records; before 1.3 ChangeCipherSpec and an
/// encrypted Finished.
pub fn after_hello(rng: &mut Rng, version: TlsVersion) -> Vec<u8> {
    let legacy = version.wire().min(0x0303);
    let mut out = record(0x14, legacy, &[1]);
    let len = rng.range(600, 1800) as usize;
    let (ct, n) = match version {
        TlsVersion::Tls13 => (0x17, len),
        _ => (0x16, 40),
    };
    out.extend(record(ct, legacy, &random(rng, n)));
    out
}

/// One opaque application-data record of about `len` octets.
pub fn app_data(rng: &mut Rng, version: TlsVersion, len: usize) -> Vec<u8> {
    record(0x17, version.wire().min(0x0303), &random(rng, len.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::tls::looks_like_tls;

    #[test]
    fn hellos_look_like_tls() {
        let mut rng = Rng::new(1);
        let ch = client_hello(
            &mut rng,
            "mms.example.com",
            TlsVersion::Tls13,
            &["http/1.1"],
        );
        assert!(looks_like_tls(&ch));
        assert_eq!(ch[5], 1);
        let len = u16::from_be_bytes([ch[3], ch[4]]) as usize;
        assert_eq!(ch.len(), 5 + len);
        let sh = server_hello(&mut rng, TlsVersion::Tls11, None);
        assert_eq!(&sh[..3], &[0x16, 0x03, 0x02]);
        assert_eq!(sh[5], 2);
    }
}
