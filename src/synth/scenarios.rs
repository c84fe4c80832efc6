//! The scenarios: what each lab capture contains, and its answer key.
//!
//! Every scenario writes its frames through a [`Lab`] and records, as it goes, the transfers,
//! PDUs and message events it creates; [`write_capture`] then writes the capture file and its
//! `<file>.answers.json`. Input paths in the keys are bare file names: run the scan from inside
//! the output folder (or compare paths loosely).

use super::answer::PduFacts;
use super::lab::{FileFormat, GtpTunnel, Lab};
use super::msg::{self, People, Person};
use super::net::Link;
use super::wap::{self, MmsCargo, Segmentation, WspReplySpec, WspRequestSpec, WtpSession};
use super::{GeneratedCapture, Rng, web};
use crate::proto::mms::{MessageType, MmsField, MmsPdu, MmsValue};
use crate::proto::wsp::headers::WspHeader;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;

/// Builds one scenario into `outdir`.
pub fn build(name: &str, seed: u64, outdir: &Path) -> io::Result<Vec<GeneratedCapture>> {
    match name {
        "wap-push-notification" => single(outdir, name, seed, FileFormat::PCAP, wap_push),
        "wtp-segmented-upload" => single(outdir, name, seed, FileFormat::PCAP, wtp_upload),
        "http-mmsc" => single(outdir, name, seed, FileFormat::PCAP, web::http_mmsc),
        "push-then-http-retrieval" => {
            single(outdir, name, seed, FileFormat::PCAP, web::push_then_http)
        }
        "tls-mmsc" => single(outdir, name, seed, FileFormat::PCAP, web::tls_mmsc),
        "wtls" => single(outdir, name, seed, FileFormat::PCAP, wtls),
        "forward-and-mailbox" => single(outdir, name, seed, FileFormat::PCAP, forward_mailbox),
        "gtp-u" => single(outdir, name, seed, FileFormat::PCAP, gtp_u),
        "ip-fragments" => single(outdir, name, seed, FileFormat::PCAP, ip_fragments),
        "tcp-anomalies" => single(outdir, name, seed, FileFormat::PCAP, web::tcp_anomalies),
        "link-layers" => single(outdir, name, seed, FileFormat::PCAPNG, link_layers),
        "formats" => formats(outdir, seed),
        other => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unknown scenario '{other}'"),
        )),
    }
}

type Scenario = fn(&mut Lab, &mut Cast) -> io::Result<()>;

fn single(
    outdir: &Path,
    name: &str,
    seed: u64,
    format: FileFormat,
    scenario: Scenario,
) -> io::Result<Vec<GeneratedCapture>> {
    let mut lab = Lab::new(seed, format.digits());
    let mut cast = Cast::new(&mut lab.rng.fork(1));
    scenario(&mut lab, &mut cast)?;
    let ext = match format {
        FileFormat::Pcap { gzip: true, .. } => "pcap.gz",
        FileFormat::Pcap { .. } => "pcap",
        FileFormat::Pcapng { .. } => "pcapng",
    };
    Ok(vec![write_capture(
        &lab,
        outdir,
        name,
        &format!("{name}.{ext}"),
        format,
    )?])
}

/// Writes the capture and its answer key.
pub fn write_capture(
    lab: &Lab,
    outdir: &Path,
    scenario: &str,
    file: &str,
    format: FileFormat,
) -> io::Result<GeneratedCapture> {
    let path = lab.write_file(outdir, file, format)?;
    let input = lab.input_report(file, format);
    let report = lab.key.report(vec![input], lab.flow_count());
    let json = serde_json::to_string_pretty(&report).map_err(io::Error::other)?;
    let answers = outdir.join(format!("{file}.answers.json"));
    std::fs::write(&answers, json + "\n")?;
    Ok(GeneratedCapture {
        scenario: scenario.to_owned(),
        capture: path,
        answers: Some(answers),
        extra: Vec::new(),
        packets: lab.frame_count(),
    })
}

/// Addresses, hosts and people of one scenario, all distinct.
pub struct Cast {
    rng: Rng,
    used: Vec<IpAddr>,
    pub people: People,
    pub host: String,
}

