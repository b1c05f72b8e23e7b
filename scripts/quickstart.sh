#!/usr/bin/env bash
# The README's first command: dependencies, build, and the quick-start scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh release wafersim
./build/release/cli/wafersim run examples/quickstart.yaml --out runs/quickstart
