#!/usr/bin/env bash
# The second command: installs what is missing, builds, and runs every test: the Catch2
# suites and the fuzz corpus replays (CTest); the container test (scripts/container-test.sh:
# the image and the Compose service in a real Docker engine, skipped with a clear message when
# no engine can be started); then builds the libFuzzer targets with clang
# (-fsanitize=fuzzer,address,undefined) and runs each for a bounded time.
# Environment: FUZZ_SECONDS (default 20) per target; CQDA_SKIP_FUZZ=1 skips the fuzz pass;
# CQDA_CONTAINER_TEST=auto|require|skip (default auto).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j 2 --timeout 900
scripts/container-test.sh build
if [ "${CQDA_SKIP_FUZZ:-0}" != "1" ]; then
  scripts/fuzz.sh "${FUZZ_SECONDS:-20}"
fi
