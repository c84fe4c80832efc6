#!/usr/bin/env bash
# Folds what fuzzing found into the committed corpus of TARGET, minimised.
#  1. libFuzzer -merge=1: the smallest set of inputs reaching the same features; it replaces the
#     local working corpus target/fuzz-corpus/TARGET.
#  2. -set_cover_merge=1 -use_counters=0: of those, a set covering the same edges.
#  3. The committed corpus is the seeds (seed-*), then the smallest inputs of the edge cover, then
#     the smallest others of the merged set, up to BUDGET_KB (default 48) and MAX_FILES (default
#     200), so that it stays small enough for `cargo test` to replay.
# Usage: fuzz/merge.sh TARGET
set -euo pipefail
cd "$(dirname "$0")"
target="$1"
budget=$(( ${BUDGET_KB:-48} * 1024 ))
max_files=${MAX_FILES:-200}
bin="target/x86_64-unknown-linux-gnu/release/$target"
work="target/fuzz-corpus/$target"
merged="target/merged/$target"
cover="target/cover/$target"
keep="target/kept/$target"
rm -rf "$merged" "$cover" "$keep"; mkdir -p "$merged" "$cover" "$keep" "$work"
"$bin" -merge=1 -rss_limit_mb=2048 -timeout=10 "$merged" "corpus/$target" "$work" \
  2>&1 | grep -E "MERGE-OUTER: [0-9]+ new files" || true
"$bin" -set_cover_merge=1 -use_counters=0 -rss_limit_mb=2048 -timeout=10 "$cover" "$merged" \
  2>&1 | grep -E "MERGE-OUTER: [0-9]+ new files" || true
cp corpus/"$target"/seed-* "$keep"/ 2>/dev/null || true
used=$(cat "$keep"/* 2>/dev/null | wc -c)
for dir in "$cover" "$merged"; do
  for f in $(ls -Sr "$dir"); do
    [ -e "$keep/$f" ] && continue
    size=$(stat -c %s "$dir/$f")
    [ $((used + size)) -le "$budget" ] || break
    [ "$(ls "$keep" | wc -l)" -lt "$max_files" ] || break 2
    cp "$dir/$f" "$keep/"; used=$((used + size))
  done
done
rm -rf "$work"; cp -r "$merged" "$work"
rm -rf "corpus/$target"; mv "$keep" "corpus/$target"
echo "corpus/$target: $(ls "corpus/$target" | wc -l) files, $used bytes" \
  "(merged: $(ls "$merged" | wc -l) files, edge cover: $(ls "$cover" | wc -l) files)"
