//! What the end of a run needs of a transfer to tie it into messages and apply the message rules
//! — its PDUs' types, frames and keys, its request, its client — as a small blob kept beside the
//! transfer (see `crate::spill`) and read back at the end, so that millions of transfers can be
//! reported without holding them in memory.

use super::TransferRecord;
use crate::spill::{BlobReader, put_ip, put_opt_str, put_timestamp, put_u32};
use crate::time::Timestamp;
use sha2::{Digest, Sha256};
use std::net::IpAddr;

/// What a PDU is, as far as correlation and the message rules care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    Notification,
    RetrieveConf,
    Other,
}

impl NodeKind {
    fn of(message_type: &str) -> NodeKind {
        match message_type {
            "m-notification-ind" => NodeKind::Notification,
            "m-retrieve-conf" => NodeKind::RetrieveConf,
            _ => NodeKind::Other,
        }
    }
}

/// One PDU of a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PduFacts {
    pub frame: u64,
    pub kind: NodeKind,
    pub to_client: bool,
    pub message_type: String,
    pub transaction_id: Option<String>,
    pub message_id: Option<String>,
    pub content_location: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestFacts {
    pub uri: String,
    /// The request's first frame (the transfer's first frame when it has none).
    pub frame: u64,
}

/// A PDU's facts, borrowed, as [`encode_facts`] writes them.
struct PduFactsRef<'a> {
    frame: u64,
    to_client: bool,
    message_type: &'a str,
    transaction_id: Option<&'a str>,
    message_id: Option<&'a str>,
    content_location: Option<&'a str>,
}

/// The blob [`TransferFacts::decode`] reads.
fn encode_facts<'a>(
    buf: &mut Vec<u8>,
    start: Timestamp,
    input_index: u32,
    first_frame: u64,
    client_ip: IpAddr,
    pdus: impl ExactSizeIterator<Item = PduFactsRef<'a>>,
    request: Option<(u64, &str)>,
) {
    put_timestamp(buf, start);
    put_u32(buf, input_index);
    buf.extend_from_slice(&first_frame.to_le_bytes());
    put_ip(buf, client_ip);
    put_u32(buf, u32::try_from(pdus.len()).unwrap_or(u32::MAX));
    for p in pdus {
        buf.extend_from_slice(&p.frame.to_le_bytes());
        buf.push(u8::from(p.to_client));
        put_opt_str(buf, Some(p.message_type));
        put_opt_str(buf, p.transaction_id);
        put_opt_str(buf, p.message_id);
        put_opt_str(buf, p.content_location);
    }
    match request {
        Some((frame, uri)) => {
            buf.push(1);
            buf.extend_from_slice(&frame.to_le_bytes());
            put_opt_str(buf, Some(uri));
        }
        None => buf.push(0),
    }
}

/// The facts of one transfer that messages are made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferFacts {
    pub start: Timestamp,
    pub input_index: u32,
    pub first_frame: u64,
    pub client_ip: IpAddr,
    pub pdus: Vec<PduFacts>,
    pub request: Option<RequestFacts>,
}

impl TransferFacts {
    pub fn of(t: &TransferRecord) -> TransferFacts {
        let tr = &t.transfer;
        TransferFacts {
            start: t.start,
            input_index: u32::try_from(t.input_index).unwrap_or(u32::MAX),
            first_frame: tr.first_frame,
            client_ip: tr.client.ip,
            pdus: tr
                .pdus
                .iter()
                .map(|p| PduFacts {
                    frame: p.frame,
                    kind: NodeKind::of(&p.message_type),
                    to_client: p.direction == "to-client",
                    message_type: p.message_type.clone(),
                    transaction_id: p.transaction_id.clone(),
                    message_id: p.message_id.clone(),
                    content_location: p.content_location.clone(),
                })
                .collect(),
            request: tr.request.as_ref().map(|r| RequestFacts {
                uri: r.uri.clone(),
                frame: r.frames.first().copied().unwrap_or(tr.first_frame),
            }),
        }
    }

