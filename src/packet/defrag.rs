//! IPv4 and IPv6 reassembly: fragments in, whole datagrams out.
//!
//! Fragments belong together when they share source, destination, identification, VLAN tags and
//! GTP-U tunnel, and (IPv4, RFC 791 §3.2) protocol. IPv6 leaves the protocol out of the key: RFC
//! 8200 §4.5 takes the next header from the fragment at offset 0 only.
//!
//! Overlaps keep the bytes that arrived first (duplicates change nothing). Every datagram in
//! progress is bounded in size and number of fragments, all of them together in count and bytes,
//! and each in time: the timeout runs from its first fragment, in capture time. A datagram that
//! cannot finish becomes a [`Diagnostic`].
//!
//! A fragment identical to one of a datagram completed less than the timeout ago (a capture that
//! saw every frame twice, or a late duplicate) is ignored rather than starting a datagram that
//! could never finish; a different fragment under the same key starts a new datagram (the
//! identification may have wrapped).
//!
//! A fragment cut short by the capture's snaplen still counts as having arrived: the datagram
//! completes once every byte has been announced, and carries the captured bytes up to the first
//! missing one, marked truncated.

use super::ip::{self, Carrier};
use super::{Decoded, Fragment, Packet, Tunnel, VlanTags};
use crate::diag::{Diagnostic, Layer};
use crate::time::Timestamp;
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// Bounds on what the [`Defragmenter`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefragLimits {
    /// Datagrams in reassembly at once; the oldest is dropped to make room.
    pub max_datagrams: usize,
    /// Largest reassembled payload, in bytes (an IP datagram is at most 65535 bytes).
    pub max_datagram_bytes: usize,
    /// Bytes held for all datagrams together; the oldest are dropped to make room.
    pub max_total_bytes: usize,
    /// Fragments accepted for one datagram (tiny-fragment floods).
    pub max_fragments_per_datagram: usize,
    /// Capture-time seconds from a datagram's first fragment until it is given up.
    pub timeout_secs: u32,
}

impl Default for DefragLimits {
    fn default() -> Self {
        DefragLimits {
            max_datagrams: 4096,
            max_datagram_bytes: 65_535,
            max_total_bytes: 64 * 1024 * 1024,
            max_fragments_per_datagram: 1024,
            timeout_secs: 30,
        }
    }
}

/// What the [`Defragmenter`] has done so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DefragStats {
    /// Fragments pushed.
    pub fragments: u64,
    /// Datagrams completed and decoded.
    pub reassembled: u64,
    /// Datagrams given up after the timeout or at the end of input.
    pub incomplete: u64,
    /// Datagrams dropped to respect a limit.
    pub dropped: u64,
    /// Reassembled datagrams whose content could not be decoded.
    pub decode_errors: u64,
    /// Late copies of fragments of datagrams already completed, ignored.
    pub late_duplicates: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct DatagramKey {
    src: IpAddr,
    dst: IpAddr,
    /// IPv4 protocol; 0 for IPv6.
    protocol: u8,
    ident: u32,
    vlan: VlanTags,
    tunnel: Option<Tunnel>,
}

impl DatagramKey {
    fn of(frag: &Fragment<'_>) -> Self {
        DatagramKey {
            src: frag.src,
            dst: frag.dst,
            protocol: if frag.src.is_ipv4() { frag.protocol } else { 0 },
            ident: frag.ident,
            vlan: frag.vlan,
            tunnel: frag.tunnel,
        }
    }

    fn describe(&self) -> String {
        let version = if self.src.is_ipv4() { "ipv4" } else { "ipv6" };
        format!(
            "{version} datagram {} -> {} ident {:#x}",
            self.src, self.dst, self.ident
        )
    }
}

/// Sorted, disjoint, non-touching half-open byte ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Ranges(Vec<(usize, usize)>);

