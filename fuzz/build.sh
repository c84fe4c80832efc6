#!/usr/bin/env bash
# Builds the fuzz targets with libFuzzer instrumentation on the stable toolchain.
# Usage: fuzz/build.sh [TARGET...]   (all targets when none is named)
set -euo pipefail
cd "$(dirname "$0")"
export RUSTFLAGS="${RUSTFLAGS:-} -Cpasses=sancov-module \
 -Cllvm-args=-sanitizer-coverage-level=3 \
 -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
 -Cllvm-args=-sanitizer-coverage-pc-table \
 -Cllvm-args=-sanitizer-coverage-trace-compares \
 --cfg fuzzing"
args=()
for t in "$@"; do args+=(--bin "$t"); done
# --target keeps RUSTFLAGS away from build scripts and proc macros.
cargo build --release --target x86_64-unknown-linux-gnu "${args[@]}"
