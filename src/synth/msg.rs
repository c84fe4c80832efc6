//! People, addresses and MMS PDUs for generated messages, with the facts each part plants
//! (personal data, GPS, contact cards) recorded for the answer key.

use super::Rng;
use super::answer::PduFacts;
use super::media::{self, PhotoMeta};
use crate::proto::mms::{
    self, Address, MessageType, MmsBody, MmsField, MmsPart, MmsPdu, MmsValue, TimeSpec,
};
use crate::proto::wsp::encoding::{ContentType, EncodedString, Version};
use crate::proto::wsp::headers::WspHeader;
use std::io;

const GIVEN: &[&str] = &[
    "Alice", "Bruno", "Chloe", "Dmitri", "Emma", "Farid", "Grace", "Hugo", "Ines", "Jonas",
    "Keiko", "Liam", "Maya", "Noah", "Olga", "Pavel", "Rosa", "Sami", "Tara", "Umar",
];
const FAMILY: &[&str] = &[
    "Smith", "Martin", "Garcia", "Novak", "Rossi", "Silva", "Tanaka", "Berg", "Dubois", "Kowalski",
    "Okafor", "Larsen", "Moreau", "Jensen", "Costa", "Weber",
];
const DOMAINS: &[&str] = &["example.com", "example.net", "example.org"];

/// Someone who sends or receives messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub name: String,
    /// E.164, `+1555 01xx`.
    pub phone: String,
    pub email: String,
}

impl Person {
    /// The MMS address of the phone (`+15550142/TYPE=PLMN`).
    pub fn plmn(&self) -> String {
        format!("{}/TYPE=PLMN", self.phone)
    }
}

/// Hands out people with distinct numbers.
#[derive(Debug, Clone, Default)]
pub struct People {
    used: Vec<u64>,
}

impl People {
    pub fn person(&mut self, rng: &mut Rng) -> Person {
        let mut n = rng.below(100);
        let mut tries = 0;
        while self.used.contains(&n) && tries < 200 {
            n = (n + 1) % 100;
            tries += 1;
        }
        self.used.push(n);
        let given = rng.pick(GIVEN).copied().unwrap_or("Alex");
        let family = rng.pick(FAMILY).copied().unwrap_or("Doe");
        let domain = rng.pick(DOMAINS).copied().unwrap_or("example.com");
        Person {
            name: format!("{given} {family}"),
            phone: format!("+155501{n:02}"),
            email: format!(
                "{}.{}@{domain}",
                given.to_ascii_lowercase(),
                family.to_ascii_lowercase()
            ),
        }
    }
}

pub fn text(s: &str) -> MmsValue {
    MmsValue::Text {
        text: EncodedString::plain(s),
    }
}

pub fn utf8(s: &str) -> MmsValue {
    MmsValue::Text {
        text: EncodedString::with_charset(106, s),
    }
}

pub fn addr(s: &str) -> MmsValue {
    MmsValue::Address {
        address: Address::from_text(s),
    }
}

pub fn from(s: Option<&str>) -> MmsValue {
    MmsValue::From {
        address: s.map(Address::from_text),
    }
}

pub fn token(octet: u8) -> MmsValue {
    MmsValue::Token { octet }
}

pub fn date(secs: u64) -> MmsValue {
    MmsValue::Date { secs }
}

pub fn relative(secs: u64) -> MmsValue {
    MmsValue::Time {
        time: TimeSpec {
            relative: true,
            secs,
            resolved: None,
        },
    }
}

/// X-Mms-MMS-Version 1.2.
pub fn version() -> MmsValue {
    MmsValue::Version {
        version: Version::Short {
            major: 1,
            minor: Some(2),
        },
    }
}

/// A PDU with its type, transaction id (when given) and version, in the order the
/// specification requires them first.
pub fn pdu(t: MessageType, tid: Option<&str>) -> MmsPdu {
    let mut p = MmsPdu::new(t);
    if let Some(tid) = tid {
        p = p.with(MmsField::TransactionId, text(tid));
    }
    p.with(MmsField::MmsVersion, version())
}

/// One body part and what it plants.
#[derive(Debug, Clone)]
pub struct Part {
    pub part: MmsPart,
    pub personal: bool,
    /// EXIF present: Some(has GPS).
    pub exif: Option<bool>,
    pub card: bool,
}

fn part(ct: ContentType, id: &str, location: &str, data: Vec<u8>) -> MmsPart {
    MmsPart::new(
        ct,
        vec![
            WspHeader::text("Content-ID", format!("<{id}>")),
            WspHeader::text("Content-Location", location),
        ],
        data,
    )
}

