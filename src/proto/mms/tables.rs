//! Assigned numbers of the MMS encapsulation (OMA-TS-MMS-ENC-V1_3 section 7.4): message types,
//! header field codes with the kind of value each carries, and the value tokens.

use serde::Serialize;

/// A token table: the encoded octet (0x80…) and the name the specification gives it.
pub type TokenTable = &'static [(u8, &'static str)];

/// X-Mms-Message-Type values (Table 26 / 7.3.30).
pub const MESSAGE_TYPES: TokenTable = &[
    (0x80, "m-send-req"),
    (0x81, "m-send-conf"),
    (0x82, "m-notification-ind"),
    (0x83, "m-notifyresp-ind"),
    (0x84, "m-retrieve-conf"),
    (0x85, "m-acknowledge-ind"),
    (0x86, "m-delivery-ind"),
    (0x87, "m-read-rec-ind"),
    (0x88, "m-read-orig-ind"),
    (0x89, "m-forward-req"),
    (0x8A, "m-forward-conf"),
    (0x8B, "m-mbox-store-req"),
    (0x8C, "m-mbox-store-conf"),
    (0x8D, "m-mbox-view-req"),
    (0x8E, "m-mbox-view-conf"),
    (0x8F, "m-mbox-upload-req"),
    (0x90, "m-mbox-upload-conf"),
    (0x91, "m-mbox-delete-req"),
    (0x92, "m-mbox-delete-conf"),
    (0x93, "m-mbox-descr"),
    (0x94, "m-delete-req"),
    (0x95, "m-delete-conf"),
    (0x96, "m-cancel-req"),
    (0x97, "m-cancel-conf"),
];