impl Ranges {
    fn insert(&mut self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        let (mut lo, mut hi) = (start, end);
        let mut merged = Vec::with_capacity(self.0.len().saturating_add(1));
        let mut placed = false;
        for &(a, b) in &self.0 {
            if b < lo {
                merged.push((a, b));
            } else if a > hi {
                if !placed {
                    merged.push((lo, hi));
                    placed = true;
                }
                merged.push((a, b));
            } else {
                lo = lo.min(a);
                hi = hi.max(b);
            }
        }
        if !placed {
            merged.push((lo, hi));
        }
        self.0 = merged;
    }

    /// The parts of `[start, end)` not covered.
    fn missing(&self, start: usize, end: usize) -> Vec<(usize, usize)> {
        let mut gaps = Vec::new();
        let mut cursor = start;
        for &(a, b) in &self.0 {
            if cursor >= end || a >= end {
                break;
            }
            if b <= cursor {
                continue;
            }
            if a > cursor {
                gaps.push((cursor, a));
            }
            cursor = cursor.max(b);
        }
        if cursor < end {
            gaps.push((cursor, end));
        }
        gaps
    }

    fn covers(&self, start: usize, end: usize) -> bool {
        start >= end || self.0.iter().any(|&(a, b)| a <= start && b >= end)
    }

    /// Length of the covered prefix starting at 0.
    fn prefix(&self) -> usize {
        match self.0.first() {
            Some(&(0, b)) => b,
            _ => 0,
        }
    }

    fn total(&self) -> usize {
        self.0.iter().map(|&(a, b)| b - a).sum()
    }
}

#[derive(Debug)]
struct Datagram {
    id: u64,
    first_ts: Timestamp,
    first_frame: u64,
    first_record_offset: u64,
    tunnel_depth: u8,
    /// The protocol from the fragment at offset 0, once it has arrived.
    protocol: Option<u8>,
    data: Vec<u8>,
    /// Bytes actually captured.
    have: Ranges,
    /// Bytes the fragments' headers announced.
    claimed: Ranges,
    /// Payload length, known from the last fragment.
    total: Option<usize>,
    /// Distinct frames that contributed, in arrival order.
    frames: Vec<u64>,
    fragments: usize,
    truncated: bool,
    /// What each fragment was, to recognise late duplicates once the datagram is complete.
    signatures: Vec<FragmentSignature>,
}

/// Offset, length and a hash of a fragment's payload.
type FragmentSignature = (usize, usize, u64);

fn signature(offset: usize, payload: &[u8]) -> FragmentSignature {
    let mut hasher = DefaultHasher::new();
    payload.hash(&mut hasher);
    (offset, payload.len(), hasher.finish())
}

/// Signatures kept per completed datagram; larger datagrams are not remembered.
const MAX_REMEMBERED_FRAGMENTS: usize = 64;

/// A datagram completed recently, remembered to ignore late duplicates of its fragments.
#[derive(Debug)]
struct Completed {
    id: u64,
    ts: Timestamp,
    signatures: Vec<FragmentSignature>,
}

/// Frames listed in a diagnostic before the list is cut.
const FRAMES_SHOWN: usize = 8;

fn frame_list(frames: &[u64]) -> String {
    let mut text = frames
        .iter()
        .take(FRAMES_SHOWN)
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if frames.len() > FRAMES_SHOWN {
        text.push_str(&format!(" and {} more", frames.len() - FRAMES_SHOWN));
    }
    text
}

/// Datagrams by key. Looked up for every record while any is pending (expiry), so with a fast
/// hash (foldhash, randomly seeded: a capture cannot aim at its buckets).
type KeyMap<V> = HashMap<DatagramKey, V, foldhash::fast::RandomState>;

