#!/usr/bin/env bash
# The benchmark entry point (`make bench`). Builds cqda and anonymize_bench (RelWithDebInfo) in
# build-bench/, generates the corpus into bench/work/, runs cqda's anonymizer, the JavaScript
# PII libraries and the whole offline `cqda run` on it, and prints a Markdown report; then
# bench/mcp_http.sh measures `cqda serve` over HTTPS against the MCP TypeScript SDK.
# Results: bench/results/*.json, bench/results/latest.json and bench/results/mcp_http.md
# (all git-ignored).
#
# Settings (environment):
#   BENCH_MB=50           corpus size in MiB (the generator's --megabytes)
#   BENCH_SEED=1          generator seed
#   BENCH_RUNS=3          timed runs per measurement (the best is reported)
#   BENCH_REDACT_PII_MB=10     redact-pii runs on the first files up to this many MB
#   BENCH_OPENREDACTION_MB=1   OpenRedaction runs on the first files up to this many MB
#   BENCH_SKIP_JS=1       skip the JavaScript libraries
#   BENCH_SKIP_MCP_HTTP=1 skip bench/mcp_http.sh (its own settings: see that file)
#   BENCH_SKIP_LLM=1      skip bench/llm_coding.sh (model coding against llm_stub)
#   BENCH_JOBS=2          ninja parallelism
#
# The JavaScript libraries are far slower than cqda, so they run on a deterministic prefix of
# the corpus (whole files, in truth.json order) and cqda's anonymizer is run again on exactly
# that prefix for the like-for-like ratio. Benchmarks measure; nothing here fails on a time.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
build="$repo/build-bench"
work="$repo/bench/work"
results="$repo/bench/results"
mb=${BENCH_MB:-50}
seed=${BENCH_SEED:-1}
runs=${BENCH_RUNS:-3}
jobs=${BENCH_JOBS:-2}
redact_pii_mb=${BENCH_REDACT_PII_MB:-10}
openredaction_mb=${BENCH_OPENREDACTION_MB:-1}

step() { printf '\n== %s\n' "$*" >&2; }

# ---- tools ---------------------------------------------------------------------------------
if [[ ! -x /usr/bin/time ]]; then
  step "installing GNU time (for peak RSS)"
  if [[ $(id -u) -eq 0 ]]; then apt-get install -y -qq time >/dev/null; else sudo apt-get install -y -qq time >/dev/null; fi
fi

# ---- build ---------------------------------------------------------------------------------
step "building cqda and anonymize_bench (RelWithDebInfo) in build-bench/"
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
ninja -C "$build" -j"$jobs" cqda anonymize_bench

# ---- corpus --------------------------------------------------------------------------------
stamp="seed=$seed mb=$mb generator=$(sha256sum bench/generate_corpus.py | cut -c1-16)"
if [[ -f "$work/truth.json" && -f "$work/.stamp" && "$(cat "$work/.stamp")" == "$stamp" ]]; then
  step "corpus in bench/work/ is up to date ($stamp)"
else
  step "generating a ${mb} MiB corpus into bench/work/ (seed $seed)"
  rm -rf "$work"
  mkdir -p "$work"
  python3 bench/generate_corpus.py --out "$work" --megabytes "$mb" --seed "$seed"
  echo "$stamp" >"$work/.stamp"
fi
mkdir -p "$results"
rm -f "$results"/*.json

# ---- machine -------------------------------------------------------------------------------
python3 - "$results/machine.json" <<'EOF'
import json, os, platform, re, subprocess, sys
def first(pattern, path):
    try:
        with open(path) as f:
            for line in f:
                m = re.match(pattern, line)
                if m:
                    return m.group(1).strip()
    except OSError:
        pass
    return "unknown"
def run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, check=False).stdout.splitlines()[0]
    except (OSError, IndexError):
        return "unknown"
mem_kib = first(r"MemTotal:\s+(\d+)", "/proc/meminfo")
machine = {
    "nproc": os.cpu_count(),
    "cpu": first(r"model name\s*:\s*(.*)", "/proc/cpuinfo"),
    "memory": f"{int(mem_kib) / 1024 / 1024:.1f} GiB" if mem_kib.isdigit() else "unknown",
    "kernel": platform.release(),
    "compiler": run(["c++", "--version"]),
    "node": run(["node", "--version"]),
}
with open(sys.argv[1], "w") as f:
    json.dump(machine, f, indent=1)
EOF

# ---- cqda anonymizer -----------------------------------------------------------------------
step "cqda anonymizer on the full corpus"
"$build/bench/anonymize_bench" --corpus "$work/corpus" --truth "$work/truth.json" \
  --roster "$work/roster.csv" --runs "$runs" --out "$results/cqda-full.json"

# ---- JavaScript libraries ------------------------------------------------------------------
if [[ "${BENCH_SKIP_JS:-0}" != "1" ]]; then
  step "installing the JavaScript libraries (bench/js/)"
  (cd bench/js && npm install --no-audit --no-fund --loglevel=error >/dev/null)

  run_js() {  # library unit megabytes
    local lib=$1 unit=$2 limit=$3
    step "$lib on the first $limit MB (calls per $unit), and cqda on the same files"
    "$build/bench/anonymize_bench" --corpus "$work/corpus" --truth "$work/truth.json" \
      --roster "$work/roster.csv" --runs "$runs" --limit-mb "$limit" --out "$results/cqda-$lib.json"
    node bench/js/run.mjs --library "$lib" --unit "$unit" --corpus "$work/corpus" \
      --truth "$work/truth.json" --limit-mb "$limit" --runs "$runs" --out "$results/js-$lib.json"
  }
  run_js redact-pii file "$redact_pii_mb"
  # OpenRedaction's cost grows faster than its input; it gets one call per paragraph.
  run_js openredaction paragraph "$openredaction_mb"
fi

# ---- whole pipeline ------------------------------------------------------------------------
step "cqda run (offline coder) on the full corpus"
bash bench/pipeline_bench.sh --cqda "$build/cqda" --input "$work/corpus" \
  --roster "$work/roster.csv" --runs "$runs" --out "$results/pipeline.json"

# ---- report --------------------------------------------------------------------------------
step "report (also in bench/results/latest.json)"
python3 bench/report.py --results "$results" --machine "$results/machine.json"

# ---- MCP over HTTP -------------------------------------------------------------------------
if [[ "${BENCH_SKIP_MCP_HTTP:-0}" != "1" ]]; then
  step "MCP over HTTP: cqda serve against the MCP TypeScript SDK (bench/mcp_http.sh)"
  bash bench/mcp_http.sh
fi

# ---- coding with a model -------------------------------------------------------------------
if [[ "${BENCH_SKIP_LLM:-0}" != "1" ]]; then
  step "model coding against llm_stub: requests in flight and batching (bench/llm_coding.sh)"
  bash bench/llm_coding.sh "$repo/build"
fi
