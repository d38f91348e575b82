// workerd: the hostile-input run, split across requests that share one
// module-scope run (and so one module-scope client).
//   /step?endpoint=&apiKey=&seed=&n=   make n more calls
//   /finish                             flush until nothing is pending; the counts
//   /callbacks?endpoint=&apiKey=&events=  a client with hostile fetch/logger/waitUntil
import { SDK, IntemptError } from "intempt-edge";
import { HostileRun, hostileCallbacks } from "./hostile.js";

let run;
let unhandled = 0;
const unhandledSamples = [];
addEventListener("unhandledrejection", (event) => {
  unhandled++;
  if (unhandledSamples.length < 10) unhandledSamples.push(String(event.reason?.stack ?? event.reason).slice(0, 300));
  event.preventDefault?.();
});

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const q = (name) => url.searchParams.get(name);
    if (url.pathname === "/step") {
      console.log(`hostile-worker: step of ${q("n")} calls`); // the test checks that workerd's output is captured
      run ??= new HostileRun(SDK, IntemptError, { endpoint: q("endpoint"), apiKey: q("apiKey"), seed: Number(q("seed")), runtime: "workerd" });
      const started = Date.now();
      await run.step(Number(q("n")));
      return Response.json({ calls: run.counts.calls, traps: run.counts.traps, ms: Date.now() - started });
    }
    if (url.pathname === "/finish") {
      const result = await run.finish();
      return Response.json({ ...result, unhandled, unhandledSamples });
    }
    if (url.pathname === "/callbacks") {
      console.log("hostile-worker: callbacks");
      const result = await hostileCallbacks(SDK, IntemptError, {
        endpoint: q("endpoint"),
        apiKey: q("apiKey"),
        events: Number(q("events")),
        profile: "callbacks-workerd",
      });
      return Response.json({ ...result, unhandled, unhandledSamples });
    }
    return new Response("not found", { status: 404 });
  },
};
