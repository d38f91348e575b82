// workerd: the chaos scenario, split across requests that share one
// module-scope client (one per endpoint + profile), as a Worker would.
//   /chaos?endpoint=&apiKey=&profile=&from=&to=&seed=&budgetMs=
// runs events from..to-1 (or until the budget) and answers
// {next, totals, stats, ms}; the next request continues at `next`.
import { SDK } from "intempt-edge";
import { chaosClient, runChaos } from "./chaos.js";

const clients = new Map();

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const q = (name) => url.searchParams.get(name);
    const key = `${q("endpoint")} ${q("profile")}`;
    console.log(`chaos-worker: events ${q("from")}..${q("to")}`); // the test checks that workerd's output is captured
    if (!clients.has(key)) clients.set(key, chaosClient(SDK, { endpoint: q("endpoint"), apiKey: q("apiKey") }));
    const result = await runChaos(clients.get(key), {
      profile: q("profile"),
      from: Number(q("from")),
      to: Number(q("to")),
      seed: Number(q("seed")),
      budgetMs: Number(q("budgetMs") ?? 15_000),
    });
    return Response.json(result);
  },
};
