#!/usr/bin/env bash
# Minimises the committed corpus of TARGET with what fuzzing found: keeps the smallest set of
# inputs that reaches the same coverage (libFuzzer -merge=1).
# Usage: fuzz/merge.sh TARGET
set -euo pipefail
cd "$(dirname "$0")"
target="$1"
bin="target/x86_64-unknown-linux-gnu/release/$target"
merged="target/merged/$target"
rm -rf "$merged"; mkdir -p "$merged" "target/fuzz-corpus/$target"
"$bin" -merge=1 -rss_limit_mb=2048 -timeout=10 "$merged" "corpus/$target" "target/fuzz-corpus/$target"
rm -rf "corpus/$target"; mv "$merged" "corpus/$target"
echo "corpus/$target: $(ls "corpus/$target" | wc -l) files, $(du -sh "corpus/$target" | cut -f1)"
