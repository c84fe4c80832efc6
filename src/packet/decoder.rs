//! Records in, packets out: [`decode_record`] and a [`Defragmenter`] together, with the counts
//! the command line reports.

use super::defrag::{DefragLimits, DefragStats, Defragmenter};
use super::error::PacketError;
use super::{Decoded, NonIpProtocol, Packet, decode_record};
use crate::capture::Record;
use crate::diag::Diagnostic;

/// How the records given to a [`PacketDecoder`] turned out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecodeCounters {
    /// Records seen.
    pub frames: u64,
    /// Packets delivered (unfragmented plus reassembled).
    pub packets: u64,
    /// IP fragments handed to the defragmenter.
    pub fragments: u64,
    /// Packets delivered that were reassembled from fragments.
    pub reassembled: u64,
    /// Frames that were not IP (ARP, LLDP, ...).
    pub non_ip: u64,
    /// Frames that could not be decoded (each also a diagnostic).
    pub errors: u64,
}

/// Decodes records one after the other, reassembling fragmented datagrams.
///
/// For parallel decoding, call [`decode_record`] on many threads and hand the results, in frame
/// order, to [`PacketDecoder::absorb`].
#[derive(Debug, Default)]
pub struct PacketDecoder {
    defrag: Defragmenter,
    counters: DecodeCounters,
}

impl PacketDecoder {
    pub fn new(limits: DefragLimits) -> Self {
        PacketDecoder {
            defrag: Defragmenter::new(limits),
            counters: DecodeCounters::default(),
        }
    }

    /// Decodes `rec`: its packet, the packet its fragment completes, or `None` (a fragment
    /// waiting for others, a non-IP frame, or an error recorded in `diags`).
    pub fn decode<'a>(
        &mut self,
        rec: &'a Record,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Packet<'a>> {
        let decoded = decode_record(rec);
        self.absorb(rec, decoded, diags)
    }

    /// Takes the result of [`decode_record`] for `rec` (computed elsewhere, perhaps on another
    /// thread). Records must arrive in frame order for reassembly timeouts to be meaningful.
    pub fn absorb<'a>(
        &mut self,
        rec: &Record,
        decoded: Result<Decoded<'a>, PacketError>,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<Packet<'a>> {
        self.counters.frames = self.counters.frames.saturating_add(1);
        self.defrag.expire(rec.ts, diags);
        match decoded {
            Ok(Decoded::Packet(packet)) => {
                self.counters.packets = self.counters.packets.saturating_add(1);
                Some(packet)
            }
            Ok(Decoded::Fragment(fragment)) => {
                self.counters.fragments = self.counters.fragments.saturating_add(1);
                let packet = self.defrag.push(fragment, diags)?;
                self.counters.packets = self.counters.packets.saturating_add(1);
                self.counters.reassembled = self.counters.reassembled.saturating_add(1);
                Some(packet)
            }
            Ok(Decoded::NonIp { .. }) => {
                self.counters.non_ip = self.counters.non_ip.saturating_add(1);
                None
            }
            Err(err) => {
                self.counters.errors = self.counters.errors.saturating_add(1);
                diags.push(err.diagnostic_for(rec));
                None
            }
        }
    }

    /// [`PacketDecoder::absorb`] without moving a whole packet: it stays in `decoded`
    /// ([`Absorbed::InPlace`]); a fragment is taken out and given to reassembly. For pipelines
    /// that decode a batch in place and hand out references.
    pub fn absorb_in_place<'a>(
        &mut self,
        rec: &Record,
        decoded: &mut Result<Decoded<'a>, PacketError>,
        diags: &mut Vec<Diagnostic>,
    ) -> Absorbed<'a> {
        if matches!(decoded, Ok(Decoded::Packet(_))) {
            self.counters.frames = self.counters.frames.saturating_add(1);
            self.defrag.expire(rec.ts, diags);
            self.counters.packets = self.counters.packets.saturating_add(1);
            return Absorbed::InPlace;
        }
        let taken = std::mem::replace(
            decoded,
            Ok(Decoded::NonIp {
                frame: rec.frame,
                protocol: NonIpProtocol::Netlink,
            }),
        );
        match self.absorb(rec, taken, diags) {
            Some(packet) => Absorbed::Reassembled(packet),
            None => Absorbed::Nothing,
        }
    }

    /// Ends the input: every datagram still in reassembly becomes a diagnostic.
    pub fn finish(&mut self, diags: &mut Vec<Diagnostic>) {
        self.defrag.finish(diags);
    }

    pub fn counters(&self) -> DecodeCounters {
        self.counters
    }

    pub fn defrag_stats(&self) -> DefragStats {
        self.defrag.stats()
    }

    pub fn defragmenter(&self) -> &Defragmenter {
        &self.defrag
    }
}

/// What [`PacketDecoder::absorb_in_place`] made of a record.
#[derive(Debug)]
pub enum Absorbed<'a> {
    /// The record is a whole packet, left where it was decoded.
    InPlace,
    /// The record completed a fragmented datagram: this packet.
    Reassembled(Packet<'a>),
    /// Nothing to pass on (a fragment waiting for others, a non-IP frame, an error).
    Nothing,
}
