#!/usr/bin/env bash
# Installs wafersim's build and test dependencies from Debian 12's packages, once: a re-run
# with everything present only checks (no apt-get update, no network).
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config git
  libgtest-dev libgmock-dev prometheus
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libexpected-dev
  libzmq3-dev cppzmq-dev capnproto libcapnp-dev
  libmetis-dev libglpk-dev
  libboost-dev libsqlite3-dev prometheus-cpp-dev
  nodejs npm chromium
)

missing=()
for p in "${packages[@]}"; do
  # A nodejs from elsewhere (NodeSource's) carries its own npm; Debian's would conflict with it.
  [ "$p" = npm ] && command -v npm >/dev/null && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
