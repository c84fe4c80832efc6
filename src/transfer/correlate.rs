//! Ties the PDUs of one MMS together across transfers and transports.
//!
//! Keys (OMA-TS-MMS-ENC 6): the transaction id pairs a request with its confirmation
//! (send-req/send-conf, notification-ind/notifyresp-ind, retrieve-conf/acknowledge-ind); the message
//! id ties a sent or retrieved message to its delivery and read reports; the content location ties
//! a notification to the request that fetches it and to the retrieve-conf that answers. PDUs and
//! transfers sharing any key end up in one message (union-find).

use super::TransferRecord;
use super::entry::{NodeKind, TransferFacts, TransferKeys};
use crate::report::model::{Message, TimelineEntry};
use crate::time::Timestamp;
use std::collections::{HashMap, HashSet};

/// A content location as a comparison key: scheme and host lower-cased, no fragment, no default
/// port, so `HTTP://MMSC.example.com:80/x` and `http://mmsc.example.com/x` match.
pub fn location_key(url: &str) -> String {
    let url = url.trim();
    let url = url.split('#').next().unwrap_or(url);
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) => (rest.get(..i).unwrap_or(rest), rest.get(i..).unwrap_or("")),
        None => (rest, ""),
    };
    let host = authority
        .rsplit('@')
        .next()
        .unwrap_or(authority)
        .to_ascii_lowercase();
    let host = match (scheme.as_str(), host.rsplit_once(':')) {
        ("http", Some((h, "80"))) | ("https", Some((h, "443"))) => h.to_owned(),
        _ => host,
    };
    let path = if path.is_empty() { "/" } else { path };
    format!("{scheme}://{host}{path}")
}

/// Union-find over node indices (u32: the end of a run holds one per PDU of the whole report).
struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    fn new() -> Self {
        UnionFind { parent: Vec::new() }
    }

    fn push(&mut self) {
        let n = self.parent.len() as u32;
        self.parent.push(n);
    }

    fn find(&mut self, x: usize) -> usize {
        // Iterative with path halving: bounded by the tree height, no recursion.
        let mut x = x as u32;
        while let Some(&p) = self.parent.get(x as usize) {
            if p == x {
                break;
            }
            let gp = self.parent.get(p as usize).copied().unwrap_or(p);
            if let Some(slot) = self.parent.get_mut(x as usize) {
                *slot = gp;
            }
            x = gp;
        }
        x as usize
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            if let Some(slot) = self.parent.get_mut(hi) {
                *slot = lo as u32;
            }
        }
    }
}

/// A 128-bit key digest as two words: a map entry of it and a `u32` takes 24 bytes, where a
/// `u128` (16-byte aligned) would take 32.
type Key = [u64; 2];

fn key(digest: u128) -> Key {
    [(digest >> 64) as u64, digest as u64]
}

/// Keys are digests, spread already; foldhash is randomly seeded all the same, so that no
/// capture can aim at the buckets.
type KeyHasher = foldhash::fast::RandomState;

/// A member of a message: a PDU of a transfer, or the transfer's request for the message's
/// content location ([`NodeRef::REQUEST`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeRef {
    /// Index of the transfer in report order.
    pub transfer: u32,
    /// Index of the PDU in the transfer, or [`NodeRef::REQUEST`].
    pub pdu: u32,
}

impl NodeRef {
    pub const REQUEST: u32 = u32::MAX;
}

/// Members (PDUs and requests) one message gets at most, unless configured otherwise. A real
/// message has a handful; the members of one message are held together while it is built, so a
/// crafted capture must not be able to make one as large as it likes.
pub const DEFAULT_MAX_MESSAGE_MEMBERS: usize = 50_000;

/// The messages of a run: which PDUs and requests belong together.
#[derive(Debug, Clone, Default)]
pub struct Correlation {
    /// The members of every message, message after message (ids `M1`, `M2`, ... in this
    /// order), each message's in time order.
    members: Vec<NodeRef>,
    /// Where each message's members start in `members`.
    starts: Vec<u32>,
    /// Per transfer: the first message it belongs to.
    pub message_of: Vec<Option<u32>>,
    /// Messages cut at the cap on members: (message index, members it would have had).
    pub truncated: Vec<(u32, usize)>,
}

/// A member of a message as correlation sees it.
struct Node {
    at: NodeRef,
    frame: u64,
}

