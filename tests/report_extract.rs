//! `--extract DIR`: every part lands directly inside DIR under a safe name, nothing is ever
//! overwritten, and no name from a capture reaches outside DIR.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod report_support;

use mmsleak::report::extract::{MAX_NAME_BYTES, extract_all, safe_file_name, write_part};
use proptest::prelude::*;
use report_support::*;
use std::path::Path;

const HOSTILE_NAMES: &[&str] = &[
    "../../etc/passwd",
    "/etc/shadow",
    "..\\..\\win.ini",
    "C:\\x.txt",
    "C:x.txt",
    "\\\\server\\share\\x.txt",
    "CON.txt",
    "con",
    "NUL.jpg",
    "COM1.png",
    "LPT9.txt",
    "a\u{202E}gpj.exe",
    "name\0with\0nul.txt",
    "new\nline\r.txt",
    "tab\there.txt",
    "",
    ".",
    "..",
    "...",
    ".bashrc",
    "trailing dots...",
    "trailing spaces   ",
    "~/.ssh/authorized_keys",
    "file:///etc/passwd",
    "%2e%2e%2fetc%2fpasswd",
    "..%c0%af..%c0%afetc",
    "\u{FEFF}bom.txt",
    "ａｂｃ．ｔｘｔ",
    "фото.jpg",
    "写真.png",
];

fn assert_directly_inside(dir: &Path, file: &Path) {
    let dir = dir.canonicalize().unwrap();
    let file = file.canonicalize().unwrap();
    assert_eq!(file.parent().unwrap(), dir, "{} escaped", file.display());
}

fn assert_safe(name: &str) {
    assert!(!name.is_empty());
    assert!(
        name.len() <= MAX_NAME_BYTES,
        "{} bytes: {name:?}",
        name.len()
    );
    assert!(!name.starts_with('.') && !name.starts_with(' '), "{name:?}");
    assert!(!name.ends_with('.') && !name.ends_with(' '), "{name:?}");
    assert!(!name.contains(['/', '\\', ':', '\0']), "{name:?}");
    assert!(
        name.chars()
            .all(|c| c.is_alphanumeric() || "._-+(),=@~".contains(c)),
        "{name:?}"
    );
    assert_ne!(name, "..");
}

#[test]
fn hostile_names_land_inside_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let long = "x".repeat(10_000);
    let long_multibyte = "🦀".repeat(10_000);
    let mut names: Vec<&str> = HOSTILE_NAMES.to_vec();
    names.push(&long);
    names.push(&long_multibyte);
    for content_type in [
        "text/plain",
        "image/jpeg",
        "application/x-evil",
        "",
        "../../x",
    ] {
        for (i, name) in names.iter().enumerate() {
            let file = safe_file_name("T1", 0, i, Some(name), content_type);
            assert_safe(&file);
            let path = write_part(&dir, &file, name.as_bytes()).unwrap();
            assert_directly_inside(&dir, &path);
            assert_eq!(std::fs::read(&path).unwrap(), name.as_bytes());
        }
    }
    // Nothing was created outside DIR.
    let outside: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
    assert_eq!(outside.len(), 1);
}

#[test]
fn nothing_is_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let a = write_part(tmp.path(), "T1-0-0-note.txt", b"first").unwrap();
    let b = write_part(tmp.path(), "T1-0-0-note.txt", b"second").unwrap();
    let c = write_part(tmp.path(), "T1-0-0-note.txt", b"third").unwrap();
    assert_eq!(a.file_name().unwrap(), "T1-0-0-note.txt");
    assert_eq!(b.file_name().unwrap(), "T1-0-0-note-2.txt");
    assert_eq!(c.file_name().unwrap(), "T1-0-0-note-3.txt");
    assert_eq!(std::fs::read(&a).unwrap(), b"first");
    assert_eq!(std::fs::read(&b).unwrap(), b"second");
    assert_eq!(std::fs::read(&c).unwrap(), b"third");
    // A folder of that name is not written into either.
    std::fs::create_dir(tmp.path().join("T1-0-1-x.bin")).unwrap();
    let d = write_part(tmp.path(), "T1-0-1-x.bin", b"x").unwrap();
    assert_eq!(d.file_name().unwrap(), "T1-0-1-x-2.bin");
}

