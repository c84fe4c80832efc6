//! Writing MMS parts to a folder (`--extract DIR`) under names a capture cannot abuse.
//!
//! A part's name comes from the sender (Content-Type `name`, Content-Location, Content-Id) and may
//! be anything: `../../etc/passwd`, `C:\x.txt`, `CON`, a right-to-left override that makes `exe`
//! read as `gpj`, ten thousand characters. Files are therefore named
//! `<transfer>-<pdu>-<index>-<safe name>.<extension>`, where the safe name keeps only letters,
//! digits and a few punctuation marks of the last path component, and the extension comes from the
//! content type. Files are created with `create_new`, so an existing file is never overwritten
//! and a symbolic link planted in the folder is never followed.

use super::model::Report;
use crate::transfer::TransferRecord;
use std::collections::HashMap;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// Longest file name produced by [`safe_file_name`], in bytes.
pub const MAX_NAME_BYTES: usize = 100;

/// How many `-2`, `-3`, ... suffixes [`write_part`] tries before giving up.
pub const MAX_COLLISIONS: u32 = 10_000;

/// The name used when a part has none (or nothing of it survives cleaning).
const FALLBACK_STEM: &str = "part";

/// Content type → extensions. The first is given to extracted files; the others are accepted
/// when the part's own name already ends in one of them. Types not listed get `bin`.
pub const EXTENSIONS: &[(&str, &[&str])] = &[
    ("image/jpeg", &["jpg", "jpeg", "jpe"]),
    ("image/jpg", &["jpg", "jpeg", "jpe"]),
    ("image/pjpeg", &["jpg", "jpeg", "jpe"]),
    ("image/png", &["png"]),
    ("image/gif", &["gif"]),
    ("image/bmp", &["bmp"]),
    ("image/vnd.wap.wbmp", &["wbmp"]),
    ("image/webp", &["webp"]),
    ("image/heic", &["heic"]),
    ("image/heif", &["heif"]),
    ("image/tiff", &["tif", "tiff"]),
    ("text/plain", &["txt", "text"]),
    ("text/html", &["html", "htm"]),
    ("text/x-vcard", &["vcf"]),
    ("text/vcard", &["vcf"]),
    ("text/directory", &["vcf"]),
    ("text/x-vcalendar", &["vcs"]),
    ("text/calendar", &["ics"]),
    ("text/x-imelody", &["imy"]),
    ("audio/imelody", &["imy"]),
    ("application/smil", &["smil", "smi"]),
    ("application/vnd.wap.mms-message", &["mms"]),
    ("application/vnd.wap.multipart.mixed", &["mms"]),
    ("application/vnd.wap.multipart.related", &["mms"]),
    ("application/vnd.wap.multipart.alternative", &["mms"]),
    ("application/vnd.oma.drm.message", &["dm"]),
    ("application/vnd.oma.drm.content", &["dcf"]),
    ("application/pdf", &["pdf"]),
    ("application/octet-stream", &["bin"]),
    ("audio/amr", &["amr"]),
    ("audio/amr-wb", &["awb"]),
    ("audio/mid", &["mid", "midi"]),
    ("audio/midi", &["mid", "midi"]),
    ("audio/sp-midi", &["mid", "midi"]),
    ("audio/mpeg", &["mp3"]),
    ("audio/mp4", &["m4a"]),
    ("audio/aac", &["aac"]),
    ("audio/3gpp", &["3gp"]),
    ("audio/wav", &["wav"]),
    ("audio/x-wav", &["wav"]),
    ("audio/ogg", &["ogg"]),
    ("video/3gpp", &["3gp"]),
    ("video/3gpp2", &["3g2"]),
    ("video/mp4", &["mp4"]),
    ("video/h263", &["3gp"]),
];

const DEFAULT_EXTENSIONS: &[&str] = &["bin"];

/// Device names Windows reserves in every folder, whatever the extension (`CON.txt` is `CON`).
const WINDOWS_RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7",
    "COM8", "COM9", "COM¹", "COM²", "COM³", "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6",
    "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³", "CONIN$", "CONOUT$",
];

