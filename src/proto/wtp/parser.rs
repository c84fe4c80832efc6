//! Pure parser and encoder for WTP PDUs (WAP-224 clause 9).
//!
//! Every PDU starts with a fixed header whose first octet is `CON | type (4 bits) | 3 type-specific
//! bits`, followed by the 16-bit TID (the top bit tells which side sent it, WAP-224 10.3.1). When CON
//! is set, Transport Information Items (TPIs, 9.3) follow the fixed header; the user data fills the
//! rest of the PDU. Several PDUs may travel in one datagram (concatenation, 9.1.1 / WAP-224 Annex:
//! first octet 0x00, each PDU prefixed by its length).

use thiserror::Error;

/// Errors of the WTP parser: what was wrong and the byte offset in the PDU (or datagram).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WtpError {
    #[error("wtp: truncated {field} at offset {offset}")]
    Truncated { field: &'static str, offset: usize },
    #[error("wtp: PDU type {pdu_type:#x} is not defined (offset {offset})")]
    UnknownPduType { pdu_type: u8, offset: usize },
    #[error("wtp: invalid {field} {value:#x} at offset {offset}")]
    InvalidField {
        field: &'static str,
        value: u32,
        offset: usize,
    },
    #[error("wtp: more than {max} TPIs at offset {offset}")]
    TooManyTpis { max: usize, offset: usize },
    #[error("wtp: concatenated PDU length {len} overruns the datagram at offset {offset}")]
    ConcatenationOverrun { len: usize, offset: usize },
    #[error("wtp: empty PDU at offset {offset}")]
    Empty { offset: usize },
}

/// Upper bound on TPIs in one PDU: real stacks send at most a handful.
pub const MAX_TPIS: usize = 32;

/// WTP PDU types (WAP-224 9.2, table 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WtpPduType {
    Invoke,
    Result,
    Ack,
    Abort,
    SegmentedInvoke,
    SegmentedResult,
    NegativeAck,
}

/// PDU type code → type and name. Code 0 is the concatenation marker, never a PDU of its own.
pub const PDU_TYPES: &[(u8, WtpPduType, &str)] = &[
    (0x01, WtpPduType::Invoke, "Invoke"),
    (0x02, WtpPduType::Result, "Result"),
    (0x03, WtpPduType::Ack, "Ack"),
    (0x04, WtpPduType::Abort, "Abort"),
    (0x05, WtpPduType::SegmentedInvoke, "Segmented Invoke"),
    (0x06, WtpPduType::SegmentedResult, "Segmented Result"),
    (0x07, WtpPduType::NegativeAck, "Negative Ack"),
];

impl WtpPduType {
    pub fn from_code(code: u8) -> Option<Self> {
        PDU_TYPES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|(_, t, _)| *t)
    }

    pub fn code(self) -> u8 {
        PDU_TYPES
            .iter()
            .find(|(_, t, _)| *t == self)
            .map_or(0, |(c, _, _)| *c)
    }

    pub fn name(self) -> &'static str {
        PDU_TYPES
            .iter()
            .find(|(_, t, _)| *t == self)
            .map_or("?", |(_, _, n)| n)
    }
}

/// A transaction identifier as carried on the wire (WAP-224 10.3.1): 15 bits of TID and a
/// direction bit, clear when the initiator sent the PDU and set when the responder did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tid {
    /// The 15-bit transaction number.
    pub value: u16,
    /// True when the responder sent this PDU (the TID's top bit).
    pub from_responder: bool,
}

impl Tid {
    pub const MAX: u16 = 0x7FFF;

    pub fn from_wire(raw: u16) -> Self {
        Tid {
            value: raw & Self::MAX,
            from_responder: raw & 0x8000 != 0,
        }
    }

    pub fn to_wire(self) -> u16 {
        (self.value & Self::MAX) | if self.from_responder { 0x8000 } else { 0 }
    }

    pub fn initiator(value: u16) -> Self {
        Tid {
            value: value & Self::MAX,
            from_responder: false,
        }
    }

    pub fn responder(value: u16) -> Self {
        Tid {
            value: value & Self::MAX,
            from_responder: true,
        }
    }
}

/// Transaction class (TCL, WAP-224 7.x): 0 unreliable invoke, 1 reliable invoke without result,
/// 2 reliable invoke with one reliable result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransactionClass {
    Class0,
    Class1,
    Class2,
}

impl TransactionClass {
    pub fn from_bits(bits: u8) -> Option<Self> {
        match bits {
            0 => Some(TransactionClass::Class0),
            1 => Some(TransactionClass::Class1),
            2 => Some(TransactionClass::Class2),
            _ => None,
        }
    }

