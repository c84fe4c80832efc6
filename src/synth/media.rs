//! Real media for generated messages: a JPEG carrying EXIF GPS, a PNG, a vCard, SMIL and text.
//! Each is a valid file that image viewers and Wireshark's export open.

use exif::experimental::Writer;
use exif::{Field, In, Rational, Tag, Value};
use std::io::Cursor;

/// Where and with what a synthetic photo was taken.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotoMeta {
    pub latitude: f64,
    pub longitude: f64,
    pub altitude: f64,
    pub make: String,
    pub model: String,
    /// `YYYY:MM:DD HH:MM:SS`.
    pub taken: String,
}

fn dms(value: f64) -> Vec<Rational> {
    let v = value.abs();
    let deg = v.trunc();
    let min_f = (v - deg) * 60.0;
    let min = min_f.trunc();
    // Seconds in 1/10000 s keep the coordinate exact to well under a metre.
    let sec = ((min_f - min) * 60.0 * 10_000.0).round();
    vec![
        Rational::from((deg as u32, 1)),
        Rational::from((min as u32, 1)),
        Rational::from((sec as u32, 10_000)),
    ]
}

/// The EXIF block (TIFF structure) for a photo.
pub fn exif_tiff(meta: &PhotoMeta) -> Vec<u8> {
    let fields = [
        Field {
            tag: Tag::Make,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![meta.make.as_bytes().to_vec()]),
        },
        Field {
            tag: Tag::Model,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![meta.model.as_bytes().to_vec()]),
        },
        Field {
            tag: Tag::DateTimeOriginal,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![meta.taken.as_bytes().to_vec()]),
        },
        Field {
            tag: Tag::GPSLatitudeRef,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![if meta.latitude < 0.0 {
                b"S".to_vec()
            } else {
                b"N".to_vec()
            }]),
        },
        Field {
            tag: Tag::GPSLatitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(dms(meta.latitude)),
        },
        Field {
            tag: Tag::GPSLongitudeRef,
            ifd_num: In::PRIMARY,
            value: Value::Ascii(vec![if meta.longitude < 0.0 {
                b"W".to_vec()
            } else {
                b"E".to_vec()
            }]),
        },
        Field {
            tag: Tag::GPSLongitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(dms(meta.longitude)),
        },
        Field {
            tag: Tag::GPSAltitudeRef,
            ifd_num: In::PRIMARY,
            value: Value::Byte(vec![u8::from(meta.altitude < 0.0)]),
        },
        Field {
            tag: Tag::GPSAltitude,
            ifd_num: In::PRIMARY,
            value: Value::Rational(vec![Rational::from((
                (meta.altitude.abs() * 10.0).round() as u32,
                10,
            ))]),
        },
    ];
    let mut w = Writer::new();
    for f in &fields {
        w.push_field(f);
    }
    let mut out = Cursor::new(Vec::new());
    match w.write(&mut out, false) {
        Ok(()) => out.into_inner(),
        Err(_) => Vec::new(),
    }
}

/// A valid 8×8 grey baseline JPEG. With `meta`, an APP1 Exif segment carries the photo's GPS
/// position, device and time. The image uses one-symbol Huffman tables (ITU T.81 allows it): the
/// single block is DC difference 0 then end-of-block.
pub fn jpeg(meta: Option<&PhotoMeta>, grey: u8) -> Vec<u8> {
    let mut j = vec![0xFF, 0xD8];
    if let Some(meta) = meta {
        let tiff = exif_tiff(meta);
        j.extend_from_slice(&[0xFF, 0xE1]);
        j.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
        j.extend_from_slice(b"Exif\0\0");
        j.extend_from_slice(&tiff);
    }
    // DQT: table 0, all ones.
    j.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x43, 0x00]);
    j.extend_from_slice(&[1u8; 64]);
    // SOF0: 8 bits, 8x8, one component (id 1, 1x1 sampling, table 0).
    j.extend_from_slice(&[
        0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x08, 0x00, 0x08, 0x01, 0x01, 0x11, 0x00,
    ]);
    // DHT DC table 0: one code of length 1 for category 0.
    j.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x14, 0x00, 0x01]);
    j.extend_from_slice(&[0u8; 15]);
    j.push(0x00);
    // DHT AC table 0: one code of length 1 for EOB (0x00).
    j.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x14, 0x10, 0x01]);
    j.extend_from_slice(&[0u8; 15]);
    j.push(0x00);
    // DRI-free scan: SOS for component 1 with tables 0/0.
    j.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    // "0" (DC cat 0) "0" (EOB), padded with ones; the grey level shows in a comment only.
    j.push(0x3F);
    j.extend_from_slice(&[0xFF, 0xFE, 0x00, 0x03, grey]);
    j.extend_from_slice(&[0xFF, 0xD9]);
    j
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
}

