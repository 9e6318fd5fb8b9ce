#!/usr/bin/env bash
# The container test: builds the image, brings the Compose service up on the example corpus and
# checks it from outside, as docs/DEPLOYMENT.md describes the deployment.
#
#   scripts/container-test.sh [BUILD_DIR]     (default build/; needs BUILD_DIR/cqda and the Node
#                                              packages scripts/node-deps.sh installs there)
#
#   CQDA_CONTAINER_TEST=auto     (default) skip, saying why, when no Docker engine can be started
#                      require   a missing engine is a failure
#                      skip      do nothing
#   CQDA_CONTAINER_REPRO=1       also build the image a second time without cache and compare
#                                the binaries (same source, same hash)
#
# What it shows (each line PASS or FAIL; exit 0 only when all pass):
#   the image: built from the pinned base (made with debootstrap when it cannot be pulled), its
#     size, no shell and no package manager inside;
#   Compose: the service becomes healthy through `cqda healthcheck`; the official MCP
#     TypeScript SDK client passes its checks over HTTPS on 127.0.0.1 with the token; the port
#     is not reachable on the host's other addresses; every process in the container runs as
#     uid 10001 with NoNewPrivs 1, CapEff 0 and Seccomp 2; the root file system and
#     /data/input refuse writes while /tmp takes them; the CIS Docker Benchmark runtime
#     settings hold on the running container;
#   a batch `cqda run` in the container writes outputs and a signed run log that `cqda verify`
#     accepts outside the container;
#   `docker run -i ... serve --stdio` passes the SDK client's checks over stdio;
#   `docker compose down` and `up` keep the project state (a memo written before is there after).
set -euo pipefail
cd "$(dirname "$0")/.."
src="$PWD"
build_dir="$(realpath -m "${1:-build}")"
mode="${CQDA_CONTAINER_TEST:-auto}"
version="$(sed -nE 's/^project\(cqda VERSION ([0-9.]+).*/\1/p' CMakeLists.txt)"
image="cqda:$version"
project="cqdatest$$"
say() { echo "container-test: $*"; }
[ "$mode" = skip ] && { say "SKIPPED (CQDA_CONTAINER_TEST=skip)"; exit 0; }

no_engine() {
  if [ "$mode" = require ]; then say "FAIL: no Docker engine: $*"; exit 1; fi
  say "SKIPPED: no Docker engine could be started on this machine: $*"
  say "(the container checks did not run; CQDA_CONTAINER_TEST=require makes this a failure)"
  exit 0
}

# 1. A Docker engine: the one running, else install and start one. An engine this script
# starts is stopped again at the end.
started_dockerd=""
tmp=""
cleanup() {
  if [ -n "$tmp" ]; then
    docker rm -f "$project-ollama" >/dev/null 2>&1 || true
    "${compose[@]}" -p "$project" down -v --remove-orphans >/dev/null 2>&1 || true
    rm -rf "$tmp"
  fi
  if [ -n "$started_dockerd" ]; then kill "$started_dockerd" 2>/dev/null || true; fi
}
trap cleanup EXIT
compose=(docker-compose)
apt_install() {
  [ "$(id -u)" = 0 ] || no_engine "$* missing, and installing needs root"
  say "installing $*"
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"; } \
    > /tmp/cqda-docker-install.log 2>&1 || no_engine "apt-get install $* failed (/tmp/cqda-docker-install.log)"
}
if ! docker info >/dev/null 2>&1; then
  # Only where no engine is installed at all (a docker-ce installation is left alone).
  command -v dockerd >/dev/null || apt_install docker.io
  if ! docker info >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || no_engine "dockerd is not running and starting it needs root"
    say "starting dockerd"
    setsid dockerd > /tmp/cqda-dockerd.log 2>&1 < /dev/null &
    started_dockerd=$!
    for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
    docker info >/dev/null 2>&1 || no_engine "dockerd did not start ($(tail -n 1 /tmp/cqda-dockerd.log))"
  fi
