// workerd lifecycle scenarios. `shared` is constructed at module load (no
// timer, I/O or randomness may happen there) and shared by every request;
// scenarios with other options get a client per option set, made on first
// use. Routes (`?shared=1` selects the module-scope client):
//   /track?n=&profile=      track n events and return WITHOUT flushing
//   /track-wait?n=&profile= track n events, ctx.waitUntil(flush()), record the report
//   /track-await?n=&profile= track n events, await flush(), return the report
//   /reports                the reports recorded by /track-wait
//   /drain                  every client (the shared one included): flush()
//                           until nothing is pending (at most 10 times);
//                           answers [{client, reports, stats}]. The tests call
//                           it after each test, so no test leaves events
//                           behind that a later background flush would send.
import { env } from "cloudflare:workers";
import { SDK } from "intempt-edge";

const shared = new SDK("demo-organization", "demo-project", /** @type {string} */ (env.INTEMPT_API_KEY), "616010376811536384", 100, 20, {
  endpoint: /** @type {string} */ (env.INTEMPT_ENDPOINT),
});
const clients = new Map();
const reports = [];

function client(url) {
  if (url.searchParams.get("shared") === "1") return shared;
  const endpoint = url.searchParams.get("endpoint");
  const deadline = Number(url.searchParams.get("deadline") ?? 10_000);
  const key = `${endpoint} ${deadline}`;
  if (!clients.has(key)) {
    clients.set(
      key,
      new SDK("demo-organization", "demo-project", url.searchParams.get("apiKey"), "616010376811536384", 100, 20, {
        endpoint,
        flushDeadlineMs: deadline,
        requestTimeoutMs: Math.min(4_000, deadline),
      }),
    );
  }
  return clients.get(key);
}

async function track(sdk, url) {
  const n = Number(url.searchParams.get("n") ?? 1);
  const profile = url.searchParams.get("profile");
  for (let i = 0; i < n; i++) await sdk.track(profile, "Page View", { i });
}

async function drain() {
  const drained = [];
  for (const [name, sdk] of [["shared", shared], ...clients]) {
    const flushes = [];
    for (let i = 0; i < 10; i++) {
      const report = await sdk.flush();
      flushes.push(report);
      if (report.pending === 0) break;
    }
    drained.push({ client: name, reports: flushes, stats: sdk.stats() });
  }
  return drained;
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    if (url.pathname === "/reports") return Response.json(reports);
    if (url.pathname === "/drain") return Response.json(await drain());
    const sdk = client(url);
    // A marker the test looks for, proving it reads workerd's output.
    if (url.searchParams.get("shared") === "1") console.log(`lifecycle-worker: request ${url.searchParams.get("profile")}`);
    await track(sdk, url);
    if (url.pathname === "/track-wait") {
      ctx.waitUntil(sdk.flush().then((report) => reports.push(report)));
    } else if (url.pathname === "/track-await") {
      const started = Date.now();
      const report = await sdk.flush();
      return Response.json({ report, tookMs: Date.now() - started });
    }
    return new Response("ok");
  },
};
