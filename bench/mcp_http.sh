#!/usr/bin/env bash
# MCP over Streamable HTTP: requests/s and p50/p99 latency of `tools/call read_document` at 1, 16
# and 64 keep-alive connections, and the servers' resident memory, for `cqda serve` over HTTPS
# and, in the same run, a reference server on the official MCP TypeScript SDK over plain HTTP
# (bench/mcp_http/reference_server.mjs: stateful sessions, JSON responses) answering the same
# tool with the same result bytes. Load: wrk with bench/mcp_http/load.lua, one connection per
# wrk thread and one MCP session per connection. Prints a Markdown report and writes it to
# bench/results/mcp_http.md (the run's figures: bench/results/mcp_http.json).
#
#   bash bench/mcp_http.sh
#
# Settings (environment):
#   BENCH_MCP_CONNECTIONS="1 16 64"  connection counts (64 at most: cqda serve holds 64 sessions)
#   BENCH_MCP_SECONDS=10             measured seconds per point
#   BENCH_MCP_WARMUP=3               warm-up seconds per point (same sessions, not measured)
#   BENCH_MCP_WAIT_QUIET=0           wait up to this many seconds for no ninja/cc1plus/ctest first
#   BENCH_MCP_CQDA_ARGS=""           extra `cqda serve` arguments
#   BENCH_MCP_CQDA=PATH              a cqda binary to measure instead of building build-bench/cqda
#   BENCH_JOBS=2                     ninja parallelism
#
# Uses build-bench/ (configured as a Release build when it does not exist yet), installs wrk
# with apt-get when missing, and the pinned Node packages of tests/interop with
# scripts/node-deps.sh into build-bench/node. Benchmarks measure; nothing here fails on a time,
# but a point with any refused or failed request is reported as not a valid measurement.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"
build="$repo/build-bench"
results="$repo/bench/results"
connections=${BENCH_MCP_CONNECTIONS:-1 16 64}
seconds=${BENCH_MCP_SECONDS:-10}
warmup=${BENCH_MCP_WARMUP:-3}
wait_quiet=${BENCH_MCP_WAIT_QUIET:-0}
# The per-session rate limit (50/s by default) protects a shared server; the benchmark measures
# capacity, so it is raised (BENCH_MCP_CQDA_ARGS replaces this).
cqda_args=${BENCH_MCP_CQDA_ARGS:---rate-limit 1000000}
jobs=${BENCH_JOBS:-2}
cqda=${BENCH_MCP_CQDA:-}

step() { printf '\n== %s\n' "$*" >&2; }
die() { echo "mcp_http: $*" >&2; exit 1; }

for c in $connections; do
  [[ "$c" =~ ^[0-9]+$ && "$c" -ge 1 && "$c" -le 64 ]] || die "BENCH_MCP_CONNECTIONS: $c is not 1..64"
done

# ---- tools ---------------------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
  step "installing wrk"
  sudo=""; [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get install -y -qq wrk >/dev/null || { $sudo apt-get update -qq && $sudo apt-get install -y -qq wrk >/dev/null; }
fi

if [[ -z "$cqda" ]]; then
  step "building cqda in build-bench/"
  if [[ ! -f "$build/build.ninja" ]]; then
    cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  fi
  ninja -C "$build" -j"$jobs" cqda >&2
  cqda="$build/cqda"
  build_type="$(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$build/CMakeCache.txt") build-bench/cqda"
else
  [[ -x "$cqda" ]] || die "BENCH_MCP_CQDA: $cqda is not an executable"
  build_type="given ($cqda)"
fi

step "Node packages (tests/interop lock) in build-bench/node"
bash scripts/node-deps.sh "$build/node" >/dev/null

