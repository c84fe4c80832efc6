#!/usr/bin/env bash
# Runs one fuzz target for a while, single process.
# Usage: fuzz/run.sh TARGET SECONDS [extra libFuzzer flags...]
# New inputs go to target/fuzz-corpus/TARGET (not committed); fuzz/corpus/TARGET and
# fuzz/regressions/TARGET are read as seeds. Crashes land in fuzz/artifacts/TARGET/.
# Build first with fuzz/build.sh. Minimise into the committed corpus with fuzz/merge.sh TARGET.
set -euo pipefail
cd "$(dirname "$0")"
target="$1"; seconds="$2"; shift 2
bin="target/x86_64-unknown-linux-gnu/release/$target"
[ -x "$bin" ] || { echo "build $target first: fuzz/build.sh $target" >&2; exit 2; }
case "$target" in
  capture_reader|whole_pipeline) max_len=32768 ;;
  exif) max_len=8192 ;;
  wsp_headers|tls_hello|vcard|wsp_pdu) max_len=2048 ;;
  *) max_len=4096 ;;
esac
work="target/fuzz-corpus/$target"
mkdir -p "$work" "corpus/$target" "regressions/$target" "artifacts/$target"
exec "$bin" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="artifacts/$target/" "$@" \
  "$work" "corpus/$target" "regressions/$target"
