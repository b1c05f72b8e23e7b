#!/usr/bin/env bash
# The README's second command: dependencies, two builds, and the whole test suite through CTest.
#   build/asan  (the asan preset: AddressSanitizer + UndefinedBehaviorSanitizer, -O0)
#               the unit, fault and fuzz-corpus tests; any sanitizer report fails its test
#   build/ci    (the ci preset: -O2, as release) the programs, the benchmarks and the
#               integration tests, which run real processes, servers and browsers at full speed
# No test is compiled twice, and both compile each library as unity sources of 8 files (a batch's
# headers parsed once); a clean clone took 1546 s here (docs/fuzzing.md). A developer's
# build/release has every test (ctest there runs them all) and compiles file by file.
# Extra arguments go to both ctest runs (e.g. scripts/test.sh -R Scenario).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh asan
scripts/build.sh ci
# halt_on_error stops at the first ASan report; UBSan already stops (-fno-sanitize-recover).
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
status=0
(cd build/asan && ctest --output-on-failure -j "$(nproc)" "$@") || status=1
unset ASAN_OPTIONS UBSAN_OPTIONS
(cd build/ci && ctest --output-on-failure -j "$(nproc)" "$@") || status=1
exit $status
