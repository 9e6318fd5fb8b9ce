#!/usr/bin/env bash
# Installs the Debian 12 packages cqda needs to build, test and fuzz; installs only what is
# missing, so it is quick on a machine that has them. Usage: scripts/install-deps.sh
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git ca-certificates
  # libraries (DESIGN.md §9)
  nlohmann-json3-dev libvalijson-dev libspdlog-dev libfmt-dev catch2 libsodium-dev libre2-dev
  libutf8proc-dev libzip-dev libpugixml-dev libsqlite3-dev libcli11-dev libssl-dev libseccomp-dev
  libboost-dev
  # fuzzing: clang with libFuzzer and the sanitizer runtimes
  clang-14 libfuzzer-14-dev libclang-rt-14-dev
  # tests: zip for building archives, xmllint for REFI-QDA validation, setpriv for dropping root,
  # gdb for injecting a forbidden call into a running sandboxed process
  zip unzip libxml2-utils util-linux gdb
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "install-deps: run as root or install sudo; missing: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
