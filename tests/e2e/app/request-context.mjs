// Vercel's request context (tests/e2e/request-context.test.mjs):
//   node request-context.mjs <endpoint> <mode>
// Vercel's functions publish the current request's waitUntil through
// globalThis[Symbol.for("@vercel/request-context")].get() (what
// @vercel/functions' waitUntil reads); Next.js's edge sandbox does the same
// under "@next/request-context". This app installs such a reader (an
// AsyncLocalStorage, as the platform does) and runs "requests" that track
// and never flush. mode: "vercel" or "next" (the reader's name), "outside"
// (a reader whose get() answers undefined: no request), "throws" (a reader
// whose get() throws). Prints one JSON line: { handed, report, stats }.
import { AsyncLocalStorage } from "node:async_hooks";
import { SDK } from "intempt-edge";
import { runtimeName, transport } from "./transport.js";

const [endpoint, mode] = process.argv.slice(2);
const store = new AsyncLocalStorage();
const name = mode === "next" ? "@next/request-context" : "@vercel/request-context";
const reader = {
  vercel: { get: () => store.getStore() },
  next: { get: () => store.getStore() },
  outside: { get: () => undefined },
  throws: {
    get: () => {
      throw new Error("reader broke");
    },
  },
}[mode];
globalThis[Symbol.for(name)] = reader;

const handed = [];
const intempt = new SDK("demo-organization", "demo-project", "test-id.test-secret", "616010376811536384", { endpoint, ...transport() });
// Three requests, each with its own waitUntil; none flushes.
await Promise.all(
  [0, 1, 2].map((request) =>
    store.run({ waitUntil: (promise) => handed.push(promise) }, async () => {
      for (let n = 0; n < 5; n++) await intempt.track(`p-context-${runtimeName()}-${mode}`, "Context Test", { request, n });
    }),
  ),
);
let report = null;
if (mode === "outside" || mode === "throws") {
  report = await intempt.flush(); // nothing was handed to a request: the caller flushes
} else {
  // What the platform does before it freezes the function: await what was handed.
  while (handed.length === 0) await new Promise((r) => setTimeout(r, 10));
  await Promise.all(handed);
}
console.log(JSON.stringify({ handed: handed.length, report, stats: intempt.stats() }));
