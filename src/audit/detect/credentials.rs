//! Credentials and session tokens in HTTP/WSP headers and URLs.

use base64::Engine;

/// A credential found in a header or URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// HTTP Basic (RFC 7617): user and password in clear once base64 is undone.
    Basic { user: String, password: String },
    /// HTTP Digest (RFC 7616): the user and realm are readable; the response is a hash.
    Digest {
        user: Option<String>,
        realm: Option<String>,
    },
    /// Bearer or another scheme: the token itself.
    Token { scheme: String, token: String },
    /// `user:password@` in a URL.
    UrlUserinfo {
        user: String,
        password: Option<String>,
    },
}

impl Credential {
    pub fn scheme(&self) -> &str {
        match self {
            Credential::Basic { .. } => "basic",
            Credential::Digest { .. } => "digest",
            Credential::Token { scheme, .. } => scheme,
            Credential::UrlUserinfo { .. } => "url-userinfo",
        }
    }
}

/// Decodes an `Authorization` / `Proxy-Authorization` value.
pub fn parse_authorization(value: &str) -> Option<Credential> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
    let rest = rest.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let raw = base64::engine::general_purpose::STANDARD
            .decode(rest.trim_end_matches('='))
            .or_else(|_| {
                base64::engine::general_purpose::STANDARD_NO_PAD.decode(rest.trim_end_matches('='))
            })
            .ok();
        let decoded = match raw {
            Some(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            // Already decoded (WSP's binary Authorization carries user and password as text).
            None => rest.to_owned(),
        };
        let (user, password) = decoded.split_once(':').unwrap_or((&decoded, ""));
        return Some(Credential::Basic {
            user: user.to_owned(),
            password: password.to_owned(),
        });
    }
    if scheme.eq_ignore_ascii_case("digest") {
        let param = |name: &str| digest_param(rest, name);
        return Some(Credential::Digest {
            user: param("username"),
            realm: param("realm"),
        });
    }
    if scheme.is_empty() {
        return None;
    }
    Some(Credential::Token {
        scheme: scheme.to_ascii_lowercase(),
        token: rest.to_owned(),
    })
}

/// A `name="value"` or `name=value` parameter of a Digest header.
fn digest_param(params: &str, name: &str) -> Option<String> {
    let mut rest = params;
    while !rest.is_empty() {
        rest = rest.trim_start_matches([',', ' ', '\t']);
        let (key, after) = rest.split_once('=')?;
        let after = after.trim_start();
        let (val, next) = if let Some(q) = after.strip_prefix('"') {
            match q.find('"') {
                Some(end) => (q.get(..end)?, q.get(end + 1..).unwrap_or("")),
                None => (q, ""),
            }
        } else {
            match after.find(',') {
                Some(end) => (after.get(..end)?, after.get(end..).unwrap_or("")),
                None => (after, ""),
            }
        };
        if key.trim().eq_ignore_ascii_case(name) {
            return Some(val.trim().to_owned());
        }
        rest = next;
    }
    None
}

/// `user[:password]@` in an absolute URL's authority.
pub fn url_userinfo(url: &str) -> Option<Credential> {
    let after_scheme = url.split_once("://")?.1;
    let authority = after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or(after_scheme);
    let (userinfo, _host) = authority.rsplit_once('@')?;
    let (user, password) = match userinfo.split_once(':') {
        Some((u, p)) => (u, Some(p.to_owned())),
        None => (userinfo, None),
    };
    Some(Credential::UrlUserinfo {
        user: user.to_owned(),
        password,
    })
}

/// Query parameter names that carry session tokens or secrets (compared case-insensitively, and
/// also matched as a suffix after `_` or `-`, e.g. `access_token`).
pub const TOKEN_PARAMS: &[&str] = &[
    "token",
    "access_token",
    "auth",
    "auth_token",
    "authtoken",
    "session",
    "sessionid",
    "session_id",
    "sid",
    "jsessionid",
    "phpsessid",
    "aspsessionid",
    "key",
    "apikey",
    "api_key",
    "sig",
    "signature",
    "ticket",
    "secret",
    "password",
    "passwd",
    "pwd",
    "pass",
];

fn is_token_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    TOKEN_PARAMS.iter().any(|t| {
        lower == *t || lower.ends_with(&format!("_{t}")) || lower.ends_with(&format!("-{t}"))
    })
}

/// Token-bearing query (or `;jsessionid=`-style path) parameters of a URL: `(name, value)`.
pub fn url_tokens(url: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let without_fragment = url.split('#').next().unwrap_or(url);
    let mut params: Vec<&str> = Vec::new();
    if let Some((path, query)) = without_fragment.split_once('?') {
        params.extend(query.split(['&', ';']));
        params.extend(path.split(';').skip(1));
    } else {
        params.extend(without_fragment.split(';').skip(1));
    }
    for p in params {
        if let Some((name, value)) = p.split_once('=')
            && is_token_name(name)
            && value.len() >= 4
        {
            out.push((name.to_owned(), value.to_owned()));
        }
    }
    out
}

/// Cookie names and values from a `Cookie` header (or the first pair of a `Set-Cookie`).
pub fn cookies(value: &str) -> Vec<(String, String)> {
    value
        .split(';')
        .filter_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            let n = n.trim();
            if n.is_empty() {
                return None;
            }
            Some((n.to_owned(), v.trim().to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_is_decoded() {
        // "alice:s3cret" in base64.
        assert_eq!(
            parse_authorization("Basic YWxpY2U6czNjcmV0"),
            Some(Credential::Basic {
                user: "alice".into(),
                password: "s3cret".into()
            })
        );
        assert_eq!(
            parse_authorization("basic bob:pw"),
            Some(Credential::Basic {
                user: "bob".into(),
                password: "pw".into()
            })
        );
    }

    #[test]
    fn digest_user_and_realm() {
        let v =
            r#"Digest username="+15550101", realm="mms.example.com", nonce="abc", response="f00""#;
        assert_eq!(
            parse_authorization(v),
            Some(Credential::Digest {
                user: Some("+15550101".into()),
                realm: Some("mms.example.com".into())
            })
        );
    }

    #[test]
    fn url_credentials_and_tokens() {
        assert_eq!(
            url_userinfo("http://user:pw@mmsc.example.com/x"),
            Some(Credential::UrlUserinfo {
                user: "user".into(),
                password: Some("pw".into())
            })
        );
        assert_eq!(url_userinfo("http://mmsc.example.com/a@b"), None);
        assert_eq!(
            url_tokens("http://mmsc.example.com/get?id=5&access_token=abcdef123&x=1"),
            vec![("access_token".to_string(), "abcdef123".to_string())]
        );
        assert_eq!(
            url_tokens("http://h.example/p;jsessionid=ABCD1234"),
            vec![("jsessionid".to_string(), "ABCD1234".to_string())]
        );
        assert_eq!(
            cookies("sid=1234; theme=dark"),
            vec![
                ("sid".to_string(), "1234".to_string()),
                ("theme".to_string(), "dark".to_string())
            ]
        );
    }
}
