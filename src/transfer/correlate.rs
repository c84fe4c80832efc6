//! Ties the PDUs of one MMS together across transfers and transports.
//!
//! Keys (OMA-TS-MMS-ENC 6): the transaction id pairs a request with its confirmation
//! (send-req/send-conf, notification-ind/notifyresp-ind, retrieve-conf/acknowledge-ind); the message
//! id ties a sent or retrieved message to its delivery and read reports; the content location ties
//! a notification to the request that fetches it and to the retrieve-conf that answers. PDUs and
//! transfers sharing any key end up in one message (union-find).

use super::TransferRecord;
use crate::report::model::{Message, TimelineEntry};
use std::collections::{BTreeMap, HashMap};

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

struct UnionFind {
    parent: Vec<usize>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind {
            parent: (0..n).collect(),
        }
    }

    fn find(&mut self, mut x: usize) -> usize {
        // Iterative with path halving: bounded by the tree height, no recursion.
        while let Some(&p) = self.parent.get(x) {
            if p == x {
                break;
            }
            let gp = self.parent.get(p).copied().unwrap_or(p);
            if let Some(slot) = self.parent.get_mut(x) {
                *slot = gp;
            }
            x = gp;
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            if let Some(slot) = self.parent.get_mut(hi) {
                *slot = lo;
            }
        }
    }
}

/// One event of a message: a PDU, or a request for its content location that carried none.
#[derive(Debug, Clone)]
struct Node {
    transfer: usize,
    frame: u64,
    message_type: String,
    keys: Vec<String>,
    transaction_id: Option<String>,
    message_id: Option<String>,
    content_location: Option<String>,
}

/// Builds the messages over transfers already in report order (their ids assigned). Returns the
/// messages (ids `M1`, `M2`, ... in order of first appearance) and, per transfer, the ids of the
/// messages it belongs to.
pub fn correlate(transfers: &[TransferRecord]) -> Vec<Message> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut known_locations: std::collections::HashSet<String> = std::collections::HashSet::new();
    // Where each transfer's PDU nodes are in `nodes` (they are pushed together).
    let mut pdu_nodes: Vec<std::ops::Range<usize>> = Vec::with_capacity(transfers.len());
    for (ti, t) in transfers.iter().enumerate() {
        let first_node = nodes.len();
        for pdu in &t.transfer.pdus {
            let mut keys = Vec::new();
            if let Some(tid) = &pdu.transaction_id {
                keys.push(format!("tid:{tid}"));
            }
            if let Some(mid) = &pdu.message_id {
                keys.push(format!("mid:{mid}"));
            }
            if let Some(loc) = &pdu.content_location {
                let k = location_key(loc);
                known_locations.insert(k.clone());
                keys.push(format!("loc:{k}"));
            }
            nodes.push(Node {
                transfer: ti,
                frame: pdu.frame,
                message_type: pdu.message_type.clone(),
                keys,
                transaction_id: pdu.transaction_id.clone(),
                message_id: pdu.message_id.clone(),
                content_location: pdu.content_location.clone(),
            });
        }
        pdu_nodes.push(first_node..nodes.len());
    }
    // A request for a content location ties its transfer to the message even when the response
    // failed or carried no PDU.
    for (ti, t) in transfers.iter().enumerate() {
        let Some(req) = &t.transfer.request else {
            continue;
        };
        let k = location_key(&req.uri);
        if !known_locations.contains(&k) {
            continue;
        }
        let carries_retrieve = t
            .transfer
            .pdus
            .iter()
            .any(|p| p.direction == "to-client" && p.message_type == "m-retrieve-conf");
        nodes.push(Node {
            transfer: ti,
            frame: req
                .frames
                .first()
                .copied()
                .unwrap_or(t.transfer.first_frame),
            message_type: if carries_retrieve {
                "retrieval-request".into()
            } else {
                "retrieval-request (no message)".into()
            },
            keys: vec![format!("loc:{k}")],
            transaction_id: None,
            message_id: None,
            content_location: Some(req.uri.clone()),
        });
        // The retrieve-conf in the same transfer answers this request: same message.
        if carries_retrieve && let Some(range) = pdu_nodes.get(ti) {
            for n in nodes.get_mut(range.clone()).into_iter().flatten() {
                if n.message_type == "m-retrieve-conf" {
                    n.keys.push(format!("loc:{k}"));
                }
            }
        }
    }

    let mut uf = UnionFind::new(nodes.len());
    let mut first_with_key: HashMap<&str, usize> = HashMap::new();
    for (i, n) in nodes.iter().enumerate() {
        for k in &n.keys {
            match first_with_key.get(k.as_str()) {
                Some(&j) => uf.union(i, j),
                None => {
                    first_with_key.insert(k.as_str(), i);
                }
            }
        }
    }

    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..nodes.len() {
        let root = uf.find(i);
        groups.entry(root).or_default().push(i);
    }
    let mut groups: Vec<Vec<usize>> = groups.into_values().collect();
    let order = |n: &Node| {
        let t = transfers.get(n.transfer);
        (
            t.map(|t| t.start).unwrap_or_default(),
            t.map(|t| t.input_index).unwrap_or(0),
            n.frame,
        )
    };
    for g in &mut groups {
        g.sort_by_key(|&i| nodes.get(i).map(order));
    }
    groups.sort_by_key(|g| g.first().and_then(|&i| nodes.get(i)).map(order));

    let mut messages = Vec::new();
    for g in groups {
        let members: Vec<&Node> = g.iter().filter_map(|&i| nodes.get(i)).collect();
        // A lone request with no PDU is not a message.
        if members
            .iter()
            .all(|n| n.message_type.starts_with("retrieval-request"))
        {
            continue;
        }
        let mut transaction_ids: Vec<String> = Vec::new();
        let mut transfer_ids: Vec<String> = Vec::new();
        for n in &members {
            if let Some(tid) = &n.transaction_id
                && !transaction_ids.contains(tid)
            {
                transaction_ids.push(tid.clone());
            }
            if let Some(t) = transfers.get(n.transfer)
                && !transfer_ids.contains(&t.transfer.id)
            {
                transfer_ids.push(t.transfer.id.clone());
            }
        }
        messages.push(Message {
            id: format!("M{}", messages.len() + 1),
            message_id: members.iter().find_map(|n| n.message_id.clone()),
            transaction_ids,
            content_location: members.iter().find_map(|n| n.content_location.clone()),
            transfers: transfer_ids,
            timeline: members
                .iter()
                .map(|n| TimelineEntry {
                    frame: n.frame,
                    transfer: transfers
                        .get(n.transfer)
                        .map(|t| t.transfer.id.clone())
                        .unwrap_or_default(),
                    message_type: n.message_type.clone(),
                })
                .collect(),
        });
    }
    messages
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
}
