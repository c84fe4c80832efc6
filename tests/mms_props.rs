#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Property tests: encode → decode round trips for WSP values, header blocks, multipart bodies
//! and MMS PDUs; decoders never panic on arbitrary bytes; caps on nesting and part count hold.

use mmsleak::proto::mms::tables::{FIELDS, ValueKind};
use mmsleak::proto::mms::{
    Address, DecodeContext, MessageType, MmsBody, MmsField, MmsPart, MmsPdu, MmsValue, TimeSpec,
    decode, encode, looks_like_mms,
};
use mmsleak::proto::wsp::encoding::{self as enc, ContentType, EncodedString, Version};
use mmsleak::proto::wsp::headers::{WspHeader, decode_headers, encode_headers};
use mmsleak::proto::wsp::multipart::{
    EntryToEncode, MultipartLimits, decode_multipart, encode_multipart,
};
use proptest::prelude::*;

fn cfg() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

fn ascii_text() -> impl Strategy<Value = String> {
    "[!-~][ -~]{0,24}"
}

fn encoded_string() -> impl Strategy<Value = EncodedString> {
    prop_oneof![
        "[A-Za-z0-9 .,@+/=-]{0,24}".prop_map(EncodedString::plain),
        "\\PC{0,12}".prop_map(|t| EncodedString::with_charset(106, t)),
        "[a-zA-Z0-9 ]{0,12}".prop_map(|t| EncodedString::with_charset(4, t)),
        "\\PC{0,8}".prop_map(|t| EncodedString::with_charset(1015, t)),
    ]
}

fn address() -> impl Strategy<Value = Address> {
    prop_oneof![
        (0u32..100).prop_map(|n| Address::from_text(format!("+1555010{n:02}/TYPE=PLMN"))),
        "[a-z]{1,8}".prop_map(|u| Address::from_text(format!("{u}@example.com"))),
        (0u8..255).prop_map(|n| Address::from_text(format!("192.0.2.{n}/TYPE=IPv4"))),
    ]
}

fn value_for(kind: ValueKind) -> BoxedStrategy<MmsValue> {
    match kind {
        ValueKind::EncodedString => encoded_string()
            .prop_map(|text| MmsValue::Text { text })
            .boxed(),
        ValueKind::Address => address()
            .prop_map(|address| MmsValue::Address { address })
            .boxed(),
        ValueKind::From => proptest::option::of(address())
            .prop_map(|address| MmsValue::From { address })
            .boxed(),
        ValueKind::Text | ValueKind::Opaque => ascii_text()
            .prop_map(|t| MmsValue::Text {
                text: EncodedString::plain(t),
            })
            .boxed(),
        ValueKind::Date => any::<u64>()
            .prop_map(|secs| MmsValue::Date { secs })
            .boxed(),
        ValueKind::LongInteger | ValueKind::Integer => any::<u64>()
            .prop_map(|value| MmsValue::Integer { value })
            .boxed(),
        ValueKind::Token(table) => proptest::sample::select(table.to_vec())
            .prop_map(|(octet, _)| MmsValue::Token { octet })
            .boxed(),
        ValueKind::TokenOrText(table) => prop_oneof![
            proptest::sample::select(table.to_vec())
                .prop_map(|(octet, _)| MmsValue::Token { octet }),
            "[a-z][a-z-]{0,10}".prop_map(|t| MmsValue::Text {
                text: EncodedString::plain(t)
            }),
        ]
        .boxed(),
        ValueKind::Version => (0u8..8, proptest::option::of(0u8..15))
            .prop_map(|(major, minor)| MmsValue::Version {
                version: Version::Short { major, minor },
            })
            .boxed(),
        ValueKind::Time => (any::<bool>(), any::<u64>())
            .prop_map(|(relative, secs)| MmsValue::Time {
                time: TimeSpec {
                    relative,
                    secs,
                    resolved: (!relative).then_some(secs),
                },
            })
            .boxed(),
        ValueKind::PreviouslySentBy => (any::<u64>(), address())
            .prop_map(|(count, address)| MmsValue::PreviouslySentBy { count, address })
            .boxed(),
        ValueKind::PreviouslySentDate => (any::<u64>(), any::<u64>())
            .prop_map(|(count, secs)| MmsValue::PreviouslySentDate { count, secs })
            .boxed(),
        ValueKind::MmFlags => (0x80u8..=0x82, encoded_string())
            .prop_map(|(action, flag)| MmsValue::MmFlags { action, flag })
            .boxed(),
        ValueKind::MboxCount => (0x80u8..=0x81, any::<u64>())
            .prop_map(|(unit, value)| MmsValue::MboxCount { unit, value })
            .boxed(),
        ValueKind::FieldCode => (0u8..0x80)
            .prop_map(|code| MmsValue::FieldCode { code })
            .boxed(),
        ValueKind::ElementDescriptor => ("[a-z:/.]{1,20}", proptest::option::of("[a-z]{1,8}"))
            .prop_map(|(reference, p)| MmsValue::ElementDescriptor {
                reference,
                params: match p {
                    Some(v) => vec![("type".into(), "image/jpeg".into()), ("x-p".into(), v)],
                    None => vec![],
                },
            })
            .boxed(),
        ValueKind::ContentType => Just(MmsValue::Integer { value: 0 }).boxed(),
    }
}

