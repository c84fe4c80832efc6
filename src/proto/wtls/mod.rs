//! WTLS (WAP-261) on UDP 9202/9203: recognised, never decrypted.
