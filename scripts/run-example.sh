#!/usr/bin/env bash
# The newcomer's first command: installs what is missing, builds, and runs `cqda run` on the
# bundled example corpus with the offline coder. Outputs go to out/example/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
cqda=build/cqda
out=out/example
mkdir -p "$out/output" "$out/cache"
# A signing key for the example's run logs, made once and kept in the cache folder.
if [ ! -f "$out/cache/keys/signing.key" ]; then
  "$cqda" keygen --out "$out/cache/keys"
fi
set +e
"$cqda" run \
  --input examples/corpus \
  --output "$out/output" \
  --cache "$out/cache" \
  --policy examples/policy.json \
  --codebook examples/codebook.json \
  --roster examples/roster.csv \
  --cases examples/cases.csv \
  --signing-key "$out/cache/keys/signing.key"
status=$?
set -e
if [ $status -ne 0 ]; then
  echo "cqda run exited with $status" >&2
  exit $status
fi
log=$(ls -t "$out"/output/run-logs/*.jsonl | head -n 1)
"$cqda" verify "$log" --public-key "$out/cache/keys/signing.pub"
echo
echo "The report is $out/output/report.md"
