#!/usr/bin/env bash
# Regenerates seccomp.json, the container's outer seccomp profile, from measurement: every cqda
# process is traced with strace while it does each kind of work the container does — a batch
# run (reader, pseudonyms, exports, signed run log), a run that codes with a model over TLS
# (the LLM caller), serve over HTTPS with a client session, serve over stdio, the healthcheck,
# and the small commands (certs, keygen, verify, policy check). The system calls seen, plus
# those the container runtime makes between installing the profile and starting cqda, are
# allowed; everything else gets EPERM. cqda's own per-process filters stay the tight ones.
#
#   scripts/seccomp-profile.sh [OUT]     (default: seccomp.json; needs strace and curl)
#
# The trace runs the binary built on this machine (Debian 12, the same libraries the image
# holds) as the container's user, uid 10001 (as root, SQLite and others make calls, such as
# fchown, that the container never does); strace itself runs as that user too, so no call of a
# privilege-dropping wrapper enters the list. Run it as root after changing what cqda does, and
# commit the result with the syscall list diff in the message.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-seccomp.json}"
[ "$(id -u)" = 0 ] || { echo "seccomp-profile: run as root (it traces cqda as uid 10001)" >&2; exit 2; }
for tool in strace curl setpriv; do
  command -v "$tool" >/dev/null || { echo "seccomp-profile: install $tool (apt-get install $tool)" >&2; exit 2; }
done
scripts/build.sh cqda llm_stub >/dev/null
cqda="$PWD/build/cqda"
stub="$PWD/build/tests/llm_stub"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${CQDA_KEEP_TRACES:-}" ] || rm -rf "$work"' EXIT
chmod 0755 "$work"
as_user=(setpriv --reuid=10001 --regid=10001 --clear-groups --)
trace() { "${as_user[@]}" strace -f -qq -o "$work/trace.$1" "${@:2}"; }
mkdir -p "$work/out" "$work/cache" "$work/keys"
chown 10001:10001 "$work" "$work/out" "$work/cache" "$work/keys"
"${as_user[@]}" "$cqda" keygen --out "$work/keys/run" >/dev/null
common=(--input examples/corpus --cache "$work/cache" --policy examples/policy.json
        --codebook examples/codebook.json --roster examples/roster.csv)

echo "seccomp-profile: tracing the small commands"
trace certs "$cqda" certs --out "$work/tls" >/dev/null
trace keygen "$cqda" keygen --out "$work/keys2" >/dev/null
trace policy "$cqda" policy check examples/policy.json >/dev/null
trace help "$cqda" --help >/dev/null

echo "seccomp-profile: tracing a batch run"
trace run "$cqda" run "${common[@]}" --output "$work/out" --cases examples/cases.csv \
  --signing-key "$work/keys/run/signing.key" --no-progress >/dev/null
log="$(ls "$work"/out/run-logs/*.jsonl | head -n 1)"
trace verify "$cqda" verify "$log" --public-key "$work/keys/run/signing.pub" >/dev/null

echo "seccomp-profile: tracing a run that codes with a model over TLS"
"${as_user[@]}" "$stub" --listen 127.0.0.1:0 --port-file "$work/stub.port" --record "$work/stub.jsonl" \
  --tls-cert "$work/tls/server.crt" --tls-key "$work/tls/server.key" &
for _ in $(seq 50); do [ -s "$work/stub.port" ] && break; sleep 0.1; done
port="$(cat "$work/stub.port")"
sed -e "s/\"endpoints\": \[\]/\"endpoints\": [{\"name\": \"stub\", \"scheme\": \"https\", \"host\": \"127.0.0.1\", \"port\": $port, \"allow_private\": true}]/" \
    -e 's/"token_budget": 0/"token_budget": 10000000/' examples/policy.json > "$work/llm-policy.json"
