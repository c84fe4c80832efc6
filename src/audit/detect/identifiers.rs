//! Phone numbers, e-mail addresses and subscriber identifiers (MSISDN, IMSI, IMEI) in text,
//! headers and MMS addresses.

/// Header names that operators use to inject subscriber identity into HTTP/WSP traffic
/// ("header enrichment"). Compared case-insensitively. Sources: vendor WAP gateway documentation
/// (Openwave `X-Up-*`, Nokia, Vodafone `X-VF-ACR`), 3GPP/operator practice and public reports on
/// header enrichment.
pub const SUBSCRIBER_HEADERS: &[(&str, SubscriberIdKind)] = &[
    ("x-msisdn", SubscriberIdKind::Msisdn),
    ("msisdn", SubscriberIdKind::Msisdn),
    ("x-wap-network-client-msisdn", SubscriberIdKind::Msisdn),
    ("x-up-calling-line-id", SubscriberIdKind::Msisdn),
    ("x-up-subno", SubscriberIdKind::Subscriber),
    ("x-nokia-msisdn", SubscriberIdKind::Msisdn),
    ("x-network-info", SubscriberIdKind::Subscriber),
    ("x-imsi", SubscriberIdKind::Imsi),
    ("x-imei", SubscriberIdKind::Imei),
    ("x-vf-acr", SubscriberIdKind::Subscriber),
    ("x-acr", SubscriberIdKind::Subscriber),
    ("x-h3g-msisdn", SubscriberIdKind::Msisdn),
    ("x-orange-msisdn", SubscriberIdKind::Msisdn),
    ("x-wap-msisdn", SubscriberIdKind::Msisdn),
    ("x-hts-clid", SubscriberIdKind::Msisdn),
    ("x-mdn", SubscriberIdKind::Msisdn),
    ("x-nokia-imsi", SubscriberIdKind::Imsi),
    ("x-wap-client-imsi", SubscriberIdKind::Imsi),
    ("x-uidh", SubscriberIdKind::Subscriber),
    ("x-up-uplink", SubscriberIdKind::Subscriber),
    ("x-wap-3gpp-imsi", SubscriberIdKind::Imsi),
    ("x-3gpp-imsi", SubscriberIdKind::Imsi),
    ("x-imsi-id", SubscriberIdKind::Imsi),
    ("x-subscriber-info", SubscriberIdKind::Subscriber),
    ("x-msp-msisdn", SubscriberIdKind::Msisdn),
    ("x-msp-clid", SubscriberIdKind::Msisdn),
];

/// What kind of subscriber identifier a value is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SubscriberIdKind {
    Msisdn,
    Imsi,
    Imei,
    /// An operator-specific subscriber reference (alias, ACR, subscriber number).
    Subscriber,
}

impl SubscriberIdKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriberIdKind::Msisdn => "msisdn",
            SubscriberIdKind::Imsi => "imsi",
            SubscriberIdKind::Imei => "imei",
            SubscriberIdKind::Subscriber => "subscriber-id",
        }
    }
}

/// The kind of identifier a header name is known to carry.
pub fn subscriber_header(name: &str) -> Option<SubscriberIdKind> {
    let name = name.trim();
    SUBSCRIBER_HEADERS
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, k)| *k)
}

/// Luhn check over a string of ASCII digits.
pub fn luhn_valid(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// Classifies a header value that looks like a subscriber identifier by its shape alone:
/// an IMEI is 15 digits passing Luhn (or 16 digits, IMEISV), an IMSI 14–15 digits starting with a
/// plausible MCC, an MSISDN an E.164 number (optionally with `+`), 8–15 digits.
pub fn classify_identifier(value: &str) -> Option<SubscriberIdKind> {
    let v = value.trim();
    let (plus, digits) = match v.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = digits.len();
    if !plus && n == 15 && luhn_valid(digits) {
        return Some(SubscriberIdKind::Imei);
    }
    if !plus && (14..=15).contains(&n) {
        // MCCs are 200–799 (ITU-T E.212); 001 is the test network.
        let mcc: u32 = digits.get(..3).and_then(|m| m.parse().ok()).unwrap_or(0);
        if (200..800).contains(&mcc) || mcc == 1 {
            return Some(SubscriberIdKind::Imsi);
        }
    }
    if (8..=15).contains(&n) && !digits.starts_with('0') {
        return Some(SubscriberIdKind::Msisdn);
    }
    None
}

/// The kind of an MMS address (OMA-TS-MMS-ENC 7.2.3 / MMS CONF address forms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// A phone number, normalised to E.164 digits with a leading `+` where it had one.
    Phone(String),
    /// An e-mail address, lower-cased.
    Email(String),
    /// `/TYPE=IPv4` or `/TYPE=IPv6`, or another form: kept as given.
    Other(String),
}