/// A transfer's request, until every content location of the run is known.
struct Request {
    transfer: u32,
    key: Key,
    frame: u64,
    /// The transfer's m-retrieve-conf nodes, `retrieve_confs[from..to]` (an m-retrieve-conf to
    /// the client answers it).
    retrieve_confs: (u32, u32),
    answered: bool,
}

impl Correlation {
    /// Ties the PDUs of `n` transfers (in report order; `keys(i)` gives transfer `i`'s) into
    /// messages. Each transfer's keys are asked for once. A message keeps its first
    /// `max_members` members in time order (at least one); the cut ones are listed in
    /// [`truncated`](Self::truncated), and their transfers belong to no message through them.
    pub fn build(
        n: usize,
        keys: &mut dyn FnMut(usize) -> Option<TransferKeys>,
        max_members: usize,
    ) -> Correlation {
        let mut nodes: Vec<Node> = Vec::new();
        // Per transfer: what orders its members (capture time, input).
        let mut when: Vec<(Timestamp, u32)> = Vec::with_capacity(n);
        let mut uf = UnionFind::new();
        let mut first_with_key: HashMap<Key, u32, KeyHasher> = HashMap::default();
        let mut known_locations: HashSet<Key, KeyHasher> = HashSet::default();
        let mut requests: Vec<Request> = Vec::new();
        let mut retrieve_confs: Vec<u32> = Vec::new();
        let mut link = |i: usize, key: Key, uf: &mut UnionFind| match first_with_key.get(&key) {
            Some(&j) => uf.union(i, j as usize),
            None => {
                first_with_key.insert(key, i as u32);
            }
        };
        for ti in 0..n {
            let Some(f) = keys(ti) else {
                when.push((Timestamp::default(), 0));
                continue;
            };
            when.push((f.start, f.input_index));
            let rc_from = retrieve_confs.len() as u32;
            for (pi, p) in f.pdus.iter().enumerate() {
                let i = nodes.len();
                nodes.push(Node {
                    at: NodeRef {
                        transfer: ti as u32,
                        pdu: pi as u32,
                    },
                    frame: p.frame,
                });
                uf.push();
                if let Some(k) = p.transaction {
                    link(i, key(k), &mut uf);
                }
                if let Some(k) = p.message {
                    link(i, key(k), &mut uf);
                }
                if let Some(k) = p.location {
                    known_locations.insert(key(k));
                    link(i, key(k), &mut uf);
                }
                if p.kind == NodeKind::RetrieveConf {
                    retrieve_confs.push(i as u32);
                }
            }
            if let Some((k, frame)) = f.request {
                requests.push(Request {
                    transfer: ti as u32,
                    key: key(k),
                    frame,
                    retrieve_confs: (rc_from, retrieve_confs.len() as u32),
                    answered: f.answered,
                });
            }
        }
        // A request for a known content location ties its transfer to the message even when the
        // response failed or carried no PDU; the retrieve-conf in the same transfer answers it.
        for r in requests {
            if !known_locations.contains(&r.key) {
                continue;
            }
            let i = nodes.len();
            nodes.push(Node {
                at: NodeRef {
                    transfer: r.transfer,
                    pdu: NodeRef::REQUEST,
                },
                frame: r.frame,
            });
            uf.push();
            link(i, r.key, &mut uf);
            if r.answered {
                let (from, to) = r.retrieve_confs;
                for &rc in retrieve_confs
                    .get(from as usize..to as usize)
                    .unwrap_or(&[])
                {
                    uf.union(rc as usize, i);
                }
            }
        }
        drop(known_locations);
        drop(retrieve_confs);

        let order = |i: u32| {
            let n = nodes.get(i as usize);
            let (start, input) = n
                .and_then(|n| when.get(n.at.transfer as usize))
                .copied()
                .unwrap_or_default();
            (start, input, n.map_or(0, |n| n.frame))
        };
        // Members of a message are its nodes in time order (node order on ties); messages are
        // ordered by their first member (the smallest node — the root — on ties).
        let roots: Vec<u32> = (0..nodes.len()).map(|i| uf.find(i) as u32).collect();
        drop(uf);
        let mut sorted: Vec<u32> = (0..nodes.len() as u32).collect();
        sorted.sort_unstable_by_key(|&i| (roots.get(i as usize).copied(), order(i), i));
        // (first, end, root) of each group in `sorted`.
        let mut groups: Vec<(u32, u32, u32)> = Vec::new();
        for (pos, &i) in sorted.iter().enumerate() {
            let root = roots.get(i as usize).copied().unwrap_or(0);
            match groups.last_mut() {
                Some(g) if g.2 == root => g.1 = pos as u32 + 1,
                _ => groups.push((pos as u32, pos as u32 + 1, root)),
            }
        }
        drop(roots);
        let first = |g: &(u32, u32, u32)| sorted.get(g.0 as usize).copied().unwrap_or(0);
        groups.sort_unstable_by_key(|g| (order(first(g)), g.2));
        let mut members: Vec<NodeRef> = Vec::with_capacity(nodes.len());
        let mut starts: Vec<u32> = Vec::with_capacity(groups.len());
        let mut truncated = Vec::new();
        for &(from, to, _) in &groups {
            let group = sorted.get(from as usize..to as usize).unwrap_or(&[]);
            // A lone request with no PDU is not a message.
            let refs = group
                .iter()
                .filter_map(|&i| nodes.get(i as usize).map(|n| n.at));
            if refs.clone().all(|n| n.pdu == NodeRef::REQUEST) {
                continue;
            }
            if group.len() > max_members.max(1) {
                truncated.push((starts.len() as u32, group.len()));
            }
            starts.push(members.len() as u32);
            members.extend(refs.take(max_members.max(1)));
        }
        drop(groups);
        drop(sorted);
        drop(nodes);

        let mut message_of: Vec<Option<u32>> = vec![None; n];
        let mut correlation = Correlation {
            members,
            starts,
            message_of: Vec::new(),
            truncated,
        };
        for mi in 0..correlation.len() {
            for node in correlation.group(mi) {
                if let Some(slot) = message_of.get_mut(node.transfer as usize)
                    && slot.is_none()
                {
                    *slot = Some(mi as u32);
                }
            }
        }
        correlation.message_of = message_of;
        correlation
    }

