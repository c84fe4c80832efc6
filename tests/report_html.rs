//! The HTML report: complete, self-contained, hostile text escaped, and rendered by a real
//! browser (headless Chromium, when installed: `apt-get install -y chromium`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod report_support;

use mmsleak::report::html::render;
use mmsleak::report::model::*;
use report_support::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Strings a crafted capture could carry.
const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "</style><script>alert(2)</script>",
    "\"><img src=x onerror=alert(3)>",
    "' onmouseover='alert(4)",
    "a\u{202E}gpj.exe",
    "evil\u{2066}hidden\u{2069}text",
    "ansi\x1b[31mred\x07",
    "<a href=\"https://attacker.example/\">click</a>",
    "<link rel=stylesheet href=https://attacker.example/x.css>",
    "&lt;already&gt; &amp;",
];

fn hostile_report() -> Report {
    let (mut r, _) = full_report();
    let h = |i: usize| HOSTILE[i % HOSTILE.len()].to_owned();
    r.inputs[0].path = h(0);
    r.inputs[0].diagnostics[0].message = h(1);
    r.inputs[0].link_types.push(h(2));
    let t = &mut r.transfers[0];
    t.input = h(3);
    t.sni = Some(h(4));
    t.tls_version = Some(h(5));
    let req = t.request.as_mut().unwrap();
    req.method = h(6);
    req.uri = h(7);
    req.headers.push((h(8), h(9)));
    let p = &mut t.pdus[0];
    p.subject = Some(h(0));
    p.from = Some(h(1));
    p.to.push(h(2));
    p.message_id = Some(h(3));
    p.transaction_id = Some(h(4));
    p.content_type = Some(h(5));
    p.headers.insert(h(6), h(7));
    p.message_type = h(8);
    p.parts[0].name = Some(h(9));
    p.parts[0].content_type = h(0);
    p.parts[0].content_id = Some(h(1));
    p.parts[0].charset = Some(h(2));
    p.parts[0].extracted_to = Some(h(3));
    p.parts[0].sha256 = h(4);
    r.messages[0].message_id = Some(h(5));
    r.messages[0].content_location = Some(h(6));
    r.messages[0].transaction_ids.push(h(7));
    r.messages[0].timeline[0].message_type = h(8);
    for (i, f) in r.findings.iter_mut().enumerate() {
        f.title = format!("{} {}", f.title, h(i));
        f.evidence
            .insert(h(i + 1), json!({"nested": [h(i + 2), {"deep": h(i + 3)}]}));
    }
    r
}

/// The tags of a page: since every capture string is escaped, a raw `<` only starts real markup.
fn tags(page: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = page;
    while let Some(i) = rest.find('<') {
        let after = &rest[i + 1..];
        let end = after.find('>').expect("unterminated tag");
        out.push(after[..end].to_ascii_lowercase());
        rest = &after[end + 1..];
    }
    out
}

fn assert_self_contained(page: &str) {
    let lower = page.to_ascii_lowercase();
    let style = &lower[lower.find("<style>").unwrap()..lower.find("</style>").unwrap()];
    assert!(
        !style.contains("url(") && !style.contains("@import"),
        "CSS fetches something"
    );
    assert_eq!(lower.matches("</style>").count(), 1, "style closed early");
    for tag in tags(page) {
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '!')
            .collect();
        assert!(
            ![
                "script", "link", "iframe", "object", "embed", "base", "form", "svg", "video",
                "audio", "source"
            ]
            .contains(&name.as_str()),
            "<{tag}>"
        );
        for attr in tag.split_whitespace().skip(1) {
            assert!(!attr.starts_with("on"), "event handler in <{tag}>");
            if let Some(v) = attr.strip_prefix("src=\"") {
                assert!(
                    v.starts_with("data:image/"),
                    "src not a data: image in <{tag}>"
                );
            }
            if let Some(v) = attr.strip_prefix("href=\"") {
                assert!(v.starts_with('#'), "href not an in-page anchor in <{tag}>");
            }
            assert!(
                !attr.starts_with("style="),
                "inline style attribute in <{tag}>"
            );
        }
    }
    for c in ['\u{202E}', '\u{2066}', '\u{2069}', '\x1b', '\x07'] {
        assert!(!page.contains(c), "raw control/bidi {c:?}");
    }
}

#[test]
fn page_has_every_section() {
    let (report, _) = full_report();
    let page = render(&report, None);
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.trim_end().ends_with("</html>"));
    for want in [
        "Summary",
        "Findings",
        "Messages",
        "Transfers",
        "Inputs",
        "Critical (1)",
        "credentials readable in cleartext (basic)",
        "subscriber identifier in 3 header(s)",
        "<dt>phone numbers</dt>",
        "Remediation.",
        "gap of 512 bytes in the client stream",
        "not a pcap or pcapng file",
        "… and 3 more",
        "gtp-u TEID 0x12345678",
        "m-retrieve-conf",
        "mmsc.example.com",
        "TLS 1.1",
        &report.transfers[0].pdus[0].parts[2].sha256,
        "href=\"#transfer-T3\"",
        "id=\"message-M1\"",
    ] {
        assert!(page.contains(want), "missing {want:?}");
    }
    assert_self_contained(&page);
    // No thumbnails without --html-media.
    assert!(!page.contains("data:image"));
}

