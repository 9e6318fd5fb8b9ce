#!/usr/bin/env bash
# Times the whole offline `cqda run` (ingest, segment, anonymize, offline rule coder, verify,
# export, signed run log) on a corpus folder: best wall time of --runs, MB/s = input bytes /
# wall seconds (MB = 10^6 bytes), and the peak resident set size from GNU time.
#
#   bash bench/pipeline_bench.sh --cqda BUILD/cqda --input DIR --roster roster.csv
#        [--policy examples/policy.json] [--codebook examples/codebook.json]
#        [--runs 3] [--out results.json]
#
# Every run gets a fresh output and cache folder in a temporary directory (removed at the end),
# so no run reuses the vault or the reports of another. Needs /usr/bin/time (Debian: `time`).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cqda="" input="" roster="" out=""
policy="$repo/examples/policy.json"
codebook="$repo/examples/codebook.json"
runs=3

while [[ $# -gt 0 ]]; do
  case "$1" in
    --cqda) cqda=$2; shift 2 ;;
    --input) input=$2; shift 2 ;;
    --roster) roster=$2; shift 2 ;;
    --policy) policy=$2; shift 2 ;;
    --codebook) codebook=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "pipeline_bench: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [[ -z "$cqda" || -z "$input" || -z "$roster" ]]; then
  echo "usage: pipeline_bench.sh --cqda BIN --input DIR --roster CSV [--policy F] [--codebook F] [--runs N] [--out F]" >&2
  exit 2
fi
if [[ ! -x /usr/bin/time ]]; then
  echo "pipeline_bench: /usr/bin/time is missing (apt-get install time)" >&2
  exit 1
fi

input_bytes=$(find "$input" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
input_files=$(find "$input" -type f | wc -l)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/cqda-pipeline-bench.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

walls=() rss=()
for ((run = 1; run <= runs; run++)); do
  work="$scratch/run$run"
  mkdir -p "$work/output" "$work/cache"
  start=$(date +%s%N)
  status=0
  /usr/bin/time -v -o "$work/time.txt" \
    "$cqda" run --input "$input" --output "$work/output" --cache "$work/cache" \
    --policy "$policy" --codebook "$codebook" --roster "$roster" --no-progress \
    >"$work/stdout.txt" 2>"$work/stderr.txt" || status=$?
  stop=$(date +%s%N)
  if [[ $status -ne 0 ]]; then
    echo "pipeline_bench: cqda run exited with $status (run $run); its stderr:" >&2
    tail -n 20 "$work/stderr.txt" >&2
    exit 1
  fi
  wall=$(awk -v a="$start" -v b="$stop" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
  peak=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time.txt")
  walls+=("$wall")
  rss+=("$peak")
  echo "  cqda run $run/$runs: ${wall} s, peak RSS $((peak / 1024)) MiB" >&2
  summary=$(tail -n 5 "$work/stdout.txt")
  rm -rf "$work/output" "$work/cache"
done

python3 - "$input_bytes" "$input_files" "$runs" "$out" "$policy" "$codebook" "$summary" \
  "${walls[*]}" "${rss[*]}" <<'EOF'
import json, sys
input_bytes, files, runs, out, policy, codebook, summary, walls, rss = sys.argv[1:10]
walls = [float(w) for w in walls.split()]
rss = [int(r) for r in rss.split()]
best = min(walls)
result = {
    "tool": "cqda run (offline coder)",
    "policy": policy,
    "codebook": codebook,
    "files": int(files),
    "corpus_bytes": int(input_bytes),
    "runs_seconds": walls,
    "best_seconds": best,
    "mb_per_s": int(input_bytes) / 1e6 / best,
    "peak_rss_kib": max(rss),
    "peak_rss_kib_per_run": rss,
    "summary_of_last_run": summary,
}
print(f"cqda run: {result['files']} files, {result['corpus_bytes'] / 1e6:.1f} MB, best of {runs}: "
      f"{best:.2f} s = {result['mb_per_s']:.1f} MB/s, peak RSS {max(rss) / 1024:.0f} MiB")
if out:
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
EOF
