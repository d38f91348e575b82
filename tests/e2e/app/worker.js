// workerd: each request runs the scenario; the query carries the endpoint.
import { SDK, IntemptError } from "intempt-edge";
import { basic } from "./scenario.js";

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const result = await basic(SDK, IntemptError, {
      endpoint: url.searchParams.get("endpoint"),
      apiKey: url.searchParams.get("apiKey"),
      runtime: "workerd",
    });
    return Response.json(result);
  },
};
