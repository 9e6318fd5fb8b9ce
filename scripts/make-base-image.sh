#!/usr/bin/env bash
# Makes the Dockerfile's base image locally when no registry can provide it: a minimal Debian 12
# root file system from the Debian mirror (debootstrap --variant=minbase), imported with
# `docker import` and tagged with the name the Dockerfile pins (or the one given).
#
#   scripts/make-base-image.sh [TAG]      (default: the Dockerfile's BASE_IMAGE)
#   DEBIAN_MIRROR=http://deb.debian.org/debian by default
#
# Prints the Debian point release the image holds; it is the mirror's, which may be newer than
# the tag says when the mirror has moved on.
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-$(sed -nE 's/^ARG BASE_IMAGE=(.*)$/\1/p' Dockerfile | head -n 1)}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
[ -n "$tag" ] || { echo "make-base-image: no BASE_IMAGE in the Dockerfile" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "make-base-image: run as root (debootstrap needs it)" >&2; exit 2; }
if ! command -v debootstrap >/dev/null; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap
fi
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
echo "make-base-image: debootstrap bookworm from $mirror"
debootstrap --variant=minbase bookworm "$root/rootfs" "$mirror" > "$root/debootstrap.log" 2>&1 || {
  tail -n 20 "$root/debootstrap.log" >&2; exit 1; }
# As the official slim images: no package lists or caches in the image.
rm -rf "$root/rootfs/var/lib/apt/lists/"* "$root/rootfs/var/cache/apt/"*.bin "$root/rootfs/var/cache/apt/archives/"*.deb
tar -C "$root/rootfs" --numeric-owner -c . | docker import -c 'CMD ["bash"]' - "$tag" >/dev/null
release="$(cat "$root/rootfs/etc/debian_version")"
echo "make-base-image: tagged $tag (Debian $release)"
case "$tag" in
  *:"$release"|*:"$release"-*) ;;
  *) echo "make-base-image: NOTE: the mirror serves Debian $release, not the release $tag names" >&2 ;;
esac