fi
if docker compose version >/dev/null 2>&1; then compose=(docker compose); else
  command -v docker-compose >/dev/null || apt_install docker-compose
  compose=(docker-compose)
fi
"${compose[@]}" version >/dev/null 2>&1 || no_engine "neither docker compose nor docker-compose works"

[ -x "$build_dir/cqda" ] || { say "FAIL: $build_dir/cqda is missing (scripts/build.sh first)"; exit 1; }
bash scripts/node-deps.sh "$build_dir/node" >/dev/null

tmp="$(mktemp -d /tmp/cqda-container-test.XXXXXX)"
failures=0
pass() { say "PASS  $*"; }
fail() { say "FAIL  $*"; failures=$((failures + 1)); }
check() {  # check DESCRIPTION COMMAND...: PASS when the command succeeds
  local what="$1"; shift
  if "$@" > "$tmp/check.out" 2>&1; then
    local last; last=$(tail -n 1 "$tmp/check.out")
    if [ -n "$last" ] && [ ${#last} -le 160 ]; then pass "$what: $last"; else pass "$what"; fi
  else fail "$what"; sed 's/^/    /' "$tmp/check.out" | tail -n 20; fi
}
# The example corpus and settings, copied where the container's user (uid 10001) can read them
# whatever the permissions of the folders above this checkout.
chmod 0755 "$tmp"
cp -r examples "$tmp/examples"
chmod -R a+rX "$tmp/examples"
export CQDA_INPUT="$tmp/examples/corpus" CQDA_CONFIG="$tmp/examples"
export CQDA_SECRETS="$tmp/secrets" CQDA_VERSION="$version" CQDA_RATE_LIMIT=1000

# 2. The base image, and the cqda image.
base="$(sed -nE 's/^ARG BASE_IMAGE=(.*)$/\1/p' Dockerfile | head -n 1)"
if ! docker image inspect "$base" >/dev/null 2>&1; then
  if timeout 60 docker pull -q "$base" >/dev/null 2>&1; then say "pulled $base"; else
    say "cannot pull $base: making it with debootstrap"
    scripts/make-base-image.sh "$base" || { say "FAIL: the base image $base can neither be pulled nor made"; exit 1; }
  fi
fi
say "building $image"
SECONDS=0
docker build -q -t "$image" --build-arg CQDA_VERSION="$version" . > "$tmp/build.log" 2>&1 ||
  { tail -n 40 "$tmp/build.log"; say "FAIL: docker build"; exit 1; }
say "built $image in ${SECONDS} s"
size=$(docker image inspect -f '{{.Size}}' "$image")
say "image size: $((size / 1000000)) MB ($size bytes)"
[ "$size" -lt 50000000 ] && pass "image under 50 MB ($((size / 1000000)) MB)" || fail "image is $((size / 1000000)) MB, over 50 MB"
no_shell() {
  local id; id=$(docker create "$image")
  docker export "$id" | tar -t > "$tmp/files"; docker rm "$id" >/dev/null
  ! grep -qE '^(bin|usr/bin)/(sh|bash|dash|apt|apt-get|dpkg)$' "$tmp/files" &&
    [ "$(grep -cE '^usr/bin/.+' "$tmp/files")" -eq 1 ]
}
check "the image has no shell and no package manager (usr/bin holds only cqda)" no_shell
user_of_image() { [ "$(docker image inspect -f '{{.Config.User}}' "$image")" = "10001:10001" ]; }
check "the image runs as 10001:10001" user_of_image
if [ "${CQDA_CONTAINER_REPRO:-0}" = 1 ]; then
  docker build -q --no-cache -t "$image-repro" --build-arg CQDA_VERSION="$version" . >/dev/null
  binary_hash() { local id; id=$(docker create "$1"); docker cp "$id:/usr/bin/cqda" - | tar -xO | sha256sum | cut -c1-64; docker rm "$id" >/dev/null; }
  a=$(binary_hash "$image"); b=$(binary_hash "$image-repro")
  [ "$a" = "$b" ] && pass "reproducible: two builds give the same binary ($a)" || fail "two builds differ: $a vs $b"
  docker rmi "$image-repro" >/dev/null
fi

# 3. The Compose service on the example corpus.
if timeout 3 bash -c '</dev/tcp/127.0.0.1/8765' 2>/dev/null; then
  say "FAIL: 127.0.0.1:8765 is already taken (a cqda deployment running?); the test needs the port"
  exit 1
fi
scripts/init-secrets.sh "$CQDA_SECRETS" --token --signing-key >/dev/null
token="$(cat "$CQDA_SECRETS/mcp_token")"
"${compose[@]}" -p "$project" up -d cqda-mcp > "$tmp/up.log" 2>&1 || { cat "$tmp/up.log"; say "FAIL: compose up"; exit 1; }
cid="$("${compose[@]}" -p "$project" ps -q cqda-mcp)"
wait_ready() {  # until cqda healthcheck succeeds inside (at most 120 s)
  for _ in $(seq 120); do
    docker exec "$cid" /usr/bin/cqda healthcheck --tls-dir /data/cache/tls >/dev/null 2>&1 && return 0
    sleep 1
  done
  docker logs "$cid" 2>&1 | tail -n 20
  return 1
}
check "the service answers (cqda healthcheck inside the container)" wait_ready
healthy() {  # Docker's own healthcheck, run on its 30 s interval
  for _ in $(seq 100); do
    [ "$(docker inspect -f '{{.State.Health.Status}}' "$cid")" = healthy ] && return 0
    sleep 1
  done
  docker inspect -f '{{json .State.Health}}' "$cid"; return 1
}
check "Docker reports the service healthy (the compose healthcheck, no shell)" healthy
docker cp "$cid:/data/cache/tls/ca.crt" "$tmp/ca.crt"

sdk_https() {
  bash tests/interop/run.sh "$build_dir" "$build_dir/cqda" "$src" https --url https://127.0.0.1:8765/mcp \
    --token "$token" --ca "$tmp/ca.crt" --require resources,prompts,completions,logging,progress,cancel
}
check "the MCP TypeScript SDK client passes over HTTPS on 127.0.0.1:8765 with the token" sdk_https
loopback_reachable() { timeout 5 bash -c '</dev/tcp/127.0.0.1/8765'; }
check "127.0.0.1:8765 accepts connections" loopback_reachable
other_interfaces() {
  local refused=() ips; ips=$({ hostname -I 2>/dev/null || ip -o addr show 2>/dev/null | awk '{sub(/\/.*/, "", $4); print $4}'; } |
    tr ' ' '\n' | grep -vE '^(127\.|::1$|fe80:)' | grep -v '^$' || true)
  [ -n "$ips" ] || { echo "no address but loopback on this host: nothing else to reach"; return 0; }
  for ip in $ips; do
    case "$ip" in *:*) target="[$ip]" ;; *) target="$ip" ;; esac
    if timeout 5 bash -c "</dev/tcp/$ip/8765" 2>/dev/null; then echo "port 8765 answers on $ip"; return 1; fi
    refused+=("$target")
  done
  echo "refused on ${refused[*]}"
}
check "the MCP port is not reachable on the host's other addresses" other_interfaces