/// The extensions for a content type (parameters and case ignored).
pub fn extensions_for(content_type: &str) -> &'static [&'static str] {
    let bare = content_type.split(';').next().unwrap_or("").trim();
    EXTENSIONS
        .iter()
        .find(|(ct, _)| ct.eq_ignore_ascii_case(bare))
        .map_or(DEFAULT_EXTENSIONS, |(_, exts)| exts)
}

/// Characters kept in a file name; everything else becomes `_`. Letters and digits of any script
/// are kept (`is_alphanumeric` excludes controls, bidi and other formatting characters).
fn keep(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '(' | ')' | ',' | '=' | '@' | '~')
}

/// Keeps allowed characters, turns others into `_`, collapses runs of `_`, at most `max_chars`.
fn clean(s: &str, max_chars: usize) -> String {
    let mut out = String::new();
    for c in s.chars().take(max_chars) {
        let c = if keep(c) { c } else { '_' };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    out
}

/// A transfer id or message type for a file name: ASCII letters, digits and `-`, others `_`.
fn clean_id(s: &str, max_chars: usize, fallback: &str) -> String {
    let mut out = String::new();
    for c in s.chars().take(max_chars) {
        let c = if c.is_ascii_alphanumeric() || c == '-' {
            c
        } else {
            '_'
        };
        if c == '_' && out.ends_with('_') {
            continue;
        }
        out.push(c);
    }
    if out.trim_matches(['_', '-']).is_empty() {
        return fallback.to_owned();
    }
    out
}

/// The last component of a path written with `/` or `\`, without a drive letter.
fn last_component(name: &str) -> &str {
    let last = name
        .rsplit(['/', '\\'])
        .find(|c| !c.trim().is_empty())
        .unwrap_or("");
    // `C:x.txt` is relative to the current folder of drive C.
    match last.split_once(':') {
        Some((drive, rest))
            if drive.len() == 1 && drive.chars().all(|c| c.is_ascii_alphabetic()) =>
        {
            rest
        }
        _ => last,
    }
}

fn is_reserved(stem: &str) -> bool {
    let device = stem
        .split('.')
        .next()
        .unwrap_or("")
        .trim_end_matches([' ', '_']);
    WINDOWS_RESERVED
        .iter()
        .any(|r| r.eq_ignore_ascii_case(device) || r.to_uppercase() == device.to_uppercase())
}

/// Truncates to at most `max` bytes on a char boundary.
fn truncate_bytes(s: &mut String, max: usize) {
    if s.len() <= max {
        return;
    }
    let mut cut = max;
    while cut > 0 && !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
}

/// `<transfer>-<pdu>-<index>-<safe name>.<ext>`: a plain file name that cannot leave the folder
/// it is written to, never hidden, never a Windows device, at most [`MAX_NAME_BYTES`] bytes, with
/// the extension the content type calls for (the part's own extension is kept when it is one of
/// the type's, e.g. `jpeg` for `image/jpeg`; otherwise the name's dots become `_`, so
/// `photo.exe` sent as `image/jpeg` becomes `photo_exe.jpg`).
pub fn safe_file_name(
    transfer: &str,
    pdu: usize,
    index: usize,
    name: Option<&str>,
    content_type: &str,
) -> String {
    let exts = extensions_for(content_type);
    let default_ext = exts.first().copied().unwrap_or("bin");

    let prefix = format!("{}-{pdu}-{index}-", clean_id(transfer, 32, "T"));

    // Bounded before cleaning so a huge name costs nothing.
    let base = clean(last_component(name.unwrap_or("")), 4 * MAX_NAME_BYTES);
    let base = base.trim_matches(['.', ' ', '_', '-']);
    let (stem, ext) = match base.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() && !e.is_empty() => (s, Some(e)),
        _ => (base, None),
    };
    let (mut stem, ext) = match ext {
        Some(e) if exts.iter().any(|x| x.eq_ignore_ascii_case(e)) => {
            (stem.replace('.', "_"), e.to_ascii_lowercase())
        }
        Some(e) => (
            format!("{stem}_{e}").replace('.', "_"),
            default_ext.to_owned(),
        ),
        None => (stem.replace('.', "_"), default_ext.to_owned()),
    };
    if stem.is_empty() {
        stem.push_str(FALLBACK_STEM);
    }
    if is_reserved(&stem) {
        stem.insert(0, '_');
    }
    let room = MAX_NAME_BYTES
        .saturating_sub(prefix.len())
        .saturating_sub(ext.len() + 1)
        .max(FALLBACK_STEM.len());
    truncate_bytes(&mut stem, room);
    let stem = stem.trim_end_matches(['.', ' ']);
    format!("{prefix}{stem}.{ext}")
}