# ---- servers -------------------------------------------------------------------------------
tmp=$(mktemp -d /tmp/cqda-mcp-http.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# wait_for_url LOGFILE PATTERN: the URL a server prints once it listens (60 s at most).
wait_for_url() {
  local log=$1 pattern=$2 url=""
  for _ in $(seq 600); do
    url=$(grep -o "$pattern" "$log" | head -1 || true)
    [[ -n "$url" ]] && { echo "$url"; return 0; }
    sleep 0.1
  done
  cat "$log" >&2
  die "no '$pattern' from the server in 60 s"
}

step "starting cqda serve (HTTPS) and the SDK reference server (HTTP)"
"$cqda" certs --out "$tmp/certs" >/dev/null
(umask 077 && head -c 32 /dev/urandom | base64 | tr -d '/+=\n' >"$tmp/token")
# shellcheck disable=SC2086  # BENCH_MCP_CQDA_ARGS is a list of words
"$cqda" serve --listen 127.0.0.1:0 --tls-cert "$tmp/certs/server.crt" --tls-key "$tmp/certs/server.key" \
  --token-file "$tmp/token" --input examples/corpus --output "$tmp/out" --cache "$tmp/cache" \
  --policy examples/policy.json --codebook examples/codebook.json --roster examples/roster.csv \
  $cqda_args 2>"$tmp/cqda.log" &
cqda_pid=$!
pids+=("$cqda_pid")
cqda_url=$(wait_for_url "$tmp/cqda.log" 'https://127\.0\.0\.1:[0-9]*/mcp')
cqda_tls=(--url "$cqda_url" --token-file "$tmp/token" --cacert "$tmp/certs/ca.crt")

# The load's request and the result both servers answer with, from cqda itself.
python3 bench/mcp_http/sessions.py open "${cqda_tls[@]}" --count 1 --out "$tmp/probe.sessions"
python3 bench/mcp_http/sessions.py probe "${cqda_tls[@]}" --session "$(cat "$tmp/probe.sessions")" \
  --request-out "$tmp/request.json" --result-out "$tmp/result.json"
python3 bench/mcp_http/sessions.py close "${cqda_tls[@]}" --sessions "$tmp/probe.sessions"

node bench/mcp_http/reference_server.mjs --deps "$build/node" --result "$tmp/result.json" 2>"$tmp/sdk.log" &
sdk_pid=$!
pids+=("$sdk_pid")
sdk_url=$(wait_for_url "$tmp/sdk.log" 'http://127\.0\.0\.1:[0-9]*/mcp')

# The SDK server must answer the load's call with exactly cqda's result.
python3 bench/mcp_http/sessions.py open --url "$sdk_url" --count 1 --out "$tmp/check.sessions"
python3 bench/mcp_http/sessions.py check --url "$sdk_url" --session "$(cat "$tmp/check.sessions")" \
  --request "$tmp/request.json" --result "$tmp/result.json"
python3 bench/mcp_http/sessions.py close --url "$sdk_url" --sessions "$tmp/check.sessions"

# ---- quiet ---------------------------------------------------------------------------------
if [[ "$wait_quiet" -gt 0 ]]; then
  step "waiting up to ${wait_quiet}s for no ninja, cc1plus or ctest"
  end=$((SECONDS + wait_quiet))
  while pgrep -f 'ninja|cc1plus|ctest' >/dev/null && [[ $SECONDS -lt $end ]]; do sleep 10; done
fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- load ----------------------------------------------------------------------------------
# point SERVER URL CONNECTIONS: opens one session per connection, warms up, measures with RSS
# sampling, closes the sessions.
point() {
  local server=$1 url=$2 c=$3 pid extra=()
  if [[ $server == cqda ]]; then pid=$cqda_pid; extra=(--token-file "$tmp/token" --cacert "$tmp/certs/ca.crt"); else pid=$sdk_pid; fi
  local name="$server-$c"
  python3 bench/mcp_http/sessions.py open --url "$url" "${extra[@]}" --count "$c" --out "$tmp/$name.sessions"
  export BENCH_SESSIONS="$tmp/$name.sessions" BENCH_BODY="$tmp/request.json"
  export BENCH_TOKEN_FILE=""
  if [[ $server == cqda ]]; then BENCH_TOKEN_FILE="$tmp/token"; fi
  step "$server, $c connection(s): ${warmup}s warm-up, ${seconds}s measured"
  BENCH_RESULT="$tmp/$name.warmup.json" wrk -t"$c" -c"$c" -d"${warmup}s" --timeout 10s \
    -s bench/mcp_http/load.lua "$url" >/dev/null
  python3 bench/mcp_http/rss.py --pid "$pid" --out "$tmp/$name.rss.json" --ready "$tmp/$name.rss.ready" &
  local sampler=$!
  for _ in $(seq 300); do [[ -f "$tmp/$name.rss.ready" ]] && break; sleep 0.1; done
  [[ -f "$tmp/$name.rss.ready" ]] || die "the memory sampler did not start in 30 s"
  BENCH_RESULT="$tmp/$name.wrk.json" wrk -t"$c" -c"$c" -d"${seconds}s" --timeout 10s --latency \
    -s bench/mcp_http/load.lua "$url" | sed -n '/Latency Distribution/,$p' >&2
  kill -TERM "$sampler"
  wait "$sampler" || die "the memory sampler failed"
  python3 bench/mcp_http/sessions.py close --url "$url" "${extra[@]}" --sessions "$tmp/$name.sessions"
  printf '{"server":"%s","connections":%d,"wrk":%s,"rss":%s}\n' "$server" "$c" \
    "$(cat "$tmp/$name.wrk.json")" "$(cat "$tmp/$name.rss.json")" >>"$tmp/points.jsonl"
}

for c in $connections; do
  point cqda "$cqda_url" "$c"
  point sdk "$sdk_url" "$c"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report --------------------------------------------------------------------------------
mkdir -p "$results"
python3 - "$tmp" "$results/mcp_http.json" <<EOF
import json, os, platform, re, subprocess, sys
tmp, out = sys.argv[1:]
def first(pattern, path):
    with open(path) as f:
        for line in f:
            m = re.match(pattern, line)
            if m:
                return m.group(1).strip()
    return "unknown"
mem_kib = first(r"MemTotal:\s+(\d+)", "/proc/meminfo")
sdk = json.load(open("$build/node/node_modules/@modelcontextprotocol/sdk/package.json"))["version"]
wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("Copyright")[0].strip()
machine = {
    "nproc": os.cpu_count(),
    "cpu": first(r"model name\s*:\s*(.*)", "/proc/cpuinfo"),
    "memory": f"{int(mem_kib) / 1024 / 1024:.1f} GiB",
    "kernel": platform.release(),
    "node": subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip(),
    "sdk": f"@modelcontextprotocol/sdk {sdk}",
    "wrk": wrk,
    "cqda_build": "$build_type",
    "cqda_extra_args": "$cqda_args",
    "load_before": "$load_before",
    "load_after": "$load_after",
    "seconds": $seconds,
    "warmup_s": $warmup,
    "result_bytes": os.path.getsize(f"{tmp}/result.json"),
}
points = [json.loads(line) for line in open(f"{tmp}/points.jsonl")]
json.dump({"machine": machine, "points": points}, open(out, "w"), indent=1)
EOF
step "report (bench/results/mcp_http.md)"
python3 bench/mcp_http/report.py --run "$results/mcp_http.json" --out "$results/mcp_http.md"
