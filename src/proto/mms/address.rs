//! MMS addresses (OMA-TS-MMS-ENC 8: `+15550101/TYPE=PLMN`, `192.0.2.1/TYPE=IPv4`, e-mail).

use crate::proto::wsp::encoding::EncodedString;
use serde::Serialize;
use std::fmt;

/// What kind of address an MMS address is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AddressKind {
    /// A phone number (`/TYPE=PLMN`, or bare digits).
    Plmn,
    Ipv4,
    Ipv6,
    Email,
    /// Any other `/TYPE=` or an unrecognisable string.
    Other,
}

/// An address as encoded, plus its kind and a normalised form for comparisons and audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Address {
    /// The text as sent, e.g. `+15550101/TYPE=PLMN`.
    pub value: EncodedString,
    pub kind: AddressKind,
    /// PLMN: `+` and digits (E.164 when international); e-mail: lower case `local@domain`;
    /// IP: the address; other: the text without `/TYPE=...`.
    pub normalized: String,
}

impl Address {
    pub fn new(value: EncodedString) -> Self {
        let (kind, normalized) = classify_address(&value.text);
        Address {
            value,
            kind,
            normalized,
        }
    }
    /// From plain text (no charset).
    pub fn from_text(text: impl Into<String>) -> Self {
        Address::new(EncodedString::plain(text))
    }
    /// The address as encoded.
    pub fn as_str(&self) -> &str {
        &self.value.text
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value.text)
    }
}

/// Classifies and normalises an address as written in an MMS header.
pub fn classify_address(text: &str) -> (AddressKind, String) {
    let trimmed = text.trim();
    let (body, ty) = match trimmed.rfind("/TYPE=").or_else(|| {
        let lower = trimmed.to_ascii_lowercase();
        lower.rfind("/type=")
    }) {
        Some(i) => (
            trimmed.get(..i).unwrap_or(trimmed),
            trimmed.get(i + 6..).unwrap_or(""),
        ),
        None => (trimmed, ""),
    };
    let ty_l = ty.to_ascii_lowercase();
    match ty_l.as_str() {
        "plmn" => return (AddressKind::Plmn, normalize_phone(body)),
        "ipv4" => return (AddressKind::Ipv4, body.to_owned()),
        "ipv6" => return (AddressKind::Ipv6, body.to_ascii_lowercase()),
        "" => {}
        _ => return (AddressKind::Other, body.to_owned()),
    }
    // No type: an e-mail (possibly `Name <user@host>`), or digits.
    let inner = match (body.rfind('<'), body.rfind('>')) {
        (Some(a), Some(b)) if a < b => body.get(a + 1..b).unwrap_or(body),
        _ => body,
    };
    if inner.contains('@') {
        return (AddressKind::Email, inner.trim().to_lowercase());
    }
    let phone_chars = body
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if phone_chars && body.chars().any(|c| c.is_ascii_digit()) {
        return (AddressKind::Plmn, normalize_phone(body));
    }
    (AddressKind::Other, body.to_owned())
}

fn normalize_phone(s: &str) -> String {
    let plus = s.trim_start().starts_with('+');
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    if plus { format!("+{digits}") } else { digits }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        assert_eq!(
            classify_address("+1 555-0101/TYPE=PLMN"),
            (AddressKind::Plmn, "+15550101".into())
        );
        assert_eq!(
            classify_address("Alice <Alice@Example.COM>"),
            (AddressKind::Email, "alice@example.com".into())
        );
        assert_eq!(classify_address("192.0.2.1/TYPE=IPv4").0, AddressKind::Ipv4);
        assert_eq!(classify_address("2001:DB8::1/TYPE=IPv6").1, "2001:db8::1");
        assert_eq!(classify_address("5550101").0, AddressKind::Plmn);
        assert_eq!(classify_address("x/TYPE=foo").0, AddressKind::Other);
        assert_eq!(classify_address("").0, AddressKind::Other);
    }
}
