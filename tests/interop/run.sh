#!/usr/bin/env bash
# Interop check of cqda's MCP server with the official MCP TypeScript SDK client (sdk_client.mjs),
# on the bundled example corpus. The entry point of the CTest test.
#
#   tests/interop/run.sh BUILD_DIR CQDA_BINARY SOURCE_DIR [MODE...] [OPTIONS]
#
#   BUILD_DIR    the build folder; the Node packages go to BUILD_DIR/node (scripts/node-deps.sh),
#                temporary folders to BUILD_DIR/interop-tmp (removed afterwards)
#   CQDA_BINARY  the cqda executable
#   SOURCE_DIR   the source tree (examples/, scripts/, tests/interop/)
#   MODE         stdio (the default) and/or https; each named mode runs, in that order
#
# Options:
#   --require LIST   passed on: capabilities whose checks must run (resources, prompts,
#                    completions, logging, progress, cancel); a skip becomes a failure
#   --url URL        https: the server's endpoint, e.g. https://127.0.0.1:8443/mcp
#   --token TOKEN    https: the bearer token (or the environment variable CQDA_INTEROP_TOKEN)
#   --ca FILE        https: the CA certificate the server's certificate chains to; given to
#                    Node as NODE_EXTRA_CA_CERTS
#   --policy FILE    stdio: the policy to serve with (default: examples/policy.json, the example
#                    study's policy: policy/default.json plus the study's case-number pattern)
#   --verbose        print the server's stderr (stdio)
#
# The https mode starts its own `cqda serve --listen 127.0.0.1:0` with a fresh `cqda certs` CA
# and token file (or tests a server given with --url and --token). The stdio mode spawns
#   cqda serve --stdio --input examples/corpus --output TMP/out --cache TMP/cache
#        --policy examples/policy.json --codebook examples/codebook.json --roster examples/roster.csv
# (the roster is the first examples/*roster*.csv)
# the example study's settings, as scripts/run-example.sh and the e2e tests use them.
# Exits 0 only when every check of every mode passed.
set -euo pipefail

if [ $# -lt 3 ]; then
  awk 'NR > 1 && !/^#/ { exit } NR > 1 { print }' "$0" >&2
  exit 2
fi
build_dir=$(realpath -m "$1")
cqda=$(realpath -m "$2")
src_dir=$(realpath -m "$3")
shift 3

modes=()
pass=()
url="" token="${CQDA_INTEROP_TOKEN:-}" ca="" policy=""
while [ $# -gt 0 ]; do
  case "$1" in
    stdio | https) modes+=("$1") ;;
    --require) pass+=(--require "${2:?--require needs a value}"); shift ;;
    --url) url="${2:?--url needs a value}"; shift ;;
    --token) token="${2:?--token needs a value}"; shift ;;
    --ca) ca="${2:?--ca needs a value}"; shift ;;
    --policy) policy="${2:?--policy needs a value}"; shift ;;
    --verbose) pass+=(--verbose) ;;
    *) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[ ${#modes[@]} -gt 0 ] || modes=(stdio)

[ -x "$cqda" ] || { echo "run.sh: $cqda is not an executable" >&2; exit 2; }
examples="$src_dir/examples"
[ -d "$examples/corpus" ] || { echo "run.sh: no example corpus at $examples/corpus" >&2; exit 2; }
policy=$(realpath -m "${policy:-$examples/policy.json}")
# The roster: the people whose names must never reach the client.
rosters=("$examples"/*roster*.csv)
roster="${rosters[0]}"
for f in "$policy" "$examples/codebook.json" "$roster"; do
  [ -r "$f" ] || { echo "run.sh: cannot read $f" >&2; exit 2; }
done

deps="$build_dir/node"
bash "$src_dir/scripts/node-deps.sh" "$deps"

tmp_root="$build_dir/interop-tmp"
mkdir -p "$tmp_root"
tmp=$(mktemp -d "$tmp_root/run.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

client=(node "$src_dir/tests/interop/sdk_client.mjs" --deps "$deps" --roster "$roster")
status=0
for mode in "${modes[@]}"; do
  echo "== interop: $mode"
  case "$mode" in
    stdio)
      mkdir -p "$tmp/stdio/out" "$tmp/stdio/cache"
      "${client[@]}" --transport stdio "${pass[@]}" --command "$cqda" -- \
        serve --stdio --input "$examples/corpus" --output "$tmp/stdio/out" --cache "$tmp/stdio/cache" \
        --policy "$policy" --codebook "$examples/codebook.json" \
        --roster "$roster" || status=1
      ;;
    https)
      if [ -z "$url" ]; then
        # No server given: start one on a free loopback port with a fresh local CA and token.
        mkdir -p "$tmp/https/out" "$tmp/https/cache"
        "$cqda" certs --out "$tmp/https/certs" > /dev/null
        token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
        printf '%s\n' "$token" > "$tmp/https/token"
        # The client runs every step back to back, far faster than an assistant does: the
        # per-session rate limit (default 50/s, tested in tests/http) is raised so that it
        # does not decide the result on a fast machine.
        "$cqda" serve --listen 127.0.0.1:0 --tls-cert "$tmp/https/certs/server.crt" --tls-key "$tmp/https/certs/server.key" \
          --rate-limit 1000 --token-file "$tmp/https/token" --input "$examples/corpus" --output "$tmp/https/out" --cache "$tmp/https/cache" \
          --policy "$policy" --codebook "$examples/codebook.json" --roster "$roster" 2> "$tmp/https/server.log" &
        server_pid=$!
        trap 'if [ -n "${server_pid:-}" ]; then kill "$server_pid" 2>/dev/null || true; fi; rm -rf "$tmp"' EXIT
        for _ in $(seq 1 300); do
          url=$(grep -o 'https://127.0.0.1:[0-9]*/mcp' "$tmp/https/server.log" || true)
          [ -n "$url" ] && break
          kill -0 $server_pid 2>/dev/null || break
          sleep 0.1
        done
        ca="$tmp/https/certs/ca.crt"
        if [ -z "$url" ]; then
          echo "run.sh: cqda serve did not start:" >&2
          cat "$tmp/https/server.log" >&2
          status=1
          continue
        fi
      fi
      if [ -z "$token" ]; then
        echo "run.sh: https needs --token (or CQDA_INTEROP_TOKEN) with --url" >&2
        status=1
        continue
      fi
      if [ -n "$ca" ]; then
        [ -r "$ca" ] || { echo "run.sh: cannot read the CA file $ca" >&2; status=1; continue; }
        export NODE_EXTRA_CA_CERTS="$ca"
      fi
      CQDA_INTEROP_TOKEN="$token" "${client[@]}" --transport https "${pass[@]}" --url "$url" || status=1
      if [ -n "${server_pid:-}" ]; then
        # The server stops cleanly on SIGTERM and seals its run log.
        kill -TERM $server_pid
        wait $server_pid || { echo "run.sh: cqda serve exited with $? on SIGTERM" >&2; status=1; }
        "$cqda" verify "$tmp"/https/out/run-logs/*.jsonl --allow-unsigned > /dev/null || status=1
        server_pid=""
      fi
      ;;
  esac
done
exit $status