#[test]
fn empty_report_renders() {
    let page = render(&empty_report(), None);
    assert!(page.contains("No findings."));
    assert!(page.contains("No MMS transfer was found."));
    assert_self_contained(&page);
}

#[test]
fn hostile_strings_are_escaped() {
    let report = hostile_report();
    let page = render(&report, None);
    assert_self_contained(&page);
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("&lt;/style&gt;&lt;script&gt;"));
    assert!(page.contains("&quot;&gt;&lt;img src=x onerror=alert(3)&gt;"));
    assert!(page.contains("&#39; onmouseover=&#39;alert(4)"));
    assert!(
        page.contains("a\\u{202e}gpj.exe"),
        "bidi override shown visibly"
    );
    assert!(page.contains("ansi\\x1b[31mred\\x07"));
    assert!(page.contains("&amp;lt;already&amp;gt; &amp;amp;"));
}

#[test]
fn media_thumbnails_are_embedded_only_for_images() {
    let (report, records) = full_report();
    let page = render(&report, Some(&records));
    assert_eq!(page.matches("src=\"data:image/jpeg;base64,").count(), 1);
    assert_eq!(page.matches("src=\"data:image/png;base64,").count(), 1);
    assert_self_contained(&page);

    // A part that claims to be an image but is SVG/HTML is not embedded.
    let (mut report, mut records) = full_report();
    report.transfers[0].pdus[0].parts[2].content_type = "image/png".into();
    records[0].parts[2].data =
        b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>".to_vec();
    let page = render(&report, Some(&records));
    assert_eq!(page.matches("src=\"data:image/").count(), 1);
    assert!(!page.contains("svg"));
    assert_self_contained(&page);
}

/// Headless Chromium, when installed: `MMSLEAK_CHROMIUM` or the usual binary names.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MMSLEAK_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in [
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Runs Chromium headless with no network-facing features, killing it after two minutes.
fn run_chromium(bin: &Path, profile: &Path, extra: &[String]) -> (bool, String) {
    let stdout = profile.join("stdout.txt");
    let stderr = profile.join("stderr.txt");
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-default-apps",
            "--no-first-run",
            "--no-default-browser-check",
            "--hide-scrollbars",
            "--host-resolver-rules=MAP * ~NOTFOUND",
        ])
        .arg(format!(
            "--user-data-dir={}",
            profile.join("profile").display()
        ))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    let ok = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.success();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "chromium did not finish in 120 s: {}",
                std::fs::read_to_string(&stderr).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if !ok {
        eprintln!(
            "chromium stderr:\n{}",
            std::fs::read_to_string(&stderr).unwrap_or_default()
        );
    }
    (ok, std::fs::read_to_string(&stdout).unwrap_or_default())
}

/// Text content of a DOM dump: tags removed, the few entities the page uses decoded.
fn dom_text(dom: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in dom.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[test]
fn chromium_renders_the_page() {
    let Some(bin) = chromium() else {
        eprintln!(
            "SKIPPED chromium_renders_the_page: no chromium found (apt-get install -y chromium, or set MMSLEAK_CHROMIUM)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (mut report, records) = full_report();
    // One hostile title, to see that the browser shows it as text.
    report.findings[1]
        .title
        .push_str(" <script>alert(1)</script>\u{202E}txt.exe");
    let page = render(&report, Some(&records));
    let file = dir.path().join("report.html");
    std::fs::write(&file, &page).unwrap();
    let url = format!("file://{}", file.display());

    let (ok, dom) = run_chromium(&bin, dir.path(), &["--dump-dom".into(), url.clone()]);
    assert!(ok, "chromium --dump-dom failed");
    assert!(
        !dom.to_ascii_lowercase().contains("<script"),
        "a script element in the rendered DOM"
    );
    let text = dom_text(&dom);
    for want in [
        "MMS leak audit report",
        "Summary",
        "Critical",
        "credentials readable in cleartext (basic)",
        "subscriber identifier in 3 header(s): X-IMEI, X-IMSI, X-MSISDN",
        "photo photo.jpg reveals where it was taken",
        "vcard part jane.vcf with 1 name(s)",
        "<script>alert(1)</script>\\u{202e}txt.exe",
        "Remediation.",
        "captures/lab.pcapng",
    ] {
        assert!(text.contains(want), "rendered text lacks {want:?}");
    }

    let shot = dir.path().join("shot.png");
    let (ok, _) = run_chromium(
        &bin,
        dir.path(),
        &[
            format!("--screenshot={}", shot.display()),
            "--window-size=1280,2000".into(),
            url,
        ],
    );
    assert!(ok, "chromium --screenshot failed");
    let png = std::fs::read(&shot).expect("a screenshot was written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        png.len() > 20_000,
        "screenshot suspiciously small: {} bytes",
        png.len()
    );
    // Kept for a person to look at.
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("report_html_shot.png");
    let _ = std::fs::copy(&shot, &keep);
    eprintln!("screenshot: {}", keep.display());
}
