#!/usr/bin/env bash
# The local ingest server as a development tool: it accepts what the SDK sends
# (the wire contract of tests/server/README.md), logs one line per request to
# stderr (--log, key redacted), and shows everything live in a browser at the
# printed viewer URL. Runs until Ctrl-C. Needs only Node (no setup).
#
#   bash scripts/viewer.sh                      # port 8788 (PORT=N to change)
#   bash scripts/viewer.sh --api-key id.secret  # extra arguments go to the server's CLI
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

port="${PORT:-8788}"
# The server prints one line, {"url":"http://127.0.0.1:PORT"}, once listening;
# Ctrl-C reaches both sides of the pipe and the server exits cleanly.
node tests/server/ingest-server.mjs --port "$port" --log "$@" | {
  IFS= read -r line || exit 1
  url="$(sed -n 's/.*"url":"\([^"]*\)".*/\1/p' <<<"$line")"
  echo "ingest server: $url  (the SDK's endpoint option)"
  echo "viewer:        $url/"
  echo "Ctrl-C stops it; requests are logged below."
  cat
}