pub const YES_NO: TokenTable = &[(0x80, "Yes"), (0x81, "No")];
pub const MESSAGE_CLASSES: TokenTable = &[
    (0x80, "Personal"),
    (0x81, "Advertisement"),
    (0x82, "Informational"),
    (0x83, "Auto"),
];
pub const PRIORITIES: TokenTable = &[(0x80, "Low"), (0x81, "Normal"), (0x82, "High")];
pub const SENDER_VISIBILITIES: TokenTable = &[(0x80, "Hide"), (0x81, "Show")];
pub const STATUSES: TokenTable = &[
    (0x80, "Expired"),
    (0x81, "Retrieved"),
    (0x82, "Rejected"),
    (0x83, "Deferred"),
    (0x84, "Unrecognised"),
    (0x85, "Indeterminate"),
    (0x86, "Forwarded"),
    (0x87, "Unreachable"),
];
pub const RESPONSE_STATUSES: TokenTable = &[
    (0x80, "Ok"),
    (0x81, "Error-unspecified"),
    (0x82, "Error-service-denied"),
    (0x83, "Error-message-format-corrupt"),
    (0x84, "Error-sending-address-unresolved"),
    (0x85, "Error-message-not-found"),
    (0x86, "Error-network-problem"),
    (0x87, "Error-content-not-accepted"),
    (0x88, "Error-unsupported-message"),
    (0xC0, "Error-transient-failure"),
    (0xC1, "Error-transient-sending-address-unresolved"),
    (0xC2, "Error-transient-message-not-found"),
    (0xC3, "Error-transient-network-problem"),
    (0xC4, "Error-transient-partial-success"),
    (0xE0, "Error-permanent-failure"),
    (0xE1, "Error-permanent-service-denied"),
    (0xE2, "Error-permanent-message-format-corrupt"),
    (0xE3, "Error-permanent-sending-address-unresolved"),
    (0xE4, "Error-permanent-message-not-found"),
    (0xE5, "Error-permanent-content-not-accepted"),
    (0xE6, "Error-permanent-reply-charging-limitations-not-met"),
    (0xE7, "Error-permanent-reply-charging-request-not-accepted"),
    (0xE8, "Error-permanent-reply-charging-forwarding-denied"),
    (0xE9, "Error-permanent-reply-charging-not-supported"),
    (0xEA, "Error-permanent-address-hiding-not-supported"),
    (0xEB, "Error-permanent-lack-of-prepaid"),
];
pub const RETRIEVE_STATUSES: TokenTable = &[
    (0x80, "Ok"),
    (0xC0, "Error-transient-failure"),
    (0xC1, "Error-transient-message-not-found"),
    (0xC2, "Error-transient-network-problem"),
    (0xE0, "Error-permanent-failure"),
    (0xE1, "Error-permanent-service-denied"),
    (0xE2, "Error-permanent-message-not-found"),
    (0xE3, "Error-permanent-content-unsupported"),
];
pub const READ_STATUSES: TokenTable = &[(0x80, "Read"), (0x81, "Deleted without being read")];
pub const REPLY_CHARGING: TokenTable = &[
    (0x80, "Requested"),
    (0x81, "Requested text only"),
    (0x82, "Accepted"),
    (0x83, "Accepted text only"),
];
pub const MM_STATES: TokenTable = &[
    (0x80, "Draft"),
    (0x81, "Sent"),
    (0x82, "New"),
    (0x83, "Retrieved"),
    (0x84, "Forwarded"),
];
pub const STORE_STATUSES: TokenTable = &[
    (0x80, "Success"),
    (0xC0, "Error-transient-failure"),
    (0xC1, "Error-transient-network-problem"),
    (0xE0, "Error-permanent-failure"),
    (0xE1, "Error-permanent-service-denied"),
    (0xE2, "Error-permanent-message-format-corrupt"),
    (0xE3, "Error-permanent-message-not-found"),
    (0xE4, "Error-permanent-mmbox-full"),
];
pub const RETRIEVAL_MODES: TokenTable = &[(0x80, "Manual")];
pub const CONTENT_CLASSES: TokenTable = &[
    (0x80, "text"),
    (0x81, "image-basic"),
    (0x82, "image-rich"),
    (0x83, "video-basic"),
    (0x84, "video-rich"),
    (0x85, "megapixel"),
    (0x86, "content-basic"),
    (0x87, "content-rich"),
];
pub const CANCEL_STATUSES: TokenTable = &[
    (0x80, "Cancel request successfully received"),
    (0x81, "Cancel request corrupted"),
];
/// X-Mms-MM-Flags operation tokens.
pub const MM_FLAG_ACTIONS: TokenTable = &[(0x80, "Add"), (0x81, "Remove"), (0x82, "Filter")];
/// X-Mms-Mbox-Totals / X-Mms-Mbox-Quotas unit tokens.
pub const MBOX_UNITS: TokenTable = &[(0x80, "messages"), (0x81, "bytes")];

/// Looks up a token's name.
pub fn token_name(table: TokenTable, octet: u8) -> Option<&'static str> {
    table.iter().find(|(c, _)| *c == octet).map(|(_, n)| *n)
}

/// Looks up a token by name (case-insensitive).
pub fn token_by_name(table: TokenTable, name: &str) -> Option<u8> {
    table
        .iter()
        .find(|(_, n)| n.eq_ignore_ascii_case(name))
        .map(|(c, _)| *c)
}

/// Name of a message type octet (`0x80` → `m-send-req`).
pub fn message_type_name(octet: u8) -> Option<&'static str> {
    token_name(MESSAGE_TYPES, octet)
}

/// How a field's value is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Encoded-string-value (Subject, texts).
    EncodedString,
    /// Encoded-string-value holding an address (To, Cc, Bcc).
    Address,
    /// Value-length (Address-present-token Encoded-string-value | Insert-address-token).
    From,
    /// Text-string (Transaction-ID, Message-ID, URIs, application ids).
    Text,
    /// Content-type-value.
    ContentType,
    /// Date-value (Long-integer seconds).
    Date,
    /// Long-integer.
    LongInteger,
    /// Integer-value.
    Integer,
    /// One token octet.
    Token(TokenTable),
    /// A token octet or a Token-text (Message-Class).
    TokenOrText(TokenTable),
    /// Short-integer major/minor version.
    Version,
    /// Value-length (Absolute-token Date-value | Relative-token Delta-seconds-value).
    Time,
    /// Value-length Forwarded-count-value Encoded-string-value.
    PreviouslySentBy,
    /// Value-length Forwarded-count-value Date-value.
    PreviouslySentDate,
    /// Value-length (Add | Remove | Filter) Encoded-string-value.
    MmFlags,
    /// Value-length (Message-total/quota-token | Size-total/quota-token) Integer-value.
    MboxCount,
    /// Short-integer naming a header field (X-Mms-Attributes).
    FieldCode,
    /// Value-length Content-Reference-value *(Parameter).
    ElementDescriptor,
    /// Anything not otherwise described: rendered generically.
    Opaque,
}