    pub fn bits(self) -> u8 {
        match self {
            TransactionClass::Class0 => 0,
            TransactionClass::Class1 => 1,
            TransactionClass::Class2 => 2,
        }
    }
}

/// Who aborted a transaction (WAP-224 9.3.4, abort type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AbortType {
    /// WTP itself (the provider).
    Provider,
    /// The WTP user (WSP); the reason is then a WSP reason code.
    User,
}

/// Provider abort reasons (WAP-224 9.3.4, table 9).
pub const PROVIDER_ABORT_REASONS: &[(u8, &str)] = &[
    (0x00, "UNKNOWN"),
    (0x01, "PROTOERR"),
    (0x02, "INVALIDTID"),
    (0x03, "NOTIMPLEMENTEDCL2"),
    (0x04, "NOTIMPLEMENTEDSAR"),
    (0x05, "NOTIMPLEMENTEDUACK"),
    (0x06, "WTPVERSIONONE"),
    (0x07, "CAPTEMPEXCEEDED"),
    (0x08, "NORESPONSE"),
    (0x09, "MESSAGETOOLARGE"),
    (0x0A, "NOTIMPLEMENTEDESAR"),
];

/// User abort reasons: the WSP reason codes (WAP-230 8.2.2.3 / table 35).
pub const USER_ABORT_REASONS: &[(u8, &str)] = &[
    (0xE0, "PROTOERR"),
    (0xE1, "DISCONNECT"),
    (0xE2, "SUSPEND"),
    (0xE3, "RESUME"),
    (0xE4, "CONGESTION"),
    (0xE5, "CONNECTERR"),
    (0xE6, "MRUEXCEEDED"),
    (0xE7, "MOREXCEEDED"),
    (0xE8, "PEERREQ"),
    (0xE9, "NETERR"),
    (0xEA, "USERREQ"),
    (0xEB, "USERRFS"),
    (0xEC, "USERPND"),
    (0xED, "USERDCR"),
    (0xEE, "USERDCU"),
];

/// An abort's type and reason code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AbortReason {
    pub abort_type: AbortType,
    pub code: u8,
}

impl AbortReason {
    /// The reason's name from the tables above, or `None` for an unassigned code.
    pub fn name(&self) -> Option<&'static str> {
        let table = match self.abort_type {
            AbortType::Provider => PROVIDER_ABORT_REASONS,
            AbortType::User => USER_ABORT_REASONS,
        };
        table.iter().find(|(c, _)| *c == self.code).map(|(_, n)| *n)
    }
}

impl std::fmt::Display for AbortReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.abort_type {
            AbortType::Provider => "provider",
            AbortType::User => "user",
        };
        match self.name() {
            Some(name) => write!(f, "{kind} {name}"),
            None => write!(f, "{kind} {:#04x}", self.code),
        }
    }
}

/// TPI identities (WAP-224 9.3.x, table 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TpiKind {
    Error,
    Info,
    Option,
    PacketSequenceNumber,
    SduBoundary,
    FrameBoundary,
    Unknown(u8),
}

pub const TPI_IDENTITIES: &[(u8, TpiKind, &str)] = &[
    (0x00, TpiKind::Error, "Error"),
    (0x01, TpiKind::Info, "Info"),
    (0x02, TpiKind::Option, "Option"),
    (
        0x03,
        TpiKind::PacketSequenceNumber,
        "Packet Sequence Number",
    ),
    (0x04, TpiKind::SduBoundary, "SDU Boundary"),
    (0x05, TpiKind::FrameBoundary, "Frame Boundary"),
];

/// Option TPI identities (WAP-224 9.3.3).
pub const TPI_OPTIONS: &[(u8, &str)] = &[
    (0x01, "Maximum Receive Unit"),
    (0x02, "Total Message Size"),
    (0x03, "Delay Transmission Timer"),
    (0x04, "Maximum Group Size"),
    (0x05, "Current TID"),
    (0x06, "No Cached TID"),
];

impl TpiKind {
    pub fn from_code(code: u8) -> Self {
        TPI_IDENTITIES
            .iter()
            .find(|(c, _, _)| *c == code)
            .map_or(TpiKind::Unknown(code), |(_, k, _)| *k)
    }

    pub fn code(self) -> u8 {
        match self {
            TpiKind::Unknown(c) => c & 0x0F,
            known => TPI_IDENTITIES
                .iter()
                .find(|(_, k, _)| *k == known)
                .map_or(0, |(c, _, _)| *c),
        }
    }
}

