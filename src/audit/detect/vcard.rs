//! vCard (RFC 6350, 2.1/3.0 too) and vCalendar/iCalendar (RFC 5545) parts.

/// What a contact card or calendar entry reveals.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CardFacts {
    /// `vcard` or `vcalendar`.
    pub kind: &'static str,
    pub names: Vec<String>,
    pub phones: Vec<String>,
    pub emails: Vec<String>,
    pub addresses: Vec<String>,
    /// Calendar: summaries and locations of events.
    pub events: Vec<String>,
}

/// True when the content type or the text says this part is a vCard or vCalendar.
pub fn is_card(content_type: &str, data: &[u8]) -> bool {
    let ct = content_type.to_ascii_lowercase();
    if ct.contains("vcard") || ct.contains("vcalendar") || ct.contains("calendar") {
        return true;
    }
    let head = data.get(..data.len().min(64)).unwrap_or(data);
    let head = String::from_utf8_lossy(head).to_ascii_uppercase();
    head.trim_start().starts_with("BEGIN:VCARD") || head.trim_start().starts_with("BEGIN:VCALENDAR")
}

/// Unfolds RFC 6350 folded lines (a line starting with space or tab continues the previous one).
fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let line = raw.trim_end_matches('\r');
        if let Some(cont) = line.strip_prefix([' ', '\t'])
            && let Some(last) = lines.last_mut()
        {
            last.push_str(cont);
            continue;
        }
        lines.push(line.to_owned());
    }
    lines
}

fn push_unique(v: &mut Vec<String>, s: String) {
    let s = s.trim().to_owned();
    if !s.is_empty() && !v.contains(&s) && v.len() < 256 {
        v.push(s);
    }
}

/// Parses the properties that matter for privacy. Lenient: unknown lines are skipped.
pub fn parse_card(data: &[u8]) -> CardFacts {
    let text = String::from_utf8_lossy(data);
    let mut facts = CardFacts {
        kind: if text.to_ascii_uppercase().contains("BEGIN:VCALENDAR") {
            "vcalendar"
        } else {
            "vcard"
        },
        ..CardFacts::default()
    };
    for line in unfold(&text).into_iter().take(100_000) {
        let Some((prop, value)) = line.split_once(':') else {
            continue;
        };
        let name = prop
            .split(';')
            .next()
            .unwrap_or("")
            .rsplit('.') // group prefix, e.g. item1.TEL
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let value = value.replace("\\,", ",").replace("\\;", ";");
        match name.as_str() {
            "FN" => push_unique(&mut facts.names, value),
            "N" if facts.names.is_empty() => {
                let parts: Vec<&str> = value.split(';').filter(|p| !p.is_empty()).collect();
                push_unique(
                    &mut facts.names,
                    parts.into_iter().rev().collect::<Vec<_>>().join(" "),
                );
            }
            "TEL" => push_unique(
                &mut facts.phones,
                value.trim_start_matches("tel:").to_owned(),
            ),
            "EMAIL" => push_unique(&mut facts.emails, value),
            "ADR" => push_unique(
                &mut facts.addresses,
                value
                    .split(';')
                    .filter(|p| !p.is_empty())
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            "SUMMARY" | "LOCATION" => push_unique(&mut facts.events, value),
            "ORGANIZER" | "ATTENDEE" => {
                if let Some(mail) = value
                    .strip_prefix("mailto:")
                    .or(value.strip_prefix("MAILTO:"))
                {
                    push_unique(&mut facts.emails, mail.to_owned());
                }
                if let Some(cn) = prop
                    .split(';')
                    .find_map(|p| p.strip_prefix("CN=").or(p.strip_prefix("cn=")))
                {
                    push_unique(&mut facts.names, cn.trim_matches('"').to_owned());
                }
            }
            _ => {}
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_vcard() {
        let card = b"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Doe;Jane;;;\r\nFN:Jane Doe\r\nTEL;TYPE=CELL:+1-555-0134\r\nitem1.EMAIL:jane@exa\r\n mple.com\r\nEND:VCARD\r\n";
        assert!(is_card("text/x-vCard", card));
        let f = parse_card(card);
        assert_eq!(f.kind, "vcard");
        assert_eq!(f.names, vec!["Jane Doe"]);
        assert_eq!(f.phones, vec!["+1-555-0134"]);
        assert_eq!(f.emails, vec!["jane@example.com"]);
    }

    #[test]
    fn parses_vcalendar() {
        let cal = b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:Dentist\nLOCATION:1 Main St\nORGANIZER;CN=Bob:mailto:bob@example.com\nEND:VEVENT\nEND:VCALENDAR\n";
        assert!(is_card("application/octet-stream", cal));
        let f = parse_card(cal);
        assert_eq!(f.kind, "vcalendar");
        assert_eq!(f.events, vec!["Dentist", "1 Main St"]);
        assert_eq!(f.emails, vec!["bob@example.com"]);
        assert_eq!(f.names, vec!["Bob"]);
    }
}
