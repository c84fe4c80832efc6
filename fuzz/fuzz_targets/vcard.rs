#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mmsleak_fuzz::vcard(data);
});