processes() {
  local pids n=0
  pids=$(docker top "$cid" -eo pid | tail -n +2)
  for pid in $pids; do
    local s; s=$(cat "/proc/$pid/status" 2>/dev/null) || continue  # a healthcheck that has just ended
    echo "pid $pid: $(grep -E '^(Name|Uid|NoNewPrivs|CapEff|Seccomp):' <<<"$s" | tr -s '\t ' ' ' | paste -sd' ')"
    grep -qE '^Uid:\s+10001\s+10001\s+10001\s+10001$' <<<"$s" || { echo "pid $pid is not uid 10001"; return 1; }
    grep -qE '^NoNewPrivs:\s+1$' <<<"$s" || { echo "pid $pid: NoNewPrivs is not 1"; return 1; }
    grep -qE '^CapEff:\s+0+$' <<<"$s" || { echo "pid $pid has capabilities"; return 1; }
    grep -qE '^Seccomp:\s+2$' <<<"$s" || { echo "pid $pid: Seccomp is not 2"; return 1; }
    n=$((n + 1))
  done
  # The supervisor and its sandboxed children (the broker at least) are all there.
  [ "$n" -ge 2 ] || { echo "only $n process(es)"; return 1; }
  echo "$n processes checked"
}
check "every process in the container: uid 10001, NoNewPrivs 1, CapEff 0, Seccomp 2" processes

