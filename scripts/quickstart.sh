#!/usr/bin/env bash
# The README's first command: dependencies, build, and the quick-start scenario.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/build.sh release wafersim wafersim-node
./build/release/cli/wafersim run examples/quickstart.yaml --nodes 2 --out runs/quickstart