/// MMS header fields (OMA-TS-MMS-ENC-V1_3 Table 25, codes without the high bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum MmsField {
    Bcc,
    Cc,
    ContentLocation,
    ContentType,
    Date,
    DeliveryReport,
    DeliveryTime,
    Expiry,
    From,
    MessageClass,
    MessageId,
    MessageType,
    MmsVersion,
    MessageSize,
    Priority,
    ReadReport,
    ReportAllowed,
    ResponseStatus,
    ResponseText,
    SenderVisibility,
    Status,
    Subject,
    To,
    TransactionId,
    RetrieveStatus,
    RetrieveText,
    ReadStatus,
    ReplyCharging,
    ReplyChargingDeadline,
    ReplyChargingId,
    ReplyChargingSize,
    PreviouslySentBy,
    PreviouslySentDate,
    Store,
    MmState,
    MmFlags,
    StoreStatus,
    StoreStatusText,
    Stored,
    Attributes,
    Totals,
    MboxTotals,
    Quotas,
    MboxQuotas,
    MessageCount,
    Content,
    Start,
    AdditionalHeaders,
    DistributionIndicator,
    ElementDescriptor,
    Limit,
    RecommendedRetrievalMode,
    RecommendedRetrievalModeText,
    StatusText,
    ApplicId,
    ReplyApplicId,
    AuxApplicInfo,
    ContentClass,
    DrmContent,
    AdaptationAllowed,
    ReplaceId,
    CancelId,
    CancelStatus,
}