    /// True when a PDU of this transfer is an m-retrieve-conf sent to the client.
    pub fn carries_retrieve_conf(&self) -> bool {
        self.pdus
            .iter()
            .any(|p| p.kind == NodeKind::RetrieveConf && p.to_client)
    }

    pub fn encode(&self, buf: &mut Vec<u8>) {
        encode_facts(
            buf,
            self.start,
            self.input_index,
            self.first_frame,
            self.client_ip,
            self.pdus.iter().map(|p| PduFactsRef {
                frame: p.frame,
                to_client: p.to_client,
                message_type: &p.message_type,
                transaction_id: p.transaction_id.as_deref(),
                message_id: p.message_id.as_deref(),
                content_location: p.content_location.as_deref(),
            }),
            self.request.as_ref().map(|r| (r.frame, r.uri.as_str())),
        );
    }

    /// `TransferFacts::of(t).encode(buf)` without building the facts (no string copied).
    pub fn encode_of(t: &TransferRecord, buf: &mut Vec<u8>) {
        let tr = &t.transfer;
        encode_facts(
            buf,
            t.start,
            u32::try_from(t.input_index).unwrap_or(u32::MAX),
            tr.first_frame,
            tr.client.ip,
            tr.pdus.iter().map(|p| PduFactsRef {
                frame: p.frame,
                to_client: p.direction == "to-client",
                message_type: &p.message_type,
                transaction_id: p.transaction_id.as_deref(),
                message_id: p.message_id.as_deref(),
                content_location: p.content_location.as_deref(),
            }),
            tr.request.as_ref().map(|r| {
                (
                    r.frames.first().copied().unwrap_or(tr.first_frame),
                    r.uri.as_str(),
                )
            }),
        );
    }

    /// Reads what [`TransferFacts::encode`] wrote; None when the bytes are cut.
    pub fn decode(bytes: &[u8]) -> Option<TransferFacts> {
        let mut r = BlobReader::new(bytes);
        let start = r.timestamp()?;
        let input_index = r.u32()?;
        let first_frame = r.u64()?;
        let client_ip = r.ip()?;
        let n = r.u32()?;
        let mut pdus = Vec::new();
        for _ in 0..n {
            let frame = r.u64()?;
            let to_client = *r.bytes(1)?.first()? == 1;
            let message_type = r.opt_str()?.unwrap_or_default();
            pdus.push(PduFacts {
                frame,
                kind: NodeKind::of(&message_type),
                to_client,
                message_type,
                transaction_id: r.opt_str()?,
                message_id: r.opt_str()?,
                content_location: r.opt_str()?,
            });
        }
        let request = match r.bytes(1)?.first()? {
            1 => {
                let frame = r.u64()?;
                Some(RequestFacts {
                    uri: r.opt_str()?.unwrap_or_default(),
                    frame,
                })
            }
            _ => None,
        };
        Some(TransferFacts {
            start,
            input_index,
            first_frame,
            client_ip,
            pdus,
            request,
        })
    }
}

/// What correlation needs of a transfer: its facts with every key already digested. Taking
/// the digests (SHA-256, URL normalisation) is most of correlation's work, and it is per
/// transfer, so it is done where the facts are read (in parallel), leaving only the joins to
/// the sequential union-find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferKeys {
    pub start: Timestamp,
    pub input_index: u32,
    pub pdus: Vec<PduKeys>,
    /// The request's content-location digest and first frame.
    pub request: Option<(u128, u64)>,
    /// See [`TransferFacts::carries_retrieve_conf`].
    pub answered: bool,
}

/// One PDU's place and keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PduKeys {
    pub frame: u64,
    pub kind: NodeKind,
    pub transaction: Option<u128>,
    pub message: Option<u128>,
    pub location: Option<u128>,
}