fn header() -> impl Strategy<Value = (MmsField, MmsValue)> {
    let fields: Vec<(MmsField, ValueKind)> = FIELDS
        .iter()
        .filter(|e| !matches!(e.1, MmsField::ContentType | MmsField::MessageType))
        .map(|e| (e.1, e.3))
        .collect();
    proptest::sample::select(fields).prop_flat_map(|(f, k)| value_for(k).prop_map(move |v| (f, v)))
}

fn content_type() -> impl Strategy<Value = ContentType> {
    prop_oneof![
        Just(ContentType::new("text/plain").with_param("charset", "utf-8")),
        Just(ContentType::new("image/jpeg").with_param("name", "photo 1.jpg")),
        Just(ContentType::new("application/smil")),
        "[a-z]{1,8}/[a-z]{1,8}".prop_map(ContentType::new),
        ("[a-z]{1,8}", "[ -~]{0,10}")
            .prop_map(|(n, v)| ContentType::new("text/x-test").with_param(format!("x-{n}"), v)),
    ]
}

fn part() -> impl Strategy<Value = MmsPart> {
    (
        content_type(),
        proptest::option::of("[a-z0-9]{1,8}"),
        proptest::option::of("[a-z0-9.]{1,12}"),
        proptest::sample::select(vec![None, Some("base64"), Some("quoted-printable")]),
        proptest::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(ct, cid, loc, te, data)| {
            let mut headers = Vec::new();
            if let Some(c) = cid {
                headers.push(WspHeader::text("Content-ID", format!("<{c}>")));
            }
            if let Some(l) = loc {
                headers.push(WspHeader::text("Content-Location", l));
            }
            if let Some(t) = te {
                headers.push(WspHeader::text("Content-Transfer-Encoding", t));
            }
            MmsPart::new(ct, headers, data)
        })
}