/// The file name for a whole MMS PDU (`--extract-pdus`): `<transfer>-<pdu>-<message type>.mms`.
pub fn pdu_file_name(transfer: &str, pdu: usize, message_type: &str) -> String {
    let kind = clean_id(message_type, 40, "pdu");
    format!(
        "{}-{pdu}-{}.mms",
        clean_id(transfer, 32, "T"),
        kind.trim_matches(['_', '-'])
    )
}

/// True when `name` is one plain path component: no separator, no `.`/`..`, no NUL.
fn is_plain_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 255 || name.contains(['/', '\\', '\0']) {
        return false;
    }
    let mut comps = Path::new(name).components();
    matches!(
        (comps.next(), comps.next()),
        (Some(Component::Normal(_)), None)
    )
}

/// Writes `data` to a new file `file_name` directly inside `dir` and returns its path. Never
/// overwrites: when the name is taken (by a file, a folder or a symbolic link, which is never
/// followed), `-2`, `-3`, ... is inserted before the extension. `file_name` must be a plain name
/// (as [`safe_file_name`] makes); anything else is refused with `InvalidInput`.
pub fn write_part(dir: &Path, file_name: &str, data: &[u8]) -> io::Result<PathBuf> {
    if !is_plain_name(file_name) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("not a plain file name: {file_name:?}"),
        ));
    }
    let (stem, ext) = match file_name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s, format!(".{e}")),
        _ => (file_name, String::new()),
    };
    for n in 1..=MAX_COLLISIONS {
        let candidate = if n == 1 {
            file_name.to_owned()
        } else {
            format!("{stem}-{n}{ext}")
        };
        let path = dir.join(&candidate);
        // create_new is O_CREAT|O_EXCL: it fails on any existing entry, symbolic links included
        // (POSIX open(2)), so nothing outside `dir` can be reached through a planted link.
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                file.write_all(data)?;
                return Ok(path);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("{MAX_COLLISIONS} files named like {file_name:?} already exist"),
    ))
}

/// Writes every part of `records` into `dir` (created if missing) and records each file's name,
/// relative to `dir`, in the matching `PartReport.extracted_to`. Returns how many files were
/// written.
pub fn extract_all(
    dir: &Path,
    report: &mut Report,
    records: &[TransferRecord],
) -> io::Result<usize> {
    fs::create_dir_all(dir)?;
    let by_id: HashMap<String, usize> = report
        .transfers
        .iter()
        .enumerate()
        .map(|(i, t)| (t.id.clone(), i))
        .collect();
    let mut written = 0usize;
    for record in records {
        let id = record.transfer.id.as_str();
        for content in &record.parts {
            let part = by_id
                .get(id)
                .and_then(|i| report.transfers.get_mut(*i))
                .and_then(|t| t.pdus.get_mut(content.pdu))
                .and_then(|p| p.parts.iter_mut().find(|p| p.index == content.part));
            let name = part.as_ref().and_then(|p| p.name.as_deref());
            let file = safe_file_name(id, content.pdu, content.part, name, &content.content_type);
            let path = write_part(dir, &file, &content.data)?;
            if let Some(part) = part {
                part.extracted_to = path.file_name().map(|n| n.to_string_lossy().into_owned());
            }
            written = written.saturating_add(1);
        }
    }
    Ok(written)
}