/// A valid `width`×`height` 8-bit greyscale PNG filled with `grey`.
pub fn png(width: u32, height: u32, grey: u8) -> Vec<u8> {
    use std::io::Write;
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    let mut raw = Vec::new();
    for _ in 0..height {
        raw.push(0);
        raw.extend(std::iter::repeat_n(grey, width as usize));
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = z.write_all(&raw);
    let idat = z.finish().unwrap_or_default();
    png_chunk(&mut out, b"IDAT", &idat);
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A valid `width`×`height` 8-bit greyscale PNG of the given pixels (row-major, cycled when
/// short), e.g. noise that does not compress.
pub fn png_pixels(width: u32, height: u32, pixels: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
    png_chunk(&mut out, b"IHDR", &ihdr);
    let mut raw = Vec::new();
    let mut source = pixels.iter().copied().cycle();
    for _ in 0..height {
        // Filter type 0 (none), then the row.
        raw.extend(std::iter::once(0).chain(source.by_ref().take(width as usize)));
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    let _ = z.write_all(&raw);
    let idat = z.finish().unwrap_or_default();
    png_chunk(&mut out, b"IDAT", &idat);
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A vCard 3.0.
pub fn vcard(name: &str, phone: &str, email: &str) -> Vec<u8> {
    let (given, family) = name.split_once(' ').unwrap_or((name, ""));
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:{family};{given};;;\r\nFN:{name}\r\nTEL;TYPE=CELL:{phone}\r\nEMAIL;TYPE=INTERNET:{email}\r\nEND:VCARD\r\n"
    )
    .into_bytes()
}

/// A SMIL presentation showing an image and a text region.
pub fn smil(image: &str, text: &str) -> Vec<u8> {
    format!(
        "<smil><head><layout><root-layout width=\"320\" height=\"480\"/>\
         <region id=\"Image\" top=\"0\" left=\"0\" height=\"70%\" width=\"100%\"/>\
         <region id=\"Text\" top=\"70%\" left=\"0\" height=\"30%\" width=\"100%\"/>\
         </layout></head><body><par dur=\"5000ms\"><img src=\"{image}\" region=\"Image\"/>\
         <text src=\"{text}\" region=\"Text\"/></par></body></smil>"
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::detect::exif::read_exif;

    #[test]
    fn jpeg_exif_round_trips_through_the_detector() {
        let meta = PhotoMeta {
            latitude: 48.858_37,
            longitude: -2.294_481,
            altitude: 35.5,
            make: "ExampleCam".into(),
            model: "X100".into(),
            taken: "2024:05:01 12:34:56".into(),
        };
        let img = jpeg(Some(&meta), 128);
        let facts = read_exif(&img).unwrap();
        assert!((facts.latitude.unwrap() - 48.858_37).abs() < 1e-5);
        assert!((facts.longitude.unwrap() + 2.294_481).abs() < 1e-5);
        assert!((facts.altitude.unwrap() - 35.5).abs() < 1e-9);
        assert_eq!(facts.make.as_deref(), Some("ExampleCam"));
        assert_eq!(facts.model.as_deref(), Some("X100"));
        assert_eq!(facts.taken.as_deref(), Some("2024:05:01 12:34:56"));
        assert_eq!(read_exif(&jpeg(None, 1)), None);
    }

    #[test]
    fn png_is_well_formed() {
        let p = png(2, 2, 200);
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&p[12..16], b"IHDR");
        assert!(p.ends_with(&[0xAE, 0x42, 0x60, 0x82]));
    }
}
