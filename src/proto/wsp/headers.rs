//! WSP header fields (WAP-230 8.4): well-known codes, code pages, application headers.