/// (code, field, name as the specification writes it, value kind).
pub const FIELDS: &[(u8, MmsField, &str, ValueKind)] = &[
    (0x01, MmsField::Bcc, "Bcc", ValueKind::Address),
    (0x02, MmsField::Cc, "Cc", ValueKind::Address),
    (
        0x03,
        MmsField::ContentLocation,
        "X-Mms-Content-Location",
        ValueKind::Text,
    ),
    (
        0x04,
        MmsField::ContentType,
        "Content-Type",
        ValueKind::ContentType,
    ),
    (0x05, MmsField::Date, "Date", ValueKind::Date),
    (
        0x06,
        MmsField::DeliveryReport,
        "X-Mms-Delivery-Report",
        ValueKind::Token(YES_NO),
    ),
    (
        0x07,
        MmsField::DeliveryTime,
        "X-Mms-Delivery-Time",
        ValueKind::Time,
    ),
    (0x08, MmsField::Expiry, "X-Mms-Expiry", ValueKind::Time),
    (0x09, MmsField::From, "From", ValueKind::From),
    (
        0x0A,
        MmsField::MessageClass,
        "X-Mms-Message-Class",
        ValueKind::TokenOrText(MESSAGE_CLASSES),
    ),
    (0x0B, MmsField::MessageId, "Message-ID", ValueKind::Text),
    (
        0x0C,
        MmsField::MessageType,
        "X-Mms-Message-Type",
        ValueKind::Token(MESSAGE_TYPES),
    ),
    (
        0x0D,
        MmsField::MmsVersion,
        "X-Mms-MMS-Version",
        ValueKind::Version,
    ),
    (
        0x0E,
        MmsField::MessageSize,
        "X-Mms-Message-Size",
        ValueKind::LongInteger,
    ),
    (
        0x0F,
        MmsField::Priority,
        "X-Mms-Priority",
        ValueKind::Token(PRIORITIES),
    ),
    (
        0x10,
        MmsField::ReadReport,
        "X-Mms-Read-Report",
        ValueKind::Token(YES_NO),
    ),
    (
        0x11,
        MmsField::ReportAllowed,
        "X-Mms-Report-Allowed",
        ValueKind::Token(YES_NO),
    ),
    (
        0x12,
        MmsField::ResponseStatus,
        "X-Mms-Response-Status",
        ValueKind::Token(RESPONSE_STATUSES),
    ),
    (
        0x13,
        MmsField::ResponseText,
        "X-Mms-Response-Text",
        ValueKind::EncodedString,
    ),
    (
        0x14,
        MmsField::SenderVisibility,
        "X-Mms-Sender-Visibility",
        ValueKind::Token(SENDER_VISIBILITIES),
    ),
    (
        0x15,
        MmsField::Status,
        "X-Mms-Status",
        ValueKind::Token(STATUSES),
    ),
    (0x16, MmsField::Subject, "Subject", ValueKind::EncodedString),
    (0x17, MmsField::To, "To", ValueKind::Address),
    (
        0x18,
        MmsField::TransactionId,
        "X-Mms-Transaction-Id",
        ValueKind::Text,
    ),
    (
        0x19,
        MmsField::RetrieveStatus,
        "X-Mms-Retrieve-Status",
        ValueKind::Token(RETRIEVE_STATUSES),
    ),
    (
        0x1A,
        MmsField::RetrieveText,
        "X-Mms-Retrieve-Text",
        ValueKind::EncodedString,
    ),
    (
        0x1B,
        MmsField::ReadStatus,
        "X-Mms-Read-Status",
        ValueKind::Token(READ_STATUSES),
    ),
    (
        0x1C,
        MmsField::ReplyCharging,
        "X-Mms-Reply-Charging",
        ValueKind::Token(REPLY_CHARGING),
    ),
    (
        0x1D,
        MmsField::ReplyChargingDeadline,
        "X-Mms-Reply-Charging-Deadline",
        ValueKind::Time,
    ),
    (
        0x1E,
        MmsField::ReplyChargingId,
        "X-Mms-Reply-Charging-ID",
        ValueKind::Text,
    ),
    (
        0x1F,
        MmsField::ReplyChargingSize,
        "X-Mms-Reply-Charging-Size",
        ValueKind::LongInteger,
    ),
    (
        0x20,
        MmsField::PreviouslySentBy,
        "X-Mms-Previously-Sent-By",
        ValueKind::PreviouslySentBy,
    ),
    (
        0x21,
        MmsField::PreviouslySentDate,
        "X-Mms-Previously-Sent-Date",
        ValueKind::PreviouslySentDate,
    ),
    (
        0x22,
        MmsField::Store,
        "X-Mms-Store",
        ValueKind::Token(YES_NO),
    ),
    (
        0x23,
        MmsField::MmState,
        "X-Mms-MM-State",
        ValueKind::Token(MM_STATES),
    ),
    (
        0x24,
        MmsField::MmFlags,
        "X-Mms-MM-Flags",
        ValueKind::MmFlags,
    ),
    (
        0x25,
        MmsField::StoreStatus,
        "X-Mms-Store-Status",
        ValueKind::Token(STORE_STATUSES),
    ),
    (
        0x26,
        MmsField::StoreStatusText,
        "X-Mms-Store-Status-Text",
        ValueKind::EncodedString,
    ),
    (
        0x27,
        MmsField::Stored,
        "X-Mms-Stored",
        ValueKind::Token(YES_NO),
    ),
    (
        0x28,
        MmsField::Attributes,
        "X-Mms-Attributes",
        ValueKind::FieldCode,
    ),
    (
        0x29,
        MmsField::Totals,
        "X-Mms-Totals",
        ValueKind::Token(YES_NO),
    ),
    (
        0x2A,
        MmsField::MboxTotals,
        "X-Mms-Mbox-Totals",
        ValueKind::MboxCount,
    ),
    (
        0x2B,
        MmsField::Quotas,
        "X-Mms-Quotas",
        ValueKind::Token(YES_NO),
    ),
    (
        0x2C,
        MmsField::MboxQuotas,
        "X-Mms-Mbox-Quotas",
        ValueKind::MboxCount,
    ),
    (
        0x2D,
        MmsField::MessageCount,
        "X-Mms-Message-Count",
        ValueKind::Integer,
    ),
    (0x2E, MmsField::Content, "Content", ValueKind::Opaque),
    (0x2F, MmsField::Start, "X-Mms-Start", ValueKind::Integer),
    (
        0x30,
        MmsField::AdditionalHeaders,
        "Additional-headers",
        ValueKind::Opaque,
    ),
    (
        0x31,
        MmsField::DistributionIndicator,
        "X-Mms-Distribution-Indicator",
        ValueKind::Token(YES_NO),
    ),
    (
        0x32,
        MmsField::ElementDescriptor,
        "X-Mms-Element-Descriptor",
        ValueKind::ElementDescriptor,
    ),
    (0x33, MmsField::Limit, "X-Mms-Limit", ValueKind::Integer),
    (
        0x34,
        MmsField::RecommendedRetrievalMode,
        "X-Mms-Recommended-Retrieval-Mode",
        ValueKind::Token(RETRIEVAL_MODES),
    ),
    (
        0x35,
        MmsField::RecommendedRetrievalModeText,
        "X-Mms-Recommended-Retrieval-Mode-Text",
        ValueKind::EncodedString,
    ),
    (
        0x36,
        MmsField::StatusText,
        "X-Mms-Status-Text",
        ValueKind::EncodedString,
    ),
    (0x37, MmsField::ApplicId, "X-Mms-Applic-ID", ValueKind::Text),
    (
        0x38,
        MmsField::ReplyApplicId,
        "X-Mms-Reply-Applic-ID",
        ValueKind::Text,
    ),
    (
        0x39,
        MmsField::AuxApplicInfo,
        "X-Mms-Aux-Applic-Info",
        ValueKind::Text,
    ),
    (
        0x3A,
        MmsField::ContentClass,
        "X-Mms-Content-Class",
        ValueKind::Token(CONTENT_CLASSES),
    ),
    (
        0x3B,
        MmsField::DrmContent,
        "X-Mms-DRM-Content",
        ValueKind::Token(YES_NO),
    ),
    (
        0x3C,
        MmsField::AdaptationAllowed,
        "X-Mms-Adaptation-Allowed",
        ValueKind::Token(YES_NO),
    ),
    (
        0x3D,
        MmsField::ReplaceId,
        "X-Mms-Replace-ID",
        ValueKind::Text,
    ),
    (0x3E, MmsField::CancelId, "X-Mms-Cancel-ID", ValueKind::Text),
    (
        0x3F,
        MmsField::CancelStatus,
        "X-Mms-Cancel-Status",
        ValueKind::Token(CANCEL_STATUSES),
    ),
];

