//! How guessable a content-location token is.

/// The token of a content location: where MMSCs put the message handle. That is the longest
/// query parameter value when there is a query (`/mms/get?id=Ab3dE...`), else the last path
/// segment (`/m/7f3a9c...`, `/get/7`), reduced to its longest run of URL-safe token characters.
pub fn location_token(url: &str) -> Option<&str> {
    let after_scheme = url.split_once("://").map_or(url, |(_, r)| r);
    let path_and_query = after_scheme
        .find(['/', '?'])
        .and_then(|i| after_scheme.get(i..))
        .unwrap_or("");
    let path_and_query = path_and_query.split('#').next().unwrap_or("");
    let (path, query) = match path_and_query.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path_and_query, None),
    };
    let longest_run = |s: &str| -> Option<usize> {
        s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
            .map(str::len)
            .max()
            .filter(|n| *n > 0)
    };
    if let Some(q) = query {
        let best = q
            .split(['&', ';'])
            .map(|kv| kv.split_once('=').map_or(kv, |(_, v)| v))
            .filter(|v| longest_run(v).is_some())
            .max_by_key(|v| longest_run(v).unwrap_or(0));
        if let Some(v) = best {
            return run_of(v);
        }
    }
    path.rsplit('/')
        .find(|seg| !seg.is_empty())
        .and_then(run_of)
}

/// The longest run of URL-safe token characters in `s`.
fn run_of(s: &str) -> Option<&str> {
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .filter(|t| !t.is_empty())
        .max_by_key(|t| t.len())
}

/// Estimated entropy of a token in bits: its length times the log2 of the smallest character
/// class that covers it (digits 10, hex 16, lower or upper alphanumerics 36, mixed 62, plus
/// `-`/`_` 64), capped by the empirical Shannon entropy of its characters times its length (so a
/// repeated character scores near zero whatever the alphabet).
pub fn token_entropy_bits(token: &str) -> f64 {
    if token.is_empty() {
        return 0.0;
    }
    let len = token.chars().count() as f64;
    let all = |f: fn(&char) -> bool| token.chars().all(|c| f(&c));
    let alphabet: f64 = if all(char::is_ascii_digit) {
        10.0
    } else if all(char::is_ascii_hexdigit)
        && (all(|c| !c.is_ascii_uppercase()) || all(|c| !c.is_ascii_lowercase()))
    {
        16.0
    } else if all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
        || all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
    {
        36.0
    } else if all(char::is_ascii_alphanumeric) {
        62.0
    } else {
        64.0
    };
    let mut counts = std::collections::BTreeMap::new();
    for c in token.chars() {
        *counts.entry(c).or_insert(0u32) += 1;
    }
    let shannon: f64 = counts
        .values()
        .map(|&n| {
            let p = f64::from(n) / len;
            -p * p.log2()
        })
        .sum();
    (len * alphabet.log2()).min(len * shannon.max(0.0))
}

/// The trailing number of a token (`msg000123` → 123), used to spot sequential tokens.
pub fn trailing_number(token: &str) -> Option<u64> {
    let digits: String = token
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    digits.parse().ok()
}

/// The tokens' shared prefix if they differ only by a trailing counter that increases by small
/// steps (at most `max_step`), e.g. `msg1001`, `msg1002`, `msg1004`.
pub fn sequential(tokens: &[&str], max_step: u64) -> bool {
    if tokens.len() < 2 {
        return false;
    }
    let mut numbered: Vec<(String, u64)> = Vec::new();
    for t in tokens {
        let Some(n) = trailing_number(t) else {
            return false;
        };
        let digits = n.to_string().len();
        let prefix_len = t.len().saturating_sub(digits);
        let prefix = t
            .get(..prefix_len)
            .unwrap_or("")
            .trim_end_matches('0')
            .to_owned();
        numbered.push((prefix, n));
    }
    let first_prefix = numbered.first().map(|(p, _)| p.clone()).unwrap_or_default();
    if numbered.iter().any(|(p, _)| *p != first_prefix) {
        return false;
    }
    let mut nums: Vec<u64> = numbered.iter().map(|(_, n)| *n).collect();
    nums.sort_unstable();
    nums.dedup();
    nums.len() >= 2
        && nums
            .windows(2)
            .all(|w| matches!(w, [a, b] if b - a <= max_step))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_entropy() {
        assert_eq!(
            location_token("http://mmsc.example.com/mms/get?id=7f3a9c01d2e4b5a6"),
            Some("7f3a9c01d2e4b5a6")
        );
        assert_eq!(location_token("http://mmsc.example.com/m/42"), Some("42"));
        assert_eq!(location_token("http://mmsc.example.com/get/7"), Some("7"));
        assert_eq!(
            location_token("http://mmsc.example.com/mmsc/6_2?AaamMbG2tpp5lj4Ra"),
            Some("AaamMbG2tpp5lj4Ra")
        );
        assert_eq!(location_token("http://mmsc.example.com/"), None);
        assert!(token_entropy_bits("42") < 10.0);
        assert!(token_entropy_bits("aaaaaaaaaaaaaaaa") < 20.0);
        let strong = "Qm9yZW1pcHN1bWRvbG9yc2l0YW1ldA";
        assert!(
            token_entropy_bits(strong) > 100.0,
            "{}",
            token_entropy_bits(strong)
        );
    }

    #[test]
    fn sequential_tokens() {
        assert!(sequential(&["msg1001", "msg1002", "msg1004"], 16));
        assert!(!sequential(&["msg1001", "abc1002"], 16));
        assert!(!sequential(&["a9f3", "b7e1"], 16));
        assert!(!sequential(&["msg1001"], 16));
        assert!(!sequential(&["m100", "m900"], 16));
    }
}
