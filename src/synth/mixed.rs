//! placeholder

use super::GeneratedCapture;
use std::io;
use std::path::Path;

/// Writes the mixed benchmark capture.
pub fn write_mixed(_outdir: &Path, _seed: u64, _mb: u64) -> io::Result<GeneratedCapture> {
    Err(io::Error::other("not yet"))
}