/// A photo (JPEG), with EXIF GPS when `gps` is set.
pub fn photo(rng: &mut Rng, gps: bool, name: &str) -> Part {
    let meta = PhotoMeta {
        latitude: (rng.below(140_000_000) as f64 / 1_000_000.0) - 70.0,
        longitude: (rng.below(340_000_000) as f64 / 1_000_000.0) - 170.0,
        altitude: rng.below(20_000) as f64 / 10.0,
        make: "ExampleCam".into(),
        model: format!("X{}", rng.range(100, 999)),
        taken: format!(
            "2024:{:02}:{:02} {:02}:{:02}:{:02}",
            rng.range(1, 12),
            rng.range(1, 28),
            rng.below(24),
            rng.below(60),
            rng.below(60)
        ),
    };
    let grey = rng.below(256) as u8;
    let data = media::jpeg(gps.then_some(&meta), grey);
    Part {
        part: part(
            ContentType::new("image/jpeg").with_param("name", name),
            "image",
            name,
            data,
        ),
        personal: false,
        exif: gps.then_some(true),
        card: false,
    }
}

/// A PNG image (no metadata).
pub fn png(rng: &mut Rng, name: &str) -> Part {
    let grey = rng.below(256) as u8;
    let side = rng.range(4, 24) as u32;
    Part {
        part: part(
            ContentType::new("image/png").with_param("name", name),
            "image",
            name,
            media::png(side, side, grey),
        ),
        personal: false,
        exif: None,
        card: false,
    }
}

/// A UTF-8 text part; `personal` says it contains a phone number or e-mail address.
pub fn text_part(body: &str, personal: bool) -> Part {
    Part {
        part: part(
            ContentType::new("text/plain").with_param("charset", "utf-8"),
            "text",
            "text.txt",
            body.as_bytes().to_vec(),
        ),
        personal,
        exif: None,
        card: false,
    }
}

/// A SMIL presentation of an image and a text.
pub fn smil_part(image: &str) -> Part {
    Part {
        part: part(
            ContentType::new("application/smil"),
            "smil",
            "smil.smil",
            media::smil(image, "text.txt"),
        ),
        personal: false,
        exif: None,
        card: false,
    }
}

/// A vCard of `who` (its phone number and e-mail are personal data too).
pub fn vcard_part(who: &Person) -> Part {
    Part {
        part: part(
            ContentType::new("text/x-vcard").with_param("name", "contact.vcf"),
            "vcard",
            "contact.vcf",
            media::vcard(&who.name, &who.phone, &who.email),
        ),
        personal: true,
        exif: None,
        card: true,
    }
}

/// A text mentioning a phone number and an e-mail address.
pub fn chatty_text(rng: &mut Rng, who: &Person) -> String {
    let openers = [
        "Here is the photo from yesterday.",
        "Look where we ended up!",
        "Sending the picture as promised.",
        "Finally made it.",
    ];
    let opener = rng.pick(&openers).copied().unwrap_or("Hi.");
    format!(
        "{opener} Call me on {} or write to {} when you get this.",
        who.phone, who.email
    )
}

/// Attaches a multipart/related body (SMIL first when present) to a PDU.
pub fn with_body(mut p: MmsPdu, parts: &[Part]) -> MmsPdu {
    let has_smil = parts
        .iter()
        .any(|x| x.part.content_type.media == "application/smil");
    let ct = if has_smil {
        ContentType::new("application/vnd.wap.multipart.related")
            .with_param("start", "<smil>")
            .with_param("type", "application/smil")
    } else {
        ContentType::new("application/vnd.wap.multipart.mixed")
    };
    let mut leaves: Vec<MmsPart> = parts.iter().map(|x| x.part.clone()).collect();
    for (i, l) in leaves.iter_mut().enumerate() {
        l.index = i;
    }
    p = p.with(
        MmsField::ContentType,
        MmsValue::ContentType {
            content_type: ct.clone(),
        },
    );
    p.body = Some(MmsBody {
        content_type: ct,
        multipart: true,
        parts: leaves,
    });
    p
}

/// The facts the parts plant (part indices in body order).
pub fn facts(parts: &[Part], subject_personal: bool) -> PduFacts {
    PduFacts {
        personal_text: subject_personal || parts.iter().any(|p| p.personal),
        images: parts
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.exif.map(|g| (i, g)))
            .collect(),
        cards: parts
            .iter()
            .enumerate()
            .filter(|(_, p)| p.card)
            .map(|(i, _)| i)
            .collect(),
    }
}

/// Encodes a PDU (a failure is a generator bug, reported as an I/O error).
pub fn encode(p: &MmsPdu) -> io::Result<Vec<u8>> {
    mms::encode(p).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))
}

/// A Message-ID as an MMSC assigns it.
pub fn message_id(rng: &mut Rng) -> String {
    format!(
        "{}@mmsc.example.net",
        rng.token(20, b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    )
}

/// A transaction id as a handset or MMSC chooses it.
pub fn transaction_id(rng: &mut Rng) -> String {
    format!("T{}", rng.token(10, b"0123456789abcdef"))
}
