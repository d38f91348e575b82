// Vercel's Edge Runtime lifecycle scenarios: an edge function whose second
// argument is the request context, with `waitUntil`. Routes (the query
// carries endpoint, apiKey, n, profile and an optional deadline in ms):
//   /track        a client made for this request with the option
//                 `waitUntil: (p) => context.waitUntil(p)`: track n events and
//                 return WITHOUT flushing (the batch timer's flush is handed to
//                 the context)
//   /track-wait   track n events, context.waitUntil(flush()), record the report
//   /track-await  track n events, await flush(), return the report and its time
//   /reports      the reports recorded by /track-wait
import { SDK } from "intempt-edge";

const reports = [];
const clients = new Map();

// One client per endpoint and deadline, at module scope (shared by requests).
function client(url) {
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

export default async function handler(request, context) {
  const url = new URL(request.url);
  if (url.pathname === "/reports") return Response.json(reports);
  if (url.pathname === "/track") {
    let handed = 0;
    const sdk = new SDK("demo-organization", "demo-project", url.searchParams.get("apiKey"), "616010376811536384", 100, 20, {
      endpoint: url.searchParams.get("endpoint"),
      waitUntil: (promise) => {
        handed += 1;
        context.waitUntil(promise);
      },
    });
    await track(sdk, url);
    return Response.json({ handed, stats: sdk.stats() });
  }
  const sdk = client(url);
  await track(sdk, url);
  if (url.pathname === "/track-wait") {
    context.waitUntil(sdk.flush().then((report) => reports.push(report)));
    return new Response("ok");
  }
  const started = Date.now();
  const report = await sdk.flush();
  return Response.json({ report, tookMs: Date.now() - started });
}
