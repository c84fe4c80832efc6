//! TLS: enough of the handshake to say who a flow talks to and how well it is protected.
//!
//! - `parser.rs`: pure parsers for the record header, ClientHello and ServerHello, and the
//!   server_name, ALPN and supported_versions extensions.
//! - `connection.rs`: [`TlsConnection`], per-flow state that reads each direction's hello (across
//!   records and segments, up to a cap) and then stops looking.
//!
//! Content is never visible; what matters to the audit is the server name (is this an MMSC?) and
//! the negotiated version (is it below TLS 1.2?).

mod connection;
pub mod parser;

pub use connection::{TlsConnection, TlsInfo, TlsLimits};
pub use parser::{looks_like_tls, version_label, version_name};

/// Label prefixes and suffixes that name an MMS service centre or gateway.
const MMSC_LABEL_WORDS: &[&str] = &["mmsc", "mms"];

/// Whether `host` names an MMSC: some DNS label is `mms` or `mmsc`, or starts or ends with one
/// of them next to a non-letter (`mms-gw`, `mms1`, `gw_mmsc`), or the name equals or is a
/// subdomain of a name in `extra`. Case-insensitive; a port (`host:8080`) and a trailing dot are
/// ignored.
pub fn is_mmsc_name(host: &str, extra: &[String]) -> bool {
    let name = normalize_host(host);
    if name.is_empty() {
        return false;
    }
    if name.split('.').any(is_mmsc_label) {
        return true;
    }
    extra.iter().any(|e| {
        let e = normalize_host(e);
        let e = e.trim_start_matches('.');
        !e.is_empty() && (name == e || name.strip_suffix(e).is_some_and(|head| head.ends_with('.')))
    })
}

/// Lowercase, without a trailing dot or a `:port` (IPv6 literals in brackets kept whole).
fn normalize_host(host: &str) -> String {
    let host = host.trim();
    let without_port = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else if host.matches(':').count() == 1 {
        host.split(':').next().unwrap_or(host)
    } else {
        host
    };
    without_port.trim_end_matches('.').to_ascii_lowercase()
}

fn is_mmsc_label(label: &str) -> bool {
    MMSC_LABEL_WORDS.iter().any(|word| {
        if label == *word {
            return true;
        }
        let after_prefix = label
            .strip_prefix(word)
            .and_then(|rest| rest.chars().next());
        let before_suffix = label
            .strip_suffix(word)
            .and_then(|rest| rest.chars().next_back());
        after_prefix.is_some_and(|c| !c.is_ascii_alphabetic())
            || before_suffix.is_some_and(|c| !c.is_ascii_alphabetic())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mmsc_names() {
        let none: &[String] = &[];
        for yes in [
            "mms.example.com",
            "mmsc.example.net",
            "mms-gw.example.org",
            "MMSC.Example.COM.",
            "mmsc2.example.com",
            "gw-mms.example.com",
            "mms.example.com:8002",
            "a.b.mms_proxy.example.com",
        ] {
            assert!(is_mmsc_name(yes, none), "{yes}");
        }
        for no in [
            "example.com",
            "comms.example.com",
            "mmsexample.com",
            "www.example.com",
            "",
            "summsc.example.com",
        ] {
            assert!(!is_mmsc_name(no, none), "{no}");
        }
        let extra = vec![
            "Operator.Example".to_string(),
            ".gw.example.net".to_string(),
        ];
        assert!(is_mmsc_name("operator.example", &extra));
        assert!(is_mmsc_name("a.operator.example", &extra));
        assert!(!is_mmsc_name("xoperator.example", &extra));
        assert!(is_mmsc_name("x.gw.example.net", &extra));
    }
}