/// Writes every whole MMS PDU kept in `records` (`pdu_bytes`) to `dir` as
/// `<transfer>-<pdu>-<message type>.mms`. Returns how many were written.
pub fn extract_pdus(dir: &Path, report: &Report, records: &[TransferRecord]) -> io::Result<usize> {
    fs::create_dir_all(dir)?;
    let mut written = 0usize;
    for record in records {
        let id = record.transfer.id.as_str();
        let types = report
            .transfers
            .iter()
            .find(|t| t.id == id)
            .map(|t| &t.pdus);
        for (i, bytes) in record.pdu_bytes.iter().enumerate() {
            let kind = types
                .and_then(|p| p.get(i))
                .map_or("pdu", |p| p.message_type.as_str());
            write_part(dir, &pdu_file_name(id, i, kind), bytes)?;
            written = written.saturating_add(1);
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extension_from_content_type() {
        assert_eq!(
            safe_file_name("T1", 0, 2, Some("photo.jpg"), "image/jpeg"),
            "T1-0-2-photo.jpg"
        );
        assert_eq!(
            safe_file_name("T1", 0, 2, Some("photo.JPEG"), "Image/JPEG; name=x"),
            "T1-0-2-photo.jpeg"
        );
        assert_eq!(
            safe_file_name("T1", 0, 2, Some("photo"), "image/png"),
            "T1-0-2-photo.png"
        );
        assert_eq!(
            safe_file_name("T1", 0, 2, Some("photo.exe"), "image/jpeg"),
            "T1-0-2-photo_exe.jpg"
        );
        assert_eq!(
            safe_file_name("T1", 1, 0, None, "application/smil"),
            "T1-1-0-part.smil"
        );
        assert_eq!(
            safe_file_name("T1", 1, 3, Some("card"), "text/x-vCard"),
            "T1-1-3-card.vcf"
        );
        assert_eq!(
            safe_file_name("T1", 1, 3, Some("x.tar.gz"), "application/x-unknown"),
            "T1-1-3-x_tar_gz.bin"
        );
        assert_eq!(
            safe_file_name("T1", 0, 0, Some("a.b.txt"), "text/plain"),
            "T1-0-0-a_b.txt"
        );
        assert_eq!(
            safe_file_name("T1", 0, 0, Some("clip"), "audio/amr"),
            "T1-0-0-clip.amr"
        );
        assert_eq!(
            safe_file_name("T1", 0, 0, Some("m"), "application/vnd.wap.mms-message"),
            "T1-0-0-m.mms"
        );
    }

    #[test]
    fn hostile_names() {
        let cases: &[(&str, &str)] = &[
            ("../../etc/passwd", "T1-0-0-passwd.txt"),
            ("/etc/shadow", "T1-0-0-shadow.txt"),
            ("..\\..\\win.ini", "T1-0-0-win_ini.txt"),
            ("C:\\x.txt", "T1-0-0-x.txt"),
            ("C:x.txt", "T1-0-0-x.txt"),
            ("CON.txt", "T1-0-0-_CON.txt"),
            ("lpt9", "T1-0-0-_lpt9.txt"),
            ("a\u{202E}gpj.exe", "T1-0-0-a_gpj_exe.txt"),
            ("a\0b\nc.txt", "T1-0-0-a_b_c.txt"),
            ("", "T1-0-0-part.txt"),
            (".", "T1-0-0-part.txt"),
            ("..", "T1-0-0-part.txt"),
            (".hidden", "T1-0-0-hidden.txt"),
            ("trailing. . .", "T1-0-0-trailing.txt"),
            ("../", "T1-0-0-part.txt"),
        ];
        for (name, want) in cases {
            assert_eq!(
                safe_file_name("T1", 0, 0, Some(name), "text/plain"),
                *want,
                "{name:?}"
            );
        }
        let long = "é".repeat(10_000);
        let n = safe_file_name("T1", 0, 0, Some(&long), "text/plain");
        assert!(n.len() <= MAX_NAME_BYTES, "{}", n.len());
        assert!(n.ends_with(".txt"));
        assert_eq!(
            safe_file_name("../T1", 0, 0, None, "text/plain"),
            "_T1-0-0-part.txt"
        );
    }

    #[test]
    fn pdu_names() {
        assert_eq!(
            pdu_file_name("T3", 0, "m-retrieve-conf"),
            "T3-0-m-retrieve-conf.mms"
        );
        assert_eq!(pdu_file_name("T3", 1, "../x"), "T3-1-x.mms");
        assert_eq!(pdu_file_name("", 1, ""), "T-1-pdu.mms");
    }

    #[test]
    fn plain_names_only() {
        assert!(is_plain_name("a.txt"));
        for bad in ["", ".", "..", "a/b", "a\\b", "/a", "a\0"] {
            assert!(!is_plain_name(bad), "{bad:?}");
        }
    }
}