#[test]
fn refuses_names_that_are_not_plain() {
    let tmp = tempfile::tempdir().unwrap();
    for bad in ["../x", "/etc/x", "a/b", "a\\b", "..", ".", "", "a\0b"] {
        let err = write_part(tmp.path(), bad, b"x").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
    }
}

#[cfg(unix)]
#[test]
fn planted_symlinks_are_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("out");
    std::fs::create_dir(&dir).unwrap();
    let victim = tmp.path().join("victim.txt");
    std::fs::write(&victim, b"precious").unwrap();
    std::os::unix::fs::symlink(&victim, dir.join("T1-0-0-note.txt")).unwrap();
    // A dangling link too: following it would create a file outside DIR.
    let dangling = tmp.path().join("created-outside.txt");
    std::os::unix::fs::symlink(&dangling, dir.join("T1-0-1-note.txt")).unwrap();

    let p = write_part(&dir, "T1-0-0-note.txt", b"attacker").unwrap();
    assert_eq!(p.file_name().unwrap(), "T1-0-0-note-2.txt");
    let q = write_part(&dir, "T1-0-1-note.txt", b"attacker").unwrap();
    assert_eq!(q.file_name().unwrap(), "T1-0-1-note-2.txt");
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
    assert!(!dangling.exists());
    assert_directly_inside(&dir, &p);
    assert_directly_inside(&dir, &q);
}

#[test]
fn extract_all_writes_every_part_and_records_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("parts");
    let (mut report, records) = full_report();
    let n = extract_all(&dir, &mut report, &records).unwrap();
    assert_eq!(n, 6);
    let mut seen = 0;
    for t in &report.transfers {
        for p in &t.pdus {
            for part in &p.parts {
                let rel = part.extracted_to.as_deref().expect("extracted_to filled");
                assert!(!rel.contains('/'), "relative to DIR: {rel}");
                let path = dir.join(rel);
                assert_directly_inside(&dir, &path);
                assert_eq!(sha(&std::fs::read(&path).unwrap()), part.sha256, "{rel}");
                seen += 1;
            }
        }
    }
    assert_eq!(seen, 6);
    let t1 = &report.transfers[0].pdus[0].parts;
    assert_eq!(t1[2].extracted_to.as_deref(), Some("T1-0-2-photo.jpg"));
    assert_eq!(t1[3].extracted_to.as_deref(), Some("T1-0-3-jane.vcf"));
    assert_eq!(t1[4].extracted_to.as_deref(), Some("T1-0-4-part.png"));

    // A second run into the same folder keeps the first files and adds new ones.
    let (mut again, _) = full_report();
    assert_eq!(extract_all(&dir, &mut again, &records).unwrap(), 6);
    assert_eq!(
        again.transfers[0].pdus[0].parts[2].extracted_to.as_deref(),
        Some("T1-0-2-photo-2.jpg")
    );
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 12);
}

#[test]
fn extract_all_with_hostile_part_names() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("parts");
    let (mut report, records) = full_report();
    for (i, part) in report.transfers[0].pdus[0].parts.iter_mut().enumerate() {
        part.name = Some(HOSTILE_NAMES[i].to_owned());
    }
    assert_eq!(extract_all(&dir, &mut report, &records).unwrap(), 6);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        assert_safe(entry.file_name().to_str().unwrap());
        assert!(entry.file_type().unwrap().is_file());
    }
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 1);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_name_is_safe(
        transfer in ".{0,40}",
        name in proptest::option::of(".{0,300}"),
        content_type in ".{0,40}",
        pdu in 0usize..1000,
        index in 0usize..1000,
    ) {
        let file = safe_file_name(&transfer, pdu, index, name.as_deref(), &content_type);
        assert_safe(&file);
    }
}
