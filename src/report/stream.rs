//! The JSON and JSON Lines reports written piece by piece, for runs whose report is larger than
//! memory. Items (transfers, messages, findings) are serialised as soon as they are final —
//! before their ids are known — and kept in the spill; the writer puts the ids in when it copies
//! them out. The bytes are exactly those of `serde_json::to_writer_pretty` on the whole
//! [`Report`](super::model::Report) (JSON) and of [`super::jsonl::write`] (JSON Lines).

use super::model::{Finding, InputReport, Summary, Tool, Transfer};
use serde::Serialize;
use std::io::{self, Write};

/// The report formats that can be streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFormat {
    Json,
    Jsonl,
}

/// Where a serialised item holds an empty string (`""`) to be replaced by an id: an offset in
/// the item, or `NONE`.
pub const NONE: u32 = u32::MAX;

#[derive(Serialize)]
struct Line<'a, T: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    data: &'a T,
}

/// serde_json's pretty layout (two spaces per level) for a value nested `depth` levels deep, so
/// that an item serialised on its own is byte for byte what the whole report would hold.
struct NestedPretty {
    level: usize,
    has_value: bool,
}

impl NestedPretty {
    fn newline<W: ?Sized + Write>(&self, w: &mut W, first: bool) -> io::Result<()> {
        const PAD: &[u8; 64] = &[b' '; 64];
        w.write_all(if first { b"\n" } else { b",\n" })?;
        let mut left = self.level * 2;
        while left > 0 {
            let n = left.min(PAD.len());
            w.write_all(PAD.get(..n).unwrap_or(PAD))?;
            left -= n;
        }
        Ok(())
    }

    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.level = self.level.saturating_sub(1);
        if self.has_value {
            // A newline, then the closing bracket at the parent's level.
            self.newline(w, true)?;
        }
        w.write_all(bracket)
    }
}

impl serde_json::ser::Formatter for NestedPretty {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(b"[")
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.newline(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.level += 1;
        self.has_value = false;
        w.write_all(b"{")
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }
    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.newline(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, _w: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

/// `value` pretty-printed as an element nested `depth` levels deep (two spaces each).
fn pretty_at<T: Serialize>(value: &T, depth: usize) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(1024);
    pretty_into(&mut out, value, depth)?;
    Ok(out)
}

/// Appends `value` pretty-printed as an element nested `depth` levels deep.
fn pretty_into<T: Serialize>(out: &mut Vec<u8>, value: &T, depth: usize) -> io::Result<()> {
    let formatter = NestedPretty {
        level: depth,
        has_value: false,
    };
    let mut ser = serde_json::Serializer::with_formatter(out, formatter);
    value.serialize(&mut ser)?;
    Ok(())
}

/// One item in the format: a pretty element of a top-level array, or a JSON Lines line (without
/// its newline).
pub fn item<T: Serialize>(
    format: StreamFormat,
    kind: &'static str,
    value: &T,
) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(1024);
    item_into(&mut out, format, kind, value)?;
    Ok(out)
}

/// [`item`], appended to `out` (on an error `out` may hold part of it).
pub fn item_into<T: Serialize>(
    out: &mut Vec<u8>,
    format: StreamFormat,
    kind: &'static str,
    value: &T,
) -> io::Result<()> {
    match format {
        StreamFormat::Json => pretty_into(out, value, 2),
        StreamFormat::Jsonl => Ok(serde_json::to_writer(out, &Line { kind, data: value })?),
    }
}

/// A field whose id is spliced in on output: it is serialised as `"name": ""` (pretty JSON) or
/// `"name":""` (JSON Lines).
#[derive(Clone, Copy)]
enum IdField {
    Id,
    Transfer,
    Message,
}

impl IdField {
    fn pattern(self, format: StreamFormat) -> &'static [u8] {
        match (self, format) {
            (IdField::Id, StreamFormat::Json) => b"\"id\": \"\"",
            (IdField::Id, StreamFormat::Jsonl) => b"\"id\":\"\"",
            (IdField::Transfer, StreamFormat::Json) => b"\"transfer\": \"\"",
            (IdField::Transfer, StreamFormat::Jsonl) => b"\"transfer\":\"\"",
            (IdField::Message, StreamFormat::Json) => b"\"message\": \"\"",
            (IdField::Message, StreamFormat::Jsonl) => b"\"message\":\"\"",
        }
    }
}

