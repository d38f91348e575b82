// workerd: the seed document's examples, per request; the query carries the endpoint.
import { SDK } from "intempt-edge";
import { seedExamples } from "./seed-examples.js";

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const intempt = new SDK("demo-organization", "demo-project", url.searchParams.get("apiKey"), "616010376811536384", 100, 20, {
      endpoint: url.searchParams.get("endpoint"),
    });
    return Response.json(await seedExamples(intempt));
  },
};