const MMSC_HOSTS: &[&str] = &["mmsc.example.com", "mms.example.net", "mmsc.example.org"];

impl Cast {
    pub fn new(rng: &mut Rng) -> Self {
        let mut rng = rng.fork(2);
        let host = rng
            .pick(MMSC_HOSTS)
            .copied()
            .unwrap_or("mmsc.example.com")
            .to_owned();
        Cast {
            rng,
            used: Vec::new(),
            people: People::default(),
            host,
        }
    }

    fn v4(&mut self, prefix: [u8; 3]) -> IpAddr {
        loop {
            let last = self.rng.range(10, 250) as u8;
            let ip = IpAddr::V4(Ipv4Addr::new(prefix[0], prefix[1], prefix[2], last));
            if !self.used.contains(&ip) {
                self.used.push(ip);
                return ip;
            }
        }
    }

    /// A handset (198.51.100.0/24).
    pub fn handset_ip(&mut self) -> IpAddr {
        self.v4([198, 51, 100])
    }

    /// An operator server: WAP gateway, PPG, MMSC (203.0.113.0/24).
    pub fn server_ip(&mut self) -> IpAddr {
        self.v4([203, 0, 113])
    }

    /// Some other host (192.0.2.0/24).
    pub fn other_ip(&mut self) -> IpAddr {
        self.v4([192, 0, 2])
    }

    /// An IPv6 address in 2001:db8::/32.
    pub fn v6(&mut self) -> IpAddr {
        loop {
            let a = self.rng.range(1, 0xfffe) as u16;
            let b = self.rng.range(1, 0xfffe) as u16;
            let ip = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, a, 0, 0, 0, 0, b));
            if !self.used.contains(&ip) {
                self.used.push(ip);
                return ip;
            }
        }
    }

    pub fn port(&mut self) -> u16 {
        self.rng.range(49_152, 65_000) as u16
    }

    pub fn person(&mut self) -> Person {
        self.people.person(&mut self.rng)
    }

    pub fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }

    /// A content location with a strong 32-character token.
    pub fn location(&mut self) -> String {
        let token = self.rng.strong_token(32);
        format!("http://{}/mms/{token}", self.host)
    }

    pub fn user_agent(&mut self) -> String {
        let models = [
            "ExamplePhone 6230",
            "Handset-X2",
            "SampleTel S55",
            "DemoMobile 3410",
        ];
        let model = self.rng.pick(&models).copied().unwrap_or("Handset");
        format!("{model} Profile/MIDP-2.0 MMS/1.2")
    }
}

fn sock(ip: IpAddr, port: u16) -> SocketAddr {
    SocketAddr::new(ip, port)
}

/// An m-notification-ind for a message of `size` octets at `location`.
pub fn notification(
    cast: &mut Cast,
    tid: &str,
    sender: &Person,
    location: &str,
    size: u64,
    label: &str,
) -> io::Result<MmsCargo> {
    let p = msg::pdu(MessageType::NOTIFICATION_IND, Some(tid))
        .with(MmsField::From, msg::from(Some(&sender.plmn())))
        .with(MmsField::Subject, msg::utf8("Photo"))
        .with(MmsField::MessageClass, msg::token(0x80))
        .with(MmsField::MessageSize, MmsValue::Integer { value: size })
        .with(MmsField::Expiry, msg::relative(3 * 86_400))
        .with(MmsField::ContentLocation, msg::text(location));
    let _ = cast;
    Ok(MmsCargo::new(msg::encode(&p)?, PduFacts::default(), label))
}

