//! WSP PDUs (WAP-230 8.2), connectionless and connection-oriented.