fn pdu() -> impl Strategy<Value = MmsPdu> {
    let types: Vec<MessageType> = MessageType::all()
        .filter(|t| *t != MessageType::DELETE_CONF && *t != MessageType::MBOX_DELETE_CONF)
        .collect();
    (
        proptest::sample::select(types),
        proptest::collection::vec(header(), 0..12),
        proptest::option::of(proptest::collection::vec(part(), 0..5)),
    )
        .prop_map(|(t, headers, body)| {
            let mut p = MmsPdu::new(t);
            for (f, v) in headers {
                p = p.with(f, v);
            }
            if let Some(parts) = body {
                let ct = ContentType::new("application/vnd.wap.multipart.mixed");
                p = p.with(
                    MmsField::ContentType,
                    MmsValue::ContentType {
                        content_type: ct.clone(),
                    },
                );
                p.body = Some(MmsBody {
                    content_type: ct,
                    multipart: true,
                    parts,
                });
            }
            p
        })
}

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn integers_round_trip(v in any::<u64>(), u in any::<u32>()) {
        let mut out = Vec::new();
        enc::encode_integer_value(v, &mut out);
        prop_assert_eq!(enc::integer_value(&out).unwrap(), (&[][..], v));
        let mut out = Vec::new();
        enc::encode_uintvar(u, &mut out);
        prop_assert_eq!(enc::uintvar(&out).unwrap(), (&[][..], u));
        let mut out = Vec::new();
        enc::encode_value_length(u, &mut out);
        prop_assert_eq!(enc::value_length(&out).unwrap(), (&[][..], u));
    }

    #[test]
    fn encoded_strings_round_trip(s in encoded_string()) {
        let mut out = Vec::new();
        enc::encode_encoded_string_value(&s, &mut out).unwrap();
        let (rest, back) = enc::encoded_string_value(&out).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(back.text, s.text);
        prop_assert_eq!(back.charset, s.charset);
    }

    #[test]
    fn content_types_round_trip(ct in content_type()) {
        let mut out = Vec::new();
        enc::encode_content_type(&ct, &mut out).unwrap();
        let (rest, back) = enc::content_type_value(&out).unwrap();
        prop_assert!(rest.is_empty());
        prop_assert_eq!(back, ct);
    }

    #[test]
    fn header_blocks_round_trip(
        texts in proptest::collection::vec((proptest::sample::select(vec!["Content-Location", "X-Wap-Content-URI", "User-Agent", "X-Custom-Header", "Content-ID"]), ascii_text()), 0..8),
        n in any::<u64>(), secs in any::<u64>(), user in "[a-z]{0,8}", pw in "[ -~]{0,8}",
    ) {
        let mut headers: Vec<WspHeader> = texts.into_iter().map(|(k, v)| WspHeader::text(k, v)).collect();
        headers.push(WspHeader::integer("Content-Length", n));
        headers.push(WspHeader::date("Last-Modified", secs));
        headers.push(WspHeader::authorization_basic(user, pw));
        headers.push(WspHeader::application_id(4));
        let bytes = encode_headers(&headers).unwrap();
        let d = decode_headers(&bytes);
        prop_assert!(d.complete);
        prop_assert_eq!(d.headers.len(), headers.len());
        for (a, b) in headers.iter().zip(&d.headers) {
            prop_assert_eq!((&a.name, &a.value, &a.typed), (&b.name, &b.value, &b.typed));
        }
    }

    #[test]
    fn multipart_round_trips(parts in proptest::collection::vec(part(), 0..6)) {
        let entries: Vec<EntryToEncode<'_>> = parts.iter().map(|p| EntryToEncode { content_type: &p.content_type, headers: &p.headers, data: &p.data }).collect();
        let body = encode_multipart(&entries).unwrap();
        let m = decode_multipart(&body, &MultipartLimits::default());
        prop_assert!(m.issues.is_empty());
        prop_assert_eq!(m.entries.len(), parts.len());
        for (e, p) in m.entries.iter().zip(&parts) {
            prop_assert_eq!(&e.content_type, &p.content_type);
            prop_assert_eq!(e.data, &p.data[..]);
        }
    }

    #[test]
    fn mms_pdus_round_trip(p in pdu()) {
        let bytes = encode(&p).unwrap();
        prop_assert!(looks_like_mms(&bytes));
        let back = decode(&bytes, &DecodeContext::default()).unwrap();
        prop_assert!(back.issues.is_empty(), "{:?}", back.issues);
        let a: Vec<_> = p.headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect();
        let b: Vec<_> = back.headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect();
        prop_assert_eq!(a, b);
        prop_assert_eq!(back.parts().len(), p.parts().len());
        for (x, y) in back.parts().iter().zip(p.parts()) {
            prop_assert_eq!(&x.content_type, &y.content_type);
            prop_assert_eq!(&x.data, &y.data);
            prop_assert_eq!(&x.sha256, &y.sha256);
            prop_assert_eq!(&x.content_id, &y.content_id);
            prop_assert_eq!(&x.content_location, &y.content_location);
        }
    }

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = enc::uintvar(&bytes);
        let _ = enc::long_integer(&bytes);
        let _ = enc::text_string(&bytes);
        let _ = enc::encoded_string_value(&bytes);
        let _ = enc::content_type_value(&bytes);
        let _ = enc::content_type_value_lenient(&bytes);
        let _ = enc::parameter(&bytes);
        let _ = enc::q_value(&bytes);
        let _ = enc::version_value(&bytes);
        let _ = decode_headers(&bytes);
        let _ = decode_multipart(&bytes, &MultipartLimits::default());
        let _ = looks_like_mms(&bytes);
        let _ = decode(&bytes, &DecodeContext::default());
        // Past the message type, to reach the header and body decoders.
        let mut framed = vec![0x8C, 0x84];
        framed.extend_from_slice(&bytes);
        if let Ok(p) = decode(&framed, &DecodeContext::default()) {
            let _ = p.describe();
            let _ = p.other_headers();
            let _ = encode(&p);
        }
        let mut with_body = vec![0x8C, 0x84, 0x84, 0xA3];
        with_body.extend_from_slice(&bytes);
        let _ = decode(&with_body, &DecodeContext::default());
    }
}

