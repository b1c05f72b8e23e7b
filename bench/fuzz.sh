#!/usr/bin/env bash
# Runs every libFuzzer harness (fuzz/targets.h) for a fixed time and prints a table: executions,
# executions per second, coverage (edges, libFuzzer's cov:), features (ft:), the corpus it ended
# with, and findings (crash-, leak-, timeout- and oom- inputs). Exits 1 when anything was found,
# keeping the findings and the logs in the scratch folder it names; docs/fuzzing.md.
#
#   bench/fuzz.sh                      every harness, 60 s each
#   bench/fuzz.sh -t 30 scenario http_request
#   WAFERSIM_FUZZ_NO_BUILD=1 bench/fuzz.sh ...   use build/fuzz as it is
#
# It configures (once) and builds the `fuzz` preset (clang, ASan + UBSan, build/fuzz: only the
# libraries the harnesses need), copies tests/fuzz/corpus/TARGET and tests/fuzz/regressions/TARGET
# into a scratch folder (the tree's corpus is never written) and runs build/fuzz/fuzz/fuzz_TARGET
# there with -max_total_time, the target's dictionary (tests/fuzz/dicts/TARGET.dict) when it has
# one, a 10 s per-input timeout and a 2 GiB memory limit. A new finding becomes a regression input:
# copy it to tests/fuzz/regressions/TARGET/, fix the bug, and the corpus replay test keeps it fixed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
seconds=60
while getopts "t:" opt; do
  case $opt in
    t) seconds=$OPTARG ;;
    *) echo "usage: bench/fuzz.sh [-t SECONDS] [TARGET...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
all=(scenario control_message data_message placement_message http_request api_body request_trace routing_trace checkpoint)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

build=$root/build/fuzz
if [ -z "${WAFERSIM_FUZZ_NO_BUILD:-}" ]; then
  "$root/scripts/deps.sh" --fuzz  # clang and libFuzzer, once
  [ -f "$build/build.ninja" ] || (cd "$root" && cmake --preset fuzz >/dev/null)
  cmake --build "$build" --target $(printf 'fuzz_%s ' "${targets[@]}")
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/wafersim-fuzz.XXXXXX")
total_findings=0
printf '%-18s %7s %12s %10s %10s %10s %8s %9s\n' harness seconds executions exec/s coverage features corpus findings
for t in "${targets[@]}"; do
  program=$build/fuzz/fuzz_$t
  [ -x "$program" ] || { echo "bench/fuzz.sh: $program is not built" >&2; exit 2; }
  work=$scratch/$t
  mkdir -p "$work/corpus" "$work/findings"
  for dir in "$root/tests/fuzz/corpus/$t" "$root/tests/fuzz/regressions/$t"; do
    [ -d "$dir" ] && find "$dir" -maxdepth 1 -type f -exec cp {} "$work/corpus/" \;
  done
  dict=()
  [ -f "$root/tests/fuzz/dicts/$t.dict" ] && dict=("-dict=$root/tests/fuzz/dicts/$t.dict")
  start=$(date +%s)
  # A finding stops the run early with a non-zero status: counted below, not fatal here.
  "$program" "$work/corpus" "${dict[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/findings/" >"$work/log" 2>&1 || true
  elapsed=$(($(date +%s) - start))
  status=$(grep -E '^#[0-9]+.*cov: ' "$work/log" | tail -n 1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
  [ -n "$execs" ] || execs=$(echo "$status" | sed -n 's/^#\([0-9]*\).*/\1/p')
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -n 1)
  [ -n "$rate" ] || rate=$(echo "$status" | sed -n 's/.*exec\/s: \([0-9]*\).*/\1/p')
  cov=$(echo "$status" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$status" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
  corpus=$(find "$work/corpus" -maxdepth 1 -type f | wc -l)
  findings=$(find "$work/findings" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
  total_findings=$((total_findings + findings))
  printf '%-18s %7s %12s %10s %10s %10s %8s %9s\n' "$t" "$elapsed" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" \
    "$corpus" "$findings"
done

if [ "$total_findings" -gt 0 ]; then
  echo "bench/fuzz.sh: $total_findings finding(s); inputs and logs under $scratch/TARGET/{findings,log}" >&2
  exit 1
fi
rm -rf "$scratch"
