//! WTP (WAP-224): the Wireless Transaction Protocol carrying connection-oriented WSP on UDP 9201
//! (push 2949). [`parser`] decodes and encodes single PDUs and concatenations; [`sar`] pairs Invoke
//! and Result messages per transaction and reassembles segmented ones.

pub mod parser;
pub mod sar;

pub use parser::{
    AbortReason, AbortType, InvokeHeader, Tid, TransactionClass, WtpBody, WtpError, WtpMessageKind,
    WtpPdu, WtpPduType, WtpSegment, parse_datagram, parse_pdu,
};
pub use sar::{SarLimits, TransactionEnd, WtpMessage, WtpReassembler, WtpTransaction};