/// One Transport Information Item. `data` is the TPI's value (for an Option TPI: the option
/// identity octet followed by the option value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tpi<'a> {
    pub kind: TpiKind,
    pub data: &'a [u8],
}

impl Tpi<'_> {
    /// The PSN carried by a Packet Sequence Number TPI.
    pub fn psn(&self) -> Option<u8> {
        match self.kind {
            TpiKind::PacketSequenceNumber => self.data.first().copied(),
            _ => None,
        }
    }
}

/// The fields common to Invoke/Result and their segmented forms: one packet of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WtpSegment<'a> {
    /// Packet sequence number: 0 for Invoke and Result, from the header for segmented PDUs.
    pub psn: u8,
    /// Group trailer: last packet of a packet group.
    pub gtr: bool,
    /// Transmission trailer: last packet of the message.
    pub ttr: bool,
    pub payload: &'a [u8],
}

/// The Invoke-only header octet (WAP-224 9.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvokeHeader {
    /// WTP version (0 for this specification).
    pub version: u8,
    pub tid_new: bool,
    /// U/P: the initiator wants a user acknowledgement.
    pub user_ack: bool,
    pub class: TransactionClass,
}

/// PDU-type-specific fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WtpBody<'a> {
    Invoke {
        header: InvokeHeader,
        segment: WtpSegment<'a>,
    },
    Result(WtpSegment<'a>),
    Ack {
        /// Tve/Tok: TID verification request (from the responder) or TID OK (from the initiator).
        tid_verify: bool,
    },
    Abort(AbortReason),
    SegmentedInvoke(WtpSegment<'a>),
    SegmentedResult(WtpSegment<'a>),
    NegativeAck {
        /// PSNs the receiver asks to be sent again.
        missing: &'a [u8],
    },
}

/// One WTP PDU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WtpPdu<'a> {
    pub tid: Tid,
    /// Retransmission indicator (not present in Abort).
    pub rid: bool,
    pub tpis: Vec<Tpi<'a>>,
    pub body: WtpBody<'a>,
}

/// Whether a message is the initiator's Invoke or the responder's Result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WtpMessageKind {
    Invoke,
    Result,
}

impl WtpMessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WtpMessageKind::Invoke => "invoke",
            WtpMessageKind::Result => "result",
        }
    }
}

impl<'a> WtpPdu<'a> {
    pub fn pdu_type(&self) -> WtpPduType {
        match self.body {
            WtpBody::Invoke { .. } => WtpPduType::Invoke,
            WtpBody::Result(_) => WtpPduType::Result,
            WtpBody::Ack { .. } => WtpPduType::Ack,
            WtpBody::Abort(_) => WtpPduType::Abort,
            WtpBody::SegmentedInvoke(_) => WtpPduType::SegmentedInvoke,
            WtpBody::SegmentedResult(_) => WtpPduType::SegmentedResult,
            WtpBody::NegativeAck { .. } => WtpPduType::NegativeAck,
        }
    }

    /// The message packet this PDU carries, if it is an Invoke, Result or a segment of either.
    pub fn segment(&self) -> Option<(WtpMessageKind, WtpSegment<'a>)> {
        match &self.body {
            WtpBody::Invoke { segment, .. } | WtpBody::SegmentedInvoke(segment) => {
                Some((WtpMessageKind::Invoke, *segment))
            }
            WtpBody::Result(segment) | WtpBody::SegmentedResult(segment) => {
                Some((WtpMessageKind::Result, *segment))
            }
            _ => None,
        }
    }

    /// The PSN of a Packet Sequence Number TPI (a group acknowledgement in an Ack).
    pub fn psn_tpi(&self) -> Option<u8> {
        self.tpis.iter().find_map(Tpi::psn)
    }
}

/// A small bounds-checked reader over one PDU.
struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Added to `pos` in error offsets (the PDU's place in its datagram).
    base: usize,
}

impl<'a> Cursor<'a> {
    fn u8(&mut self, field: &'static str) -> Result<u8, WtpError> {
        let b = self
            .bytes
            .get(self.pos)
            .copied()
            .ok_or(WtpError::Truncated {
                field,
                offset: self.base.saturating_add(self.pos),
            })?;
        self.pos = self.pos.saturating_add(1);
        Ok(b)
    }

