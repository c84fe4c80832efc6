//! Generated captures with known answers, for tests, benchmarks and training labs.

pub mod media;
pub mod net;
