//! WSP sessions: Connect capabilities and pairing replies with their requests.