write_refused() {  # cqda certs writes files; it must fail on a read-only place
  local out
  if out=$(docker exec "$cid" /usr/bin/cqda certs --out "$1" 2>&1); then echo "wrote to $1"; return 1; fi
  echo "$out"; grep -q "Read-only file system" <<<"$out"
}
check "the root file system refuses writes" write_refused /probe
check "/data/input refuses writes" write_refused /data/input/probe
tmp_writable() { docker exec "$cid" /usr/bin/cqda certs --out /tmp/probe >/dev/null && echo "wrote /tmp/probe"; }
check "/tmp (tmpfs) takes writes, so the two refusals above are the mounts'" tmp_writable

cis() {
  local f='{{.Config.User}}|{{.HostConfig.ReadonlyRootfs}}|{{json .HostConfig.CapDrop}}|{{json .HostConfig.CapAdd}}|{{json .HostConfig.SecurityOpt}}|{{.HostConfig.Memory}}|{{.HostConfig.PidsLimit}}|{{json .HostConfig.PortBindings}}|{{.HostConfig.Privileged}}|{{json .Mounts}}|{{.HostConfig.NetworkMode}}|{{.HostConfig.PidMode}}|{{.HostConfig.IpcMode}}|{{json .HostConfig.Devices}}'
  IFS='|' read -r user ro capdrop capadd secopt mem pids ports privileged mounts netmode pidmode ipcmode devices \
    < <(docker inspect -f "$f" "$cid")
  local ok=0
  item() { if eval "$2"; then echo "PASS  $1"; else echo "FAIL  $1"; ok=1; fi; }
  item "4.1  a non-root user ($user)" '[ "$user" = 10001:10001 ]'
  item "5.4  not privileged" '[ "$privileged" = false ]'
  item "5.3  all capabilities dropped, none added" '[ "$capdrop" = "[\"ALL\"]" ] && [ "$capadd" = null ]'
  item "5.12 read-only root file system" '[ "$ro" = true ]'
  item "5.25 no-new-privileges" 'grep -q "no-new-privileges:true" <<<"$secopt"'
  item "5.21 a seccomp profile, not unconfined" 'grep -q "seccomp=" <<<"$secopt" && ! grep -q "seccomp=unconfined" <<<"$secopt"'
  item "5.10 a memory limit ($mem bytes)" '[ "$mem" -gt 0 ]'
  item "5.28 a PID limit ($pids)" '[ "$pids" -gt 0 ]'
  item "5.13 the port bound to one interface" '[ "$ports" = "{\"8765/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8765\"}]}" ]'
  item "5.31 no Docker socket mounted" '! grep -q "docker.sock" <<<"$mounts"'
  item "5.9/5.15/5.16 host network, PID and IPC namespaces not shared" '[ "$netmode" != host ] && [ "$pidmode" != host ] && [ "$ipcmode" != host ]'
  item "5.17 no host devices" '[ "$devices" = "[]" ] || [ "$devices" = null ]'
  item "5.5  no sensitive host folder mounted, no bind mount writable (the input and config are read-only)" \
    '! grep -qE "\"Source\":\"/(etc|proc|sys|boot|dev|usr|lib|var/run)[\"/]" <<<"$mounts" && ! grep -qE "\"Type\":\"bind\"[^}]*\"RW\":true" <<<"$mounts"'
  [ "$ok" = 0 ] && echo "all items pass"
  return $ok
}
check "CIS Docker Benchmark runtime settings (docs/DEPLOYMENT.md lists them)" cis

