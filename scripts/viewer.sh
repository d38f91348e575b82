#!/usr/bin/env bash
# The local ingest server as a development tool: it accepts what the SDK sends
# (the wire contract of tests/server/README.md), logs one line per request to
# stderr (--log, key redacted), and shows everything live in a browser at the
# printed viewer URL. Runs until Ctrl-C. Needs only Node (no setup).
#
#   bash scripts/viewer.sh                      # port 8788 (PORT=N to change)
#   bash scripts/viewer.sh --api-key id.secret  # extra arguments go to the server's CLI
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

port="${PORT:-8788}"
# The server prints one line, {"url":"http://127.0.0.1:PORT"}, once listening,
# and logs requests to stderr (this terminal). It runs in the background so
# that however this script ends (Ctrl-C, SIGTERM, a closed terminal, an
# error), its EXIT trap ends the server and waits for it: nothing is left.
out=$(mktemp)
node tests/server/ingest-server.mjs --port "$port" --log "$@" < /dev/null > "$out" &
server=$!
cleanup() {
  kill -TERM "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -f "$out"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

until [ -s "$out" ]; do
  kill -0 "$server" 2>/dev/null || { wait "$server"; exit $?; }
  sleep 0.05
done
url="$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' "$out" | head -n 1)"
echo "ingest server: $url  (the SDK's endpoint option)"
echo "viewer:        $url/"
echo "Ctrl-C stops it; requests are logged below."
set +e
wait "$server"
