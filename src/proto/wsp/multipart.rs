//! WSP binary multipart (WAP-230 8.5): application/vnd.wap.multipart.*.
