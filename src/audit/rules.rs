//! The detection catalog (DESIGN.md section 5). Rule ids are part of the report contract.

use crate::report::model::{Category, Severity};
use serde::Serialize;

/// One rule of the catalog.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct Rule {
    pub id: &'static str,
    pub category: Category,
    /// The severity a finding of this rule has unless the rule says otherwise for a case
    /// (e.g. `cleartext-mms` is medium for signalling-only PDUs).
    pub severity: Severity,
    pub description: &'static str,
    pub remediation: &'static str,
}

use Category::*;
use Severity::*;

pub const RULES: &[Rule] = &[
    Rule {
        id: "cleartext-mms",
        category: Interception,
        severity: High,
        description: "An MMS PDU crossed the wire unencrypted (WSP, WTP or HTTP). High when it \
                      carries content or addresses, medium for signalling-only PDUs.",
        remediation: "Carry MMS between handsets and the MMSC over TLS 1.2 or later (HTTPS to the \
                      MMSC, or an encrypted APN/IPsec between gateway and MMSC). Anyone on the path \
                      can read and alter cleartext MMS, including the personal data inside it \
                      (GDPR Art. 32 / CCPA 'reasonable security').",
    },
    Rule {
        id: "weak-encryption",
        category: Interception,
        severity: Medium,
        description: "MMS carried over WTLS, or over TLS older than 1.2, to an MMSC.",
        remediation: "Retire WTLS and TLS 1.0/1.1 on the MMSC and gateways; require TLS 1.2 or \
                      1.3 with modern cipher suites. These protocols have known practical attacks.",
    },
    Rule {
        id: "unauthenticated-retrieval",
        category: Storage,
        severity: High,
        description: "A content location was fetched and answered with the message, with no \
                      Authorization, cookie or other credential in the request.",
        remediation: "Require the MMSC to authenticate retrievals (bind the content location to the \
                      subscriber's session or network identity, or use signed, short-lived URLs). \
                      Anyone who learns the URL can download the message.",
    },
    Rule {
        id: "shared-retrieval",
        category: Storage,
        severity: High,
        description: "The same content location was fetched by more than one client, or by a \
                      client other than the notified one.",
        remediation: "Make content locations single-use and bound to the recipient; investigate the \
                      extra client: it may be a proxy, a second device, or someone who intercepted \
                      the notification.",
    },
    Rule {
        id: "guessable-content-url",
        category: Storage,
        severity: Medium,
        description: "The content location's token is short or low-entropy, or tokens are \
                      sequential across messages.",
        remediation: "Generate content-location tokens with at least 128 bits from a CSPRNG; never \
                      derive them from counters, timestamps or message ids.",
    },
    Rule {
        id: "mailbox-storage",
        category: Storage,
        severity: Low,
        description: "MMBox store/upload/view PDUs: the message is kept network-side.",
        remediation: "Check that MMBox storage is expected, access-controlled, encrypted at rest and \
                      covered by a retention policy; stored messages are personal data.",
    },
    Rule {
        id: "forwarded-message",
        category: Forwarding,
        severity: Low,
        description: "m-forward-req, or Previously-Sent-By/Date headers exposing the forwarding \
                      chain.",
        remediation: "Forwarding discloses earlier senders to new recipients; strip \
                      Previously-Sent-By/Date where policy requires and make users aware.",
    },
    Rule {
        id: "bcc-disclosed",
        category: Forwarding,
        severity: High,
        description: "A Bcc header in a PDU delivered to a recipient (m-retrieve-conf, \
                      m-notification-ind).",
        remediation: "The MMSC must remove Bcc before delivery (OMA MMS-ENC): recipients learn who \
                      else was secretly addressed.",
    },
    Rule {
        id: "broad-distribution",
        category: Forwarding,
        severity: Low,
        description: "One message addressed to more recipients than a threshold (default 10).",
        remediation: "Review bulk sends: every recipient sees the others' numbers unless they are \
                      in Bcc; consider a distribution list on the MMSC.",
    },
    Rule {
        id: "subscriber-id-header",
        category: Exposure,
        severity: High,
        description: "Operator header enrichment: an MSISDN, IMSI or IMEI in a request or response \
                      header (X-MSISDN, X-WAP-Network-Client-MSISDN, X-Up-Calling-Line-ID, ...).",
        remediation: "Strip subscriber identifiers injected by the gateway before traffic leaves the \
                      operator's trust domain, and never send them in cleartext; they identify the \
                      subscriber and the device.",
    },
    Rule {
        id: "personal-data",
        category: Exposure,
        severity: Medium,
        description: "Phone numbers and e-mail addresses readable in addresses, subject, text or \
                      SMIL parts.",
        remediation: "These are personal data (GDPR Art. 4, CCPA): encrypt the transport so they \
                      cannot be read in transit.",
    },
    Rule {
        id: "location-metadata",
        category: Exposure,
        severity: High,
        description: "EXIF GPS coordinates (and device make/model, capture time) in an image part.",
        remediation: "Strip EXIF location data on the handset or the MMSC (transcoding) before \
                      delivery; coordinates reveal where the sender lives or works.",
    },
    Rule {
        id: "contact-card",
        category: Exposure,
        severity: Medium,
        description: "A vCard or vCalendar part.",
        remediation: "Contact cards and calendar entries carry third parties' personal data; they \
                      must only travel encrypted.",
    },
    Rule {
        id: "credentials",
        category: Exposure,
        severity: Critical,
        description: "HTTP Basic/Digest or WSP Authorization, Proxy-Authorization, credentials in a \
                      URL.",
        remediation: "Rotate the exposed credentials now; never send credentials over cleartext \
                      transports, and prefer tokens bound to TLS sessions.",
    },
    Rule {
        id: "session-token",
        category: Exposure,
        severity: Medium,
        description: "Cookies or token-bearing query parameters sent in clear.",
        remediation: "Mark session cookies Secure, move tokens out of URLs and serve the MMSC over \
                      HTTPS only; a captured token lets an attacker act as the subscriber.",
    },
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalog_ids_are_unique_and_kebab_case() {
        let mut ids: Vec<_> = RULES.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), RULES.len());
        assert_eq!(RULES.len(), 15);
        for id in ids {
            assert!(
                id.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{id}"
            );
        }
    }
}
