//! The binary's allocator settings take effect from the first allocation (they decide how much
//! memory a run keeps: see docs/decisions.md, "mimalloc, tuned to give memory back").
#![cfg(all(feature = "mimalloc", target_os = "linux"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

/// mimalloc prints its options as it starts when asked to (`MIMALLOC_VERBOSE`), which is
/// before `main`: the values show that the settings were in place by then, under the names
/// mimalloc itself gives the option numbers the binary sets.
#[test]
fn arenas_commit_on_demand_and_freed_memory_goes_back_at_once() {
    let out = Command::new(env!("CARGO_BIN_EXE_mmsleak"))
        .arg("--version")
        .env("MIMALLOC_VERBOSE", "1")
        .output()
        .expect("run mmsleak");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let option = |name: &str| {
        stderr
            .lines()
            .find_map(|l| l.strip_prefix(&format!("option '{name}': ")))
            .map(str::trim)
            .unwrap_or_else(|| panic!("no option {name} in:\n{stderr}"))
            .to_owned()
    };
    assert_eq!(option("arena_eager_commit"), "0");
    assert_eq!(option("purge_delay"), "1");
}