    /// [`build`](Self::build) over transfers held in memory, in report order, with the default
    /// cap on members.
    pub fn of_records(transfers: &[TransferRecord]) -> Correlation {
        let mut keys = |ti: usize| {
            transfers
                .get(ti)
                .map(|t| TransferKeys::of(&TransferFacts::of(t)))
        };
        Correlation::build(transfers.len(), &mut keys, DEFAULT_MAX_MESSAGE_MEMBERS)
    }

    /// The number of messages.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// The members of message `mi`, in time order.
    pub fn group(&self, mi: usize) -> &[NodeRef] {
        let Some(&from) = self.starts.get(mi) else {
            return &[];
        };
        let to = self
            .starts
            .get(mi + 1)
            .map_or(self.members.len(), |&t| t as usize);
        self.members.get(from as usize..to).unwrap_or(&[])
    }

    /// The id (`M…`) of the first message transfer `ti` belongs to.
    pub fn message_id_of(&self, ti: usize) -> Option<String> {
        self.message_index_of(ti).map(|mi| format!("M{}", mi + 1))
    }

    /// The index of the message transfer `ti` belongs to, if any.
    pub fn message_index_of(&self, ti: usize) -> Option<usize> {
        self.message_of
            .get(ti)
            .copied()
            .flatten()
            .map(|mi| mi as usize)
    }