impl TransferKeys {
    pub fn of(f: &TransferFacts) -> TransferKeys {
        TransferKeys {
            start: f.start,
            input_index: f.input_index,
            pdus: f
                .pdus
                .iter()
                .map(|p| PduKeys {
                    frame: p.frame,
                    kind: p.kind,
                    transaction: p.transaction_id.as_deref().map(|t| key_digest(b't', t)),
                    message: p.message_id.as_deref().map(|m| key_digest(b'm', m)),
                    location: p.content_location.as_deref().map(location_digest),
                })
                .collect(),
            request: f
                .request
                .as_ref()
                .map(|r| (location_digest(&r.uri), r.frame)),
            answered: f.carries_retrieve_conf(),
        }
    }
}

/// A correlation key's digest: the first 128 bits of SHA-256 over the key's kind and text, so
/// that no capture can make two keys collide.
pub fn key_digest(kind: u8, s: &str) -> u128 {
    let mut h = Sha256::new();
    h.update([kind]);
    h.update(s.as_bytes());
    let out = h.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(out.get(..16).unwrap_or(&[0; 16]));
    u128::from_le_bytes(first)
}

/// The key of a content location or request URI, after normalisation.
pub fn location_digest(url: &str) -> u128 {
    key_digest(b'l', &super::correlate::location_key(url))
}

/// What orders transfers that start and end in the same frames: a digest of the endpoints, the
/// first PDU's frame and the request line.
pub fn tiebreak(t: &TransferRecord) -> u64 {
    let tr = &t.transfer;
    /// Feeds formatted text straight to the digest (no string built per transfer).
    struct Feed<'h>(&'h mut Sha256);
    impl std::fmt::Write for Feed<'_> {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0.update(s.as_bytes());
            Ok(())
        }
    }
    let mut h = Sha256::new();
    // Writing to the digest cannot fail.
    let _ = std::fmt::Write::write_fmt(
        &mut Feed(&mut h),
        format_args!(
            "{}|{}|{}|{}|{:?}|",
            tr.client.ip,
            tr.client.port,
            tr.server.ip,
            tr.server.port,
            tr.pdus.first().map(|p| p.frame)
        ),
    );
    if let Some(r) = &tr.request {
        h.update(r.method.as_bytes());
        h.update(b" ");
        h.update(r.uri.as_bytes());
    }
    let out = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(out.get(..8).unwrap_or(&[0; 8]));
    u64::from_be_bytes(first)
}

/// A TLS connection that is reported only if its server turns out to be an MMSC, which the end
/// of its input decides: until then it waits in the spill as this blob rather than as its report
/// (most such connections are web traffic and never reported). It holds what
/// `Builder::tls` sets, and [`decode_pending_tls`] builds the same transfer again. `false` (and
/// nothing written) for a transfer with more than that in it.
pub fn encode_pending_tls(t: &TransferRecord, buf: &mut Vec<u8>) -> bool {
    let tr = &t.transfer;
    let tls_only = tr.transport == "tls"
        && tr.request.is_none()
        && tr.response.is_none()
        && tr.pdus.is_empty()
        && tr.id.is_empty()
        && tr.tunnel.as_ref().is_none_or(|k| k.kind == "gtp-u")
        && t.parts.is_empty()
        && t.texts.is_empty()
        && t.details.is_empty()
        && t.pdu_bytes.is_empty();
    if !tls_only {
        return false;
    }
    put_timestamp(buf, t.start);
    put_timestamp(buf, t.end);
    put_u32(buf, u32::try_from(t.input_index).unwrap_or(u32::MAX));
    for e in [&tr.client, &tr.server] {
        put_ip(buf, e.ip);
        buf.extend_from_slice(&e.port.to_le_bytes());
    }
    match &tr.tunnel {
        Some(k) => {
            buf.push(1);
            put_u32(buf, k.teid);
            put_ip(buf, k.outer_client);
            put_ip(buf, k.outer_server);
        }
        None => buf.push(0),
    }
    buf.extend_from_slice(&tr.first_frame.to_le_bytes());
    buf.extend_from_slice(&tr.last_frame.to_le_bytes());
    buf.push(u8::from(tr.encrypted) | (u8::from(tr.complete) << 1));
    put_opt_str(buf, tr.sni.as_deref());
    put_opt_str(buf, tr.tls_version.as_deref());
    let frames = u32::try_from(tr.handshake_frames.len()).unwrap_or(u32::MAX);
    put_u32(buf, frames);
    for f in tr.handshake_frames.iter().take(frames as usize) {
        buf.extend_from_slice(&f.to_le_bytes());
    }
    true
}