/// An m-retrieve-conf with SMIL, a photo with GPS and a text with a phone number and e-mail.
pub fn retrieve_conf(
    lab: &mut Lab,
    tid: &str,
    message_id: &str,
    sender: &Person,
    recipient: &Person,
    label: &str,
) -> io::Result<MmsCargo> {
    let secs = lab.ts().secs.max(0) as u64;
    let photo_name = format!("IMG_{:04}.jpg", lab.rng.range(1, 9999));
    let parts = vec![
        msg::smil_part(&photo_name),
        msg::photo(&mut lab.rng, true, &photo_name),
        msg::text_part(&msg::chatty_text(&mut lab.rng, sender), true),
    ];
    let p = msg::pdu(MessageType::RETRIEVE_CONF, Some(tid))
        .with(MmsField::MessageId, msg::text(message_id))
        .with(MmsField::From, msg::from(Some(&sender.plmn())))
        .with(MmsField::To, msg::addr(&recipient.plmn()))
        .with(MmsField::Date, msg::date(secs.saturating_sub(120)))
        .with(MmsField::Subject, msg::utf8("Photo"))
        .with(MmsField::MessageClass, msg::token(0x80));
    let p = msg::with_body(p, &parts);
    Ok(MmsCargo::new(
        msg::encode(&p)?,
        msg::facts(&parts, false),
        label,
    ))
}

fn ua(cast: &mut Cast) -> Vec<WspHeader> {
    vec![WspHeader::text("User-Agent", cast.user_agent())]
}

fn mms_app_id() -> Vec<WspHeader> {
    vec![WspHeader::application_id(4)]
}

/// Push, deferred notify-response, retrieval and acknowledgement over connectionless WSP.
pub(crate) fn wap_push(lab: &mut Lab, cast: &mut Cast) -> io::Result<()> {
    let sender = cast.person();
    let recipient = cast.person();
    let handset = cast.handset_ip();
    let gw = cast.server_ip();
    let ppg = sock(gw, cast.port());
    let wsp = sock(gw, 9200);
    let phone_push = sock(handset, 2948);
    let phone = sock(handset, cast.port());
    let location = cast.location();
    let tid_n = msg::transaction_id(cast.rng());
    let tid_r = msg::transaction_id(cast.rng());
    let mid = msg::message_id(cast.rng());

    let conf = retrieve_conf(lab, &tid_r, &mid, &sender, &recipient, "m1")?;
    let note = notification(
        cast,
        &tid_n,
        &sender,
        &location,
        conf.bytes.len() as u64,
        "m1",
    )?;
    let mut tid: u8 = lab.rng.below(200) as u8;
    wap::push(
        lab,
        ppg,
        phone_push,
        tid,
        &WspReplySpec::mms(200, mms_app_id(), note),
    )?;
    lab.wait_ms(300, 1500);

    // Deferred retrieval: the handset says so, then fetches.
    let resp = msg::pdu(MessageType::NOTIFYRESP_IND, Some(&tid_n))
        .with(MmsField::Status, msg::token(0x83))
        .with(MmsField::ReportAllowed, msg::token(0x80));
    let mmsc_url = format!("http://{}/mms", cast.host);
    tid = tid.wrapping_add(1);
    post_answered_no_content(lab, cast, (phone, wsp, tid), &mmsc_url, &resp, "m1")?;
    lab.wait_ms(500, 3000);

    tid = tid.wrapping_add(1);
    let mut get = WspRequestSpec::get(&location, ua(cast));
    get.retrieval = Some("m1".into());
    wap::method(
        lab,
        phone,
        wsp,
        tid,
        &get,
        &WspReplySpec::mms(200, Vec::new(), conf),
    )?;
    lab.wait_ms(200, 900);

    let ack = msg::pdu(MessageType::ACKNOWLEDGE_IND, Some(&tid_r))
        .with(MmsField::ReportAllowed, msg::token(0x80));
    tid = tid.wrapping_add(1);
    post_answered_no_content(lab, cast, (phone, wsp, tid), &mmsc_url, &ack, "m1")?;
    Ok(())
}

