// workerd: the edge-case scenarios of app/edges.js, one per request, each
// with its own client (nothing outlives the request but what waitUntil holds).
//   /<scenario>?args=<JSON>   scenario: duplicates, retry-after-short, retry-after-long, consent
// answers the scenario's result as JSON.
import { SDK } from "intempt-edge";
import { SCENARIOS } from "./edges.js";

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const scenario = SCENARIOS[url.pathname.slice(1)];
    if (!scenario) return new Response(`no scenario ${url.pathname}`, { status: 404 });
    console.log(`edges-worker: ${url.pathname}`);
    return Response.json(await scenario(SDK, JSON.parse(url.searchParams.get("args"))));
  },
};