/// Reassembles IP datagrams from their fragments, within [`DefragLimits`].
#[derive(Debug)]
pub struct Defragmenter {
    limits: DefragLimits,
    datagrams: KeyMap<Datagram>,
    /// Datagrams by creation, oldest first; entries whose id no longer matches are stale.
    order: VecDeque<(u64, DatagramKey)>,
    next_id: u64,
    held: usize,
    stats: DefragStats,
    completed: KeyMap<Completed>,
    /// Completed datagrams, oldest first; stale entries as in `order`.
    completed_order: VecDeque<(u64, DatagramKey)>,
    /// Until when (nanoseconds) [`Defragmenter::expire`] has nothing to do: the earlier of the
    /// two oldest entries' deadlines, as of its last run. Any change of state clears it. Expiry
    /// is asked for on every packet, and this spares it two hash look-ups each time.
    quiet_until: Option<i128>,
}

impl Default for Defragmenter {
    fn default() -> Self {
        Defragmenter::new(DefragLimits::default())
    }
}

impl Defragmenter {
    pub fn new(limits: DefragLimits) -> Self {
        Defragmenter {
            limits,
            datagrams: KeyMap::default(),
            order: VecDeque::new(),
            next_id: 0,
            held: 0,
            stats: DefragStats::default(),
            completed: KeyMap::default(),
            completed_order: VecDeque::new(),
            quiet_until: None,
        }
    }

    pub fn limits(&self) -> &DefragLimits {
        &self.limits
    }

    pub fn stats(&self) -> DefragStats {
        self.stats
    }

    /// Payload bytes held for datagrams in progress.
    pub fn held_bytes(&self) -> usize {
        self.held
    }

    /// Datagrams in progress.
    pub fn in_progress(&self) -> usize {
        self.datagrams.len()
    }