/// An m-send-req of a few KB (photo, noise image, vCard, text) over a WTP session.
pub(crate) fn wtp_upload(lab: &mut Lab, cast: &mut Cast) -> io::Result<()> {
    let recipient = cast.person();
    let contact = cast.person();
    let handset = cast.handset_ip();
    let gw = cast.server_ip();
    let mut session = WtpSession {
        client: sock(handset, cast.port()),
        server: sock(gw, 9201),
        next_tid: lab.rng.range(1, 0x7000) as u16,
        session_id: lab.rng.range(1, 0xFFFF) as u32,
    };
    let headers = ua(cast);
    session.connect(lab, &headers)?;
    lab.wait_ms(100, 600);

    let noise: Vec<u8> = (0..2304).map(|_| lab.rng.below(256) as u8).collect();
    let photo_name = format!("IMG_{:04}.jpg", lab.rng.range(1, 9999));
    let noise_part = msg::Part {
        part: crate::proto::mms::MmsPart::new(
            crate::proto::wsp::encoding::ContentType::new("image/png")
                .with_param("name", "texture.png"),
            vec![
                WspHeader::text("Content-ID", "<texture>"),
                WspHeader::text("Content-Location", "texture.png"),
            ],
            super::media::png_pixels(48, 48, &noise),
        ),
        personal: false,
        exif: None,
        card: false,
    };
    let parts = vec![
        msg::smil_part(&photo_name),
        msg::photo(&mut lab.rng, true, &photo_name),
        noise_part,
        msg::vcard_part(&contact),
        msg::text_part(
            &format!("Here is {}'s card, as promised.", contact.name),
            false,
        ),
    ];
    let tid = msg::transaction_id(cast.rng());
    let req = msg::pdu(MessageType::SEND_REQ, Some(&tid))
        .with(MmsField::From, msg::from(None))
        .with(MmsField::To, msg::addr(&recipient.plmn()))
        .with(MmsField::Subject, msg::utf8("Card and photo"))
        .with(MmsField::MessageClass, msg::token(0x80))
        .with(MmsField::DeliveryReport, msg::token(0x81));
    let req = msg::with_body(req, &parts);
    let bytes = msg::encode(&req)?;
    let segment = bytes.len().div_ceil(5);
    let cargo = MmsCargo::new(bytes, msg::facts(&parts, false), "m1");
    let conf = msg::pdu(MessageType::SEND_CONF, Some(&tid))
        .with(MmsField::ResponseStatus, msg::token(0x80))
        .with(MmsField::MessageId, msg::text(&msg::message_id(cast.rng())));
    let conf = MmsCargo::new(msg::encode(&conf)?, PduFacts::default(), "m1");
    session.method(
        lab,
        &WspRequestSpec::post(&format!("http://{}/mms", cast.host), ua(cast), cargo),
        &WspReplySpec::mms(200, Vec::new(), conf),
        Segmentation {
            segment_size: segment,
            group_size: 3,
            retransmit: Some(2),
            swap: Some((3, 4)),
        },
    )?;
    Ok(())
}

/// WTLS on 9203 from two handsets.
pub(crate) fn wtls(lab: &mut Lab, cast: &mut Cast) -> io::Result<()> {
    let gw = cast.server_ip();
    let a = sock(cast.handset_ip(), cast.port());
    let b = sock(cast.handset_ip(), cast.port());
    let n = lab.rng.range(4, 8) as usize;
    wap::wtls_flow(lab, a, sock(gw, 9203), n)?;
    lab.wait_ms(500, 2000);
    let n = lab.rng.range(2, 6) as usize;
    wap::wtls_flow(lab, b, sock(gw, 9203), n)?;
    Ok(())
}