    /// Message `mi` as the report shows it, with the facts of its transfers (each once, in the
    /// order of `Message::transfers`). `transfer_id` names a transfer by index.
    pub fn message(
        &self,
        mi: usize,
        transfer_id: impl Fn(usize) -> String,
        facts: &mut dyn FnMut(usize) -> Option<TransferFacts>,
    ) -> Option<(Message, Vec<(usize, TransferFacts)>)> {
        if mi >= self.len() {
            return None;
        }
        let group = self.group(mi);
        let mut members: Vec<(usize, TransferFacts)> = Vec::new();
        // Lookups, not scans: a crafted capture can put any number of PDUs in one message.
        let mut position_of: HashMap<usize, usize> = HashMap::new();
        let mut seen_tids: HashSet<String> = HashSet::new();
        let mut message_id = None;
        let mut transaction_ids: Vec<String> = Vec::new();
        let mut content_location = None;
        let mut transfers: Vec<String> = Vec::new();
        let mut timeline = Vec::with_capacity(group.len());
        for n in group {
            let ti = n.transfer as usize;
            let position = match position_of.get(&ti) {
                Some(&p) => p,
                None => {
                    let Some(f) = facts(ti) else {
                        continue;
                    };
                    members.push((ti, f));
                    transfers.push(transfer_id(ti));
                    position_of.insert(ti, members.len() - 1);
                    members.len() - 1
                }
            };
            let (Some((_, f)), Some(id)) = (members.get(position), transfers.get(position)) else {
                continue;
            };
            let (frame, message_type) = if n.pdu == NodeRef::REQUEST {
                if content_location.is_none() {
                    content_location = f.request.as_ref().map(|r| r.uri.clone());
                }
                (
                    f.request.as_ref().map_or(f.first_frame, |r| r.frame),
                    if f.carries_retrieve_conf() {
                        "retrieval-request"
                    } else {
                        "retrieval-request (no message)"
                    }
                    .to_owned(),
                )
            } else {
                let Some(p) = f.pdus.get(n.pdu as usize) else {
                    continue;
                };
                if message_id.is_none() {
                    message_id.clone_from(&p.message_id);
                }
                if let Some(tid) = &p.transaction_id
                    && seen_tids.insert(tid.clone())
                {
                    transaction_ids.push(tid.clone());
                }
                if content_location.is_none() {
                    content_location.clone_from(&p.content_location);
                }
                (p.frame, p.message_type.clone())
            };
            timeline.push(TimelineEntry {
                frame,
                transfer: id.clone(),
                message_type,
            });
        }
        Some((
            Message {
                id: format!("M{}", mi + 1),
                message_id,
                transaction_ids,
                content_location,
                transfers,
                timeline,
            },
            members,
        ))
    }
}

/// Builds the messages over transfers already in report order (their ids assigned), ids `M1`,
/// `M2`, ... in order of first appearance.
pub fn correlate(transfers: &[TransferRecord]) -> Vec<Message> {
    let correlation = Correlation::of_records(transfers);
    let mut facts = |ti: usize| transfers.get(ti).map(TransferFacts::of);
    let id = |ti: usize| {
        transfers
            .get(ti)
            .map(|t| t.transfer.id.clone())
            .unwrap_or_default()
    };
    (0..correlation.len())
        .filter_map(|mi| correlation.message(mi, id, &mut facts).map(|(m, _)| m))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_keys_normalise() {
        assert_eq!(
            location_key("HTTP://MMSC.Example.com:80/get?id=1#x"),
            "http://mmsc.example.com/get?id=1"
        );
        assert_eq!(
            location_key("http://mmsc.example.com"),
            "http://mmsc.example.com/"
        );
        assert_eq!(
            location_key("http://mmsc.example.com:8002/a"),
            "http://mmsc.example.com:8002/a"
        );
    }
}

#[cfg(test)]
mod scale_tests {
    use super::*;
    use crate::report::model::{Endpoint, PduReport, RequestReport, Transfer};
    use crate::time::Timestamp;
    use std::collections::BTreeMap;

    fn pdu(frame: u64, kind: &str, loc: &str, tid: &str) -> PduReport {
        PduReport {
            frame,
            direction: "to-client",
            message_type: kind.into(),
            transaction_id: Some(tid.into()),
            mms_version: None,
            message_id: None,
            from: None,
            to: vec![],
            cc: vec![],
            bcc: vec![],
            subject: None,
            content_location: (kind == "m-notification-ind").then(|| loc.to_owned()),
            date: None,
            expiry: None,
            message_size: None,
            content_type: None,
            headers: BTreeMap::new(),
            parts: vec![],
        }
    }

    fn transfer(i: u64, pdus: Vec<PduReport>, uri: Option<&str>) -> TransferRecord {
        let e = Endpoint {
            ip: "192.0.2.1".parse().unwrap(),
            port: 80,
        };
        TransferRecord {
            transfer: Transfer {
                id: format!("T{}", i + 1),
                input: "x".into(),
                transport: "http",
                client: e,
                server: e,
                tunnel: None,
                first_frame: i,
                last_frame: i,
                start: String::new(),
                end: String::new(),
                encrypted: false,
                complete: true,
                sni: None,
                tls_version: None,
                handshake_frames: Vec::new(),
                request: uri.map(|u| RequestReport {
                    method: "GET".into(),
                    uri: u.into(),
                    headers: vec![],
                    frames: vec![i],
                }),
                response: None,
                pdus,
            },
            start: Timestamp::new(i as i64, 0, 0),
            end: Timestamp::new(i as i64, 0, 0),
            input_index: 0,
            parts: vec![],
            texts: vec![],
            details: vec![],
            pdu_bytes: vec![],
        }
    }

