//! WSP primitive encodings (WAP-230 8.4.2): integers, uintvar, strings, content types.
