#!/usr/bin/env bash
# Builds every fuzz target with clang-14 and libFuzzer (plus ASan and UBSan) into
# build-fuzz/ and runs each for SECONDS (default 20) on a scratch copy of its seed corpus.
# Fails on the first crash, leak or sanitizer report; the crashing input is kept in
# fuzz/artifacts/. Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCQDA_FUZZ=ON
fi
cmake --build build-fuzz -j "${CQDA_JOBS:-2}"
mkdir -p fuzz/artifacts
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failed=0
count=0
for bin in build-fuzz/fuzz/fuzz_*; do
  name=${bin##*/fuzz_}
  mkdir -p "$scratch/$name"
  cp -r "fuzz/corpus/$name/." "$scratch/$name/" 2>/dev/null || true
  echo "fuzz: $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
      -artifact_prefix="fuzz/artifacts/${name}-" "$scratch/$name" >"$scratch/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; the input is in fuzz/artifacts/" >&2
    tail -n 60 "$scratch/$name.log" >&2
    failed=$((failed + 1))
  else
    grep -E "^#[0-9]+ *DONE" "$scratch/$name.log" | tail -n 1 || true
  fi
  count=$((count + 1))
done
echo "fuzz: $((count - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