/// Sending to many, delivery and read reports, a forwarded message with Bcc left in, MMBox.
pub(crate) fn forward_mailbox(lab: &mut Lab, cast: &mut Cast) -> io::Result<()> {
    let alice = cast.person();
    let bob = cast.person();
    let carol = cast.person();
    let friends: Vec<Person> = (0..12).map(|_| cast.person()).collect();
    let gw = cast.server_ip();
    let wsp = sock(gw, 9200);
    let ppg = sock(gw, cast.port());
    let alice_ip = cast.handset_ip();
    let bob_ip = cast.handset_ip();
    let alice_phone = sock(alice_ip, cast.port());
    let bob_phone = sock(bob_ip, cast.port());
    let mmsc_url = format!("http://{}/mms", cast.host);
    let mut tid: u8 = lab.rng.below(200) as u8;
    let mut next_tid = || {
        tid = tid.wrapping_add(1);
        tid
    };

    // M1: Alice sends to 12 people (8 To, 4 Cc), asks for delivery and read reports.
    let t1 = msg::transaction_id(cast.rng());
    let mid1 = msg::message_id(cast.rng());
    let parts = vec![msg::text_part(
        "Party on Saturday at 8, bring snacks!",
        false,
    )];
    let mut req = msg::pdu(MessageType::SEND_REQ, Some(&t1)).with(MmsField::From, msg::from(None));
    for (i, f) in friends.iter().enumerate() {
        let field = if i < 8 { MmsField::To } else { MmsField::Cc };
        req = req.with(field, msg::addr(&f.plmn()));
    }
    let req = req
        .with(MmsField::Subject, msg::utf8("Saturday"))
        .with(MmsField::DeliveryReport, msg::token(0x80))
        .with(MmsField::ReadReport, msg::token(0x80));
    let req = msg::with_body(req, &parts);
    let conf = msg::pdu(MessageType::SEND_CONF, Some(&t1))
        .with(MmsField::ResponseStatus, msg::token(0x80))
        .with(MmsField::MessageId, msg::text(&mid1));
    post_mms(
        lab,
        cast,
        (alice_phone, wsp, next_tid()),
        &mmsc_url,
        MmsCargo::new(msg::encode(&req)?, msg::facts(&parts, false), "m1"),
        MmsCargo::new(msg::encode(&conf)?, PduFacts::default(), "m1"),
    )?;
    lab.wait_ms(2000, 8000);

    // Delivery and read reports come back to Alice by push, tied by Message-ID.
    let first = friends.first().cloned().unwrap_or_else(|| bob.clone());
    let secs = lab.ts().secs.max(0) as u64;
    let delivery = msg::pdu(MessageType::DELIVERY_IND, None)
        .with(MmsField::MessageId, msg::text(&mid1))
        .with(MmsField::To, msg::addr(&first.plmn()))
        .with(MmsField::Date, msg::date(secs))
        .with(MmsField::Status, msg::token(0x81));
    wap::push(
        lab,
        ppg,
        sock(alice_ip, 2948),
        next_tid(),
        &WspReplySpec::mms(
            200,
            mms_app_id(),
            MmsCargo::new(msg::encode(&delivery)?, PduFacts::default(), "m1"),
        ),
    )?;
    lab.wait_ms(1000, 5000);
    let read = msg::pdu(MessageType::READ_ORIG_IND, None)
        .with(MmsField::MessageId, msg::text(&mid1))
        .with(MmsField::To, msg::addr(&alice.plmn()))
        .with(MmsField::From, msg::from(Some(&first.plmn())))
        .with(MmsField::Date, msg::date(secs + 30))
        .with(MmsField::ReadStatus, msg::token(0x80));
    wap::push(
        lab,
        ppg,
        sock(alice_ip, 2948),
        next_tid(),
        &WspReplySpec::mms(
            200,
            mms_app_id(),
            MmsCargo::new(msg::encode(&read)?, PduFacts::default(), "m1"),
        ),
    )?;
    lab.wait_ms(1000, 5000);

    // M2: Bob receives a forwarded message that still lists its Bcc recipient.
    let loc2 = cast.location();
    let tn = msg::transaction_id(cast.rng());
    let tr = msg::transaction_id(cast.rng());
    let mid2 = msg::message_id(cast.rng());
    let secs = lab.ts().secs.max(0) as u64;
    let parts = vec![msg::text_part(
        &format!("Forwarding this from {}: see you there.", carol.name),
        false,
    )];
    let conf2 = msg::pdu(MessageType::RETRIEVE_CONF, Some(&tr))
        .with(MmsField::MessageId, msg::text(&mid2))
        .with(MmsField::From, msg::from(Some(&alice.plmn())))
        .with(MmsField::To, msg::addr(&bob.plmn()))
        .with(MmsField::Bcc, msg::addr(&carol.email))
        .with(MmsField::Date, msg::date(secs.saturating_sub(60)))
        .with(
            MmsField::PreviouslySentBy,
            MmsValue::PreviouslySentBy {
                count: 1,
                address: crate::proto::mms::Address::from_text(carol.plmn()),
            },
        )
        .with(
            MmsField::PreviouslySentDate,
            MmsValue::PreviouslySentDate {
                count: 1,
                secs: secs.saturating_sub(3600),
            },
        )
        .with(MmsField::Subject, msg::utf8("Fwd: Saturday"));
    let conf2 = msg::with_body(conf2, &parts);
    let conf2 = MmsCargo::new(msg::encode(&conf2)?, msg::facts(&parts, false), "m2");
    let note = notification(cast, &tn, &alice, &loc2, conf2.bytes.len() as u64, "m2")?;
    wap::push(
        lab,
        ppg,
        sock(bob_ip, 2948),
        next_tid(),
        &WspReplySpec::mms(200, mms_app_id(), note),
    )?;
    lab.wait_ms(500, 3000);
    let mut get = WspRequestSpec::get(&loc2, ua(cast));
    get.retrieval = Some("m2".into());
    wap::method(
        lab,
        bob_phone,
        wsp,
        next_tid(),
        &get,
        &WspReplySpec::mms(200, Vec::new(), conf2),
    )?;
    lab.wait_ms(200, 900);
    let ack = msg::pdu(MessageType::ACKNOWLEDGE_IND, Some(&tr));
    post_answered_no_content(
        lab,
        cast,
        (bob_phone, wsp, next_tid()),
        &mmsc_url,
        &ack,
        "m2",
    )?;
    lab.wait_ms(5000, 20000);

    // Bob forwards it (by reference to its content location) and stores it in his MMBox.
    let tf = msg::transaction_id(cast.rng());
    let fwd = msg::pdu(MessageType::FORWARD_REQ, Some(&tf))
        .with(MmsField::From, msg::from(None))
        .with(MmsField::To, msg::addr(&carol.plmn()))
        .with(MmsField::ContentLocation, msg::text(&loc2));
    let fconf = msg::pdu(MessageType::FORWARD_CONF, Some(&tf))
        .with(MmsField::ResponseStatus, msg::token(0x80))
        .with(MmsField::MessageId, msg::text(&msg::message_id(cast.rng())));
    post_mms(
        lab,
        cast,
        (bob_phone, wsp, next_tid()),
        &mmsc_url,
        MmsCargo::new(msg::encode(&fwd)?, PduFacts::default(), "m2"),
        MmsCargo::new(msg::encode(&fconf)?, PduFacts::default(), "m2"),
    )?;
    lab.wait_ms(1000, 4000);
    let ts = msg::transaction_id(cast.rng());
    let store = msg::pdu(MessageType::MBOX_STORE_REQ, Some(&ts))
        .with(MmsField::ContentLocation, msg::text(&loc2))
        .with(MmsField::MmState, msg::token(0x84));
    let mbox_token = cast.rng().strong_token(32);
    let stored_at = format!("http://{}/mbox/{mbox_token}", cast.host);
    let sconf = msg::pdu(MessageType::MBOX_STORE_CONF, Some(&ts))
        .with(MmsField::ContentLocation, msg::text(&stored_at))
        .with(MmsField::StoreStatus, msg::token(0x80));
    post_mms(
        lab,
        cast,
        (bob_phone, wsp, next_tid()),
        &mmsc_url,
        MmsCargo::new(msg::encode(&store)?, PduFacts::default(), "m2"),
        MmsCargo::new(msg::encode(&sconf)?, PduFacts::default(), "m2"),
    )?;
    Ok(())
}

