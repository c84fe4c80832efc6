//! Guessing which side of a flow is the server when the handshake was not seen.

/// Ports whose owner is taken to be the server of a flow (IANA service names).
pub const WELL_KNOWN_SERVER_PORTS: &[(u16, &str)] = &[
    (80, "http"),
    (443, "https"),
    (2948, "wap-push"),
    (2949, "wap-pushsecure"),
    (8080, "http-alt"),
    (9200, "wap-wsp"),
    (9201, "wap-wsp-wtp"),
    (9202, "wap-wsp-s"),
    (9203, "wap-wsp-wtp-s"),
];

/// Ports below this are system ports (RFC 6335 §6), taken as servers against higher ones.
const SYSTEM_PORT_LIMIT: u16 = 1024;

fn is_well_known(port: u16) -> bool {
    WELL_KNOWN_SERVER_PORTS.iter().any(|(p, _)| *p == port)
}

/// Which port of a packet belongs to the server, judged by the ports alone: `Some(true)` for the
/// destination, `Some(false)` for the source, `None` when the ports do not tell.
pub fn destination_is_server(src_port: u16, dst_port: u16) -> Option<bool> {
    match (is_well_known(src_port), is_well_known(dst_port)) {
        (false, true) => return Some(true),
        (true, false) => return Some(false),
        _ => {}
    }
    match (src_port < SYSTEM_PORT_LIMIT, dst_port < SYSTEM_PORT_LIMIT) {
        (false, true) => Some(true),
        (true, false) => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_decide_roles() {
        assert_eq!(destination_is_server(49152, 80), Some(true));
        assert_eq!(destination_is_server(9200, 50000), Some(false));
        assert_eq!(destination_is_server(2000, 2948), Some(true));
        assert_eq!(destination_is_server(80, 8080), Some(false));
        assert_eq!(destination_is_server(9200, 9201), None);
        assert_eq!(destination_is_server(5000, 25), Some(true));
        assert_eq!(destination_is_server(40000, 50000), None);
        assert_eq!(destination_is_server(22, 25), None);
    }
}