    /// The facts blob written straight from a transfer is the one its facts write.
    #[test]
    fn facts_encode_straight_from_the_transfer() {
        let mut with_request = transfer(
            7,
            vec![
                pdu(7, "m-notification-ind", "http://mmsc.example.com/x", "t1"),
                pdu(9, "m-retrieve-conf", "", "t2"),
            ],
            Some("http://mmsc.example.com/x"),
        );
        with_request.transfer.pdus[1].direction = "to-server";
        with_request.transfer.pdus[1].message_id = Some("m1".into());
        let mut no_request_frames = transfer(3, vec![], Some("/y"));
        if let Some(r) = no_request_frames.transfer.request.as_mut() {
            r.frames.clear();
        }
        for t in [with_request, no_request_frames, transfer(1, vec![], None)] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            TransferFacts::of(&t).encode(&mut a);
            TransferFacts::encode_of(&t, &mut b);
            assert_eq!(a, b);
        }
    }

    /// Regression: correlation was quadratic in the number of transfers (a 4 GB capture took
    /// minutes). Twenty thousand notifications and their retrievals must pair up, one message
    /// each.
    #[test]
    fn many_messages_correlate() {
        let n = 10_000u64;
        let mut transfers = Vec::new();
        for i in 0..n {
            let loc = format!("http://mmsc.example.com/m/{i}");
            transfers.push(transfer(
                2 * i,
                vec![pdu(2 * i, "m-notification-ind", &loc, &format!("n{i}"))],
                None,
            ));
            transfers.push(transfer(
                2 * i + 1,
                vec![pdu(2 * i + 1, "m-retrieve-conf", &loc, &format!("r{i}"))],
                Some(&loc),
            ));
        }
        let messages = correlate(&transfers);
        assert_eq!(messages.len(), n as usize);
        assert!(messages.iter().all(|m| m.transfers.len() == 2));
    }

    /// Regression: building one message was quadratic in its transfers (a crafted capture can
    /// tie any number of PDUs together with one transaction id).
    #[test]
    fn one_message_of_many_transfers() {
        let n = 20_000u64;
        let transfers: Vec<TransferRecord> = (0..n)
            .map(|i| {
                let loc = format!("http://mmsc.example.com/m/{i}");
                transfer(i, vec![pdu(i, "m-notification-ind", &loc, "same")], None)
            })
            .collect();
        let messages = correlate(&transfers);
        assert_eq!(messages.len(), 1);
        assert_eq!(messages[0].transfers.len(), n as usize);
        assert_eq!(messages[0].transaction_ids, vec!["same".to_owned()]);
    }

    /// A message past the cap keeps its first members in time order; the others' transfers
    /// belong to no message through it, and the cut is listed.
    #[test]
    fn a_message_is_cut_at_the_cap_on_members() {
        let transfers: Vec<TransferRecord> = (0..5u64)
            .map(|i| {
                let loc = format!("http://mmsc.example.com/m/{i}");
                transfer(i, vec![pdu(i, "m-notification-ind", &loc, "same")], None)
            })
            .collect();
        let mut keys = |ti: usize| {
            transfers
                .get(ti)
                .map(|t| TransferKeys::of(&TransferFacts::of(t)))
        };
        let c = Correlation::build(transfers.len(), &mut keys, 3);
        assert_eq!(c.len(), 1);
        assert_eq!(
            c.group(0).iter().map(|n| n.transfer).collect::<Vec<_>>(),
            vec![0, 1, 2]
        );
        assert_eq!(c.truncated, vec![(0, 5)]);
        assert_eq!(c.message_of, vec![Some(0), Some(0), Some(0), None, None]);
        // A cap of 0 still keeps one member: a message is never empty.
        let c = Correlation::build(transfers.len(), &mut keys, 0);
        assert_eq!(c.group(0).len(), 1);
    }
}
