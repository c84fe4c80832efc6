//! Detectors: pure functions from bytes or text to the personal data they reveal. The rules in
//! `audit` decide what a detection means for a transfer; these only find things.

pub mod credentials;
pub mod entropy;
pub mod exif;
pub mod identifiers;
pub mod vcard;
