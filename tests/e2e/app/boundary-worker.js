// workerd: the boundary scenarios (app/boundary.js), one per request.
//   /hostile?a={endpoint,apiKey,id,profile}
//   /foreign?a={endpoint,apiKey,profile}          (a plain object of the Response shape)
//   /redirects?a={endpoint,apiKey,statuses,follow}
//   /bounds?a={endpoint,apiKey,item}
//   /fuzz?a={endpoint,apiKey,seed,from,to,concurrency}
// Each answers {result, recorder}: what the module-wide recorder saw during
// the request (unhandled rejections, uncaught exceptions).
import { SDK, IntemptError } from "intempt-edge";
import * as boundary from "./boundary.js";

const recorder = new boundary.Recorder();
addEventListener("unhandledrejection", (event) => {
  recorder.onUnhandled(event.reason);
  event.preventDefault?.();
});
// An exception thrown out of a microtask or callback (workerd prints nothing for it).
addEventListener("error", (event) => {
  recorder.onUncaught(event.error ?? event.message);
  event.preventDefault?.();
});

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const a = JSON.parse(url.searchParams.get("a") ?? "{}");
    const common = { endpoint: a.endpoint, apiKey: a.apiKey, recorder };
    console.log(`boundary-worker: ${url.pathname} ${a.id ?? a.item ?? a.from ?? ""}`); // the test checks that workerd's output is captured
    recorder.reset();
    let result;
    switch (url.pathname) {
      case "/hostile":
        result = await boundary.hostileCase(SDK, IntemptError, { ...common, id: a.id, profile: a.profile });
        break;
      case "/foreign":
        result = await boundary.foreign(SDK, IntemptError, { ...common, profile: a.profile, fetchImpl: boundary.plainObjectFetch });
        break;
      case "/redirects":
        result = await boundary.redirects(SDK, IntemptError, { ...common, runtime: "workerd", statuses: a.statuses, follow: a.follow });
        break;
      case "/bounds":
        result = await boundary.boundsItem(SDK, IntemptError, { ...common, item: a.item });
        break;
      case "/fuzz":
        result = await boundary.fuzz(SDK, IntemptError, { ...common, seed: a.seed, from: a.from, to: a.to, concurrency: a.concurrency, runtime: "workerd" });
        break;
      default:
        return new Response("not found", { status: 404 });
    }
    // Late failures of the scenario (abandoned promises, timers) surface here.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return Response.json({ result, recorder: recorder.take() });
  },
};
