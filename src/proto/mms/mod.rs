//! MMS.
