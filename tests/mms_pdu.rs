#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! MMS PDUs from annotated hex, one or more per message type, and the report accessors.

use mmsleak::Timestamp;
use mmsleak::proto::mms::{
    Address, AddressKind, DecodeContext, MessageType, MmsBody, MmsField, MmsHeader, MmsPart,
    MmsPdu, MmsValue, TimeSpec, decode, encode, looks_like_mms,
};
use mmsleak::proto::wsp::encoding::{ContentType, EncodedString, Version};
use mmsleak::proto::wsp::headers::WspHeader;

fn hex(s: &str) -> Vec<u8> {
    let clean: String = s
        .lines()
        .map(|l| l.split('#').next().unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    clean
        .split_whitespace()
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

#[test]
fn notification_ind_from_annotated_hex() {
    let bytes = hex(
        "8c 82                                # X-Mms-Message-Type: m-notification-ind
         98 41 42 43 00                       # X-Mms-Transaction-Id: ABC
         8d 92                                # X-Mms-MMS-Version: 1.2
         89 15 80 2b 31 35 35 35 30 31 30 31 2f 54 59 50 45 3d 50 4c 4d 4e 00
                                              # From: present +15550101/TYPE=PLMN
         96 0a ea 48 65 6c 6c 6f 20 c3 a9 00  # Subject: utf-8 'Hello é' (len 10)
         8a 80                                # X-Mms-Message-Class: Personal
         8e 02 30 39                          # X-Mms-Message-Size: 12345
         88 05 81 03 01 51 80                 # X-Mms-Expiry: relative 86400 s
         83 68 74 74 70 3a 2f 2f 6d 6d 73 63 2e 65 78 61 6d 70 6c 65 2e 63 6f 6d 2f 61 00
                                              # X-Mms-Content-Location: http://mmsc.example.com/a",
    );
    assert!(looks_like_mms(&bytes));
    let ctx = DecodeContext {
        capture_time: Some(Timestamp::new(1_700_000_000, 0, 6)),
        ..DecodeContext::default()
    };
    let pdu = decode(&bytes, &ctx).unwrap();
    assert!(pdu.issues.is_empty(), "{:?}", pdu.issues);
    assert_eq!(pdu.message_type_name(), "m-notification-ind");
    assert_eq!(pdu.transaction_id().as_deref(), Some("ABC"));
    assert_eq!(pdu.mms_version().as_deref(), Some("1.2"));
    assert_eq!(pdu.from().as_deref(), Some("+15550101/TYPE=PLMN"));
    assert_eq!(pdu.from_address().unwrap().kind, AddressKind::Plmn);
    assert_eq!(pdu.subject().as_deref(), Some("Hello é"));
    assert_eq!(pdu.message_size(), Some(12345));
    assert_eq!(pdu.expiry().as_deref(), Some("2023-11-15T22:13:20Z"));
    assert_eq!(
        pdu.content_location().as_deref(),
        Some("http://mmsc.example.com/a")
    );
    assert_eq!(
        pdu.other_headers(),
        vec![("X-Mms-Message-Class".to_owned(), "Personal".to_owned())]
    );
    let Some(MmsValue::Time { time }) = pdu.header(MmsField::Expiry) else {
        panic!()
    };
    assert_eq!(
        *time,
        TimeSpec {
            relative: true,
            secs: 86_400,
            resolved: Some(1_700_086_400)
        }
    );
}

#[test]
fn send_req_with_multipart_body_and_insert_address() {
    let bytes = hex(
        "8c 80  98 31 00  8d 90               # m-send-req, tid '1', version 1.0
         89 01 81                             # From: insert-address token
         97 75 40 65 78 61 6d 70 6c 65 2e 63 6f 6d 00     # To: u@example.com
         84 18 b3 8a 3c 73 3e 00 89 61 70 70 6c 69 63 61 74 69 6f 6e 2f 73 6d 69 6c 00
                                              # Content-Type: multipart.related; start=<s>; type=application/smil
         02                                   # 2 entries
         03 02 83 8e 00 68 69                 # text/plain, Content-Location '' (empty), data 'hi'
         02 03 9e  8e 00  ff d8 ff            # image/jpeg, Content-Location '', data ffd8ff",
    );
    // Fix the second entry: HeadersLen 3 covers 9e 8e 00.
    let mut bytes = bytes;
    let n = bytes.len();
    bytes[n - 8] = 0x03;
    bytes[n - 7] = 0x03;
    let pdu = decode(&bytes, &DecodeContext::default()).unwrap();
    assert!(pdu.issues.is_empty(), "{:?}", pdu.issues);
    assert_eq!(pdu.from(), None);
    assert_eq!(pdu.to(), vec!["u@example.com".to_owned()]);
    assert_eq!(pdu.to_addresses_kinds(), vec![AddressKind::Email]);
    let body = pdu.body.as_ref().unwrap();
    assert!(body.multipart);
    assert_eq!(body.content_type.start(), Some("<s>"));
    assert_eq!(body.parts.len(), 2);
    assert_eq!(body.parts[0].data, b"hi");
    assert_eq!(body.parts[1].content_type.media, "image/jpeg");
    assert_eq!(body.parts[1].size, 3);
    assert_eq!(
        body.parts[0].sha256,
        "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4"
    );
}

trait Kinds {
    fn to_addresses_kinds(&self) -> Vec<AddressKind>;
}
impl Kinds for MmsPdu {
    fn to_addresses_kinds(&self) -> Vec<AddressKind> {
        self.address_values(MmsField::To)
            .iter()
            .map(|a| a.kind)
            .collect()
    }
}

#[test]
fn not_mms_is_a_clear_error() {
    let e = decode(b"This is not MMS", &DecodeContext::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "not an MMS PDU: first octet 0x54 is not X-Mms-Message-Type (0x8c)"
    );
    assert!(decode(&[], &DecodeContext::default()).is_err());
    assert!(decode(&[0x8c], &DecodeContext::default()).is_err());
    assert!(decode(&[0x8c, 0x98], &DecodeContext::default()).is_err());
    assert!(!looks_like_mms(b"GET / HTTP/1.1"));
    assert!(!looks_like_mms(&[0x8c, 0x80, 0x00]));
}

#[test]
fn damage_keeps_earlier_headers() {
    // Good Transaction-Id, then a Subject whose Value-length runs past the end.
    let bytes = hex("8c 81 98 41 00 96 1f 20 ea 41");
    let pdu = decode(&bytes, &DecodeContext::default()).unwrap();
    assert_eq!(pdu.transaction_id().as_deref(), Some("A"));
    assert_eq!(pdu.issues.len(), 1);
    assert_eq!(pdu.issues[0].offset, 6); // where the Subject's value starts
    // A malformed value with a good extent is kept opaque and decoding continues.
    let bytes = hex("8c 81 86 78 00 98 41 00"); // Delivery-Report given as text
    let pdu = decode(&bytes, &DecodeContext::default()).unwrap();
    assert_eq!(pdu.issues.len(), 1);
    assert_eq!(pdu.transaction_id().as_deref(), Some("A"));
}

#[test]
fn delete_conf_indexed_values() {
    // m-delete-conf: Content-Location with status index 2 (Value-length Integer Uri).
    let bytes = hex("8c 95 98 31 00 8d 93 83 04 82 61 62 00 92 80");
    let pdu = decode(&bytes, &DecodeContext::default()).unwrap();
    assert!(pdu.issues.is_empty());
    let Some(MmsValue::Indexed { index, .. }) = pdu.header(MmsField::ContentLocation) else {
        panic!("{pdu:?}")
    };
    assert_eq!(*index, 2);
    assert_eq!(pdu.content_location().as_deref(), Some("ab"));
    assert_eq!(
        decode(&encode(&pdu).unwrap(), &DecodeContext::default())
            .unwrap()
            .headers
            .len(),
        pdu.headers.len()
    );
}

fn plain(s: &str) -> MmsValue {
    MmsValue::Text {
        text: EncodedString::plain(s),
    }
}

fn addr(s: &str) -> MmsValue {
    MmsValue::Address {
        address: Address::from_text(s),
    }
}

/// A representative PDU of every message type, with the fields the specification lists for it.
fn sample(t: MessageType) -> MmsPdu {
    let base = MmsPdu::new(t)
        .with(MmsField::TransactionId, plain("T-0001"))
        .with(
            MmsField::MmsVersion,
            MmsValue::Version {
                version: Version::Short {
                    major: 1,
                    minor: Some(3),
                },
            },
        );
    let content = |p: MmsPdu| {
        let ct = ContentType::new("application/vnd.wap.multipart.related")
            .with_param("start", "<t>")
            .with_param("type", "text/plain");
        let part = MmsPart::new(
            ContentType::new("text/plain").with_param("charset", "utf-8"),
            vec![
                WspHeader::text("Content-ID", "<t>"),
                WspHeader::text("Content-Location", "t.txt"),
            ],
            b"call +1 555 0100".to_vec(),
        );
        let mut p = p.with(
            MmsField::ContentType,
            MmsValue::ContentType {
                content_type: ct.clone(),
            },
        );
        p.body = Some(MmsBody {
            content_type: ct,
            multipart: true,
            parts: vec![part],
        });
        p
    };
    let status = |p: MmsPdu| p.with(MmsField::ResponseStatus, MmsValue::Token { octet: 0x80 });
    match t {
        MessageType::SEND_REQ | MessageType::MBOX_UPLOAD_REQ => content(
            base.with(MmsField::From, MmsValue::From { address: None })
                .with(MmsField::To, addr("+15550101/TYPE=PLMN"))
                .with(MmsField::Cc, addr("cc@example.com"))
                .with(MmsField::Bcc, addr("bcc@example.com"))
                .with(
                    MmsField::Subject,
                    MmsValue::Text {
                        text: EncodedString::with_charset(106, "Grüße"),
                    },
                )
                .with(MmsField::DeliveryReport, MmsValue::Token { octet: 0x80 })
                .with(
                    MmsField::Expiry,
                    MmsValue::Time {
                        time: TimeSpec {
                            relative: true,
                            secs: 604_800,
                            resolved: None,
                        },
                    },
                )
                .with(
                    MmsField::MmFlags,
                    MmsValue::MmFlags {
                        action: 0x80,
                        flag: EncodedString::plain("urgent"),
                    },
                ),
        ),
        MessageType::RETRIEVE_CONF | MessageType::MBOX_DESCR => content(
            base.with(MmsField::MessageId, plain("msg-1@mmsc.example.com"))
                .with(
                    MmsField::Date,
                    MmsValue::Date {
                        secs: 1_700_000_000,
                    },
                )
                .with(
                    MmsField::From,
                    MmsValue::From {
                        address: Some(Address::from_text("+15550102/TYPE=PLMN")),
                    },
                )
                .with(MmsField::To, addr("+15550103/TYPE=PLMN"))
                .with(
                    MmsField::PreviouslySentBy,
                    MmsValue::PreviouslySentBy {
                        count: 1,
                        address: Address::from_text("+15550104/TYPE=PLMN"),
                    },
                )
                .with(
                    MmsField::PreviouslySentDate,
                    MmsValue::PreviouslySentDate {
                        count: 1,
                        secs: 1_699_999_000,
                    },
                )
                .with(MmsField::MmState, MmsValue::Token { octet: 0x82 })
                .with(MmsField::ContentClass, MmsValue::Token { octet: 0x81 })
                .with(MmsField::DrmContent, MmsValue::Token { octet: 0x81 }),
        ),
        MessageType::NOTIFICATION_IND => base
            .with(
                MmsField::From,
                MmsValue::From {
                    address: Some(Address::from_text("sender@example.com")),
                },
            )
            .with(
                MmsField::MessageClass,
                MmsValue::Text {
                    text: EncodedString::plain("x-custom"),
                },
            )
            .with(MmsField::MessageSize, MmsValue::Integer { value: 30_000 })
            .with(
                MmsField::Expiry,
                MmsValue::Time {
                    time: TimeSpec {
                        relative: false,
                        secs: 1_700_100_000,
                        resolved: Some(1_700_100_000),
                    },
                },
            )
            .with(
                MmsField::ContentLocation,
                plain("http://mmsc.example.com/m/1"),
            )
            .with(
                MmsField::ElementDescriptor,
                MmsValue::ElementDescriptor {
                    reference: "http://mmsc.example.com/e".into(),
                    params: vec![("type".into(), "image/jpeg".into())],
                },
            )
            .with(MmsField::ReplyCharging, MmsValue::Token { octet: 0x80 })
            .with(
                MmsField::ReplyChargingDeadline,
                MmsValue::Time {
                    time: TimeSpec {
                        relative: true,
                        secs: 3600,
                        resolved: None,
                    },
                },
            )
            .with(
                MmsField::ReplyChargingSize,
                MmsValue::Integer { value: 1000 },
            )
            .with(MmsField::ReplyChargingId, plain("rc-1"))
            .with(
                MmsField::DistributionIndicator,
                MmsValue::Token { octet: 0x81 },
            )
            .with(
                MmsField::RecommendedRetrievalMode,
                MmsValue::Token { octet: 0x80 },
            )
            .with(
                MmsField::RecommendedRetrievalModeText,
                plain("manual please"),
            )
            .with(MmsField::ApplicId, plain("com.example.app"))
            .with(MmsField::ReplyApplicId, plain("com.example.reply"))
            .with(MmsField::AuxApplicInfo, plain("aux"))
            .with(MmsField::ReplaceId, plain("old-1")),
        MessageType::NOTIFYRESP_IND | MessageType::ACKNOWLEDGE_IND => base
            .with(MmsField::Status, MmsValue::Token { octet: 0x81 })
            .with(MmsField::ReportAllowed, MmsValue::Token { octet: 0x81 }),
        MessageType::DELIVERY_IND | MessageType::READ_REC_IND | MessageType::READ_ORIG_IND => base
            .with(MmsField::MessageId, plain("msg-1@mmsc.example.com"))
            .with(MmsField::To, addr("+15550105/TYPE=PLMN"))
            .with(
                MmsField::From,
                MmsValue::From {
                    address: Some(Address::from_text("+15550106/TYPE=PLMN")),
                },
            )
            .with(
                MmsField::Date,
                MmsValue::Date {
                    secs: 1_700_000_500,
                },
            )
            .with(MmsField::Status, MmsValue::Token { octet: 0x81 })
            .with(MmsField::ReadStatus, MmsValue::Token { octet: 0x80 })
            .with(MmsField::StatusText, plain("delivered")),
        MessageType::FORWARD_REQ => base
            .with(MmsField::From, MmsValue::From { address: None })
            .with(MmsField::To, addr("+15550107/TYPE=PLMN"))
            .with(
                MmsField::ContentLocation,
                plain("http://mmsc.example.com/m/2"),
            )
            .with(MmsField::Store, MmsValue::Token { octet: 0x80 }),
        MessageType::MBOX_STORE_REQ | MessageType::MBOX_DELETE_REQ | MessageType::DELETE_REQ => {
            base.with(
                MmsField::ContentLocation,
                plain("http://mmsc.example.com/m/3"),
            )
        }
        MessageType::MBOX_VIEW_REQ => base
            .with(MmsField::Attributes, MmsValue::FieldCode { code: 0x16 })
            .with(MmsField::Totals, MmsValue::Token { octet: 0x80 })
            .with(MmsField::Quotas, MmsValue::Token { octet: 0x80 })
            .with(MmsField::Start, MmsValue::Integer { value: 0 })
            .with(MmsField::Limit, MmsValue::Integer { value: 200 }),
        MessageType::MBOX_VIEW_CONF => status(base)
            .with(
                MmsField::MboxTotals,
                MmsValue::MboxCount {
                    unit: 0x80,
                    value: 12,
                },
            )
            .with(
                MmsField::MboxQuotas,
                MmsValue::MboxCount {
                    unit: 0x81,
                    value: 5_000_000,
                },
            )
            .with(MmsField::MessageCount, MmsValue::Integer { value: 12 }),
        MessageType::MBOX_STORE_CONF | MessageType::MBOX_UPLOAD_CONF => base
            .with(
                MmsField::ContentLocation,
                plain("http://mmsc.example.com/s/1"),
            )
            .with(MmsField::StoreStatus, MmsValue::Token { octet: 0x80 })
            .with(MmsField::StoreStatusText, plain("stored"))
            .with(MmsField::Stored, MmsValue::Token { octet: 0x80 }),
        MessageType::CANCEL_REQ => base.with(MmsField::CancelId, plain("old-1")),
        MessageType::CANCEL_CONF => {
            base.with(MmsField::CancelStatus, MmsValue::Token { octet: 0x80 })
        }
        MessageType::DELETE_CONF | MessageType::MBOX_DELETE_CONF => status(base)
            .with(
                MmsField::ContentLocation,
                MmsValue::Indexed {
                    index: 1,
                    value: Box::new(plain("http://mmsc.example.com/m/4")),
                },
            )
            .with(
                MmsField::ResponseText,
                MmsValue::Indexed {
                    index: 1,
                    value: Box::new(plain("gone")),
                },
            ),
        _ => status(base)
            .with(
                MmsField::ResponseText,
                MmsValue::Text {
                    text: EncodedString::with_charset(4, "reçu"),
                },
            )
            .with(MmsField::MessageId, plain("msg-9"))
            .with(MmsField::StoreStatus, MmsValue::Token { octet: 0x80 })
            .with(MmsField::Priority, MmsValue::Token { octet: 0x82 })
            .with(MmsField::ReadReport, MmsValue::Token { octet: 0x81 })
            .with(MmsField::SenderVisibility, MmsValue::Token { octet: 0x80 })
            .with(MmsField::AdaptationAllowed, MmsValue::Token { octet: 0x80 }),
    }
}

fn comparable(p: &MmsPdu) -> Vec<(String, String, MmsValue)> {
    p.headers
        .iter()
        .map(|h| (h.name_string(), h.value_string(), h.value.clone()))
        .collect()
}

#[test]
fn every_message_type_round_trips() {
    assert_eq!(MessageType::all().count(), 24);
    for t in MessageType::all() {
        let pdu = sample(t);
        let bytes = encode(&pdu).unwrap();
        assert!(looks_like_mms(&bytes), "{t}");
        let back = decode(&bytes, &DecodeContext::default()).unwrap();
        assert!(back.issues.is_empty(), "{t}: {:?}", back.issues);
        assert_eq!(back.message_type, t);
        assert_eq!(comparable(&back), comparable(&pdu), "{t}");
        assert_eq!(back.parts().len(), pdu.parts().len());
        for (a, b) in back.parts().iter().zip(pdu.parts()) {
            assert_eq!(
                (&a.content_type, &a.data, &a.sha256),
                (&b.content_type, &b.data, &b.sha256)
            );
        }
        assert!(!back.describe().is_empty());
    }
}

#[test]
fn spec_names_and_values_render() {
    let pdu = sample(MessageType::NOTIFICATION_IND);
    let d = pdu.describe();
    assert!(d.contains(&("X-Mms-Message-Type".into(), "m-notification-ind".into())));
    assert!(d.contains(&("X-Mms-MMS-Version".into(), "1.3".into())));
    assert!(d.contains(&(
        "X-Mms-Element-Descriptor".into(),
        "http://mmsc.example.com/e; type=image/jpeg".into()
    )));
    assert!(d.contains(&("X-Mms-Reply-Charging".into(), "Requested".into())));
    let pdu = sample(MessageType::MBOX_VIEW_CONF);
    let other = pdu.other_headers();
    assert!(other.contains(&("X-Mms-Response-Status".into(), "Ok".into())));
    assert!(other.contains(&("X-Mms-Mbox-Quotas".into(), "5000000 bytes".into())));
    let json = serde_json::to_string(&pdu).unwrap();
    assert!(json.contains("m-mbox-view-conf"));
}

#[test]
fn application_and_unknown_headers_are_kept() {
    let mut pdu = MmsPdu::new(MessageType::SEND_CONF);
    pdu.headers
        .push(MmsHeader::application("X-Operator-Trace", "abc123"));
    let mut bytes = encode(&pdu).unwrap();
    bytes.extend_from_slice(&[0xC5, 0x81]); // unassigned field 0x45 with a token
    let back = decode(&bytes, &DecodeContext::default()).unwrap();
    assert!(back.issues.is_empty());
    let other = back.other_headers();
    assert_eq!(other[0], ("X-Operator-Trace".into(), "abc123".into()));
    assert_eq!(other[1].0, "X-Mms-Unknown-0x45");
}

#[test]
fn transfer_encoded_parts_are_undone() {
    let ct = ContentType::new("application/vnd.wap.multipart.mixed");
    let mut part = MmsPart::new(
        ContentType::new("text/plain").with_param("charset", "utf-8"),
        vec![WspHeader::text("Content-Transfer-Encoding", "base64")],
        "héllo".as_bytes().to_vec(),
    );
    part.transfer_encoding = Some("base64".into());
    let mut qp = MmsPart::new(
        ContentType::new("text/plain"),
        vec![WspHeader::text(
            "Content-Transfer-Encoding",
            "quoted-printable",
        )],
        b"a=b \xff".to_vec(),
    );
    qp.transfer_encoding = Some("quoted-printable".into());
    let mut pdu = MmsPdu::new(MessageType::RETRIEVE_CONF).with(
        MmsField::ContentType,
        MmsValue::ContentType {
            content_type: ct.clone(),
        },
    );
    pdu.body = Some(MmsBody {
        content_type: ct,
        multipart: true,
        parts: vec![part, qp],
    });
    let bytes = encode(&pdu).unwrap();
    assert!(bytes.windows(8).any(|w| w == b"aMOpbGxv"));
    let back = decode(&bytes, &DecodeContext::default()).unwrap();
    assert_eq!(back.parts()[0].data, "héllo".as_bytes());
    assert_eq!(back.parts()[0].text().as_deref(), Some("héllo"));
    assert_eq!(back.parts()[1].data, b"a=b \xff");
}
