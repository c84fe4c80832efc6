#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Writes every scenario of seed 1 to $SYNTH_OUT (when set), for looking at by hand.
#[test]
#[ignore = "writes files for manual inspection"]
fn dump() {
    let out = std::env::var("SYNTH_OUT").unwrap_or_else(|_| "/tmp/synth".into());
    let made = mmsleak::synth::generate(
        std::path::Path::new(&out),
        &mmsleak::synth::SynthOptions {
            seed: 1,
            scenarios: Vec::new(),
            size_mb: None,
        },
    );
    println!("{made:?}");
}

#[test]
#[ignore = "writes files for manual inspection"]
fn dump_mixed() {
    let out = std::env::var("SYNTH_OUT").unwrap_or_else(|_| "/tmp/synth".into());
    let made = mmsleak::synth::generate(
        std::path::Path::new(&out),
        &mmsleak::synth::SynthOptions {
            seed: 1,
            scenarios: Vec::new(),
            size_mb: Some(5),
        },
    )
    .unwrap();
    println!("{made:?}");
}