    fn u16(&mut self, field: &'static str) -> Result<u16, WtpError> {
        let hi = self.u8(field)?;
        let lo = self.u8(field)?;
        Ok(u16::from_be_bytes([hi, lo]))
    }

    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], WtpError> {
        let end = self.pos.checked_add(n).ok_or(WtpError::Truncated {
            field,
            offset: self.base.saturating_add(self.pos),
        })?;
        let s = self.bytes.get(self.pos..end).ok_or(WtpError::Truncated {
            field,
            offset: self.base.saturating_add(self.pos),
        })?;
        self.pos = end;
        Ok(s)
    }

    fn rest(&mut self) -> &'a [u8] {
        let s = self.bytes.get(self.pos..).unwrap_or(&[]);
        self.pos = self.bytes.len();
        s
    }

    fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }
}

/// Parses the TPI chain (WAP-224 9.3): each TPI's first octet is `CON | identity (4) | long | len
/// (2)`; a long TPI carries its length in the next octet. CON on a TPI says another follows.
fn parse_tpis<'a>(cur: &mut Cursor<'a>) -> Result<Vec<Tpi<'a>>, WtpError> {
    let mut tpis = Vec::new();
    loop {
        if tpis.len() >= MAX_TPIS {
            return Err(WtpError::TooManyTpis {
                max: MAX_TPIS,
                offset: cur.offset(),
            });
        }
        let first = cur.u8("TPI header")?;
        let more = first & 0x80 != 0;
        let kind = TpiKind::from_code((first >> 3) & 0x0F);
        let len = if first & 0x04 != 0 {
            usize::from(cur.u8("long TPI length")?)
        } else {
            usize::from(first & 0x03)
        };
        let data = cur.take(len, "TPI data")?;
        tpis.push(Tpi { kind, data });
        if !more {
            return Ok(tpis);
        }
    }
}

/// Parses one WTP PDU (no concatenation). `base` is the PDU's offset in its datagram, for errors.
pub fn parse_pdu_at(bytes: &[u8], base: usize) -> Result<WtpPdu<'_>, WtpError> {
    let mut cur = Cursor {
        bytes,
        pos: 0,
        base,
    };
    let first = cur.u8("fixed header")?;
    let con = first & 0x80 != 0;
    let code = (first >> 3) & 0x0F;
    let pdu_type = WtpPduType::from_code(code).ok_or(WtpError::UnknownPduType {
        pdu_type: code,
        offset: base,
    })?;
    let gtr = first & 0x04 != 0;
    let ttr = first & 0x02 != 0;
    let rid = first & 0x01 != 0;
    let tid = Tid::from_wire(cur.u16("TID")?);

    // Type-specific fixed-header fields come before the TPIs (WAP-224 9.3).
    enum Pending {
        Invoke(InvokeHeader),
        Segment(u8),
        Plain,
        Abort(AbortReason),
        Nack(usize),
    }
    let pending = match pdu_type {
        WtpPduType::Invoke => {
            let at = cur.offset();
            let octet = cur.u8("Invoke header")?;
            let class_bits = octet & 0x03;
            let class = TransactionClass::from_bits(class_bits).ok_or(WtpError::InvalidField {
                field: "transaction class",
                value: u32::from(class_bits),
                offset: at,
            })?;
            Pending::Invoke(InvokeHeader {
                version: octet >> 6,
                tid_new: octet & 0x20 != 0,
                user_ack: octet & 0x10 != 0,
                class,
            })
        }
        WtpPduType::SegmentedInvoke | WtpPduType::SegmentedResult => {
            Pending::Segment(cur.u8("packet sequence number")?)
        }
        WtpPduType::Result | WtpPduType::Ack => Pending::Plain,
        WtpPduType::Abort => {
            let type_bits = first & 0x07;
            let abort_type = match type_bits {
                0 => AbortType::Provider,
                1 => AbortType::User,
                other => {
                    return Err(WtpError::InvalidField {
                        field: "abort type",
                        value: u32::from(other),
                        offset: base,
                    });
                }
            };
            let code = cur.u8("abort reason")?;
            Pending::Abort(AbortReason { abort_type, code })
        }
        WtpPduType::NegativeAck => Pending::Nack(usize::from(cur.u8("number of missing packets")?)),
    };
    let missing = match pending {
        Pending::Nack(n) => cur.take(n, "missing PSNs")?,
        _ => &[],
    };
    let tpis = if con {
        parse_tpis(&mut cur)?
    } else {
        Vec::new()
    };
    let body = match pending {
        Pending::Invoke(header) => WtpBody::Invoke {
            header,
            segment: WtpSegment {
                psn: 0,
                gtr,
                ttr,
                payload: cur.rest(),
            },
        },
        Pending::Segment(psn) => {
            let segment = WtpSegment {
                psn,
                gtr,
                ttr,
                payload: cur.rest(),
            };
            if pdu_type == WtpPduType::SegmentedInvoke {
                WtpBody::SegmentedInvoke(segment)
            } else {
                WtpBody::SegmentedResult(segment)
            }
        }
        Pending::Plain if pdu_type == WtpPduType::Result => WtpBody::Result(WtpSegment {
            psn: 0,
            gtr,
            ttr,
            payload: cur.rest(),
        }),
        Pending::Plain => WtpBody::Ack { tid_verify: gtr },
        Pending::Abort(reason) => WtpBody::Abort(reason),
        Pending::Nack(_) => WtpBody::NegativeAck { missing },
    };
    Ok(WtpPdu {
        tid,
        rid: rid && pdu_type != WtpPduType::Abort,
        tpis,
        body,
    })
}