"${as_user[@]}" mkdir -p "$work/out-llm"
trace llm "$cqda" run --input examples/corpus --cache "$work/cache" --policy "$work/llm-policy.json" \
  --codebook examples/codebook.json --roster examples/roster.csv --output "$work/out-llm" --no-progress \
  --llm-backend openai --llm-base-url "https://127.0.0.1:$port/v1" --llm-model stub --llm-ca-file "$work/tls/ca.crt" >/dev/null

echo "seccomp-profile: tracing serve over HTTPS with a client session"
printf 'profile-token-0123456789abcdef\n' > "$work/token"
"${as_user[@]}" strace -f -qq -o "$work/trace.serve-https" "$cqda" serve "${common[@]}" --output "$work/out" --listen 127.0.0.1:0 \
  --tls-cert "$work/tls/server.crt" --tls-key "$work/tls/server.key" --token-file "$work/token" 2> "$work/serve.err" &
strace_pid=$!
for _ in $(seq 100); do grep -q "serving MCP on" "$work/serve.err" 2>/dev/null && break; sleep 0.2; done
url="$(grep -o 'https://[^ ]*/mcp' "$work/serve.err")"
hp="${url#https://}"; hp="${hp%/mcp}"
mcp() {  # method params [session]
  curl -sS --cacert "$work/tls/ca.crt" -D "$work/headers" -o "$work/body" "$url" \
    -H "Authorization: Bearer profile-token-0123456789abcdef" -H "Content-Type: application/json" \
    -H "Accept: application/json, text/event-stream" -H "MCP-Protocol-Version: 2025-11-25" \
    ${3:+-H "Mcp-Session-Id: $3"} -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$1\",\"params\":$2}"
}
mcp initialize '{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"profile","version":"1"}}'
session="$(grep -i '^mcp-session-id:' "$work/headers" | tr -d '\r' | awk '{print $2}')"
mcp tools/list '{}' "$session"
for call in '{"name":"list_documents","arguments":{}}' \
            '{"name":"search_corpus","arguments":{"query":"night shift"}}' \
            '{"name":"code_frequencies","arguments":{}}' \
            '{"name":"auto_code","arguments":{}}' \
            '{"name":"add_memo","arguments":{"title":"profile","text":"a memo"}}' \
            '{"name":"export_project","arguments":{}}'; do
  mcp tools/call "$call" "$session"
done
mcp resources/list '{}' "$session"
trace healthcheck "$cqda" healthcheck --connect "$hp" --tls-cert "$work/tls/server.crt" >/dev/null
curl -sS --cacert "$work/tls/ca.crt" -X DELETE "$url" -H "Authorization: Bearer profile-token-0123456789abcdef" \
  -H "Mcp-Session-Id: $session" -H "MCP-Protocol-Version: 2025-11-25" -o /dev/null
kill -TERM "$(pgrep -P "$strace_pid" | head -n 1)"  # cqda itself (strace's child): SIGTERM ends serve cleanly
wait "$strace_pid" || true

echo "seccomp-profile: tracing serve over stdio"
{
  echo '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"profile","version":"1"}}}'
  echo '{"jsonrpc":"2.0","method":"notifications/initialized"}'
  echo '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"read_document","arguments":{"document":"interviews/p01-maria.txt"}}}'
  echo '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_codings","arguments":{}}}'
  sleep 2
} | trace serve-stdio "$cqda" serve "${common[@]}" --output "$work/out" --stdio >/dev/null 2>&1

# The supervisor resolves a model endpoint's name with glibc's getaddrinfo; getent runs the
# same code. Its calls join the list; its socket families do not (cqda's own are below).
echo "seccomp-profile: tracing glibc name resolution over DNS (how the supervisor finds a model host)"
trace dns getent ahosts deb.debian.org >/dev/null || true

