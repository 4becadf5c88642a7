#!/usr/bin/env bash
# Long coverage-guided run of one fuzz target with AFL++ (see FUZZING.md).
#   fuzz/afl/run.sh TARGET [SECONDS] [OUT_DIR]
# Builds the harness with `cargo afl build --release` (once), writes the
# seed corpus and dictionary, runs afl-fuzz niced for SECONDS (default
# 1800), then prints the executions, crashes and hangs.
set -euo pipefail
target="${1:?usage: run.sh TARGET [SECONDS] [OUT_DIR]}"
secs="${2:-1800}"
here="$(cd "$(dirname "$0")" && pwd)"
out="${3:-$here/runs/$target}"
bin="$here/target/release/crier-fuzz-afl"
(cd "$here" && nice cargo afl build --release --locked)
work="$out/seeds"
rm -rf "$work"
"$bin" seeds "$target" "$work" >/dev/null
"$bin" dict "$out/tokens.dict"
# A busy shared machine: no CPU binding, no frequency check, no UI.
export AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
# Resume an earlier run of this target when there is one.
input="$work"
if [ -d "$out/findings/default/queue" ]; then input="-"; fi
nice -n 19 cargo afl fuzz -i "$input" -o "$out/findings" -x "$out/tokens.dict" \
  -t 5000 -m none -V "$secs" -- "$bin" "$target" >"$out/afl.log" 2>&1 || true
stats="$out/findings/default/fuzzer_stats"
if [ -f "$stats" ]; then
  grep -E '^(run_time|execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|bitmap_cvg)' "$stats"
else
  tail -20 "$out/afl.log"
fi