# 4. A batch run in the container; its signed run log verifies outside.
batch() {
  "${compose[@]}" -p "$project" run --rm -T cqda-mcp cqda run --input /data/input --output /data/output/batch \
    --cache /data/cache --policy /config/policy.json --codebook /config/codebook.json --roster /config/roster.csv \
    --cases /config/cases.csv --no-progress || return 1
  docker cp "$cid:/data/output/batch" "$tmp/batch" || return 1
  ls "$tmp/batch/report.md" "$tmp/batch/codings.json" "$tmp/batch/manifest.json" >/dev/null || return 1
  "$build_dir/cqda" verify "$tmp"/batch/run-logs/*.jsonl --public-key "$CQDA_SECRETS/signing.pub"
}
check "a batch cqda run in the container writes outputs and a run log cqda verify accepts outside" batch

# 4b. The Ollama path of compose.yaml: a model endpoint named `ollama` on the internal llm
# network, found by name (glibc's DNS inside the container, under the profile) and reached over
# plain HTTP to a private address, as policy/ollama.json allows. llm_stub stands in for Ollama
# (it speaks the same /api/chat) and records what it was sent; no planted direct identifier may
# be in it. (The default policy has no study-specific pattern, so the example's case numbers
# are not among the identifiers checked here; tests/llm_run checks them with the study policy.)
ollama_path() {
  local stub="$build_dir/tests/llm_stub" record="$tmp/ollama"
  [ -x "$stub" ] || { echo "no $stub (scripts/build.sh llm_stub)"; return 1; }
  mkdir -p "$record" && chmod 0777 "$record"  # the stand-in runs as the image's user
  docker run -d --name "$project-ollama" --network "${project}_llm" --network-alias ollama --read-only \
    --cap-drop ALL --security-opt no-new-privileges:true -v "$stub:/stub:ro" -v "$record:/record" "$image" \
    /stub --listen 0.0.0.0:11434 --port-file /record/port --record /record/requests.jsonl >/dev/null || return 1
  ollama_run
  local status=$?
  # The stand-in leaves the llm network, so that compose down can remove it.
  docker rm -f "$project-ollama" >/dev/null 2>&1
  return $status
}
ollama_run() {
  "${compose[@]}" -p "$project" run --rm -T -e LLM_BACKEND=ollama -e LLM_BASE_URL=http://ollama:11434 \
    -e LLM_MODEL=stand-in cqda-mcp cqda run --input /data/input --output /data/output/ollama --cache /data/cache \
    --policy /usr/share/cqda/policy/ollama.json --codebook /config/codebook.json --roster /config/roster.csv \
    --no-progress || return 1
  node -e '
    const fs = require("fs");
    const pii = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const requests = fs.readFileSync(process.argv[2], "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    if (requests.length === 0) { console.log("no request reached the stand-in"); process.exit(1); }
    if (!requests.every((r) => r.method === "POST" && r.target === "/api/chat")) { console.log("a request not to /api/chat"); process.exit(1); }
    const lines = requests.map((r) => r.body);
    const direct = new Set(["email", "phone", "url", "ip", "iban", "payment_card", "national_id", "handle"]);
    const checked = pii.filter((p) => direct.has(p.type));
    const leaked = checked.filter((p) => lines.some((l) => l.includes(p.value)));
    if (leaked.length) { console.log("leaked: " + leaked.map((p) => p.value).join(", ")); process.exit(1); }
    console.log(lines.length + " requests to /api/chat; none of " + checked.length + " planted identifiers in them");
  ' examples/expected-pii.json "$record/requests.jsonl"
}
check "Ollama on the internal network: found by name, reached under policy/ollama.json, nothing planted sent" ollama_path

# 5. serve --stdio under docker run -i, as stdio clients launch it. The cancel check is left
# out here: it needs auto_code still running when the cancellation arrives, and on the example
# corpus auto_code takes about 50 ms, and the docker CLI's stdio relay can hand the client all
# of its progress notifications and the response in one chunk. The SDK runs notification
# handlers a microtask later but drops a request's progress handler as soon as its response is
# read, so those notifications never reach onprogress and nothing triggers the cancellation (seen
# once in a CI run: "auto_code finished (0 progress notification(s))"). Cancellation over stdio
# is checked by CTest interop_sdk, and over HTTPS against this container above.
sdk_stdio() {
  CQDA_NODE_DEPS="$build_dir/node" node tests/interop/sdk_client.mjs --deps "$build_dir/node" --transport stdio \
    --roster examples/roster.csv --require resources,prompts,completions,logging,progress --skip cancel --command docker -- \
    run -i --rm --read-only --tmpfs /tmp:size=64m --cap-drop ALL --security-opt no-new-privileges:true \
    --security-opt "seccomp=$src/seccomp.json" --network none \
    -v "$CQDA_INPUT:/data/input:ro" -v "$CQDA_CONFIG:/config:ro" "$image" \
    cqda serve --stdio --input /data/input --output /tmp/out --cache /tmp/cache --policy /config/policy.json \
    --codebook /config/codebook.json --roster /config/roster.csv
}
check "docker run -i ... serve --stdio passes the SDK client's checks" sdk_stdio

# 6. The project state outlives the container.
mcp_call() {  # mcp_call SESSION JSON-BODY: prints the response body
  curl -sS --cacert "$tmp/ca.crt" https://127.0.0.1:8765/mcp -H "Authorization: Bearer $token" \
    -H "Content-Type: application/json" -H "Accept: application/json, text/event-stream" \
    -H "MCP-Protocol-Version: 2025-11-25" ${1:+-H "Mcp-Session-Id: $1"} -D "$tmp/headers" -d "$2"
}
mcp_session() {
  mcp_call "" '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"container-test","version":"1"}}}' >/dev/null
  local s; s=$(grep -i '^mcp-session-id:' "$tmp/headers" | tr -d '\r' | awk '{print $2}')
  mcp_call "$s" '{"jsonrpc":"2.0","method":"notifications/initialized"}' >/dev/null
  echo "$s"
}
marker="persistence-check-$RANDOM$RANDOM"
state_survives() {
  local s; s=$(mcp_session)
  mcp_call "$s" "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"add_memo\",\"arguments\":{\"text\":\"$marker\",\"author\":\"container-test\"}}}" > "$tmp/memo.json"
  grep -q "$marker" "$tmp/memo.json" || { cat "$tmp/memo.json"; return 1; }
  "${compose[@]}" -p "$project" down > "$tmp/down.log" 2>&1 || return 1
  docker volume inspect "${project}_cqda-output" >/dev/null || return 1
  "${compose[@]}" -p "$project" up -d cqda-mcp > "$tmp/up2.log" 2>&1 || return 1
  cid="$("${compose[@]}" -p "$project" ps -q cqda-mcp)"
  wait_ready || return 1
  docker cp "$cid:/data/cache/tls/ca.crt" "$tmp/ca2.crt" || return 1
  cmp "$tmp/ca.crt" "$tmp/ca2.crt" || return 1  # the generated CA is kept too: clients keep trusting it
  s=$(mcp_session)
  mcp_call "$s" '{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"list_memos","arguments":{}}}' > "$tmp/memos.json"
  grep -q "$marker" "$tmp/memos.json"
}
check "compose down and up keep the project state (a memo) and the TLS certificate" state_survives

if [ "$failures" -gt 0 ]; then say "$failures check(s) FAILED"; exit 1; fi
say "all checks passed"