    /// Adds one fragment. Returns the packet it completes, decoded (GTP-U inside included), with
    /// `frame` = this fragment's frame and `fragment_frames` = the other frames.
    pub fn push(
        &mut self,
        frag: Fragment<'_>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Packet<'static>> {
        self.stats.fragments = self.stats.fragments.saturating_add(1);
        self.expire(frag.ts, diags);
        // What follows may add or remove datagrams: expiry must look again.
        self.quiet_until = None;
        let key = DatagramKey::of(&frag);
        let offset = usize::try_from(frag.offset).unwrap_or(usize::MAX);
        let claimed_len = usize::try_from(frag.claimed_len)
            .unwrap_or(usize::MAX)
            .max(frag.payload.len());
        let claimed_end = offset.saturating_add(claimed_len);
        let data_end = offset.saturating_add(frag.payload.len());

        if claimed_end > self.limits.max_datagram_bytes {
            self.take(&key);
            self.stats.dropped = self.stats.dropped.saturating_add(1);
            diags.push(
                Diagnostic::new(
                    Layer::Ip,
                    format!(
                        "{}: fragment reaches byte {claimed_end}, beyond the {}-byte datagram limit; datagram dropped",
                        key.describe(),
                        self.limits.max_datagram_bytes
                    ),
                )
                .at_frame(frag.frame)
                .at_offset(frag.record_offset),
            );
            return None;
        }

        let sig = signature(offset, &frag.payload);
        if !self.datagrams.contains_key(&key)
            && self
                .completed
                .get(&key)
                .is_some_and(|c| c.signatures.contains(&sig))
        {
            self.stats.late_duplicates = self.stats.late_duplicates.saturating_add(1);
            return None;
        }

        if !self.datagrams.contains_key(&key) {
            while self.datagrams.len() >= self.limits.max_datagrams.max(1) {
                if !self.evict_oldest(None, "datagrams in reassembly", diags) {
                    break;
                }
            }
            let id = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            self.datagrams.insert(
                key,
                Datagram {
                    id,
                    first_ts: frag.ts,
                    first_frame: frag.frame,
                    first_record_offset: frag.record_offset,
                    tunnel_depth: frag.tunnel_depth,
                    protocol: None,
                    data: Vec::new(),
                    have: Ranges::default(),
                    claimed: Ranges::default(),
                    total: None,
                    frames: Vec::new(),
                    fragments: 0,
                    truncated: false,
                    signatures: Vec::new(),
                },
            );
            self.order.push_back((id, key));
            self.compact_order();
        }

        // Room for the bytes this fragment adds beyond what the datagram already holds.
        let current_len = self.datagrams.get(&key).map_or(0, |d| d.data.len());
        let growth = data_end.saturating_sub(current_len);
        while self.held.saturating_add(growth) > self.limits.max_total_bytes {
            if !self.evict_oldest(Some(&key), "bytes in reassembly", diags) {
                break;
            }
        }
        if self.held.saturating_add(growth) > self.limits.max_total_bytes {
            self.take(&key);
            self.stats.dropped = self.stats.dropped.saturating_add(1);
            diags.push(
                Diagnostic::new(
                    Layer::Limit,
                    format!(
                        "{}: dropped, reassembly would hold more than {} bytes",
                        key.describe(),
                        self.limits.max_total_bytes
                    ),
                )
                .at_frame(frag.frame)
                .at_offset(frag.record_offset),
            );
            return None;
        }

        let max_fragments = self.limits.max_fragments_per_datagram;
        let datagram = self.datagrams.get_mut(&key)?;
        datagram.fragments = datagram.fragments.saturating_add(1);
        if datagram.fragments > max_fragments {
            self.take(&key);
            self.stats.dropped = self.stats.dropped.saturating_add(1);
            diags.push(
                Diagnostic::new(
                    Layer::Limit,
                    format!(
                        "{}: dropped after more than {max_fragments} fragments",
                        key.describe()
                    ),
                )
                .at_frame(frag.frame)
                .at_offset(frag.record_offset),
            );
            return None;
        }
        if growth > 0 {
            datagram.data.resize(data_end, 0);
            self.held = self.held.saturating_add(growth);
        }
        // First arrival wins: copy only the bytes no earlier fragment supplied.
        for (start, end) in datagram.have.missing(offset, data_end) {
            let source = frag
                .payload
                .get(start.saturating_sub(offset)..end.saturating_sub(offset));
            if let (Some(target), Some(source)) = (datagram.data.get_mut(start..end), source) {
                target.copy_from_slice(source);
            }
        }
        datagram.have.insert(offset, data_end);
        datagram.claimed.insert(offset, claimed_end);
        datagram.truncated |= frag.truncated;
        if datagram.signatures.len() <= MAX_REMEMBERED_FRAGMENTS
            && !datagram.signatures.contains(&sig)
        {
            datagram.signatures.push(sig);
        }
        if offset == 0 && datagram.protocol.is_none() {
            datagram.protocol = Some(frag.protocol);
        }
        if !frag.more_fragments && datagram.total.is_none() {
            datagram.total = Some(claimed_end);
        }
        for frame in frag.earlier_frames.iter().copied().chain([frag.frame]) {
            if !datagram.frames.contains(&frame) {
                datagram.frames.push(frame);
            }
        }

        let total = datagram.total?;
        let protocol = datagram.protocol?;
        if !datagram.claimed.covers(0, total) {
            return None;
        }
        let datagram = self.take(&key)?;
        self.complete(key, datagram, total, protocol, &frag, diags)
    }

    fn complete(
        &mut self,
        key: DatagramKey,
        datagram: Datagram,
        total: usize,
        protocol: u8,
        last: &Fragment<'_>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Packet<'static>> {
        let Datagram {
            id,
            mut data,
            have,
            frames,
            truncated,
            tunnel_depth,
            signatures,
            ..
        } = datagram;
        self.remember(key, id, last.ts, signatures);
        let captured = have.prefix().min(total);
        data.truncate(captured);
        let carrier = Carrier {
            frame: last.frame,
            record_offset: last.record_offset,
            ts: last.ts,
            vlan: key.vlan,
            tunnel: key.tunnel,
            tunnel_depth,
            truncated: truncated || captured < total,
        };
        let others: Vec<u64> = frames.into_iter().filter(|f| *f != last.frame).collect();
        match ip::decode_reassembled(carrier, key.src, key.dst, protocol, &data, total) {
            Ok(Decoded::Packet(packet)) => {
                self.stats.reassembled = self.stats.reassembled.saturating_add(1);
                let mut packet = packet.into_owned();
                packet.fragment_frames = others;
                Some(packet)
            }
            Ok(Decoded::Fragment(inner)) => {
                // The user packet inside a reassembled tunnel datagram is itself a fragment. The
                // tunnel depth bound keeps this recursion shallow.
                self.stats.reassembled = self.stats.reassembled.saturating_add(1);
                let mut inner = inner.into_owned();
                inner.earlier_frames = others;
                self.push(inner, diags)
            }
            Ok(Decoded::NonIp { .. }) => None,
            Err(err) => {
                self.stats.decode_errors = self.stats.decode_errors.saturating_add(1);
                diags.push(
                    Diagnostic::new(
                        err.layer(),
                        format!(
                            "{} reassembled from frames {}: {err}",
                            key.describe(),
                            frame_list(&others)
                        ),
                    )
                    .at_frame(last.frame)
                    .at_offset(last.record_offset),
                );
                None
            }
        }
    }

    fn remember(
        &mut self,
        key: DatagramKey,
        id: u64,
        ts: Timestamp,
        signatures: Vec<FragmentSignature>,
    ) {
        if signatures.len() > MAX_REMEMBERED_FRAGMENTS {
            self.completed.remove(&key);
            return;
        }
        while self.completed.len() >= self.limits.max_datagrams.max(1) {
            let Some((old_id, old_key)) = self.completed_order.pop_front() else {
                break;
            };
            if self.completed.get(&old_key).is_some_and(|c| c.id == old_id) {
                self.completed.remove(&old_key);
            }
        }
        self.completed.insert(key, Completed { id, ts, signatures });
        self.completed_order.push_back((id, key));
        if self.completed_order.len() > self.completed.len().saturating_mul(2).saturating_add(64) {
            let completed = &self.completed;
            self.completed_order
                .retain(|(id, key)| completed.get(key).is_some_and(|c| c.id == *id));
        }
    }

    /// Gives up every datagram whose first fragment is more than the timeout older than `now`.
    pub fn expire(&mut self, now: Timestamp, diags: &mut Vec<Diagnostic>) {
        let now = now.as_nanos();
        if self.quiet_until.is_some_and(|quiet| now <= quiet) {
            return;
        }
        let timeout = i128::from(self.limits.timeout_secs) * 1_000_000_000;
        let mut quiet = i128::MAX;
        while let Some(&(id, key)) = self.completed_order.front() {
            match self.completed.get(&key) {
                Some(c) if c.id == id && now - c.ts.as_nanos() <= timeout => {
                    quiet = quiet.min(c.ts.as_nanos().saturating_add(timeout));
                    break;
                }
                Some(c) if c.id == id => {
                    self.completed.remove(&key);
                    self.completed_order.pop_front();
                }
                _ => {
                    self.completed_order.pop_front();
                }
            }
        }
        while let Some(&(id, key)) = self.order.front() {
            match self.datagrams.get(&key) {
                Some(datagram) if datagram.id == id => {
                    if now - datagram.first_ts.as_nanos() <= timeout {
                        quiet = quiet.min(datagram.first_ts.as_nanos().saturating_add(timeout));
                        break;
                    }
                    self.order.pop_front();
                    if let Some(datagram) = self.take(&key) {
                        let why = format!("timed out after {} s", self.limits.timeout_secs);
                        self.report_incomplete(&key, &datagram, &why, diags);
                    }
                }
                _ => {
                    self.order.pop_front();
                }
            }
        }
        // Both oldest entries are live and within their time now: until the earlier deadline,
        // and as long as nothing is added or removed, another run would stop at them too.
        self.quiet_until = Some(quiet);
    }

    /// Gives up every datagram still in progress (end of input).
    pub fn finish(&mut self, diags: &mut Vec<Diagnostic>) {
        self.quiet_until = None;
        while let Some((id, key)) = self.order.pop_front() {
            if self.datagrams.get(&key).is_some_and(|d| d.id == id) {
                if let Some(datagram) = self.take(&key) {
                    self.report_incomplete(&key, &datagram, "incomplete at end of input", diags);
                }
            }
        }
        self.datagrams.clear();
        self.held = 0;
        self.completed.clear();
        self.completed_order.clear();
    }

    fn report_incomplete(
        &mut self,
        key: &DatagramKey,
        datagram: &Datagram,
        why: &str,
        diags: &mut Vec<Diagnostic>,
    ) {
        self.stats.incomplete = self.stats.incomplete.saturating_add(1);
        let total = datagram
            .total
            .map_or_else(|| "?".to_string(), |t| t.to_string());
        diags.push(
            Diagnostic::new(
                Layer::Ip,
                format!(
                    "{} {why}: {} of {total} bytes in {} fragments (frames {})",
                    key.describe(),
                    datagram.claimed.total(),
                    datagram.fragments,
                    frame_list(&datagram.frames)
                ),
            )
            .at_frame(datagram.first_frame)
            .at_offset(datagram.first_record_offset),
        );
    }

    /// Drops the oldest datagram other than `except`; false when there is none.
    fn evict_oldest(
        &mut self,
        except: Option<&DatagramKey>,
        what: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> bool {
        let position = self.order.iter().position(|(id, key)| {
            Some(key) != except && self.datagrams.get(key).is_some_and(|d| d.id == *id)
        });
        let Some((_, key)) = position.and_then(|p| self.order.remove(p)) else {
            return false;
        };
        let Some(datagram) = self.take(&key) else {
            return false;
        };
        self.stats.dropped = self.stats.dropped.saturating_add(1);
        diags.push(
            Diagnostic::new(
                Layer::Limit,
                format!(
                    "{}: dropped unfinished to stay within the limit on {what} ({} of {} bytes in {} fragments, frames {})",
                    key.describe(),
                    datagram.claimed.total(),
                    datagram.total.map_or_else(|| "?".to_string(), |t| t.to_string()),
                    datagram.fragments,
                    frame_list(&datagram.frames)
                ),
            )
            .at_frame(datagram.first_frame)
            .at_offset(datagram.first_record_offset),
        );
        true
    }

    fn take(&mut self, key: &DatagramKey) -> Option<Datagram> {
        let datagram = self.datagrams.remove(key)?;
        self.held = self.held.saturating_sub(datagram.data.len());
        Some(datagram)
    }

    /// Drops stale entries from `order` once they outnumber the live ones, so that completed
    /// datagrams do not pile up there.
    fn compact_order(&mut self) {
        if self.order.len() > self.datagrams.len().saturating_mul(2).saturating_add(64) {
            let datagrams = &self.datagrams;
            self.order
                .retain(|(id, key)| datagrams.get(key).is_some_and(|d| d.id == *id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_merge_and_gaps() {
        let mut r = Ranges::default();
        r.insert(10, 20);
        r.insert(30, 40);
        assert_eq!(r.missing(0, 50), vec![(0, 10), (20, 30), (40, 50)]);
        r.insert(20, 30);
        assert_eq!(r.0, vec![(10, 40)]);
        r.insert(0, 5);
        assert_eq!(r.prefix(), 5);
        r.insert(5, 10);
        assert!(r.covers(0, 40));
        assert!(!r.covers(0, 41));
        assert_eq!(r.missing(15, 25), vec![]);
        assert_eq!(r.total(), 40);
    }
}