# What the container runtime (runc) does after it installs the profile and before cqda's
# first instruction: its Go runtime's threads and the execve of the entrypoint.
runtime=(execve futex nanosleep clock_nanosleep sched_yield epoll_pwait epoll_wait tgkill getpid gettid
         rt_sigreturn rt_sigprocmask rt_sigaction sigaltstack madvise mmap munmap exit exit_group close fcntl
         capget capset fstat fstatfs newfstatat openat read write close_range)

names="$(cat "$work"/trace.* | sed -nE 's/^[0-9]+ +([a-z0-9_]+)\(.*/\1/p' | sort -u)"
# Whatever a process's own filter allows must pass the outer wall too, even when this trace
# did not happen to make the call (mremap on a large realloc, accept4, shutdown, ...).
inner="$("$cqda" sandbox describe | awk '$1 == "allow" {print $2}' | sort -u)"
# Socket families seen, so socket() is allowed for those alone.
# AF_INET6 always: cqda listens on and connects to IPv6 addresses as well.
families="$({ ls "$work"/trace.* | grep -v 'trace.dns$' | xargs cat | sed -nE 's/^[0-9]+ +socket\((AF_[A-Z0-9]+),.*/\1/p'; echo AF_INET6; } | sort -u)"
all="$(printf '%s\n' $names $inner "${runtime[@]}" | grep -vxE 'clone|clone3|socket' | sort -u)"
echo "seccomp-profile: $(echo "$names" | wc -l) system calls seen, $(echo "$inner" | wc -l) allowed by cqda's own filters, $(echo "$all" | wc -l) in all; socket families: $(echo $families)"

family_number() {
  case "$1" in AF_UNIX) echo 1 ;; AF_INET) echo 2 ;; AF_INET6) echo 10 ;; AF_NETLINK) echo 16 ;; esac
}
for f in $families; do
  [ -n "$(family_number "$f")" ] || { echo "seccomp-profile: unexpected socket family $f: add it deliberately" >&2; exit 1; }
done
{
  echo '{'
  echo '  "comment": "cqda container profile, generated by scripts/seccomp-profile.sh from strace measurements; see docs/DEPLOYMENT.md",'
  echo '  "defaultAction": "SCMP_ACT_ERRNO",'
  echo '  "defaultErrnoRet": 1,'
  echo '  "architectures": ["SCMP_ARCH_X86_64"],'
  echo '  "syscalls": ['
  echo '    {'
  echo '      "comment": "measured: every system call a cqda process made, and what the runtime needs before cqda starts",'
  echo '      "action": "SCMP_ACT_ALLOW",'
  echo '      "names": ['
  echo "$all" | sed 's/.*/        "&"/' | paste -sd, - | sed 's/,/,\n/g'
  echo '      ]'
  echo '    },'
  echo '    {'
  echo '      "comment": "threads and fork only: no new namespaces (CLONE_NEW* = 0x7e020000 masked must be 0)",'
  echo '      "action": "SCMP_ACT_ALLOW",'
  echo '      "names": ["clone"],'
  echo '      "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]'
  echo '    },'
  echo '    {'
  echo '      "comment": "clone3 cannot be checked by argument: ENOSYS makes glibc fall back to clone",'
  echo '      "action": "SCMP_ACT_ERRNO",'
  echo '      "errnoRet": 38,'
  echo '      "names": ["clone3"]'
  for f in $families; do
    echo '    },'
    echo '    {'
    echo "      \"comment\": \"socket($f) only\","
    echo '      "action": "SCMP_ACT_ALLOW",'
    echo '      "names": ["socket"],'
    if [ "$f" = AF_NETLINK ]; then  # NETLINK_ROUTE (protocol 0) only: glibc's address queries
      echo "      \"args\": [{\"index\": 0, \"value\": 16, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 2, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]"
    else
      echo "      \"args\": [{\"index\": 0, \"value\": $(family_number "$f"), \"op\": \"SCMP_CMP_EQ\"}]"
    fi
  done
  echo '    }'
  echo '  ]'
  echo '}'
} > "$out"
echo "seccomp-profile: wrote $out"
