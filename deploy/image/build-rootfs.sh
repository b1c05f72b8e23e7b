#!/bin/bash
# Builds the equivalent of deploy/Dockerfile's runtime stage without Docker: a Debian 12
# (bookworm) minbase root filesystem made by debootstrap from Debian's mirror, made into
# wafersim's runtime by setup-runtime.sh (the same script, and so the same package list, the
# Dockerfile runs), with an installed wafersim (`cmake --install --prefix PREFIX`) copied into
# /usr/local. Optionally packs it as a tarball that `docker import` turns into an image where a
# Docker engine runs but no registry answers.
#
#   deploy/image/build-rootfs.sh [--mirror URL] [--tar FILE] ROOTFS PREFIX
#   deploy/image/build-rootfs.sh --base [--mirror URL] [--tar FILE] ROOTFS
#
# --base stops after debootstrap: a plain Debian 12 base with the sources of Debian's own images,
# to `docker import` under the tag deploy/Dockerfile starts FROM, so that `docker build` works
# without Docker Hub (docs/deploy.md).
#
# ROOTFS must be absent or empty. Needs root, debootstrap and chroot (apt-get install debootstrap)
# and the network to the mirror (a few minutes; about 120 MiB). Run the processes from it with
# tests/deploy/image_rootfs_integration_test.cc (docs/deploy.md, "The container image").
set -euo pipefail

mirror=http://deb.debian.org/debian
tarball=""
base=false
usage() {
  echo "usage: $0 [--mirror URL] [--tar FILE] ROOTFS PREFIX" >&2
  echo "       $0 --base [--mirror URL] [--tar FILE] ROOTFS" >&2
  exit 2
}
while [[ $# -gt 0 ]]; do
  case $1 in
    --base) base=true; shift ;;
    --mirror) mirror=${2:?}; shift 2 ;;
    --tar) tarball=$(realpath -m "${2:?}"); shift 2 ;;
    -h | --help) usage ;;
    -*) usage ;;
    *) break ;;
  esac
done
if $base; then
  [[ $# -eq 1 ]] || usage
else
  [[ $# -eq 2 ]] || usage
  prefix=$(realpath -m "$2")
fi
rootfs=$(realpath -m "$1")
[[ -n $rootfs && $rootfs != / ]] || usage
here=$(cd "$(dirname "$0")" && pwd)

[[ $(id -u) -eq 0 ]] || { echo "$0: debootstrap and chroot need root" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "$0: debootstrap is not installed (apt-get install debootstrap)" >&2; exit 1; }
if ! $base && ! [[ -x $prefix/bin/wafersim-coordinator && -x $prefix/bin/wafersim-node ]]; then
  echo "$0: $prefix holds no installed wafersim (cmake --install build/release --prefix $prefix)" >&2
  exit 1
fi
if [[ -e $rootfs ]] && [[ -n $(ls -A "$rootfs") ]]; then
  echo "$0: $rootfs is not empty" >&2
  exit 1
fi

echo "== debootstrap bookworm (minbase) into $rootfs from $mirror"
debootstrap --variant=minbase bookworm "$rootfs" "$mirror"

# The sources of Debian's own container images: the release, its updates and security.
rm -f "$rootfs/etc/apt/sources.list"
cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF

# What Debian's -slim images leave out: documentation (but its copyright files), manual pages,
# translations. dpkg skips them from now on; what debootstrap installed goes, inside $rootfs only.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/wafersim-slim" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
EOF
for folder in man info groff lintian locale; do
  if [[ -d $rootfs/usr/share/$folder ]]; then
    find "$rootfs/usr/share/$folder" -mindepth 1 -delete
  fi
done
find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete

if $base; then
  : >"$rootfs/etc/resolv.conf"
  apt_lists=("$rootfs"/var/lib/apt/lists/*)
  rm -rf "${apt_lists[@]}" "$rootfs"/var/cache/apt/archives/*.deb
  if [[ -n $tarball ]]; then
    tar --numeric-owner -C "$rootfs" -cf "$tarball" .
    tag=$(sed -n 's/^ARG DEBIAN_TAG=//p' "$here/../Dockerfile" | head -n 1)
    echo "Import it under the tag deploy/Dockerfile starts FROM: docker import $tarball debian:$tag"
  fi
  echo "== done: $rootfs (base only)"
  exit 0
fi

echo "== setup-runtime.sh inside it (runtime-packages.txt, the user wafersim, /var/lib/wafersim)"
cleanup() {
  umount "$rootfs/proc" 2>/dev/null || true
  rm -rf "$rootfs/tmp/wafersim-image"
}
trap cleanup EXIT
cp -L /etc/resolv.conf "$rootfs/etc/resolv.conf"
mount -t proc proc "$rootfs/proc"
mkdir -p "$rootfs/tmp/wafersim-image"
cp "$here/setup-runtime.sh" "$here/runtime-packages.txt" "$here/wafersim-entrypoint" "$rootfs/tmp/wafersim-image/"
chroot "$rootfs" /bin/sh /tmp/wafersim-image/setup-runtime.sh
cleanup
trap - EXIT
# Docker and Kubernetes write these for a container; leave none of this machine's behind, only
# loopback's names (and the files to mount over).
: >"$rootfs/etc/resolv.conf"
echo wafersim >"$rootfs/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"

echo "== wafersim from $prefix into /usr/local"
cp -a "$prefix/." "$rootfs/usr/local/"
chown -R root:root "$rootfs/usr/local"

echo "== checks"
# shellcheck disable=SC2016  # expanded inside the root filesystem
missing=$(chroot "$rootfs" /bin/sh -c 'for b in /usr/local/bin/wafersim*; do ldd "$b" 2>&1; done' | grep 'not found' || true)
if [[ -n $missing ]]; then
  echo "$0: shared libraries missing from the root filesystem:" >&2
  echo "$missing" >&2
  exit 1
fi
chroot "$rootfs" /usr/local/bin/wafersim-coordinator --version
du -sh "$rootfs"

if [[ -n $tarball ]]; then
  echo "== $tarball"
  tar --numeric-owner -C "$rootfs" -cf "$tarball" .
  cat <<EOF
An image from it, where a Docker engine runs (the Dockerfile's runtime settings but its
HEALTHCHECK, which docker import --change does not take; docker-compose.yml sets its own):
  docker import \\
    --change 'ENV WAFERSIM_DATA=/var/lib/wafersim WAFERSIM_HTTP=0.0.0.0:8080 WAFERSIM_CONTROL=tcp://*:5555' \\
    --change 'USER 10001:10001' --change 'WORKDIR /var/lib/wafersim' --change 'VOLUME /var/lib/wafersim' \\
    --change 'EXPOSE 8080 5555 5570 9470 9471' \\
    --change 'ENTRYPOINT ["wafersim-entrypoint"]' --change 'CMD ["wafersim-coordinator"]' \\
    $tarball wafersim:rootfs
EOF
fi
echo "== done: $rootfs"
