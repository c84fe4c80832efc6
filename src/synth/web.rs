//! HTTP and TLS carriers (placeholder).

use super::lab::Lab;
use super::scenarios::Cast;
use std::io;

pub fn http_mmsc(_lab: &mut Lab, _cast: &mut Cast) -> io::Result<()> {
    Err(io::Error::other("not yet"))
}
pub fn push_then_http(_lab: &mut Lab, _cast: &mut Cast) -> io::Result<()> {
    Err(io::Error::other("not yet"))
}
pub fn tls_mmsc(_lab: &mut Lab, _cast: &mut Cast) -> io::Result<()> {
    Err(io::Error::other("not yet"))
}
pub fn tcp_anomalies(_lab: &mut Lab, _cast: &mut Cast) -> io::Result<()> {
    Err(io::Error::other("not yet"))
}