/// Normalises an MMS address as encoded (`+15550101/TYPE=PLMN`, `user@example.com`, ...).
pub fn normalize_address(raw: &str) -> Address {
    let raw = raw.trim();
    let (value, kind) = match raw.rsplit_once("/TYPE=") {
        Some((v, k)) => (v, Some(k)),
        None => (raw, None),
    };
    match kind.map(str::to_ascii_uppercase).as_deref() {
        Some("PLMN") => return Address::Phone(normalize_phone(value)),
        Some("IPV4") | Some("IPV6") => return Address::Other(raw.to_owned()),
        _ => {}
    }
    if is_email(value) {
        return Address::Email(value.to_ascii_lowercase());
    }
    let np = normalize_phone(value);
    if np.trim_start_matches('+').len() >= 5
        && np
            .trim_start_matches('+')
            .bytes()
            .all(|b| b.is_ascii_digit())
    {
        return Address::Phone(np);
    }
    Address::Other(raw.to_owned())
}

/// Keeps a leading `+` and the digits, dropping separators.
pub fn normalize_phone(s: &str) -> String {
    let s = s.trim();
    let mut out = String::with_capacity(s.len());
    if s.starts_with('+') {
        out.push('+');
    }
    out.extend(s.chars().filter(char::is_ascii_digit));
    out
}

fn is_email_local(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c)
}

fn is_domain_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '.'
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.chars().all(is_email_local)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain.chars().all(is_domain_char)
}

/// E-mail addresses found in free text, lower-cased, in order of appearance, without repeats.
pub fn find_emails(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // Each once, in order; a set beside the list (a text can hold any number of them).
    let mut seen = std::collections::HashSet::new();
    for (at, _) in text.match_indices('@') {
        let (before, after) = text.split_at(at);
        let local: String = before
            .chars()
            .rev()
            .take_while(|c| is_email_local(*c))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        let domain: String = after
            .chars()
            .skip(1)
            .take_while(|c| is_domain_char(*c))
            .collect();
        let local = local.trim_start_matches('.');
        let domain = domain.trim_end_matches(['.', '-']);
        let candidate = format!("{local}@{domain}");
        if is_email(&candidate) {
            let c = candidate.to_ascii_lowercase();
            if seen.insert(c.clone()) {
                out.push(c);
            }
        }
    }
    out
}