/// Push and retrieval of one message between `handset` and `gw`; returns nothing, records all.
fn push_and_get(
    lab: &mut Lab,
    cast: &mut Cast,
    handset: IpAddr,
    gw: IpAddr,
    label: &str,
    fragment_reply: Option<usize>,
) -> io::Result<()> {
    let sender = cast.person();
    let recipient = cast.person();
    let location = cast.location();
    let tid_n = msg::transaction_id(cast.rng());
    let tid_r = msg::transaction_id(cast.rng());
    let mid = msg::message_id(cast.rng());
    let conf = retrieve_conf(lab, &tid_r, &mid, &sender, &recipient, label)?;
    let note = notification(
        cast,
        &tid_n,
        &sender,
        &location,
        conf.bytes.len() as u64,
        label,
    )?;
    let ppg = sock(gw, cast.port());
    let tid = lab.rng.below(200) as u8;
    wap::push(
        lab,
        ppg,
        sock(handset, 2948),
        tid,
        &WspReplySpec::mms(200, mms_app_id(), note),
    )?;
    lab.wait_ms(300, 1500);
    let phone = sock(handset, cast.port());
    let wsp = sock(gw, 9200);
    let mut get = WspRequestSpec::get(&location, ua(cast));
    get.retrieval = Some(label.into());
    let reply = WspReplySpec::mms(200, Vec::new(), conf);
    match fragment_reply {
        None => {
            wap::method(lab, phone, wsp, tid.wrapping_add(1), &get, &reply)?;
        }
        Some(max) => {
            let (q, r) = wap::method_bytes(tid.wrapping_add(1), &get, &reply)?;
            let f1 = lab.udp(phone, wsp, &q)?;
            lab.wait_ms(20, 300);
            let frags = lab.udp_fragmented(wsp, phone, &r, max)?;
            wap::method_recorded(lab, phone, wsp, &get, &[f1], &reply, &frags)?;
        }
    }
    Ok(())
}

