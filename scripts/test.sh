#!/usr/bin/env bash
# The README's second command: dependencies, build, and the whole test suite through CTest.
# Extra arguments go to ctest (e.g. scripts/test.sh -L unit).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh release
cd build/release
ctest --output-on-failure -j "$(nproc)" "$@"
