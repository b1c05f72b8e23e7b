#!/usr/bin/env bash
# Installs wafersim's build and test dependencies from Debian 12's packages, once: a re-run
# with everything present only checks (no apt-get update, no network).
#   scripts/deps.sh           what building and the whole test suite need
#   scripts/deps.sh --build   only what building needs (deploy/Dockerfile's build stage)
#   scripts/deps.sh --fuzz    what building needs, and clang for the fuzz preset (bench/fuzz.sh)
#
# The test tools are installed in a second step that may fail without stopping the build: a test
# whose tool is missing skips, saying so. Notes on some of them:
# - slurm-wlm (slurmctld, slurmd, the clients) is for the test that runs deploy/slurm/ under a real
#   Slurm: its init scripts start nothing without /etc/slurm/slurm.conf, which the package does not
#   ship (the test writes its own, with auth/none). munge comes with it.
# - kubectl (for deploy/kubernetes/, Kustomize v5) is not Debian's kubernetes-client: that one is
#   kubectl 1.20, whose Kustomize v2 cannot render the manifests; the tests skip without a kubectl
#   that has Kustomize v5.
# - docker-compose and yamllint are for the static checks of docker-compose.yml and every YAML
#   file (tests/deploy/); debootstrap for deploy/image/build-rootfs.sh (the image without Docker);
#   prometheus (its server and promtool) for the metrics tests; chromium for the page's.
# - clang and libclang-rt-14-dev (libFuzzer and its sanitizers' runtimes) only with --fuzz: the fuzz
#   preset's harnesses and bench/fuzz.sh. The corpus replay test and the asan preset (CI) need only
#   g++, whose ASan and UBSan runtimes come with it.
set -euo pipefail

build=(
  g++ cmake ninja-build pkg-config git
  nlohmann-json3-dev libyaml-cpp-dev libcli11-dev libexpected-dev
  libzmq3-dev cppzmq-dev capnproto libcapnp-dev
  libmetis-dev libglpk-dev
  libboost-dev libsqlite3-dev prometheus-cpp-dev
  nodejs npm
)
tests=(
  libgtest-dev libgmock-dev
  prometheus chromium
  docker-compose yamllint debootstrap
  slurm-wlm
)
fuzz=(clang libclang-rt-14-dev)

missingOf() {
  local p
  for p in "$@"; do
    # A nodejs from elsewhere (NodeSource's) carries its own npm; Debian's would conflict with it.
    [ "$p" = npm ] && command -v npm >/dev/null && continue
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || echo "$p"
  done
}

sudo_cmd=""
[ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
updated=false
install() {
  if ! $updated; then
    $sudo_cmd apt-get update -qq
    updated=true
  fi
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "$@"
}

# GoogleTest is needed to configure the test suite, so it goes with the build unless --build.
[ "${1:-}" = "--build" ] || build+=(libgtest-dev libgmock-dev)
mapfile -t missing < <(missingOf "${build[@]}")
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  install "${missing[@]}"
fi
[ "${1:-}" = "--build" ] && exit 0
if [ "${1:-}" = "--fuzz" ]; then
  mapfile -t missing < <(missingOf "${fuzz[@]}")
  [ ${#missing[@]} -eq 0 ] || install "${missing[@]}"
  exit 0
fi

mapfile -t missing < <(missingOf "${tests[@]}")
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing the test tools ${missing[*]}"
  install "${missing[@]}" || echo "deps: could not install all of ${missing[*]}; the tests that need them will skip" >&2
fi