/// Phone numbers in free text: a `+` followed by 8–15 digits (separators ` `, `-`, `.`, `(`, `)`
/// allowed between digits), or a run of 10–15 digits, or a North-American `555-01xx` style number
/// written with separators. Normalised with [`normalize_phone`], without repeats.
///
/// Works on bytes: every character a number is made of, or that decides where one may start or
/// end, is ASCII, and the bytes of any other character are neither ASCII letters, digits nor
/// punctuation, so they decide exactly as the characters would.
pub fn find_phone_numbers(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    // Seeded: the numbers come from the capture.
    let mut seen: std::collections::HashSet<String, foldhash::fast::RandomState> =
        std::collections::HashSet::default();
    let bytes = text.as_bytes();
    let at = |k: usize| bytes.get(k).copied();
    let mut digits = String::new();
    let mut i = 0;
    while let Some(c) = at(i) {
        let starts = c == b'+' || c.is_ascii_digit() || c == b'(';
        let prev_ok = i == 0
            || at(i - 1).is_none_or(|p| !p.is_ascii_alphanumeric() && p != b'@' && p != b'.');
        if !(starts && prev_ok) {
            i += 1;
            continue;
        }
        let mut j = i;
        digits.clear();
        let mut separators = 0usize;
        while let Some(d) = at(j) {
            if d.is_ascii_digit() {
                digits.push(char::from(d));
            } else if (d == b'+' && j == i) || d == b'(' || d == b')' {
            } else if matches!(d, b' ' | b'-' | b'.')
                && at(j + 1).is_some_and(|n| n.is_ascii_digit() || n == b'(')
                && !digits.is_empty()
            {
                separators += 1;
            } else {
                break;
            }
            j += 1;
            if digits.len() > 15 {
                break;
            }
        }
        let next_ok = at(j).is_none_or(|n| !n.is_ascii_alphanumeric() && n != b'@');
        let plus = c == b'+';
        let n = digits.len();
        // A dotted quad (or a version like 1.2.3.4) is an address, not a phone number; so is the
        // dotted prefix of an IPv4 address followed by a port.
        let run = text.get(i..j).unwrap_or("");
        let dotted = run.contains('.')
            && !run.contains([' ', '-', '(', ')'])
            && run.split('.').all(|g| !g.is_empty() && g.len() <= 3);
        let plausible = next_ok
            && !dotted
            && n <= 15
            && ((plus && n >= 8)
                || (!plus && n >= 10)
                || (!plus && n >= 7 && (1..=4).contains(&separators)));
        if plausible {
            let num = if plus {
                format!("+{digits}")
            } else {
                digits.clone()
            };
            if seen.insert(num.clone()) {
                out.push(num);
            }
            i = j;
        } else {
            i = j.max(i + 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_and_classification() {
        // 49015420323751 + check digit 8: a commonly cited valid IMEI.
        assert!(luhn_valid("490154203237518"));
        assert!(!luhn_valid("490154203237519"));
        assert_eq!(
            classify_identifier("490154203237518"),
            Some(SubscriberIdKind::Imei)
        );
        assert_eq!(
            classify_identifier("001010123456789"),
            Some(SubscriberIdKind::Imsi)
        );
        assert_eq!(
            classify_identifier("+15550101"),
            Some(SubscriberIdKind::Msisdn)
        );
        assert_eq!(
            classify_identifier("+155501010"),
            Some(SubscriberIdKind::Msisdn)
        );
        assert_eq!(
            classify_identifier("15555550123"),
            Some(SubscriberIdKind::Msisdn)
        );
        assert_eq!(classify_identifier("keep-alive"), None);
        assert_eq!(classify_identifier("1234"), None);
    }

    #[test]
    fn header_list_is_case_insensitive() {
        assert_eq!(
            subscriber_header("X-MSISDN"),
            Some(SubscriberIdKind::Msisdn)
        );
        assert_eq!(
            subscriber_header("x-up-calling-line-id"),
            Some(SubscriberIdKind::Msisdn)
        );
        assert_eq!(subscriber_header("X-Imsi"), Some(SubscriberIdKind::Imsi));
        assert_eq!(subscriber_header("Host"), None);
    }

    #[test]
    fn addresses_normalise() {
        assert_eq!(
            normalize_address("+1-555-0101/TYPE=PLMN"),
            Address::Phone("+15550101".into())
        );
        assert_eq!(
            normalize_address("Alice@Example.COM"),
            Address::Email("alice@example.com".into())
        );
        assert_eq!(
            normalize_address("192.0.2.1/TYPE=IPv4"),
            Address::Other("192.0.2.1/TYPE=IPv4".into())
        );
    }

    #[test]
    fn finds_in_text() {
        let t = "Call me on +1 555 0142 or mail bob.smith@example.org. Ref 2024, id 7.";
        assert_eq!(find_phone_numbers(t), vec!["+15550142".to_string()]);
        assert_eq!(find_emails(t), vec!["bob.smith@example.org".to_string()]);
        assert_eq!(
            find_phone_numbers("tel 555-0123 now"),
            vec!["5550123".to_string()]
        );
        assert!(find_phone_numbers("version 1.2.3 year 2024").is_empty());
        // Regression: IPv4 addresses (with or without a port) were taken for phone numbers.
        assert!(find_phone_numbers("198.51.100.224:2948 → 203.0.113.226:51139").is_empty());
        assert!(find_phone_numbers("client 192.0.2.10").is_empty());
        assert_eq!(
            find_phone_numbers("call 555.0142 now"),
            vec!["5550142".to_string()]
        );
        assert!(find_emails("a@b no-domain@ x@y.z").contains(&"x@y.z".to_string()));
    }

    /// Regression: de-duplication was quadratic in the addresses found (a text part can hold
    /// any number of them).
    #[test]
    fn many_addresses_are_found_once_each_in_order() {
        let text: String = (0..100_000)
            .map(|i| format!("u{i}@example.com +1555{:07} ", i))
            .collect();
        let emails = find_emails(&text);
        assert_eq!(emails.len(), 100_000);
        assert_eq!(emails[7], "u7@example.com");
        let doubled = format!("{text}{text}");
        assert_eq!(find_emails(&doubled).len(), 100_000);
        let phones = find_phone_numbers(&doubled);
        assert_eq!(phones.len(), 100_000);
        assert_eq!(phones[3], "+15550000003");
    }

    /// The former implementation, over characters: the byte scan must find the same numbers in
    /// any text.
    fn reference_find_phone_numbers(text: &str) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars.get(i).copied().unwrap_or(' ');
            let starts = c == '+' || c.is_ascii_digit() || c == '(';
            let prev_ok = i == 0
                || chars
                    .get(i - 1)
                    .is_none_or(|p| !p.is_ascii_alphanumeric() && *p != '@' && *p != '.');
            if !(starts && prev_ok) {
                i += 1;
                continue;
            }
            let mut j = i;
            let mut digits = String::new();
            let mut separators = 0usize;
            while let Some(&d) = chars.get(j) {
                if d.is_ascii_digit() {
                    digits.push(d);
                } else if (d == '+' && j == i) || d == '(' || d == ')' {
                } else if matches!(d, ' ' | '-' | '.')
                    && chars
                        .get(j + 1)
                        .is_some_and(|n| n.is_ascii_digit() || *n == '(')
                    && !digits.is_empty()
                {
                    separators += 1;
                } else {
                    break;
                }
                j += 1;
                if digits.len() > 15 {
                    break;
                }
            }
            let next_ok = chars
                .get(j)
                .is_none_or(|n| !n.is_ascii_alphanumeric() && *n != '@');
            let plus = c == '+';
            let n = digits.len();
            // A dotted quad (or a version like 1.2.3.4) is an address, not a phone number; so is the
            // dotted prefix of an IPv4 address followed by a port.
            let run: String = chars.get(i..j).unwrap_or(&[]).iter().collect();
            let dotted = run.contains('.')
                && !run.contains([' ', '-', '(', ')'])
                && run.split('.').all(|g| !g.is_empty() && g.len() <= 3);
            let plausible = next_ok
                && !dotted
                && n <= 15
                && ((plus && n >= 8)
                    || (!plus && n >= 10)
                    || (!plus && n >= 7 && (1..=4).contains(&separators)));
            if plausible {
                let num = if plus { format!("+{digits}") } else { digits };
                if seen.insert(num.clone()) {
                    out.push(num);
                }
                i = j;
            } else {
                i = j.max(i + 1);
            }
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn bytes_find_what_characters_found(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "0", "1", "5", "9", "+", "(", ")", " ", "-", ".", "@", "a", "Z", "é", "٣",
                    "＋", "\u{a0}", "555", "0142", "+1 555", "1.2.3.4", ":", "%2B", "\n",
                ]),
                0..40,
            )
        ) {
            let text: String = parts.concat();
            proptest::prop_assert_eq!(
                find_phone_numbers(&text),
                reference_find_phone_numbers(&text)
            );
        }
    }
}
