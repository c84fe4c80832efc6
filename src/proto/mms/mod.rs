//! MMS encapsulation (OMA-TS-MMS-ENC 1.0–1.3): the binary PDUs exchanged between a phone and
//! its MMSC, carried in WSP or HTTP bodies of type `application/vnd.wap.mms-message`.
//!
//! - [`decode`] turns bytes into an [`MmsPdu`] (headers, typed values, body parts), reporting
//!   damage as issues and failing only when the bytes are not an MMS PDU at all;
//! - [`encode`] writes any PDU the types can express;
//! - [`looks_like_mms`] is a cheap sniff for bodies without a useful content type.

pub mod address;
pub mod body;
pub mod decode;
pub mod encode;
pub mod pdu;
pub mod tables;

pub use address::{Address, AddressKind, classify_address};
pub use decode::{DecodeContext, MmsDecodeError, decode, looks_like_mms};
pub use encode::{MmsEncodeError, encode};
pub use pdu::{
    MessageType, MmsBody, MmsHeader, MmsHeaderName, MmsPart, MmsPdu, MmsValue, TimeSpec,
};
pub use tables::{MmsField, ValueKind};
