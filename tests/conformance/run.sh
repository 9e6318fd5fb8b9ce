#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance, server mode) against
# cqda's MCP endpoint, in two runs. The entry point of the CTest test `conformance`.
#
#   tests/conformance/run.sh BUILD_DIR CQDA_BINARY FIXTURE_BINARY SOURCE_DIR
#
#   1. `cqda serve --plain-http` on 127.0.0.1 with the example study (examples/): the scenarios
#      that need no fixture tools, resources or prompts (CQDA_SCENARIOS below).
#   2. conformance_fixture (tests/conformance/fixture/), the same MCP library and HTTP server
#      serving the fixtures the suite calls by name: the whole active server suite.
#
# Both runs use tests/conformance/expected-failures.yml, the suite's own baseline format: a
# scenario fails the run when it has a FAILURE or a WARNING and is not listed there, and a
# listed scenario that passes fails it too (the baseline is stale). Plain HTTP on loopback
# because the DNS-rebinding scenario forges the Host header, which a TLS handshake for a
# certificate naming localhost would not survive; the Host, Origin and token checks are the same
# code with or without TLS.
#
# Writes BUILD_DIR/conformance/cqda.md and BUILD_DIR/conformance/fixture.md (results tables,
# docs/CONFORMANCE.md shows them), with the suite's checks.json files and the servers' logs in
# BUILD_DIR/conformance/*.results/. Node packages go to BUILD_DIR/node (scripts/node-deps.sh).
# Exits 0 when both runs pass, 1 otherwise, 2 on a usage error.
set -euo pipefail

if [ $# -ne 4 ]; then
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { print }' "$0" >&2
  exit 2
fi
build_dir=$(realpath -m "$1")
cqda=$(realpath -m "$2")
fixture=$(realpath -m "$3")
src_dir=$(realpath -m "$4")

# Scenarios that call no fixture by name (scripts/conformance.sh --list says "no fixture").
CQDA_SCENARIOS=(server-initialize ping logging-set-level tools-list resources-list prompts-list
  dns-rebinding-protection server-sse-multiple-streams)

for binary in "$cqda" "$fixture"; do
  [ -x "$binary" ] || { echo "conformance: $binary is not an executable" >&2; exit 2; }
done
examples="$src_dir/examples"
for f in "$examples/policy.json" "$examples/codebook.json" "$examples/roster.csv"; do
  [ -r "$f" ] || { echo "conformance: cannot read $f" >&2; exit 2; }
done
baseline="$src_dir/tests/conformance/expected-failures.yml"
deps="$build_dir/node"
out="$build_dir/conformance"
mkdir -p "$out"
tmp=$(mktemp -d "$out/tmp.XXXXXX")

server_pid=""
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  local code=0
  wait "$server_pid" || code=$?
  server_pid=""
  return $code
}
trap 'stop_server || true; rm -rf "$tmp"' EXIT

# The bearer token reaches the suite through the environment, never a command line.
token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077 && printf '%s\n' "$token" > "$tmp/token")
export CQDA_CONFORMANCE_TOKEN="$token"

# Starts "$@" with stderr in LOG and sets server_pid and url (from "serving MCP on URL").
start_server() {
  local log="$1"
  shift
  "$@" 2> "$log" &
  server_pid=$!
  url=""
  for _ in $(seq 1 300); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/mcp' "$log" || true)
    [ -n "$url" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "conformance: $1 did not start; its output:" >&2
  cat "$log" >&2
  return 1
}

bash "$src_dir/scripts/node-deps.sh" "$deps" >&2
status=0

echo "== conformance: cqda serve --plain-http (${#CQDA_SCENARIOS[@]} scenarios)"
mkdir -p "$tmp/cqda/out" "$tmp/cqda/cache"
if start_server "$tmp/cqda/server.log" "$cqda" serve --listen 127.0.0.1:0 --plain-http --token-file "$tmp/token" \
  --input "$examples/corpus" --output "$tmp/cqda/out" --cache "$tmp/cqda/cache" \
  --policy "$examples/policy.json" --codebook "$examples/codebook.json" --roster "$examples/roster.csv"; then
  bash "$src_dir/scripts/conformance.sh" --url "$url" --deps "$deps" --out "$out/cqda.md" \
    --expected-failures "$baseline" "${CQDA_SCENARIOS[@]}" || status=1
  # cqda serve stops cleanly on SIGTERM and seals its run log.
  stop_server || { echo "conformance: cqda serve did not exit cleanly on SIGTERM" >&2; status=1; }
  cp "$tmp/cqda/server.log" "$out/cqda.results/server.log" 2>/dev/null || true
else
  status=1
fi

echo "== conformance: conformance_fixture (the active server suite)"
if start_server "$tmp/fixture.log" "$fixture" --listen 127.0.0.1:0 --token-file "$tmp/token"; then
  bash "$src_dir/scripts/conformance.sh" --url "$url" --deps "$deps" --out "$out/fixture.md" \
    --expected-failures "$baseline" --suite active || status=1
  stop_server || { echo "conformance: conformance_fixture did not exit cleanly on SIGTERM" >&2; status=1; }
  cp "$tmp/fixture.log" "$out/fixture.results/server.log" 2>/dev/null || true
else
  status=1
fi

for table in "$out/cqda.md" "$out/fixture.md"; do
  [ -r "$table" ] && sed -n '5p' "$table" | sed "s|^|conformance: $(basename "$table" .md): |"
done
if [ $status -ne 0 ]; then
  echo "conformance: FAILED; the suite's output is in $out/*.results/suite.log" >&2
fi
exit $status