/// Parses one WTP PDU (no concatenation).
pub fn parse_pdu(bytes: &[u8]) -> Result<WtpPdu<'_>, WtpError> {
    parse_pdu_at(bytes, 0)
}

/// True when a datagram holds concatenated PDUs (first octet 0x00, WAP-224 9.1.1).
pub fn is_concatenated(datagram: &[u8]) -> bool {
    datagram.first() == Some(&0x00)
}

/// Splits a datagram into its PDUs with their offsets. A plain datagram is one PDU; a concatenated
/// one is `0x00` then, per PDU, a length of one octet (MSB 0, 7 bits) or two octets (MSB 1, 15
/// bits) followed by that many octets.
pub fn split_datagram(datagram: &[u8]) -> Result<Vec<(usize, &[u8])>, WtpError> {
    if !is_concatenated(datagram) {
        if datagram.is_empty() {
            return Err(WtpError::Empty { offset: 0 });
        }
        return Ok(vec![(0, datagram)]);
    }
    let mut parts = Vec::new();
    let mut cur = Cursor {
        bytes: datagram,
        pos: 1,
        base: 0,
    };
    while cur.pos < datagram.len() {
        let at = cur.offset();
        let first = cur.u8("concatenated PDU length")?;
        let len = if first & 0x80 != 0 {
            let second = cur.u8("concatenated PDU length")?;
            usize::from(u16::from_be_bytes([first & 0x7F, second]))
        } else {
            usize::from(first)
        };
        if len == 0 {
            return Err(WtpError::Empty { offset: at });
        }
        let start = cur.offset();
        let pdu = cur
            .take(len, "concatenated PDU")
            .map_err(|_| WtpError::ConcatenationOverrun { len, offset: at })?;
        parts.push((start, pdu));
    }
    if parts.is_empty() {
        return Err(WtpError::Empty { offset: 1 });
    }
    Ok(parts)
}

/// Parses every PDU of a datagram; fails on the first bad one.
pub fn parse_datagram(datagram: &[u8]) -> Result<Vec<WtpPdu<'_>>, WtpError> {
    split_datagram(datagram)?
        .into_iter()
        .map(|(offset, bytes)| parse_pdu_at(bytes, offset))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Encoders

fn encode_tpis(tpis: &[Tpi<'_>], out: &mut Vec<u8>) {
    let count = tpis.len();
    for (i, tpi) in tpis.iter().enumerate() {
        let more = if i.saturating_add(1) < count { 0x80 } else { 0 };
        let id = (tpi.kind.code() & 0x0F) << 3;
        // Values longer than 255 octets cannot be expressed; they are cut to fit.
        let data = tpi.data.get(..tpi.data.len().min(255)).unwrap_or(&[]);
        if data.len() <= 3 {
            out.push(more | id | data.len() as u8);
        } else {
            out.push(more | id | 0x04);
            out.push(data.len() as u8);
        }
        out.extend_from_slice(data);
    }
}

impl WtpPdu<'_> {
    /// Encodes the PDU. CON is set exactly when `tpis` is not empty.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let con: u8 = if self.tpis.is_empty() { 0 } else { 0x80 };
        let code = self.pdu_type().code() << 3;
        let rid = u8::from(self.rid);
        let flags = |s: &WtpSegment<'_>| (u8::from(s.gtr) << 2) | (u8::from(s.ttr) << 1) | rid;
        let tid = self.tid.to_wire().to_be_bytes();
        let mut payload: &[u8] = &[];
        match &self.body {
            WtpBody::Invoke { header, segment } => {
                out.push(con | code | flags(segment));
                out.extend_from_slice(&tid);
                out.push(
                    ((header.version & 0x03) << 6)
                        | (u8::from(header.tid_new) << 5)
                        | (u8::from(header.user_ack) << 4)
                        | header.class.bits(),
                );
                payload = segment.payload;
            }
            WtpBody::Result(segment) => {
                out.push(con | code | flags(segment));
                out.extend_from_slice(&tid);
                payload = segment.payload;
            }
            WtpBody::SegmentedInvoke(segment) | WtpBody::SegmentedResult(segment) => {
                out.push(con | code | flags(segment));
                out.extend_from_slice(&tid);
                out.push(segment.psn);
                payload = segment.payload;
            }
            WtpBody::Ack { tid_verify } => {
                out.push(con | code | (u8::from(*tid_verify) << 2) | rid);
                out.extend_from_slice(&tid);
            }
            WtpBody::Abort(reason) => {
                let t = match reason.abort_type {
                    AbortType::Provider => 0,
                    AbortType::User => 1,
                };
                out.push(con | code | t);
                out.extend_from_slice(&tid);
                out.push(reason.code);
            }
            WtpBody::NegativeAck { missing } => {
                out.push(con | code | rid);
                out.extend_from_slice(&tid);
                let missing = missing.get(..missing.len().min(255)).unwrap_or(&[]);
                out.push(missing.len() as u8);
                out.extend_from_slice(missing);
            }
        }
        encode_tpis(&self.tpis, out);
        out.extend_from_slice(payload);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(&mut out);
        out
    }
}

