#!/usr/bin/env bash
# Makes the folder of secret files that compose.yaml mounts under /run/secrets, so that
# `docker compose up` finds every file it names. Each secret may stay empty: an empty file
# means "not given" (docs/DEPLOYMENT.md says what cqda does then). Existing files are kept.
#
#   scripts/init-secrets.sh [DIR] [--token] [--signing-key]
#     DIR            the folder (default ./secrets, or $CQDA_SECRETS)
#     --token        also write a random bearer token to mcp_token (else cqda makes one per start
#                    and prints it in the service log)
#     --signing-key  also make an Ed25519 signing key (signing_key, with signing.pub beside it for
#                    `cqda verify --public-key`), using the cqda image
#
# The container runs as uid 10001: run this as root to give the files to that user (mode 0400);
# otherwise it prints the command that does. Anything in DIR that is not a regular file (a
# symlink above all: as root, following one would hand another file to uid 10001) is refused.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
dir="${CQDA_SECRETS:-$repo/secrets}"
token=0
signing=0
for arg in "$@"; do
  case "$arg" in
    --token) token=1 ;;
    --signing-key) signing=1 ;;
    -*) echo "init-secrets: unknown option $arg" >&2; exit 2 ;;
    *) dir="$arg" ;;
  esac
done
uid="${CQDA_UID:-10001}"
gid="${CQDA_GID:-10001}"
image="cqda:${CQDA_VERSION:-0.1.0}"

names=(openai_api_key signing_key tls_cert tls_key mcp_token)
umask 077
[ ! -L "$dir" ] || { echo "init-secrets: $dir is a symlink; refusing" >&2; exit 1; }
mkdir -p "$dir"
chmod 0700 "$dir"
for name in "${names[@]}" signing.pub; do
  f="$dir/$name"
  if [ -L "$f" ] || { [ -e "$f" ] && [ ! -f "$f" ]; }; then
    echo "init-secrets: $f is not a regular file (a symlink or a folder); remove it and run again" >&2
    exit 1
  fi
done
for name in "${names[@]}"; do
  [ -e "$dir/$name" ] || install -m 0600 /dev/null "$dir/$name"
done
if [ "$token" = 1 ] && [ ! -s "$dir/mcp_token" ]; then
  head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$dir/mcp_token"
  echo "init-secrets: wrote a bearer token to $dir/mcp_token (clients send it as Authorization: Bearer ...)"
fi
if [ "$signing" = 1 ] && [ ! -s "$dir/signing_key" ]; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  # keygen runs as the invoking user, so the files it writes are theirs to move.
  docker run --rm --network none --user "$(id -u):$(id -g)" -v "$work:/out" "$image" cqda keygen --out /out/keys >/dev/null
  cat "$work/keys/signing.key" > "$dir/signing_key"
  install -m 0644 "$work/keys/signing.pub" "$dir/signing.pub"
  rm -rf "$work"
  echo "init-secrets: made a signing key; give $dir/signing.pub to whoever verifies the run logs"
fi
if [ "$(id -u)" = 0 ]; then
  for name in "${names[@]}"; do
    chown -h "$uid:$gid" "$dir/$name"
    chmod 0400 "$dir/$name"
  done
else
  echo "init-secrets: the container user (uid $uid) must be able to read these files; run:"
  echo "  sudo chown $uid:$gid $dir/{openai_api_key,signing_key,tls_cert,tls_key,mcp_token} && sudo chmod 0400 $dir/{openai_api_key,signing_key,tls_cert,tls_key,mcp_token}"
fi
echo "init-secrets: $dir is ready"