/// The transfer [`encode_pending_tls`] wrote, from input `input`; `None` when the blob is cut.
pub fn decode_pending_tls(bytes: &[u8], input: &str) -> Option<TransferRecord> {
    use crate::report::model::{Endpoint, Transfer, TunnelReport};
    let mut r = BlobReader::new(bytes);
    let (start, end) = (r.timestamp()?, r.timestamp()?);
    let input_index = r.u32()? as usize;
    let endpoint = |r: &mut BlobReader<'_>| -> Option<Endpoint> {
        let ip = r.ip()?;
        let port = u16::from_le_bytes(r.bytes(2)?.try_into().ok()?);
        Some(Endpoint { ip, port })
    };
    let client = endpoint(&mut r)?;
    let server = endpoint(&mut r)?;
    let tunnel = match r.bytes(1)?.first()? {
        1 => Some(TunnelReport {
            kind: "gtp-u",
            teid: r.u32()?,
            outer_client: r.ip()?,
            outer_server: r.ip()?,
        }),
        _ => None,
    };
    let first_frame = r.u64()?;
    let last_frame = r.u64()?;
    let flags = *r.bytes(1)?.first()?;
    let sni = r.opt_str()?;
    let tls_version = r.opt_str()?;
    let n = r.u32()?;
    let mut handshake_frames = Vec::new();
    for _ in 0..n {
        handshake_frames.push(r.u64()?);
    }
    Some(TransferRecord {
        transfer: Transfer {
            id: String::new(),
            input: input.to_owned(),
            transport: "tls",
            client,
            server,
            tunnel,
            first_frame,
            last_frame,
            start: start.to_rfc3339(),
            end: end.to_rfc3339(),
            encrypted: flags & 1 != 0,
            complete: flags & 2 != 0,
            sni,
            tls_version,
            handshake_frames,
            request: None,
            response: None,
            pdus: Vec::new(),
        },
        start,
        end,
        input_index,
        parts: Vec::new(),
        texts: Vec::new(),
        details: Vec::new(),
        pdu_bytes: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The facts of a retrieval: one m-retrieve-conf (frame 9) answering a GET (frame 5).
    fn retrieval(message_id: Option<&str>, uri: &str) -> TransferFacts {
        TransferFacts {
            start: Timestamp::new(1_700_000_000, 0, 6),
            input_index: 1,
            first_frame: 4,
            client_ip: "192.0.2.7".parse().unwrap(),
            pdus: vec![PduFacts {
                frame: 9,
                kind: NodeKind::RetrieveConf,
                to_client: true,
                message_type: "m-retrieve-conf".into(),
                transaction_id: Some("t1".into()),
                message_id: message_id.map(str::to_owned),
                content_location: Some("http://mmsc.example.com/a".into()),
            }],
            request: Some(RequestFacts {
                uri: uri.into(),
                frame: 5,
            }),
        }
    }

    #[test]
    fn facts_round_trip() {
        let f = TransferFacts {
            start: Timestamp::new(1_700_000_000, 123_456_000, 6),
            client_ip: "2001:db8::5".parse().unwrap(),
            ..retrieval(None, "http://mmsc.example.com/a")
        };
        let mut buf = Vec::new();
        f.encode(&mut buf);
        assert_eq!(TransferFacts::decode(&buf), Some(f.clone()));
        assert!(TransferFacts::decode(&buf[..buf.len() - 1]).is_none());
        let v4 = TransferFacts {
            client_ip: "192.0.2.7".parse().unwrap(),
            request: None,
            pdus: vec![],
            ..f
        };
        buf.clear();
        v4.encode(&mut buf);
        assert_eq!(TransferFacts::decode(&buf), Some(v4));
    }

    /// The keys correlation joins on are the digests of the facts' keys, the request's URI
    /// normalised like a content location, so a request matches the location it fetches.
    #[test]
    fn keys_are_the_digests_of_the_facts() {
        let f = retrieval(Some("m1"), "HTTP://MMSC.example.com:80/a");
        let k = TransferKeys::of(&f);
        assert_eq!((k.start, k.input_index), (f.start, 1));
        assert!(k.answered);
        let p = k.pdus[0];
        assert_eq!((p.frame, p.kind), (9, NodeKind::RetrieveConf));
        assert_eq!(p.transaction, Some(key_digest(b't', "t1")));
        assert_eq!(p.message, Some(key_digest(b'm', "m1")));
        // A transaction id and a message id with the same text are different keys.
        assert_ne!(key_digest(b't', "x"), key_digest(b'm', "x"));
        assert_eq!(k.request, Some((p.location.unwrap(), 5)));
        let sent = TransferFacts {
            pdus: vec![PduFacts {
                to_client: false,
                transaction_id: None,
                message_id: None,
                content_location: None,
                ..f.pdus[0].clone()
            }],
            request: None,
            ..f
        };
        let k = TransferKeys::of(&sent);
        assert!(!k.answered);
        assert_eq!(k.request, None);
        assert_eq!(
            (k.pdus[0].transaction, k.pdus[0].message, k.pdus[0].location),
            (None, None, None)
        );
    }

    fn tls_record(tunnel: bool) -> TransferRecord {
        use crate::report::model::{Endpoint, Transfer, TunnelReport};
        let start = Timestamp {
            secs: 1_700_000_000,
            nanos: 123_456_000,
            digits: 6,
        };
        let end = Timestamp {
            secs: 1_700_000_002,
            nanos: 5,
            digits: 9,
        };
        TransferRecord {
            transfer: Transfer {
                id: String::new(),
                input: "in.pcap".into(),
                transport: "tls",
                client: Endpoint {
                    ip: "198.51.100.7".parse().unwrap(),
                    port: 50123,
                },
                server: Endpoint {
                    ip: "2001:db8::44".parse().unwrap(),
                    port: 443,
                },
                tunnel: tunnel.then(|| TunnelReport {
                    kind: "gtp-u",
                    teid: 0xdead_beef,
                    outer_client: "192.0.2.1".parse().unwrap(),
                    outer_server: "192.0.2.2".parse().unwrap(),
                }),
                first_frame: 10,
                last_frame: 42,
                start: start.to_rfc3339(),
                end: end.to_rfc3339(),
                encrypted: true,
                complete: !tunnel,
                sni: tunnel.then(|| "edge.example.net".to_owned()),
                tls_version: Some("TLS 1.1".into()),
                handshake_frames: vec![12, 14],
                request: None,
                response: None,
                pdus: Vec::new(),
            },
            start,
            end,
            input_index: 3,
            parts: Vec::new(),
            texts: Vec::new(),
            details: Vec::new(),
            pdu_bytes: Vec::new(),
        }
    }

    #[test]
    fn pending_tls_comes_back_as_it_was() {
        for tunnel in [false, true] {
            let t = tls_record(tunnel);
            let mut buf = vec![0xAA];
            assert!(encode_pending_tls(&t, &mut buf));
            let back = decode_pending_tls(&buf[1..], "in.pcap").unwrap();
            assert_eq!(back, t);
            // Cut anywhere, it is refused rather than misread.
            for cut in 1..buf.len() - 1 {
                assert!(
                    decode_pending_tls(&buf[1..cut], "in.pcap").is_none(),
                    "{cut}"
                );
            }
        }
    }

    #[test]
    fn only_a_bare_tls_transfer_is_kept_pending() {
        let mut t = tls_record(false);
        t.transfer.transport = "http";
        let mut buf = Vec::new();
        assert!(!encode_pending_tls(&t, &mut buf));
        let mut t = tls_record(false);
        t.texts.push((0, 0, "x".into()));
        assert!(!encode_pending_tls(&t, &mut buf));
        assert!(buf.is_empty());
    }
}