/// Concatenates encoded PDUs into one datagram (WAP-224 9.1.1). PDUs longer than 0x7FFF octets
/// cannot be concatenated and are left out.
pub fn encode_concatenated(pdus: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![0x00];
    for pdu in pdus {
        let len = pdu.len();
        if len == 0 || len > 0x7FFF {
            continue;
        }
        if len < 0x80 {
            out.push(len as u8);
        } else {
            out.extend_from_slice(&((len as u16) | 0x8000).to_be_bytes());
        }
        out.extend_from_slice(pdu);
    }
    out
}

/// How to cut a message into WTP packets for [`encode_segmented`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentPlan {
    /// User data octets per packet (at least 1).
    pub segment_size: usize,
    /// Packets per group (at least 1): GTR is set on the last packet of each group.
    pub group_size: usize,
}

/// Encodes a whole message as WTP packets: an Invoke (initiator) or Result (responder) carrying
/// PSN 0, then Segmented Invoke/Result PDUs with PSN 1, 2, ...; GTR ends each group and TTR the
/// message (GTR is not set on the last packet, WAP-224 9.3.1). At most 256 packets: the message is
/// cut short beyond that.
pub fn encode_segmented(
    kind: WtpMessageKind,
    tid: u16,
    invoke: InvokeHeader,
    data: &[u8],
    plan: SegmentPlan,
) -> Vec<Vec<u8>> {
    let size = plan.segment_size.max(1);
    let group = plan.group_size.max(1);
    let chunks: Vec<&[u8]> = if data.is_empty() {
        vec![&[]]
    } else {
        data.chunks(size).take(256).collect()
    };
    let last = chunks.len().saturating_sub(1);
    let tid = match kind {
        WtpMessageKind::Invoke => Tid::initiator(tid),
        WtpMessageKind::Result => Tid::responder(tid),
    };
    chunks
        .iter()
        .enumerate()
        .map(|(i, payload)| {
            let ttr = i == last;
            let gtr = !ttr && (i.saturating_add(1)) % group == 0;
            let segment = WtpSegment {
                psn: i as u8,
                gtr,
                ttr,
                payload,
            };
            let body = match (kind, i) {
                (WtpMessageKind::Invoke, 0) => WtpBody::Invoke {
                    header: invoke,
                    segment,
                },
                (WtpMessageKind::Result, 0) => WtpBody::Result(segment),
                (WtpMessageKind::Invoke, _) => WtpBody::SegmentedInvoke(segment),
                (WtpMessageKind::Result, _) => WtpBody::SegmentedResult(segment),
            };
            WtpPdu {
                tid,
                rid: false,
                tpis: Vec::new(),
                body,
            }
            .to_bytes()
        })
        .collect()
}

