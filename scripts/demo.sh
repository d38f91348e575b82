#!/usr/bin/env bash
# The demo: the example Worker (wrangler.toml) runs in local workerd via
# `wrangler dev`, sends events to the local ingest server, and this prints
# what the server received. Installs and builds what it needs first.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

bash scripts/setup.sh
bash scripts/build.sh >/dev/null
tgz=$(ls -t target/intempt-edge-*.tgz | head -n 1)

echo "==> installing $tgz into the example Worker"
(cd examples/cloudflare-worker && npm install --no-audit --no-fund --no-save --no-package-lock --loglevel=error "$ROOT/$tgz")

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
logs=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

echo "==> starting the local ingest server"
node tests/server/ingest-server.mjs --port 0 > "$logs/server.out" 2> "$logs/server.err" &
pids+=($!)
for _ in $(seq 100); do [ -s "$logs/server.out" ] && break; sleep 0.1; done
ingest=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8").split("\n")[0]).url)' "$logs/server.out")
echo "    $ingest"

port=$(free_port)
echo "==> starting the example Worker in local workerd (wrangler dev) on port $port"
with_node22 wrangler dev --port "$port" --ip 127.0.0.1 --inspector-port "$(free_port)" \
  --var "INTEMPT_ENDPOINT:$ingest" --var "INTEMPT_API_KEY:test-id.test-secret" \
  > "$logs/wrangler.log" 2>&1 &
pids+=($!)
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
