#!/bin/sh
# Makes a Debian 12 root filesystem into wafersim's runtime, run as root inside it: installs the
# packages of runtime-packages.txt (beside this script), adds the user wafersim (uid and gid
# 10001, no login) with its data folder /var/lib/wafersim, and installs wafersim-entrypoint and
# wafersim-healthcheck into /usr/local/bin. The binaries and the web page come separately
# (`cmake --install` into /usr/local). deploy/Dockerfile's runtime stage runs it, and so does
# build-rootfs.sh through chroot, so that their packages and user cannot drift apart.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
packages=$(sed -e 's/#.*//' "$here/runtime-packages.txt" | tr -s ' \t\n' ' ')

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086  # one word per package
apt-get install -y -qq --no-install-recommends $packages
apt-get clean
rm -rf /var/lib/apt/lists/*

groupadd --gid 10001 wafersim
useradd --uid 10001 --gid wafersim --home-dir /var/lib/wafersim --no-create-home \
        --shell /usr/sbin/nologin wafersim
install -d -o wafersim -g wafersim -m 0750 /var/lib/wafersim

install -d /usr/local/bin
install -m 0755 "$here/wafersim-entrypoint" /usr/local/bin/wafersim-entrypoint
ln -sf wafersim-entrypoint /usr/local/bin/wafersim-healthcheck
