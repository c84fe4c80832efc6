//! WSP (WAP-230): PDUs, the binary header codec, multipart, and sessions.

pub mod encoding;
pub mod headers;
pub mod multipart;
pub mod pdu;
pub mod session;
