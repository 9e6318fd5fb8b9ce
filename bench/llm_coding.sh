#!/usr/bin/env bash
# Model coding throughput and prompt cost, against llm_stub (tests/stubs/llm_stub.cc) on
# loopback over TLS, answering every request after a fixed delay (default 200 ms):
#
#   1. 500 segments, one per request, 16 requests in flight: the coding stage's wall time
#      (the run log's timing.code_thread) against the ideal 500 / 16 x 0.2 s;
#   2. the same 500 segments batched (the default: 20 segments, 12000 characters per request):
#      requests, wall time, and prompt tokens per segment against one segment per request.
#
# Each run gets a fresh cache (a cached rerun would send nothing). Usage:
#   bash bench/llm_coding.sh [BUILD_DIR]        (default build/; builds cqda and llm_stub there)
# Settings: BENCH_LLM_SEGMENTS=500, BENCH_LLM_IN_FLIGHT=16, BENCH_LLM_DELAY_MS=200.
# Writes bench/results/llm_coding.json and prints a Markdown table. Nothing fails on a time.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
segments=${BENCH_LLM_SEGMENTS:-500}
in_flight=${BENCH_LLM_IN_FLIGHT:-16}
delay_ms=${BENCH_LLM_DELAY_MS:-200}
results="$repo/bench/results"
mkdir -p "$results"

cmake --build "$build" -j "${BENCH_JOBS:-2}" --target cqda llm_stub >&2
cqda="$build/cqda"
stub="$build/tests/llm_stub"

work=$(mktemp -d)
stub_pid=
cleanup() {
  [[ -n "$stub_pid" ]] && kill "$stub_pid" 2>/dev/null && wait "$stub_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# A corpus of exactly $segments paragraphs (field notes: one segment per paragraph), 50 per file.
python3 - "$work/corpus" "$segments" <<'PY'
import os, sys
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out, exist_ok=True)
sentences = [
    "The morning shift started short-staffed again and the handover took longer than planned.",
    "Residents waited for breakfast while two carers covered the whole floor.",
    "The manager talked about agency rates and the cost of covering nights.",
    "A carer described sending money home every month and the worry about her visa renewal.",
    "Training on the new medication system was squeezed into an unpaid hour after the shift.",
    "Colleagues shared food in the staff room and spoke in three languages.",
]
for f in range(0, n, 50):
    with open(os.path.join(out, f"notes-{f // 50:03d}.md"), "w") as fh:
        for i in range(f, min(n, f + 50)):
            s = [sentences[(i + k) % len(sentences)] for k in range(3)]
            fh.write(f"Observation {i + 1}. " + " ".join(s) + "\n\n")
PY

"$cqda" certs --out "$work/certs" >/dev/null 2>&1
"$stub" --listen 127.0.0.1:0 --port-file "$work/port" --record "$work/requests.jsonl" \
  --tls-cert "$work/certs/server.crt" --tls-key "$work/certs/server.key" --delay-ms "$delay_ms" &
stub_pid=$!
for _ in $(seq 100); do [[ -s "$work/port" ]] && break; sleep 0.05; done
port=$(cat "$work/port")

python3 - "$repo/examples/policy.json" "$port" > "$work/policy.json" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
policy = json.loads(re.sub(r'^\s*//.*$', '', text, flags=re.M))
policy["egress"] = {"endpoints": [{"name": "stub", "scheme": "https", "host": "127.0.0.1",
                                   "port": int(sys.argv[2]), "allow_private": True}],
                    "token_budget": 1000000000, "allow_raw_text": False}
print(json.dumps(policy, indent=2))
PY

run() {  # name, extra flags...
  local name=$1
  shift
  rm -rf "$work/out-$name" "$work/cache-$name"
  "$cqda" run --input "$work/corpus" --output "$work/out-$name" --cache "$work/cache-$name" \
    --policy "$work/policy.json" --codebook "$repo/examples/codebook.json" --no-progress \
    --llm-backend openai --llm-base-url "https://127.0.0.1:$port/v1" --llm-model stub \
    --llm-ca-file "$work/certs/ca.crt" "$@" >&2
}
run single --llm-batch-segments 1 --llm-in-flight "$in_flight"
run batched --llm-in-flight "$in_flight"

python3 - "$work" "$segments" "$in_flight" "$delay_ms" "$results/llm_coding.json" <<'PY'
import glob, json, sys
work, segments, in_flight, delay_ms, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def records(name):
    (log,) = glob.glob(f"{work}/out-{name}/run-logs/*.jsonl")
    recs = {}
    for line in open(log):
        r = json.loads(line)
        recs.setdefault(r["type"], []).append(r["data"])
    return recs
result = {"segments": segments, "in_flight": in_flight, "delay_ms": delay_ms, "runs": {}}
for name in ("single", "batched"):
    r = records(name)
    s = r["llm_coding"][0]
    result["runs"][name] = {
        "requests": s["requests"], "segments": s["segments"], "codings": s["codings"],
        "coding_seconds": r["timing"][0]["seconds"]["code_thread"],
        "tokens_in": s["tokens_in"], "tokens_in_per_segment": s["tokens_in"] / s["segments"],
    }
single, batched = result["runs"]["single"], result["runs"]["batched"]
ideal = segments / in_flight * delay_ms / 1000
result["ideal_seconds"] = ideal
result["single_over_ideal"] = single["coding_seconds"] / ideal
result["prompt_tokens_ratio"] = batched["tokens_in_per_segment"] / single["tokens_in_per_segment"]
json.dump(result, open(out, "w"), indent=2)
print(f"| run | requests | segments | coding stage, s | prompt tokens per segment |")
print(f"| --- | ---: | ---: | ---: | ---: |")
for name, label in (("single", "one segment per request"), ("batched", "batched (defaults)")):
    r = result["runs"][name]
    print(f"| {label}, {in_flight} in flight | {r['requests']} | {r['segments']} | {r['coding_seconds']:.2f} | {r['tokens_in_per_segment']:.0f} |")
print()
print(f"ideal for one segment per request: {segments} / {in_flight} x {delay_ms / 1000:.1f} s = {ideal:.2f} s; "
      f"measured {single['coding_seconds']:.2f} s = {result['single_over_ideal']:.3f} x ideal (aim <= 1.2)")
print(f"prompt tokens per segment, batched / single: {result['prompt_tokens_ratio']:.3f}")
PY
