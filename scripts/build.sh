#!/usr/bin/env bash
# Configures and builds cqda into build/ (RelWithDebInfo). Usage: scripts/build.sh [targets...]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${CQDA_JOBS:-2}
if [ ! -f build/build.ninja ]; then
  cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build build -j "$jobs" ${1:+--target "$@"}
