#!/usr/bin/env bash
# The demo: the example Worker (wrangler.toml) runs in local workerd via
# `wrangler dev`, sends events to the local ingest server, and this prints
# what the server received. Installs and builds what it needs first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

bash scripts/setup.sh
bash scripts/build.sh >/dev/null
tgz=$(ls -t target/intempt-edge-*.tgz | head -n 1)

echo "==> installing $tgz into the example Worker"
# --omit=dev: the example's test tools (vitest and Cloudflare's plugin) are not needed to run it.
(cd examples/cloudflare-worker && npm install --omit=dev --no-audit --no-fund --no-save --no-package-lock --loglevel=error "$ROOT/$tgz")

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
logs=$(mktemp -d)
# Each background job runs in a process group of its own (job control on), so
# that cleanup ends the whole tree: wrangler starts workerd processes, and a
# `with_node22 wrangler …` job is a subshell whose PID is not wrangler's.
set -m
groups=()
alive() { kill -0 -- "-$1" 2>/dev/null; }
cleanup() {
  local g
  for g in "${groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  # Up to 5 s for them to end cleanly, then SIGKILL what is left.
  for _ in $(seq 50); do
    local left=0
    for g in "${groups[@]}"; do alive "$g" && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.1
  done
  for g in "${groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$logs"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

echo "==> starting the local ingest server"
node tests/server/ingest-server.mjs --port 0 < /dev/null > "$logs/server.out" 2> "$logs/server.err" &
groups+=($!)
for _ in $(seq 100); do [ -s "$logs/server.out" ] && break; sleep 0.1; done
ingest=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0]).url)' "$logs/server.out")
echo "    $ingest"

port=$(free_port)
echo "==> starting the example Worker in local workerd (wrangler dev) on port $port"
with_node22 wrangler dev --port "$port" --ip 127.0.0.1 --inspector-port "$(free_port)" \
  --var "INTEMPT_ENDPOINT:$ingest" --var "INTEMPT_API_KEY:test-id.test-secret" \
  < /dev/null > "$logs/wrangler.log" 2>&1 &
groups+=($!)
up=""
for _ in $(seq 600); do
  if curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1; then up=1; break; fi
  sleep 0.1
done
[ -n "$up" ] || { cat "$logs/wrangler.log"; echo "the Worker did not start within 60 s"; exit 1; }

echo "==> sending requests to the Worker"
for path in "/?profile=1845348" "/pricing?profile=1845348" "/buy?profile=1845348" "/buy?profile=2000001"; do
  printf '    GET %-28s -> %s' "$path" "$(curl -fsS "http://127.0.0.1:$port$path")"
  echo
done

# health check + 4 page views + 2 identifies + 2 purchases
expected=9
curl -fsS "$ingest/_intempt/wait?events=$expected&timeoutMs=15000" >/dev/null || true
echo "==> what the ingest server received"
curl -fsS "$ingest/_intempt/events" | node -e '
  const events = JSON.parse(require("fs").readFileSync(0, "utf8"));
  for (const e of events) {
    const { eventId, timestamp, ...rest } = e.item;
    console.log(`    ${new Date(timestamp).toISOString()}  ${e.name.padEnd(10)} ${eventId}  ${JSON.stringify(rest)}`);
  }
  console.log(`    ${events.length} events accepted`);
  if (events.length < '"$expected"') { console.error("expected '"$expected"'"); process.exit(1); }
'