/// Offset of the `""` of the first empty `field` in an item.
fn placeholder(format: StreamFormat, bytes: &[u8], field: IdField) -> u32 {
    let pattern = field.pattern(format);
    // memchr's SIMD search: this runs for every transfer and finding of the report.
    memchr::memmem::find(bytes, pattern)
        .and_then(|i| u32::try_from(i + pattern.len() - 2).ok())
        .unwrap_or(NONE)
}

/// A transfer serialised with an empty id, appended to `out`; the offset of its id in what was
/// appended.
pub fn transfer_item_into(
    out: &mut Vec<u8>,
    format: StreamFormat,
    t: &Transfer,
) -> io::Result<u32> {
    debug_assert!(t.id.is_empty());
    let start = out.len();
    item_into(out, format, "transfer", t)?;
    Ok(placeholder(
        format,
        out.get(start..).unwrap_or(&[]),
        IdField::Id,
    ))
}

/// A finding serialised with an empty id, and empty transfer and message ids where it names
/// them, appended to `out`; their offsets in what was appended (`NONE` where it names none).
pub fn finding_item_into<E: Serialize>(
    out: &mut Vec<u8>,
    format: StreamFormat,
    f: &Finding<E>,
) -> io::Result<[u32; 3]> {
    let start = out.len();
    item_into(out, format, "finding", f)?;
    let bytes = out.get(start..).unwrap_or(&[]);
    // Fields come in order id, rule, category, severity, transfer, message, ...: the first
    // match of each is the field, whatever the evidence further on holds.
    let id = placeholder(format, bytes, IdField::Id);
    let transfer = if f.transfer.as_deref() == Some("") {
        placeholder(format, bytes, IdField::Transfer)
    } else {
        NONE
    };
    let message = if f.message.as_deref() == Some("") {
        placeholder(format, bytes, IdField::Message)
    } else {
        NONE
    };
    Ok([id, transfer, message])
}

/// An item id such as `F1234`, formatted without allocating: the writer makes one per item.
pub struct IdText {
    buf: [u8; 21],
    at: usize,
}

impl IdText {
    /// `prefix` followed by `n` in decimal.
    pub fn new(prefix: u8, mut n: u64) -> IdText {
        let mut buf = [0u8; 21];
        let mut at = buf.len();
        loop {
            at -= 1;
            if let Some(b) = buf.get_mut(at) {
                *b = b'0' + (n % 10) as u8;
            }
            n /= 10;
            if n == 0 {
                break;
            }
        }
        at -= 1;
        if let Some(b) = buf.get_mut(at) {
            *b = prefix;
        }
        IdText { buf, at }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(self.buf.get(self.at..).unwrap_or(&[])).unwrap_or_default()
    }
}

/// An id as JSON: `"T12"` (ids are plain ASCII letters and digits), or `null`.
fn write_id(out: &mut dyn Write, id: Option<&str>) -> io::Result<()> {
    match id {
        Some(id) if id.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            out.write_all(b"\"")?;
            out.write_all(id.as_bytes())?;
            out.write_all(b"\"")
        }
        Some(id) => serde_json::to_writer(out, id).map_err(io::Error::from),
        None => out.write_all(b"null"),
    }
}

/// Writes a serialised item, replacing the `""` at each offset (ascending, or `NONE`) with the
/// given id (`null` when none).
pub fn write_spliced(
    out: &mut dyn Write,
    bytes: &[u8],
    splices: &[(u32, Option<&str>)],
) -> io::Result<()> {
    let mut from = 0usize;
    for &(at, id) in splices {
        if at == NONE {
            continue;
        }
        let at = at as usize;
        let (Some(head), true) = (bytes.get(from..at), at + 2 <= bytes.len()) else {
            return Err(io::Error::other("report item placeholder out of range"));
        };
        out.write_all(head)?;
        write_id(out, id)?;
        from = at + 2;
    }
    out.write_all(bytes.get(from..).unwrap_or(&[]))
}

/// Writes a streamed report: the head, then the transfers, messages and findings sections, each
/// item as it comes, then the end.
pub struct StreamWriter<'a> {
    out: &'a mut dyn Write,
    format: StreamFormat,
    section_open: bool,
    items_in_section: u64,
}