fn nested(depth: usize) -> Vec<u8> {
    let leaf_ct = ContentType::new("text/plain");
    let mixed = ContentType::new("application/vnd.wap.multipart.mixed");
    let mut body = encode_multipart(&[EntryToEncode {
        content_type: &leaf_ct,
        headers: &[],
        data: b"x",
    }])
    .unwrap();
    for _ in 0..depth {
        body = encode_multipart(&[EntryToEncode {
            content_type: &mixed,
            headers: &[],
            data: &body,
        }])
        .unwrap();
    }
    body
}

#[test]
fn nesting_1000_deep_stops_at_the_depth_cap() {
    let body = nested(1000);
    let limits = MultipartLimits::default();
    let m = decode_multipart(&body, &limits);
    assert!(m.limit_reached);
    assert!(
        m.issues
            .iter()
            .any(|i| i.message.contains("nesting deeper than 8"))
    );
    let mut pdu = vec![0x8C, 0x84, 0x84, 0xA3];
    pdu.extend_from_slice(&body);
    let p = decode(&pdu, &DecodeContext::default()).unwrap();
    assert_eq!(
        p.parts().len(),
        1,
        "the undecoded nested multipart is kept as one part"
    );
    assert!(!p.issues.is_empty());
}

#[test]
fn hundred_thousand_parts_stop_at_the_part_cap() {
    let ct = ContentType::new("text/plain");
    let entries: Vec<EntryToEncode<'_>> = (0..100_000)
        .map(|_| EntryToEncode {
            content_type: &ct,
            headers: &[],
            data: b"p",
        })
        .collect();
    let body = encode_multipart(&entries).unwrap();
    let m = decode_multipart(&body, &MultipartLimits::default());
    assert_eq!(m.entries.len(), 1000);
    assert!(m.limit_reached);
    assert!(
        m.issues
            .iter()
            .any(|i| i.message.contains("part limit of 1000"))
    );
    let m = decode_multipart(
        &body,
        &MultipartLimits {
            max_depth: 8,
            max_parts: 200_000,
        },
    );
    assert_eq!(m.entries.len(), 100_000);
}