/// One push and retrieval inside a GTP-U bearer.
pub(crate) fn gtp_u(lab: &mut Lab, cast: &mut Cast) -> io::Result<()> {
    let ue = cast.handset_ip();
    let gw = cast.server_ip();
    let teid_up = lab.rng.range(0x1000, 0x7FFF_FFFF) as u32;
    let teid_down = teid_up ^ 0x00A5_5A00 | 1;
    lab.tunnel = Some(GtpTunnel {
        ue,
        enb: cast.other_ip(),
        sgw: cast.other_ip(),
        teid_up,
        teid_down,
    });
    push_and_get(lab, cast, ue, gw, "m1", None)?;
    lab.tunnel = None;
    Ok(())
}

/// A retrieve-conf fragmented over IPv4, another over IPv6.
pub(crate) fn ip_fragments(lab: &mut Lab, cast: &mut Cast) -> io::Result<()> {
    let handset = cast.handset_ip();
    let gw = cast.server_ip();
    push_and_get(lab, cast, handset, gw, "m1", Some(512))?;
    lab.wait_ms(1000, 4000);
    let handset6 = cast.v6();
    let gw6 = cast.v6();
    push_and_get(lab, cast, handset6, gw6, "m2", Some(600))?;
    Ok(())
}

/// An m-send-req / m-send-conf over connectionless WSP.
fn send_exchange(
    lab: &mut Lab,
    cast: &mut Cast,
    handset: IpAddr,
    gw: IpAddr,
    label: &str,
) -> io::Result<()> {
    let recipient = cast.person();
    let tid = msg::transaction_id(cast.rng());
    let parts = vec![msg::text_part(
        &format!("Meet me at {} o'clock.", lab.rng.range(1, 12)),
        false,
    )];
    let req = msg::pdu(MessageType::SEND_REQ, Some(&tid))
        .with(MmsField::From, msg::from(None))
        .with(MmsField::To, msg::addr(&recipient.plmn()))
        .with(MmsField::Subject, msg::utf8("Later"));
    let req = msg::with_body(req, &parts);
    let conf = msg::pdu(MessageType::SEND_CONF, Some(&tid))
        .with(MmsField::ResponseStatus, msg::token(0x80))
        .with(MmsField::MessageId, msg::text(&msg::message_id(cast.rng())));
    let wtid = lab.rng.below(256) as u8;
    let url = format!("http://{}/mms", cast.host);
    let port = cast.port();
    post_mms(
        lab,
        cast,
        (sock(handset, port), sock(gw, 9200), wtid),
        &url,
        MmsCargo::new(msg::encode(&req)?, msg::facts(&parts, false), label),
        MmsCargo::new(msg::encode(&conf)?, PduFacts::default(), label),
    )?;
    Ok(())
}