/// An Ack PDU; `group_psn` adds a Packet Sequence Number TPI acknowledging a packet group.
pub fn encode_ack(tid: Tid, tid_verify: bool, group_psn: Option<u8>) -> Vec<u8> {
    let psn = group_psn.map(|p| [p]);
    let tpis = match &psn {
        Some(p) => vec![Tpi {
            kind: TpiKind::PacketSequenceNumber,
            data: p,
        }],
        None => Vec::new(),
    };
    WtpPdu {
        tid,
        rid: false,
        tpis,
        body: WtpBody::Ack { tid_verify },
    }
    .to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoke_class2() {
        // 0x0A = CON 0 | type 0001 | GTR 0 | TTR 1 | RID 0; TID 0x0001; 0x12 = version 0, TIDnew 0,
        // U/P 1, class 2; then the WSP payload.
        let bytes = [0x0A, 0x00, 0x01, 0x12, 0x40, 0x01];
        let pdu = parse_pdu(&bytes).unwrap();
        assert_eq!(pdu.tid, Tid::initiator(1));
        assert!(!pdu.rid);
        match pdu.body {
            WtpBody::Invoke { header, segment } => {
                assert_eq!(header.class, TransactionClass::Class2);
                assert!(header.user_ack);
                assert!(!header.tid_new);
                assert_eq!(header.version, 0);
                assert!(segment.ttr && !segment.gtr);
                assert_eq!(segment.payload, &[0x40, 0x01]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(pdu.to_bytes(), bytes);
    }

    #[test]
    fn invoke_bad_class() {
        assert!(matches!(
            parse_pdu(&[0x0A, 0x00, 0x01, 0x03]),
            Err(WtpError::InvalidField { .. })
        ));
    }

    #[test]
    fn result_from_responder() {
        // 0x12 = type 0010, TTR; TID 0x8001 (responder, 1).
        let bytes = [0x12, 0x80, 0x01, 0x04, 0x20];
        let pdu = parse_pdu(&bytes).unwrap();
        assert_eq!(pdu.tid, Tid::responder(1));
        let (kind, seg) = pdu.segment().unwrap();
        assert_eq!(kind, WtpMessageKind::Result);
        assert_eq!(seg.payload, &[0x04, 0x20]);
        assert_eq!(pdu.to_bytes(), bytes);
    }

    #[test]
    fn ack_with_psn_tpi() {
        // 0x98 = CON | type 0011; TID 0x0005; TPI 0x19 = identity 3 (PSN), short length 1; PSN 7.
        let bytes = [0x98, 0x00, 0x05, 0x19, 0x07];
        let pdu = parse_pdu(&bytes).unwrap();
        assert_eq!(pdu.pdu_type(), WtpPduType::Ack);
        assert_eq!(pdu.psn_tpi(), Some(7));
        assert_eq!(pdu.to_bytes(), bytes);
        assert_eq!(encode_ack(Tid::initiator(5), false, Some(7)), bytes);
    }

    #[test]
    fn ack_tid_verify() {
        // 0x1D = type 0011 | Tve 1 | RID 1; TID 0x8005.
        let pdu = parse_pdu(&[0x1D, 0x80, 0x05]).unwrap();
        assert!(pdu.rid);
        assert_eq!(pdu.body, WtpBody::Ack { tid_verify: true });
    }

    #[test]
    fn abort_user_and_provider() {
        // 0x21 = type 0100 | abort type 1 (user); TID 0x8003; reason 0xE1 DISCONNECT.
        let pdu = parse_pdu(&[0x21, 0x80, 0x03, 0xE1]).unwrap();
        match pdu.body {
            WtpBody::Abort(r) => {
                assert_eq!(r.abort_type, AbortType::User);
                assert_eq!(r.name(), Some("DISCONNECT"));
                assert_eq!(r.to_string(), "user DISCONNECT");
            }
            other => panic!("{other:?}"),
        }
        // provider, 0x08 NORESPONSE
        let pdu = parse_pdu(&[0x20, 0x00, 0x03, 0x08]).unwrap();
        assert_eq!(
            pdu.body,
            WtpBody::Abort(AbortReason {
                abort_type: AbortType::Provider,
                code: 8
            })
        );
        assert!(parse_pdu(&[0x22, 0x00, 0x03, 0x08]).is_err());
    }

    #[test]
    fn segmented_invoke_and_result() {
        // 0x2C = type 0101 | GTR; TID 0x0009; PSN 3; data.
        let pdu = parse_pdu(&[0x2C, 0x00, 0x09, 0x03, 0xAA]).unwrap();
        let (kind, seg) = pdu.segment().unwrap();
        assert_eq!(kind, WtpMessageKind::Invoke);
        assert_eq!((seg.psn, seg.gtr, seg.ttr), (3, true, false));
        // 0x32 = type 0110 | TTR; TID 0x8009; PSN 4.
        let pdu = parse_pdu(&[0x32, 0x80, 0x09, 0x04, 0xBB, 0xCC]).unwrap();
        let (kind, seg) = pdu.segment().unwrap();
        assert_eq!(kind, WtpMessageKind::Result);
        assert_eq!((seg.psn, seg.ttr), (4, true));
        assert_eq!(seg.payload, &[0xBB, 0xCC]);
    }

    #[test]
    fn negative_ack() {
        // 0x38 = type 0111; TID 0x8009; 2 missing: PSN 2 and 5.
        let bytes = [0x38, 0x80, 0x09, 0x02, 0x02, 0x05];
        let pdu = parse_pdu(&bytes).unwrap();
        assert_eq!(pdu.body, WtpBody::NegativeAck { missing: &[2, 5] });
        assert_eq!(pdu.to_bytes(), bytes);
        assert!(parse_pdu(&[0x38, 0x80, 0x09, 0x03, 0x02]).is_err());
    }

    #[test]
    fn long_tpi_and_option_tpi() {
        // Invoke with CON: TPI 0x94 = CON | identity 2 (Option) | long; length 0x05; option 0x02
        // (total message size) value 00 00 10 00; then TPI 0x08 = identity 1 (Info), short
        // length 0. Then the payload 0xEE.
        let bytes = [
            0x8A, 0x00, 0x02, 0x02, 0x94, 0x05, 0x02, 0x00, 0x00, 0x10, 0x00, 0x08, 0xEE,
        ];
        let pdu = parse_pdu(&bytes).unwrap();
        assert_eq!(pdu.tpis.len(), 2);
        assert_eq!(pdu.tpis[0].kind, TpiKind::Option);
        assert_eq!(pdu.tpis[0].data, &[0x02, 0x00, 0x00, 0x10, 0x00]);
        assert_eq!(pdu.tpis[1].kind, TpiKind::Info);
        assert_eq!(pdu.segment().unwrap().1.payload, &[0xEE]);
        assert_eq!(pdu.to_bytes(), bytes);
    }

    #[test]
    fn truncated_tpi() {
        assert!(matches!(
            parse_pdu(&[0x98, 0x00, 0x05, 0x1A, 0x07]),
            Err(WtpError::Truncated { .. })
        ));
        // CON set, nothing follows.
        assert!(parse_pdu(&[0x98, 0x00, 0x05]).is_err());
    }

    #[test]
    fn unknown_type_and_truncated_header() {
        assert!(matches!(
            parse_pdu(&[0x40, 0, 0]),
            Err(WtpError::UnknownPduType { pdu_type: 8, .. })
        ));
        assert!(parse_pdu(&[0x0A, 0x00]).is_err());
        assert!(parse_pdu(&[]).is_err());
    }

    #[test]
    fn concatenation() {
        // 0x00 marker; 0x03 + Ack; 0x80 0x05 (two-octet length 5) + Result.
        let bytes = [
            0x00, 0x03, 0x18, 0x00, 0x07, 0x80, 0x05, 0x12, 0x80, 0x08, 0x04, 0x20,
        ];
        let pdus = parse_datagram(&bytes).unwrap();
        assert_eq!(pdus.len(), 2);
        assert_eq!(pdus[0].pdu_type(), WtpPduType::Ack);
        assert_eq!(pdus[1].pdu_type(), WtpPduType::Result);
        let parts = split_datagram(&bytes).unwrap();
        assert_eq!(parts[1].0, 7);
        let enc = encode_concatenated(&[pdus[0].to_bytes(), pdus[1].to_bytes()]);
        assert_eq!(
            enc,
            [
                0x00, 0x03, 0x18, 0x00, 0x07, 0x05, 0x12, 0x80, 0x08, 0x04, 0x20
            ]
        );
        assert!(parse_datagram(&[0x00, 0x05, 0x18]).is_err());
        assert!(parse_datagram(&[0x00]).is_err());
        assert!(parse_datagram(&[0x00, 0x00]).is_err());
    }

    #[test]
    fn segmented_encoding() {
        let data: Vec<u8> = (0..10).collect();
        let header = InvokeHeader {
            version: 0,
            tid_new: false,
            user_ack: false,
            class: TransactionClass::Class2,
        };
        let pkts = encode_segmented(
            WtpMessageKind::Invoke,
            7,
            header,
            &data,
            SegmentPlan {
                segment_size: 3,
                group_size: 2,
            },
        );
        assert_eq!(pkts.len(), 4);
        let segs: Vec<_> = pkts
            .iter()
            .map(|p| parse_pdu(p).unwrap().segment().unwrap().1)
            .map(|s| (s.psn, s.gtr, s.ttr, s.payload.to_vec()))
            .collect();
        assert_eq!(segs[0], (0, false, false, vec![0, 1, 2]));
        assert_eq!(segs[1], (1, true, false, vec![3, 4, 5]));
        assert_eq!(segs[2], (2, false, false, vec![6, 7, 8]));
        assert_eq!(segs[3], (3, false, true, vec![9]));
    }
}
