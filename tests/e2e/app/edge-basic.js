// Vercel's Edge Runtime: each request runs the scenario; the query carries
// the endpoint and the runtime's name (the events' profile).
import { SDK, IntemptError } from "intempt-edge";
import { basic } from "./scenario.js";

export default async function handler(request) {
  const url = new URL(request.url);
  const result = await basic(SDK, IntemptError, {
    endpoint: url.searchParams.get("endpoint"),
    apiKey: url.searchParams.get("apiKey"),
    runtime: url.searchParams.get("runtime"),
  });
  return Response.json(result);
}