impl MmsField {
    fn entry(self) -> Option<&'static (u8, MmsField, &'static str, ValueKind)> {
        FIELDS.iter().find(|(_, f, _, _)| *f == self)
    }
    /// Field code without the high bit (0x01–0x3F).
    pub fn code(self) -> u8 {
        self.entry().map_or(0, |e| e.0)
    }
    /// The name as the specification writes it.
    pub fn name(self) -> &'static str {
        self.entry().map_or("", |e| e.2)
    }
    pub fn kind(self) -> ValueKind {
        self.entry().map_or(ValueKind::Opaque, |e| e.3)
    }
    pub fn from_code(code: u8) -> Option<MmsField> {
        FIELDS.iter().find(|(c, _, _, _)| *c == code).map(|e| e.1)
    }
    /// Field by name (case-insensitive). `X-Mms-Read-Reply` (MMS 1.0) maps to Read-Report.
    pub fn from_name(name: &str) -> Option<MmsField> {
        if name.eq_ignore_ascii_case("X-Mms-Read-Reply") {
            return Some(MmsField::ReadReport);
        }
        FIELDS
            .iter()
            .find(|(_, _, n, _)| n.eq_ignore_ascii_case(name))
            .map(|e| e.1)
    }
    /// Every field.
    pub fn all() -> impl Iterator<Item = MmsField> {
        FIELDS.iter().map(|e| e.1)
    }
}