impl<'a> StreamWriter<'a> {
    /// Writes everything before the transfers: schema, tool, inputs and summary (JSON), or the
    /// input lines (JSON Lines, whose summary comes last).
    pub fn begin(
        out: &'a mut dyn Write,
        format: StreamFormat,
        schema: &str,
        tool: &Tool,
        inputs: &[InputReport],
        summary: &Summary,
    ) -> io::Result<Self> {
        match format {
            StreamFormat::Json => {
                out.write_all(b"{\n  \"schema\": ")?;
                out.write_all(&serde_json::to_vec(schema)?)?;
                out.write_all(b",\n  \"tool\": ")?;
                out.write_all(&pretty_at(tool, 1)?)?;
                out.write_all(b",\n  \"inputs\": ")?;
                out.write_all(&pretty_at(&inputs, 1)?)?;
                out.write_all(b",\n  \"summary\": ")?;
                out.write_all(&pretty_at(summary, 1)?)?;
            }
            StreamFormat::Jsonl => {
                for i in inputs {
                    out.write_all(&item(format, "input", i)?)?;
                    out.write_all(b"\n")?;
                }
            }
        }
        Ok(StreamWriter {
            out,
            format,
            section_open: false,
            items_in_section: 0,
        })
    }

    fn close_section(&mut self) -> io::Result<()> {
        if self.section_open && self.format == StreamFormat::Json {
            self.out.write_all(if self.items_in_section == 0 {
                b"]"
            } else {
                b"\n  ]"
            })?;
        }
        self.section_open = false;
        Ok(())
    }

    /// Starts the `transfers`, `messages` or `findings` array.
    pub fn section(&mut self, name: &str) -> io::Result<()> {
        self.close_section()?;
        if self.format == StreamFormat::Json {
            write!(self.out, ",\n  \"{name}\": [")?;
        }
        self.section_open = true;
        self.items_in_section = 0;
        Ok(())
    }

    /// Writes one item of the current section; `write` writes its bytes.
    pub fn item(&mut self, write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
        if self.format == StreamFormat::Json {
            self.out.write_all(if self.items_in_section == 0 {
                b"\n    "
            } else {
                b",\n    "
            })?;
        }
        write(&mut *self.out)?;
        if self.format == StreamFormat::Jsonl {
            self.out.write_all(b"\n")?;
        }
        self.items_in_section += 1;
        Ok(())
    }

    /// Closes the report (the JSON Lines summary line comes here).
    pub fn end(mut self, summary: &Summary) -> io::Result<()> {
        self.close_section()?;
        match self.format {
            StreamFormat::Json => self.out.write_all(b"\n}\n"),
            StreamFormat::Jsonl => {
                self.out
                    .write_all(&item(self.format, "summary", summary)?)?;
                self.out.write_all(b"\n")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_formatted_like_format() {
        for n in [0u64, 1, 9, 10, 12_345, u64::MAX] {
            assert_eq!(IdText::new(b'F', n).as_str(), format!("F{n}"));
        }
    }

    #[test]
    fn splices_replace_placeholders_in_order() {
        let mut out = Vec::new();
        let bytes = br#"{"id":"","transfer":"","message":""}"#;
        let at = |name| placeholder(StreamFormat::Jsonl, bytes, name);
        write_spliced(
            &mut out,
            bytes,
            &[
                (at(IdField::Id), Some("F1")),
                (at(IdField::Transfer), Some("T2")),
                (at(IdField::Message), None),
            ],
        )
        .unwrap();
        assert_eq!(out, br#"{"id":"F1","transfer":"T2","message":null}"#);
    }

    #[test]
    fn nested_pretty_at_depth_zero_is_serde_jsons_pretty() {
        let v = serde_json::json!({
            "a": [], "b": {}, "c": [1, [2, []], {"d": null, "e": {}}],
            "f": "x\ny \u{1} \"q\"", "g": [{"h": [true, false]}], "i": 1.5
        });
        assert_eq!(
            pretty_at(&v, 0).unwrap(),
            serde_json::to_vec_pretty(&v).unwrap()
        );
        assert_eq!(pretty_at(&[0u8; 0], 0).unwrap(), b"[]");
    }

    #[test]
    fn pretty_items_are_indented_as_array_elements() {
        let v = serde_json::json!({"a": [1], "b": "x\ny"});
        let got = String::from_utf8(pretty_at(&v, 2).unwrap()).unwrap();
        assert_eq!(
            got,
            "{\n      \"a\": [\n        1\n      ],\n      \"b\": \"x\\ny\"\n    }"
        );
    }
}
