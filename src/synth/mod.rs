//! Generated captures with known answers, for tests, benchmarks and training labs.
//!
//! [`generate`] writes one capture per scenario (see [`SCENARIOS`]) into a folder, each with an
//! answer key beside it: `<capture>.answers.json` is the `mmsleak.report/1` report a correct
//! `mmsleak scan --format json <capture>` produces when run from inside that folder (input paths
//! in the key are the bare file names). The key is built from what the generator put on the wire,
//! not by running the scanner.
//!
//! Everything is derived from the seed: addresses (documentation ranges only), `+1 555 01xx`
//! numbers, names, `example.*` hosts, content-location tokens, timing, image content and the
//! capture's start date. The same seed always gives the same bytes.

pub mod answer;
pub mod lab;
pub mod media;
pub mod mixed;
pub mod msg;
pub mod net;
pub mod scenarios;
pub mod tlsgen;
pub mod wap;
pub mod web;

use std::io;
use std::path::{Path, PathBuf};

/// What to generate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SynthOptions {
    pub seed: u64,
    /// Scenario names from [`SCENARIOS`]; empty means all of them (unless `size_mb` is set and
    /// no scenario is named: then only the mixed capture is written).
    pub scenarios: Vec<String>,
    /// Also write one large mixed capture of about this many megabytes (`mixed-<N>mb.pcap`).
    pub size_mb: Option<u64>,
}

/// One file written by [`generate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedCapture {
    pub scenario: String,
    pub capture: PathBuf,
    /// The answer key (`<capture>.answers.json`); `None` for the mixed benchmark capture.
    pub answers: Option<PathBuf>,
    /// Other files written beside it (the mixed capture's `.counts.json` and `.README`).
    pub extra: Vec<PathBuf>,
    pub packets: u64,
}

/// Scenario names (the contract with tests and the lab guide) and what each shows.
pub const SCENARIOS: &[(&str, &str)] = &[
    (
        "wap-push-notification",
        "WAP Push of an m-notification-ind (UDP 2948), connectionless WSP Get of the content \
         location answered by an m-retrieve-conf (JPEG with EXIF GPS, text with a phone number \
         and an e-mail, SMIL), m-notifyresp-ind and m-acknowledge-ind over WSP Post",
    ),
    (
        "wtp-segmented-upload",
        "WSP session over WTP (UDP 9201): Connect/ConnectReply, then an m-send-req of a few KB \
         (photo, vCard, text) segmented in two packet groups with a retransmitted and an \
         out-of-order segment, answered by an m-send-conf",
    ),
    (
        "http-mmsc",
        "HTTP/1.1 MMSC: POST of an m-send-req and its m-send-conf on one keep-alive connection, \
         a chunked m-retrieve-conf on port 8002, operator-injected X-MSISDN/X-IMSI headers, \
         Basic Authorization, a Cookie and a token in the query string",
    ),
    (
        "push-then-http-retrieval",
        "WAP Push notification, HTTP retrieval by the notified handset, a second fetch of the \
         same URL by another client, and short sequential content-location tokens",
    ),
    (
        "tls-mmsc",
        "TLS 1.3 and TLS 1.2 sessions to mms.example.com (SNI, ALPN) with opaque application \
         data, and a TLS 1.1 session (weak encryption)",
    ),
    ("wtls", "WTLS records on UDP 9203 (weak encryption)"),
    (
        "forward-and-mailbox",
        "m-forward-req/conf, Previously-Sent-By/Date, Bcc left in an m-retrieve-conf, an \
         m-send-req to 12 recipients, MMBox store, delivery and read reports tied by Message-ID",
    ),
    (
        "gtp-u",
        "one MMS exchange inside GTP-U (UDP 2152) with different uplink and downlink TEIDs",
    ),
    (
        "ip-fragments",
        "a WSP datagram fragmented over IPv4 and another over IPv6",
    ),
    (
        "tcp-anomalies",
        "HTTP MMS with out-of-order, retransmitted and overlapping segments, and a connection \
         whose start was not captured",
    ),
    (
        "link-layers",
        "one pcapng with Ethernet, 802.1Q, QinQ, Linux SLL and SLL2, raw IP (101, 228, 229), \
         BSD null and OpenBSD loop interfaces, an MMS exchange on each",
    ),
    (
        "formats",
        "the same exchange as pcap (microseconds, little-endian), pcap (nanoseconds, \
         big-endian), pcapng (big-endian) and gzip-compressed pcap",
    ),
];

/// A small deterministic PRNG (splitmix64): the generator needs reproducibility, not quality.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x6D6D_736C_6561_6B21)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo.saturating_add(self.below(hi.saturating_sub(lo).saturating_add(1)))
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len() as u64) as usize)
    }

    /// A token of `len` characters from `alphabet`.
    pub fn token(&mut self, len: usize, alphabet: &[u8]) -> String {
        (0..len)
            .filter_map(|_| self.pick(alphabet).map(|&b| char::from(b)))
            .collect()
    }

    /// A strong content-location token: mixed-case letters and digits.
    pub fn strong_token(&mut self, len: usize) -> String {
        self.token(
            len,
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
        )
    }

    /// A derived generator, so that adding draws to one part does not shift another.
    pub fn fork(&mut self, salt: u64) -> Rng {
        Rng(self.next_u64() ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// Writes the requested scenarios (and the mixed capture) into `outdir`, creating it.
pub fn generate(outdir: &Path, options: &SynthOptions) -> io::Result<Vec<GeneratedCapture>> {
    std::fs::create_dir_all(outdir)?;
    for name in &options.scenarios {
        if !SCENARIOS.iter().any(|(n, _)| n == name) {
            let known: Vec<&str> = SCENARIOS.iter().map(|(n, _)| *n).collect();
            return Err(invalid(format!(
                "unknown scenario '{name}' (known: {})",
                known.join(", ")
            )));
        }
    }
    let names: Vec<&str> = if options.scenarios.is_empty() {
        if options.size_mb.is_some() {
            Vec::new()
        } else {
            SCENARIOS.iter().map(|(n, _)| *n).collect()
        }
    } else {
        options.scenarios.iter().map(String::as_str).collect()
    };
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        // Each scenario has its own stream, so selecting a subset gives the same files.
        let index = SCENARIOS.iter().position(|(n, _)| n == name).unwrap_or(i) as u64;
        let seed = options.seed ^ index.wrapping_mul(0xA076_1D64_78BD_642F);
        out.extend(scenarios::build(name, seed, outdir)?);
    }
    if let Some(mb) = options.size_mb {
        out.push(mixed::write_mixed(outdir, options.seed, mb)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rng_is_deterministic_and_bounded() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        for _ in 0..1000 {
            let v = a.range(3, 9);
            assert!((3..=9).contains(&v));
        }
        assert_eq!(a.below(0), 0);
        assert_eq!(a.strong_token(32).len(), 32);
    }
}
