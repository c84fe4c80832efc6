//! EXIF metadata in image parts: GPS position, device and capture time.

use exif::{In, Reader, Tag, Value};
use std::io::Cursor;

/// What an image's EXIF block reveals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ExifFacts {
    /// Decimal degrees, north positive.
    pub latitude: Option<f64>,
    /// Decimal degrees, east positive.
    pub longitude: Option<f64>,
    /// Metres above sea level (negative below).
    pub altitude: Option<f64>,
    pub make: Option<String>,
    pub model: Option<String>,
    /// DateTimeOriginal as written (`YYYY:MM:DD HH:MM:SS`).
    pub taken: Option<String>,
}

impl ExifFacts {
    pub fn has_gps(&self) -> bool {
        self.latitude.is_some() && self.longitude.is_some()
    }

    pub fn is_empty(&self) -> bool {
        *self == ExifFacts::default()
    }
}

fn rational_degrees(v: &Value) -> Option<f64> {
    match v {
        Value::Rational(r) => {
            let mut deg = 0.0;
            let mut scale = 1.0;
            for part in r.iter().take(3) {
                if part.denom == 0 {
                    return None;
                }
                deg += part.to_f64() / scale;
                scale *= 60.0;
            }
            (deg.is_finite() && !r.is_empty()).then_some(deg)
        }
        _ => None,
    }
}

fn ascii(v: &Value) -> Option<String> {
    match v {
        Value::Ascii(parts) => {
            let s = parts
                .iter()
                .map(|p| {
                    String::from_utf8_lossy(p)
                        .trim_end_matches('\0')
                        .trim()
                        .to_owned()
                })
                .collect::<Vec<_>>()
                .join(" ");
            (!s.is_empty()).then_some(s)
        }
        _ => None,
    }
}

/// Reads EXIF from an image (JPEG, TIFF, PNG, HEIF, WebP). None when there is no EXIF.
pub fn read_exif(image: &[u8]) -> Option<ExifFacts> {
    let exif = Reader::new()
        .read_from_container(&mut Cursor::new(image))
        .ok()?;
    let field = |tag| exif.get_field(tag, In::PRIMARY).map(|f| &f.value);
    let reference = |tag| field(tag).and_then(ascii);
    let mut facts = ExifFacts::default();
    if let (Some(lat), Some(lon)) = (
        field(Tag::GPSLatitude).and_then(rational_degrees),
        field(Tag::GPSLongitude).and_then(rational_degrees),
    ) && (0.0..=90.0).contains(&lat)
        && (0.0..=180.0).contains(&lon)
    {
        let south = reference(Tag::GPSLatitudeRef).is_some_and(|r| r.starts_with(['S', 's']));
        let west = reference(Tag::GPSLongitudeRef).is_some_and(|r| r.starts_with(['W', 'w']));
        facts.latitude = Some(if south { -lat } else { lat });
        facts.longitude = Some(if west { -lon } else { lon });
    }
    if let Some(Value::Rational(r)) = field(Tag::GPSAltitude)
        && let Some(a) = r.first()
        && a.denom != 0
    {
        let below =
            matches!(field(Tag::GPSAltitudeRef), Some(Value::Byte(b)) if b.first() == Some(&1));
        let alt = a.to_f64();
        facts.altitude = Some(if below { -alt } else { alt });
    }
    facts.make = field(Tag::Make).and_then(ascii);
    facts.model = field(Tag::Model).and_then(ascii);
    facts.taken = exif
        .get_field(Tag::DateTimeOriginal, In::PRIMARY)
        .map(|f| &f.value)
        .and_then(ascii);
    Some(facts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_no_exif() {
        assert_eq!(read_exif(b"not an image"), None);
        assert_eq!(read_exif(&[0xFF, 0xD8, 0xFF, 0xE1, 0xFF, 0xFF]), None);
    }
}