/// A connectionless WSP Post of an MMS PDU that needs no answer but 204 (m-notifyresp-ind,
/// m-acknowledge-ind) from `handset` to `gateway`, with transaction id `tid`.
fn post_answered_no_content(
    lab: &mut Lab,
    cast: &mut Cast,
    (handset, gateway, tid): (SocketAddr, SocketAddr, u8),
    url: &str,
    pdu: &MmsPdu,
    label: &str,
) -> io::Result<()> {
    let cargo = MmsCargo::new(msg::encode(pdu)?, PduFacts::default(), label);
    wap::method(
        lab,
        handset,
        gateway,
        tid,
        &WspRequestSpec::post(url, ua(cast), cargo),
        &WspReplySpec::empty(204),
    )
    .map(drop)
}

/// A connectionless WSP Post of an MMS PDU from `handset` to `gateway` (with transaction id
/// `tid`) answered 200 with another MMS PDU.
fn post_mms(
    lab: &mut Lab,
    cast: &mut Cast,
    (handset, gateway, tid): (SocketAddr, SocketAddr, u8),
    url: &str,
    request: MmsCargo,
    reply: MmsCargo,
) -> io::Result<()> {
    wap::method(
        lab,
        handset,
        gateway,
        tid,
        &WspRequestSpec::post(url, ua(cast), request),
        &WspReplySpec::mms(200, Vec::new(), reply),
    )
    .map(drop)
}

/// One pcapng, one interface per link layer, one exchange on each.
fn link_layers(lab: &mut Lab, cast: &mut Cast) -> io::Result<()> {
    let links: [(Link, bool); 10] = [
        (Link::Ethernet, false),
        (Link::Vlan(100 + lab.rng.below(900) as u16), false),
        (
            Link::QinQ(
                100 + lab.rng.below(900) as u16,
                100 + lab.rng.below(900) as u16,
            ),
            false,
        ),
        (Link::Sll, false),
        (Link::Sll2, false),
        (Link::Raw, false),
        (Link::RawVersioned, false),
        (Link::RawVersioned, true),
        (Link::Null, false),
        (Link::Loop, true),
    ];
    // Interfaces are described in this order, before any packet.
    for (link, v6) in links {
        lab.use_link(link, v6);
    }
    for (i, (link, v6)) in links.into_iter().enumerate() {
        lab.use_link(link, v6);
        let (h, g) = if v6 {
            (cast.v6(), cast.v6())
        } else {
            (cast.handset_ip(), cast.server_ip())
        };
        send_exchange(lab, cast, h, g, &format!("m{i:02}"))?;
        lab.wait_ms(100, 1000);
    }
    Ok(())
}

/// The same exchange written in four file formats.
fn formats(outdir: &Path, seed: u64) -> io::Result<Vec<GeneratedCapture>> {
    let variants = [
        (
            "formats-usec-le.pcap",
            FileFormat::Pcap {
                nanos: false,
                big_endian: false,
                gzip: false,
            },
        ),
        (
            "formats-nsec-be.pcap",
            FileFormat::Pcap {
                nanos: true,
                big_endian: true,
                gzip: false,
            },
        ),
        (
            "formats-be.pcapng",
            FileFormat::Pcapng {
                nanos: false,
                big_endian: true,
            },
        ),
        (
            "formats.pcap.gz",
            FileFormat::Pcap {
                nanos: false,
                big_endian: false,
                gzip: true,
            },
        ),
    ];
    let mut out = Vec::new();
    for (file, format) in variants {
        let mut lab = Lab::new(seed, format.digits());
        let mut cast = Cast::new(&mut lab.rng.fork(1));
        let h = cast.handset_ip();
        let g = cast.server_ip();
        push_and_get(&mut lab, &mut cast, h, g, "m1", None)?;
        out.push(write_capture(&lab, outdir, "formats", file, format)?);
    }
    Ok(out)
}
