#!/usr/bin/env bash
# The cost of the process split: runs `cqda run` on the bench corpus alternately with this
# tree's binary and with a binary built from BASE (default f6baede, the last single-process
# commit), ROUNDS times each, and prints the per-stage times from each run log's timing record
# and the medians. Needs the corpus from bench/run.sh (bench/work/) and a RelWithDebInfo build
# of this tree in build-bench/ (bench/run.sh makes both).
#
#   bash bench/split_cost.sh [BASE] [ROUNDS]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
base=${1:-f6baede}
rounds=${2:-5}
work="$repo/bench/work"
current="$repo/build-bench/cqda"
[[ -x "$current" && -d "$work/corpus" ]] || { echo "split_cost: run bench/run.sh first (build-bench/cqda and bench/work/)" >&2; exit 1; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/cqda-split-cost.XXXXXX")
trap 'git -C "$repo" worktree remove --force "$scratch/base" >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
git -C "$repo" worktree add --detach "$scratch/base" "$base" >/dev/null 2>&1
cmake -S "$scratch/base" -B "$scratch/base/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCQDA_TESTS=OFF >/dev/null
ninja -C "$scratch/base/build" -j"${BENCH_JOBS:-2}" cqda >/dev/null

for ((i = 1; i <= rounds; i++)); do
  for which in base current; do
    bin="$current"
    [[ $which == base ]] && bin="$scratch/base/build/cqda"
    out="$scratch/run"
    rm -rf "$out" && mkdir -p "$out"
    start=$(date +%s%N)
    "$bin" run --input "$work/corpus" --output "$out/output" --cache "$out/cache" \
      --policy "$repo/examples/policy.json" --codebook "$repo/examples/codebook.json" \
      --roster "$work/roster.csv" --no-progress >/dev/null
    stop=$(date +%s%N)
    timing=$(grep '"type":"timing"' "$out"/output/run-logs/*.jsonl)
    python3 - "$which" "$(( (stop - start) / 1000000 ))" "$timing" <<'PY' >>"$scratch/rows.txt"
import json, sys
which, wall_ms, record = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
s = record["data"]["seconds"]
print(json.dumps({"which": which, "wall": wall_ms / 1000, "documents": s["documents_wall"], "export": s["export_wall"]}))
PY
  done
done

python3 - "$scratch/rows.txt" "$base" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(which, key):
    return statistics.median(r[key] for r in rows if r["which"] == which)
print(f"| stage (median of {len(rows)//2} alternating runs, s) | single process ({sys.argv[2]}) | supervisor + reader | difference |")
print("| --- | --- | --- | --- |")
for key, name in (("documents", "read, parse, anonymize, code (documents_wall)"), ("export", "export (export_wall)"), ("wall", "whole `cqda run` (wall)")):
    b, c = med("base", key), med("current", key)
    print(f"| {name} | {b:.2f} | {c:.2f} | {c - b:+.2f} ({(c - b) / b * 100:+.1f}%) |")
wall = med("base", "wall")
d = med("current", "documents") - med("base", "documents")
print(f"\nSplit cost (IPC and copies, seen in the document stage): {d:+.2f} s = {d / wall * 100:+.1f}% of the single-process end-to-end time.")
PY
