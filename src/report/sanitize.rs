//! Making capture-derived text safe for terminals and spreadsheets.
//!
//! Anything read from a capture can carry ANSI escape sequences, control characters or bidi
//! overrides meant to spoof what an auditor sees; every such string passes through here before it
//! reaches a terminal or a CSV cell.

/// True for characters that change how a terminal renders the text that follows: C0 and C1
/// controls, DEL, and Unicode bidi controls (the "Trojan Source" set) and other invisible
/// formatting characters.
fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
        )
}

/// Escapes control, bidi and formatting characters as visible `\xNN` / `\u{NNNN}` sequences.
pub fn terminal(s: &str) -> String {
    if !s.chars().any(is_dangerous) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if is_dangerous(c) {
            let code = u32::from(c);
            if code < 0x100 {
                out.push_str(&format!("\\x{code:02x}"));
            } else {
                out.push_str(&format!("\\u{{{code:04x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A CSV cell that a spreadsheet will not evaluate as a formula (OWASP CSV injection): cells
/// starting with `=`, `+`, `-`, `@`, tab or carriage return get a leading apostrophe. Control
/// characters are escaped as for terminals.
pub fn csv_cell(s: &str) -> String {
    let clean = terminal(s);
    match clean.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{clean}"),
        _ => clean,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_ansi_and_bidi() {
        assert_eq!(terminal("plain"), "plain");
        assert_eq!(terminal("a\x1b[31mred"), "a\\x1b[31mred");
        assert_eq!(terminal("x\u{202E}y"), "x\\u{202e}y");
        assert_eq!(terminal("bell\x07\u{9b}"), "bell\\x07\\x9b");
    }

    #[test]
    fn neutralises_formulas() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_cell("+15550101"), "'+15550101");
        assert_eq!(csv_cell("-1"), "'-1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("safe"), "safe");
    }
}
